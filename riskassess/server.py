"""`riskassess serve`: the HTTP API and the web form, on Starlette and uvicorn.

Why Starlette rather than FastAPI: the request bodies are case files that must be read
by riskassess's own reader (positions, duplicate keys, size and depth limits) and
validated by the vocabulary's case model, with the CLI's located problems; and the
OpenAPI document is built from the vocabulary's own JSON Schemas. FastAPI's value is
doing both from type hints, which here would be a second reader and a second schema to
keep in step. Starlette gives the routing and the ASGI plumbing, and nothing else.

Everything a request could abuse is bounded here: the Host header (against DNS
rebinding), the token, the Origin and a CSRF token on form posts, the body's size and
the time a request may take, and the number of assessments at once. No log line holds
a request body, a query string or a fact: only method, path, status and time.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from riskassess.service import (
    FORMATS,
    JSON_TYPES,
    MAX_BODY,
    YAML_TYPES,
    Answer,
    Service,
    ServiceError,
)

log = logging.getLogger("riskassess.serve")

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
CSRF_COOKIE = "riskassess_csrf"
SESSION_COOKIE = "riskassess_session"
PUBLIC = ("/healthz", "/login", "/static/", "/favicon.ico")  # answered without the token
LOOPBACK_NAMES = ("localhost",)


@dataclass
class Settings:
    """How one service runs; made by `riskassess serve` from its options."""

    host: str
    port: int
    allowed_hosts: frozenset[str]  # host names (lower case, IPv6 in brackets) the Host may name
    token: str | None = None
    max_concurrent: int = 16
    timeout: float = 30.0
    secret: bytes = field(default_factory=lambda: os.urandom(32), repr=False)

    @property
    def origins(self) -> frozenset[str]:
        """The origins of the service's own pages (a browser leaves out port 80)."""
        out = {f"http://{h}:{self.port}" for h in self.allowed_hosts}
        if self.port == 80:
            out |= {f"http://{h}" for h in self.allowed_hosts}
        return frozenset(out)


def is_wildcard(address: str) -> bool:
    """Whether an address means every address (0.0.0.0, ::, ::ffff:0.0.0.0)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_unspecified or (mapped is not None and mapped.is_unspecified)


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


def is_host_name(name: str) -> bool:
    """A name the Host header can give: a DNS name, an IPv4 address, or an IPv6 address
    (bracketed or not); no scheme, port or path."""
    try:
        ipaddress.ip_address(name[1:-1] if name.startswith("[") and name.endswith("]")
                             else name)
        return True
    except ValueError:
        pass
    return len(name) <= 253 and re.fullmatch(rf"{_LABEL}(?:\.{_LABEL})*\.?", name) is not None


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(host: str) -> str:
    """A host as the Host header spells it: lower case, an IPv6 address in brackets."""
    host = host.strip().lower()
    try:
        if ipaddress.ip_address(host.strip("[]")).version == 6:
            return "[" + host.strip("[]") + "]"
    except ValueError:
        pass
    return host


def allowed_hosts(host: str, extra: list[str]) -> frozenset[str]:
    """The names a request's Host header may give: the bound address, the loopback
    names when it is a loopback or wildcard address, and those given with --allow-host."""
    names = {host_name(h) for h in extra}
    if is_wildcard(host):  # it listens on loopback too (IPv6 loopback only if on IPv6)
        names |= {"127.0.0.1", "localhost"} | ({"[::1]"} if ":" in host else set())
    else:
        names.add(host_name(host))
        if is_loopback(host):
            names |= {"localhost", "127.0.0.1"} if ":" not in host else {"localhost", "[::1]"}
    return frozenset(names)


# ---------------------------------------------------------------- concurrency


class Slots:
    """At most N assessments at once; beyond that a request is answered 503 at once.

    A slot is held by the request and by the thread assessing it, and freed when both
    are done: a request that timed out leaves its thread the slot until it ends, so
    that abandoned work cannot pile up past N."""

    def __init__(self, n: int):
        self.n, self.used, self.lock = n, 0, threading.Lock()

    def take(self) -> _Ticket | None:
        with self.lock:
            if self.used >= self.n:
                return None
            self.used += 1
        return _Ticket(self)

    def _free(self) -> None:
        with self.lock:
            self.used -= 1


class _Ticket:
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
            self.slots._free()


async def in_thread(ticket: _Ticket, fn, *args):
    """Run `fn` in a worker thread that holds the ticket until it returns."""
    import anyio

    ticket.hold()

    def run():
        try:
            return fn(*args)
        finally:
            ticket.drop()

    return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)


# ----------------------------------------------------------------- responses


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


def _query(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
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
            raise _too_large(int(length))
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
        raise _too_large(size, more=size > DRAINED)
    return b"".join(chunks)


def _too_large(size: int, more: bool = False) -> ServiceError:
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


# ----------------------------------------------------------------- the app


class App:
    """The routes, with the service and the settings they share."""

    def __init__(self, service: Service, settings: Settings):
        self.service, self.settings = service, settings
        self.slots = Slots(settings.max_concurrent)
        from riskassess.openapi import document

        self.openapi = document(service)

    # -- the API

    async def assessments(self, request: Request) -> Response:
        deadline = time.monotonic() + self.settings.timeout
        params = _query(request, ("format", "ruleset"))
        fmt = params.get("format", "json")
        if fmt not in FORMATS:
            raise ServiceError(400, "bad-parameter", "A parameter cannot be acted on",
                               f"format '{fmt[:40]}' is not one of {', '.join(FORMATS)}",
                               exit_code=2)
        ruleset = params.get("ruleset") or None
        kind = media_type(request, YAML_TYPES + JSON_TYPES)
        self.service.check_ruleset(ruleset)
        # the body first: a slow upload holds a connection, never an assessment's slot
        raw = await read_body(request, deadline)
        ticket = self._ticket()
        try:
            done = await self._bounded(ticket, deadline, self._assess, raw, kind, fmt, ruleset)
        finally:
            ticket.drop()
        return answer(done)

    def _assess(self, raw: bytes, kind: str, fmt: str, ruleset: str | None) -> Answer:
        doc = self.service.read(raw, kind)
        return self.service.assess(doc, fmt, ruleset)

    def _ticket(self) -> _Ticket:
        ticket = self.slots.take()
        if ticket is None:
            n = self.settings.max_concurrent
            raise ServiceError(503, "busy", "Too many assessments at once",
                               f"{n} assessment{'s are' if n != 1 else ' is'} running (the "
                               "service's limit); try again in a moment",
                               headers={"retry-after": "1"})
        return ticket

    async def _bounded(self, ticket: _Ticket, deadline: float, fn, *args):
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                return await in_thread(ticket, fn, *args)
        except TimeoutError:
            raise ServiceError(503, "timeout", "The assessment took too long",
                               f"no answer within {self.settings.timeout:g} s",
                               headers={"retry-after": "1"}) from None

    async def rulesets(self, request: Request) -> Response:
        _query(request, ())
        return json_response(self.service.rulesets_index())

    async def ruleset(self, request: Request) -> Response:
        _query(request, ())
        return json_response(self.service.ruleset(request.path_params["ruleset_id"]))

    async def rule(self, request: Request) -> Response:
        params = _query(request, ("ruleset",))
        return json_response(self.service.rule(request.path_params["rule_id"],
                                               params.get("ruleset") or None))

    async def coi(self, request: Request) -> Response:
        params = _query(request, ("ruleset",))
        return json_response(self.service.paragraph(request.path_params["paragraph_id"],
                                                    params.get("ruleset") or None))

    async def schema(self, request: Request) -> Response:
        _query(request, ())
        which = request.path_params["which"]
        if which not in ("case", "report"):
            raise ServiceError(404, "not-found", "No such schema",
                               f"no schema '{which[:40]}' (there are: case, report)")
        return Response(self.service.schema(which), media_type="application/schema+json")

    async def health(self, request: Request) -> Response:
        _query(request, ())
        return json_response(self.service.health())

    async def openapi_json(self, request: Request) -> Response:
        _query(request, ())
        return Response(self.openapi, media_type="application/json")

    # -- the form

    async def form(self, request: Request) -> Response:
        from riskassess import webpages

        params = _query(request, ("example",))
        if not self._signed_in(request):
            return self._login_page(request)
        return webpages.blank(self, request, params.get("example"))

    async def submit(self, request: Request) -> Response:
        from riskassess import webpages

        self._check_origin(request)
        if not self._signed_in(request):
            return self._login_page(request)
        deadline = time.monotonic() + self.settings.timeout
        media_type(request, ("application/x-www-form-urlencoded",))
        raw = await read_body(request, deadline)
        ticket = self._ticket()
        try:
            return await self._bounded(ticket, deadline, webpages.submitted, self, request, raw)
        finally:
            ticket.drop()

    async def login(self, request: Request) -> Response:
        from riskassess.webform import FormError, parse_body

        self._check_origin(request)
        media_type(request, ("application/x-www-form-urlencoded",))
        raw = await read_body(request, time.monotonic() + self.settings.timeout)
        try:
            form = parse_body(raw)
        except FormError as exc:
            raise ServiceError(400, "bad-request", "Bad request", str(exc)) from None
        if self.settings.token is None:
            return RedirectResponse("/", status_code=303)
        if not self.csrf_ok(request, (form.get("csrf") or [""])[0]):
            return self._login_page(request, expired=True)
        given = (form.get("token") or [""])[0]
        if not same_secret(given, self.settings.token):
            return self._login_page(request, failed=True)
        out = RedirectResponse("/", status_code=303)
        out.set_cookie(SESSION_COOKIE, self._session_value(), httponly=True, samesite="strict",
                       path="/")
        return out

    async def static(self, request: Request) -> Response:
        from riskassess.render.templating import TEMPLATES

        name = request.path_params["name"]
        if name not in ("report.css", "form.css"):
            raise ServiceError(404, "not-found", "Not found", "no such file")
        return Response((TEMPLATES / name).read_bytes(), media_type="text/css; charset=utf-8")

    # -- sessions, CSRF and Origin

    def _session_value(self) -> str:
        return hmac.new(self.settings.token.encode(), b"riskassess form session",
                        hashlib.sha256).hexdigest()

    def _signed_in(self, request: Request) -> bool:
        token = self.settings.token
        if token is None or bearer_ok(request.headers.get("authorization", ""), token):
            return True
        return same_secret(request.cookies.get(SESSION_COOKIE, ""), self._session_value())

    def _login_page(self, request: Request, failed: bool = False,
                    expired: bool = False) -> Response:
        from riskassess import webpages

        return webpages.login(self, request, failed, expired)

    def csrf_pair(self, request: Request) -> tuple[str, str | None]:
        """The form's CSRF token, and the cookie to set when the browser has none yet
        (the token is an HMAC of the cookie's random value under this process's key)."""
        cookie = request.cookies.get(CSRF_COOKIE, "")
        new = None
        if not re.fullmatch(r"[0-9a-f]{32}", cookie):
            cookie = new = os.urandom(16).hex()
        return self._csrf_token(cookie), new

    def _csrf_token(self, cookie: str) -> str:
        return hmac.new(self.settings.secret, cookie.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, request: Request, given: str) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        return bool(cookie) and same_secret(given, self._csrf_token(cookie))

    def _check_origin(self, request: Request) -> None:
        """A form post must come from this service's own pages: its Origin (or, when a
        browser sends none, its Referer) must be one of the service's own origins."""
        origin = request.headers.get("origin")
        if origin is None:
            referer = request.headers.get("referer")
            if referer is None:
                site = request.headers.get("sec-fetch-site")
                if site in (None, "same-origin", "none"):
                    return
                origin = f"({site})"
            else:
                m = re.match(r"^(https?://[^/]+)", referer)
                origin = m.group(1) if m else referer[:60]
        if origin.lower() not in self.settings.origins:
            raise ServiceError(403, "forbidden-origin", "Cross-site request refused",
                               f"a form post from {origin[:60]} is refused: the form must be "
                               "posted from this service's own pages")

    def starlette(self) -> Starlette:
        routes = [
            Route("/", self.form, methods=["GET"]),
            Route("/", self.submit, methods=["POST"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/login", lambda request: RedirectResponse("/", status_code=303),
                  methods=["GET"]),
            Route("/static/{name}", self.static, methods=["GET"]),
            Route("/favicon.ico", lambda request: Response(status_code=204), methods=["GET"]),
            Route("/healthz", self.health, methods=["GET"]),
            Route("/openapi.json", self.openapi_json, methods=["GET"]),
            Route("/v1/assessments", self.assessments, methods=["POST"]),
            Route("/v1/rulesets", self.rulesets, methods=["GET"]),
            Route("/v1/rulesets/{ruleset_id}", self.ruleset, methods=["GET"]),
            Route("/v1/rules/{rule_id}", self.rule, methods=["GET"]),
            Route("/v1/coi/{paragraph_id}", self.coi, methods=["GET"]),
            Route("/v1/schema/{which}", self.schema, methods=["GET"]),
        ]
        handlers = {ServiceError: _service_error, HTTPException: _http_error,
                    Exception: _internal_error}
        return Starlette(routes=routes, exception_handlers=handlers)


def same_secret(given: str, expected: str) -> bool:
    """Whether two secrets are equal, in time independent of where they differ (both
    are hashed first, so that not even their lengths are compared)."""
    return hmac.compare_digest(hashlib.sha256(given.encode("utf-8", "replace")).digest(),
                               hashlib.sha256(expected.encode("utf-8")).digest())


def bearer_ok(authorization: str, token: str) -> bool:
    """Whether an Authorization header's value is `Bearer TOKEN`."""
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and same_secret(given.strip(), token)


async def _service_error(request: Request, exc: ServiceError) -> Response:
    return problem(exc)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    titles = {404: ("not-found", "Not found", "no such endpoint; see /openapi.json"),
              405: ("method-not-allowed", "Method not allowed",
                    f"{request.method} is not allowed here")}
    kind, title, detail = titles.get(exc.status_code, ("http", "Request refused", exc.detail))
    headers = dict(exc.headers or {})
    return problem(ServiceError(exc.status_code, kind, title, detail, headers=headers))


async def _internal_error(request: Request, exc: Exception) -> Response:
    return problem(ServiceError(500, "internal", "Internal error",
                                "an internal error; the service's log names where it arose"))


# ---------------------------------------------------------------- the guard


class Guard:
    """The outermost layer: Host allow-list, token, security headers and the log line.

    It also catches what escapes the app, so that no traceback (whose exception
    message might quote a value of the case) reaches the log: it logs where the error
    arose (file and line) and its type only."""

    def __init__(self, app, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # websockets: not served
            return
        start = time.perf_counter()
        status = [0]

        async def guarded_send(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if "content-security-policy" not in headers:
                    headers["content-security-policy"] = CSP
            try:  # a client that does not read its answer cannot hold the connection
                async with asyncio.timeout(self.settings.timeout):
                    await send(message)
            except TimeoutError:
                raise _SlowReader from None

        path = scope.get("path", "")
        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await problem(refusal)(scope, receive, guarded_send)
            else:
                await self.app(scope, receive, guarded_send)
        except _SlowReader:
            log.info("the client did not read its answer within %g s: connection closed",
                     self.settings.timeout)
        except Exception as exc:  # noqa: BLE001 - logged by type and place, never by value
            log.error("internal error %s at %s", type(exc).__name__, _where(exc))
            if not status[0]:
                await _internal_response(scope, receive, guarded_send)
        finally:
            client = scope.get("client") or ("-", 0)
            log.info("%s %s %s %s %.1f ms", client[0], scope.get("method", "-"),
                     _printable(path), status[0] or "-", (time.perf_counter() - start) * 1000)

    def _refusal(self, scope) -> ServiceError | None:
        headers = dict((k.decode("latin-1"), v.decode("latin-1"))
                       for k, v in scope.get("headers", []))
        host = headers.get("host", "")
        name = _host_of(host)
        port = _port_of(host)
        if port is None:
            port = 80  # a Host without a port names the default one
        if name not in self.settings.allowed_hosts or port != self.settings.port:
            names = ", ".join(sorted(self.settings.allowed_hosts))
            return ServiceError(400, "host-not-allowed", "Host not allowed",
                                f"this service answers for {names} "
                                f"on port {self.settings.port} only; the request named "
                                f"'{host[:60] or '(no Host header)'}'")
        token = self.settings.token
        path = scope.get("path", "")
        if token is None or path.startswith(PUBLIC) or path == "/":
            return None  # the form's pages check the token or the session themselves
        if bearer_ok(headers.get("authorization", ""), token):
            return None
        return ServiceError(401, "unauthorized", "A token is required",
                            "send the service's token as Authorization: Bearer TOKEN",
                            headers={"www-authenticate": 'Bearer realm="riskassess"'})


class _SlowReader(Exception):
    """The client left its answer unread for longer than the time limit."""


async def _internal_response(scope, receive, send) -> None:
    await problem(ServiceError(500, "internal", "Internal error",
                               "an internal error; the service's log names where it arose"))(
        scope, receive, send)


def _where(exc: BaseException) -> str:
    """Where an error arose: the innermost line of riskassess's own code, and the
    innermost line of all (in a library) when that is elsewhere."""
    tb = exc.__traceback__
    last = ours = None
    while tb is not None:
        last = tb
        if f"{os.sep}riskassess{os.sep}" in tb.tb_frame.f_code.co_filename:
            ours = tb
        tb = tb.tb_next
    if last is None:
        return "?"

    def place(t) -> str:
        code = t.tb_frame.f_code
        return f"{os.path.basename(code.co_filename)}:{t.tb_lineno} ({code.co_name})"

    if ours is None or ours is last:
        return place(last)
    return f"{place(ours)}, in {place(last)}"


def _printable(text: str) -> str:
    text = text[:120]
    return "".join(ch if ch.isprintable() and ch != " " else f"\\x{ord(ch):02x}" for ch in text)


def _host_of(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _port_of(host: str) -> int | None:
    host = host.strip()
    if host.startswith("["):
        rest = host[host.find("]") + 1:] if "]" in host else ""
    else:
        rest = host[host.find(":"):] if host.count(":") == 1 else ""
    if not rest:
        return None
    digits = rest[1:]
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 5 else -1


def build(service: Service, settings: Settings):
    """The ASGI application: the app inside its guard."""
    return Guard(App(service, settings).starlette(), settings)


# ---------------------------------------------------------------- running


def serve(*, host: str, port: int, rules_dir, token: str | None, allow_host: list[str],
          max_concurrent: int, timeout: float, open_form: bool,
          today: dt.date | None) -> int | None:
    """`riskassess serve`: check the options, load the rule sets, listen, and serve until
    SIGTERM or Ctrl-C; return the signal that stopped it. Raises UsageError for an option
    it cannot act on (a host that needs a token, a port in use), RuleSetError for rules
    that do not load. It writes its start line and its log to standard error."""
    import socket
    import sys

    from riskassess.errors import UsageError
    from riskassess.ruleset import default_rules_dir

    for name in allow_host:
        if not is_host_name(name):
            raise UsageError(f"--allow-host {name} is not a host name or address (give the "
                             "name alone: no scheme, port or path)")
    if token is not None and len(token) < 16:
        raise UsageError("the token is shorter than 16 characters: use a long random one "
                         "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe())')")
    try:  # judged by the address it names, not by how it is spelt (0, ::0, 00.0.0.0)
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                  flags=socket.AI_PASSIVE)[0]
    except (OSError, UnicodeError) as exc:
        raise UsageError(f"--host {host}: not an address or a name this machine knows "
                         f"({getattr(exc, 'strerror', None) or exc})") from None
    address = info[4][0]
    wildcard = is_wildcard(address)
    if not is_loopback(address) and token is None:
        raise UsageError(f"--host {host} is not a loopback address: other machines could "
                         "reach the service, so give it a token (--token, or the "
                         "environment variable RISKASSESS_TOKEN)")
    if wildcard and not allow_host:
        raise UsageError(f"--host {host} listens on every address, so the service cannot "
                         "know the name clients will use: give it with --allow-host NAME")
    service = Service(rules_dir or default_rules_dir(), today=today)
    try:
        # the protocol given (IPPROTO_TCP), not 0: asyncio sets TCP_NODELAY only on
        # sockets that say they are TCP, and without it every answer after the first on a
        # kept-alive connection waits 40 ms for the client's delayed ACK
        sock = socket.socket(info[0], socket.SOCK_STREAM, info[2] or socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(info[4])
        sock.listen(128)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host} port {port}: "
                         f"{exc.strerror or exc}") from None
    bound = sock.getsockname()[1]
    names = allowed_hosts(address, [host, *allow_host] if not wildcard
                          else list(allow_host))
    settings = Settings(address, bound, names, token, max_concurrent, timeout)
    shown = "127.0.0.1" if wildcard else (f"[{address}]" if ":" in address else address)
    url = f"http://{shown}:{bound}/"
    if wildcard:
        url_note = (f" on every address; clients may name it "
                    f"{', '.join(sorted(names))} (port {bound})")
    else:
        url_note = ""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    for name in ("riskassess.serve", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False

    def ready() -> None:
        sys.stderr.write(f"riskassess serve: listening on {url}{url_note} (rule sets: "
                         f"{', '.join(sorted(service.rulesets))}); the form is at {url}, "
                         f"the API at {url}openapi.json. Ctrl-C or SIGTERM stops it.\n")
        sys.stderr.flush()
        if not open_form:
            return
        import os

        if sys.platform in ("darwin", "win32") or os.environ.get("DISPLAY") or \
                os.environ.get("WAYLAND_DISPLAY"):
            import threading
            import webbrowser

            # in a thread: a browser that takes a while to start must not hold the server
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        else:  # a text browser would take over this terminal: say where the form is
            sys.stderr.write(f"riskassess serve: --open: no graphical display here; open "
                             f"{url} in a browser\n")

    return run(service, settings, sock, on_ready=ready)



def run(service: Service, settings: Settings, sock, *, grace: float = 30.0,
        on_ready=None) -> int | None:
    """Serve on a bound socket until SIGTERM or Ctrl-C; return the signal that stopped
    it (after in-flight requests were answered), or None."""
    import uvicorn

    config = uvicorn.Config(
        build(service, settings), log_config=None, access_log=False, server_header=False,
        proxy_headers=False, lifespan="off", ws="none", loop="asyncio",
        http=_protocol(min(settings.timeout, HEADER_TIMEOUT)),
        interface="asgi3", timeout_keep_alive=5, timeout_graceful_shutdown=grace,
        limit_concurrency=4 * settings.max_concurrent + 16)
    server = _server(config)
    server.on_ready = on_ready
    server.run(sockets=[sock])
    return server.stopped_by


HEADER_TIMEOUT = 10.0  # seconds a request's line and headers may take to arrive


def _protocol(limit: float):
    """uvicorn's h11 protocol with a deadline on a request's headers. uvicorn has none: a
    client sending a header a byte at a time (or nothing at all after connecting) would
    hold its connection for ever. A connection whose request has not started within
    `limit` seconds of its first byte (or of connecting) is closed."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class Guarded(H11Protocol):
        _late = None

        def connection_made(self, transport):
            super().connection_made(transport)
            self._late = self.loop.call_later(limit, self._headers_late)

        def data_received(self, data: bytes) -> None:
            idle = self.cycle is None or self.cycle.response_complete
            if idle and self._late is None:
                self._late = self.loop.call_later(limit, self._headers_late)
            super().data_received(data)
            if not (self.cycle is None or self.cycle.response_complete) and \
                    self._late is not None:
                self._late.cancel()
                self._late = None

        def connection_lost(self, exc):
            if self._late is not None:
                self._late.cancel()
                self._late = None
            super().connection_lost(exc)

        def _headers_late(self) -> None:
            self._late = None
            if (self.cycle is None or self.cycle.response_complete) and \
                    not self.transport.is_closing():
                self.transport.close()

    return Guarded


def _server(config):
    """uvicorn's server, stopping on SIGTERM or SIGINT after answering what is in flight,
    and reporting which signal it was instead of raising it again (uvicorn is imported
    only here, when serving)."""
    import contextlib
    import signal

    import uvicorn

    class Server(uvicorn.Server):
        stopped_by: int | None = None
        on_ready = None

        @contextlib.contextmanager
        def capture_signals(self):
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)
            if self._captured_signals:
                self.stopped_by = self._captured_signals[0]

        async def startup(self, sockets=None):
            await super().startup(sockets)
            if self.on_ready is not None and self.started:
                self.on_ready()

    return Server(config)
