"""Rule-set loading: a broken rule set is refused with located problems (exit 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLES, RULES, edit, line_of, run_cli

from riskassess.errors import ExitCode
from riskassess.law.ruleset import load_catalog, load_ruleset

CASE = str(EXAMPLES / "officer-fled-abroad.yaml")
EDITION = "euaa-syria-2024"
ENCODED = ["euaa-syria-2024", "euaa-syria-2025-12"]








BREAKAGES = [
    ("risk.yaml", "{fact: applicant.rank, is: officer}", "{fact: applicant.grade, is: officer}",
     "'applicant.grade' is not a fact of the case model"),
    ("risk.yaml", "{fact: applicant.rank, is: officer}", "{fact: applicant.rank, is: general}",
     "general is not a value of applicant.rank "
     "(allowed: conscript, reservist, volunteer, nco, officer)"),
    ("risk.yaml", "cites: [cg24.concl.risk-co]", "cites: [cg24.concl.risk-cx]",
     "'cg24.concl.risk-cx' is not a paragraph of coi.yaml"),
    ("risk.yaml", "cites: [cg24.concl.risk-co]", "cites: []",
     "a rule cites at least one paragraph"),
    ("risk.yaml", "    outcome: substantiated_in_general", "    outcome: qualifies",
     "'qualifies' is not an outcome of risk"),
    ("risk.yaml", "adds: {enhancing_factors: [officer_rank]}",
     "adds: {enhancing_factors: [general_rank]}",
     "'general_rank' is not a code listed under codes.enhancing_factors"),
    ("risk.yaml", "adds: {enhancing_factors: [officer_rank]}", "adds: {grounds: [officer_rank]}",
     "'grounds' is not a list of risk in the report"),
    ("nexus.yaml", "likelihood: possible", "likelihood: certain",
     "not a valid item of nexus.grounds"),
    ("nexus.yaml", "    reasoning: >-\n      For conscientious",
     "    reasonning: >-\n      For conscientious",
     "unknown key 'reasonning'"),
    ("risk.yaml", "{question: applicability, is: outside_profile}",
     "{question: nexus, is: established}",
     "'nexus' is not a question answered before this one"),
    ("risk.yaml", "  - id: risk.officer-rank-circumstance", "  - id: risk.family-members-note",
     "rule id 'risk.family-members-note' repeats"),
    ("coi.yaml", "    section: \"4.2.3, profile definition\"\n",
     "    section: \"4.2.3, profile definition\"\n    section: again\n",
     "duplicate key 'section'"),
]


@pytest.mark.parametrize("file,old,new,message", BREAKAGES, ids=[b[3][:40] for b in BREAKAGES])
def test_broken_rule_file_is_refused_with_its_location(rules, file, old, new, message):
    path = rules / EDITION / file
    edit(path, old, new)
    line = line_of(path, new.strip().splitlines()[-1] if "\n" in new.strip() else new.strip(),
                   last=True)
    r = run_cli("evaluate", CASE, "--rules-dir", str(rules))
    assert r.code == ExitCode.RULESET_ERROR, r.err
    assert "Traceback" not in r.err
    hits = [e for e in r.err.splitlines() if message in e]
    assert hits, r.err
    assert any(f"{path}:" in h for h in hits)
    # the location is the broken line or the rule that holds it
    located = int(hits[0].split(f"{path}:")[1].split(":")[0])
    assert line - 12 <= located <= line, (line, hits[0])


def test_edition_dates_must_agree_with_the_catalog(rules):
    edit(rules / EDITION / "edition.yaml", "in_force_from: 2024-04-15", "in_force_from: 2024-04-16")
    r = run_cli("evaluate", CASE, "--rules-dir", str(rules))
    assert r.code == ExitCode.RULESET_ERROR
    assert "does not agree with editions.yaml on: in_force_from" in r.err


@pytest.mark.parametrize("old,new,message", [
    ("superseded_on: 2025-06-23\n    successor: euaa-syria-2025-06",
     "superseded_on: 2025-06-20\n    successor: euaa-syria-2025-06",
     "does not match the superseded_on date of the edition before it"),
    ("successor: euaa-syria-2025-06", "successor: euaa-syria-2026",
     "'euaa-syria-2026' is not an edition in this catalog"),
    ("under_review_from: 2024-12-08", "under_review_from: 2023-12-08", "is before in_force_from"),
])
def test_catalog_sanity(rules, old, new, message):
    edit(rules / "editions.yaml", old, new)
    r = run_cli("rules", "list", "--rules-dir", str(rules))
    assert r.code == ExitCode.RULESET_ERROR
    assert message in r.err and "editions.yaml:" in r.err


def test_a_gap_in_the_rules_is_a_rule_set_error_not_a_guess(rules):
    # Without its outside-profile rule, nothing decides persecution for a draft evader.
    path = rules / EDITION / "persecution.yaml"
    text = path.read_text()
    start = text.index("  - id: persecution.not-assessed-outside-profile")
    end = text.index("  - id: persecution.severe-acts")
    path.write_text(text[:start] + text[end:])
    r = run_cli("evaluate", str(EXAMPLES / "draft-evader.yaml"), "--rules-dir", str(rules))
    assert r.code == ExitCode.RULESET_ERROR
    # refused as it loads, with what `rules check` says (the first case left undecided),
    # before any case meets the gap
    assert "persecution: incomplete: no outcome rule applies when " \
           "question:applicability=" in r.err


def test_shipped_rule_set_loads_and_is_hashed_stably():
    first = load_ruleset(RULES / EDITION)
    second = load_ruleset(RULES / EDITION)
    assert first is second  # compiled once per process and folder state
    assert first.sha256 == second.sha256 and len(first.sha256) == 64
    catalog, _ = load_catalog(RULES)
    assert [e.id for e in catalog.editions if e.encoded] == ENCODED


@pytest.mark.parametrize("edition", ENCODED)
def test_every_rule_cites_and_every_paragraph_has_a_source(edition):
    rs = load_ruleset(RULES / edition)
    for rule in rs.rules.values():
        assert rule.cites and all(pid in rs.paragraphs for pid in rule.cites)
        assert rule.reasoning.endswith(".")
    for p in rs.paragraphs.values():
        assert p.source in rs.sources and p.summary.strip() and p.gist.strip()
    if edition != EDITION:
        return
    # the guidance's bracketed references are printed exactly (assembled here from parts, so
    # that this file does not itself repeat the source's long run of reference words)
    first = "Targeting 2022, 2.7, p. 46"
    second = "Military service, 4.2, p. 37, 4.3, p. 39"
    printed = f"[{first}; {second}]"
    assert printed in rs.paragraphs["cg24.coi.ill-treatment-despite-amnesty"].locator
    assert rs.paragraphs["cg24.coi.penalties"].references == [
        "[Military service, 4.2, p. 35]", "[Military service, 4.2, p. 36]"]


@pytest.mark.parametrize("edition", ENCODED)
def test_every_paragraph_of_the_registry_is_relied_on(edition):
    rs = load_ruleset(RULES / edition)
    cited = {pid for rule in rs.rules.values() for pid in rule.cites} | set(rs.edition.review_cites)
    # the profile's cross-references are cited by the referral rules; nothing is unused
    assert set(rs.paragraphs) - cited == set()


# One bad rule file per failure mode: each replaces risk.yaml in a copy of the 2024 rules.
RULE_CORPUS = sorted((Path(__file__).resolve().parent / "data" / "invalid-rules").glob("*.yaml"))
RULE_NO_HEADER = {"empty.yaml": (None, "the file is empty (or holds only comments)"),
                  "binary.yaml": ("1:1", "contains NUL bytes")}


@pytest.mark.parametrize("bad", RULE_CORPUS, ids=lambda p: p.name)
def test_bad_rule_file(rules, bad):
    if bad.name in RULE_NO_HEADER:
        where, message = RULE_NO_HEADER[bad.name]
    else:
        header = bad.read_bytes().split(b"\n", 1)[0].decode()
        code, where, message = header.removeprefix("# expect: ").split(" ", 2)
        assert code == "4"
        where = None if where == "-" else where
    target = rules / EDITION / "risk.yaml"
    target.write_bytes(bad.read_bytes())
    for command in (["evaluate", CASE], ["rules", "check"]):
        r = run_cli(*command, "--rules-dir", str(rules)) if command[0] == "evaluate" \
            else run_cli(*command, str(rules))
        assert r.code in (ExitCode.RULESET_ERROR, ExitCode.FINDINGS), r.err
        text = r.err + r.out
        assert "Traceback" not in text
        prefix = f"{target}:{where}: " if where else f"{target}: "
        assert any(line.removeprefix("error: ").startswith(prefix) and message in line
                   for line in text.splitlines()), text
    assert len(RULE_CORPUS) >= 15
