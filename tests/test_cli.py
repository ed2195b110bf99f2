"""The command line: help, output formats, exit codes, editions and dates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import jsonschema
import pytest
import typer
from conftest import EXAMPLES, ROOT, RULES, TOOL, run_cli, tool_env

from riskassess.errors import ExitCode
from riskassess.law.ruleset import load_catalog

DEMO = str(EXAMPLES / "daraa-conscript-amnesty.yaml")


def missing_help(app) -> list[str]:
    """Every command, group and option of a typer app (walked through the click tree typer
    builds) that has no help text: a newcomer typing --help must learn what each does."""
    found: list[str] = []

    def walk(command, path: list[str]) -> None:  # typer's click (it may carry its own copy)
        name = " ".join(path) or "riskassess"
        if not (command.help or "").strip():
            found.append(f"{name}: no help")
        for param in command.params:
            helped = (getattr(param, "help", "") or "").strip()
            if param.param_type_name == "option" and not param.hidden and not helped:
                found.append(f"{name} {param.opts[0]}: no help")
            if param.param_type_name == "argument" and not helped:
                found.append(f"{name} {param.name}: no help")
        for sub in sorted(getattr(command, "commands", {})):
            walk(command.commands[sub], [*path, sub])

    walk(typer.main.get_command(app), [])
    return found


def test_every_command_subcommand_option_and_argument_has_help():
    from riskassess.cli.app import app

    assert missing_help(app) == []


def test_the_help_walk_finds_a_command_without_help():
    """The walk above can fail: a command without a docstring, an option and an argument
    without help, in a group, are each found."""
    planted = typer.Typer(help="A tool.")
    group = typer.Typer(help="A group.")
    planted.add_typer(group, name="rules")

    @group.command("list")
    def rules_list(path: Annotated[str, typer.Argument()] = ".",
                   fast: Annotated[bool, typer.Option("--fast")] = False) -> None:
        pass

    @planted.command()
    def evaluate() -> None:
        """Assess a case."""

    assert missing_help(planted) == ["rules list: no help", "rules list path: no help",
                                     "rules list --fast: no help"]


def test_every_command_answers_help(cli):
    from riskassess.cli.app import app

    def paths(command, path: list[str]):
        yield path
        for sub in sorted(getattr(command, "commands", {})):
            yield from paths(command.commands[sub], [*path, sub])

    seen = []
    for path in paths(typer.main.get_command(app), []):
        r = cli(*path, "--help")
        assert r.code == 0 and "Usage:" in r.out, path
        seen.append(path)
    for path in (["serve"], ["schema", "outcomes"], ["rules", "check"], ["train"]):
        assert path in seen  # the walk reaches commands and subcommands


@pytest.mark.parametrize("command", [[], ["evaluate"]], ids=["root", "evaluate"])
def test_help_documents_exit_codes(command):
    text = " ".join(run_cli(*command, "--help").out.split())
    for code in ExitCode:
        assert f"{int(code)} " in text
    assert "invalid input" in text and "not encoded" in text


def test_version():
    r = run_cli("--version")
    assert r.code == 0 and r.out.strip().startswith("riskassess ")


def test_text_report_follows_the_guidance_order():
    r = run_cli("evaluate", DEMO, "--full")
    assert r.code == 0, r.err
    order = ["Guidance applied", "EUAA Country Guidance: Syria (April 2024)", "At a glance",
             "Does the applicant fall within the profile?",
             "Step 1. Do the acts qualify as persecution under Article 9 QD?",
             "Step 2. What is the level of risk", "Step 3. Are the reasons for persecution",
             "\nExclusion\n", "Open questions", "Warnings", "Cited paragraphs"]
    positions = [r.out.index(heading) for heading in order]
    assert positions == sorted(positions)
    # the cited paragraphs show source, exact locator and a one-line gist
    assert "[cg24.concl.risk-amnesty] EUAA CG Syria 2024" in r.out
    assert "[Country Focus 2023, 1.2.7, p. 34]" in r.out
    assert "amnesty_surrender" in r.out.split("Step 2.")[1].split("Step 3.")[0]


def _report_schema() -> dict:
    return json.loads(run_cli("schema", "report").out)


CASE_FILES = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))


@pytest.mark.parametrize("example", CASE_FILES, ids=lambda p: p.name)
def test_json_report_validates_and_keeps_the_contract(example):
    r = run_cli("evaluate", str(example), "--format", "json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    jsonschema.validate(report, _report_schema())
    assert report["format"] == 2 and report["tool"]["name"] == "riskassess"
    for qid in ("applicability", "persecution", "risk", "nexus", "exclusion"):
        for reason in report[qid]["reasons"]:
            assert reason["cites"], reason["rule"]
            for pid in reason["cites"]:
                assert pid in report["citations"]
    if report["applicability"]["outcome"] == "outside_profile":
        for qid in ("persecution", "risk", "nexus"):
            assert report[qid]["outcome"] == "not_assessed"
        # refer_to names the profiles that would apply; where none does (outside the profile
        # only as drafted, e.g. a police deserter under 4.3), the report must say that the
        # extension is for individual assessment instead
        codes = [w["code"] for w in report["warnings"]]
        assert report["applicability"]["refer_to"] or "outside_profile_scope" in codes


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_two_runs_are_byte_identical(fmt):
    case = str(EXAMPLES / "rank-unknown-deserter.yaml")
    first = run_cli("evaluate", case, "--format", fmt)
    second = run_cli("evaluate", case, "--format", fmt)
    assert first.code == 0 and first.out == second.out


def test_output_identical_across_hash_seeds(tmp_path):
    outs = []
    for seed in ("0", "1", "12345"):
        proc = subprocess.run([*TOOL, "evaluate",
                               str(EXAMPLES / "status-unknown.yaml"), "--format", "json"],
                              capture_output=True, env=tool_env(PYTHONHASHSEED=seed),
                              cwd=ROOT, check=True)
        outs.append(proc.stdout)
    assert outs[0] == outs[1] == outs[2]


def test_schema_commands_print_json_schemas():
    for kind in ("case", "report"):
        r = run_cli("schema", kind)
        assert r.code == 0
        jsonschema.Draft202012Validator.check_schema(json.loads(r.out))


def test_examples_validate_against_the_case_schema():
    from riskassess.io.reader import read_yaml_file

    schema = json.loads(run_cli("schema", "case").out)
    for path in CASE_FILES:
        jsonschema.validate(read_yaml_file(path).data, schema)


# ----------------------------------------------------------------- dates/editions


@pytest.fixture
def undated(tmp_path: Path) -> str:
    path = tmp_path / "undated.yaml"
    path.write_text("applicant:\n  country_of_origin: SY\n  sex: male\n"
                    "  military_status: deserter\n", encoding="utf-8")
    return str(path)


def test_a_case_dated_today_is_not_assessed_under_the_2024_edition(undated):
    j = json.loads(run_cli("evaluate", undated, "--today", "2026-11-22", "--format", "json").out)
    assert j["assessment_date"] == "2026-11-22"
    assert j["ruleset"]["id"] == "euaa-syria-2025-12"
    assert j["ruleset"]["in_force_on_assessment_date"]["id"] == "euaa-syria-2025-12"
    assert not any(w["code"].startswith("guidance_") for w in j["warnings"])


def test_the_real_clock_is_the_default(undated):
    import datetime as dt

    j = json.loads(run_cli("evaluate", undated, "--format", "json").out)
    assert j["assessment_date"] == dt.date.today().isoformat()
    # today is after 2025-12-03, so the December 2025 edition applies
    assert j["ruleset"]["id"] == "euaa-syria-2025-12"


def test_interim_window_names_the_interim_guidance(undated):
    r = run_cli("evaluate", undated, "--today", "2025-06-23")
    assert r.code == ExitCode.NO_ENCODED_EDITION
    assert r.out == ""
    assert "Interim Country Guidance: Syria (June 2025)" in r.err
    assert "does not encode" in r.err
    assert "--ruleset euaa-syria-2024" in r.err and "--ruleset euaa-syria-2025-12" in r.err


def test_forcing_an_edition_into_the_interim_window_warns(undated):
    j = json.loads(run_cli("evaluate", undated, "--today", "2025-09-01", "--ruleset",
                           "euaa-syria-2025-12", "--format", "json").out)
    assert [w["code"] for w in j["warnings"]][:1] == ["guidance_not_yet_in_force"]
    assert j["ruleset"]["in_force_on_assessment_date"]["id"] == "euaa-syria-2025-06"
    assert j["ruleset"]["in_force_on_assessment_date"]["encoded"] is False


def test_forcing_a_superseded_edition_warns_at_the_top(undated):
    r = run_cli("evaluate", undated, "--today", "2026-11-22", "--ruleset", "euaa-syria-2024")
    assert r.code == 0, r.err
    assert r.out.index("WARNING: guidance_superseded") < r.out.index("Does the applicant")
    j = json.loads(run_cli("evaluate", undated, "--today", "2026-11-22", "--ruleset",
                           "euaa-syria-2024", "--format", "json").out)
    assert j["warnings"][0]["code"] == "guidance_superseded"
    assert j["ruleset"]["selected_by"] == "forced"
    assert j["assessment_date"] == "2026-11-22"


def test_under_review_dates_are_assessed_with_a_warning(undated):
    j = json.loads(run_cli("evaluate", undated, "--today", "2025-01-15", "--format", "json").out)
    assert j["ruleset"]["id"] == "euaa-syria-2024"
    assert j["ruleset"]["selected_by"] == "assessment_date"
    assert [w["code"] for w in j["warnings"]][:1] == ["guidance_under_review"]
    assert j["warnings"][0]["cites"] == ["cg24.review-notice"]


def test_dates_before_the_2024_edition(undated):
    r = run_cli("evaluate", undated, "--today", "2024-01-10")
    assert r.code == ExitCode.NO_ENCODED_EDITION
    assert "February 2023" in r.err
    forced = json.loads(run_cli("evaluate", undated, "--today", "2024-01-10", "--ruleset",
                                "euaa-syria-2024", "--format", "json").out)
    assert [w["code"] for w in forced["warnings"]] == ["guidance_not_yet_in_force",
                                                       "assessment_date_defaulted"]
    # the catalog goes back to the first edition (September 2020): a date in 2022 falls in
    # the November 2021 edition, which is named; only a date before 2020 has none
    r = run_cli("evaluate", undated, "--today", "2022-05-01")
    assert r.code == ExitCode.NO_ENCODED_EDITION and "no catalogued edition" not in r.err
    assert "easo-syria-2021" in r.err and "November 2021" in r.err
    r = run_cli("evaluate", undated, "--today", "2020-08-31")
    assert r.code == ExitCode.NO_ENCODED_EDITION and "no catalogued edition" in r.err
    assert "September 2020" in r.err


def test_unknown_forced_edition_is_a_usage_error(undated):
    r = run_cli("evaluate", undated, "--ruleset", "euaa-syria-2025-06")
    assert r.code == ExitCode.USAGE
    assert "not an encoded edition" in r.err and "euaa-syria-2024" in r.err


def test_bad_today_option_is_a_usage_error(undated):
    assert run_cli("evaluate", undated, "--today", "soon").code == ExitCode.USAGE


def test_rules_list_shows_the_catalog():
    r = run_cli("rules", "list")
    assert r.code == 0
    for edition in ("euaa-syria-2023", "euaa-syria-2024", "euaa-syria-2025-06",
                    "euaa-syria-2025-12"):
        assert edition in r.out
    catalog, _ = load_catalog(RULES)
    assert r.out.count("NOT ENCODED") == sum(not e.encoded for e in catalog.editions) == 4
    assert "risk.amnesty-does-not-reduce" in r.out


# ----------------------------------------------------------------- errors


def test_missing_file_and_directory(tmp_path):
    r = run_cli("evaluate", str(tmp_path / "nope.yaml"))
    assert r.code == ExitCode.INVALID_INPUT and "no such file" in r.err
    r = run_cli("explain", str(tmp_path))  # a command that takes exactly one file
    assert r.code == ExitCode.INVALID_INPUT and "is a directory" in r.err
    assert "Traceback" not in r.err
    r = run_cli("evaluate", str(tmp_path))  # evaluate reads a folder as a batch
    assert r.code == ExitCode.USAGE and "no case files" in r.err


def test_internal_errors_keep_a_traceback_and_exit_70(monkeypatch):
    import riskassess.assess.core

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(riskassess.assess.core, "evaluate", boom)
    r = run_cli("evaluate", DEMO)
    assert r.code == ExitCode.INTERNAL
    assert "Traceback" in r.err and "simulated bug" in r.err and "internal error" in r.err


def test_the_installed_command_runs():
    exe = Path(sys.executable).parent / "riskassess"
    assert exe.exists(), "install the package first (see README)"
    proc = subprocess.run([str(exe), "evaluate", DEMO, "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, env=tool_env())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["persecution"]["outcome"] == "qualifies"


@pytest.mark.parametrize("command", [("examples", "run", "--all"), ("examples", "list"),
                                     ("train", "--random", "--answers", "/dev/null")])
def test_an_examples_folder_that_is_missing_or_empty_is_a_usage_error(cli, tmp_path, command):
    """`examples run --all` on a folder that is not there used to print "0 passed, 0
    failed" and exit 0 (a success a script would believe); train --random raised an
    IndexError."""
    for folder, said in ((tmp_path / "nowhere", "does not exist"),
                         (tmp_path, "no scenarios in this folder")):
        r = cli(*command, "--examples", str(folder))
        assert r.code == 2, r
        assert said in r.err and "Traceback" not in r.err


def test_a_line_end_in_a_file_name_is_escaped_in_a_located_problem(cli, tmp_path):
    folder = tmp_path / "two\nlines"
    folder.mkdir()
    (folder / "case.yaml").write_text("x: [\n", encoding="utf-8")
    r = cli("evaluate", str(folder / "case.yaml"))
    assert r.code == 3
    assert "two\\nlines/case.yaml:2:1:" in r.err and "two\nlines" not in r.err


def test_output_dash_is_standard_output_not_a_file_named_dash(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    case = str(EXAMPLES / "draft-evader.yaml")
    plain = cli("evaluate", case, "--today", "2026-12-01")
    dashed = cli("evaluate", case, "--today", "2026-12-01", "-o", "-")
    assert dashed.code == 0 and dashed.out == plain.out and dashed.out
    assert not (tmp_path / "-").exists()
    binary = cli("evaluate", case, "-f", "docx", "-o", "-")
    assert binary.code == 2 and "needs --output FILE" in binary.err
    assert not (tmp_path / "-").exists()
