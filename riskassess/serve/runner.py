"""Running the service: `riskassess serve`'s options checked, the socket bound, and
uvicorn started with what it lacks: deadlines on a request's headers, a cap on
connections that slow clients cannot fill, its own refusals as problem documents, and a
stop on SIGTERM or Ctrl-C that answers what is in flight first; TLS, a trusted reverse
proxy's forwarded headers, and N worker processes on the one socket. uvicorn is
imported only here."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from riskassess.serve.app import build
from riskassess.serve.guard import (
    Settings,
    allowed_hosts,
    is_host_name,
    is_loopback,
    is_wildcard,
    where,
)
from riskassess.serve.responses import CSP, PROBLEM, SECURITY_HEADERS
from riskassess.serve.service import Service, ServiceError

log = logging.getLogger("riskassess.serve")

HEADER_TIMEOUT = 10.0  # seconds a request's line and headers may take to arrive
FIRST_BYTE_TIMEOUT = 5.0  # seconds a new connection may stay silent (a browser's
# preconnect included: it reconnects when it needs to)
MAX_CONNECTIONS = 4096  # open connections at once (about 5 kB of memory each, measured)


def serve(*, host: str, port: int, rules_dir, token: str | None, allow_host: list[str],
          max_concurrent: int, timeout: float, open_form: bool,
          today: dt.date | None, tokens_file=None, secret_file=None,
          session_minutes: int = 480, audit_log=None,
          tls_cert: str | None = None, tls_key: str | None = None,
          trusted_proxy: list[str] | None = None, workers: int = 1,
          max_queue: int = 256) -> int | None:
    """`riskassess serve`: check the options, load the rule sets, listen, and serve until
    SIGTERM or Ctrl-C; return the signal that stopped it. Raises UsageError for an option
    it cannot act on (a host that needs a token, a port in use), RuleSetError for rules
    that do not load. It writes its start line and its log to standard error."""
    import socket
    import sys

    from riskassess.errors import UsageError
    from riskassess.law.ruleset import default_rules_dir

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
    people = _people(tokens_file, secret_file, audit_log)  # refused before listening
    if not is_loopback(address) and token is None and tokens_file is None:
        raise UsageError(f"--host {host} is not a loopback address: other machines could "
                         "reach the service, so give it a token (--token, or the "
                         "environment variable RISKASSESS_TOKEN, or --tokens-file)")
    if wildcard and not allow_host:
        raise UsageError(f"--host {host} listens on every address, so the service cannot "
                         "know the name clients will use: give it with --allow-host NAME")
    tls = tls_context(tls_cert, tls_key)
    if tls is not None:
        people["warnings"] += _readable_by_others(tls_key, "--tls-key", "chmod 600 it")
    proxies = trusted_proxies(trusted_proxy or [])
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
    settings = Settings(address, bound, names, token, max_concurrent, timeout,
                        tokens=people["tokens"], tokens_file=tokens_file,
                        session_minutes=session_minutes, audit=people["audit"],
                        tls=tls is not None, trusted_proxies=proxies, max_queue=max_queue,
                        **({"secret": people["secret"]} if people["secret"] else {}))
    shown = "127.0.0.1" if wildcard else (f"[{address}]" if ":" in address else address)
    url = f"{'https' if tls is not None else 'http'}://{shown}:{bound}/"
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
        if tls is None and not is_loopback(address):
            sys.stderr.write(f"riskassess serve: warning: {host} is reachable from other "
                             "machines over plain HTTP: the token and the cases' personal "
                             "data cross the network in clear text unless a TLS reverse "
                             "proxy is in front (or give --tls-cert and --tls-key)\n")
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

    for warning in people["warnings"]:
        sys.stderr.write(f"riskassess serve: warning: {warning}\n")
    hup = _reload_on_sighup(settings) if tokens_file is not None else None
    if workers > 1:
        import shutil
        import tempfile
        from pathlib import Path

        # the workers' common memory of sign-outs (auth.Sessions.share), in a folder of
        # this process's own (0700), removed when the workers have ended
        shared = tempfile.mkdtemp(prefix="riskassess-serve-")
        try:
            settings.sessions.share(Path(shared) / "signed-out")
            return run_workers(workers, lambda first: run(
                service, settings, sock, on_ready=ready if first else None, tls=tls),
                hup=hup)
        finally:
            shutil.rmtree(shared, ignore_errors=True)
    return run(service, settings, sock, on_ready=ready, tls=tls)


def run_workers(n: int, serve_one, hup=None) -> int | None:
    """`serve_one(first)` in N processes forked from this one, which has bound the
    socket, loaded the rule sets and made the settings' secret (the CSRF key), so that
    all N share them; the kernel hands each connection to one of them. This process
    waits: it passes SIGTERM and SIGINT on to the workers (each answers what it has in
    flight, then ends), replaces a worker that ends on its own (a crash), and returns the
    signal that stopped it. Workers are in a process group of their own, so that Ctrl-C
    at a terminal reaches them once, through this process; one whose parent dies is sent
    SIGTERM (Linux). `hup`: SIGHUP's handler in each worker (the tokens file read again);
    this process then passes SIGHUP on to the workers."""
    import os
    import signal
    import sys
    import time

    STOPS = {signal.SIGTERM, signal.SIGINT}
    stopping: list[int] = []
    children: dict[int, int] = {}  # pid -> worker number

    def start(number: int) -> None:
        sys.stderr.flush()
        # no signal between the fork and the worker's own handlers: it would run this
        # process's handler in the worker, which would signal its siblings
        signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
            raise
        if pid:
            children[pid] = number
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
            return
        code = 70
        try:  # the worker
            os.setpgid(0, 0)
            for sig in STOPS:
                signal.signal(sig, signal.SIG_DFL)
            if hup is not None:  # its own reload, not this process's passing on
                signal.signal(signal.SIGHUP, hup)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
            _die_with_parent()
            serve_one(number == 0 and not started_once)
            code = 0
        except BaseException as exc:  # noqa: BLE001 - logged by type and place only
            log.error("worker %d: internal error %s at %s", number, type(exc).__name__,
                      where(exc))
        finally:
            sys.stderr.flush()
            os._exit(code)

    def forward(sig, frame) -> None:
        if sig in STOPS:
            stopping.append(sig)
        for pid in list(children):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    started_once = False
    original = {sig: signal.signal(sig, forward)
                for sig in (*STOPS, *((signal.SIGHUP,) if hup is not None else ()))}
    try:
        for number in range(n):
            start(number)
        started_once = True
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            number = children.pop(pid, None)
            if number is None or stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            log.error("worker %d ended (%s); starting another", number,
                      f"signal {-code}" if code < 0 else f"exit {code}")
            time.sleep(1)  # a worker that cannot start must not spin
            if not stopping:
                start(number)
    finally:
        for sig, handler in original.items():
            signal.signal(sig, handler)
    return stopping[0] if stopping else None


def _die_with_parent() -> None:
    """Have the kernel send this process SIGTERM when its parent ends (Linux's
    PR_SET_PDEATHSIG); elsewhere nothing. A worker must not outlive the process that
    stops it."""
    import ctypes
    import os
    import signal

    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it ended before that took effect
        os.kill(os.getpid(), signal.SIGTERM)


def tls_context(cert: str | None, key: str | None):
    """The TLS context of --tls-cert and --tls-key (PEM files: the certificate chain and
    its private key, unencrypted), or None without them. Raises UsageError for one
    without the other, a file that is missing, unreadable or not a regular file (a FIFO
    would hang the start), not PEM, an encrypted key, or a key that is not the
    certificate's."""
    import os
    import ssl

    from riskassess.errors import UsageError

    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise UsageError("--tls-cert and --tls-key go together: give both (the "
                         "certificate chain and its private key, PEM files)")
    for flag, path, marker, what in (
            ("--tls-cert", cert, b"-----BEGIN CERTIFICATE-----", "a PEM certificate"),
            ("--tls-key", key, b"PRIVATE KEY-----", "a PEM private key")):
        try:
            if not os.path.isfile(path):
                raise UsageError(f"{flag} {path}: " + (
                    "not a regular file" if os.path.exists(path) else "no such file"))
            with open(path, "rb") as f:
                head = f.read(1 << 20)
        except OSError as exc:
            raise UsageError(f"{flag} {path}: cannot be read "
                             f"({exc.strerror or exc})") from None
        if marker not in head:
            raise UsageError(f"{flag} {path}: not {what} (no '{marker.decode()}' in it)")

    class Encrypted(Exception):
        pass

    def encrypted() -> bytes:
        raise Encrypted

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key, password=encrypted)
    except Encrypted:
        raise UsageError(f"--tls-key {key}: the key is encrypted; give it unencrypted "
                         "(readable by the service's user only), e.g. openssl pkey -in "
                         "KEY -out PLAIN.pem") from None
    except ssl.SSLError as exc:
        raise UsageError(f"--tls-cert {cert} with --tls-key {key}: the key is not the "
                         "certificate's, or one of them is damaged (OpenSSL: "
                         f"{exc.reason or exc})") from None
    return context


def trusted_proxies(given: list[str]) -> tuple[str, ...]:
    """--trusted-proxy's addresses and networks, normalised; an IPv4 one also as the
    IPv4-mapped IPv6 form an IPv6 socket reports it in. Raises UsageError for anything
    else (a host name, '*')."""
    import ipaddress

    from riskassess.errors import UsageError

    out: list[str] = []
    for value in given:
        try:
            net = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise UsageError(f"--trusted-proxy {value}: not an IP address or network "
                             "(e.g. 10.0.0.5 or 10.0.0.0/24; the proxy's own address, "
                             "as this service sees it)") from None
        forms = [net]
        if net.version == 4:
            forms.append(ipaddress.ip_network(
                f"::ffff:{net.network_address}/{96 + net.prefixlen}"))
        for one in forms:
            text = str(one.network_address) if one.num_addresses == 1 else str(one)
            if text not in out:
                out.append(text)
    return tuple(out)


def _people(tokens_file, secret_file, audit_log) -> dict:
    """The options of who uses the service, read (and refused) before listening: the
    named tokens, the shared secret, the audit log."""
    from riskassess.serve.audit import AuditLog
    from riskassess.serve.auth import read_secret, read_tokens

    out = {"tokens": None, "secret": None, "audit": None, "warnings": []}
    if tokens_file is not None:
        out["tokens"], warnings = read_tokens(tokens_file)
        out["warnings"] += warnings
    if secret_file is not None:
        out["secret"], warnings = read_secret(secret_file)
        out["warnings"] += warnings
    if audit_log is not None:
        out["audit"] = AuditLog(audit_log)
        out["warnings"] += _readable_by_others(audit_log, "--audit-log", "chmod 600 it")
    return out


def _readable_by_others(path, option: str, advice: str) -> list[str]:
    """A warning when other users of this machine may read `path` (the TLS key, an audit
    file that was there before: neither is refused, as a tokens file is not)."""
    import os
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return []
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [f"{option} {path}: other users of this machine can read it ({advice})"]
    return []


def _reload_on_sighup(settings: Settings):
    """SIGHUP reads the tokens file again (a token revoked ends its sessions); a file
    that is not valid leaves the tokens in use, and says why by line number. Returns
    the handler (for the workers of --workers), or None where it cannot be installed."""
    import signal

    if threading.current_thread() is not threading.main_thread() or \
            not hasattr(signal, "SIGHUP"):
        return None
    log = logging.getLogger("riskassess.serve")

    def reload(signum, frame) -> None:
        for line in settings.keyring.reload().splitlines():
            log.info("%s", line)

    signal.signal(signal.SIGHUP, reload)
    return reload



def run(service: Service, settings: Settings, sock, *, grace: float = 30.0,
        on_ready=None, tls=None, max_connections: int = MAX_CONNECTIONS) -> int | None:
    """Serve on a bound socket until SIGTERM or Ctrl-C; return the signal that stopped
    it (after in-flight requests were answered), or None. `tls`: an SSLContext (HTTPS
    on the socket)."""
    server = _server(uvicorn_config(build(service, settings), settings, grace=grace,
                                    tls=tls, max_connections=max_connections))
    server.on_ready = on_ready
    server.run(sockets=[sock])
    return server.stopped_by


def uvicorn_config(app, settings: Settings, *, grace: float = 30.0, tls=None,
                   max_connections: int = MAX_CONNECTIONS):
    """How uvicorn serves `app`: the hardened protocol (_protocol), TLS, and the
    forwarded headers. Requests over TLS, or from a trusted proxy (settings.
    trusted_proxies) saying X-Forwarded-Proto: https, reach the app with
    scope["scheme"] == "https", and a trusted proxy's X-Forwarded-For is the client's
    address; from anyone else both headers are ignored."""
    import uvicorn

    max_connections = min(max_connections, _open_files(max_connections + 256) - 128)
    proxies = list(settings.trusted_proxies)
    config = uvicorn.Config(
        app, log_config=None, access_log=False, server_header=False,
        proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None,
        lifespan="off", ws="none", loop="asyncio",
        http=_protocol(min(settings.timeout, HEADER_TIMEOUT),
                       # every slot and every place in the queue (responses.Slots), and more
                       in_flight=max(4 * settings.max_concurrent,
                                     settings.max_concurrent + settings.max_queue) + 16,
                       max_connections=max_connections),
        interface="asgi3", timeout_keep_alive=5, timeout_graceful_shutdown=grace,
        backlog=1024)
    config.load()
    config.ssl = tls  # our context (checked by tls_context), which uvicorn then serves
    return config


def _protocol(limit: float, in_flight: int, max_connections: int):
    """uvicorn's h11 protocol, hardened where uvicorn leaves a connection open to abuse.

    - Deadlines on a request's headers, which uvicorn lacks: a new connection must send
      its first byte within FIRST_BYTE_TIMEOUT (or `limit`, if shorter) and complete its
      request line and headers within `limit` of connecting; on a kept-alive connection,
      within `limit` of the next request's first byte. Trickling a byte at a time does not
      extend it.
    - The cap on open connections (`max_connections`) never refuses a request: at the
      cap, the connection that has waited longest without a request in flight (a slow
      or idle one) is closed to make room. uvicorn's own cap (limit_concurrency) counted
      such connections, so a hundred clients trickling their headers held the service.
    - What is limited is requests in flight (`in_flight`: their headers complete); beyond,
      503 with Retry-After, as a problem document like every other refusal.
    - uvicorn's plain-text 400 for malformed HTTP, and a request with both Content-Length
      and Transfer-Encoding (RFC 9112 6.1: ambiguous framing, the smuggling vector), are
      answered with a problem document and the connection closed.
    - A client that half-closes its side after sending its request (shutdown(SHUT_WR))
      still gets its answer; uvicorn let asyncio close the connection at once."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    waiting: dict = {}  # connections without a request in flight, oldest first

    class Guarded(H11Protocol):
        _late = None  # the deadline's timer
        _since: float | None = None  # when the current request's first byte (or the
        # connection) came; None while one is in flight or a kept-alive one is silent
        _heard = False  # whether any byte came since then

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.limit_concurrency = None  # counted here, by requests in flight
            self._app = self.app
            self.app = self._front

        def connection_made(self, transport):
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                oldest = next(iter(waiting), None)
                if oldest is None:  # all busy with requests: this one waits for none
                    transport.close()
                    return
                oldest._close()
            waiting[self] = None
            self._since = self.loop.time()
            self._arm(min(FIRST_BYTE_TIMEOUT, limit))

        def data_received(self, data: bytes) -> None:
            if self._idle():
                now = self.loop.time()
                if self._since is None:  # a kept-alive connection's next request
                    self._since = now
                    self._arm(limit)
                elif not self._heard:  # a new connection's first byte
                    self._arm(self._since + limit - now)
                self._heard = True
            super().data_received(data)
            self._sync()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._sync()

        def eof_received(self):
            """The client closed its side: it sends nothing more, but may still read.
            A request it sent in full is answered before the connection is closed. (Over
            TLS, an end is TLS's close_notify, after which asyncio closes it anyway.)"""
            if self.cycle is not None and not self.cycle.response_complete and \
                    self.conn.their_state is h11.DONE and \
                    self.transport.get_extra_info("sslcontext") is None:
                self.cycle.keep_alive = False
                return True  # keep the connection open for the answer
            return None  # nothing to answer: asyncio closes it

        def connection_lost(self, exc):
            self._disarm()
            waiting.pop(self, None)
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            """Malformed HTTP (h11 cannot read it): a problem document, then close."""
            import sys

            exc = sys.exc_info()[1]  # called by uvicorn inside its `except` for h11's error
            status = getattr(exc, "error_status_hint", 400) or 400
            said = str(exc) if exc is not None and str(exc) else "not valid HTTP/1.1"
            log.info("%s malformed HTTP: %s", self._client(), status)
            if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
                self.transport.close()
                return
            error = ServiceError(status, "bad-http", "Malformed HTTP request",
                                 f"the request is not valid HTTP/1.1 (RFC 9112): "
                                 f"{said[:200]}")
            headers, body = _problem_parts(error)
            self.transport.write(self.conn.send(h11.Response(
                status_code=status, headers=headers, reason=_reason(status))))
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
            self.transport.close()

        async def _front(self, scope, receive, send) -> None:
            """In front of the app: what uvicorn would have answered itself."""
            names = [name for name, _ in scope["headers"]]
            if b"transfer-encoding" in names and b"content-length" in names:
                log.info("%s %s: 400, Content-Length with Transfer-Encoding", self._client(),
                         scope["method"])
                await _send_problem(send, ServiceError(
                    400, "bad-request", "Bad request",
                    "the request has both Content-Length and Transfer-Encoding; send one "
                    "(RFC 9112 section 6.1)"))
                return
            if len(self.tasks) > in_flight:
                log.info("%s %s: 503, %d requests in flight (the limit is %d)",
                         self._client(), scope["method"], len(self.tasks) - 1, in_flight)
                await _send_problem(send, ServiceError(
                    503, "busy", "Too many requests at once",
                    f"{in_flight} requests are in flight (the service's limit); try again "
                    "in a moment", headers={"retry-after": "1"}))
                return
            await self._app(scope, receive, send)

        # -- the bookkeeping

        def _idle(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _sync(self) -> None:
            """After each event: the deadline and the waiting list follow the state."""
            if self.transport.is_closing():
                waiting.pop(self, None)
            elif not self._idle():  # a request is in flight: --timeout bounds it
                self._disarm()
                self._since, self._heard = None, False
                waiting.pop(self, None)
            elif self not in waiting:  # answered: it waits again (the newest)
                waiting[self] = None

        def _arm(self, delay: float) -> None:
            self._disarm()
            self._late = self.loop.call_later(max(0.0, delay), self._headers_late)

        def _disarm(self) -> None:
            if self._late is not None:
                self._late.cancel()
                self._late = None

        def _headers_late(self) -> None:
            self._late = None
            if self._idle():
                self._close()

        def _close(self) -> None:
            waiting.pop(self, None)
            self._disarm()
            if not self.transport.is_closing():
                self.transport.close()

        def _client(self) -> str:
            return self.client[0] if self.client else "-"

    return Guarded


def _problem_parts(error: ServiceError) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """A problem document's headers and body, as the guard would send them (its
    security headers and CSP included), for the answers made outside the app."""
    body = error.body()
    headers = {"content-type": PROBLEM, **SECURITY_HEADERS, "content-security-policy": CSP,
               **error.headers, "content-length": str(len(body)), "connection": "close"}
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()], body


async def _send_problem(send, error: ServiceError) -> None:
    headers, body = _problem_parts(error)
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _reason(status: int) -> bytes:
    import http

    try:
        return http.HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def _open_files(wanted: int) -> int:
    """Raise this process's limit on open files towards `wanted` (within the hard
    limit); return the limit now in force. Each connection is one file."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return wanted if soft == resource.RLIM_INFINITY else soft


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
            if self.config.ssl is not None:
                # asyncio waits 60 s for a TLS handshake by default, and uvicorn gives no
                # other: a connection that never completes one holds a file that long
                import asyncio
                import functools

                loop = asyncio.get_running_loop()
                loop.create_server = functools.partial(
                    loop.create_server, ssl_handshake_timeout=HEADER_TIMEOUT)
            await super().startup(sockets)
            if self.on_ready is not None and self.started:
                self.on_ready()

    return Server(config)
