"""The README stays true: its commands, its examples, its exit codes; and own words."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import ROOT

from riskassess.errors import ExitCode

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = re.findall(r"```sh\n(python3 -m venv .*?)\n```", README)


def test_readme_has_the_two_setup_commands():
    assert len(COMMANDS) == 2
    install_and_run, install_and_test = COMMANDS
    assert "pip install ." in install_and_run and "riskassess evaluate examples/" in install_and_run
    example = install_and_run.split("riskassess evaluate ")[1].split()[0]
    assert (ROOT / example).is_file()
    assert "'.[test]'" in install_and_test and "pytest" in install_and_test


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert COMMANDS[1] in ci.splitlines()


def test_readme_exit_code_table_matches_the_code():
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", README, flags=re.M))
    assert sorted(int(c) for c in rows) == sorted(int(c) for c in ExitCode)


def test_readme_mentions_only_real_examples():
    for path in re.findall(r"examples/[\w.-]+\.yaml", README):
        assert (ROOT / path).is_file(), path


@pytest.mark.skipif(not (ROOT.parent / "shared" / "tools" / "check-copied-text").exists()
                    or shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="the own-words checker lives beside the project in shared/")
def test_no_source_sentence_is_copied():
    proc = subprocess.run([str(ROOT.parent / "shared" / "tools" / "check-copied-text")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
