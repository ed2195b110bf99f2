"""Odd paths a newcomer tried after the hardening issue: each once ended in a traceback or
in a usage error where the README promised a located refusal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pexpect
import pytest
from conftest import EXAMPLES, TOOL, run_cli, spawn_tool, tool_env

from riskassess.errors import ExitCode

CASE = str(EXAMPLES / "religious-objector.yaml")
LONG = "a" * 300 + ".yaml"  # one name past the file system's 255 bytes
ENV = tool_env()


def real(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*TOOL, *args], env=ENV,
                          capture_output=True, text=True, timeout=30, **kwargs)


def test_a_file_name_too_long_is_refused_alone_in_a_batch_and_as_a_rules_folder(tmp_path):
    alone = run_cli("evaluate", str(tmp_path / LONG))
    assert alone.code == ExitCode.INVALID_INPUT and "File name too long" in alone.err
    batch = run_cli("evaluate", CASE, str(tmp_path / LONG))
    assert batch.code == ExitCode.INVALID_INPUT and "1 assessed, 1 refused" in batch.out
    rules = run_cli("rules", "check", "--rules-dir", str(tmp_path / LONG))
    assert rules.code == ExitCode.USAGE and "file name too long" in rules.err
    assert "Traceback" not in alone.err + batch.err + rules.err


def test_a_closed_standard_output_is_exit_6_unless_nothing_is_printed(tmp_path):
    closed = real("evaluate", CASE, stdout=None, preexec_fn=lambda: os.close(1))
    assert closed.returncode == ExitCode.CANNOT_WRITE, closed.stderr
    assert "standard output: it is closed" in closed.stderr and "Traceback" not in closed.stderr
    target = tmp_path / "report.md"
    quiet = real("evaluate", CASE, "-o", str(target), stdout=None,
                 preexec_fn=lambda: os.close(1))
    assert quiet.returncode == 0 and target.exists()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to run as a user the file refuses")
def test_an_unreadable_file_named_on_the_command_line_is_a_located_refusal(tmp_path):
    tmp_path.chmod(0o755)
    secret = tmp_path / "secret.yaml"
    shutil.copy(CASE, secret)
    secret.chmod(0)
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *TOOL]
    alone = subprocess.run([*as_nobody, "evaluate", str(secret)], env=ENV, text=True,
                           capture_output=True, timeout=30, cwd="/")
    assert alone.returncode == ExitCode.INVALID_INPUT, alone.stderr
    assert "permission denied" in alone.stderr
    batch = subprocess.run([*as_nobody, "evaluate", CASE, str(secret)], env=ENV, text=True,
                           capture_output=True, timeout=30, cwd="/")
    assert batch.returncode == ExitCode.INVALID_INPUT and "1 assessed, 1 refused" in batch.stdout


def test_an_invalid_case_id_is_refused_before_the_first_question(tmp_path):
    child = spawn_tool("interview", "--case-id", "A 17", "-o", str(tmp_path / "a.yaml"),
                       env=ENV, cwd=str(tmp_path))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.USAGE
    assert "--case-id: 'A 17' is not a valid reference" in " ".join(child.before.split())
    assert "Traceback" not in child.before and "applicant." not in child.before


@pytest.mark.parametrize("path", ["fast", "full"])
def test_a_file_name_that_is_not_utf8_is_shown_escaped_in_every_batch_format(tmp_path, path):
    """A folder holding names that are bytes, not UTF-8 (`bad\\xffname.yaml`): every batch
    format, the summary CSV and compare name them escaped (`bad\\udcffname.yaml`, as the
    reader's messages do) and stay UTF-8; a batch once ended in a traceback."""
    folder = tmp_path / "cases"
    folder.mkdir()
    try:
        good = os.path.join(os.fsencode(folder), b"bad\xffname.yaml")
        broken = os.path.join(os.fsencode(folder), b"zz\xfe.yaml")
        shutil.copy(CASE, good)
        with open(broken, "wb") as out:
            out.write(b"{ broken\n")
    except (OSError, UnicodeError):
        pytest.skip("this file system keeps names as UTF-8")
    env = ENV if path == "fast" else {**ENV, "RISKASSESS_CACHE_DIR": "off"}
    today = ("--today", "2026-12-01")
    runs = {fmt: subprocess.run([*TOOL, "evaluate", str(folder), "-f", fmt, *today],
                                env=env, capture_output=True, timeout=60)
            for fmt in ("outcomes", "jsonl", "text")}
    summary = tmp_path / "s.csv"
    runs["csv"] = subprocess.run([*TOOL, "evaluate", str(folder), "--summary-csv",
                                  str(summary), *today], env=env, capture_output=True,
                                 timeout=60)
    runs["compare"] = subprocess.run([*TOOL, "compare", str(folder), "--editions",
                                      "euaa-syria-2024", "euaa-syria-2025-12", *today],
                                     env=env, capture_output=True, timeout=60)
    for what, r in runs.items():
        assert r.returncode == ExitCode.INVALID_INPUT, (what, r.stderr[-1500:])
        assert b"Traceback" not in r.stderr and b"internal error" not in r.stderr, what
        (r.stdout + r.stderr).decode("utf-8")  # every byte UTF-8
    lines = [json.loads(line) for line in runs["outcomes"].stdout.splitlines()]
    assert [line["path"].rsplit("/", 1)[1] for line in lines] == [
        "bad\\udcffname.yaml", "zz\\udcfe.yaml"]
    assert lines[0]["refused"] is None and lines[1]["refused"]["exit_code"] == 3
    assert "bad\\udcffname.yaml: euaa-syria-" in runs["text"].stdout.decode()
    assert "zz\\udcfe.yaml" in summary.read_text(encoding="utf-8")
    assert "zz\\udcfe.yaml (exit 3)" in runs["compare"].stdout.decode() + \
        runs["compare"].stderr.decode()


@pytest.mark.parametrize("command", ["evaluate", "compare"])
def test_a_summary_csv_that_is_standard_outputs_file_is_refused(tmp_path, command):
    """`--summary-csv s.csv > s.csv`: replacing the summary would lose every line printed to
    standard output, so it is refused before any work, and the file keeps what it held."""
    summary = tmp_path / "s.csv"
    summary.write_bytes(b"kept\n")
    extra = ["--editions", "euaa-syria-2024", "euaa-syria-2025-12"] if command == "compare" \
        else []
    with open(summary, "ab") as stdout:  # as `>> s.csv`
        r = subprocess.run([*TOOL, command, str(EXAMPLES), *extra, "--summary-csv",
                            str(summary), "--force"], env=ENV, stdout=stdout,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == ExitCode.USAGE, r.stderr
    assert "is also where standard output goes" in r.stderr
    assert summary.read_bytes() == b"kept\n"
    other = tmp_path / "out.jsonl"  # --output takes the lines: nothing is printed
    with open(other, "wb") as stdout:
        r = subprocess.run([*TOOL, "evaluate", str(EXAMPLES), "-f", "outcomes", "-o",
                            str(other), "--force"], env=ENV, stdout=stdout,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 0 and other.read_text().count("\n") >= 20, r.stderr
