"""The one writer: every file the tool writes, and standard output.

A file is written only where a regular file may be: the writer never replaces a device,
a FIFO, a socket, a directory or a symbolic link (not even with --force), never writes
over an input, never lets two outputs of one command name the same file, and replaces
an existing file only when asked. `check_target` makes every check that can be made
before the output exists, so that a command can refuse before doing its work (the
interview, before its first question); `atomic_writer` makes them again.

The bytes go to a temporary file in the target's folder (`.NAME.riskassess-XXXXXXXX.part`,
locked while it is written), which is flushed to disk and then renamed over the target. An
interruption (Ctrl-C, SIGTERM, SIGHUP, a full disk) therefore leaves either the old file or
the new one, never half of one; the temporary file is removed on failure. One that a run
killed outright left (SIGKILL, a power cut) is removed by the next run that writes the same
output (`remove_stale`). Every OS error (no permission, read-only or full file system, an
immutable file, a name too long) becomes an `OutputError` (exit 6) naming the path and
the reason.

The error boundary (`stdout_boundary`) stops the tool on Ctrl-C, SIGTERM and SIGHUP
(riskassess/stopping.py): the clean-ups run on the way out; it says "interrupted" and exits
with 128 + the signal's number.

Standard output is guarded as well (`guard_stdout`): a failed write there (a full disk)
is an `OutputError` too, and a closed pipe is `StdoutClosed`, which the CLI ends quietly.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from riskassess.errors import OutputError, UsageError
from riskassess.stopping import Interrupted, signals_held, stop_on_signals, stopped

try:
    import fcntl
except ImportError:  # no advisory locks (Windows): temporaries are neither locked nor cleaned
    fcntl = None  # type: ignore[assignment]

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


def cannot_write(what: str, exc: OSError) -> OutputError:
    """The error of a write that failed: `cannot write WHAT: the system's reason`."""
    return OutputError(f"cannot write {what}: {exc.strerror or exc}")


def check_distinct(outputs: dict[str, Path | None]) -> None:
    """Refuse two outputs of one command (option name -> path) that name the same file."""
    named = [(option, path) for option, path in outputs.items() if path is not None]
    for i, (first, a) in enumerate(named):
        for second, b in named[i + 1:]:
            if same_file(a, b):
                raise UsageError(f"{first} {a} and {second} {b} name the same file; "
                                 "give each output its own")


def check_not_stdout(outputs: dict[str, Path | None]) -> None:
    """For a command that prints to standard output: refuse an output that is the file
    standard output goes to (`--summary-csv s.csv > s.csv`), whose replacing would lose
    every line printed there."""
    try:
        status = os.fstat(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # captured, or closed
        return
    if not stat.S_ISREG(status.st_mode):
        return
    for option, path in outputs.items():
        if path is not None and _identity(path) == (status.st_dev, status.st_ino):
            raise UsageError(f"{option} {path} is also where standard output goes; what is "
                             "printed there would be lost when it is replaced: give each "
                             "its own file")


class _Files:
    """Paths indexed by spelling and by file identity, so that whether a path names one of
    them (as `same_file` says) is found in constant time, however many there are."""

    def __init__(self, paths: Iterable[Path]):
        self.real: set[str] = set()
        self.ids: set[tuple[int, int]] = set()
        for path in paths:
            self.real.add(os.path.realpath(path))
            ident = _identity(path)
            if ident is not None:
                self.ids.add(ident)

    def named_by(self, path: Path) -> bool:
        if os.path.realpath(path) in self.real:
            return True
        ident = _identity(path)
        return ident is not None and ident in self.ids


def _names_one_of(target: Path, paths: Iterable[Path]) -> bool:
    """Whether `target` names one of `paths` (as `_Files.named_by` says), for one target:
    the paths are looked at one by one, not indexed, so that 100,000 inputs cost no
    memory."""
    real, ident = os.path.realpath(target), _identity(target)
    for path in paths:
        if os.path.realpath(path) == real:
            return True
        if ident is not None:
            other = _identity(path)
            if other == ident:
                return True
    return False


def _identity(path: Path | str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:  # not there (yet), or not to be looked at: nothing to be the same as
        return None
    return st.st_dev, st.st_ino


def _check(target: Path, force: bool, inputs: Iterable[Path] | _Files, option: str) -> Path:
    """The checks of `check_target` that need no writing; returns the target's folder."""
    if (inputs.named_by(target) if isinstance(inputs, _Files)
            else _names_one_of(target, inputs)):
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
        raise cannot_write(f"{option} {target}", exc) from None
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
    folder = _check(Path(target), force, inputs, option)
    probe_folder(folder, f"{option} {target}")


def probe_folder(folder: Path, label: str) -> None:
    """Refuse a folder where no file can be made (made and removed to find out); `label`
    names what was to be written there."""
    import tempfile

    try:
        handle, probe = tempfile.mkstemp(prefix=".riskassess-probe.", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise cannot_write(label, exc) from None


# ------------------------------------------------------------ a folder of outputs

def check_folder(folder: Path, *, create: bool, option: str = "--output") -> bool:
    """Check a folder that outputs are to be written into (one document per case); returns
    whether it is still to be made (`make_folder`).

    An existing directory, or a symbolic link to one, is a folder (the files written in it
    are checked one by one: the folder's name alone cannot make them unsafe). A missing one
    is made only when `create` (the name was written as a folder, ending in /), and only in
    an existing folder. Anything else is refused: a regular file, a device, a FIFO, a socket,
    a symbolic link to any of these or to nothing."""
    folder = Path(folder)
    try:
        mode = os.stat(folder).st_mode  # through a symbolic link: a link to a folder is one
    except FileNotFoundError:
        if os.path.lexists(folder):
            raise UsageError(f"{option} {folder} is a symbolic link to nothing; name a "
                             "folder") from None
        if not create:
            raise UsageError(f"{option} {folder} does not exist; to have it made as the "
                             f"folder of the documents, end it with a slash: {folder}/") from None
        if not folder.parent.is_dir():
            raise UsageError(f"{option} {folder}/: the folder {folder.parent} does not "
                             "exist") from None
        return True
    except NotADirectoryError:  # a file where a folder of the path should be
        raise UsageError(f"{option} {folder}: the folder {folder.parent} does not "
                         "exist") from None
    except OSError as exc:  # a name too long, no permission to look, ...
        raise cannot_write(f"into {option} {folder}", exc) from None
    if stat.S_ISDIR(mode):
        return False
    kind = "a regular file" if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "not a file")
    if os.path.islink(folder):
        kind = f"a symbolic link to {kind}"
    raise UsageError(f"{option} {folder} is {kind}, not a folder; a batch of documents is "
                     "written into a folder, one document per case")


def make_folder(folder: Path, *, option: str = "--output") -> None:
    """Make the folder `check_folder` found missing (its parent only, never a chain of them),
    then make sure a file can be written in it."""
    try:
        os.mkdir(folder)
    except FileExistsError:  # made meanwhile: whatever it is, check it again
        check_folder(folder, create=False, option=option)
    except OSError as exc:
        raise OutputError(f"cannot make {option} {folder}: {exc.strerror or exc}") from None
    probe_folder(Path(folder), f"into {option} {folder}")


def check_targets(targets: Iterable[Path], *, force: bool, inputs: Iterable[Path],
                  others: dict[str, Path | None] | None = None,
                  option: str = "--output") -> None:
    """`check_target` for the many files of one command (a document per case), in time
    linear in their number: none may be an input (however spelt, or a hard link of one) or
    the same file as another output (`others`: option name -> path), and each must be one
    that may be written (a regular file, replaced only with `force`, or a new one). The
    folder is probed once, by the caller (`probe_folder`); `atomic_writer` checks each file
    again when it is written."""
    known = _Files(inputs)
    named = [(name, path) for name, path in (others or {}).items() if path is not None]
    for target in targets:
        for name, path in named:
            if same_file(Path(target), path):
                raise UsageError(f"{name} {path} and {option} {target} name the same file; "
                                 "give each output its own")
        _check(Path(target), force, known, option)


def write_output(target: Path, data: bytes, *, force: bool, inputs: Iterable[Path],
                 option: str = "--output", clean: bool = True) -> None:
    """Write all of `data` to `target` through `atomic_writer`."""
    with atomic_writer(target, force=force, inputs=inputs, option=option,
                       clean=clean) as stream:
        stream.write(data)


@contextlib.contextmanager
def atomic_writer(target: Path, *, force: bool, inputs: Iterable[Path],
                  option: str = "--output", clean: bool = True) -> Iterator[BinaryIO]:
    """A binary stream whose content replaces `target` only when the block ends normally.

    The stream is a temporary file beside the target, locked for as long as it is open (the
    lock is what tells a live temporary from a stale one: `remove_stale`, which this runs
    first for the target unless `clean` is false, for a caller that cleans a whole folder
    once). Whatever ends the block early (an error, Ctrl-C, SIGTERM or SIGHUP through
    `stop_on_signals`) removes the temporary and leaves the target as it was."""
    # a list is kept as it is (a batch's list of 100,000 paths is strings that become Path
    # objects one at a time; copying it into Path objects would cost more than the batch)
    target = Path(target)
    if not isinstance(inputs, (list, tuple)):
        inputs = list(inputs)
    check_target(target, force=force, inputs=inputs, option=option)
    if clean:
        remove_stale(target.parent, [target.name])
    temp = None
    try:
        with signals_held():  # no temporary made without its name known here, to remove it
            handle, temp = _temporary(target)
        with io.BufferedWriter(_OutputFile(handle, f"{option} {target}")) as stream:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(handle, 0o666 & ~umask)  # made private; give it a normal mode
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
            _check(target, force, inputs, option)  # again: the target may have appeared
            os.replace(temp, target)  # still locked: no other run takes it for stale
            temp = None
    except BaseException as exc:
        if temp is not None:
            with signals_held(), contextlib.suppress(OSError):
                os.unlink(temp)
        if isinstance(exc, OSError):
            raise cannot_write(f"{option} {target}", exc) from None
        raise


# ----------------------------------------------------------------- temporary files

# A temporary of the output NAME is `.NAME.riskassess-XXXXXXXX.part` in the output's folder
# (NAME cut to 100 characters; X a hexadecimal digit); nothing else the tool makes, and
# nothing the tool removes, has that form.
_TEMP_MARK = ".riskassess-"
_TEMP = re.compile(r"(\..+\.riskassess-)[0-9a-f]{8}\.part", re.DOTALL)


def _temp_prefix(name: str) -> str:
    return f".{name[:100]}{_TEMP_MARK}"


def _temporary(target: Path) -> tuple[int, str]:
    """Make and lock a new temporary for `target`: (its descriptor, its path)."""
    import secrets

    flags = (os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_CLOEXEC", 0))
    while True:
        path = os.path.join(target.parent, f"{_temp_prefix(target.name)}"
                                           f"{secrets.token_hex(4)}.part")
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            continue
        if fcntl is None:
            return fd, path
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another run's `remove_stale` locked it first: not ours now
            os.close(fd)
            continue
        except OSError:  # a file system without locks: unlocked, and never removed as stale
            return fd, path
        if os.fstat(fd).st_nlink == 0:  # removed by another run between creation and lock
            os.close(fd)
            continue
        return fd, path


def remove_stale(folder: Path, names: Iterable[str]) -> int:
    """Remove the temporaries that runs killed outright (SIGKILL, a crash of the machine)
    left in `folder` for the outputs `names` (file names); returns how many.

    A file is removed only when all of these hold: its name has the temporaries' form for
    one of `names` exactly; it is a regular file with one name (not a symbolic link, a
    folder, a hard link), owned by this user; and this process can take its lock. A run that
    is writing a temporary holds that lock until the temporary is renamed (the kernel lets
    it go when the process ends, however it ends), so a temporary another live run is
    writing, here or on another machine sharing the folder, is never removed; where the file
    system has no locks, nothing is. The folder is read once, whatever the number of
    names."""
    if fcntl is None:
        return 0
    prefixes = {_temp_prefix(name) for name in names}
    removed = 0
    try:
        entries = os.scandir(folder)
    except OSError:
        return 0
    with entries:
        for entry in entries:
            found = _TEMP.fullmatch(entry.name)
            if found is not None and found.group(1) in prefixes and _remove_if_stale(entry.path):
                removed += 1
    return removed


def _remove_if_stale(path: str) -> bool:
    try:
        seen = os.lstat(path)
        if not stat.S_ISREG(seen.st_mode) or seen.st_nlink != 1 or \
                seen.st_uid != os.geteuid():
            return False
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK
                     | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (seen.st_dev, seen.st_ino):
            return False
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by a live run: BlockingIOError
        now = os.lstat(path)
        if (now.st_dev, now.st_ino) != (seen.st_dev, seen.st_ino):
            return False
        os.unlink(path)  # still holding the lock: a writer that locks it next sees it gone
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def settle(*streams: BinaryIO | io.TextIOWrapper) -> None:
    """Flush streams of `atomic_writer` to disk now: the slow part of finishing them (seconds,
    for hundreds of megabytes), done while an interruption still removes them all, so that
    the renames that follow take no time (a command that writes several outputs renames them
    together, in `signals_held`: all are replaced, or none)."""
    for stream in streams:
        stream.flush()
        try:
            os.fsync(stream.fileno())
        except OSError as exc:  # said of this stream, not of the innermost writer's
            raw = getattr(getattr(stream, "buffer", stream), "raw", None)
            if not isinstance(raw, _OutputFile):
                raise
            raise raw.failed(exc) from None


class _OutputFile(io.FileIO):
    """The temporary file of an `atomic_writer`, whose failed writes say which output
    failed: an error raised while several outputs are open passes through each writer,
    and the innermost would otherwise take it for its own (`--summary-csv` for
    `--output`'s full disk)."""

    def __init__(self, fd: int, name: str):
        super().__init__(fd, "wb")
        self.output = name

    def write(self, data) -> int | None:
        try:
            return super().write(data)
        except OSError as exc:
            raise self.failed(exc) from None

    def failed(self, exc: OSError) -> OutputError:
        return cannot_write(self.output, exc)


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


STDOUT_BUFFER = 65_536


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
            raise cannot_write("to standard output", exc) from None
        return len(data)


@contextlib.contextmanager
def stdout_boundary() -> Iterator[None]:
    """The error boundary of everything a command prints (cli.main and the fast path).

    Standard output is guarded: a failed print (a full disk) is an OutputError, shown as
    its located message with its exit code; a closed pipe ends quietly (exit 0); Ctrl-C
    is "interrupted" (exit 130), and so are SIGTERM and SIGHUP (exit 143 and 129;
    riskassess/stopping.py). Output is flushed here, inside the boundary, rather than by the
    interpreter at exit. Other errors pass on to the caller."""
    from riskassess.errors import ExitCode, UserError, capped

    if sys.stdout is None:  # started with standard output closed (`>&-`)
        sys.stdout = closed_stdout()
    guard_stdout()
    with stop_on_signals():
        try:
            try:
                yield
            finally:
                sys.stdout.flush()
        except UserError as exc:
            for line in capped(exc.problems):
                sys.stderr.write(f"error: {line}\n")
            sys.exit(int(exc.exit_code))
        except (KeyboardInterrupt, Interrupted) as exc:
            stopped(int(getattr(exc, "exit_code", ExitCode.INTERRUPTED)))
        except (StdoutClosed, BrokenPipeError):
            sys.exit(int(ExitCode.OK))


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
    # 64 KiB at a time (not 8): a batch's lines of full reports are about 24 KB each
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(raw, STDOUT_BUFFER) if buffered else raw,
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
