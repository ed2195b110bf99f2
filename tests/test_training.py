"""Trainers: the scenario library, `examples list|show|run|vary`, and the `train` quiz."""

from __future__ import annotations

import shutil
from pathlib import Path

import pexpect
import pytest
from conftest import EXAMPLES, run_cli, spawn_tool, tool_env

from riskassess.errors import ExitCode
from riskassess.law.scenarios import load_scenarios
from riskassess.teach.training import grade, model_answer

SCENARIOS = load_scenarios(EXAMPLES)
RIGHT = ("persecution: qualifies\n"
         "bases: [art_9_1_severe_acts, art_9_2_e, art_9_1_conscientious_objection]\n"
         "risk: substantiated_in_general\n"
         "grounds: [political_opinion, religion]\n"
         "exclusion: could_be_relevant\n")


def test_the_library_has_at_least_twenty_scenarios_across_both_editions():
    assert len(SCENARIOS) >= 20
    editions = {s.meta.expected.ruleset for s in SCENARIOS}
    assert editions == {"euaa-syria-2024", "euaa-syria-2025-12"}
    for s in SCENARIOS:
        assert s.meta.based_on and s.meta.summary and len(s.meta.narrative.split()) >= 15


def test_examples_list_and_show():
    r = run_cli("examples", "list")
    assert r.code == 0
    assert r.out.count("[euaa-syria-") == len(SCENARIOS)
    shown = run_cli("examples", "show", "police-captain-2012")
    assert shown.code == 0
    for part in ("police captain who walked away", "applicant.force = police",
                 "[sd.bodies-delivered]", "Model answer:",
                 "applicability: individual_assessment"):
        assert part in shown.out
    assert run_cli("examples", "show", "police-captain").code == ExitCode.USAGE


def test_examples_run_all_passes():
    r = run_cli("examples", "run", "--all")
    assert r.code == 0, r.out
    assert r.out.count("PASS  ") == len(SCENARIOS)
    assert f"{len(SCENARIOS)} passed, 0 failed" in r.out


def test_examples_run_reports_a_failure(tmp_path):
    folder = tmp_path / "examples"
    folder.mkdir()
    for name in ("officer-fled-abroad.yaml", "officer-fled-abroad.expected.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    sidecar = folder / "officer-fled-abroad.expected.yaml"
    text = sidecar.read_text()
    assert "enhancing_factors: [external_desertion, left_syria_after_desertion]" in text
    sidecar.write_text(text.replace(
        "enhancing_factors: [external_desertion, left_syria_after_desertion]",
        "enhancing_factors: [external_desertion]"))
    r = run_cli("examples", "run", "officer-fled-abroad", "--examples", str(folder))
    assert r.code == ExitCode.FINDINGS
    assert "FAIL  officer-fled-abroad" in r.out
    assert "risk.enhancing_factors: expected ['external_desertion'], got" in r.out


def test_examples_vary_uses_the_engine():
    # The COI ties rank to the treatment of defectors (issue 24): a defector's rank counts
    r = run_cli("examples", "vary", "defector-designated-group", "--fact",
                "applicant.rank=conscript")
    assert r.code == 0
    assert ("officer_rank is no longer among the circumstances the country information links "
            "to treatment") in r.out
    r = run_cli("examples", "vary", "religious-objector", "--fact", "applicant.rank=officer")
    assert r.code == 0
    assert "officer_rank" not in r.out  # ... and a deserter's does not
    # The Art. 9(1) objector finding concerns service under conscription: an officer loses it.
    assert "persecution: qualifies -> qualifies (same outcome; lists CHANGED)" in r.out
    assert "art_9_1_conscientious_objection is no longer among the bases" in r.out
    dated = run_cli("examples", "vary", "deserter-2026", "--fact", "assessment_date=2024-06-01")
    assert "edition: euaa-syria-2025-12 -> euaa-syria-2024" in dated.out
    assert "persecution: no_acts_reported -> qualifies (CHANGED)" in dated.out
    listed = run_cli("examples", "vary", "officer-fled-abroad", "--fact",
                     "applicant.exclusion_indicators=[senior_command_role]")
    assert "exclusion: could_be_relevant -> examination_indicated (CHANGED)" in listed.out
    bad = run_cli("examples", "vary", "deserter-2026", "--fact", "applicant.rank=general")
    assert bad.code == ExitCode.USAGE and "'general' is not an allowed value" in bad.err
    assert run_cli("examples", "vary", "deserter-2026", "--fact", "rank").code == ExitCode.USAGE


# ------------------------------------------------------------------ grading


def test_grading_right_wrong_and_partial_answers():
    scenario = next(s for s in SCENARIOS if s.id == "religious-objector")
    model = model_answer(scenario)
    assert sum(m.points for m in grade(model, model)) == 5
    partial = {**model, "bases": ["art_9_1_severe_acts", "art_9_2_e"],
               "grounds": ["political_opinion", "race"], "risk": "individual_assessment"}
    marks = {m.item: m for m in grade(partial, model)}
    assert marks["bases"].points == pytest.approx(2 / 3, abs=0.01)
    assert marks["bases"].comment == "partly right: missing art_9_1_conscientious_objection"
    assert marks["grounds"].points == pytest.approx(1 / 3, abs=0.01)
    assert "not supported: race" in marks["grounds"].comment
    assert marks["risk"].points == 0 and "substantiated_in_general" in marks["risk"].comment
    nothing = grade({**model, "bases": [], "grounds": []}, model)
    assert [m.points for m in nothing][1] == 0


@pytest.fixture
def answers(tmp_path: Path):
    def write(text: str) -> str:
        path = tmp_path / "answers.yaml"
        path.write_text(text, encoding="utf-8")
        return str(path)
    return write


def test_train_grades_an_answers_file(answers):
    r = run_cli("train", "religious-objector", "--answers", answers(RIGHT))
    assert r.code == 0, r.err
    assert "Score: 5 / 5" in r.out
    assert "Model answer, with the reasoning" in r.out and "[cg24.concl.nexus]" in r.out


def test_the_score_comes_last_after_the_long_model_answer(answers):
    """The model answer runs to hundreds of lines: the marks and the score follow it, so
    that they are on screen when it has scrolled by."""
    r = run_cli("train", "religious-objector", "--answers", answers(RIGHT))
    lines = r.out.rstrip("\n").split("\n")
    assert lines[-1] == "Score: 5 / 5"
    model = lines.index("Model answer, with the reasoning and the paragraphs it rests on:")
    marks = lines.index("Your answers against the model answer:")
    cited = next(i for i, line in enumerate(lines) if line.startswith("Cited paragraphs"))
    assert model < cited < marks and len(lines) - marks <= 12
    assert marks - model > 100  # the long model answer really is above the score


def test_an_answers_file_is_read_as_the_interview_reads_answers(answers):
    """Any case, blanks around a value, an outcome by its label, a list as text."""
    text = ("persecution: QUALIFIES\n"
            "bases: ' Art_9_1_Severe_Acts, art_9_2_e ,art 9 1 conscientious objection'\n"
            "risk: Well-founded fear in general substantiated\n"
            "grounds: [Political_Opinion, religion]\n"
            "exclusion: ' could be relevant '\n")
    r = run_cli("train", "religious-objector", "--answers", answers(text))
    assert r.code == 0, r.err
    assert "Score: 5 / 5" in r.out


def test_train_grades_wrong_and_partial_answers(answers):
    text = RIGHT.replace("grounds: [political_opinion, religion]", "grounds: [political_opinion]")
    text = text.replace("persecution: qualifies", "persecution: does_not_qualify")
    r = run_cli("train", "religious-objector", "--answers", answers(text))
    assert r.code == 0
    assert "persecution  0.00" in r.out and "grounds      0.50" in r.out
    assert "Score: 3.5 / 5" in r.out


def test_answers_file_may_name_its_scenario(answers):
    r = run_cli("train", "--answers", answers("scenario: draft-evader\npersecution: not_assessed\n"
                                              "bases: none\nrisk: not_assessed\ngrounds: []\n"
                                              "exclusion: not_assessed\n"))
    assert "Scenario draft-evader" in r.out and "Score: 5 / 5" in r.out


def test_a_bad_answers_file_is_refused_with_locations(answers):
    path = answers("persecution: maybe\nbases: [art_9_9]\nriks: substantiated_in_general\n"
                   "grounds: [political_opinion]\n")
    r = run_cli("train", "religious-objector", "--answers", path)
    assert r.code == ExitCode.INVALID_INPUT
    assert f"{path}:1:14: persecution: 'maybe' is not an allowed value (allowed: qualifies, " \
        in r.err
    assert f"{path}:2:8: bases: 'art_9_9' is not an allowed value" in r.err
    assert f"{path}:3:1: riks: unknown key 'riks'" in r.err
    assert "missing answer 'risk'" in r.err and "missing answer 'exclusion'" in r.err


def test_random_is_repeatable_with_a_seed(answers):
    path = answers(RIGHT)
    first = run_cli("train", "--random", "--seed", "7", "--answers", path).out.splitlines()[0]
    second = run_cli("train", "--random", "--seed", "7", "--answers", path).out.splitlines()[0]
    assert first == second and first.startswith("Scenario ")


def test_train_without_a_terminal_says_so_instead_of_hanging():
    r = run_cli("train", "religious-objector")
    assert r.code == ExitCode.USAGE
    assert "there is none" in r.err and "--answers" in r.err


# ------------------------------------------------------------ the interactive quiz


def spawn(*args: str) -> pexpect.spawn:
    env = tool_env(COLUMNS="120", NO_COLOR="1")
    return spawn_tool("train", *args, env=env, dimensions=(50, 120))


def test_quiz_end_to_end_through_a_pseudo_terminal():
    child = spawn("religious-objector")
    child.expect("Scenario religious-objector")
    child.expect("Facts given:")
    child.expect("Step 1. Do the acts qualify as persecution")
    child.expect("> ")
    child.sendline("probably")  # not an allowed answer: asked again, in a case file's words
    child.expect(r"'probably' is not an allowed value \(allowed: qualifies, ")
    child.expect("> ")
    child.sendline("qualifies")
    child.expect("Which bases of persecution apply")
    child.expect("> ")
    child.sendline("art_9_1_severe_acts, art_9_2_e")  # partial
    child.expect("Step 2. What is the level of risk")
    child.expect("> ")
    child.sendline("substantiated_in_general")
    child.expect("Step 3. Which nexus grounds apply")
    child.expect("> ")
    child.sendline("political_opinion, religion")
    child.expect("What does the guidance say on exclusion")
    child.expect("> ")
    child.sendline("could_be_relevant")
    child.expect("Model answer, with the reasoning")
    child.expect("Cited paragraphs")
    child.expect(r"bases\s+0\.67")  # the marks and the score last, after the model answer
    child.expect(r"Score: 4\.67 / 5")
    child.expect(pexpect.EOF)
    assert child.before.strip() == ""  # nothing after the score
    child.close()
    assert child.exitstatus == 0


def test_the_quiz_wraps_at_words_to_the_terminals_width():
    child = spawn_tool("train", "religious-objector", dimensions=(40, 50),
                       env=tool_env(COLUMNS="50", NO_COLOR="1"))
    child.expect("> ")
    shown = child.before
    scenario = next(s for s in SCENARIOS if s.id == "religious-objector")
    assert max(len(line) for line in shown.splitlines()) <= 50
    # every word of the narrative whole: the lines joined give the narrative back
    assert " ".join(scenario.meta.narrative.split()) in " ".join(shown.split())
    child.sendline("qualifies, but wrongly")
    child.expect("> ")
    refused = child.before.splitlines()
    assert max(len(line) for line in refused) <= 50 and len(refused) > 2
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()


def test_quiz_random_with_seed_and_abandon():
    child = spawn("--random", "--seed", "3")
    child.expect("Scenario ")
    child.expect("> ")
    child.sendeof()
    child.expect("quiz abandoned")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


def test_an_answers_file_is_graded_only_against_the_scenario_it_answers(answers):
    other = run_cli("train", "religious-objector", "--answers",
                    answers("scenario: draft-evader\npersecution: not_assessed\n"))
    assert other.code == ExitCode.USAGE and "answers scenario 'draft-evader'" in other.err
    unnamed = run_cli("train", "--answers", answers("persecution: not_assessed\n"))
    assert unnamed.code == ExitCode.USAGE and "does not say which scenario" in unnamed.err


def test_quiz_answers_are_read_as_the_interview_reads_them():
    """Any case, blanks around, a value by its code in words or its label, a list with or
    without brackets, 'none' or '[]' for no item; a word that is not allowed is refused (in
    a case file's words) and asked again."""
    from conftest import VOCAB

    from riskassess.teach.training import ask, items, lists

    single = next(i for i in items(VOCAB) if i not in lists(VOCAB))
    listed = next(i for i in items(VOCAB) if i in lists(VOCAB))
    said: list[str] = []

    def quiz(item: str, allowed: list[str], typed: list[str]):
        return ask(item, allowed, lambda prompt: typed.pop(0), said.append, VOCAB)

    both = ["qualifies", "does_not_qualify"]
    assert quiz(single, both, ["QUALIFIES"]) == "qualifies"
    assert quiz(single, both, ["  qualifies  "]) == "qualifies"
    assert quiz(single, both, ["maybe", "Does_Not_Qualify"]) == "does_not_qualify"
    assert quiz(single, both, ["does not qualify"]) == "does_not_qualify"
    label = VOCAB.outcome_labels["does_not_qualify"]
    assert quiz(single, both, [label.upper()]) == "does_not_qualify"  # by its label
    assert "'maybe' is not an allowed value (allowed: qualifies, does_not_qualify)" \
        in "".join(said)
    assert quiz(listed, ["b", "a"], ["[A, B]"]) == ["a", "b"]
    assert quiz(listed, ["b", "a"], ["[]"]) == [] and quiz(listed, ["a"], ["None"]) == []


def test_the_quiz_and_the_interview_share_one_reader_of_answers():
    """What the interview reads a fact's answer as, the quiz reads an outcome's as: one
    reader (teach/typed.py), so any spelling one accepts the other does too."""
    from conftest import VOCAB

    from riskassess.teach.interview import parse
    from riskassess.teach.training import items, lists, read_answer

    single = next(i for i in items(VOCAB) if i not in lists(VOCAB))
    choice = next(s for s in VOCAB.facts.values() if s.kind == "enum")
    value = choice.values[-1]
    for typed in (value.upper(), f"  {value}  ", value.replace("_", " ").title()):
        assert parse(choice, typed) == value
        assert read_answer(single, list(choice.values), typed, VOCAB) == value


def test_a_wrong_scenario_id_is_said_before_the_missing_terminal():
    """Without a terminal, `train WRONG-ID` used to answer only that there is no terminal;
    fixing that, the user then met the real error. The id is checked first."""
    r = run_cli("train", "no-such-scenario")
    assert r.code == 2
    assert "no scenario 'no-such-scenario'" in r.err and "terminal" not in r.err
