"""Writing output files safely: atomically, never over an input, never over an existing
file unless asked.

The bytes go to a temporary file in the target's folder, which is flushed to disk and
then renamed over the target. An interruption (Ctrl-C, a full disk, a crash) therefore
leaves either the old file or the new one, never half of one; the temporary file is
removed on failure.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from riskassess.errors import OutputError, UsageError


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def write_output(target: Path, data: bytes, *, force: bool, inputs: list[Path]) -> None:
    with atomic_writer(target, force=force, inputs=inputs) as stream:
        stream.write(data)


@contextlib.contextmanager
def atomic_writer(target: Path, *, force: bool, inputs: list[Path]) -> Iterator[BinaryIO]:
    """A binary stream whose content replaces `target` only when the block ends normally."""
    target = Path(target)
    for source in inputs:
        if _same(target, Path(source)) or target.resolve() == Path(source).resolve():
            raise UsageError(f"--output {target} is an input file; riskassess never writes over "
                             "what you wrote")
    if target.is_dir():
        raise UsageError(f"--output {target} is a directory; give a file name")
    if target.exists() and not force:
        raise UsageError(f"--output {target} already exists; pass --force to replace it")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"--output {target}: the folder {folder} does not exist")
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes it private; give it a normal mode
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, target)
    except BaseException as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
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
