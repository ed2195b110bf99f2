"""Shared helpers: run the CLI through its real error boundary, find shipped data."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

# The compiled-rules cache (riskassess/bundle.py) is off in tests, and never the user's:
# tests/test_fast_path.py turns it on in a folder of its own.
os.environ["RISKASSESS_CACHE_DIR"] = "off"

from riskassess.cli.app import main  # noqa: E402
from riskassess.law.vocabulary import load_vocabulary  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RULES = ROOT / "rules"
DATA = Path(__file__).resolve().parent / "data"
# the shipped vocabulary (facts and questions of the Syria rules), as the tool loads it
VOCAB = load_vocabulary(RULES / "syria")


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(*args: str) -> Run:
    """Run `riskassess ARGS` in-process through `main` (the error boundary)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """A private copy of the shipped rules, to break on purpose."""
    target = tmp_path / "rules"
    shutil.copytree(RULES, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a file by `new` (and fail if `old` is not there)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str, *, last: bool = False) -> int:
    """The first (or last) line of a file that holds `needle`."""
    lines = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    return lines[-1] if last else lines[0]
