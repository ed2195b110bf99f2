"""A rules folder (`--rules-dir`) is input too: what lies in it, what its constraints say,
what its catalog names, and the compiled cache made from it.

Each test builds a real folder from a copy of the shipped rules: a symlink to /dev/zero, a
FIFO (os.mkfifo), a sparse 60 MB file, a planted rule, two contradictory constraints, a
catalog without an entry, a pickle with one word changed, a home that does not exist."""

from __future__ import annotations

import subprocess

import pytest
from conftest import (
    CONSTRAINT,
    EXAMPLES,
    TOOL,
    drop_catalog_entry,
    edit,
    plant_contradiction,
    plant_stray,
    plant_unchecked_rule,
    run_cli,
    tool_env,
)

from riskassess.assess import cache as bundle
from riskassess.cli import fast
from riskassess.errors import ExitCode

E24 = "euaa-syria-2024"
E25 = "euaa-syria-2025-12"
TODAY = ["--today", "2026-12-01"]
CASE = str(EXAMPLES / "deserter-2026.yaml")
DESERTER_2024 = str(EXAMPLES / "daraa-conscript-amnesty.yaml")


# ------------------------------------------------------------ 3. what lies in the folder


@pytest.mark.parametrize("kind", ["symlink to /dev/zero", "FIFO"])
def test_a_special_file_in_the_folder_is_an_error_of_rules_check(rules, kind):
    path = plant_stray(rules, kind)
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS, r.out
    first = r.out.splitlines()[0]
    assert first.startswith(f"{path}: ") and "not a YAML file" in first, first
    assert "no edition names it" in first


def test_a_huge_stray_file_is_a_warning_of_rules_check(rules):
    path = plant_stray(rules, "60 MB file")
    r = run_cli("rules", "check", str(rules))
    assert r.code == 0, r.out
    first = r.out.splitlines()[0]
    assert first.startswith(f"{path}: warning: ") and "no edition names it" in first, first
    assert "62,914,560 bytes" in first


def test_a_stray_yaml_file_is_a_warning_and_nothing_else(rules, cache):
    stray = rules / "drafts" / "risk-old.yaml"
    stray.parent.mkdir()
    stray.write_text("format: 1\nquestion: risk\nrules: []\n", encoding="utf-8")
    r = run_cli("rules", "check", str(rules))
    assert r.code == 0 and f"{stray}: warning: " in r.out
    key = bundle.key(rules)
    stray.write_text("anything at all", encoding="utf-8")
    assert bundle.key(rules) == key  # not part of the rule set: not hashed


@pytest.mark.parametrize("kind", ["symlink to /dev/zero", "FIFO", "60 MB file"])
def test_a_stray_special_or_huge_file_is_ignored_by_evaluate(rules, cache, kind):
    args = ["evaluate", CASE, "--rules-dir", str(rules), "-f", "json", *TODAY]
    clean = run_cli(*args)
    assert clean.code == 0
    key = bundle.key(rules)
    plant_stray(rules, kind)
    assert bundle.key(rules) == key  # the cache key reads only the rule set's files
    assert fast.answer(args) == clean.out  # so the cold start stays fast
    r = run_cli(*args)
    assert r.code == 0 and r.out == clean.out


def test_a_named_file_that_is_special_is_refused_where_named(rules):
    target = rules / "syria" / "questions.yaml"
    target.unlink()
    target.symlink_to("/dev/zero")
    for args in (["rules", "check", str(rules)],
                 ["evaluate", CASE, "--rules-dir", str(rules), *TODAY]):
        r = run_cli(*args)
        assert r.code in (ExitCode.FINDINGS, ExitCode.RULESET_ERROR), r
        text = r.out + r.err
        assert f"{target}: is a device (character special file), not a YAML file" in text


# --------------------------------------------- 4. loading refuses what the check refuses


def test_evaluate_refuses_a_rule_set_that_rules_check_rejects(rules):
    path = plant_unchecked_rule(rules)
    check = run_cli("rules", "check", str(rules))
    assert check.code == ExitCode.FINDINGS
    assert "persecution.deserters-excluded: conflicts with persecution.severe-acts" in check.out
    for args in (["evaluate", DESERTER_2024, "--rules-dir", str(rules)],
                 ["explain", DESERTER_2024, "--rules-dir", str(rules)],
                 ["rules", "list", "--rules-dir", str(rules)]):
        r = run_cli(*args)
        assert r.code == ExitCode.RULESET_ERROR, (args, r.out[:300])
        assert r.out == ""
        assert f"{path}:" in r.err
        assert "conflicts with persecution.severe-acts" in r.err


def test_no_bundle_is_built_from_a_rule_set_the_check_rejects(rules, cache):
    plant_unchecked_rule(rules)
    args = ["evaluate", DESERTER_2024, "--rules-dir", str(rules), "-f", "json"]
    assert run_cli(*args).code == ExitCode.RULESET_ERROR
    assert fast.answer(args) is None
    assert not list(cache.glob("*.pickle"))


def test_the_check_runs_once_per_version_of_the_rule_set(rules, cache, monkeypatch):
    """With a cache, that the check passed is recorded for exactly those bytes: a process
    loading the same files again does not run it, and an edited file runs it again."""
    from riskassess.assess import cache as sound

    args = ["evaluate", DESERTER_2024, "--rules-dir", str(rules), "-f", "markdown"]
    sound.forget()  # what this process proved before (the same rules, in another test)
    assert run_cli(*args).code == 0
    runs = []
    real = sound.check_errors
    monkeypatch.setattr(sound, "check_errors", lambda path: runs.append(path) or real(path))
    sound.forget()
    assert run_cli(*args).code == 0 and runs == []
    plant_unchecked_rule(rules)
    sound.forget()
    assert run_cli(*args).code == ExitCode.RULESET_ERROR and len(runs) == 1


# ------------------------------------------------------ 5. contradictory constraints


def test_contradictory_constraints_are_refused(rules):
    path = plant_contradiction(rules)
    check = run_cli("rules", "check", str(rules))
    assert check.code == ExitCode.FINDINGS
    first = check.out.splitlines()[0]
    assert first.startswith(f"{path}:"), first
    assert "applicant.desertion_type is external" in first, first
    assert "applicant.left_syria_after_desertion" in first, first
    r = run_cli("evaluate", str(EXAMPLES / "draft-evader.yaml"), "--rules-dir", str(rules))
    assert r.code == ExitCode.RULESET_ERROR and "applicant.desertion_type is external" in r.err


def test_constraints_that_leave_a_value_possible_pass(rules):
    # the same constraint twice is redundant, not contradictory
    edit(rules / "syria" / "facts.yaml", CONSTRAINT, CONSTRAINT + CONSTRAINT)
    assert run_cli("rules", "check", str(rules)).code == 0


# ----------------------------------------------------------- 6. a missing catalog entry


def test_a_folder_without_a_catalog_entry_is_named_first(rules):
    drop_catalog_entry(rules)
    r = run_cli("rules", "check", str(rules))
    assert r.code == ExitCode.FINDINGS
    lines = r.out.splitlines()
    assert lines[0].startswith(f"{rules / 'editions.yaml'}:"), lines[0]
    assert f"'{E25}'" in lines[0] and "no entry" in lines[0], lines[0]
    assert not any("a paragraph of no edition" in line for line in lines), lines
    ev = run_cli("evaluate", DESERTER_2024, "--rules-dir", str(rules))
    assert ev.code == ExitCode.RULESET_ERROR and "no entry" in ev.err.splitlines()[0], ev.err


# ------------------------------------------------------------ 7. the cache is verified


def test_a_changed_byte_in_the_cached_bundle_is_never_used(rules, cache):
    args = ["evaluate", CASE, "--rules-dir", str(rules), "-f", "json", *TODAY]
    good = run_cli(*args)
    assert good.code == 0 and "so read the full sections" in good.out
    (pickled,) = cache.glob("*.pickle")
    data = pickled.read_bytes()
    assert b"so read the full sections" in data
    pickled.write_bytes(data.replace(b"so read the full sections",
                                     b"so read the fall sections", 1))  # same length
    assert fast.answer(args) is None  # the digest does not match: not used
    r = run_cli(*args)
    assert r.out == good.out  # the slow path, from the rule files
    assert fast.answer(args) == good.out  # and the bundle was rebuilt


# --------------------------------------------------------- 8. no usable cache folder


@pytest.mark.parametrize("home", ["unset", "", "nonexistent", "relative", "a file"])
def test_no_usable_home_means_no_cache_and_nothing_created(tmp_path, home):
    env = tool_env()
    for name in ("RISKASSESS_CACHE_DIR", "XDG_CACHE_HOME", "HOME"):
        env.pop(name, None)
    work = tmp_path / "work"
    work.mkdir()
    if home == "nonexistent":
        env["HOME"] = str(tmp_path / "nonexistent")
    elif home == "relative":
        env["HOME"] = "relative-home"
    elif home == "a file":
        (tmp_path / "file").write_text("x")
        env["HOME"] = str(tmp_path / "file")
    elif home == "":
        env["HOME"] = ""
    env["XDG_CACHE_HOME"] = "relative-xdg"  # relative: ignored, as the XDG spec says
    before = sorted(p.name for p in tmp_path.iterdir())
    r = subprocess.run([*TOOL, "evaluate", CASE, "-f", "json", *TODAY], env=env,
                       capture_output=True, text=True, cwd=work)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert list(work.iterdir()) == []


def test_cache_folder_choice(tmp_path, monkeypatch):
    monkeypatch.delenv("RISKASSESS_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    for home in (None, "", "/nonexistent", "relative", str(tmp_path / "missing")):
        if home is None:
            monkeypatch.delenv("HOME", raising=False)
        else:
            monkeypatch.setenv("HOME", home)
        assert bundle.cache_dir() is None, home
    monkeypatch.setenv("HOME", str(tmp_path))
    assert bundle.cache_dir() == tmp_path / ".cache" / "riskassess"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    assert bundle.cache_dir() == tmp_path / ".cache" / "riskassess"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "no-such-xdg"))
    assert bundle.cache_dir() == tmp_path / ".cache" / "riskassess"
    (tmp_path / "xdg").mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert bundle.cache_dir() == tmp_path / "xdg" / "riskassess"
    monkeypatch.setenv("HOME", "/")  # its .cache would be a folder at the root
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert bundle.cache_dir() is None
    # a folder named outright: not the root, not relative (found by an independent tester:
    # RISKASSESS_CACHE_DIR=/ wrote a pickle at the root; a relative one followed the cwd)
    for named in ("/", "relcache", "./x", "/.", "//"):
        monkeypatch.setenv("RISKASSESS_CACHE_DIR", named)
        assert bundle.cache_dir() is None, named
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(tmp_path / "c"))
    assert bundle.cache_dir() == tmp_path / "c"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(folder))
    return folder
