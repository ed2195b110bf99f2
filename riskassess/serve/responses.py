"""The service's answers and what it reads of a request: problem documents, report
downloads, JSON, query parameters, the body (bounded in size and time) and its media
type; and the slots that bound how many assessments run at once, with the queue of
those waiting for one."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import threading
import time
from collections import deque
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from riskassess.serve.service import MAX_BODY, Answer, ServiceError

PROBLEM = "application/problem+json"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "cache-control": "no-store",
}


def problem(exc: ServiceError) -> Response:
    return Response(exc.body(), status_code=exc.status, media_type=PROBLEM,
                    headers=exc.headers)


def answer(a: Answer) -> Response:
    headers = {}
    if a.filename:
        headers["content-disposition"] = f'attachment; filename="{a.filename}"'
    if a.media_type.startswith("text/html"):
        headers["content-security-policy"] = html_csp(a.content)
    return Response(a.content, media_type=a.media_type, headers=headers)


def html_csp(page: bytes) -> str:
    """The CSP of a standalone HTML report: its inline <style> allowed by its hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
        for m in re.finditer(rb"<style>(.*?)</style>", page, re.S))
    return CSP.replace("style-src 'self'", "style-src " + (hashes or "'none'"))


def json_response(data: Any) -> Response:
    import json

    return Response(json.dumps(data, indent=2, ensure_ascii=False).encode() + b"\n",
                    media_type="application/json")


def query(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query parameters, each at most once and each one this endpoint knows."""
    out: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in allowed:
            raise ServiceError(400, "bad-parameter", "A parameter cannot be acted on",
                               f"unknown parameter '{name[:40]}' (allowed: "
                               f"{', '.join(allowed) or 'none'})", exit_code=2)
        if name in out:
            raise ServiceError(400, "bad-parameter", "A parameter cannot be acted on",
                               f"parameter '{name}' given more than once", exit_code=2)
        out[name] = value
    return out


DRAINED = 8 * MAX_BODY  # past the limit, read (and drop) up to this so the client hears why


async def read_body(request: Request, deadline: float) -> bytes:
    """The request body, refused (413) past MAX_BODY, and (408) when it does not arrive
    by the deadline. A body a little over the limit is read to its end and dropped, so
    that the client, still sending, reads the 413 instead of a reset connection; one
    declared far larger is refused before any of it is read."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise ServiceError(400, "bad-request", "Bad request", "Content-Length is not a number")
        if int(length) > DRAINED:
            raise too_large(int(length))
    chunks, size = [], 0
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            async for chunk in request.stream():
                size += len(chunk)
                if size > DRAINED:
                    break
                if size <= MAX_BODY:
                    chunks.append(chunk)
    except TimeoutError:
        raise ServiceError(408, "timeout", "The request took too long",
                           "the body did not arrive in time",
                           headers={"connection": "close"}) from None
    except ClientDisconnect:  # it went away, or sent a body h11 cannot read
        raise ServiceError(400, "bad-request", "Bad request",
                           "the body ended before it was complete",
                           headers={"connection": "close"}) from None
    if size > MAX_BODY:
        raise too_large(size, more=size > DRAINED)
    return b"".join(chunks)


def too_large(size: int, more: bool = False) -> ServiceError:
    said = f"more than {MAX_BODY:,}" if more else f"{size:,}"
    return ServiceError(413, "too-large", "The request body is too large",
                        f"the body is {said} bytes; the limit is {MAX_BODY:,} bytes (1 MiB), "
                        "the case-file reader's own", exit_code=3,
                        headers={"connection": "close"})


def media_type(request: Request, allowed: tuple[str, ...]) -> str:
    raw = request.headers.get("content-type", "")
    kind, _, params = raw.partition(";")
    kind = kind.strip().lower()
    charset = re.search(r"charset\s*=\s*\"?([^\";\s]+)", params, re.I)
    if kind not in allowed or (charset and charset.group(1).lower() not in ("utf-8", "utf8")):
        shown = raw[:60] or "none"
        raise ServiceError(415, "unsupported-media-type", "Unsupported media type",
                           f"the body's type is {shown}; send a case file as "
                           f"{' or '.join(allowed)} (UTF-8)",
                           headers={"accept-post": ", ".join(allowed)})
    return kind


# ---------------------------------------------------------------- concurrency


class Slots:
    """At most N assessments at once, and up to `queue` more waiting their turn.

    A request that finds every slot taken waits, in arrival order, until one is handed to
    it, but never past its own deadline (then 503 timeout); one that finds `queue`
    requests already waiting is refused at once (503 queue-full; with no queue, 503
    busy). A freed slot goes to the first waiter directly, so that a newcomer cannot take
    it ahead of those waiting.

    A slot is held by the request and by the thread assessing it, and freed when both
    are done: a request that timed out leaves its thread the slot until it ends, so
    that abandoned work cannot pile up past N. Slots are freed from worker threads too,
    hence the lock, and the waiters woken through their event loop."""

    def __init__(self, n: int, queue: int = 0):
        self.n, self.queue = n, queue
        self.used = 0
        self.waiting: deque[_Waiter] = deque()
        self.lock = threading.Lock()
        self.refusals = dict.fromkeys(REFUSALS, 0)  # requests refused, by kind

    def state(self) -> tuple[int, int]:
        """(slots in use, requests waiting)."""
        with self.lock:
            return self.used, len(self.waiting)

    def full(self) -> bool:
        """Whether a request arriving now would be refused (every slot and place taken)."""
        with self.lock:
            return self.used >= self.n and len(self.waiting) >= self.queue

    def refused(self, kind: str) -> None:
        with self.lock:
            self.refusals[kind] += 1

    async def take(self, deadline: float, timeout: float) -> Ticket:
        """A slot, at once or in its turn; ServiceError 503 when the queue is full or the
        deadline passes first. `timeout` is the limit the deadline was set by (for the
        message)."""
        with self.lock:
            if self.used < self.n and not self.waiting:
                self.used += 1
                return Ticket(self)
            if len(self.waiting) >= self.queue:
                kind = "queue-full" if self.queue else "busy"
                self.refusals[kind] += 1
                raise self._full(kind)
            waiter = _Waiter(asyncio.get_running_loop())
            self.waiting.append(waiter)
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await waiter.event.wait()
        except BaseException as exc:  # the deadline, or the client gone (cancelled)
            with self.lock:
                handed = waiter.handed
                if not handed:
                    self.waiting.remove(waiter)
            if handed:  # the slot came as the wait ended: hand it on
                self.free()
            if isinstance(exc, TimeoutError):
                self.refused("timeout")
                raise ServiceError(503, "timeout", "The assessment took too long",
                                   f"no assessment slot became free within {timeout:g} s; "
                                   "try again in a moment",
                                   headers={"retry-after": "1"}) from None
            raise
        return Ticket(self)

    def free(self) -> None:
        """A slot given back: to the first waiter, else to the pool."""
        with self.lock:
            while self.waiting:
                waiter = self.waiting.popleft()
                try:
                    waiter.loop.call_soon_threadsafe(waiter.event.set)
                except RuntimeError:  # its loop is closed (the service stopped)
                    continue
                waiter.handed = True
                return
            self.used -= 1

    def _full(self, kind: str) -> ServiceError:
        n = self.n
        running = f"{n} assessment{'s are' if n != 1 else ' is'} running (the service's limit)"
        if kind == "busy":
            return ServiceError(503, "busy", "Too many assessments at once",
                                f"{running}; try again in a moment",
                                headers={"retry-after": "1"})
        return ServiceError(503, "queue-full", "Too many assessments at once",
                            f"{running} and {self.queue} more are waiting their turn (the "
                            "queue's limit); try again in a moment",
                            headers={"retry-after": "1"})


REFUSALS = ("busy", "queue-full", "timeout")  # the kinds of 503 the slots count


class _Waiter:
    """A request waiting for a slot: woken through its event loop when one is handed to
    it (`handed`, set under the slots' lock)."""

    __slots__ = ("loop", "event", "handed")

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop, self.event, self.handed = loop, asyncio.Event(), False


class Ticket:
    """One assessment's slot, held by the request and by the thread assessing it."""

    def __init__(self, slots: Slots):
        self.slots, self.holders, self.lock = slots, 1, threading.Lock()

    def hold(self) -> None:
        with self.lock:
            self.holders += 1

    def drop(self) -> None:
        with self.lock:
            self.holders -= 1
            done = self.holders == 0
        if done:
            self.slots.free()


async def in_thread(ticket: Ticket, fn, *args):
    """Run `fn` in a worker thread that holds the ticket until it returns."""
    import anyio

    ticket.hold()

    def run():
        try:
            return fn(*args)
        finally:
            ticket.drop()

    return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
