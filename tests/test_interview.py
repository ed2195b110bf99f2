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
    assert said.startswith("'y' is not an allowed value (allowed: ") and "as text" not in said
    assert "write false (yes/no/on/off are read as text" in case_file_problem(
        tmp_path, "fought_against_government", "n")


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


# ----------------------------------------------------------------- issue points 9 to 11

def test_a_date_no_case_file_can_hold_is_refused_before_the_first_question(tmp_path):
    """--date obeys the rule of the case file's assessment_date: a typo such as 2205 once
    ran the whole interview, wrote the file and exited 0, and evaluate then refused it."""
    for day in ("9999-12-31", "2205-01-10", "1850-06-01"):
        out = tmp_path / "case.yaml"
        child = spawn("--date", day, "-o", str(out))
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == ExitCode.USAGE, child.before
        said = " ".join(child.before.split())
        assert f"Invalid value for --date: '{day}': year {day[:4]} is outside 1900-2100" in said
        assert "applicant." not in said and "None" not in said  # no question; no "None (...)"
        assert not out.exists() and not (tmp_path / "case.yaml.draft").exists()


def test_options_are_checked_before_the_terminal_is(tmp_path):
    import subprocess

    from conftest import TOOL

    for args, said in ((["--date", "2024-02-30"], "day 30 does not exist in 2024-02"),
                       (["--case-id", "has spaces"], "is not a valid reference")):
        r = subprocess.run([*TOOL, "interview", *args], env=tool_env(), capture_output=True,
                           text=True, stdin=subprocess.DEVNULL, timeout=60)
        assert r.returncode == ExitCode.USAGE and said in r.stderr, r.stderr


COMMENTED = """\
# Client interviewed on 3 May; notes by A.B.
format: 1
assessment_date: 2024-06-01   # the hearing date
applicant:
  country_of_origin: SY
  # he said so twice, once in writing
  military_status: deserter  # confirmed by his service booklet
  sex: male
  exclusion_indicators:
    - senior_command_role   # to be checked with the unit's records
# still to ask: the name of the unit
"""


def _resume_all_unknown(child: pexpect.spawn, reply: str = "y") -> str:
    """Answer every question unknown, then `reply` to "replace it?"; what was said there."""
    while child.expect([r"\napplicant\.(\w+): ", r"replace it"]) == 0:
        child.expect("> ")
        child.sendline("unknown")
    child.expect(r"\[y/N\] ")
    asked = child.before
    child.sendline(reply)
    child.expect(pexpect.EOF)
    return asked + child.before


def test_resuming_a_file_into_itself_keeps_the_caseworkers_comments_where_they_were(tmp_path):
    out = tmp_path / "case.yaml"
    out.write_text(COMMENTED, encoding="utf-8")
    child = spawn("--from", str(out), "-o", str(out))
    said = _resume_all_unknown(child)
    assert "your 6 comment line(s) are carried over" in said
    text = out.read_text(encoding="utf-8")
    lines = text.splitlines()
    # each where it was: above the key, after the value, at the top and at the end
    top = lines.index("# Client interviewed on 3 May; notes by A.B.")
    assert lines[top + 1] == "format: 1"
    assert "assessment_date: 2024-06-01  # the hearing date" in lines
    status = lines.index("  military_status: deserter  # confirmed by his service booklet")
    assert lines[status - 1] == "  # he said so twice, once in writing"
    assert ("  exclusion_indicators: [senior_command_role]  # to be checked with the unit's "
            "records") in lines
    assert lines[-1] == "# still to ask: the name of the unit"
    assert load_case(out, VOCAB).applicant.military_status == "deserter"
    assert not list(tmp_path.glob("case.yaml~*")) and not (tmp_path / "case.yaml.draft").exists()
    # resumed once more, nothing is doubled
    again = spawn("--from", str(out), "-o", str(out))
    _resume_all_unknown(again)
    assert out.read_text(encoding="utf-8") == text


def test_a_replaced_file_whose_comments_would_be_lost_is_kept_beside_it(tmp_path):
    source, out = tmp_path / "source.yaml", tmp_path / "case.yaml"
    source.write_text("assessment_date: 2024-06-01\napplicant:\n  military_status: deserter\n",
                      encoding="utf-8")
    out.write_text(COMMENTED, encoding="utf-8")
    (tmp_path / "case.yaml~").write_text("an earlier backup\n", encoding="utf-8")
    child = spawn("--from", str(source), "-o", str(out))
    said = " ".join(_resume_all_unknown(child).split())
    backup = tmp_path / "case.yaml.~1~"
    assert f"the old one is kept as {backup}" in said
    assert f"the file it replaced is kept as {backup}" in said
    assert backup.read_text(encoding="utf-8") == COMMENTED  # whole, byte for byte
    assert (tmp_path / "case.yaml~").read_text() == "an earlier backup\n"  # never replaced
    assert "notes by A.B." not in out.read_text(encoding="utf-8")


def test_escape_sequences_typed_or_given_are_shown_escaped_never_sent_to_the_terminal(tmp_path):
    """A refused answer, or reference, is shown with its control characters escaped: typed
    raw they would clear the screen, colour the text or retitle the terminal."""
    hostile = "\x1b[2J\x1b]0;pwned\x07\x1b[31m"
    given = spawn_tool("interview", "--date", DAY, "--case-id", hostile + "A-1",
                       env=tool_env(COLUMNS="120", NO_COLOR="1", TERM="dumb"),
                       dimensions=(50, 120), cwd=WORK)
    given.expect(pexpect.EOF)
    assert "\x1b" not in given.before and "\x07" not in given.before
    assert "\\x1b[2J\\x1b]0;pwned\\x07" in given.before
    child = spawn("--date", DAY, "-o", str(tmp_path / "case.yaml"))  # its draft there
    child.expect("applicant.country_of_origin: ")
    child.expect("> ")
    child.sendline(hostile + "SY")
    child.expect("not accepted: ")
    child.expect("> ")
    child.sendline("SY")
    child.expect("applicant.military_status: ")
    child.expect("> ")
    child.sendline(hostile + "deserter")
    child.expect("not accepted: ")
    child.expect("> ")
    shown = child.before
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    # the terminal's own echo of what was typed shows ESC as ^[ (ECHOCTL); the tool's words
    # carry none
    assert "\x1b" not in shown and "\x07" not in shown
    assert "\\x1b[2J" in shown


def test_a_refused_answer_that_clashes_with_another_is_refused_once_and_escaped():
    """An answer refused on its own is not refused again as a clash with another fact (a
    knock-on, which echoed it raw)."""
    from riskassess.errors import CaseFileError
    from riskassess.teach.interview import refusal

    catalog, _ = load_catalog(RULES)
    session = Interview(catalog, RULES, dt.date(2024, 6, 1))
    for key, status in (("desertion_type", "never_served"), ("desertion_date", "draft_evader")):
        try:
            session.case({"military_status": status, key: "\x1b[2J\x1b]0;t\x07"})
        except CaseFileError as exc:
            assert len([p for p in exc.problems if p.path == f"applicant.{key}"]) == 1
            said = refusal(exc, FACTS[f"applicant.{key}"])
        assert "\x1b" not in said and "\x07" not in said and "cannot be given" not in said


def test_ctrl_c_at_the_final_replace_question_keeps_everything_and_exits_130(tmp_path):
    """Ctrl-C at "replace it? [y/N]" used to count as "no" and exit 0, so a script took the
    interview for finished. It is an interruption: the file stays as it was, the case file
    is shown, the answers stay in the draft, and the exit code is 130."""
    out = tmp_path / "case.yaml"
    out.write_text(COMMENTED, encoding="utf-8")
    child = spawn("--from", str(out), "-o", str(out))
    child.timeout = 60
    while child.expect([r"\napplicant\.(\w+): ", r"replace it"]) == 0:
        child.expect("> ")
        child.sendline("unknown")
    child.expect(r"\[y/N\] ")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.INTERRUPTED, child.before
    said = " ".join(child.before.split())
    assert "not replaced" in said and "military_status: deserter" in said
    assert "interview --from" in said
    assert out.read_text(encoding="utf-8") == COMMENTED
    assert (tmp_path / "case.yaml.draft").exists()
