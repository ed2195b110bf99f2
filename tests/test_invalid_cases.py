"""One bad case file per failure mode: exit code, location and message.

Each file in tests/data/invalid/ starts with a comment
    # expect: EXIT LINE:COLUMN MESSAGE        (or '-' when the problem has no position)
Files that cannot carry a comment (empty, binary) are listed in NO_HEADER.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import DATA, run_cli

INVALID = sorted((DATA / "invalid").glob("*.yaml"))
NO_HEADER = {
    "empty.yaml": (3, None, "the file is empty (or holds only comments)"),
    "binary.yaml": (3, "1:1", "contains NUL bytes: this looks like a binary file"),
    # evaluate reads a folder as a batch: one with no case file in it is a usage error
    "a-directory.yaml": (2, None, "no case files (*.yaml, *.yml, *.json or *.jsonl) in"),
}
HEADER = re.compile(rb"^# expect: (\d+) (\d+:\d+|-) (.+)$")


def expectation(path: Path) -> tuple[int, str | None, str]:
    if path.name in NO_HEADER:
        return NO_HEADER[path.name]
    first = path.read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    m = HEADER.match(first)
    assert m, f"{path.name}: first line must be '# expect: EXIT LINE:COL MESSAGE'"
    where = m.group(2).decode()
    return int(m.group(1)), None if where == "-" else where, m.group(3).decode()


def test_the_corpus_has_one_file_per_failure_mode_and_at_least_forty():
    assert len(INVALID) >= 40


def test_the_corpus_covers_the_failure_modes_of_issue_2():
    names = {p.name for p in INVALID}
    for required in ("unknown-key.yaml", "wrong-value.yaml", "duplicate-key-top.yaml",
                     "duplicate-key-nested.yaml", "bad-date-calendar.yaml", "syntax-error.yaml",
                     "empty.yaml"):
        assert required in names


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_bad_case_file(path: Path):
    code, where, message = expectation(path)
    r = run_cli("evaluate", str(path))
    assert r.code == code, r.err
    if code == 0:  # accepted (e.g. a byte-order mark): no error at all
        assert r.err == "" and r.out
        return
    assert r.out == ""
    assert "Traceback" not in r.err
    prefix = (f"error: {path}:{where}: " if where else f"error: {path}: ") if code != 2 \
        else "error: riskassess: "
    lines = [line for line in r.err.splitlines() if line.startswith(prefix)]
    assert lines, f"no error located at {where}:\n{r.err}"
    assert any(message in line for line in lines), r.err


def test_all_problems_of_a_file_come_in_one_pass(tmp_path):
    bad = tmp_path / "many.yaml"
    bad.write_text(
        "case_id: has spaces\n"
        "assessment_date: 2024-02-30\n"
        "applicant:\n"
        "  sex: yes\n"
        "  rank: general\n"
        "  rank: officer\n"
        "  militray_status: deserter\n", encoding="utf-8")
    r = run_cli("evaluate", str(bad))
    assert r.code == 3
    located = [line.split(": ")[1] for line in r.err.splitlines()]
    assert located == [f"{bad}:{pos}" for pos in ("1:10", "2:18", "4:8", "5:9", "6:3", "7:3")]


def test_error_messages_show_the_offending_value_not_the_case(tmp_path):
    bad = tmp_path / "private.yaml"
    bad.write_text("case_id: SECRET-NAME-123\napplicant:\n  rank: general\n  sex: male\n",
                   encoding="utf-8")
    r = run_cli("evaluate", str(bad))
    assert "general" in r.err
    assert "SECRET-NAME-123" not in r.err and "male" not in r.err.replace("female", "")


def test_oversized_file_is_refused(tmp_path):
    from riskassess.io.reader import MAX_BYTES

    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_BYTES + "\n", encoding="utf-8")
    r = run_cli("evaluate", str(big))
    assert r.code == 3 and "the limit is" in r.err


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfassessment_date: 2024-06-01\napplicant:\n  sex: male\n")
    assert run_cli("evaluate", str(path)).code == 0


def test_an_unreadable_file_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "locked.yaml"
    path.write_text("applicant:\n  sex: male\n", encoding="utf-8")

    import os

    real_open = os.open

    def denied(name, *args, **kwargs):
        if str(name) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(name, *args, **kwargs)

    # the suite may run as root, for whom chmod 000 does not stop a read: simulate it
    monkeypatch.setattr(os, "open", denied)
    r = run_cli("evaluate", str(path))
    assert r.code == 3
    assert r.err == f"error: {path}: permission denied: the file cannot be read\n"
