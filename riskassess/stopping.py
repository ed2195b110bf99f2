"""Stopping on a signal: Ctrl-C (SIGINT), SIGTERM and SIGHUP end the tool the same way.

Left to their defaults, SIGTERM and SIGHUP end a process where it stands: no `finally` runs,
so a batch's temporary files stay and its workers are orphaned. Inside `stop_on_signals`
(entered by the entry point, cli/fast.py, and the error boundary, io/writer.py) they raise
`Interrupted` in the main thread instead, as Ctrl-C raises KeyboardInterrupt: the clean-ups
run (the workers are stopped and reaped, each temporary is removed, every output is left as
it was), then the boundary says "interrupted" and exits with 128 + the signal's number
(`stopped`). A clean-up that must not be cut in two runs in `signals_held`: a signal that
arrives during it is raised when it ends.

Nothing heavy is imported: the entry point puts this in place before anything else.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class Interrupted(BaseException):
    """A signal asked the tool to stop (SIGTERM, SIGHUP; SIGINT where a command says so
    rather than raising KeyboardInterrupt). Not an Exception: nothing that handles errors
    takes it for one (errors.py holds the errors)."""

    def __init__(self, signum: object = None):
        # A library that catches every exception may rebuild this one from a message of its
        # own (reportlab's paragraph parser does, with the case's text in it): the signal is
        # then the one last raised here, and the message is never kept.
        try:
            number = int(signum)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            number = _last_signal
        super().__init__(number)
        self.signum = number

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # errors.ExitCode: HANGUP, INTERRUPTED, TERMINATED


_last_signal = int(signal.SIGTERM)  # the stopping signal raised last (see Interrupted)
_held: list[int] | None = None  # inside `signals_held` (or `stopped`): the signals arrived
_installed = False  # whether `stop_on_signals` has put `_stop` in place


def _stop(signum: int, frame: object) -> None:
    if _held is not None:
        _held.append(signum)
        return
    _raise(signum)


def _raise(signum: int) -> None:
    global _last_signal
    _last_signal = signum
    if signum == signal.SIGINT:
        raise KeyboardInterrupt  # as Python's own handler does: what commands expect
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise `Interrupted` in the main thread (and
    Ctrl-C KeyboardInterrupt, as always) instead of ending the process where it stands. A
    signal that is ignored (`nohup`, a background job) or handled already is left as it is;
    an inner block changes nothing; the outermost one restores the handlers."""
    global _installed, _held
    if _installed:
        yield
        return
    before = {}
    for name in STOP_SIGNALS:
        sig = getattr(signal, name, None)  # Windows has no SIGHUP
        if sig is not None and signal.getsignal(sig) in (signal.SIG_DFL,
                                                         signal.default_int_handler):
            try:
                before[sig] = signal.signal(sig, _stop)
            except ValueError:  # not the main thread: signals are the main thread's
                break
    _installed = bool(before)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
        if before:
            _installed, _held = False, None


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """A clean-up that must finish (stopping workers, removing a temporary file): a stopping
    signal that arrives while it runs is raised when it ends, not in its middle."""
    global _held
    if _held is not None:  # inside another, or stopping already
        yield
        return
    _held = []
    try:
        yield
    finally:
        arrived, _held = _held, None
        if arrived:
            _raise(arrived[0])


_said = False  # "interrupted" has been said (by `stopped`)


def stopped(code: int) -> None:
    """Say "interrupted" (once, whichever boundary comes to it first) and exit with `code`;
    a further signal changes neither."""
    global _held, _said
    from riskassess import words

    _held = []  # from now on a signal is noted, not raised (until `stop_on_signals` ends)
    if not _said:
        _said = True
        sys.stderr.write(f"{words.INTERRUPTED}\n")
    sys.exit(code)
