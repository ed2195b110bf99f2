"""The outermost layer of the service: which Host names it answers for, the token, the
sign-in and CSRF secrets, the security headers and the log line. Nothing here reads a
request body; no log line holds a body, a query string or a fact."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import time
from dataclasses import dataclass, field

from starlette.datastructures import MutableHeaders
from starlette.requests import Request

from riskassess.serve.responses import CSP, SECURITY_HEADERS, problem
from riskassess.serve.service import ServiceError

log = logging.getLogger("riskassess.serve")
CSRF_COOKIE = "riskassess_csrf"
SESSION_COOKIE = "riskassess_session"
PUBLIC = ("/healthz", "/readyz", "/login", "/static/", "/favicon.ico")  # answered without the token
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
    max_queue: int = 256  # assessments that may wait for a slot (responses.Slots)
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


def same_secret(given: str, expected: str) -> bool:
    """Whether two secrets are equal, in time independent of where they differ (both
    are hashed first, so that not even their lengths are compared)."""
    return hmac.compare_digest(hashlib.sha256(given.encode("utf-8", "replace")).digest(),
                               hashlib.sha256(expected.encode("utf-8")).digest())


def bearer_ok(authorization: str, token: str) -> bool:
    """Whether an Authorization header's value is `Bearer TOKEN`."""
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and same_secret(given.strip(), token)



# ------------------------------------------------------ sessions, CSRF and Origin


def session_value(settings: Settings) -> str:
    """The form's sign-in cookie (a value derived from the token)."""
    return hmac.new(settings.token.encode(), b"riskassess form session",
                    hashlib.sha256).hexdigest()


def signed_in(request: Request, settings: Settings) -> bool:
    """Whether a request may use the form: no token is set, or it sends the token, or the
    sign-in cookie."""
    token = settings.token
    if token is None or bearer_ok(request.headers.get("authorization", ""), token):
        return True
    return same_secret(request.cookies.get(SESSION_COOKIE, ""), session_value(settings))


def csrf_pair(request: Request, settings: Settings) -> tuple[str, str | None]:
    """The form's CSRF token, and the cookie to set when the browser has none yet
    (the token is an HMAC of the cookie's random value under this process's key)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    new = None
    if not re.fullmatch(r"[0-9a-f]{32}", cookie):
        cookie = new = os.urandom(16).hex()
    return _csrf_token(cookie, settings), new


def _csrf_token(cookie: str, settings: Settings) -> str:
    return hmac.new(settings.secret, cookie.encode(), hashlib.sha256).hexdigest()


def csrf_ok(request: Request, settings: Settings, given: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and same_secret(given, _csrf_token(cookie, settings))


def check_origin(request: Request, settings: Settings) -> None:
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
    if origin.lower() not in settings.origins:
        raise ServiceError(403, "forbidden-origin", "Cross-site request refused",
                           f"a form post from {origin[:60]} is refused: the form must be "
                           "posted from this service's own pages")


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
            log.error("internal error %s at %s", type(exc).__name__, where(exc))
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


def where(exc: BaseException) -> str:
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
