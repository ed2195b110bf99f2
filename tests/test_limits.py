"""Whatever path or bytes a command is given, it ends within 10 s, under 200 MB, with a
documented exit code and no traceback.

Each command runs as a real process (`python -m riskassess`), and its peak memory is read
from the kernel's accounting of that one child (`os.wait4`), so the figure is the whole
interpreter's resident set, not an estimate. The hostile inputs are the ones a new user
produced by accident or on purpose: device files, a FIFO with no writer, a symlink loop, a
folder, deep nesting, a file past the size limit, random bytes, UTF-16 text; and rules
folders holding such files where no edition names them, or rule sets the check rejects.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    EXAMPLES,
    ROOT,
    drop_catalog_entry,
    plant_contradiction,
    plant_stray,
    plant_unchecked_rule,
    tool_env,
)

from riskassess.errors import ExitCode

pytestmark = pytest.mark.slow

LIMIT_SECONDS = 10
LIMIT_BYTES = 200 * 1024 * 1024
CODES = {int(c) for c in ExitCode} - {int(ExitCode.INTERNAL)}


def hostile_inputs(folder: Path) -> dict[str, Path]:
    """Name -> path of each kind of input that once crashed, hung or ate memory."""
    made: dict[str, Path] = {}
    (folder / "zero.yaml").symlink_to("/dev/zero")
    made["symlink to /dev/zero"] = folder / "zero.yaml"
    made["/dev/urandom"] = Path("/dev/urandom")
    fifo = folder / "fifo.yaml"
    os.mkfifo(fifo)
    made["FIFO with no writer"] = fifo
    (folder / "loop.yaml").symlink_to(folder / "loop.yaml")
    made["symlink loop"] = folder / "loop.yaml"
    (folder / "dir.yaml").mkdir()
    made["directory"] = folder / "dir.yaml"
    deep = folder / "deep-flow.yaml"
    deep.write_text("applicant:\n  rank: " + "[" * 500 + "]" * 500 + "\n", encoding="utf-8")
    made["500-deep flow nesting"] = deep
    block = folder / "deep-block.yaml"
    block.write_text("".join("  " * i + "a:\n" for i in range(500)) + "  " * 500 + "b: 1\n",
                     encoding="utf-8")
    made["500-deep block nesting"] = block
    big = folder / "big.yaml"
    big.write_bytes(b"# " + b"x" * (2 * 1024 * 1024) + b"\n")
    made["2 MiB file"] = big
    noise = folder / "noise.yaml"
    noise.write_bytes(random.Random(7).randbytes(50_000))
    made["random bytes"] = noise
    utf16 = folder / "utf16.yaml"
    utf16.write_bytes((EXAMPLES / "draft-evader.yaml").read_text(encoding="utf-8")
                      .encode("utf-16"))
    made["UTF-16 text"] = utf16
    return made


def commands(path: Path, rules: Path) -> dict[str, list[str]]:
    p = str(path)
    return {
        "evaluate": ["evaluate", p],  # the fast path first (as for json), then the full one
        "evaluate -f markdown": ["evaluate", p, "-f", "markdown"],  # the full path alone
        "explain": ["explain", p],
        "compare": ["compare", p, "--editions", "euaa-syria-2024", "euaa-syria-2025-12"],
        "train --answers": ["train", "religious-objector", "--answers", p],
        "rules check (a rule file)": ["rules", "check", "--rules-dir", str(rules)],
        "evaluate --rules-dir (a rule file)": ["evaluate", str(EXAMPLES / "draft-evader.yaml"),
                                               "--rules-dir", str(rules)],
    }


# A forked child counts the pages it inherits in its peak resident set until it execs, so a
# child of the test process (pytest, hundreds of MB by now) would seem to use what pytest
# uses. A fresh, small interpreter starts each command and reports that child's figures.
LAUNCHER = """
import os, sys, time
start = time.monotonic()
pid = os.posix_spawn(sys.executable, [sys.executable, "-P", "-m", "riskassess", *sys.argv[1:]],
                     os.environ)
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), time.monotonic() - start, usage.ru_maxrss * 1024)
"""


def run_measured(args: list[str]) -> tuple[int, str, float, int]:
    """Exit code, stderr, seconds, and peak resident bytes of one riskassess process."""
    try:
        proc = subprocess.run([sys.executable, "-c", LAUNCHER, *args], env=tool_env(),
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=LIMIT_SECONDS + 5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"riskassess {' '.join(args)} ran past {LIMIT_SECONDS} s")
    code, seconds, peak = proc.stdout.decode().split()[-3:]
    return int(code), proc.stderr.decode("utf-8", "replace"), float(seconds), int(peak)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    return hostile_inputs(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("kind", ["symlink to /dev/zero", "/dev/urandom", "FIFO with no writer",
                                  "symlink loop", "directory", "500-deep flow nesting",
                                  "500-deep block nesting", "2 MiB file", "random bytes",
                                  "UTF-16 text"])
def test_no_command_hangs_crashes_or_grows_on_a_hostile_input(kind, inputs, tmp_path):
    path = inputs[kind]
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    target = rules / "euaa-syria-2024" / "risk.yaml"
    target.unlink()
    if path.is_dir() and not path.is_symlink():
        target.mkdir()
    else:
        target.symlink_to(path.resolve() if not path.is_symlink() else os.readlink(path))
    worst = (0.0, 0)
    for name, args in commands(path, rules).items():
        code, err, seconds, peak = run_measured(args)
        assert "Traceback" not in err, f"{name} on {kind}: {err[-2000:]}"
        assert code in CODES, f"{name} on {kind}: exit {code}: {err[-500:]}"
        assert code != 0, f"{name} accepted {kind}"
        assert seconds < LIMIT_SECONDS, f"{name} on {kind}: {seconds:.1f} s"
        assert peak < LIMIT_BYTES, f"{name} on {kind}: {peak / 2**20:.0f} MiB"
        worst = (max(worst[0], seconds), max(worst[1], peak))
    print(f"{kind}: slowest {worst[0]:.2f} s, peak {worst[1] / 2**20:.0f} MiB")


# A rules folder (--rules-dir) is input too: files no edition names (a symlink to /dev/zero,
# a FIFO, a sparse 60 MB file), a rule set that `rules check` rejects, contradictory
# constraints, a catalog without an edition's entry (tests/test_rules_folder.py builds them).
HOSTILE_FOLDERS = {
    "stray symlink to /dev/zero": (lambda r: plant_stray(r, "symlink to /dev/zero"),
                                   "not a YAML file"),
    "stray FIFO": (lambda r: plant_stray(r, "FIFO"), "not a YAML file"),
    "stray 60 MB file": (lambda r: plant_stray(r, "60 MB file"), "62,914,560 bytes"),
    "a rule the check rejects": (plant_unchecked_rule, "conflicts with"),
    "contradictory constraints": (plant_contradiction, "contradict each other"),
    "a folder the catalog does not list": (drop_catalog_entry, "no entry for the edition"),
}
STRAY = {"stray symlink to /dev/zero", "stray FIFO", "stray 60 MB file"}


def folder_commands(rules: Path) -> dict[str, list[str]]:
    case = str(EXAMPLES / "daraa-conscript-amnesty.yaml")  # dated 2024: an encoded edition
    r = ["--rules-dir", str(rules)]
    return {
        "rules check": ["rules", "check", *r],
        "evaluate (fast path, then full)": ["evaluate", case, *r],
        "evaluate -f markdown": ["evaluate", case, "-f", "markdown", *r],
        "explain": ["explain", case, *r],
        "rules list": ["rules", "list", *r],
    }


@pytest.mark.parametrize("kind", list(HOSTILE_FOLDERS))
def test_no_command_hangs_crashes_or_grows_on_a_hostile_rules_folder(kind, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    plant, said = HOSTILE_FOLDERS[kind]
    plant(rules)
    worst = (0.0, 0)
    for name, args in folder_commands(rules).items():
        # twice: the second run finds what the first left in the cache (a bundle or not)
        for _ in range(2):
            code, out, err, seconds, peak = run_measured_output(args)
            assert "Traceback" not in err, f"{name} on {kind}: {err[-2000:]}"
            assert code in CODES, f"{name} on {kind}: exit {code}: {err[-500:]}"
            assert seconds < LIMIT_SECONDS, f"{name} on {kind}: {seconds:.1f} s"
            assert peak < LIMIT_BYTES, f"{name} on {kind}: {peak / 2**20:.0f} MiB"
            worst = (max(worst[0], seconds), max(worst[1], peak))
            if name == "rules check":
                assert said in out.splitlines()[0], f"{kind}: {out[:500]}"
                assert code == (0 if kind == "stray 60 MB file" else ExitCode.FINDINGS)
            elif kind in STRAY:  # never read: the rule sets themselves are sound
                assert code == 0, f"{name} on {kind}: exit {code}: {err[-500:]}"
            else:  # loading refuses what the check refuses
                assert code == ExitCode.RULESET_ERROR, f"{name} on {kind}: exit {code}"
                assert said in err, f"{name} on {kind}: {err[:500]}"
    print(f"{kind}: slowest {worst[0]:.2f} s, peak {worst[1] / 2**20:.0f} MiB")


def run_measured_output(args: list[str]) -> tuple[int, str, str, float, int]:
    """As run_measured, with the command's standard output too (in a file: not a
    terminal, so that `evaluate` may take its fast path)."""
    import tempfile

    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.run([sys.executable, "-c", LAUNCHER_TO_FILE, *args],
                                  env=tool_env(), stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.PIPE, timeout=LIMIT_SECONDS + 5)
        except subprocess.TimeoutExpired:
            pytest.fail(f"riskassess {' '.join(args)} ran past {LIMIT_SECONDS} s")
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    stats, _, output = text.partition("\n")
    code, seconds, peak = stats.split()
    return int(code), output, proc.stderr.decode("utf-8", "replace"), float(seconds), int(peak)


# LAUNCHER, with the child's figures on the first line of standard output and the child's
# own output after it
LAUNCHER_TO_FILE = """
import os, sys, tempfile, time
with tempfile.TemporaryFile() as out:
    start = time.monotonic()
    pid = os.posix_spawn(sys.executable, [sys.executable, "-P", "-m", "riskassess",
                                          *sys.argv[1:]], os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1)])
    _, status, usage = os.wait4(pid, 0)
    took = time.monotonic() - start
    out.seek(0)
    body = out.read()
sys.stdout.write(f"{os.waitstatus_to_exitcode(status)} {took} {usage.ru_maxrss * 1024}\\n")
sys.stdout.flush()
sys.stdout.buffer.write(body)
"""
