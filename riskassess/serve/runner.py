"""Running the service: `riskassess serve`'s options checked, the socket bound, and
uvicorn started with the deadlines it lacks (a request's headers) and a stop on SIGTERM
or Ctrl-C that answers what is in flight first. uvicorn is imported only here."""

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
)
from riskassess.serve.service import Service


def serve(*, host: str, port: int, rules_dir, token: str | None, allow_host: list[str],
          max_concurrent: int, timeout: float, open_form: bool,
          today: dt.date | None, max_queue: int = 256) -> int | None:
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
    settings = Settings(address, bound, names, token, max_concurrent, timeout,
                        max_queue=max_queue)
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
        # room for every slot and every place in the queue (responses.Slots), and more
        limit_concurrency=max(4 * settings.max_concurrent,
                              settings.max_concurrent + settings.max_queue) + 16)
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
