"""Odd paths a newcomer tried after the hardening issue: each once ended in a traceback or
in a usage error where the README promised a located refusal."""

from __future__ import annotations

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
