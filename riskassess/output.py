"""The one writer: every file the tool writes, and standard output.

A file is written only where a regular file may be: the writer never replaces a device,
a FIFO, a socket, a directory or a symbolic link (not even with --force), never writes
over an input, never lets two outputs of one command name the same file, and replaces
an existing file only when asked. `check_target` makes every check that can be made
before the output exists, so that a command can refuse before doing its work (the
interview, before its first question); `atomic_writer` makes them again.

The bytes go to a temporary file in the target's folder, which is flushed to disk and
then renamed over the target. An interruption (Ctrl-C, a full disk, a crash) therefore
leaves either the old file or the new one, never half of one; the temporary file is
removed on failure. Every OS error (no permission, read-only or full file system, an
immutable file, a name too long) becomes an `OutputError` (exit 6) naming the path and
the reason.

Standard output is guarded as well (`guard_stdout`): a failed write there (a full disk)
is an `OutputError` too, and a closed pipe is `StdoutClosed`, which the CLI ends quietly.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from riskassess.errors import OutputError, UsageError

_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket"}


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: however spelt, or as two hard links of it."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def check_distinct(outputs: dict[str, Path | None]) -> None:
    """Refuse two outputs of one command (option name -> path) that name the same file."""
    named = [(option, path) for option, path in outputs.items() if path is not None]
    for i, (first, a) in enumerate(named):
        for second, b in named[i + 1:]:
            if same_file(a, b):
                raise UsageError(f"{first} {a} and {second} {b} name the same file; "
                                 "give each output its own")


def _check(target: Path, force: bool, inputs: Iterable[Path], option: str) -> Path:
    """The checks of `check_target` that need no writing; returns the target's folder."""
    for source in inputs:
        if same_file(target, Path(source)):
            raise UsageError(f"{option} {target} is an input file; riskassess never writes "
                             "over what you wrote")
    folder = target.parent
    try:
        folder_mode = os.stat(folder).st_mode
        if not stat.S_ISDIR(folder_mode):
            raise UsageError(f"{option} {target}: {folder} is not a folder")
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        if not folder.is_dir():
            raise UsageError(f"{option} {target}: the folder {folder} does not exist") from None
        return folder  # a new file
    except NotADirectoryError:  # a file where a folder of the path should be
        raise UsageError(f"{option} {target}: the folder {folder} does not exist") from None
    except OSError as exc:  # a name too long, no permission to look, ...
        raise OutputError(f"cannot write {option} {target}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(mode):
        raise UsageError(f"{option} {target} is a symbolic link; name the file itself")
    if stat.S_ISDIR(mode):
        raise UsageError(f"{option} {target} is a directory; give a file name")
    if not stat.S_ISREG(mode):
        raise UsageError(f"{option} {target} is {_KINDS.get(stat.S_IFMT(mode), 'not a file')}; "
                         "riskassess replaces only regular files, even with --force")
    if not force:
        raise UsageError(f"{option} {target} already exists; pass --force to replace it")
    return folder


def check_target(target: Path, *, force: bool, inputs: Iterable[Path],
                 option: str = "--output") -> None:
    """Refuse now what writing `target` later would refuse: a missing or unwritable folder
    (probed by making and removing a temporary file), a target that is not a regular file
    or is a symbolic link, an existing file without `force`, an input file. `option` names
    the target in messages."""
    import tempfile  # here: printing to standard output needs none of this

    folder = _check(Path(target), force, inputs, option)
    try:
        handle, probe = tempfile.mkstemp(prefix=".riskassess-probe.", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"cannot write {option} {target}: {exc.strerror or exc}") from None


def write_output(target: Path, data: bytes, *, force: bool, inputs: Iterable[Path],
                 option: str = "--output") -> None:
    """Write all of `data` to `target` through `atomic_writer`."""
    with atomic_writer(target, force=force, inputs=inputs, option=option) as stream:
        stream.write(data)


@contextlib.contextmanager
def atomic_writer(target: Path, *, force: bool, inputs: Iterable[Path],
                  option: str = "--output") -> Iterator[BinaryIO]:
    """A binary stream whose content replaces `target` only when the block ends normally."""
    import tempfile

    target, inputs = Path(target), list(inputs)
    check_target(target, force=force, inputs=inputs, option=option)
    temp = None
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name[:100]}.", suffix=".part",
                                        dir=target.parent)
        with os.fdopen(handle, "wb") as stream:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(handle, 0o666 & ~umask)  # mkstemp makes it private; give a normal mode
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        _check(target, force, inputs, option)  # again: the target may have appeared meanwhile
        os.replace(temp, target)
    except BaseException as exc:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {option} {target}: {exc.strerror or exc}") from None
        raise


@contextlib.contextmanager
def text_stream(raw: BinaryIO) -> Iterator[io.TextIOWrapper]:
    """UTF-8 text over a binary stream, detached (not closed) at the end, so that the
    atomic writer underneath still flushes and renames it."""
    wrapper = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    try:
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()


class StdoutClosed(Exception):
    """Standard output was closed by its reader (`| head`): nothing is left to say."""


class _GuardedFd(io.RawIOBase):
    """Standard output's file descriptor, with failed writes turned into clear errors.

    After the first failure the descriptor is pointed at /dev/null, so that the
    interpreter's own flush at exit finds nothing to complain about."""

    def __init__(self, fd: int):
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data) -> int:
        view = memoryview(data)
        try:
            while view:  # os.write may write less than asked
                view = view[os.write(self._fd, view):]
        except OSError as exc:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._fd)
            os.close(devnull)
            if isinstance(exc, BrokenPipeError):
                raise StdoutClosed from None
            raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None
        return len(data)


def guard_stdout() -> None:
    """Route `sys.stdout` through `_GuardedFd`, keeping its encoding and buffering (when it
    is a real file descriptor: not in tests that capture it)."""
    stream = sys.stdout
    try:
        fd = stream.fileno()
        buffered = isinstance(stream.buffer, io.BufferedWriter)
    except (AttributeError, OSError, ValueError):
        return
    stream.flush()
    raw = _GuardedFd(fd)
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(raw) if buffered else raw,
                                  encoding=stream.encoding, errors=stream.errors,
                                  line_buffering=stream.line_buffering,
                                  write_through=stream.write_through)


class _ClosedStdout(io.TextIOBase):
    """Standard output when the tool was started with it closed (`>&-`): a command that
    writes only to --output works; one that prints is told where its output could not go."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            raise OutputError("cannot write to standard output: it is closed; redirect it "
                              "to a file, or use --output")
        return 0


def closed_stdout() -> io.TextIOBase:
    return _ClosedStdout()
