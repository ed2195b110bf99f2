"""Shell completion (typer's): commands, options, and the ids the shipped data holds
(editions, rules, cited paragraphs, scenarios), through the entry point a shell runs
(cli/fast.py, which hands any completion request to the full command line)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, RULES, TOOL, tool_env

from riskassess.cli import fast
from riskassess.law.ruleset import load_catalog, ruleset_for
from riskassess.law.scenarios import load_scenarios

CATALOG, _ = load_catalog(RULES)
ENCODED = [e.id for e in CATALOG.editions if e.encoded]
RULESETS = [ruleset_for(RULES, e) for e in CATALOG.editions if e.encoded]
SCENARIOS = [s.id for s in load_scenarios(EXAMPLES)]
# typer's completion options name the shell instead of detecting the one they run under
NO_DETECTION = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


def complete(line: str, **env: str) -> list[str]:
    """The candidates a bash asking for completions of `line` is given (the word being
    completed is the last one: after a blank, a new word), as typer's bash script asks."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    r = subprocess.run(TOOL, capture_output=True, text=True, timeout=120,
                       env=tool_env(_RISKASSESS_COMPLETE="complete_bash", COMP_WORDS=line,
                                    COMP_CWORD=str(cword), **env))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return [c for c in r.stdout.split("\n") if c]


def test_commands_and_options_are_completed():
    top = complete("riskassess ")
    assert {"evaluate", "explain", "compare", "train", "interview", "serve", "examples",
            "rules", "coi", "schema"} <= set(top)
    assert complete("riskassess ex") == ["explain", "examples"]
    assert set(complete("riskassess rules ")) == {"list", "check", "show", "coverage"}
    assert set(complete("riskassess evaluate case.yaml --f")) == {"--format", "--force", "--full"}
    assert "markdown" in complete("riskassess evaluate case.yaml -f ")


def test_edition_ids_come_from_the_catalog():
    assert complete("riskassess evaluate case.yaml --ruleset ") == ENCODED
    assert complete("riskassess explain case.yaml --ruleset ") == ENCODED
    assert complete(f"riskassess compare case.yaml --editions {ENCODED[0]} ") == ENCODED
    first = ENCODED[-1]
    assert complete(f"riskassess evaluate case.yaml --ruleset {first[:-1]}") == [first]


def test_rule_and_paragraph_ids_come_from_the_rule_sets():
    rules = sorted({r for rs in RULESETS for r in rs.rules})
    paragraphs = sorted({p for rs in RULESETS for p in rs.paragraphs})
    assert complete("riskassess rules show ") == rules
    some = rules[len(rules) // 2]
    prefix = some[:some.index(".") + 2]
    assert complete(f"riskassess rules show {prefix}") == [r for r in rules
                                                           if r.startswith(prefix)]
    assert complete("riskassess coi show ") == paragraphs


def test_scenario_ids_come_from_the_examples():
    assert complete("riskassess train ") == SCENARIOS
    for command in ("examples show", "examples run", "examples vary"):
        assert complete(f"riskassess {command} ") == SCENARIOS
    one = SCENARIOS[0]
    assert complete(f"riskassess examples show {one[:4]}") == [s for s in SCENARIOS
                                                               if s.startswith(one[:4])]


def test_the_folders_on_the_line_are_the_ones_read(tmp_path):
    """--examples and --rules-dir before the id: their folders' ids, not the shipped ones;
    a folder that is not one offers nothing, and says nothing into the shell."""
    folder = tmp_path / "examples"
    folder.mkdir()
    for name in ("draft-evader.yaml", "draft-evader.expected.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    shutil.copy(EXAMPLES / "draft-evader.expected.yaml", folder / "my-own.expected.yaml")
    assert complete(f"riskassess train --examples {folder} ") == ["draft-evader", "my-own"]
    assert complete(f"riskassess rules show --rules-dir {tmp_path / 'none'} ") == []
    assert complete(f"riskassess evaluate x.yaml --rules-dir {tmp_path} --ruleset ") == []


def test_a_file_argument_is_left_to_the_shell():
    """No candidates: the script's `complete -o default` then completes file names."""
    assert complete("riskassess evaluate exa") == []


def test_the_fast_path_hands_completion_to_the_full_command_line(monkeypatch):
    args = ["evaluate", str(EXAMPLES / "deserter-2026.yaml"), "--today", "2026-12-01"]
    monkeypatch.setenv(fast.COMPLETE_VAR, "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "riskassess evaluate x.yaml --ruleset ")
    monkeypatch.setenv("COMP_CWORD", "4")
    called = []
    monkeypatch.setattr(fast, "answer", lambda a: called.append(a) or "a report")
    with pytest.raises(SystemExit) as done:
        fast.main(args)
    assert done.value.code == 0 and called == []  # never the fast answer


def _script_bin(tmp_path: Path) -> Path:
    """A folder with `riskassess` on it, the installed tool as the shell would run it."""
    folder = tmp_path / "bin"
    folder.mkdir()
    exe = folder / "riskassess"
    exe.write_text(f"#!/bin/sh\nexec {' '.join(TOOL)} \"$@\"\n")
    exe.chmod(0o755)
    return folder


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_the_shown_script_completes_in_bash(tmp_path):
    """`--show-completion bash` prints a script; bash, with it sourced, completes."""
    folder = _script_bin(tmp_path)
    env = tool_env(PATH=f"{folder}:/usr/bin:/bin", **NO_DETECTION)
    script = subprocess.run([*TOOL, "--show-completion", "bash"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert script.returncode == 0 and "_RISKASSESS_COMPLETE=complete_bash" in script.stdout
    (tmp_path / "completion.sh").write_text(script.stdout)
    run = subprocess.run(
        ["bash", "--norc", "-c", f"source {tmp_path / 'completion.sh'}; "
         "COMP_WORDS=(riskassess evaluate x.yaml --ruleset ''); COMP_CWORD=4; "
         "_riskassess_completion riskassess; printf '%s\\n' \"${COMPREPLY[@]}\""],
        capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ENCODED


def test_install_completion_writes_the_script_for_the_shell(tmp_path):
    env = tool_env(HOME=str(tmp_path), **NO_DETECTION)
    r = subprocess.run([*TOOL, "--install-completion", "bash"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "bash completion installed" in r.stdout
    assert "_RISKASSESS_COMPLETE" in "".join(p.read_text() for p in tmp_path.rglob("*")
                                             if p.is_file())

