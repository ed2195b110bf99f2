"""Batch mode: many files, streamed in path order, bad files counted, not fatal."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA, EXAMPLES, RULES, run_cli

from riskassess.errors import ExitCode

CASES = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))


@pytest.fixture
def caseload(tmp_path: Path) -> Path:
    folder = tmp_path / "caseload"
    (folder / "2024").mkdir(parents=True)
    evader = EXAMPLES / "draft-evader.yaml"  # its sidecar goes beside it, below
    others = [p for p in CASES if p != evader]
    for p in [*others[:5], evader]:
        shutil.copy(p, folder / "2024" / p.name)
    shutil.copy(others[5], folder / "renamed.yml")
    shutil.copy(DATA / "invalid" / "wrong-value.yaml", folder / "bad-rank.yaml")
    shutil.copy(DATA / "invalid" / "duplicate-key-nested.yaml", folder / "2024" / "dup.yaml")
    (folder / "notes.txt").write_text("not a case file", encoding="utf-8")
    assert (folder / "2024" / "draft-evader.yaml").exists()
    shutil.copy(EXAMPLES / "draft-evader.expected.yaml",
                folder / "2024" / "draft-evader.expected.yaml")  # beside its case: a sidecar
    return folder


def test_mixed_good_and_bad_files(caseload):
    r = run_cli("evaluate", str(caseload))
    assert r.code == ExitCode.INVALID_INPUT  # some file was refused
    lines = r.out.split("\n\nSummary:")[0].splitlines()
    assert len(lines) == 9  # 7 cases + 2 bad; notes.txt and the sidecar are not case files
    assert sum("REFUSED" in line for line in lines) == 2
    assert "Summary: 9 file(s), 7 assessed, 2 refused, 2 skipped" in r.out
    assert "skipped 1: not named *.yaml, *.yml, *.json or *.jsonl" in r.out
    assert "skipped 1: scenario sidecar" in r.out
    assert f"{caseload.as_posix()}/bad-rank.yaml:4:9: applicant.rank: 'general'" in r.out
    assert "Refused files:" in r.out and "(exit 3)" in r.out


def test_output_is_in_path_order_whatever_the_order_given(caseload):
    files = sorted(p for p in caseload.rglob("*.y*ml") if not p.name.endswith(".expected.yaml"))
    forward = run_cli("evaluate", *map(str, files), "--format", "jsonl")
    backward = run_cli("evaluate", *map(str, reversed(files)), "--format", "jsonl")
    folder = run_cli("evaluate", str(caseload), "--format", "jsonl")
    assert forward.out == backward.out == folder.out and forward.err == backward.err
    ids = [json.loads(line)["case_id"] for line in forward.out.splitlines()]
    expected = []
    for path in sorted(files, key=lambda p: p.as_posix()):
        text = path.read_text()
        if "case_id:" in text and "REFUSED" not in text and path.name not in ("bad-rank.yaml",
                                                                               "dup.yaml"):
            expected.append(text.split("case_id: ")[1].split("\n")[0])
    assert ids == expected


def test_jsonl_lines_are_the_json_reports(caseload):
    r = run_cli("evaluate", str(caseload / "2024"), "--format", "jsonl")
    first = json.loads(r.out.splitlines()[0])
    single = json.loads(run_cli("evaluate", str(caseload / "2024" / CASES[0].name),
                                "--format", "json").out)
    assert first == single
    assert "Summary:" in r.err and "Summary:" not in r.out


def test_summary_csv(caseload, tmp_path):
    table = tmp_path / "summary.csv"
    r = run_cli("evaluate", str(caseload), "--summary-csv", str(table))
    assert r.code == ExitCode.INVALID_INPUT
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert len(rows) == 9
    assert [row["path"] for row in rows] == sorted(row["path"] for row in rows)
    good = next(row for row in rows if row["path"].endswith("daraa-conscript-amnesty.yaml"))
    assert good["case_id"] == "EX-DARAA-AMNESTY" and good["persecution"] == "qualifies"
    assert good["ruleset"] == "euaa-syria-2024" and good["refused"] == ""
    bad = next(row for row in rows if row["path"].endswith("bad-rank.yaml"))
    assert bad["persecution"] == "" and "'general' is not an allowed value" in bad["refused"]
    again = run_cli("evaluate", str(caseload), "--summary-csv", str(table))
    assert again.code == ExitCode.USAGE and "--force" in again.err


def test_exit_codes_of_a_batch(tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    # a case dated under the April 2024 edition, whose rule set is broken below
    shutil.copy(EXAMPLES / "religious-objector.yaml", good / "a.yaml")
    assert run_cli("evaluate", str(good)).code == 0
    (good / "b.yaml").write_text("applicant:\n  military_status: deserter\n", encoding="utf-8")
    refused = run_cli("evaluate", str(good), "--today", "2025-08-01")  # interim: not encoded
    assert refused.code == ExitCode.NO_ENCODED_EDITION and "1 refused" in refused.out
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    risk = rules / "euaa-syria-2024" / "risk.yaml"
    risk.write_text(risk.read_text().replace("cites: [cg24.concl.risk-co]", "cites: [x]"))
    broken = run_cli("evaluate", str(good), "--rules-dir", str(rules))
    assert broken.code == ExitCode.RULESET_ERROR  # a broken rule set stops the batch
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("evaluate", str(empty)).code == ExitCode.USAGE
    assert run_cli("evaluate", str(good), "--format", "markdown").code == ExitCode.USAGE


def test_batch_output_file_and_no_progress_bar_without_a_terminal(caseload, tmp_path):
    target = tmp_path / "reports.jsonl"
    r = run_cli("evaluate", str(caseload), "-f", "jsonl", "-o", str(target))
    assert r.code == ExitCode.INVALID_INPUT
    assert len(target.read_text().splitlines()) == 7
    assert r.out == "" and r.err.startswith("Summary:")  # no progress bar, no noise


def test_names_are_matched_in_any_case_and_a_lone_expected_file_is_a_case(tmp_path):
    folder = tmp_path / "load"
    folder.mkdir()
    shutil.copy(CASES[0], folder / "UPPER.YAML")
    shutil.copy(CASES[1], folder / "mixed.Yml")
    # a caseworker's own file whose name happens to end in .expected.yaml, with no case
    # file of the same name beside it, is a case like any other
    shutil.copy(CASES[2], folder / "smith.expected.yaml")
    r = run_cli("evaluate", str(folder), "-f", "jsonl")
    assert r.code == 0, r.err
    assert len(r.out.splitlines()) == 3
    assert "Summary: 3 file(s), 3 assessed, 0 refused, 0 skipped" in r.err


def test_one_unreadable_file_does_not_stop_the_batch(tmp_path):
    folder = tmp_path / "load"
    folder.mkdir()
    shutil.copy(CASES[0], folder / "a.yaml")
    (folder / "b.yaml").write_text("applicant:\n" + "  " * 0 + "x: " + "[" * 500 + "]" * 500,
                                   encoding="utf-8")  # 1 KB nested 500 deep
    (folder / "c.yaml").symlink_to(folder / "c.yaml")  # a symlink loop
    shutil.copy(CASES[1], folder / "d.yaml")
    r = run_cli("evaluate", str(folder))
    assert r.code == ExitCode.INVALID_INPUT
    assert "Summary: 4 file(s), 2 assessed, 2 refused" in r.out
    assert "Traceback" not in r.out + r.err


def test_summary_caps_a_long_list_of_problems(tmp_path):
    folder = tmp_path / "load"
    folder.mkdir()
    shutil.copy(CASES[0], folder / "a.yaml")
    lines = "".join(f"  bad_key_{i}: 1\n" for i in range(300))
    (folder / "b.yaml").write_text("applicant:\n" + lines, encoding="utf-8")
    r = run_cli("evaluate", str(folder))
    assert r.code == ExitCode.INVALID_INPUT
    assert "... and 280 more problems in" in r.out
    assert r.out.count("bad_key_") < 60
