"""A line typed at a terminal, read so that Ctrl-C always interrupts the wait.

`input()` can miss a Ctrl-C: Python's signal handler only notes the signal, and a SIGINT
that arrives after the last check but before the process blocks waiting for a key (GNU
readline does a good deal of terminal set-up in that window) leaves it waiting for ever,
the ^C echoed and nothing else. Here the signal also writes a byte to a pipe
(`signal.set_wakeup_fd`), and the wait is on the terminal and that pipe together: a signal
that comes at any moment ends the wait, and Python raises KeyboardInterrupt at once. The
line is read as the terminal gives it (its own line editing: backspace, Ctrl-U); the end of
input is EOFError, as with `input()`.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading

_PENDING = bytearray()  # typed ahead: bytes read past the end of the last line


def read_line(prompt: str) -> str:
    """Write `prompt`, then return the next line typed (without its line break)."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return input()
    if threading.current_thread() is not threading.main_thread():
        return input()  # signals are the main thread's: nothing to wait for here
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    old = signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    try:
        while True:
            end = _PENDING.find(b"\n")
            if end >= 0:
                line = bytes(_PENDING[:end])
                del _PENDING[:end + 1]
                return _decode(line)
            ready, _, _ = select.select([fd, wake_r], [], [])
            if wake_r in ready:  # a signal: its handler (KeyboardInterrupt) runs now
                os.read(wake_r, 512)
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                if _PENDING:
                    line = bytes(_PENDING)
                    _PENDING.clear()
                    return _decode(line)
                raise EOFError
            _PENDING.extend(chunk)
    finally:
        signal.set_wakeup_fd(old)
        os.close(wake_r)
        os.close(wake_w)


def _decode(line: bytes) -> str:
    encoding = getattr(sys.stdin, "encoding", None) or "utf-8"
    return line.decode(encoding, "replace").rstrip("\r")
