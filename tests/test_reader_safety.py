"""The one reader (issue 12, part 1): whatever a path names, the tool refuses it quickly,
clearly and without a traceback unless it is a small regular UTF-8 YAML file.

Special files are tried through the installed command in a real process with a timeout,
so that a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

import pexpect
import pytest
from conftest import EXAMPLES, RULES, TOOL, VOCAB, run_cli, spawn_tool, tool_env

from riskassess.errors import CaseFileError, Problem, capped
from riskassess.io.reader import MAX_DEPTH
from riskassess.law.case import load_case

CASE = str(EXAMPLES / "officer-fled-abroad.yaml")
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device node needs root")


def real(*args: str) -> subprocess.CompletedProcess:
    """Run the installed `riskassess` in its own process; a hang fails after 10 s."""
    proc = subprocess.run([*TOOL, *args], capture_output=True, text=True, timeout=10,
                          stdin=subprocess.DEVNULL, env=tool_env())
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return proc


def refused(path: Path, message: str) -> None:
    proc = real("evaluate", str(path))
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == f"error: {path}: {message}\n"


# ------------------------------------------------------------------ special files


def test_a_fifo_with_no_writer_is_refused_at_once(tmp_path):
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)
    refused(fifo, "is a named pipe (FIFO), not a YAML file")


def test_dev_zero_through_a_symlink_is_refused_as_a_device(tmp_path):
    link = tmp_path / "case.yaml"
    link.symlink_to("/dev/zero")
    refused(link, "is a device (character special file), not a YAML file")


def test_dev_urandom_is_refused_as_a_device():
    refused(Path("/dev/urandom"), "is a device (character special file), not a YAML file")


@ROOT_ONLY
@pytest.mark.parametrize("kind, mode, device", [
    ("character special file", stat.S_IFCHR, (1, 5)),  # the numbers of /dev/zero
    ("block special file", stat.S_IFBLK, (7, 0)),  # a loop device
])
def test_a_device_node_made_with_mknod_is_refused(tmp_path, kind, mode, device):
    node = tmp_path / "case.yaml"
    os.mknod(node, mode | 0o600, os.makedev(*device))
    refused(node, f"is a device ({kind}), not a YAML file")


def test_a_socket_is_refused():
    folder = Path(tempfile.mkdtemp(prefix="ra-"))  # a short path: sockets allow 108 bytes
    path = folder / "case.yaml"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        refused(path, "is a socket, not a YAML file")
    finally:
        server.close()
        shutil.rmtree(folder)


def test_a_symlink_loop_is_named_as_such(tmp_path):
    loop = tmp_path / "case.yaml"
    loop.symlink_to(loop.name)
    refused(loop, "symbolic link loop: the link points (through others) back at itself")


def test_a_dangling_symlink_is_no_such_file(tmp_path):
    link = tmp_path / "case.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    refused(link, "no such file")


def test_a_fifo_as_the_editions_catalog_is_refused_with_exit_4(rules):
    catalog = rules / "editions.yaml"
    catalog.unlink()
    os.mkfifo(catalog)
    proc = real("evaluate", CASE, "--rules-dir", str(rules))
    assert proc.returncode == 4
    assert proc.stderr == f"error: {catalog}: is a named pipe (FIFO), not a YAML file\n"


def test_a_fifo_as_train_answers_is_refused(tmp_path):
    fifo = tmp_path / "answers.yaml"
    os.mkfifo(fifo)
    proc = real("train", "--answers", str(fifo))
    assert proc.returncode == 3
    assert f"error: {fifo}: is a named pipe (FIFO), not a YAML file" in proc.stderr


def test_the_size_limit_holds_while_reading(tmp_path, monkeypatch):
    """A file that reports a size of 0 (as /proc files do) is read only up to the limit:
    the reader never asks for more than MAX_BYTES + 1 bytes in all."""
    from riskassess.io import reader as yamlio

    path = tmp_path / "case.yaml"
    path.write_bytes(b"# " + b"x" * (2 * yamlio.MAX_BYTES))
    real_fstat, real_read, asked = os.fstat, os.read, []

    def size_zero(fd):
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid,
                               st.st_gid, 0, 0, 0, 0))

    def counting(fd, n):
        asked.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(yamlio.os, "fstat", size_zero)
    monkeypatch.setattr(yamlio.os, "read", counting)
    with pytest.raises(CaseFileError) as exc:
        load_case(path, VOCAB)
    monkeypatch.undo()
    assert str(exc.value) == f"{path}: file is larger than the limit of 1,048,576 bytes (1 MiB)"
    assert sum(asked) <= yamlio.MAX_BYTES + 1


# ------------------------------------------------------------------ deep nesting

DEEP = 500


def opening(text: str, n: int) -> str:
    """LINE:COLUMN of the n-th '[' or '{' of a text."""
    starts = [i for i, ch in enumerate(text) if ch in "[{"]
    before = text[:starts[n - 1]]
    return f"{before.count(chr(10)) + 1}:{len(before) - (before.rfind(chr(10)) + 1) + 1}"


def deep_texts() -> dict[str, tuple[str, str]]:
    """Case files nested DEEP levels, and where the first level too many starts."""
    over = MAX_DEPTH + 1  # the first level too many, counting the top level as 1
    mixed = "applicant:\n  rank: " + "[{a: " * (DEEP // 2) + "}]" * (DEEP // 2) + "\n"
    return {
        "flow-lists": ("[" * DEEP + "]" * DEEP + "\n", f"1:{over}"),
        "flow-mappings": ("{a: " * DEEP + "}" * DEEP + "\n", f"1:{4 * (over - 1) + 1}"),
        "block-sequences": ("- " * DEEP + "x\n", f"1:{2 * (over - 1) + 1}"),
        "block-mappings": ("".join(" " * i + "a:\n" for i in range(DEEP)), f"{over}:{over}"),
        "mixed": (mixed, opening(mixed, over - 2)),  # under applicant (2 levels) in rank
    }


@pytest.mark.parametrize("style", list(deep_texts()))
def test_a_500_deep_case_file_gives_a_located_error(tmp_path, style):
    text, where = deep_texts()[style]
    path = tmp_path / "deep.yaml"
    path.write_text(text, encoding="utf-8")
    assert len(text) < 200_000
    proc = real("evaluate", str(path))
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert proc.stderr == (f"error: {path}:{where}: too deeply nested "
                           f"(more than {MAX_DEPTH} levels)\n")


def test_the_shipped_files_are_far_from_the_depth_limit():
    import yaml

    def depth(node) -> int:
        if isinstance(node, yaml.MappingNode):
            return 1 + max((depth(v) for _, v in node.value), default=0)
        if isinstance(node, yaml.SequenceNode):
            return 1 + max((depth(v) for v in node.value), default=0)
        return 0

    files = list(RULES.rglob("*.yaml")) + list(EXAMPLES.glob("*.yaml"))
    assert max(depth(yaml.compose(p.read_text(encoding="utf-8"))) for p in files) * 4 \
        <= MAX_DEPTH


def test_a_1kb_file_500_deep_is_refused_by_load_case(tmp_path):
    """interview --from reads its file with load_case, like evaluate."""
    path = tmp_path / "deep.yaml"
    path.write_text("applicant: " + "[" * DEEP + "]" * DEEP + "\n", encoding="utf-8")
    with pytest.raises(CaseFileError) as exc:
        load_case(path, VOCAB)
    assert str(exc.value) == (f"{path}:{opening(path.read_text(), MAX_DEPTH)}: too deeply "
                              f"nested (more than {MAX_DEPTH} levels)")


def test_interview_from_a_500_deep_file(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("- " * DEEP + "x\n", encoding="utf-8")
    child = spawn_tool("interview", "--from", str(path), env=tool_env(NO_COLOR="1"),
                       timeout=10, cwd=tmp_path)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3
    assert "too deeply nested" in child.before and "Traceback" not in child.before


def test_a_500_deep_rule_file_gives_exit_4(rules):
    risk = rules / "euaa-syria-2024" / "risk.yaml"
    text = ("format: 1\nquestion: risk\nrules:\n  - when: "
            + "{all: [" * DEEP + "]}" * DEEP + "\n")
    risk.write_text(text, encoding="utf-8")
    proc = real("evaluate", CASE, "--rules-dir", str(rules))
    assert proc.returncode == 4, proc.stderr[-2000:]
    where = opening(text, MAX_DEPTH + 1 - 3)  # below the top, the rules list and one rule
    assert proc.stderr == (f"error: {risk}:{where}: too deeply nested "
                           f"(more than {MAX_DEPTH} levels)\n")


# ------------------------------------------------------------------ encodings


@pytest.mark.parametrize("codec, bom, name", [
    ("utf-16-le", b"", "UTF-16 (little-endian)"),
    ("utf-16-le", b"\xff\xfe", "UTF-16 (little-endian)"),
    ("utf-16-be", b"", "UTF-16 (big-endian)"),
    ("utf-16-be", b"\xfe\xff", "UTF-16 (big-endian)"),
    ("utf-32-le", b"", "UTF-32 (little-endian)"),
    ("utf-32-le", b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    ("utf-32-be", b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
])
def test_utf16_and_utf32_are_named(tmp_path, codec, bom, name):
    path = tmp_path / "case.yaml"
    path.write_bytes(bom + "assessment_date: 2024-06-01\napplicant:\n  sex: männlich\n"
                     .encode(codec))
    r = run_cli("evaluate", str(path))
    assert r.code == 3
    assert r.err == (f"error: {path}: looks like {name} text; riskassess reads UTF-8 only: "
                     "save the file as UTF-8\n")


def test_a_binary_file_is_still_called_binary(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    r = run_cli("evaluate", str(path))
    assert r.code == 3 and "looks like a binary file" in r.err


# ------------------------------------------------------------------ look-alikes, quotes


@pytest.mark.parametrize("line, message", [
    # the character to blame first, then what was meant (no list: the key is found)
    ("  r\u0430nk: officer",
     "applicant.r\u0430nk: unknown key 'r\u0430nk': it contains U+0430 CYRILLIC SMALL "
     "LETTER A at character 2 (looks like 'a'); did you mean 'rank'?"),
    ("  ra\u200bnk: officer",
     "unknown key 'ra\\u200bnk': it contains U+200B ZERO WIDTH SPACE at character 3 "
     "(invisible); did you mean 'rank'?"),
    ("  sex: male\u00a0",
     "applicant.sex: 'male\u00a0' is not an allowed value: it contains U+00A0 NO-BREAK "
     "SPACE at character 5 (looks like a space) (allowed: male, female, unknown)"),
    ("  rank: \u043efficer",
     "it contains U+043E CYRILLIC SMALL LETTER O at character 1 (looks like 'o')"),
    ("  sex: male\nassessment_date: \u0662\u0660\u0662\u0664-06-01",
     "it contains U+0662 ARABIC-INDIC DIGIT TWO at character 1 (looks like '2'), U+0660 "
     "ARABIC-INDIC DIGIT ZERO at character 2 (looks like '0') and 2 more"),
])
def test_look_alike_and_invisible_characters_are_pointed_out(tmp_path, line, message):
    path = tmp_path / "case.yaml"
    path.write_text(f"applicant:\n{line}\n", encoding="utf-8")
    r = run_cli("evaluate", str(path))
    assert r.code == 3
    assert message in r.err, r.err


def test_a_quoted_false_is_text_because_of_the_quotes(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text('applicant:\n  fought_against_government: "false"\n', encoding="utf-8")
    r = run_cli("evaluate", str(path))
    assert r.code == 3
    assert r.err == (f"error: {path}:2:30: applicant.fought_against_government: 'false' is "
                     "text here because of the quotes; write false without quotes (allowed: "
                     "true, false, unknown)\n")


def test_a_quoted_number_is_text_because_of_the_quotes(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text("format: '1'\n", encoding="utf-8")
    r = run_cli("evaluate", str(path))
    assert r.code == 3
    assert r.err == (f"error: {path}:1:9: format: '1' is text here because of the quotes; "
                     "write 1 without quotes (allowed: 1)\n")


# ------------------------------------------------------------------ the error cap


def test_thousands_of_bad_lines_print_a_capped_list(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text("applicant:\n" + "".join(f"  k{i}: x\n" for i in range(10_000)),
                    encoding="utf-8")
    proc = real("evaluate", str(path))
    assert proc.returncode == 3
    lines = proc.stderr.splitlines()
    assert len(lines) == 51
    assert lines[0].startswith(f"error: {path}:2:3: applicant.k0: unknown key 'k0'")
    assert lines[-1] == f"error: ... and 9,950 more problems in {path}"


def test_a_file_of_more_values_than_any_case_file_stops_at_the_limit(tmp_path):
    """80,000 bad lines: the reader stops at MAX_NODES, before validation describes them
    all (which took seconds and hundreds of MB)."""
    from riskassess.io.reader import MAX_NODES

    path = tmp_path / "case.yaml"
    path.write_text("applicant:\n" + "".join(f"  k{i}: x\n" for i in range(80_000)),
                    encoding="utf-8")
    proc = real("evaluate", str(path))
    assert proc.returncode == 3
    # the top mapping and applicant's are values 1 and 2: k0's is value 3, on line 2
    where = f"{MAX_NODES}:{len(f'  k{MAX_NODES - 2}: ') + 1}"
    assert proc.stderr == (f"error: {path}:{where}: too many values (the limit is "
                           f"{MAX_NODES:,}; a case file holds a few dozen): is it the right "
                           "file?\n")


def test_the_cap_counts_the_rest_per_file():
    problems = [Problem("a.yaml", i, 1, "", "bad") for i in range(1, 5)] + \
               [Problem("b.yaml", 1, 1, "", "bad")] + ["c.yaml: cannot be read"]
    assert capped(problems, limit=2) == [
        "a.yaml:1:1: bad", "a.yaml:2:1: bad",
        "... and 2 more problems in a.yaml", "... and 1 more problem in b.yaml",
        "... and 1 more problem"]
    assert capped(problems[:3], limit=3) == ["a.yaml:1:1: bad", "a.yaml:2:1: bad",
                                             "a.yaml:3:1: bad"]
