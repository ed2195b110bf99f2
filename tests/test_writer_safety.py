"""The one safe writer: regular files only, never two outputs on one file, every OS error an
exit 6 with the path and the reason, nothing partial left; standard output failures; the
format taken from the --output extension."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT, run_cli, tool_env

from riskassess.errors import ExitCode, OutputError, UsageError

CASE = str(EXAMPLES / "officer-fled-abroad.yaml")
OTHER = str(EXAMPLES / "draft-evader-2026.yaml")
EXE = str(Path(sys.executable).parent / "riskassess")
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


def partial_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


@pytest.fixture
def no_hang():
    """Abort a test that blocks (e.g. on opening a FIFO) instead of hanging the suite."""
    def expired(signum, frame):
        raise TimeoutError("blocked for 20 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------ only regular files are replaced

def _device(path: Path) -> None:
    if not ROOT_USER:
        pytest.skip("making a device node (mknod) needs root")
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a second /dev/null


def _socket(path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()  # the socket file stays


def _link_to_file(path: Path) -> None:
    (path.parent / "mine.md").write_bytes(b"mine")
    path.symlink_to(path.parent / "mine.md")


SPECIAL = {
    "device": (_device, "character device"),
    "fifo": (os.mkfifo, "FIFO"),
    "socket": (_socket, "socket"),
    "directory": (os.mkdir, "is a directory"),
    "symlink to a file": (_link_to_file, "is a symbolic link; name the file itself"),
    "symlink to stdout": (lambda p: p.symlink_to("/proc/self/fd/1"),
                          "is a symbolic link; name the file itself"),
    "dangling symlink": (lambda p: p.symlink_to(p.parent / "nowhere.md"),
                         "is a symbolic link; name the file itself"),
}


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["", "force"])
@pytest.mark.parametrize("kind", SPECIAL)
def test_only_a_regular_file_is_ever_replaced(kind, force, tmp_path, no_hang):
    make, why = SPECIAL[kind]
    target = tmp_path / "out.md"
    make(target)
    before = os.lstat(target)
    link = os.readlink(target) if target.is_symlink() else None
    r = run_cli("evaluate", CASE, "-o", str(target), *force)
    assert r.code == ExitCode.USAGE, r.err
    assert str(target) in r.err and why in r.err and "Traceback" not in r.err
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    if link is not None:
        assert os.readlink(target) == link
    if kind == "symlink to a file":
        assert (tmp_path / "mine.md").read_bytes() == b"mine"
    assert partial_files(tmp_path) == []


def test_dev_full_itself_is_never_replaced(monkeypatch):
    """The report of issue 12, run for real; a safety net keeps a regression from touching /dev."""
    real_open, real_replace = os.open, os.replace

    def guarded_open(path, flags, *args, **kwargs):
        if str(path).startswith("/dev/") and flags & os.O_CREAT:
            raise AssertionError(f"tried to create {path}")
        return real_open(path, flags, *args, **kwargs)

    def guarded_replace(src, dst, *args, **kwargs):
        if str(dst).startswith("/dev/"):
            raise AssertionError(f"tried to replace {dst}")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(os, "replace", guarded_replace)
    r = run_cli("evaluate", CASE, "-o", "/dev/full", "--force")
    monkeypatch.undo()
    assert r.code == ExitCode.USAGE, r.err
    assert "/dev/full is a character device" in r.err and "wrote" not in r.err
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_fifo_target_does_not_block_the_installed_command(tmp_path):
    fifo = tmp_path / "out.txt"
    os.mkfifo(fifo)
    proc = subprocess.run([EXE, "evaluate", CASE, "-o", str(fifo), "--force"],
                          capture_output=True, text=True, timeout=30, env=tool_env())
    assert proc.returncode == ExitCode.USAGE and "FIFO" in proc.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_the_folder_must_exist_and_be_a_folder(tmp_path):
    r = run_cli("evaluate", CASE, "-o", str(tmp_path / "missing" / "out.md"))
    assert r.code == ExitCode.USAGE and "does not exist" in r.err
    (tmp_path / "file.txt").write_text("mine")
    r = run_cli("evaluate", CASE, "-o", str(tmp_path / "file.txt" / "out.md"))
    assert r.code == ExitCode.USAGE and f"{tmp_path / 'file.txt'} is not a folder" in r.err


def test_a_name_too_long_is_exit_6(tmp_path):
    target = tmp_path / ("x" * 300 + ".md")
    r = run_cli("evaluate", CASE, "-o", str(target))
    assert r.code == ExitCode.CANNOT_WRITE, r.err
    assert str(target) in r.err and os.strerror(errno.ENAMETOOLONG) in r.err
    assert "Traceback" not in r.err and list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ every OS error: exit 6, nothing lost

def _refuse(monkeypatch, where: str, code: int, folder: Path) -> None:
    """Make one step of writing into `folder` fail with `code`, as the OS would."""
    failure = OSError(code, os.strerror(code))
    if where == "create":  # the temporary file (or the writability probe) cannot be made
        real_open = os.open

        def fake_open(path, flags, *args, **kwargs):
            if flags & os.O_CREAT and str(path).startswith(str(folder)):
                raise failure
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", fake_open)
    else:
        def fail(*args, **kwargs):
            raise failure

        monkeypatch.setattr(os, where, fail)


@pytest.mark.parametrize("code", [errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EIO])
@pytest.mark.parametrize("where", ["create", "fsync", "replace"])
def test_every_os_error_is_exit_6_and_keeps_the_old_file(where, code, tmp_path, monkeypatch):
    target = tmp_path / "out.md"
    target.write_bytes(b"previous")
    _refuse(monkeypatch, where, code, tmp_path)
    r = run_cli("evaluate", CASE, "-o", str(target), "--force")
    monkeypatch.undo()
    assert r.code == ExitCode.CANNOT_WRITE, r.err
    assert str(target) in r.err and os.strerror(code) in r.err and "Traceback" not in r.err
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.md"]


@pytest.mark.parametrize("option", ["-o", "--summary-csv"])
def test_a_batch_output_that_cannot_be_made_is_exit_6(option, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    _refuse(monkeypatch, "create", errno.EACCES, out)
    r = run_cli("evaluate", CASE, OTHER, option, str(out / "x.jsonl"))
    monkeypatch.undo()
    assert r.code == ExitCode.CANNOT_WRITE, r.err
    assert str(out / "x.jsonl") in r.err and "Permission denied" in r.err
    assert list(out.iterdir()) == []


def test_check_target_is_the_preflight(tmp_path, monkeypatch):
    from riskassess.io.writer import check_target

    target = tmp_path / "case.yaml"
    check_target(target, force=False, inputs=[])
    assert list(tmp_path.iterdir()) == []  # the writability probe leaves nothing
    target.write_text("mine")
    with pytest.raises(UsageError, match="--force"):
        check_target(target, force=False, inputs=[])
    check_target(target, force=True, inputs=[])
    with pytest.raises(UsageError, match="input file"):
        check_target(target, force=True, inputs=[tmp_path / "." / "case.yaml"])
    _refuse(monkeypatch, "create", errno.EACCES, tmp_path)
    with pytest.raises(OutputError, match="Permission denied"):
        check_target(tmp_path / "new.yaml", force=False, inputs=[])


# ------------------------------------------------------------ real read-only and full file systems

@pytest.fixture
def tmpfs(tmp_path):
    """Mount a small tmpfs (root with mount rights only); unmounted afterwards."""
    mounted = []

    def mount(name: str, options: str) -> Path:
        point = tmp_path / name
        point.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                              capture_output=True, text=True)
        if proc.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip() or 'not permitted'}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def _remount_ro(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)


def test_a_read_only_file_system_is_exit_6(tmpfs):
    folder = tmpfs("ro", "ro,size=64k")
    r = run_cli("evaluate", CASE, "-o", str(folder / "out.md"))
    assert r.code == ExitCode.CANNOT_WRITE, r.err
    assert str(folder / "out.md") in r.err and "Read-only file system" in r.err
    assert "Traceback" not in r.err and list(folder.iterdir()) == []


def test_a_file_on_a_read_only_file_system_is_kept(tmpfs):
    folder = tmpfs("ro", "size=64k")
    (folder / "out.md").write_bytes(b"previous")
    _remount_ro(folder)
    r = run_cli("evaluate", CASE, "-o", str(folder / "out.md"), "--force")
    assert r.code == ExitCode.CANNOT_WRITE and "Read-only file system" in r.err
    assert (folder / "out.md").read_bytes() == b"previous"
    assert sorted(p.name for p in folder.iterdir()) == ["out.md"]


def test_a_full_file_system_is_exit_6(tmpfs):
    folder = tmpfs("full", "size=4k")
    (folder / "out.docx").write_bytes(b"previous")  # one page: the file system is now full
    r = run_cli("evaluate", CASE, "-o", str(folder / "out.docx"), "--force")
    assert r.code == ExitCode.CANNOT_WRITE, r.err
    assert str(folder / "out.docx") in r.err and "No space left on device" in r.err
    assert (folder / "out.docx").read_bytes() == b"previous"
    assert sorted(p.name for p in folder.iterdir()) == ["out.docx"]


def test_an_immutable_file_is_kept(tmpfs):
    folder = tmpfs("imm", "size=512k")  # room for the report: only immutability stops it
    target = folder / "out.md"
    target.write_bytes(b"previous")
    proc = subprocess.run(["chattr", "+i", str(target)], capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"cannot make a file immutable here: {proc.stderr.strip()}")
    try:
        r = run_cli("evaluate", CASE, "-o", str(target), "--force")
    finally:
        subprocess.run(["chattr", "-i", str(target)], check=False)
    assert r.code == ExitCode.CANNOT_WRITE and str(target) in r.err
    assert "Operation not permitted" in r.err
    assert target.read_bytes() == b"previous" and partial_files(folder) == []


# ------------------------------------------------------------ two outputs never name one file

SPELLINGS = {
    "same": "report",
    "dot": "./report",
    "dotdot": "sub/../report",
    "absolute": None,  # filled in below: the absolute path
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_summary_csv_and_output_cannot_name_one_file(spelling, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    other = SPELLINGS[spelling] or str(tmp_path / "report")
    r = run_cli("evaluate", CASE, "--summary-csv", "report", "-o", other)
    assert r.code == ExitCode.USAGE, r.err
    assert "--summary-csv report" in r.err and f"--output {Path(other)}" in r.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]


def test_a_hard_link_is_the_same_file(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"mine")
    os.link(tmp_path / "a.csv", tmp_path / "b.txt")
    r = run_cli("evaluate", CASE, OTHER, "--summary-csv", str(tmp_path / "a.csv"),
                "-o", str(tmp_path / "b.txt"), "--force")
    assert r.code == ExitCode.USAGE and "same file" in r.err
    assert (tmp_path / "a.csv").read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.txt"]


# ------------------------------------------------------------ standard output

UNBUFFERED = {"buffered": "", "unbuffered": "1"}
PRINTING = {
    "report": ["evaluate", CASE],
    "batch": ["evaluate", CASE, OTHER],
    "echo": ["--version"],
    "schema": ["schema", "case"],
}


def _run(args: list[str], stdout, unbuffered: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in tool_env().items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    return subprocess.run([EXE, *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
                          env=env, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("mode", UNBUFFERED)
@pytest.mark.parametrize("command", PRINTING)
def test_a_full_standard_output_is_exit_6(command, mode):
    with open("/dev/full", "w") as full:
        proc = _run(PRINTING[command], full, UNBUFFERED[mode])
    assert proc.returncode == ExitCode.CANNOT_WRITE, proc.stderr
    assert "cannot write to standard output: No space left on device" in proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


@pytest.mark.parametrize("mode", UNBUFFERED)
@pytest.mark.parametrize("command", PRINTING)
def test_a_closed_pipe_ends_quietly(command, mode):
    read, write = os.pipe()
    os.close(read)
    try:
        proc = _run(PRINTING[command], write, UNBUFFERED[mode])
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (0, "")


# ------------------------------------------------------------ the format from the extension

EXTENSIONS = {
    ".md": "# Assessment of case", ".markdown": "# Assessment of case",
    ".MD": "# Assessment of case", ".html": "<!DOCTYPE html>", ".htm": "<!DOCTYPE html>",
    ".Html": "<!DOCTYPE html>", ".docx": "PK", ".json": '{\n  "format": 2',
    ".jsonl": '{"format":2', ".txt": "riskassess assessment of case", "": "riskassess assessment",
    ".out": "riskassess assessment of case",
}


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_the_format_follows_the_extension(ext, tmp_path):
    target = tmp_path / f"report{ext}"
    r = run_cli("evaluate", CASE, "-o", str(target))
    assert r.code == 0, r.err
    assert target.read_bytes().startswith(EXTENSIONS[ext].encode())
    if ext == ".jsonl":
        assert target.read_text().count("\n") == 1


@pytest.mark.parametrize("fmt, name", [("text", "r.docx"), ("json", "r.html"),
                                       ("markdown", "r.json"), ("jsonl", "r.JSON"),
                                       ("html", "r.md")])
def test_a_format_contradicting_the_extension_is_refused(fmt, name, tmp_path):
    target = tmp_path / name
    r = run_cli("evaluate", CASE, "-f", fmt, "-o", str(target))
    assert r.code == ExitCode.USAGE, r.err
    assert f"--format {fmt}" in r.err and str(target) in r.err
    assert list(tmp_path.iterdir()) == []


def test_agreeing_format_and_extension_and_free_extensions(tmp_path):
    assert run_cli("evaluate", CASE, "-f", "html", "-o", str(tmp_path / "r.htm")).code == 0
    assert run_cli("evaluate", CASE, "-f", "json", "-o", str(tmp_path / "r.txt")).code == 0
    assert json.loads((tmp_path / "r.txt").read_text())["format"] == 2


def test_a_batch_takes_jsonl_from_the_extension(tmp_path):
    target = tmp_path / "reports.jsonl"
    r = run_cli("evaluate", CASE, OTHER, "-o", str(target))
    assert r.code == 0, r.err
    lines = target.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["format"] == 2 for line in lines)
    r = run_cli("evaluate", CASE, OTHER, "-o", str(tmp_path / "reports.md"))
    assert r.code == ExitCode.USAGE and "a batch prints text, jsonl or outcomes" in r.err


def test_help_says_where_the_format_comes_from():
    r = run_cli("evaluate", "--help")
    assert "extension" in " ".join(r.out.split())
