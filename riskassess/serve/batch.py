"""`POST /v1/batches`: many case files in one request, as JSON lines, answered line by line.

The body is JSON lines (one case file per line, in the case-file vocabulary, as JSON);
the answer is JSON lines too, one per case, in the body's order, written as each case is
assessed: by default the line `riskassess evaluate FOLDER --format outcomes` writes for
it, with `format=json` the one-line JSON report of `--format jsonl`. Both are made by the
batch's own writers (assess/batch.py `LINES`), so they are the CLI's bytes. A line that
cannot be read, validated or assessed is answered by a refusal line in its place (its line
number, its case_id when it could be read, and the problem document a single assessment
would have been refused with), and the batch goes on.

Limits, as a single assessment's:
- each line at most 1 MiB (the case-file reader's own limit), the body at most
  `MAX_BATCH` (64 MiB): a declared Content-Length over it is refused (413) before
  anything is read; a body sent without one is cut there, with a last refusal line;
- the time limit (`--timeout`) applies per case, not to the batch: each line must arrive
  within it of the previous one (so a stalled upload is dropped) and each case be assessed
  within it. A deadline for the whole batch would make a batch that fits on an idle
  machine fail on a busy one, and the batch's size is bounded already;
- each case takes an assessment slot as a single request does (app.py `_ticket`,
  `_bounded`), only once its line has arrived: a slow upload never holds a slot.

The body is read as it arrives, by a task of its own, at most 1 MiB ahead of the answers,
and each answer line is sent as soon as it is made: for a client that reads the answer
while it sends (curl does), memory does not grow with the batch. Most clients send the
whole body first; for them, once the answer fills the connection, the rest of the body is
read into memory (at most MAX_BATCH) rather than the two sides waiting on each other for
ever (`Ahead`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import ClientDisconnect, Request

from riskassess.errors import ExitCode, Problem, UserError
from riskassess.law.plain import CASE_ID_PATTERN
from riskassess.serve.responses import media_type, query
from riskassess.serve.service import BODY_NAME, MAX_BODY, Service, ServiceError, refused

MAX_BATCH = 64 * 1_048_576  # 64 MiB: the most a batch's body may hold
READ_AHEAD = MAX_BODY  # the body read ahead of the answers, unless one waits to be sent
BATCH_TYPES = ("application/x-ndjson", "application/jsonl")
ANSWER_TYPE = "application/x-ndjson"
# format= -> the batch-line format of the CLI (assess/batch.py LINES) that writes it
BATCH_FORMATS = {"outcomes": "outcomes", "json": "jsonl"}


async def batches(app: Any, request: Request) -> Lines:
    """The route: everything that refuses the whole request is checked before the answer
    starts (parameters, media type, a declared length over the limit); after that, each
    line is answered or refused on its own."""
    params = query(request, ("format", "ruleset"))
    fmt = params.get("format", "outcomes")
    if fmt not in BATCH_FORMATS:
        raise ServiceError(400, "bad-parameter", "A parameter cannot be acted on",
                           f"format '{fmt[:40]}' is not one of {', '.join(BATCH_FORMATS)}",
                           exit_code=int(ExitCode.USAGE))
    ruleset = params.get("ruleset") or None
    media_type(request, BATCH_TYPES)
    app.service.check_ruleset(ruleset)
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise ServiceError(400, "bad-request", "Bad request", "Content-Length is not a number")
        if int(length) > MAX_BATCH:
            raise batch_too_large(f"{int(length):,}")
    ahead = Ahead()
    return Lines(_answers(app, request, BATCH_FORMATS[fmt], ruleset, ahead), ahead)


def batch_too_large(said: str) -> ServiceError:
    return ServiceError(413, "too-large", "The request body is too large",
                        f"the batch is {said} bytes; the limit is {MAX_BATCH:,} bytes (64 MiB): "
                        "send the rest as another batch", exit_code=int(ExitCode.INVALID_INPUT),
                        headers={"connection": "close"})


class Ahead:
    """The body's lines read ahead of the answers, and when more may be read.

    Why read ahead at all: most HTTP clients (curl aside) send the whole body before they
    read any of the answer. Were the body read only as answers are sent, the answer would
    fill the connection's buffers, the service would wait to send and stop reading the
    body the client is still sending, and neither would move again. So a task of its own
    reads the body (`_read_ahead`): up to READ_AHEAD bytes ahead of the answers, which
    holds back a client faster than the assessments (memory stays small); and without
    bound (up to MAX_BATCH) while an answer line waits to be sent, since the client may
    be one that reads nothing until it has sent everything."""

    def __init__(self) -> None:
        self.items: collections.deque = collections.deque()
        self.size = 0  # bytes of the lines held
        self.sending = False  # an answer line is waiting to be sent
        self.changed = asyncio.Event()  # one side waits on it at a time

    def put(self, item: tuple | None) -> None:
        self.items.append(item)
        self.size += len(item[2]) if item and isinstance(item[2], bytes) else 0
        self.changed.set()

    async def get(self) -> tuple | None:
        while not self.items:
            self.changed.clear()
            await self.changed.wait()
        item = self.items.popleft()
        self.size -= len(item[2]) if item and isinstance(item[2], bytes) else 0
        self.changed.set()
        return item  # type: ignore[no-any-return]

    async def room(self) -> None:
        """Wait until the reader may read on."""
        while self.size >= READ_AHEAD and not self.sending:
            self.changed.clear()
            await self.changed.wait()

    def waiting_to_send(self, now: bool) -> None:
        self.sending = now
        self.changed.set()

    def drop(self) -> None:
        self.items.clear()
        self.size = 0


class Lines:
    """A streamed answer of JSON lines (200, application/x-ndjson).

    Not Starlette's StreamingResponse: under ASGI 2.3 (uvicorn's) that one listens for
    the client's disconnect by calling `receive` while the answer is sent, and a batch
    reads its request body while it answers. A client that goes away ends the request
    body's stream (ClientDisconnect), which ends the lines."""

    def __init__(self, lines: AsyncIterator[bytes], ahead: Ahead):
        self.lines, self.ahead = lines, ahead

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", ANSWER_TYPE.encode())]})
        try:
            async for line in self.lines:
                self.ahead.waiting_to_send(True)
                await send({"type": "http.response.body", "body": line, "more_body": True})
                self.ahead.waiting_to_send(False)
        finally:
            await self.lines.aclose()  # type: ignore[attr-defined]
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _answers(app: Any, request: Request, fmt: str, ruleset: str | None,
                   ahead: Ahead) -> AsyncIterator[bytes]:
    """The answer lines, while a task of its own reads the body ahead (`Ahead`)."""
    reader = asyncio.create_task(_read_ahead(request, app.settings.timeout, ahead))
    try:
        while (item := await ahead.get()) is not None:
            kind, n, raw = item
            if kind == "line":
                assert isinstance(raw, bytes)
                if raw.strip():  # a blank line is skipped: it has no answer
                    yield await _one(app, request, n, raw, fmt, ruleset)
            elif kind == "long":
                yield refusal_line(n, None, ServiceError(
                    413, "too-large", "The line is too large",
                    f"line {n} is {raw:,} bytes; the limit is {MAX_BODY:,} bytes (1 MiB) "
                    "for a case, the case-file reader's own",
                    exit_code=int(ExitCode.INVALID_INPUT)))
            elif kind == "over":
                yield refusal_line(n, None, batch_too_large(f"more than {MAX_BATCH:,}"))
            else:  # "late"
                yield refusal_line(n, None, ServiceError(
                    408, "timeout", "The request took too long",
                    f"line {n} did not arrive within {app.settings.timeout:g} s"))
        await reader  # its error, if it had one
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def _read_ahead(request: Request, timeout: float, ahead: Ahead) -> None:
    """Read the body's lines into `ahead` as it allows, then None."""
    try:
        async for item in _body_lines(request, timeout):
            ahead.put(item)
            await ahead.room()
    except ClientDisconnect:  # gone: what was read ahead will not be answered
        ahead.drop()
    finally:
        ahead.put(None)


async def _body_lines(request: Request,
                      timeout: float) -> AsyncIterator[tuple[str, int, bytes | int]]:
    """The body's lines as they arrive: ("line", number, bytes without the line end),
    ("long", number, its size) for a line over MAX_BODY (dropped as it arrives), and, as
    the last item, ("over", number, 0) past MAX_BATCH or ("late", number, 0) when a line
    has not arrived within `timeout` of the previous one (or of the start). A client gone
    raises ClientDisconnect."""
    stream = request.stream().__aiter__()
    held, dropped, total, n = bytearray(), 0, 0, 0
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            break
        except TimeoutError:
            yield "late", n + 1, 0
            return
        total += len(chunk)
        if total > MAX_BATCH:
            yield "over", n + 1, 0
            return
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if dropped:
                dropped += len(piece)
            elif len(held) + len(piece) > MAX_BODY:
                dropped, held = len(held) + len(piece), bytearray()
            else:
                held += piece
            if end < 0:
                break
            n += 1
            yield _line(n, held, dropped)
            held, dropped, start = bytearray(), 0, end + 1
            deadline = time.monotonic() + timeout  # the next line's time starts now
    if held or dropped:  # the last line, without a line end
        yield _line(n + 1, held, dropped)


def _line(n: int, held: bytearray, dropped: int) -> tuple[str, int, bytes | int]:
    if dropped:
        return "long", n, dropped
    return "line", n, bytes(held[:-1] if held.endswith(b"\r") else held)


async def _one(app: Any, request: Request, n: int, raw: bytes, fmt: str,
               ruleset: str | None) -> bytes:
    """One case's line: assessed under a slot and the time limit, as a single request,
    and written to the audit trail as one (via "batch") when there is one."""
    deadline = time.monotonic() + app.settings.timeout
    audit = None
    if app.settings.audit is not None:
        def audit(report_json: bytes) -> None:
            app.audited(request, report_json, "batch")
    try:
        ticket = await app._ticket(deadline)  # waits its turn, as a single request does
        try:
            return await app._bounded(ticket, deadline, assess_line, app.service, n, raw,
                                      fmt, ruleset, audit)
        finally:
            ticket.drop()
    except ServiceError as exc:  # busy, or too long
        return refusal_line(n, None, exc)


def assess_line(service: Service, n: int, raw: bytes, fmt: str, ruleset: str | None,
                audit: Any = None) -> bytes:
    """Line `n` of a batch read, assessed and written as the CLI's batch writes it (fmt:
    a format of assess/batch.py LINES), or its refusal line. `audit`, when given, is
    called with the report as `evaluate --format json` prints it."""
    from riskassess.assess.batch import LINES

    case_id = None
    try:
        doc = service.read(raw, "application/json")
        case_id = _case_id(doc)
        try:
            with service.lock:
                done = service.assessor.assess_document(doc, today=service.day(),
                                                        ruleset_id=ruleset)
                line = LINES[fmt](done, f"{BODY_NAME}:{n}")
                if audit is not None:
                    audit(done.pretty_json().encode("utf-8"))
                return line
        except UserError as exc:
            raise refused(exc, read=True) from None
    except ServiceError as exc:
        return refusal_line(n, case_id, exc)


def _case_id(doc: Any) -> str | None:
    """The case_id of a case file read, if it is a valid one (an invalid one is not
    repeated: it is the problem's offending value)."""
    data = getattr(doc, "data", None)
    value = data.get("case_id") if isinstance(data, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    return value if isinstance(value, str) and re.fullmatch(CASE_ID_PATTERN, value) else None


def refusal_line(n: int, case_id: str | None, exc: ServiceError) -> bytes:
    """A refused line's answer: {"line", "case_id", "refused": the problem document}, its
    located problems placed on line `n` of the body (each line is read alone)."""
    problems = [Problem(p.file, n if p.line is not None else None,
                        p.column if p.line == 1 else None, p.path, p.message)
                for p in exc.problems]
    detail = exc.detail
    if problems:
        more = len(problems) - 1
        detail = str(problems[0]) + (f" (and {more:,} more)" if more else "")
    placed = ServiceError(exc.status, exc.kind, exc.title, detail, exit_code=exc.exit_code,
                          problems=problems)
    out = {"line": n, "case_id": case_id, "refused": json.loads(placed.body())}
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
