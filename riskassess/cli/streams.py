"""The standard streams as the tool was started with them, made safe before anything is
printed; the fast path (cli/fast.py) and the full command line (cli/app.py) both start here.

- Standard error closed (`2>&-`): it is pointed at the null device, so that messages go
  nowhere (the exit code still says what happened) and no file the tool opens later takes
  its descriptor, 2, and receives them.
- An encoding that cannot show a character (`PYTHONIOENCODING=ascii`, a Latin-1 locale):
  the character is written as its escape (\\u0645, as JSON and Python write it), never
  dropped and never a traceback, and once the command is done a note on standard error says
  so (`note_escapes`).
- Colour (`colour`): only at a terminal that can show it: not with NO_COLOR set
  (https://no-color.org) nor with TERM=dumb.

Light: the cold start imports it.
"""

from __future__ import annotations

import codecs
import io
import os
import sys
from typing import TextIO

_HANDLER = "riskassess-escape"
_escaped: dict[str, int] = {"count": 0}


def _escape(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    part = exc.object[exc.start:exc.end]
    _escaped["count"] += len(part)
    return "".join(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
                   for ch in part), exc.end


codecs.register_error(_HANDLER, _escape)


def prepare() -> None:
    """Make standard error writable, and standard output able to write any character."""
    if sys.stderr is None:
        sys.stderr = _null_stderr()
    # standard error escapes what it cannot show already (backslashreplace)
    stream = sys.stdout
    if _is_utf(stream):
        return
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and stream.errors == "strict":
        reconfigure(errors=_HANDLER)


def _is_utf(stream: TextIO | None) -> bool:
    encoding = getattr(stream, "encoding", None)
    if stream is None or not encoding:
        return True  # not a real stream (a test's capture): it takes any character
    return codecs.lookup(encoding).name.startswith("utf-")


def _null_stderr() -> TextIO:
    """Standard error when it was closed: the null device, on descriptor 2 if it is free."""
    fd = os.open(os.devnull, os.O_WRONLY)
    if fd != 2:
        try:
            os.fstat(2)
        except OSError:  # free: take it, so that no later file lands on it
            os.dup2(fd, 2)
            os.close(fd)
            fd = 2
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=fd != 2), encoding="utf-8",
                            errors="backslashreplace", line_buffering=True)


def note_escapes() -> None:
    """Say on standard error, once, that characters were written as escapes."""
    count, _escaped["count"] = _escaped["count"], 0
    if not count:
        return
    from riskassess.words import escaped_note

    try:
        encoding = codecs.lookup(sys.stdout.encoding).name
    except (AttributeError, LookupError, TypeError):
        encoding = "this"
    try:
        sys.stderr.write(escaped_note(count, encoding) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def colour(stream: TextIO | None) -> bool:
    """Whether to print in colour on `stream`: a terminal, with no NO_COLOR (set and not
    empty) and a TERM that is not dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def ask(prompt: str) -> str:
    """`input(prompt)` that a Ctrl-C always stops. input() blocks in a read that a signal
    arriving just before it does not interrupt: the Python handler is then left pending
    until a line comes, and the prompt hangs (seen under load at the interview's last
    question). At a terminal the line is waited for in short selects, between which the
    handler runs; a pipe or a file is read by input() as before (its lines may already be
    buffered, where a select on the descriptor would wait for ever)."""
    stream = sys.stdin
    try:
        fd = stream.fileno()
        waits = os.isatty(fd)
    except (AttributeError, OSError, ValueError):
        waits = False
    if not waits:
        return input(prompt)
    import select

    sys.stdout.write(prompt)
    sys.stdout.flush()
    while not select.select([fd], [], [], 0.1)[0]:
        pass  # a signal's handler runs here, between two selects
    return input()
