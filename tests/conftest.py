"""Shared helpers: run the CLI through its real error boundary, or as a real process of
the installed tool; find shipped data."""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

# The compiled-rules cache (assess/cache.py) is never the user's. In this process it is off
# (tests/test_fast_path.py turns it on in a folder of its own); the tool's processes get
# one built once for the whole run (xdist's workers inherit it from the first process), so
# that each pays a cold start, not a compilation of the rule sets.
WARM_CACHE = os.environ.get("RISKASSESS_TEST_CACHE")
if WARM_CACHE is None:
    WARM_CACHE = tempfile.mkdtemp(prefix="riskassess-test-cache-")
    os.environ["RISKASSESS_TEST_CACHE"] = WARM_CACHE
    atexit.register(shutil.rmtree, WARM_CACHE, ignore_errors=True)
    os.environ["RISKASSESS_CACHE_DIR"] = WARM_CACHE
    from riskassess.assess.cache import ensure
    from riskassess.law.shipped import shipped_rules_dir

    ensure(shipped_rules_dir())
os.environ["RISKASSESS_CACHE_DIR"] = "off"

# The installed tool as a real process. `-P`: the package it imports is the one the tests
# import (the installed one), never the checkout in the working folder.
TOOL = [sys.executable, "-P", "-m", "riskassess"]


# How long a test waits for a prompt or an answer of the tool at a terminal (pexpect): a
# bound on a hang, not an expectation (on a busy machine a prompt may take seconds).
PROMPT_TIMEOUT = 120


def default_signals() -> None:
    """In a child about to run the tool at a pseudo-terminal: Ctrl-C and Ctrl-\\ at their
    defaults. A shell that starts the tests in the background (`pytest &` with no job
    control) has them ignored, every child inherits that, and Python then installs no
    KeyboardInterrupt handler: a test's Ctrl-C would be ignored and the test hang."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def spawn_tool(*args: str, **kwargs):
    """`riskassess ARGS` at a pseudo-terminal (pexpect), as a person would run it."""
    import pexpect

    kwargs.setdefault("encoding", "utf-8")
    kwargs.setdefault("timeout", PROMPT_TIMEOUT)
    return pexpect.spawn(TOOL[0], [*TOOL[1:], *args], preexec_fn=default_signals, **kwargs)


def tool_env(**extra: str) -> dict[str, str]:
    """The environment of a real process of the tool: the warm cache, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["RISKASSESS_CACHE_DIR"] = WARM_CACHE
    env.update(extra)
    return env

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


def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto`: one worker per core, and one more. Some tests wait on a server's time
    limits (seconds of sleep, no work), and the spare worker keeps the cores busy then."""
    return (os.cpu_count() or 1) + 1


# ------------------------------------------------------------------ hostile folders
# A rules folder is input too (tests/test_rules_folder.py); tests/test_limits.py runs every
# command on each of these under its bounds.


def plant_stray(rules: Path, kind: str) -> Path:
    """A file no edition names, of one hostile kind, somewhere under a rules folder."""
    if kind == "symlink to /dev/zero":
        path = rules / "euaa-syria-2024" / "notes.yaml"
        path.symlink_to("/dev/zero")
    elif kind == "FIFO":
        path = rules / "scratch.yaml"
        os.mkfifo(path)
    elif kind == "60 MB file":
        path = rules / "syria" / "old-facts.yaml"
        with open(path, "wb") as f:
            f.truncate(60 * 1024 * 1024)  # sparse: no disk used
    else:
        raise ValueError(kind)
    return path


def plant_unchecked_rule(rules: Path) -> Path:
    """An outcome rule before persecution.severe-acts concluding does_not_qualify: it
    conflicts with severe-acts, which `rules check` reports."""
    path = rules / "euaa-syria-2024" / "persecution.yaml"
    edit(path, "  - id: persecution.severe-acts\n",
         "  - id: persecution.deserters-excluded\n"
         "    when: {question: applicability, is: in_profile}\n"
         "    outcome: does_not_qualify\n"
         "    reasoning: A planted rule that no check has passed.\n"
         "    cites: [cg24.profile]\n\n"
         "  - id: persecution.severe-acts\n")
    return path


CONSTRAINT = ("  - fact: applicant.left_syria_after_desertion\n"
              "    must_be: true\n"
              "    when: {fact: applicant.desertion_type, is: external}\n")


def plant_contradiction(rules: Path) -> Path:
    """A second must_be that cannot hold with the first: an external escape would need
    left_syria_after_desertion to be both true and false."""
    path = rules / "syria" / "facts.yaml"
    edit(path, CONSTRAINT, CONSTRAINT + CONSTRAINT.replace("must_be: true", "must_be: false"))
    return path


def drop_catalog_entry(rules: Path) -> Path:
    """The catalog without the entry of the encoded folder euaa-syria-2025-12 (and without
    its predecessor's pointer to it, so that the catalog alone is valid)."""
    path = rules / "editions.yaml"
    text = path.read_text(encoding="utf-8")
    text = text[:text.index("  - id: euaa-syria-2025-12\n")].rstrip() + "\n"
    pointer = "    superseded_on: 2025-12-03\n    successor: euaa-syria-2025-12\n"
    path.write_text(text.replace(pointer, ""), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A bundle of the shipped rules (those the fast path reads: the installed package's
    copy under `pip install .`, the checkout's under `-e .`; a bundle is keyed by its rules
    folder), built once for the module (the fast path's tests share it)."""
    from riskassess.assess import cache as bundle
    from riskassess.law.shipped import shipped_rules_dir

    folder = tmp_path_factory.mktemp("cache")
    old = os.environ.get("RISKASSESS_CACHE_DIR")
    os.environ["RISKASSESS_CACHE_DIR"] = str(folder)
    try:
        assert bundle.save(bundle.build(shipped_rules_dir()))
        yield folder
    finally:
        os.environ["RISKASSESS_CACHE_DIR"] = old or "off"


@pytest.fixture(scope="module")
def server():
    """A real `riskassess serve` for the tests of one module (tests/serving.py), stopped
    after them, and stopped cleanly."""
    from serving import Server

    s = Server()
    yield s
    assert s.stop() == 0, s.log()


@pytest.fixture(scope="module")
def client(server):
    """An HTTP client of that server."""
    import httpx

    with httpx.Client(base_url=server.base, timeout=60) as c:
        yield c
