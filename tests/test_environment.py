"""The command line and its environment (issue points 12 and 13): an empty path, a closed
standard error, an encoding that cannot show a character, a terminal without colour. Each
is run as a real process of the tool, on the fast path and the full one alike."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import EXAMPLES, TOOL, spawn_tool, tool_env

from riskassess.errors import ExitCode

CASE = str(EXAMPLES / "religious-objector.yaml")
OTHER = str(EXAMPLES / "daraa-conscript-amnesty.yaml")
ARABIC = ("format: 1\ncase_id: AR-1\nassessment_date: 2024-06-01\napplicant:\n"
          "  country_of_origin: SY\n  military_status: deserter\n"
          '  role_and_unit: "مقاتل في الفرقة"\n')


def real(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    return subprocess.run([*TOOL, *args], env=env or tool_env(), text=True, timeout=60,
                          **kwargs)


# ------------------------------------------------------------ 12: an empty path

EMPTY = [
    ("evaluate", ""),
    ("evaluate", CASE, ""),
    ("evaluate", CASE, "-o", ""),
    ("evaluate", CASE, "--output="),
    ("evaluate", CASE, "--summary-csv", ""),
    ("evaluate", CASE, "--rules-dir", ""),
    ("explain", ""),
    ("compare", "", "--editions", "euaa-syria-2024", "euaa-syria-2025-12"),
    ("compare", CASE, "--editions", "euaa-syria-2024", "euaa-syria-2025-12",
     "--summary-csv", ""),
    ("rules", "list", "--rules-dir", ""),
    ("rules", "check", ""),
    ("rules", "coverage", "--examples", ""),
    ("schema", "case", "--rules-dir", ""),
    ("examples", "list", "--examples", ""),
    ("train", "--answers", ""),
    ("interview", "-o", ""),
    ("interview", "--from", ""),
]


@pytest.mark.parametrize("args", EMPTY, ids=lambda a: " ".join(repr(x) for x in a
                                                              if x not in (CASE,)))
def test_an_empty_path_is_a_usage_error_for_every_command(tmp_path, args):
    # a folder holding a case file: an empty path once meant "." and assessed it
    shutil.copy(CASE, tmp_path / "case.yaml")
    r = real(*args, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert r.returncode == ExitCode.USAGE, (r.stdout, r.stderr)
    assert "an empty path names no file or folder" in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yaml"]  # nothing written


# ---------------------------------------------------------- 13: standard error closed

@pytest.mark.parametrize("cache", ["warm", "off"], ids=["fast path", "full path"])
def test_with_standard_error_closed_a_bad_case_still_exits_3_and_prints_nothing(cache):
    env = tool_env(**({"RISKASSESS_CACHE_DIR": "off"} if cache == "off" else {}))
    bad = str(os.path.join(os.path.dirname(__file__), "data", "invalid", "wrong-value.yaml"))
    # `2>&-` through a shell, as the tester ran it
    r = subprocess.run(["sh", "-c", '"$@" 2>&-', "sh", *TOOL, "evaluate", bad], env=env,
                       stdout=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == ExitCode.INVALID_INPUT
    assert r.stdout == ""


def test_with_standard_error_closed_a_good_case_is_still_printed():
    r = real("evaluate", CASE, "-f", "json", stderr=None, capture_output=False,
             stdout=subprocess.PIPE, preexec_fn=lambda: os.close(2))
    assert r.returncode == 0 and r.stdout.startswith("{")


def test_with_standard_error_closed_a_usage_error_exits_2_quietly():
    r = real("evaluate", "", stderr=None, capture_output=False, stdout=subprocess.PIPE,
             preexec_fn=lambda: os.close(2))
    assert r.returncode == ExitCode.USAGE and r.stdout == ""


# ------------------------------------------------- 13: an encoding that cannot show it

@pytest.mark.parametrize("cache", ["warm", "off"], ids=["fast path", "full path"])
@pytest.mark.parametrize("extra", [[], ["--full"], ["-f", "json"]])
def test_an_ascii_standard_output_gets_escapes_and_a_note_never_a_traceback(tmp_path, cache,
                                                                           extra):
    case = tmp_path / "arabic.yaml"
    case.write_text(ARABIC, encoding="utf-8")
    env = tool_env(PYTHONIOENCODING="ascii",
                   **({"RISKASSESS_CACHE_DIR": "off"} if cache == "off" else {}))
    r = subprocess.run([*TOOL, "evaluate", str(case), *extra], env=env, capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr.decode("ascii", "replace")
    assert b"Traceback" not in r.stderr
    r.stdout.decode("ascii")  # every byte is ASCII
    utf8 = subprocess.run([*TOOL, "evaluate", str(case), *extra],
                          env=tool_env(PYTHONIOENCODING="utf-8"), capture_output=True,
                          timeout=60).stdout.decode("utf-8")
    # nothing is lost: each character that cannot be shown is its escape
    assert r.stdout.decode("ascii") == "".join(
        ch if ord(ch) < 128 else f"\\u{ord(ch):04x}" for ch in utf8)
    assert r.stderr.decode("ascii").startswith("note: ")
    assert "PYTHONIOENCODING=utf-8" in r.stderr.decode("ascii")


def test_an_ascii_standard_output_gets_no_note_when_nothing_needed_escaping():
    r = real("rules", "list", env=tool_env(PYTHONIOENCODING="ascii"))
    assert r.returncode == 0 and r.stderr == ""


def test_an_error_message_in_ascii_is_escaped_too(tmp_path):
    case = tmp_path / "bad.yaml"
    case.write_text("applicant:\n  rank: ضابط\n", encoding="utf-8")
    r = real("evaluate", str(case), env=tool_env(PYTHONIOENCODING="ascii"))
    assert r.returncode == ExitCode.INVALID_INPUT and "Traceback" not in r.stderr
    assert "\\u0636" in r.stderr


# ------------------------------------------------------ 13: no colour where none is wanted

def _escapes(env_extra: dict[str, str], *args: str) -> tuple[int, int]:
    import pexpect

    env = tool_env(COLUMNS="100")
    env.pop("NO_COLOR", None)
    env.update(env_extra)
    child = spawn_tool(*args, env=env, dimensions=(50, 100))
    child.expect(pexpect.EOF)
    out = child.before
    child.close()
    return child.exitstatus, out.count("\x1b")


@pytest.mark.parametrize("env_extra", [{"TERM": "dumb"}, {"TERM": "xterm", "NO_COLOR": "1"}],
                         ids=["TERM=dumb", "NO_COLOR"])
@pytest.mark.parametrize("args", [("evaluate", CASE), ("evaluate", CASE, "--full"),
                                  ("explain", CASE), ("evaluate", "/nonexistent.yaml")],
                         ids=["evaluate", "full", "explain", "error"])
def test_a_dumb_terminal_or_no_color_gets_no_escape_sequence(env_extra, args):
    code, escapes = _escapes(env_extra, *args)
    assert code in (0, ExitCode.INVALID_INPUT)
    assert escapes == 0


def test_a_colour_terminal_still_gets_colour():
    code, escapes = _escapes({"TERM": "xterm"}, "evaluate", CASE)
    assert code == 0 and escapes > 0
