"""`riskassess interview`, driven through a pseudo-terminal (pexpect)."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import time

import pexpect
from conftest import RULES, VOCAB, run_cli, spawn_tool, tool_env

from riskassess.errors import ExitCode
from riskassess.io.reader import parse_yaml_text
from riskassess.law.case import UNKNOWN, load_case
from riskassess.law.ruleset import load_catalog
from riskassess.teach.interview import Interview, to_yaml

FACTS = VOCAB.facts  # every fact of rules/syria/facts.yaml

DAY = "2024-06-01"
DESERTER = {"country_of_origin": "sy", "sex": "male", "military_status": "deserter",
            "force": "armed_forces",
            "rank": "officer", "desertion_date": "2016-08", "desertion_type": "external",
            "fought_against_government": "false", "reconciliation_status": "none",
            "conscientious_objection": "religious", "exclusion_indicators": "none",
            # the armed groups he belonged to: joining an opposition armed group is a COI
            # circumstance (issue 24)
            "armed_groups": "none",
            # the circumstances the COI links to treatment (issue 14); an external escape
            # answers left_syria_after_desertion by itself, and no return to service leaves
            # no second desertion to ask about
            "non_armed_opposition_activity": "no", "suspected_opposition_sympathy": "N",
            "from_reconciled_area": "false", "returned_to_service": "  No ",
            "family_targeted": "false", "prior_measures": "none",
            "charged_under_antiterrorism_law": "false"}


# Interviews without --output keep their draft in the current folder: run them in a
# folder of their own, never in the checkout.
WORK = tempfile.mkdtemp(prefix="riskassess-interview-")


def spawn(*args: str) -> pexpect.spawn:
    return spawn_tool("interview", *args, env=tool_env(COLUMNS="120", NO_COLOR="1"),
                      dimensions=(50, 120), cwd=WORK)


def drive(child: pexpect.spawn, answers: dict[str, str], script: list[str] | None = None
          ) -> list[str]:
    """Answer each question from `answers` (or the next line of `script`); return the facts
    asked, in order."""
    asked = []
    script = list(script or [])
    while True:
        i = child.expect([r"\napplicant\.(\w+): ", r"No open question remains"])
        if i == 1:
            child.expect(r"question\(s\) asked")
            return asked
        fact = child.match.group(1)
        asked.append(fact)
        child.expect("> ")
        child.sendline(script.pop(0) if script else answers.get(fact, UNKNOWN))


def answer_country(child: pexpect.spawn, code: str = "SY") -> None:
    child.expect("applicant.country_of_origin: ")
    child.expect("> ")
    child.sendline(code)


def test_an_in_profile_deserter(tmp_path):
    out = tmp_path / "case.yaml"
    child = spawn("--date", DAY, "--case-id", "IV-1", "-o", str(out))
    asked = drive(child, DESERTER)
    child.expect("Persecution: the acts qualify as persecution")  # the glance, then reasons
    child.expect("Step 1. Do the acts qualify as persecution")
    child.expect(f"wrote {out}")
    child.expect(pexpect.EOF)
    # the country first (the guidance's scope: another country is not assessed at all), then
    # the status (it decides every question); desertion_date is never asked: no 2024 rule
    # reads it
    assert asked[:2] == ["country_of_origin", "military_status"]
    assert "desertion_date" not in asked
    assert sorted(asked) == sorted(k for k in DESERTER if k != "desertion_date")
    case = load_case(out, VOCAB)
    assert case.case_id == "IV-1" and case.applicant.rank == "officer"
    assert case.applicant.country_of_origin == "SY"  # typed in small letters
    assert case.applicant.conscientious_objection == "religious"
    assert case.applicant.exclusion_indicators == []
    assert case.applicant.desertion_date == UNKNOWN
    # yes and no read as a person says them (no, N, "  No ")
    assert case.applicant.non_armed_opposition_activity is False
    assert case.applicant.suspected_opposition_sympathy is False
    assert case.applicant.returned_to_service is False
    # each key carries its meaning as a comment
    text = out.read_text()
    assert "  # The rank or kind of service held when he left.\n  rank: officer" in text


def test_a_draft_evader_leaves_the_profile_after_the_country_and_one_question(tmp_path):
    child = spawn("--date", DAY)
    asked = drive(child, {"country_of_origin": "SY", "military_status": "draft_evader",
                          "exclusion_indicators": "none"})
    child.expect("Applicability: outside the profile")
    child.expect("its own profile for draft evaders")
    child.expect(r"military_status: draft_evader")
    child.expect(pexpect.EOF)
    # exclusion is not bound to the profile (issue 24): its indicators are still asked
    assert asked == ["country_of_origin", "military_status", "exclusion_indicators"]


def test_unknown_facts_are_accepted_and_not_asked_again(tmp_path):
    out = tmp_path / "case.yaml"
    child = spawn("--date", DAY, "-o", str(out))
    answers = {"country_of_origin": "SY", "military_status": "deserter",
               "sex": "male"}  # everything else: unknown
    asked = drive(child, answers)
    child.expect("Still to be established: ")
    child.expect(pexpect.EOF)
    assert len(asked) == len(set(asked))  # nothing asked twice
    case = load_case(out, VOCAB)
    assert case.applicant.rank == UNKNOWN and case.applicant.force == UNKNOWN
    report = run_cli("evaluate", str(out), "--format", "json").out
    assert '"fact": "applicant.rank"' in report  # still open: it was answered unknown


def test_back_invalid_answers_and_stop(tmp_path):
    out = tmp_path / "case.yaml"
    child = spawn("--date", DAY, "-o", str(out))
    answer_country(child)
    child.expect("applicant.military_status: ")
    child.expect("> ")
    child.sendline("soldier")
    # refused in the words a case file with the same value gets, which say what is allowed
    refused = case_file_problem(tmp_path, "military_status", "soldier")
    assert refused.startswith("'soldier' is not an allowed value (allowed: ")
    child.expect_exact("not accepted: " + refused)
    child.expect("> ")
    child.sendline("deserter")
    child.expect(r"\napplicant\.(\w+): ")
    child.expect("> ")
    child.sendline("back")
    child.expect("back to applicant.military_status")
    child.expect("applicant.military_status: ")
    child.expect("> ")
    child.sendline("never_served")
    # exclusion is not bound to the profile (issue 24): its indicators are still asked
    child.expect("applicant.exclusion_indicators: ")
    child.expect("> ")
    child.sendline("none")
    child.expect(r"question\(s\) asked")
    child.expect(pexpect.EOF)
    assert load_case(out, VOCAB).applicant.military_status == "never_served"
    stopped = spawn("--date", DAY)
    stopped.expect("> ")
    stopped.sendline("stop")
    stopped.expect("Stopped")
    stopped.expect(pexpect.EOF)


def test_resume_asks_only_what_is_open_and_confirms_before_replacing(tmp_path):
    out = tmp_path / "case.yaml"
    out.write_text("assessment_date: 2024-06-01\napplicant:\n  military_status: deserter\n"
                   "  sex: male\n  force: armed_forces\n  rank: conscript\n", encoding="utf-8")
    before = out.read_text()
    child = spawn("--from", str(out), "-o", str(out))
    answers = {"desertion_type": "internal", "fought_against_government": "false",
               "reconciliation_status": "settled", "conscientious_objection": "none",
               "exclusion_indicators": "none",
               # facts added by issue 14: an internal escape leaves open whether he left later,
               # and the circumstances the COI links to treatment are asked inside the profile
               "left_syria_after_desertion": "true", "non_armed_opposition_activity": "false",
               "suspected_opposition_sympathy": "false", "from_reconciled_area": "true",
               "returned_to_service": "true", "deserted_again": "false",
               "family_targeted": "false", "prior_measures": "none",
               "charged_under_antiterrorism_law": "false", "armed_groups": "none",
               # the file names no country: that is asked too (first)
               "country_of_origin": "SY"}
    asked = drive(child, answers)
    assert set(asked) == set(answers) and asked[0] == "country_of_origin"
    child.expect("exists; replace it")
    child.sendline("n")
    child.expect("not replaced")
    child.expect(pexpect.EOF)
    assert out.read_text() == before
    # declining kept the answers in the draft, which a new interview on the same output
    # refuses to overwrite: it points to --from
    draft = tmp_path / "case.yaml.draft"
    assert load_case(draft, VOCAB).applicant.reconciliation_status == "settled"
    blocked = spawn("--from", str(out), "-o", str(out), "--force")
    blocked.expect(f"resume it with --from {draft}")
    blocked.expect(pexpect.EOF)
    again = spawn("--from", str(draft), "-o", str(out), "--force")
    again.expect(r"question\(s\) asked")  # nothing left to ask
    again.expect(pexpect.EOF)
    assert load_case(out, VOCAB).applicant.reconciliation_status == "settled"
    assert not draft.exists()


def case_file_problem(tmp_path, key: str, value: str, day: str = DAY) -> str:
    """The message `evaluate` gives for a case file with one fact's value refused."""
    bad = tmp_path / f"bad-{key}.yaml"
    others = "" if key == "military_status" else "  military_status: deserter\n"
    bad.write_text(f"assessment_date: {day}\napplicant:\n{others}  {key}: {value}\n",
                   encoding="utf-8")
    r = run_cli("evaluate", str(bad))
    assert r.code == ExitCode.INVALID_INPUT, r.err
    return r.err.split(f"applicant.{key}: ", 1)[1].splitlines()[0]


def test_a_refused_answer_says_why_in_a_refused_case_files_words(tmp_path):
    """An answer is checked as a case file is: by the case model and by the vocabulary's
    constraints (a date after the assessment date), in the same words."""
    from riskassess.errors import CaseFileError
    from riskassess.teach.interview import refusal

    catalog, _ = load_catalog(RULES)
    session = Interview(catalog, RULES, dt.date(2024, 6, 1))
    spec = FACTS["applicant.desertion_date"]
    for typed in ("1850", "2023-13", "2025-03", "soon"):
        try:
            session.case({"military_status": "deserter", "desertion_date": typed})
        except CaseFileError as exc:
            said = refusal(exc, spec)
        else:
            raise AssertionError(f"{typed} was accepted")
        assert said == case_file_problem(tmp_path, "desertion_date", f'"{typed}"'), typed
    assert said.startswith("'soon'") and "YYYY" in said  # what is allowed
    spec = FACTS["applicant.exclusion_indicators"]
    try:
        session.case({"exclusion_indicators": ["senior_command_role", "spying"]})
    except CaseFileError as exc:
        said = refusal(exc, spec)
    assert said.startswith("'spying' is not an allowed value (allowed: ") and \
        "senior_command_role" in said


def test_an_answer_typed_is_not_given_a_files_yaml_hints(tmp_path):
    """At a prompt `y` is not YAML: the case file's hint about YAML 1.1 words is left out."""
    catalog, _ = load_catalog(RULES)
    session = Interview(catalog, RULES, dt.date(2024, 6, 1))
    from riskassess.errors import CaseFileError
    from riskassess.teach.interview import refusal

    try:
        session.case({"force": "y"})
    except CaseFileError as exc:
        said = refusal(exc, FACTS["applicant.force"])
    assert said.startswith("'y' is not an allowed value (allowed: ") and "YAML" not in said
    assert "YAML 1.1" in case_file_problem(tmp_path, "force", "y")


def test_questions_wrap_at_words_to_the_terminals_width(tmp_path):
    child = spawn_tool("interview", "--date", DAY, env=tool_env(COLUMNS="50", NO_COLOR="1"),
                       dimensions=(40, 50), cwd=WORK)
    answer_country(child)
    child.expect("applicant.military_status: ")
    child.expect("> ")
    shown = child.before
    description = FACTS["applicant.military_status"].description
    assert len(description) > 200  # long enough to need several lines
    assert max(len(line) for line in shown.splitlines()) <= 50
    assert len(shown.splitlines()) > 5
    # no word broken: the lines joined by blanks give the description back whole
    assert " ".join(description.split()) in " ".join(shown.split())
    child.sendline("a soldier who left without leave")
    child.expect("> ")
    refused = child.before.splitlines()
    assert max(len(line) for line in refused) <= 50 and len(refused) > 2
    child.sendline("stop")
    child.expect(pexpect.EOF)
    child.close()


def test_resumed_facts_that_cannot_hold_on_the_date_are_refused_before_any_question(tmp_path):
    resumed = tmp_path / "case.yaml"
    resumed.write_text("assessment_date: 2024-06-01\napplicant:\n  military_status: deserter\n"
                       "  desertion_date: 2024-05\n", encoding="utf-8")
    child = spawn("--from", str(resumed), "--date", "2024-04-20")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.USAGE
    assert "applicant.desertion_date: '2024-05' is after the assessment_date 2024-04-20" \
        in child.before
    assert "--case-id" not in child.before and "> " not in child.before


def test_without_a_terminal_it_says_so():
    r = run_cli("interview")
    assert r.code == ExitCode.USAGE and "there is none" in r.err


def test_the_written_file_loads_back_identically(tmp_path):
    catalog, _ = load_catalog(RULES)
    session = Interview(catalog, RULES, dt.date(2024, 6, 1), "IV-9", answers={
        "military_status": "defector", "desertion_date": "2013",
        "exclusion_indicators": ["senior_command_role"], "fought_against_government": True})
    case = session.case()
    text = to_yaml(case)
    # read back with the vocabulary it was written with (RULES is the checkout's; the
    # installed package's shipped copy builds a model class of its own)
    assert load_case_text(text, session.vocabulary) == case


def load_case_text(text: str, vocab):
    from riskassess.law.case import case_from_document

    return case_from_document(parse_yaml_text(text, "written.yaml"), vocab)


def test_the_number_of_questions_is_the_minimum_the_rules_require():
    """A fact that is open even when every other fact is known must be asked by any
    strategy. For the deserter path every fact asked is such a fact; for the draft evader
    only the exclusion indicators can change anything once his status is known (exclusion
    is not bound to the profile)."""
    catalog, _ = load_catalog(RULES)
    day = dt.date(2024, 6, 1)
    full = {"sex": "male", "military_status": "deserter", "force": "armed_forces",
            "rank": "officer", "desertion_type": "external", "fought_against_government": False,
            "reconciliation_status": "none", "conscientious_objection": "religious",
            "exclusion_indicators": []}
    required = []
    for key in full:
        others = {k: v for k, v in full.items() if k != key}
        report, _ = Interview(catalog, RULES, day, answers=others).assess()
        if any(q.fact == f"applicant.{key}" for q in report.open_questions):
            required.append(key)
    assert sorted(required) == sorted(full)  # all nine must be asked: the interview asks nine
    evader, _ = Interview(catalog, RULES, day, answers={"military_status": "draft_evader"}
                          ).assess()
    assert [q.fact for q in evader.open_questions] == ["applicant.exclusion_indicators"]
    evader, _ = Interview(catalog, RULES, day, answers={"military_status": "draft_evader",
                                                        "exclusion_indicators": []}).assess()
    assert evader.open_questions == []  # after these two answers nothing is left to ask
    first = Interview(catalog, RULES, day).next_fact()
    assert first == VOCAB.scope.fact  # the country: no rule reads it, the scope needs it
    first = Interview(catalog, RULES, day, answers={"country_of_origin": "SY"}).next_fact()
    assert first == "applicant.military_status"
    assert re.match(r"applicant\.\w+", first) and first in FACTS


# ------------------------------------------------------------- nothing typed is lost


def test_output_folder_is_checked_before_the_first_question(tmp_path):
    child = spawn("--date", DAY, "-o", str(tmp_path / "no-such-folder" / "case.yaml"))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.USAGE
    assert "does not exist" in child.before and "applicant." not in child.before


def _answer(child: pexpect.spawn, answers: dict[str, str], count: int) -> list[str]:
    asked = []
    for _ in range(count):
        child.expect(r"\napplicant\.(\w+): ")
        fact = child.match.group(1)
        asked.append(fact)
        child.expect("> ")
        child.sendline(answers[fact])
    return asked


def test_ctrl_c_keeps_every_answer_in_a_draft_and_from_resumes_it(tmp_path):
    out = tmp_path / "case.yaml"
    draft = tmp_path / "case.yaml.draft"
    answers = {**DESERTER, "rank": "unknown"}
    child = spawn("--date", DAY, "--case-id", "IV-7", "-o", str(out))
    first = _answer(child, answers, 4)
    child.expect(r"\napplicant\.(\w+): ")
    child.expect("> ")
    child.sendintr()  # Ctrl-C at the fifth question
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.INTERRUPTED
    assert f"kept in {draft}" in child.before and not out.exists()
    kept = load_case(draft, VOCAB)
    assert kept.case_id == "IV-7" and str(kept.assessment_date) == DAY
    given = {k: v for k, v in kept.applicant.model_dump().items() if v != UNKNOWN}
    expected = {k: answers[k] for k in first if answers[k] != UNKNOWN}
    assert {k: str(v).lower() for k, v in given.items()} == \
        {k: v.lower() for k, v in expected.items()}
    # resuming asks none of the questions answered before, not even one answered unknown
    again = spawn("--from", str(draft), "-o", str(out))
    rest = drive(again, answers)
    again.expect(pexpect.EOF)
    assert not set(rest) & set(first)
    assert sorted(first + rest) == sorted(k for k in DESERTER if k != "desertion_date")
    assert load_case(out, VOCAB).applicant.conscientious_objection == "religious"
    assert not draft.exists()  # finished: the draft has served its purpose


def test_ctrl_d_keeps_the_answers_too_and_an_old_draft_is_never_overwritten(tmp_path):
    out = tmp_path / "case.yaml"
    draft = tmp_path / "case.yaml.draft"
    child = spawn("--date", DAY, "-o", str(out))
    _answer(child, DESERTER, 2)
    child.expect("> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.INTERRUPTED and draft.exists()
    before = draft.read_bytes()
    fresh = spawn("--date", DAY, "-o", str(out))  # a new interview, same output
    fresh.expect(pexpect.EOF)
    fresh.close()
    assert fresh.exitstatus == ExitCode.USAGE and "--from" in fresh.before
    assert draft.read_bytes() == before


def test_answers_in_any_case_and_a_refused_date_says_why(tmp_path):
    out = tmp_path / "case.yaml"
    child = spawn("--date", "2026-03-01", "-o", str(out))
    answer_country(child)
    child.expect("applicant.military_status: ")
    child.expect("> ")
    child.sendline("Deserter")
    while child.expect([r"\napplicant\.(\w+): ", r"question\(s\) asked"]) == 0:
        child.expect("> ")
        child.sendline("UNKNOWN")
    child.expect(pexpect.EOF)
    assert load_case(out, VOCAB).applicant.military_status == "deserter"
    # No rule of the shipped editions makes the interview ask a date today, so the
    # message for a refused date is checked on the answer check the prompt uses.
    from riskassess.errors import CaseFileError
    from riskassess.teach.interview import refusal

    catalog, _ = load_catalog(RULES)
    session = Interview(catalog, RULES, dt.date(2026, 3, 1))
    try:
        session.case({"military_status": "deserter", "desertion_date": "2024-02-30"})
    except CaseFileError as exc:
        assert refusal(exc, FACTS["applicant.desertion_date"]) == \
            "'2024-02-30': day 30 does not exist in 2024-02"
    else:
        raise AssertionError("2024-02-30 was accepted")


def test_date_option_errors_name_the_option_and_the_interview_has_no_ruleset_option(tmp_path):
    bad = spawn("--date", "2025-02-30")
    bad.expect(pexpect.EOF)
    bad.close()
    assert bad.exitstatus == ExitCode.USAGE
    assert "--date" in bad.before and "--today" not in bad.before
    interim = spawn("--date", "2025-08-01")
    interim.expect(pexpect.EOF)
    interim.close()
    assert interim.exitstatus == ExitCode.NO_ENCODED_EDITION
    assert "--ruleset" not in interim.before and "--date" in interim.before


def test_an_applicant_from_another_country_stops_the_interview_and_keeps_the_answer(tmp_path):
    out = tmp_path / "case.yaml"
    child = spawn("--date", DAY, "-o", str(out))
    answer_country(child, "iq")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.OUT_OF_SCOPE
    assert "IQ" in child.before and "applicant.military_status" not in child.before
    assert load_case(tmp_path / "case.yaml.draft", VOCAB).applicant.country_of_origin == "IQ"


def test_ctrl_c_at_a_prompt_always_ends_the_interview():
    """A Ctrl-C that comes at any moment around a prompt ends the interview (exit 130),
    also when the tests run in the background, where a shell leaves Ctrl-C ignored and every
    child would inherit that (conftest.spawn_tool restores it). Each try sends it at another
    moment after the prompt appears."""
    for delay in (0.0, 0.001, 0.003, 0.01, 0.03, 0.0, 0.0, 0.002):
        child = spawn("--date", DAY)
        child.timeout = 20  # a hang, not a slow machine: each run ends in well under this
        child.expect("> ")
        time.sleep(delay)
        child.sendintr()
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == ExitCode.INTERRUPTED, (delay, child.before)
