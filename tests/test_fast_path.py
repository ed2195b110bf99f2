"""The fast path of a cold `evaluate CASE` (riskassess/cli/fast.py, assess/cache.py).

It must print exactly what the full command line prints, for every example and format,
never be trusted when it should not be (a corrupt or foreign cache, changed rules), hand
everything else to the full path, and keep typer, pydantic and rich off its imports."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time

import pytest
from conftest import EXAMPLES, TOOL, edit, run_cli, tool_env

from riskassess.assess import cache as bundle
from riskassess.cli import fast

CASES = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
TODAY = ["--today", "2026-12-01"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(folder))
    return folder


@pytest.mark.parametrize("fmt", ["text", "text --full", "json", "jsonl", "outcomes"])
def test_every_example_prints_what_the_full_path_prints(built, monkeypatch, fmt):
    fmt, *more = fmt.split()
    for case in CASES:
        args = ["evaluate", str(case), "-f", fmt, *more, *TODAY]
        monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(built))
        quick = fast.answer(args)
        assert quick is not None, f"{case.name} was not answered by the fast path"
        monkeypatch.setenv("RISKASSESS_CACHE_DIR", "off")
        assert fast.answer(args) is None  # no cache: the full path answers
        full = run_cli(*args)
        assert full.code == 0, full.err
        assert quick == full.out, case.name


def test_the_full_path_builds_the_cache_and_the_next_start_uses_it(cache):
    case = str(EXAMPLES / "deserter-2026.yaml")
    assert fast.answer(["evaluate", case, *TODAY]) is None  # nothing cached yet
    first = run_cli("evaluate", case, *TODAY)
    assert first.code == 0 and list(cache.glob("*.pickle"))
    assert fast.answer(["evaluate", case, *TODAY]) == first.out
    mode = cache.stat().st_mode & 0o777
    assert mode == 0o700, oct(mode)


def test_a_corrupt_or_foreign_cache_is_ignored(built, cache):
    import shutil

    shutil.copytree(built, cache)
    case = str(EXAMPLES / "deserter-2026.yaml")
    assert fast.answer(["evaluate", case, *TODAY]) is not None
    (target,) = cache.glob("*.pickle")
    target.write_bytes(b"not a pickle")
    assert fast.answer(["evaluate", case, *TODAY]) is None
    target.write_bytes(pickle.dumps({"key": "something else"}))
    assert fast.answer(["evaluate", case, *TODAY]) is None
    shutil.rmtree(cache)
    shutil.copytree(built, cache)
    os.chmod(cache, 0o777)  # a folder others could write: not trusted
    try:
        assert fast.answer(["evaluate", case, *TODAY]) is None
    finally:
        os.chmod(cache, 0o700)
    (target,) = cache.glob("*.pickle")
    os.chmod(target, 0o666)
    assert fast.answer(["evaluate", case, *TODAY]) is None


def test_changed_rules_make_a_new_bundle(cache, rules):
    case = str(EXAMPLES / "deserter-2026.yaml")
    args = ["evaluate", case, "--rules-dir", str(rules), "-f", "json", *TODAY]
    before = run_cli(*args)
    assert before.code == 0 and fast.answer(args) == before.out
    edit(rules / "euaa-syria-2025-12" / "applicability.yaml", "so read the full sections",
         "so read the whole sections")
    assert fast.answer(args) is None  # the old bundle does not match the files
    after = run_cli(*args)
    assert "so read the whole sections" in after.out and fast.answer(args) == after.out


def test_an_unwritable_cache_costs_nothing(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(locked / "cache"))
    r = run_cli("evaluate", str(EXAMPLES / "deserter-2026.yaml"), *TODAY)
    assert r.code == 0 and "Guidance applied" in r.out and r.err == ""


@pytest.mark.parametrize("args", [
    ["evaluate"], ["evaluate", "a.yaml", "b.yaml"], ["evaluate", "x.yaml", "-o", "r.json"],
    ["evaluate", "x.yaml", "-f", "markdown"], ["evaluate", "x.yaml", "--bogus"],
    ["evaluate", "x.yaml", "--today", "2026-13-01"], ["rules", "list"], ["-h"],
    ["evaluate", "x.yaml", "-f"], ["evaluate", "x.yaml", "--format=json", "--format=text"],
    ["evaluate", "x.yaml", "-f", "json", "--full"], ["evaluate", "x.yaml", "--full", "--full"],
])
def test_anything_else_goes_to_the_full_path(built, monkeypatch, args):
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(built))
    assert fast.answer(args) is None


@pytest.mark.parametrize("content, code", [
    ("applicant: {military_status: deserter, rank: general}\n", 3),
    ("applicant: {country_of_origin: AF}\n", 7),
    ("{ broken\n", 3),
    ("applicant:\n  armed_groups:\n  - isil\n  - a: 1\n", 3),  # a mapping in a list
    ("applicant: {exclusion_indicators: [[senior_command_role]]}\n", 3),
])
def test_refused_cases_get_the_full_paths_errors(built, tmp_path, monkeypatch, content, code):
    case = tmp_path / "case.yaml"
    case.write_text(content)
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(built))
    assert fast.answer(["evaluate", str(case), *TODAY]) is None
    r = subprocess.run([*TOOL, "evaluate", str(case), *TODAY], capture_output=True, text=True,
                       env=tool_env(RISKASSESS_CACHE_DIR=str(built)), cwd=tmp_path)
    assert r.returncode == code and r.stdout == "" and r.stderr.startswith("error: ")


def test_a_cold_start_imports_no_typer_pydantic_or_rich(built):
    """Nor PyYAML (a plain case file is read without it) nor dataclasses (riskassess/record.py):
    each cost a cold start about a fifth of its time."""
    code = ("import sys\nfrom riskassess.cli import fast\n"
            f"fast.main(['evaluate', {str(EXAMPLES / 'deserter-2026.yaml')!r}, "
            "'--today', '2026-12-01'])\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
            "{'typer', 'click', 'pydantic', 'rich', 'jinja2', 'docx', 'reportlab', 'bidi', "
            "'arabic_reshaper', "
            "'starlette', 'uvicorn', 'anyio', 'h11', 'yaml', 'dataclasses', 'inspect'})\n"
            "sys.stderr.write(repr(heavy))\n")
    r = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True,
                       env=tool_env(RISKASSESS_CACHE_DIR=str(built)))
    assert r.returncode == 0, r.stderr
    assert r.stderr == "[]" and "Guidance applied" in r.stdout


def test_a_closed_pipe_ends_quietly(built):
    p = subprocess.Popen([*TOOL, "evaluate", str(EXAMPLES / "deserter-2026.yaml"), "-f", "json",
                          *TODAY], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=tool_env(RISKASSESS_CACHE_DIR=str(built)))
    p.stdout.read(10)
    p.stdout.close()
    assert p.wait(timeout=60) == 0 and p.stderr.read() == b""


def test_outcomes_line_names_the_file_as_given(built, monkeypatch):
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(built))
    line = json.loads(fast.answer(["evaluate", str(EXAMPLES / "deserter-2026.yaml"),
                                   "-f", "outcomes", *TODAY]))
    assert line["path"] == (EXAMPLES / "deserter-2026.yaml").as_posix()
    assert line["refused"] is None and line["edition"] == "euaa-syria-2025-12"


@pytest.mark.parametrize("kind", ["fifo", "devzero", "deep", "binary", "folder", "loop",
                                  "missing"])
def test_hostile_inputs_are_left_to_the_full_path(built, tmp_path, monkeypatch, kind):
    """Nothing odd is read by the fast path: it declines, at once, and the full path
    (tests/test_limits.py, test_reader_safety.py) refuses with its located errors."""
    import time

    case = tmp_path / "case.yaml"
    if kind == "fifo":
        os.mkfifo(case)
    elif kind == "devzero":
        case.symlink_to("/dev/zero")
    elif kind == "deep":
        case.write_text("a: " + "[" * 500 + "]" * 500 + "\n")
    elif kind == "binary":
        case.write_bytes(os.urandom(2048))
    elif kind == "folder":
        case.mkdir()
    elif kind == "loop":
        case.symlink_to(case)
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(built))
    start = time.monotonic()
    assert fast.answer(["evaluate", str(case), *TODAY]) is None
    assert time.monotonic() - start < 5


def test_a_symlinked_cache_folder_is_the_folder_it_leads_to(built, tmp_path, monkeypatch):
    link = tmp_path / "cache-link"
    link.symlink_to(built)
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(link))
    assert fast.answer(["evaluate", str(EXAMPLES / "deserter-2026.yaml"), *TODAY]) is not None


def test_settled_rule_files_are_trusted_by_their_stat_and_an_edit_is_still_seen(
        cache, rules, monkeypatch):
    """A bundle records the stat signature of the rule files that had settled when it was
    written; a start then reads none of them (only the catalog, for the bundle's name). An
    edit that keeps the size and puts the modification time back is still seen: the status
    change time moves (no user can set it back)."""
    from riskassess.io import reader

    monkeypatch.setattr(bundle, "SETTLED_NS", 0)  # every file settled at once
    case = str(EXAMPLES / "deserter-2026.yaml")
    args = ["evaluate", case, "--rules-dir", str(rules), "-f", "json", *TODAY]
    assert bundle.save(bundle.build(rules))
    found = bundle.load(rules)
    assert found is not None and set(found.stats) == set(found.files)
    reads = []
    real = reader.read_file_bytes
    monkeypatch.setattr(reader, "read_file_bytes", lambda *a, **k: reads.append(a) or real(*a, **k))
    before = fast.answer(args)
    ruled = [a for a in reads if str(a[0]).startswith(str(rules))]
    assert before is not None and ruled == [(rules / "editions.yaml",)]  # for the name alone
    target = rules / "euaa-syria-2025-12" / "applicability.yaml"
    old = target.stat()
    text = target.read_text(encoding="utf-8")
    edited = text.replace("so read the full sections", "so read the fuLL sections")
    assert edited != text and len(edited) == len(text)
    target.write_text(edited, encoding="utf-8")
    os.utime(target, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert target.stat().st_mtime_ns == old.st_mtime_ns and target.stat().st_size == old.st_size
    assert fast.answer(args) is None  # the bundle no longer matches: the full path answers


def test_a_recently_changed_rule_file_is_always_hashed(cache, rules, monkeypatch):
    monkeypatch.setattr(bundle, "SETTLED_NS", 10**18)  # every file changed "just now"
    assert bundle.save(bundle.build(rules))
    found = bundle.load(rules)  # checked by the files' bytes alone
    assert found is not None and found.stats == {}
    assert bundle._settled(os.stat(rules / "editions.yaml"), time.time_ns()) is False
    monkeypatch.setattr(bundle, "SETTLED_NS", 3_000_000_000)
    st = os.stat(rules / "editions.yaml")
    assert bundle._settled(st, max(st.st_mtime_ns, st.st_ctime_ns) + 3_000_000_001)
    assert not bundle._settled(st, max(st.st_mtime_ns, st.st_ctime_ns) + 2_999_999_999)
