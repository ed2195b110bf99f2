"""The vocabulary (rules/syria/facts.yaml, questions.yaml): loading, and `rules check`.

Planted faults, each caught with its file and line, like tests/test_check.py: a fact read
but not declared, a value not declared, a fact declared but read by no rule, a
recorded-only fact that a rule reads, constraints that cannot be met, a cited paragraph
that does not exist, and a vocabulary file that is not valid.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import DATA, EXAMPLES, RULES, VOCAB, edit, line_of, run_cli

from riskassess.errors import ExitCode
from riskassess.law.plain import UNKNOWN

E24 = "euaa-syria-2024"
FACTS = RULES / "syria" / "facts.yaml"
CASE = str(EXAMPLES / "officer-fled-abroad.yaml")


def findings(r) -> list[str]:
    return [line for line in r.out.splitlines() if line]


# ------------------------------------------------------------------ the model


def test_the_case_model_is_built_from_the_vocabulary():
    schema = json.loads(run_cli("schema", "case").out)
    applicant = schema["$defs"]["Applicant"]["properties"]
    assert list(applicant) == [spec.key for spec in VOCAB.facts.values()]
    for spec in VOCAB.facts.values():
        assert applicant[spec.key]["description"] == spec.description
    rank = VOCAB.facts["applicant.rank"]
    assert applicant["rank"]["enum"] == [*rank.values, "unknown"]
    assert applicant["rank"]["x-meanings"] == rank.meanings


def test_every_fact_has_a_description_kind_and_cited_paragraphs():
    for spec in VOCAB.facts.values():
        assert spec.description and spec.kind and spec.cites, spec.path
        if spec.kind in ("enum", "set"):
            assert set(spec.meanings) == set(spec.values) and all(spec.meanings.values())


def test_the_constraints_come_from_the_vocabulary():
    assert VOCAB.given_only_if == {
        "applicant.desertion_type": ("applicant.military_status",
                                     frozenset({"deserter", "defector"})),
        "applicant.desertion_date": ("applicant.military_status",
                                     frozenset({"deserter", "defector"})),
        "applicant.left_syria_after_desertion": ("applicant.military_status",
                                                 frozenset({"deserter", "defector"})),
        "applicant.active_at_regime_fall": ("applicant.military_status",
                                            frozenset({"deserter", "defector"}))}
    assert VOCAB.not_after_assessment == {"applicant.desertion_date"}
    assert [(i.fact, i.value, i.when_fact, i.when_is, i.when_date)
            for i in VOCAB.implications] == [
        ("applicant.left_syria_after_desertion", True, "applicant.desertion_type", "external",
         None),
        ("applicant.active_at_regime_fall", True, "applicant.desertion_date", None,
         dt.date(2024, 12, 8)),
        ("applicant.returned_to_service", True, "applicant.deserted_again", True, None)]


def test_the_examples_read_the_same_without_the_country_key(tmp_path):
    """The examples now say country_of_origin: SY. Without that line (as they were written
    before the key existed) every conclusion is the same; only the scope warning is added."""
    checked = 0
    for path in sorted(EXAMPLES.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if path.name.endswith(".expected.yaml") or "  country_of_origin: SY\n" not in text:
            continue
        given = json.loads(run_cli("evaluate", str(path), "-f", "json").out)
        copy = tmp_path / path.name
        copy.write_text(text.replace("  country_of_origin: SY\n", ""), encoding="utf-8")
        plain = json.loads(run_cli("evaluate", str(copy), "-f", "json").out)
        assert [w["code"] for w in plain["warnings"]] == \
            [VOCAB.scope.warning] + [w["code"] for w in given["warnings"]]
        for qid in VOCAB.question_ids:
            assert plain[qid] == given[qid], (path.name, qid)
        assert plain["open_questions"] == given["open_questions"]
        checked += 1
    cases = [p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml")]
    assert checked == len(cases) - 1  # every example but status-unknown, with no country key


def test_every_valid_case_file_reads_the_same_with_the_country_key(tmp_path):
    """Adding applicant.country_of_origin: SY changes nothing but the scope warning."""
    for path in sorted((DATA / "valid").glob("*.yaml")):
        plain = json.loads(run_cli("evaluate", str(path), "-f", "json", "--today",
                                   "2024-06-01").out)
        text = path.read_text(encoding="utf-8")
        if "country_of_origin" in text or "applicant:" not in text:
            continue
        copy = tmp_path / path.name
        copy.write_text(text.replace("applicant:\n", "applicant:\n  country_of_origin: SY\n", 1),
                        encoding="utf-8")
        given = json.loads(run_cli("evaluate", str(copy), "-f", "json", "--today",
                                   "2024-06-01").out)
        codes = [w["code"] for w in plain["warnings"]]
        assert codes[0] == VOCAB.scope.warning
        assert [w["code"] for w in given["warnings"]] == codes[1:]
        for qid in VOCAB.question_ids:
            assert plain[qid] == given[qid]


# ------------------------------------------------------------------ the scope


def test_an_applicant_from_another_country_is_refused(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("applicant:\n  country_of_origin: AF\n  military_status: deserter\n",
                    encoding="utf-8")
    r = run_cli("evaluate", str(case))
    assert r.code == ExitCode.OUT_OF_SCOPE == 7
    assert "'AF'" in r.err and "Syria (SY)" in r.err and r.out == ""
    assert "deserter" not in r.err  # no case data beyond the offending value


def test_a_country_code_is_two_capital_letters(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("applicant:\n  country_of_origin: sy\n", encoding="utf-8")
    r = run_cli("evaluate", str(case))
    assert r.code == ExitCode.INVALID_INPUT
    assert f"{case}:2:22: applicant.country_of_origin: 'sy' is not a country code: write " \
           "the country's two capital letters (ISO 3166-1 alpha-2), e.g. SY" in r.err


def test_an_omitted_country_is_said_at_the_top_of_every_format(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("assessment_date: 2024-06-01\napplicant:\n  military_status: deserter\n",
                    encoding="utf-8")
    message = " ".join(VOCAB.scope.message.split())
    text = run_cli("evaluate", str(case)).out
    assert text.index(VOCAB.scope.warning) < text.index("Guidance applied")
    report = json.loads(run_cli("evaluate", str(case), "-f", "json").out)
    assert report["warnings"][0] == {"code": VOCAB.scope.warning, "message": message,
                                     "rule": None, "cites": []}
    for fmt, first_section in (("markdown", "## Case facts"), ("html", 'id="facts"')):
        out = " ".join(run_cli("evaluate", str(case), "-f", fmt).out.split())
        # documents state the message (the code is only in the small-print reference)
        assert out.index(message[:25]) < out.index(first_section), fmt


# ------------------------------------------------------------- planted faults


def test_a_fact_declared_but_read_by_no_rule(rules):
    path = rules / "syria" / "facts.yaml"
    edit(path, "  - path: applicant.force\n", "  - path: applicant.unit_size\n    kind: yes_no\n"
         "    description: Whether his unit was large.\n    cites: [cg24.profile]\n\n"
         "  - path: applicant.force\n")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'applicant.unit_size')}:")
    assert "applicant.unit_size: no rule of euaa-syria-2024, euaa-syria-2025-12 reads it" \
           in finding
    # marked recorded-only, it passes
    edit(path, "    description: Whether his unit was large.\n",
         "    description: Whether his unit was large.\n    recorded_only: true\n")
    assert run_cli("rules", "check", str(rules)).code == 0


def test_a_recorded_only_fact_that_a_rule_reads(rules):
    path = rules / "syria" / "facts.yaml"
    edit(path, "    description: The rank or kind of service held when he left.\n",
         "    description: The rank or kind of service held when he left.\n"
         "    recorded_only: true\n")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'path: applicant.rank')}:")
    assert ("applicant.rank: marked recorded_only, but rule "
            "persecution.conscientious-objector reads it") in finding


def test_a_rule_reads_a_value_the_vocabulary_does_not_declare(rules):
    path = rules / "syria" / "facts.yaml"
    edit(path, "      officer: A commissioned officer.\n", "")
    edit(path, "      officer: the applicant was an officer\n", "")
    risk = rules / E24 / "risk.yaml"
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    assert any(f.startswith(f"{risk}:{line_of(risk, '{fact: applicant.rank, is: officer}')}:")
               and "officer is not a value of applicant.rank" in f for f in findings(r))


def test_a_rule_reads_a_fact_the_vocabulary_does_not_declare(rules):
    path = rules / "syria" / "facts.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - path: applicant.rank\n")
    end = text.index("  - path: applicant.desertion_date\n")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    risk = rules / E24 / "risk.yaml"
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    assert any(f.startswith(f"{risk}:") and "'applicant.rank' is not a fact of the case model"
               in f for f in findings(r))


def test_constraints_that_cannot_be_met(rules):
    path = rules / "syria" / "facts.yaml"
    edit(path, "    only_if: {fact: applicant.military_status, in: [deserter, defector]}\n",
         "    only_if: {fact: applicant.military_status, in: [deserter, defector]}\n"
         "  - fact: applicant.desertion_type\n"
         "    only_if: {fact: applicant.military_status, in: [never_served]}\n")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'in: [never_served]}')}:")
    assert "unsatisfiable: applicant.desertion_type could never be given" in finding


def test_a_must_be_constraint_on_a_value_that_does_not_exist(rules):
    path = rules / "syria" / "facts.yaml"
    edit(path, "    when: {fact: applicant.desertion_type, is: external}\n",
         "    when: {fact: applicant.desertion_type, is: abroad}\n")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'is: abroad}')}:")
    assert "'abroad' is not a value of applicant.desertion_type" in finding


@pytest.mark.parametrize("facts, message", [
    ("  desertion_type: external\n  left_syria_after_desertion: false\n",
     "'false' cannot be given when desertion_type is 'external': it must be true"),
    ("  desertion_date: 2025-01\n  active_at_regime_fall: false\n",
     "'false' cannot be given when desertion_date is on or after 2024-12-08: it must be true"),
    ("  deserted_again: true\n  returned_to_service: false\n",
     "'false' cannot be given when deserted_again is 'true': it must be true"),
])
def test_a_case_file_that_breaks_a_must_be_constraint_is_refused(tmp_path, facts, message):
    case = tmp_path / "case.yaml"
    case.write_text("assessment_date: 2026-02-01\napplicant:\n  country_of_origin: SY\n"
                    "  military_status: deserter\n" + facts, encoding="utf-8")
    r = run_cli("evaluate", str(case))
    assert r.code == ExitCode.INVALID_INPUT
    assert message in r.err


def test_a_given_fact_at_the_fall_needs_no_desertion_date(tmp_path):
    """Issue 14, item 9: with active_at_regime_fall given, the 4.1.1 boundary needs no date."""
    case = tmp_path / "case.yaml"
    for given, outcome in (("false", "in_profile"), ("true", "outside_profile")):
        case.write_text("assessment_date: 2026-02-01\napplicant:\n  country_of_origin: SY\n"
                        "  sex: male\n  military_status: deserter\n  force: armed_forces\n"
                        f"  active_at_regime_fall: {given}\n", encoding="utf-8")
        report = json.loads(run_cli("evaluate", str(case), "-f", "json").out)
        assert report["applicability"]["outcome"] == outcome
        # the date is asked only to check the record (issue 24: a desertion before the fall
        # and service at the fall need a return to service between them), never for 4.1.1
        asked = [q for q in report["open_questions"] if q["fact"] == "applicant.desertion_date"]
        if given == "false":
            assert asked == []
        else:
            [q] = asked
            assert q["rules"] == ["applicability.early-desertion-serving-at-fall"]
            assert "could raise the warning" in q["why"]


def test_a_constraint_on_a_value_that_does_not_exist(rules):
    path = rules / "syria" / "facts.yaml"
    edit(path, "in: [deserter, defector]}", "in: [deserter, deflector]}")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'deflector')}:")
    assert "'deflector' is not a value of applicant.military_status (allowed: deserter," \
           in finding


def test_a_fact_cites_a_paragraph_no_edition_has(rules):
    path = rules / "syria" / "facts.yaml"
    # the first fact citing this paragraph is applicant.rank
    edit(path, "    cites: [cg24.coi.nature-of-escape]\n", "    cites: [cg24.coi.escape]\n")
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    [finding] = findings(r)
    assert finding.startswith(f"{path}:{line_of(path, 'path: applicant.rank')}:")
    assert "cites 'cg24.coi.escape', a paragraph of no edition" in finding


def test_a_bad_vocabulary_file_is_a_located_rule_set_error(rules):
    path = rules / "syria" / "facts.yaml"
    edit(path, "    kind: yes_no\n", "    kind: maybe\n")
    for command in (["evaluate", CASE, "--rules-dir", str(rules)], ["rules", "check", str(rules)],
                    ["schema", "case", "--rules-dir", str(rules)]):
        r = run_cli(*command)
        assert r.code in (ExitCode.RULESET_ERROR, ExitCode.FINDINGS), command
        text = r.err + r.out
        assert "Traceback" not in text
        assert f"{path}:{line_of(path, 'kind: maybe')}:" in text and "facts[" in text
        assert "kind" in text


def test_a_bad_questions_file_is_a_located_rule_set_error(rules):
    path = rules / "syria" / "questions.yaml"
    edit(path, "profile_outcome: in_profile", "profile_outcome: inside")
    r = run_cli("evaluate", CASE, "--rules-dir", str(rules))
    assert r.code == ExitCode.RULESET_ERROR
    assert f"error: {path}:{line_of(path, 'profile_outcome')}:" in r.err
    assert "'inside' is not an outcome of applicability" in r.err


def test_an_edited_vocabulary_is_never_served_stale(rules):
    case = str(EXAMPLES / "officer-fled-abroad.yaml")
    assert run_cli("evaluate", case, "--rules-dir", str(rules)).code == 0
    edit(rules / "syria" / "facts.yaml", "      officer: A commissioned officer.\n", "")
    edit(rules / "syria" / "facts.yaml", "      officer: the applicant was an officer\n", "")
    r = run_cli("evaluate", case, "--rules-dir", str(rules))
    assert r.code == ExitCode.INVALID_INPUT and "'officer' is not an allowed value" in r.err


def test_varying_the_country_out_of_scope_is_refused_as_such():
    r = run_cli("examples", "vary", "draft-evader", "--fact", "applicant.country_of_origin=AF")
    assert r.code == ExitCode.OUT_OF_SCOPE and "'AF'" in r.err
    r = run_cli("examples", "vary", "draft-evader", "--fact", "applicant.country_of_origin=sy")
    assert r.code == ExitCode.USAGE and "--fact" in r.err


def test_a_batch_counts_an_out_of_scope_file_as_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("applicant:\n  country_of_origin: IQ\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text(Path(CASE).read_text(encoding="utf-8"), encoding="utf-8")
    csv_path = tmp_path / "out.csv"
    r = run_cli("evaluate", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"),
                "--summary-csv", str(csv_path))
    assert r.code == ExitCode.OUT_OF_SCOPE
    assert "REFUSED" in r.out and "'IQ'" in r.out
    header = csv_path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[4:-3] == list(VOCAB.question_ids)


def test_an_interview_resumed_from_an_out_of_scope_file_is_refused(tmp_path):
    import datetime as dt

    from riskassess.errors import OutOfScopeError
    from riskassess.law.ruleset import load_catalog
    from riskassess.teach.interview import Interview

    catalog, _ = load_catalog(RULES)
    session = Interview(catalog, RULES, dt.date(2024, 6, 1),
                        answers={"country_of_origin": "AF", "military_status": "deserter"})
    with pytest.raises(OutOfScopeError, match="'AF'") as caught:
        session.next_fact()
    assert caught.value.exit_code == ExitCode.OUT_OF_SCOPE


def test_a_fact_left_unknown_reads_as_not_given_in_every_kind():
    """A document's "depends on" list once printed an unknown yes/no fact as "yes" and an
    unknown list of codes as the letters of "unknown" (found by a lawyer's review)."""
    kinds = {}
    for spec in VOCAB.facts.values():
        kinds.setdefault(spec.kind, spec)
    assert {"bool", "set", "enum"} <= set(kinds)
    for spec in kinds.values():
        assert spec.words(UNKNOWN) == "not given", spec.path
    text = run_cli("evaluate", str(EXAMPLES / "deserter-2026.yaml"), "-f", "markdown").out
    assert "- Put back into service: not given" in text
    assert "- Armed groups belonged to: not given" in text
    # ... and a fact not given that a fact given settles reads as that value, saying so
    text = run_cli("evaluate", str(EXAMPLES / "religious-objector.yaml"), "-f", "markdown").out
    assert "- Left Syria after deserting: yes (not given; follows from manner of escape)" in text
