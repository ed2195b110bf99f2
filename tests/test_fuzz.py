"""Fuzzing: whatever a file holds, the tool assesses it or refuses it with a documented
exit code, and never prints a traceback.

hypothesis generates garbage (any bytes, any text), near-valid YAML (valid case files
with a mutation in the text) and case dictionaries with wrong keys, types and values.
CI runs a bounded, derandomised budget; set RISKASSESS_FUZZ_EXAMPLES for a longer run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml
from conftest import VOCAB, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskassess.errors import ExitCode

FACTS = VOCAB.facts  # every fact of rules/syria/facts.yaml

BUDGET = int(os.environ.get("RISKASSESS_FUZZ_EXAMPLES", "150"))
ALLOWED = {int(c) for c in ExitCode} - {int(ExitCode.INTERNAL)}
SETTINGS = settings(max_examples=BUDGET, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FOLDER = Path(tempfile.mkdtemp(prefix="riskassess-fuzz-"))


def check(data: bytes, *extra: str) -> None:
    path = FOLDER / "case.yaml"
    path.write_bytes(data)
    r = run_cli("evaluate", str(path), "--today", "2024-06-01", *extra)
    assert r.code in ALLOWED, (r.code, data[:300], r.err[-2000:])
    assert "Traceback" not in r.err and "Traceback" not in r.out, r.err[-2000:]
    if r.code:
        assert r.err.startswith("error: ") or r.err.startswith("Usage:"), r.err[:300]


FACT_KEYS = [p.split(".", 1)[1] for p in FACTS]
# mostly real fact names, with their own values or near misses, so that the fuzzer reaches
# the model and the engine and does not stop at "unknown key"
keys = st.one_of(st.sampled_from(FACT_KEYS), st.sampled_from(FACT_KEYS),
                 st.sampled_from(FACT_KEYS), st.text(max_size=12))
fact_values = st.one_of(
    st.sampled_from([v for spec in FACTS.values() for v in spec.values if isinstance(v, str)]),
    st.sampled_from(["0000", "0001", "1899", "2101", "2024-12-08", "2025-01", "2013-04-31",
                     "2024-02-29", "2023-02-29", "99999", "-1", "2013-4"]),
    st.lists(st.sampled_from(FACTS["applicant.exclusion_indicators"].values), max_size=5))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=20), st.sampled_from(
                        ["unknown", "yes", "no", "on", "2013", "2013-13", "0000", "9999-12-31",
                         "2024-02-30", "deserter", "officer", "[]", "~", "", "2024-12-08"]))
values = st.recursive(st.one_of(scalars, fact_values), lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=10)


@st.composite
def case_dicts(draw):
    applicant = draw(st.dictionaries(keys, values, max_size=12))
    top = {"format": draw(st.one_of(st.just(1), values)),
           "assessment_date": draw(st.one_of(st.just("2024-06-01"), values)),
           "applicant": applicant}
    for key in draw(st.lists(st.sampled_from(list(top)), max_size=2)):
        top.pop(key, None)
    if draw(st.booleans()):
        top[draw(st.text(max_size=10))] = draw(values)
    return top


VALID = ("format: 1\ncase_id: FUZZ-1\nassessment_date: 2024-06-01\napplicant:\n"
         "  sex: male\n  military_status: deserter\n  force: armed_forces\n  rank: officer\n"
         "  desertion_date: 2013-04\n  desertion_type: external\n"
         "  fought_against_government: false\n  reconciliation_status: settled\n"
         "  conscientious_objection: religious\n  exclusion_indicators: [senior_command_role]\n")


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes(data):
    check(data)


@SETTINGS
@given(st.text(max_size=2000))
def test_any_text(text):
    check(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(case_dicts(), st.sampled_from(["text", "json", "markdown"]))
def test_case_dictionaries(data, fmt):
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return
    check(text.encode("utf-8", "surrogatepass"), "--format", fmt)


@SETTINGS
@given(st.integers(min_value=0, max_value=len(VALID)), st.integers(min_value=0, max_value=40),
       st.text(max_size=20))
def test_near_valid_files(position, cut, insert):
    mutated = VALID[:position] + insert + VALID[position + cut:]
    check(mutated.encode("utf-8", "surrogatepass"))


ODD = st.one_of(fact_values, scalars)


@SETTINGS
@given(st.data())
def test_valid_case_with_one_odd_fact(data):
    """Every fact valid but one, so that the odd value reaches the model and the engine."""
    applicant = {}
    for path, spec in FACTS.items():
        key = path.split(".", 1)[1]
        if spec.kind == "date":
            applicant[key] = data.draw(st.sampled_from(["2013", "2013-04", "2013-04-15",
                                                        "unknown"]))
        elif spec.kind == "set":
            applicant[key] = data.draw(st.lists(st.sampled_from(spec.values), unique=True))
        else:
            applicant[key] = data.draw(st.sampled_from(list(spec.values) + ["unknown"]))
    if applicant["military_status"] in ("draft_evader", "never_served"):
        applicant["desertion_type"] = applicant["desertion_date"] = "unknown"
    odd = data.draw(st.sampled_from(FACT_KEYS))
    applicant[odd] = data.draw(ODD)
    day = data.draw(st.sampled_from(["2024-06-01", "2026-01-15", "2025-01-10"]))
    text = yaml.safe_dump({"assessment_date": day, "applicant": applicant}, allow_unicode=True)
    check(text.encode("utf-8", "surrogatepass"), "--format",
          data.draw(st.sampled_from(["json", "text"])))
