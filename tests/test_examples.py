"""The shipped examples: each evaluates to the outcomes its sidecar states."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import DATA, EXAMPLES, RULES, VOCAB

from riskassess.assess.core import assess_file
from riskassess.law.ruleset import load_ruleset
from riskassess.law.scenarios import compare, load_scenarios

SCENARIOS = load_scenarios(EXAMPLES)
ENCODED = sorted(p.name for p in RULES.iterdir() if (p / "edition.yaml").is_file())
NOT_TODAY = dt.date(1900, 1, 1)  # every example carries its own assessment date


def test_there_are_at_least_eight_examples_each_with_a_case_file():
    assert len(SCENARIOS) >= 8
    case_files = {p.name for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml")}
    assert case_files == {f"{s.id}.yaml" for s in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_example_evaluates_as_expected(scenario):
    outcome = assess_file(scenario.case_path, today=NOT_TODAY)
    assert compare(outcome.report, scenario.meta.expected) == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_example_is_dated_inside_its_editions_window_and_cites_real_paragraphs(scenario):
    from riskassess.law.case import load_case

    rs = load_ruleset(RULES / scenario.meta.expected.ruleset)
    day = load_case(scenario.case_path, VOCAB).assessment_date
    assert day is not None
    assert rs.edition.in_force_from <= day
    assert rs.edition.superseded_on is None or day < rs.edition.superseded_on
    for pid in scenario.meta.based_on:
        assert pid in rs.paragraphs


@pytest.mark.parametrize("edition", ENCODED)
def test_every_rule_is_exercised_by_some_example(edition):
    rs = load_ruleset(RULES / edition)
    fired = set()
    for scenario in SCENARIOS:
        report = assess_file(scenario.case_path, today=NOT_TODAY).report
        if report.ruleset.id != edition:
            continue
        for qid in ("applicability", "persecution", "risk", "nexus", "exclusion"):
            fired |= {r.rule for r in report.question(qid).reasons if not r.conditional}
        fired |= {w.rule for w in report.warnings if w.rule}
    assert set(rs.rules) - fired == set()


def test_the_same_facts_under_each_edition():
    """Issue 3: the same deserter gets the December 2025 answer in 2026, April 2024 in 2024."""
    from riskassess.io.reader import read_yaml_file

    old = EXAMPLES / "daraa-conscript-amnesty.yaml"
    new = EXAMPLES / "deserter-2026.yaml"
    # The 2026 file adds whether he was serving at the fall, which the December 2025 edition
    # needs and a file of 2024 could not know; every other fact is the same.
    later = dict(read_yaml_file(new).data["applicant"])
    assert later.pop("active_at_regime_fall") is False
    assert read_yaml_file(old).data["applicant"] == later
    r2024 = assess_file(old, today=NOT_TODAY).report
    r2026 = assess_file(new, today=NOT_TODAY).report
    assert (r2024.ruleset.id, r2024.persecution.outcome) == ("euaa-syria-2024", "qualifies")
    assert (r2026.ruleset.id, r2026.persecution.outcome) == ("euaa-syria-2025-12",
                                                              "no_acts_reported")
    assert [e.id for e in r2024.ruleset.newer_editions] == ["euaa-syria-2025-06",
                                                            "euaa-syria-2025-12"]
    assert r2026.ruleset.newer_editions == []


def test_compare_reports_differences():
    # The comparison itself must be able to fail.
    scenario = next(s for s in SCENARIOS if s.id == "officer-fled-abroad")
    other = next(s for s in SCENARIOS if s.id == "draft-evader")
    report = assess_file(scenario.case_path, today=NOT_TODAY).report
    diffs = compare(report, other.meta.expected)
    assert "applicability.outcome: expected outside_profile, got in_profile" in diffs


LATER_RISK_FACTS = (
    "applicant.left_syria_after_desertion", "applicant.non_armed_opposition_activity",
    "applicant.suspected_opposition_sympathy", "applicant.from_reconciled_area",
    "applicant.returned_to_service", "applicant.deserted_again", "applicant.family_targeted",
    "applicant.prior_measures", "applicant.charged_under_antiterrorism_law",
    "applicant.armed_groups")


def test_the_demo_case_of_the_case_file_spec():
    # shared/spec/case-file.md, verbatim values
    report = assess_file(DATA / "valid" / "spec-demo.yaml", today=NOT_TODAY).report
    assert report.case_id == "DEMO-001"
    assert report.applicability.outcome == "in_profile"
    assert report.persecution.outcome == "qualifies"
    assert report.persecution.bases == ["art_9_1_severe_acts", "art_9_2_e"]
    assert report.risk.outcome == "substantiated_in_general"
    assert report.risk.enhancing_factors == [] and report.risk.non_reducing_factors == []
    assert [(g.ground, g.imputed, g.likelihood) for g in report.nexus.grounds] == [
        ("political_opinion", True, "highly_likely")]
    assert report.exclusion.outcome == "could_be_relevant"
    # the spec's demo does not give the applicant's country: the report says so; the facts
    # added to the vocabulary since the spec was written are open, and each could only add a
    # circumstance to Step 2, never change a conclusion
    assert [q.fact for q in report.open_questions] == list(LATER_RISK_FACTS)
    assert all(q.affects == ["risk"] for q in report.open_questions)
    assert [w.code for w in report.warnings] == ["country_of_origin_not_given"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_example_outcomes_show_in_the_terminal_report(scenario):
    from conftest import run_cli

    short = run_cli("evaluate", str(scenario.case_path))
    assert short.code == 0, short.err
    glance = short.out.split("At a glance\n", 1)[1].split("\n\n", 1)[0]
    from riskassess.law.ruleset import shipped_vocabulary

    vocab = shipped_vocabulary()
    for q in vocab.questions:  # the glance: each outcome in words, under its title
        qid, title = q.id, q.title
        outcome = getattr(scenario.meta.expected, qid).outcome
        label = vocab.outcome_labels[outcome]
        assert f"  - {title}: {label}" in " ".join(glance.split("\n    ")), (qid, glance)
    for code in scenario.meta.expected.warnings:  # every warning, in the summary too
        assert code in short.out
    r = run_cli("evaluate", str(scenario.case_path), "--full")
    assert r.code == 0, r.err
    headings = ["Does the applicant fall within the profile?", "Step 1.", "Step 2.", "Step 3.",
                "Exclusion\n", "Open questions"]
    for qid, start, end in zip(("applicability", "persecution", "risk", "nexus", "exclusion"),
                               headings, headings[1:], strict=False):
        section = r.out.split(start, 1)[1].split(end, 1)[0]
        outcome = getattr(scenario.meta.expected, qid).outcome
        # "Outcome: ...", or in the review window "Outcome found by the edition applied, ..."
        assert re.search(r"(^|\n)  Outcome[^\n]*: ", section) and f"[{outcome}]" in section, \
            (qid, section[:200])
    for fact in scenario.meta.expected.open_questions:
        assert f"- {fact} (affects" in r.out
    for code in scenario.meta.expected.warnings:
        assert code in r.out.split("Warnings", 1)[1]
