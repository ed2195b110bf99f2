"""`rules check`, `rules show`, `rules coverage`, `coi show` and `coi search`."""

from __future__ import annotations

import re

from conftest import RULES, edit, line_of, run_cli

from riskassess.errors import ExitCode

E24 = "euaa-syria-2024"
E25 = "euaa-syria-2025-12"








def findings(r) -> list[str]:
    return [line for line in r.out.splitlines() if line]


def test_the_shipped_rule_sets_pass():
    r = run_cli("rules", "check")
    assert r.code == 0, r.out
    assert r.out == ""
    assert "checked euaa-syria-2024, euaa-syria-2025-12: 0 error(s), 0 warning(s)" in r.err


def test_one_edition_folder_can_be_checked_alone():
    r = run_cli("rules", "check", str(RULES / E25))
    assert r.code == 0 and f"checked {E25}:" in r.err


# Planted faults, each caught with its file and line.

def test_dangling_citation(rules):
    path = rules / E24 / "risk.yaml"
    edit(path, "cites: [cg24.concl.risk-co, cg24", "cites: [cg24.concl.risk-cx, cg24")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'cg24.concl.risk-cx')}:")
    assert "risk.political-objection-individual: cites[0]: 'cg24.concl.risk-cx' " \
           "is not a paragraph of coi.yaml" in finding


def test_unknown_fact(rules):
    path = rules / E24 / "risk.yaml"
    edit(path, "{fact: applicant.rank, is: officer}", "{fact: applicant.grade, is: officer}")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'applicant.grade')}:")
    assert ("risk.officer-rank-circumstance: when.all[2].fact: 'applicant.grade' is not a fact"
            in finding)


def test_value_outside_a_facts_list(rules):
    path = rules / E25 / "applicability.yaml"
    edit(path, "{fact: applicant.military_status, is: draft_evader}",
         "{fact: applicant.military_status, is: evader}")
    r = run_cli("rules", "check", str(rules))
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'is: evader')}:")
    assert "applicability.evaded-under-assad: when.is: evader is not a value" in finding


def test_a_gap(rules):
    path = rules / E24 / "persecution.yaml"
    text = path.read_text()
    start = text.index("  - id: persecution.not-assessed-outside-profile")
    path.write_text(text[:start] + text[text.index("  - id: persecution.if-profile-extended\n"):])
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'question: persecution')}:")
    assert "persecution: incomplete: no outcome rule applies when " \
           "question:applicability=outside_profile" in finding


def test_a_gap_between_dates(rules):
    path = rules / E25 / "applicability.yaml"
    # The boundary to 4.1.1 is now a fact of its own (applicant.active_at_regime_fall), so
    # a date gap is made by requiring an earlier desertion date of the in-profile rule.
    edit(path, "        - {fact: applicant.active_at_regime_fall, is: false}\n"
               "        - {fact: applicant.force, is: armed_forces}\n",
         "        - {fact: applicant.active_at_regime_fall, is: false}\n"
         "        - {fact: applicant.force, is: armed_forces}\n"
         "        - {fact: applicant.desertion_date, before: 2024-12-01}\n")
    r = run_cli("rules", "check", str(rules))
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'question: applicability')}:")
    assert "applicant.desertion_date=2024-12-01 to 2024-12-07" in finding


def test_a_bracket_label_with_no_source(rules):
    # item 11 of issue 14: every label of the guidance's brackets names a source, whose
    # title, publisher and date every citation shows
    path = rules / E24 / "coi.yaml"
    edit(path, '    short: "Targeting 2020"\n', '    short: "Targeting of 2020"\n')
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'id: cg24.coi.detention-campaigns')}:")
    assert "bracket label 'Targeting 2020' names no source" in finding


def test_a_conflict(rules):
    path = rules / E24 / "exclusion.yaml"
    edit(path, "prevails_over: [exclusion.could-be-relevant, ", "prevails_over: [")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'id: exclusion.examination-indicated')}:")
    assert "exclusion.examination-indicated: conflicts with exclusion.could-be-relevant" in finding
    assert "concluding examination_indicated and could_be_relevant" in finding


def test_prevails_over_must_come_first(rules):
    path = rules / E24 / "exclusion.yaml"
    edit(path, "prevails_over: [exclusion.could-be-relevant, ", "prevails_over: [")
    edit(path, "    outcome: could_be_relevant\n",
         "    outcome: could_be_relevant\n    prevails_over: [exclusion.examination-indicated]\n")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    assert "comes before this rule, so it would decide first" in r.out


def test_dead_rule_and_unused_code_are_warnings(rules):
    path = rules / E24 / "risk.yaml"
    edit(path, "        - {fact: applicant.rank, is: officer}\n",
         "        - {fact: applicant.rank, is: officer}\n"
         "        - {fact: applicant.rank, is: conscript}\n")
    r = run_cli("rules", "check", str(rules))
    assert r.code == 0  # warnings only
    out = r.out
    assert f"{path}:{line_of(path, 'id: risk.officer-rank-circumstance')}:" in out
    assert "risk.officer-rank-circumstance: warning: dead rule: it applies to no case" in out
    edition = rules / E24 / "edition.yaml"
    edit(edition, "  enhancing_factors:\n",
         "  enhancing_factors:\n    tall: \"A code no rule adds.\"\n")
    r = run_cli("rules", "check", str(rules))
    assert r.code == 0
    assert f"{edition}:{line_of(edition, 'tall:')}:" in r.out
    assert "codes.enhancing_factors.tall: warning: documented but no rule uses it" in r.out


def test_an_uncited_paragraph_is_a_warning(rules):
    path = rules / E25 / "persecution.yaml"
    edit(path, "cg25.4-3.conscription,\n            cg25.4-3.coi-basis]", "cg25.4-3.conscription]")
    r = run_cli("rules", "check", str(rules))
    assert r.code == 0
    coi = rules / E25 / "coi.yaml"
    assert f"{coi}:{line_of(coi, 'id: cg25.4-3.coi-basis')}:" in r.out
    assert "cg25.4-3.coi-basis: warning: no rule cites this paragraph" in r.out


def test_catalog_and_edition_must_agree(rules):
    edit(rules / E25 / "edition.yaml", "in_force_from: 2025-12-03", "in_force_from: 2025-12-04")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    assert "does not agree with editions.yaml on: in_force_from" in r.out
    assert "checked euaa-syria-2024," in r.err  # the other edition is still checked
    assert "euaa-syria-2025-12 (not loaded" in r.err  # and the broken one is named as such


def test_schema_error_in_the_catalog(rules):
    edit(rules / "editions.yaml", "    encoded: false\n    url: https://euaa.europa.eu/country",
         "    encoded: maybe\n    url: https://euaa.europa.eu/country")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    assert "editions.yaml:" in r.out and "encoded" in r.out


def test_rules_show():
    r = run_cli("rules", "show", "risk.amnesty-does-not-reduce")
    assert r.code == 0
    for part in ("applies when: applicability is in_profile and "
                 "applicant.reconciliation_status is amnesty_surrender",
                 "adds to points on an amnesty or settlement: amnesty_surrender",
                 "why: The guidance's conclusion that amnesty decrees would generally not",
                 "[cg24.concl.risk-amnesty]", "summary: ",
                 "locator: 4.2.3, Conclusions and guidance, level of risk, para. 4"):
        assert part in r.out
    both = run_cli("rules", "show", "persecution.not-assessed-outside-profile")
    assert both.out.count("Rule persecution.not-assessed-outside-profile") == 2
    missing = run_cli("rules", "show", "risk.officer-rank")
    assert missing.code == ExitCode.USAGE
    assert "did you mean risk.officer-rank-circumstance" in missing.err


def test_coi_show_and_search():
    r = run_cli("coi", "show", "sd.houran-200")
    assert r.code == 0
    assert "section 'Amnesties do not protect defectors', para. 3" in r.out
    assert "cited by: risk.settlement-does-not-reduce" in r.out
    found = run_cli("coi", "search", "Sednaya", "POLICE")
    ids = [line.split()[0] for line in found.out.splitlines()]
    assert ids == ["dmdo.statistics-total", "dmdo.deaths-in-detention", "sd.bodies-delivered"]
    none = run_cli("coi", "search", "zzzz")
    assert none.out == "" and "no paragraph matches" in none.err
    assert run_cli("coi", "show", "cg24.nope").code == ExitCode.USAGE


def test_coverage_shows_every_rule_exercised():
    r = run_cli("rules", "coverage")
    assert r.code == 0, r.out
    # every rule of both editions is exercised by some example
    assert re.search(r"euaa-syria-2024: (\d+)/\1 rules exercised", r.out), r.out
    assert re.search(r"euaa-syria-2025-12: (\d+)/\1 rules exercised", r.out), r.out
    assert "  NO " not in r.out


def test_coverage_fails_when_a_rule_is_not_exercised(tmp_path):
    examples = tmp_path / "examples"
    examples.mkdir()
    (examples / "one.yaml").write_text(
        "assessment_date: 2024-06-01\napplicant:\n  military_status: draft_evader\n",
        encoding="utf-8")
    r = run_cli("rules", "coverage", "--examples", str(examples))
    assert r.code == ExitCode.FINDINGS
    assert "  NO risk.officer-rank-circumstance" in r.out


def test_a_rule_file_listed_twice_is_one_error_and_the_summary_names_its_edition(rules):
    """Listed twice, a rule file was read twice, and every rule in it was reported as a
    repeated id (eight errors for one slip); the summary then named only the edition that
    did load, as if the broken one had been checked and found clean."""
    edition = rules / "euaa-syria-2024" / "edition.yaml"
    edit(edition, "  - applicability.yaml\n", "  - applicability.yaml\n  - applicability.yaml\n")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    lines = r.out.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"edition.yaml:{line_of(edition, 'applicability.yaml', last=True)}:" in lines[0]
    assert "'applicability.yaml' is listed twice" in lines[0]
    assert "euaa-syria-2024 (not loaded" in r.err and "1 error(s)" in r.err
