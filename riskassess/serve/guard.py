"""The outermost layer of the service: which Host names it answers for, who is asking
(a named token, or a session of the form), the sign-in and CSRF secrets, the brake on
wrong tokens, the security headers and the log line. Nothing here reads a request body;
no log line holds a body, a query string, a token or a fact.

Who made a request is put in `scope["state"]["principal"]` (read as
`request.state.principal`): the token's name, the session's person, or "anonymous" when
the service has no token; it is absent when nobody was recognised."""

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
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.requests import Request, cookie_parser

from riskassess.serve.audit import AuditLog
from riskassess.serve.auth import FailureLimiter, Keyring, Sessions, same_secret, subkey
from riskassess.serve.responses import CSP, SECURITY_HEADERS, problem
from riskassess.serve.service import ServiceError

log = logging.getLogger("riskassess.serve")
CSRF_COOKIE = "riskassess_csrf"
SESSION_COOKIE = "riskassess_session"
# answered without the token (the form's pages check the session themselves)
PUBLIC = ("/healthz", "/readyz", "/login", "/logout", "/static/", "/favicon.ico")
LOOPBACK_NAMES = ("localhost",)
HSTS = "max-age=31536000"
READS = ("GET", "HEAD")  # what a session cookie may do in the API (a post needs the token)


@dataclass
class Settings:
    """How one service runs; made by `riskassess serve` from its options."""

    host: str
    port: int
    allowed_hosts: frozenset[str]  # host names (lower case, IPv6 in brackets) the Host may name
    token: str | None = None  # --token: one token, named "token"
    max_concurrent: int = 16
    timeout: float = 30.0
    max_queue: int = 256  # assessments that may wait for a slot (responses.Slots)
    secret: bytes = field(default_factory=lambda: os.urandom(32), repr=False)
    tls: bool = False  # served over TLS itself
    trusted_proxies: tuple[str, ...] = ()  # their X-Forwarded-Proto is believed
    tokens: dict[str, str] | None = field(default=None, repr=False)  # --tokens-file's
    tokens_file: Path | None = None
    session_minutes: int = 480
    audit: AuditLog | None = None
    keyring: Keyring = field(init=False, repr=False)
    sessions: Sessions = field(init=False, repr=False)
    limiter: FailureLimiter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.keyring = Keyring(self.tokens or {}, self.tokens_file, self.token)
        self.sessions = Sessions(subkey(self.secret, "session"), self.session_minutes)
        self.limiter = FailureLimiter()

    @property
    def token_mode(self) -> bool:
        """Whether every request but the public ones needs a token (or, for the form and
        the API's reads, a session); true even when every token has been revoked."""
        return self.token is not None or self.tokens_file is not None or \
            self.tokens is not None

    @property
    def origins(self) -> frozenset[str]:
        """The origins of the service's own pages over http (a browser leaves out port 80)."""
        return self.origins_for("http")

    def origins_for(self, scheme: str) -> frozenset[str]:
        """The origins of the service's own pages reached over `scheme`: over https the
        public origin is https://NAME (port 443, behind a reverse proxy) or the port
        listened on (TLS served here)."""
        if scheme == "https":
            return frozenset({f"https://{h}" for h in self.allowed_hosts}
                             | {f"https://{h}:{p}" for h in self.allowed_hosts
                                for p in (443, self.port)})
        out = {f"http://{h}:{self.port}" for h in self.allowed_hosts}
        if self.port == 80:
            out |= {f"http://{h}" for h in self.allowed_hosts}
        return frozenset(out)

    def event(self, kind: str, **fields) -> bool:
        """An audit event, when there is an audit log; whether it was written (True
        without one)."""
        if self.audit is None:
            return True
        return self.audit.event(kind, **fields)

    def refused_event(self, client: str, how: str, why: str) -> None:
        """A refused authentication as an audit event: every wrong token (at most the
        brake's burst, then one every few seconds, per address), but a request refused by
        the brake itself only once a minute per address, so that nobody can fill the
        audit file by knocking."""
        if why != "rate-limited" or self.limiter.first_refusal(client):
            self.event("auth-refused", client=client, how=how, why=why)


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


# ------------------------------------------------------ sessions, CSRF and Origin


def is_https(scope) -> bool:
    return scope.get("scheme") == "https"


def cookie_name(base: str, scope) -> str:
    """A cookie's name as sent: with the `__Host-` prefix over https (the browser then
    keeps it for this host only, Secure, Path=/)."""
    return "__Host-" + base if is_https(scope) else base


def read_cookie(request: Request, base: str) -> str:
    return request.cookies.get(cookie_name(base, request.scope), "")


def set_cookie(response, request: Request, base: str, value: str,
               max_age: int | None = None) -> None:
    """Set one of the service's cookies: HttpOnly, SameSite=Strict, Path=/, and over
    https Secure with the __Host- prefix."""
    response.set_cookie(cookie_name(base, request.scope), value, max_age=max_age,
                        httponly=True, samesite="strict", path="/",
                        secure=is_https(request.scope))


def signed_in(request: Request, settings: Settings) -> bool:
    """Whether a request may use the form: no token is set, or the guard recognised its
    token or its session."""
    return "principal" in request.scope.get("state", {})


def principal(request: Request) -> str:
    """Who made the request, as the guard found it ("-" when nobody was recognised)."""
    return request.scope.get("state", {}).get("principal", "-")


def signed_in_as(request: Request) -> str | None:
    """The person of the request's session (the form's sign-out button), or None."""
    return request.scope.get("state", {}).get("person")


def session_cookie(request: Request, settings: Settings, name: str) -> tuple[str, int]:
    """A new session's cookie value for the person of the token `name`, and its Max-Age."""
    return settings.sessions.issue(name, settings.keyring), settings.session_minutes * 60


def end_session(request: Request, settings: Settings) -> str | None:
    """Sign the request's session out (on this process for good); the person's name, or
    None when it had no valid session."""
    found = settings.sessions.person(read_cookie(request, SESSION_COOKIE), settings.keyring)
    if found is None:
        return None
    name, sid, expiry = found
    settings.sessions.end(sid, expiry)
    return name


def csrf_pair(request: Request, settings: Settings) -> tuple[str, str | None]:
    """The form's CSRF token, and the cookie to set when the browser has none yet
    (the token is an HMAC of the cookie's random value under the service's key, which
    --secret-file shares between processes)."""
    cookie = read_cookie(request, CSRF_COOKIE)
    new = None
    if not re.fullmatch(r"[0-9a-f]{32}", cookie):
        cookie = new = os.urandom(16).hex()
    return _csrf_token(cookie, settings), new


def _csrf_token(cookie: str, settings: Settings) -> str:
    return hmac.new(subkey(settings.secret, "csrf"), cookie.encode(),
                    hashlib.sha256).hexdigest()


def csrf_ok(request: Request, settings: Settings, given: str) -> bool:
    cookie = read_cookie(request, CSRF_COOKIE)
    return bool(cookie) and same_secret(given, _csrf_token(cookie, settings))


def too_many(wait: int) -> ServiceError:
    return ServiceError(429, "too-many-failures", "Too many wrong tokens",
                        f"too many wrong tokens from this address: try again in {wait} s",
                        headers={"retry-after": str(wait)})


def client_of(scope) -> str:
    return (scope.get("client") or ("-", 0))[0]


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
    if origin.lower() not in settings.origins_for(request.scope.get("scheme", "http")):
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
                if is_https(scope):
                    headers["strict-transport-security"] = HSTS
                    _secure_cookies(headers)
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
        if not self._host_ok(scope, host):
            names = ", ".join(sorted(self.settings.allowed_hosts))
            return ServiceError(400, "host-not-allowed", "Host not allowed",
                                f"this service answers for {names} "
                                f"on port {self.settings.port} only; the request named "
                                f"'{host[:60] or '(no Host header)'}'")
        return self._who(scope, headers)

    def _host_ok(self, scope, host: str) -> bool:
        """The Host must name an allowed host and the port listened on; over https also
        port 443 (the public origin behind a TLS reverse proxy), which a Host without
        a port names."""
        name, port = _host_of(host), _port_of(host)
        https = is_https(scope)
        if port is None:
            port = 443 if https else 80  # a Host without a port names the default one
        ports = (self.settings.port, 443) if https else (self.settings.port,)
        return name in self.settings.allowed_hosts and port in ports

    def _who(self, scope, headers: dict[str, str]) -> ServiceError | None:
        """Who is asking (put in scope["state"]["principal"]), and the refusal of a
        request that needs a token and has none that is valid. A wrong token counts
        against the client's address; past a few, the address is answered 429 before
        any token it sends is compared."""
        settings = self.settings
        state = scope.setdefault("state", {})
        if not settings.token_mode:
            state["principal"] = "anonymous"
            return None
        path, method = scope.get("path", ""), scope.get("method", "")
        public = path.startswith(PUBLIC)
        authorization = headers.get("authorization")
        if authorization is not None and not public:
            client = client_of(scope)
            wait = settings.limiter.wait(client)
            if wait:
                settings.refused_event(client, "bearer", "rate-limited")
                return too_many(wait)
            name = settings.keyring.bearer(authorization)
            if name is not None:
                state["principal"] = name
                return None
            settings.limiter.fail(client)
            settings.refused_event(client, "bearer", "wrong token")
        else:
            cookies = cookie_parser(headers.get("cookie", ""))
            found = settings.sessions.person(
                cookies.get(cookie_name(SESSION_COOKIE, scope), ""), settings.keyring)
            if found is not None:
                state["principal"] = state["person"] = found[0]
            if public or path == "/" or (found is not None and method in READS):
                return None
        return ServiceError(401, "unauthorized", "A token is required",
                            "send a token of the service as Authorization: Bearer TOKEN",
                            headers={"www-authenticate": 'Bearer realm="riskassess"'})


def _secure_cookies(headers: MutableHeaders) -> None:
    """Over https, every cookie is Secure, and the service's own get the __Host- prefix
    (whoever set them)."""
    cookies = headers.getlist("set-cookie")
    if not cookies:
        return
    del headers["set-cookie"]
    for cookie in cookies:
        if cookie.startswith("riskassess_"):
            cookie = "__Host-" + cookie
        if "secure" not in [a.strip().lower() for a in cookie.split(";")[1:]]:
            cookie += "; Secure"
        headers.append("set-cookie", cookie)


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
