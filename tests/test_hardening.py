"""Hardening: the exit-code table, interrupted writes, no network, no case data in errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, RULES, run_cli, tool_env

from riskassess.errors import EXIT_CODE_HELP, ExitCode

CASE = str(EXAMPLES / "officer-fled-abroad.yaml")


@pytest.fixture
def undated(tmp_path: Path) -> str:
    path = tmp_path / "undated.yaml"
    path.write_text("applicant:\n  military_status: deserter\n", encoding="utf-8")
    return str(path)


def stopped_by(sig: int) -> int:
    """The exit code of a real `evaluate` that `sig` reaches while it assesses the case."""
    code = ("import os, signal\n"
            "import riskassess.assess.core as core\n"
            f"core.case_from_document = lambda *a: os.kill(os.getpid(), {int(sig)})\n"
            "from riskassess.cli.app import main\n"
            f"main(['evaluate', {CASE!r}])\n")
    r = subprocess.run([sys.executable, "-P", "-c", code], env=tool_env(), capture_output=True,
                       text=True, timeout=120)
    assert r.stderr == "interrupted\n", r.stderr
    return r.returncode


def test_every_exit_code_of_the_table(tmp_path, undated, monkeypatch):
    """One documented table, the same for every command; each code produced for real."""
    broken = tmp_path / "rules"
    import shutil

    shutil.copytree(RULES, broken)
    risk = broken / "euaa-syria-2024" / "risk.yaml"
    risk.write_text(risk.read_text().replace("cites: [cg24.concl.risk-co]", "cites: [nope]"))
    bad_case = tmp_path / "bad.yaml"
    bad_case.write_text("applicant:\n  rank: general\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("applicant:\n  country_of_origin: AF\n", encoding="utf-8")
    seen = {
        ExitCode.OK: run_cli("evaluate", CASE).code,
        ExitCode.FINDINGS: run_cli("rules", "check", str(broken)).code,
        ExitCode.USAGE: run_cli("evaluate", CASE, "--format", "rtf").code,
        ExitCode.INVALID_INPUT: run_cli("evaluate", str(bad_case)).code,
        ExitCode.RULESET_ERROR: run_cli("evaluate", CASE, "--rules-dir", str(broken)).code,
        ExitCode.NO_ENCODED_EDITION: run_cli("evaluate", undated, "--today", "2025-08-01").code,
        ExitCode.OUT_OF_SCOPE: run_cli("evaluate", str(elsewhere)).code,
    }
    target = tmp_path / "out.md"
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(28, "full")))
    seen[ExitCode.CANNOT_WRITE] = run_cli("evaluate", CASE, "-f", "markdown", "-o",
                                          str(target)).code
    monkeypatch.undo()
    import riskassess.assess.core

    monkeypatch.setattr(riskassess.assess.core, "case_from_document", lambda *a: 1 / 0)
    seen[ExitCode.INTERNAL] = run_cli("evaluate", CASE).code
    monkeypatch.undo()

    def end_of_input(*args):  # Ctrl-D at the quiz's first question
        raise EOFError

    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", end_of_input)
    seen[ExitCode.INTERRUPTED] = run_cli("train", "draft-evader").code
    seen[ExitCode.TERMINATED] = stopped_by(signal.SIGTERM)
    seen[ExitCode.HANGUP] = stopped_by(signal.SIGHUP)
    assert seen == {code: code for code in ExitCode}
    for code in ExitCode:
        assert f"{int(code)} " in EXIT_CODE_HELP


def test_ctrl_c_during_a_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "out.html"

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    r = run_cli("evaluate", CASE, "-f", "html", "-o", str(target))
    assert r.code == 130 and "Traceback" not in r.err
    assert list(tmp_path.iterdir()) == []  # neither the output nor its temporary file


COMMANDS = [
    ["evaluate", CASE], ["evaluate", CASE, "-f", "json"], ["evaluate", CASE, "-f", "markdown"],
    ["evaluate", CASE, "-f", "html"], ["explain", CASE],
    ["compare", CASE, "--editions", "euaa-syria-2024", "euaa-syria-2025-12"],
    ["schema", "case"], ["schema", "report"], ["rules", "list"], ["rules", "check"],
    ["rules", "show", "risk.officer-rank-circumstance"], ["rules", "coverage"],
    ["coi", "show", "cg24.profile"], ["coi", "search", "amnesty"], ["examples", "list"],
    ["examples", "show", "draft-evader"], ["examples", "run", "--all"],
    ["examples", "vary", "draft-evader", "--fact", "applicant.military_status=deserter"],
]


def test_no_command_touches_the_network(tmp_path, monkeypatch):
    # ssl subclasses socket.socket when first imported (the Word renderer's XML helpers
    # import it through urllib): import it before the class is replaced by a trap, so that
    # the test sees calls, not the import order of whichever test ran first.
    import ssl  # noqa: F401

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    answers = tmp_path / "answers.yaml"
    answers.write_text("persecution: not_assessed\nbases: none\nrisk: not_assessed\n"
                       "grounds: none\nexclusion: not_assessed\n", encoding="utf-8")
    for command in COMMANDS + [["train", "draft-evader", "--answers", str(answers)],
                               ["evaluate", CASE, "-f", "docx", "-o", str(tmp_path / "x.docx")]]:
        r = run_cli(*command)
        assert r.code == 0, (command, r.err[-500:])
    assert attempts == []


def test_an_internal_error_shows_no_case_data(tmp_path, monkeypatch):
    case = tmp_path / "private.yaml"
    case.write_text("case_id: SECRET-REF-77\napplicant:\n  sex: male\n"
                    "  military_status: deserter\n", encoding="utf-8")
    import riskassess.assess.core
    import riskassess.engine.evaluate

    def boom(case, *args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(riskassess.assess.core, "evaluate", boom)
    r = run_cli("evaluate", str(case), "--today", "2024-06-01")
    assert r.code == ExitCode.INTERNAL and "Traceback" in r.err
    assert "SECRET-REF-77" not in r.err and "deserter" not in r.err
    assert riskassess.engine.evaluate  # the engine module itself is untouched


def test_typer_pretty_exceptions_are_off():
    from riskassess.cli.app import app

    assert app.pretty_exceptions_enable is False
    assert app.pretty_exceptions_show_locals is False


def test_a_signal_rebuilt_by_a_library_keeps_its_code_and_drops_the_text():
    """reportlab's paragraph parser catches every exception and raises a new one of the same
    type with its own message, which holds the case's text: SIGTERM during a PDF's layout
    gave exit 70 and a traceback quoting the applicant's free text (found by an independent
    tester). The rebuilt stop keeps the signal's exit code and none of the text."""
    import signal as signals

    from riskassess import stopping

    with pytest.raises(stopping.Interrupted):
        stopping._raise(signals.SIGHUP)
    rebuilt = stopping.Interrupted("paragraph text '<para>Ahmad, unit 4 ...' caused exception")
    assert rebuilt.exit_code == 129 and "Ahmad" not in repr(rebuilt)
    with pytest.raises(stopping.Interrupted):
        stopping._raise(signals.SIGTERM)
    assert stopping.Interrupted(None).exit_code == 143
