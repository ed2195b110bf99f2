"""The command line and its environment (issue points 12 and 13): an empty path. Each is
run as a real process of the tool."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import EXAMPLES, TOOL, tool_env

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
