"""Real published decisions, as case files nobody on the team wrote (tests/data/decisions;
docs/decisions.md says where each comes from and how it was read). Each test states what
the tool must do with one of them: these are the behaviours the first run against them
found wrong or missing."""

from __future__ import annotations

import json

import pytest
from conftest import DATA, run_cli

from riskassess.errors import ExitCode

DECISIONS = DATA / "decisions"
QUESTIONS = ("applicability", "persecution", "risk", "nexus", "exclusion")


def report(name: str, *options: str) -> dict:
    r = run_cli("evaluate", str(DECISIONS / f"{name}.yaml"), "-f", "json", *options)
    assert r.code == 0, r.err
    return json.loads(r.out)


def outcomes(data: dict) -> dict[str, str]:
    return {q: data[q]["outcome"] for q in QUESTIONS}


def test_a_police_officer_with_an_exclusion_indicator_is_never_silenced():
    # NL Rb Den Haag 2025:18534: decided on Art. 1F alone. Before, the April 2024 rule set
    # printed exclusion "not assessed" and no indicator, because police are outside the
    # profile as drafted.
    data = report("d11-nl-rbdha-2025-18534-police-1f", "--ruleset", "euaa-syria-2024")
    assert data["exclusion"]["outcome"] == "examination_indicated"
    assert data["exclusion"]["indicators"] == ["involved_in_detention_or_interrogation"]
    # the profile neither names nor excludes him: each step says so, none decides
    assert outcomes(data) == {"applicability": "individual_assessment",
                              "persecution": "individual_assessment",
                              "risk": "individual_assessment",
                              "nexus": "individual_assessment",
                              "exclusion": "examination_indicated"}
    for qid in ("persecution", "risk", "nexus"):
        assert data[qid]["reasons"][0]["text"].startswith("If the profile is extended")
    assert "art_9_2_e_armed_forces_only" in data["persecution"]["notes"]


def test_in_the_review_window_every_outcome_carries_the_caveat():
    # AT BVwG W137 2295690-1, 27 January 2025: the April 2024 edition was then under review
    data = report("d09-at-bvwg-2025-01-27-police")
    assert data["ruleset"]["id"] == "euaa-syria-2024"
    assert [data[q]["under_review"] for q in QUESTIONS] == [True] * 5
    case = str(DECISIONS / "d09-at-bvwg-2025-01-27-police.yaml")
    text = run_cli("evaluate", case, "--full").out
    # each outcome's own headline says whose finding it is, with the caution above it
    assert text.count("Outcome found by the edition applied, under review since 8 December "
                      "2024") == len(QUESTIONS)
    assert text.count("Not to be relied on without current country information") == \
        len(QUESTIONS)
    # the summary too: each entry of the glance, and the caution above each question's reasons
    short = " ".join(run_cli("evaluate", case).out.split())
    assert short.count("(finding of the edition applied, under review since 8 December "
                       "2024)") == len(QUESTIONS)
    assert short.count("Not to be relied on without current country information") == \
        len(QUESTIONS)
    later = report("d09-at-bvwg-2025-01-27-police", "--ruleset", "euaa-syria-2025-12")
    assert [later[q]["under_review"] for q in QUESTIONS] == [False] * 5


def test_an_excluded_deserter_keeps_his_inclusion_and_the_frame_names_non_refoulement():
    # DK Refugee Appeals Board, 6 February 2017: a refugee "in isolation", excluded, and
    # not returned. The tool gives the inclusion, indicates the examination, decides nothing
    # more, and its frame says an exclusion does not settle return.
    name = "d04-dk-rab-2017-02-06-reservist-excluded"
    data = report(name, "--ruleset", "euaa-syria-2024")
    assert outcomes(data) == {"applicability": "in_profile", "persecution": "qualifies",
                              "risk": "substantiated_in_general", "nexus": "indicated",
                              "exclusion": "examination_indicated"}
    assert data["exclusion"]["indicators"] == [
        "served_in_unit_implicated_in_serious_crimes", "involved_in_detention_or_interrogation"]
    why = {r["rule"]: r["text"] for r in data["exclusion"]["reasons"]}
    # his own acts are for the examination; the reason no longer cites what deserters suffered
    detention = why["exclusion.indicator-detention-interrogation"]
    assert "what he did" in detention and "torture" not in detention
    md = run_cli("evaluate", str(DECISIONS / f"{name}.yaml"), "--ruleset", "euaa-syria-2024",
                 "-f", "markdown").out
    assert "non-refoulement" in md


def test_a_nexus_is_indicated_never_established():
    # OVG Sachsen-Anhalt 3 L 74/21 held the opposite of the guidance on a plain deserter;
    # the tool follows the guidance, and says how strongly it speaks.
    data = report("d07-de-ovg-lsa-2022-03-08", "--ruleset", "euaa-syria-2024")
    assert data["nexus"]["outcome"] == "indicated"
    assert data["nexus"]["grounds"][0]["likelihood"] == "highly_likely"
    assert data["nexus"]["rests_on"] == ["guidance"]


@pytest.mark.parametrize("name", [
    "d01-cjeu-ez-c238-19", "d03-dk-rab-2015-06-officer",
    "d04-dk-rab-2017-02-06-reservist-excluded", "d05-de-vg-trier-2021-04-20",
    "d06-de-vgh-bw-2021-11-30", "d07-de-ovg-lsa-2022-03-08",
    "d08-nl-rbdha-2023-3383-airforce", "d11-nl-rbdha-2025-18534-police-1f"])
def test_a_date_no_encoded_edition_covers_is_refused_not_guessed(name):
    r = run_cli("evaluate", str(DECISIONS / f"{name}.yaml"))
    assert r.code == ExitCode.NO_ENCODED_EDITION and r.out == ""
    assert "--ruleset" in r.err


def test_a_case_from_another_country_is_refused():
    # CJEU Shepherd: a United States soldier
    r = run_cli("evaluate", str(DECISIONS / "d02-cjeu-shepherd-c472-13.yaml"))
    assert r.code == ExitCode.OUT_OF_SCOPE and "'US'" in r.err
