"""The audit trail (`--audit-log FILE`): one JSON line per event, apart from the access log.

Events: each assessment (who, when, the case reference, the edition and its rule set's
sha256, the outcome of each question, the sha256 of the report), each sign-in and
sign-out, and each refused authentication (with the client address, never the token
given). A line never holds a fact or a free text of a case: only the case reference,
which identifies the case to the people allowed to see it.

The file is opened once, at start, for appending (O_APPEND), created 0600 when absent and
never truncated; each line is one write(2), so lines of several threads or processes do
not interleave. A path that is a directory, a FIFO or a device is refused at start.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import stat
import threading
from pathlib import Path

from riskassess.errors import UsageError

log = logging.getLogger("riskassess.serve")


class AuditLog:
    """An open audit file; `event` appends one line."""

    def __init__(self, path: Path):
        self.path = Path(path)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | \
            getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise UsageError(f"--audit-log {path}: cannot use it "
                             f"({exc.strerror or type(exc).__name__})") from None
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise UsageError(f"--audit-log {path}: {_kind(st.st_mode)}, not a file: give the "
                             "path of a file (it is created when absent)")
        try:
            self.fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise UsageError(f"--audit-log {path}: cannot open it for appending "
                             f"({exc.strerror or type(exc).__name__})") from None
        st = os.fstat(self.fd)  # what was opened, not what the name pointed to before
        if not stat.S_ISREG(st.st_mode):
            os.close(self.fd)
            raise UsageError(f"--audit-log {path}: {_kind(st.st_mode)}, not a file")
        os.set_blocking(self.fd, True)
        self.lock = threading.Lock()
        self.failing = False  # the last write failed (a full disk): /readyz says so
        self._cut = False  # a line was written in part: the next one first ends it

    def event(self, kind: str, **fields) -> bool:
        """Append one event: its kind, the time (UTC, seconds) and `fields`. Returns
        whether the line was written whole: an assessment whose line was not is not
        answered (app.py), so that nothing is assessed without its trace."""
        record = {"event": kind,
                  "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **fields}
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n"
        data = line.encode("ascii")
        with self.lock:
            if self._cut:  # end the broken line, so that this one stands on its own
                data = b"\n" + data
            try:
                written = os.write(self.fd, data)
            except OSError as exc:
                written, why = -1, exc.strerror or type(exc).__name__
            self._cut = 0 < written < len(data) or (self._cut and written <= 0)
            self.failing = written != len(data)
        if written == -1:
            log.error("audit log: cannot write (%s)", why)
        elif written != len(data):
            log.error("audit log: a line was written in part (%d of %d bytes)",
                      written, len(data))
        return written == len(data)

    def close(self) -> None:
        os.close(self.fd)


def assessment_fields(report_json: bytes, question_ids: list[str]) -> dict:
    """What the audit says of an assessment, from its JSON report (the bytes `riskassess
    evaluate --format json` prints): the case reference, the edition, its rule set's
    sha256, each question's outcome and the report's sha256. Nothing else of the case."""
    report = json.loads(report_json)
    ruleset = report.get("ruleset") or {}
    return {"case_id": report.get("case_id"),
            "edition": ruleset.get("id"),
            "ruleset_sha256": ruleset.get("sha256"),
            "outcomes": {q: (report.get(q) or {}).get("outcome") for q in question_ids
                         if isinstance(report.get(q), dict)},
            "report_sha256": hashlib.sha256(report_json).hexdigest()}


def pretty_report(compact: bytes) -> bytes:
    """A report's JSON as `evaluate --format json` prints it, from its compact form."""
    return (json.dumps(json.loads(compact), indent=2, ensure_ascii=False) + "\n").encode()


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"
