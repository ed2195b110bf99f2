"""Properties of every report, over generated valid case files (hypothesis).

Cases are written as YAML text and go through the whole pipeline (reader, case model,
edition choice, engine, JSON), with any mix of known, unknown and partial facts and an
assessment date inside an encoded edition's window.
"""

from __future__ import annotations

import datetime as dt
import json

from conftest import RULES, VOCAB
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskassess.engine.evaluate import evaluate
from riskassess.io.reader import parse_yaml_text
from riskassess.law.case import case_from_document
from riskassess.law.editions import choose_edition
from riskassess.law.report import FORMAT
from riskassess.law.ruleset import load_catalog, ruleset_for
from riskassess.render.json import render as render_json

FACTS = VOCAB.testable  # the facts rules may read (rules/syria/facts.yaml)

CATALOG, _ = load_catalog(RULES)
QUESTIONS = ("applicability", "persecution", "risk", "nexus", "exclusion")
WINDOWS = [(e.in_force_from, (e.superseded_on or dt.date(2027, 12, 31)) - dt.timedelta(days=1))
           for e in CATALOG.editions if e.encoded]


@st.composite
def case_files(draw) -> str:
    lo, hi = draw(st.sampled_from(WINDOWS))
    day = draw(st.dates(min_value=lo, max_value=hi))
    lines = [f"assessment_date: {day.isoformat()}", "applicant:"]
    status = "unknown"
    for path, spec in FACTS.items():
        key = path.split(".", 1)[1]
        if spec.kind == "date":
            continue
        if draw(st.booleans()):  # leave it out: the same as unknown
            continue
        if spec.kind == "set":
            value = draw(st.one_of(st.just("unknown"),
                                   st.lists(st.sampled_from(spec.values), unique=True)))
            shown = value if value == "unknown" else "[" + ", ".join(value) + "]"
        elif spec.kind == "bool":
            shown = draw(st.sampled_from(["true", "false", "unknown"]))
        else:
            shown = draw(st.sampled_from(list(spec.values) + ["unknown"]))
        if key == "military_status":
            status = shown
        lines.append(f"  {key}: {shown}")
    if status in ("draft_evader", "never_served"):  # facts only deserters/defectors have
        serving_only = tuple(f"  {p.split('.', 1)[1]}:" for p in VOCAB.given_only_if)
        lines = [line for line in lines if not line.startswith(serving_only)]
    else:
        when = draw(st.dates(min_value=dt.date(2011, 3, 1), max_value=day))
        form = draw(st.sampled_from(["day", "month", "year", "unknown", "absent"]))
        value = {"day": when.isoformat(), "month": when.isoformat()[:7],
                 "year": str(when.year), "unknown": "unknown"}.get(form)
        if value:
            lines.append(f"  desertion_date: {value}")
    lines = _forced(lines)
    if lines[-1] == "applicant:":  # every fact left out: an empty mapping, not null
        lines[-1] = "applicant: {}"
    return "\n".join(lines) + "\n"


def _forced(lines: list[str]) -> list[str]:
    """Give the value a must_be constraint forces where the drawn one breaks it."""
    given = {}
    for line in lines[2:]:
        key, raw = line.strip().split(": ", 1)
        given[f"applicant.{key}"] = {"true": True, "false": False}.get(raw, raw)
    for imp in VOCAB.implications:
        if imp.broken_by(given.get(imp.fact, "unknown"), given.get(imp.when_fact, "unknown")):
            key = imp.fact.split(".", 1)[1]
            shown = str(imp.value).lower() if isinstance(imp.value, bool) else imp.value
            lines = [f"  {key}: {shown}" if line.startswith(f"  {key}:") else line
                     for line in lines]
    return lines


def assess(text: str):
    case = case_from_document(parse_yaml_text(text, "generated.yaml"), VOCAB)
    choice = choose_edition(CATALOG, case.assessment_date)
    ruleset = ruleset_for(RULES, choice.entry)
    return evaluate(case, ruleset, choice, case.assessment_date), ruleset


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_files())
def test_every_report_is_complete_cited_explained_and_deterministic(text):
    report, ruleset = assess(text)

    # complete: every question has an outcome from the contract, with reasons
    for qid in QUESTIONS:
        q = report.question(qid)
        assert q.outcome
        assert q.reasons, qid
    # every citation resolves, and every cited paragraph is in the report
    cited = {pid for qid in QUESTIONS for r in report.question(qid).reasons for pid in r.cites}
    cited |= {pid for w in report.warnings for pid in w.cites}
    assert set(report.citations) == cited
    assert all(pid in ruleset.paragraphs for pid in cited)
    # an outcome left open comes with open questions naming that question
    for qid in QUESTIONS:
        q = report.question(qid)
        if q.outcome == "undetermined" or q.possible_outcomes:
            assert any(qid in oq.affects for oq in report.open_questions), qid
    # every open question is a fact the case left unknown or partial
    for oq in report.open_questions:
        assert oq.fact in FACTS and oq.affects and oq.rules
    # deterministic: the same text gives the same bytes
    again, _ = assess(text)
    assert render_json(report) == render_json(again)
    assert json.loads(render_json(report))["format"] == FORMAT
