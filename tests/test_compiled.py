"""The compiled engine (engine/compiled.py) against the engine before compilation.

tests/data/generated-10k.sha256 holds, for 10,000 generated cases (law/casegen.py, drawn as
tests/data/generated-10k.json records), the sha256 (first 16 hex digits) of each JSON
report as the engine wrote it at commit b2786f9, before rule sets were compiled to tables.
Every report must still be byte-identical, whichever way it is made: joined from bytes
(`assess_document`, the batch path) or through the report model (`evaluate`, every other
command). Reports are compared with the tool's version and the rule sets' hashes recorded
with the digests (tests/baselines.py), so that a version bump or a comment in a rule file
changes nothing here; `python tests/baselines.py digests` regenerates both files."""

from __future__ import annotations

import datetime as dt

import pytest
from baselines import DIGESTS as BASELINE
from baselines import as_recorded, current_hashes, digest, params
from hypothesis import given, settings
from hypothesis import strategies as st

from riskassess.assess.core import Assessor
from riskassess.io.reader import Document
from riskassess.law.report import outcomes_model
from riskassess.law.ruleset import shipped_vocabulary as shipped

RECORDED = params()
TODAY = dt.date.fromisoformat(RECORDED["today"])


@pytest.fixture(scope="module")
def generated():
    from baselines import generated as drawn

    return drawn(shipped(), RECORDED)


@pytest.fixture(scope="module")
def recorded():
    """A report's JSON as the digests were taken: today's version and hashes replaced by
    those recorded with them."""
    current = current_hashes()
    return lambda data: as_recorded(data, current, RECORDED)


def test_the_baseline_is_what_it_says():
    lines = BASELINE.read_text().split()
    assert len(lines) == 10_000 and all(len(x) == 16 for x in lines)
    assert len(set(lines)) == 10_000  # every case differs (its id at least)


def test_joined_reports_are_byte_identical_to_the_engine_before(generated, recorded):
    assessor = Assessor(today=TODAY)
    expected = BASELINE.read_text().split()
    wrong = [i for i, data in enumerate(generated)
             if digest(recorded(assessor.assess_document(Document("<gen>", data)).json()))
             != expected[i]]
    assert wrong == [], f"{len(wrong)} reports differ, first: case {wrong[:5]}"
    # every part any of these cases needed was in the tables built at compile time
    assert {rid: rs.cache["program"].misses for rid, rs in assessor.rulesets.items()} == {
        rid: 0 for rid in assessor.rulesets}
    assert len(assessor.rulesets) == 2  # both encoded editions were exercised


def test_reports_through_the_model_are_byte_identical_too(generated, recorded):
    assessor = Assessor(today=TODAY)
    expected = BASELINE.read_text().split()
    for i in range(0, 10_000, 20):  # 500 of them: the model costs more
        outcome = assessor.outcome_of(Document("<gen>", generated[i]))
        assert digest(recorded(outcome.report.model_dump_json().encode())) == expected[i], i


def test_a_changed_fact_changes_the_digest(generated, recorded):
    """The comparison can fail: one changed fact gives another report."""
    assessor = Assessor(today=TODAY)
    expected = BASELINE.read_text().split()
    for i, data in enumerate(generated[:200]):
        applicant = data["applicant"]
        if applicant.get("military_status") == "deserter" and \
                applicant.get("force") == "armed_forces":
            changed = {**data, "applicant": {**applicant, "military_status": "defector"}}
            got = assessor.assess_document(Document("<gen>", changed)).json()
            assert digest(recorded(got)) != expected[i]
            return
    pytest.fail("no deserter among the first 200 generated cases")


def test_outcomes_line_agrees_with_the_report(generated):
    import json

    assessor = Assessor(today=TODAY)
    model = outcomes_model(assessor.vocabulary)
    for data in generated[:300]:
        done = assessor.assess_document(Document("<gen>", data))
        report = json.loads(done.json())
        line = json.loads(done.outcomes_line("x.yaml"))
        model.model_validate(line)
        assert line["edition"] == report["ruleset"]["id"]
        assert line["cites"] == list(report["citations"])
        assert line["open_questions"] == [o["fact"] for o in report["open_questions"]]
        assert line["warnings"] == [w["code"] for w in report["warnings"]]
        for qid, q in line["questions"].items():
            full = report[qid]
            assert q["outcome"] == full["outcome"]
            assert q["possible_outcomes"] == full["possible_outcomes"] if "possible_outcomes" \
                in q else full["possible_outcomes"] == []
            assert q["rules"] == [r["rule"] for r in full["reasons"] if not r["conditional"]]
            assert q["if_established"] == [r["rule"] for r in full["reasons"]
                                           if r["conditional"]]
            for name, items in q.items():
                if name in full and isinstance(full[name], list) and name != "reasons":
                    assert items == full[name], (qid, name)
            assert q["possible"] == full["possible"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text())
def test_a_file_name_in_an_outcomes_line_is_written_as_json_writes_it(name):
    from riskassess.engine.compiled import _dumps, _string

    assert _string(name) == _dumps(name)
