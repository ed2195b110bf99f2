"""Fuzzing: whatever a file holds, the tool assesses it or refuses it with a documented
exit code, and never prints a traceback.

hypothesis generates garbage (any bytes, any text), near-valid YAML (valid case files
with a mutation in the text), case dictionaries with wrong keys, types and values,
nesting of every style up to hundreds of levels (in case and rule files), and paths that
name special files (FIFOs, devices, sockets, symlink loops, directories) for every
command that reads a file. Each run must also finish within 10 seconds.
CI runs a bounded, derandomised budget; set RISKASSESS_FUZZ_EXAMPLES for a longer run.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, RULES, VOCAB, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskassess.errors import ExitCode

pytestmark = pytest.mark.slow

FACTS = VOCAB.facts  # every fact of rules/syria/facts.yaml

BUDGET = int(os.environ.get("RISKASSESS_FUZZ_EXAMPLES", "100"))
ALLOWED = {int(c) for c in ExitCode} - {int(ExitCode.INTERNAL)}
SETTINGS = settings(max_examples=BUDGET, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# the strategies added with issue 12 (nesting, special files) run 100 examples in CI
EXTRA = settings(SETTINGS, max_examples=BUDGET if "RISKASSESS_FUZZ_EXAMPLES" in os.environ
                 else 100)
FOLDER = Path(tempfile.mkdtemp(prefix="riskassess-fuzz-"))
atexit.register(shutil.rmtree, FOLDER, ignore_errors=True)  # FIFOs and rule copies included
LIMIT = 10  # seconds any one run may take


@contextlib.contextmanager
def deadline(seconds: float = LIMIT):
    """Fail (rather than hang the suite) if the block runs longer than `seconds`."""
    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def process_stack():
    """The recursion limit of a real process: hypothesis raises it while it runs, which
    would hide a crash of a recursive reader (RecursionError) on deep nesting."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def run_checked(*args: str, shown: object = None):
    start = time.monotonic()
    with deadline(), process_stack():
        r = run_cli(*args)
    assert time.monotonic() - start < LIMIT
    assert r.code in ALLOWED, (r.code, args, shown, r.err[-2000:])
    assert "Traceback" not in r.err and "Traceback" not in r.out, r.err[-2000:]
    if r.code:
        assert r.err.startswith("error: ") or r.err.startswith("Usage:"), r.err[:300]
    return r


def check(data: bytes, *extra: str) -> None:
    path = FOLDER / "case.yaml"
    path.write_bytes(data)
    run_checked("evaluate", str(path), "--today", "2024-06-01", *extra, shown=data[:300])


FACT_KEYS = [p.split(".", 1)[1] for p in FACTS]
# mostly real fact names, with their own values or near misses, so that the fuzzer reaches
# the model and the engine and does not stop at "unknown key"
keys = st.one_of(st.sampled_from(FACT_KEYS), st.sampled_from(FACT_KEYS),
                 st.sampled_from(FACT_KEYS), st.text(max_size=12))
fact_values = st.one_of(
    st.sampled_from([v for spec in FACTS.values() for v in spec.values if isinstance(v, str)]),
    st.sampled_from(["0000", "0001", "1899", "2101", "2024-12-08", "2025-01", "2013-04-31",
                     "2024-02-29", "2023-02-29", "99999", "-1", "2013-4"]),
    st.lists(st.sampled_from(FACTS["applicant.exclusion_indicators"].values), max_size=5))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=20), st.sampled_from(
                        ["unknown", "yes", "no", "on", "2013", "2013-13", "0000", "9999-12-31",
                         "2024-02-30", "deserter", "officer", "[]", "~", "", "2024-12-08"]))
values = st.recursive(st.one_of(scalars, fact_values), lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=10)


@st.composite
def case_dicts(draw):
    applicant = draw(st.dictionaries(keys, values, max_size=12))
    top = {"format": draw(st.one_of(st.just(1), values)),
           "assessment_date": draw(st.one_of(st.just("2024-06-01"), values)),
           "applicant": applicant}
    for key in draw(st.lists(st.sampled_from(list(top)), max_size=2)):
        top.pop(key, None)
    if draw(st.booleans()):
        top[draw(st.text(max_size=10))] = draw(values)
    return top


VALID = ("format: 1\ncase_id: FUZZ-1\nassessment_date: 2024-06-01\napplicant:\n"
         "  sex: male\n  military_status: deserter\n  force: armed_forces\n  rank: officer\n"
         "  desertion_date: 2013-04\n  desertion_type: external\n"
         "  fought_against_government: false\n  reconciliation_status: settled\n"
         "  conscientious_objection: religious\n  exclusion_indicators: [senior_command_role]\n")


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes(data):
    check(data)


@SETTINGS
@given(st.text(max_size=2000))
def test_any_text(text):
    check(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(case_dicts(), st.sampled_from(["text", "json", "markdown"]))
def test_case_dictionaries(data, fmt):
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return
    check(text.encode("utf-8", "surrogatepass"), "--format", fmt)


@SETTINGS
@given(st.integers(min_value=0, max_value=len(VALID)), st.integers(min_value=0, max_value=40),
       st.text(max_size=20))
def test_near_valid_files(position, cut, insert):
    mutated = VALID[:position] + insert + VALID[position + cut:]
    check(mutated.encode("utf-8", "surrogatepass"))


ODD = st.one_of(fact_values, scalars)


@SETTINGS
@given(st.data())
def test_valid_case_with_one_odd_fact(data):
    """Every fact valid but one, so that the odd value reaches the model and the engine."""
    applicant = {}
    for path, spec in FACTS.items():
        key = path.split(".", 1)[1]
        if spec.kind == "date":
            applicant[key] = data.draw(st.sampled_from(["2013", "2013-04", "2013-04-15",
                                                        "unknown"]))
        elif spec.kind == "set":
            applicant[key] = data.draw(st.lists(st.sampled_from(spec.values), unique=True))
        else:
            applicant[key] = data.draw(st.sampled_from(list(spec.values) + ["unknown"]))
    if applicant["military_status"] in ("draft_evader", "never_served"):
        applicant["desertion_type"] = applicant["desertion_date"] = "unknown"
    odd = data.draw(st.sampled_from(FACT_KEYS))
    applicant[odd] = data.draw(ODD)
    day = data.draw(st.sampled_from(["2024-06-01", "2026-01-15", "2025-01-10"]))
    text = yaml.safe_dump({"assessment_date": day, "applicant": applicant}, allow_unicode=True)
    check(text.encode("utf-8", "surrogatepass"), "--format",
          data.draw(st.sampled_from(["json", "text"])))


# ------------------------------------------------------------------ nesting (issue 12)

# where the nesting starts: text, the column a block collection must start at, and
# whether it must start on a line of its own (after "key: ")
PREFIXES = [("", 0, False), ("applicant:\n  rank: ", 4, True),
            ("applicant:\n  exclusion_indicators: ", 4, True),
            ("assessment_date: 2024-06-01\napplicant:\n  ", 2, False)]


def nested(block: list[str], flow: list[str], leaf: str, prefix: tuple[str, int, bool]) -> str:
    """Valid YAML: block lists and mappings ('-' or 'a:', outermost first), then flow ones
    ('[' or '{') inside them, then a leaf."""
    text, column, own_line = prefix
    out = [text]
    for style in block:
        if own_line:
            out.append("\n" + " " * column)
            own_line = False
        if style == "a:":
            out.append("a:\n" + " " * (column + 1))
            column += 1
        else:
            out.append("- ")
            column += 2
    out.extend("[" if style == "[" else "{a: " for style in flow)
    out.append(leaf)
    out.extend("]" if style == "[" else "}" for style in reversed(flow))
    return "".join(out) + "\n"


@st.composite
def nestings(draw, kinds: str):
    """Around the limit, and far past it (libyaml itself stops at 1,000)."""
    depth = draw(st.one_of(st.integers(0, 8), st.integers(55, 75), st.integers(60, 1200)))
    pattern = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=4))
    return [pattern[i % len(pattern)] for i in range(depth)]


leaves = st.sampled_from(["x", "officer", "1", "", "[]", "{}", "unknown", "'q'"])
RULE_COPY = FOLDER / "rules"
shutil.copytree(RULES, RULE_COPY)
CASE = str(EXAMPLES / "officer-fled-abroad.yaml")


@EXTRA
@given(nestings(["-", "a:"]), nestings(["[", "{"]), leaves, st.sampled_from(PREFIXES))
def test_nested_case_files(block, flow, leaf, prefix):
    check(nested(block, flow, leaf, prefix).encode("utf-8"))


@EXTRA
@given(nestings(["-", "a:"]), nestings(["[", "{"]), leaves)
def test_nested_rule_files(block, flow, leaf):
    target = RULE_COPY / "euaa-syria-2024" / "risk.yaml"
    text = nested(block, flow, leaf, ("format: 1\nquestion: risk\nrules:\n  - when: ", 6, True))
    target.write_text(text, encoding="utf-8")
    run_checked("evaluate", CASE, "--rules-dir", str(RULE_COPY), shown=text[:300])


# ------------------------------------------------------------------ special files (issue 12)


def make_special(kind: str, path: Path) -> socket.socket | None:
    """Make `path` a special file of `kind`; a socket must stay open while it is used."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind in ("/dev/zero", "/dev/urandom", "/dev/null", "/dev/full"):
        path.symlink_to(kind)
    elif kind == "symlink loop":
        path.symlink_to(path.name)
    elif kind == "dangling symlink":
        path.symlink_to(path.with_name("gone.yaml"))
    elif kind == "directory":
        path.mkdir()
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        return server
    elif kind == "character device":
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))
    elif kind == "block device":
        os.mknod(path, stat.S_IFBLK | 0o600, os.makedev(7, 0))
    return None


KINDS = ["fifo", "/dev/zero", "/dev/urandom", "/dev/null", "/dev/full", "symlink loop",
         "dangling symlink", "directory", "socket", "under a file"]
DEVICES = ["character device", "block device"]


# Every way a command reads a file the user names, or a file of a rule set.
COMMANDS = {
    "evaluate": lambda path, rules: ["evaluate", str(path)],
    "explain": lambda path, rules: ["explain", str(path)],
    "train --answers": lambda path, rules: ["train", "--answers", str(path)],
    "rule file": lambda path, rules: ["evaluate", CASE, "--rules-dir", str(rules)],
    "catalog": lambda path, rules: ["rules", "list", "--rules-dir", str(rules)],
}


def try_special(kind: str, command: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="s", dir=FOLDER))
    if command in ("rule file", "catalog"):
        shutil.copytree(RULES, folder / "rules")
        path = folder / "rules" / ("editions.yaml" if command == "catalog"
                                   else "euaa-syria-2024/risk.yaml")
        path.unlink()
    else:
        path = folder / "case.yaml"
    if kind == "under a file":  # a path through a regular file: ENOTDIR
        if command in ("rule file", "catalog"):
            return  # a rule set's file names are fixed: nothing to try
        path.parent.joinpath("file").write_text("x")
        path = path.parent / "file" / path.name
    args = COMMANDS[command](path, folder / "rules")
    server = make_special(kind, path)
    try:
        r = run_checked(*args, shown=(kind, command))
        if kind != "directory" or command not in ("evaluate", "explain"):
            assert r.code, (kind, command, r.out[:300])  # refused, never assessed
    finally:
        if server is not None:
            server.close()
        shutil.rmtree(folder, ignore_errors=True)


@EXTRA
@given(st.sampled_from(KINDS), st.sampled_from(list(COMMANDS)))
def test_special_files(kind, command):
    try_special(kind, command)


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device node needs root")
@EXTRA
@given(st.sampled_from(DEVICES), st.sampled_from(list(COMMANDS)))
def test_device_nodes(kind, command):
    try_special(kind, command)
