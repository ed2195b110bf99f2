"""`riskassess serve`'s connections and sockets, tested as a client sees them: a real
server (tests/serving.py) spoken to over raw sockets, http.client or httpx. Slow and
idle clients cannot crowd out legitimate requests; the answers uvicorn would give itself
(a full server, malformed HTTP) are the service's problem documents; a request with both
Content-Length and Transfer-Encoding is refused and its connection closed; a client that
half-closes its side still gets its answer; TLS; and the reverse-proxy mode."""

from __future__ import annotations

import json
import re
import socket
import threading
import time

import httpx
import pytest
from serving import Server

TOKEN = "a-long-enough-test-token-0123456789"


def _answer(s: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 answer read off a raw socket: status, headers (lower case), body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65_536)
        if not chunk:
            raise AssertionError(f"the connection closed before an answer: {data[:200]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = s.recv(65_536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split(" ", 2)[1]), headers, body


def _closed(s: socket.socket, within: float = 10) -> bool:
    """Whether the server closes the connection (reads an end of file) within a time."""
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _is_problem(status: int, headers: dict[str, str], body: bytes, expected: int) -> dict:
    assert status == expected, body[:300]
    assert headers["content-type"] == "application/problem+json", headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    doc = json.loads(body)
    assert doc["status"] == expected and doc["type"].startswith("urn:riskassess:problem:")
    assert doc["title"] and doc["detail"]
    return doc


# ------------------------------------------------------------ slow clients


class Trickle:
    """N connections each sending one byte of a request's headers a second, reopened as
    soon as the server closes one: clients that never finish their headers."""

    HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000

    def __init__(self, port: int, n: int):
        self.port, self.n = port, n
        self.stopping = threading.Event()
        self.reopened = 0
        self.socks: list[list] = []
        for _ in range(n):
            self.socks.append([self._open(), 0])
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _open(self) -> socket.socket | None:
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.setblocking(False)
            return s
        except OSError:
            return None

    def _run(self) -> None:
        while not self.stopping.wait(1.0):
            for slot in self.socks:
                s, sent = slot
                try:
                    if s is None:
                        raise OSError
                    s.send(self.HEAD[sent:sent + 1])
                    slot[1] = sent + 1
                    try:
                        if s.recv(1024) == b"":
                            raise OSError
                    except BlockingIOError:
                        pass
                except OSError:
                    if s is not None:
                        s.close()
                    slot[0], slot[1] = self._open(), 0
                    self.reopened += 1

    def open_count(self) -> int:
        return sum(1 for s, _ in self.socks if s is not None)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(10)
        for s, _ in self.socks:
            if s is not None:
                s.close()


@pytest.mark.slow
def test_slow_header_connections_do_not_crowd_out_requests():
    s = Server()
    trickle = Trickle(s.port, 100)
    try:
        time.sleep(3)  # all of them connected and trickling
        assert trickle.open_count() >= 95
        answered = 0
        tries = 60
        for _ in range(tries):
            try:  # a fresh connection each time, as a new client opens one
                with httpx.Client(base_url=s.base, timeout=10) as c:
                    r = c.get("/v1/rulesets")
                answered += r.status_code == 200
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        assert answered >= 0.95 * tries, (answered, tries)
    finally:
        trickle.stop()
        assert s.stop() == 0, s.log()[-2000:]


@pytest.mark.slow
def test_at_the_connection_cap_the_oldest_idle_connection_makes_room():
    s = Server()
    idle = []
    try:
        for _ in range(4096 + 50):  # silent connections past the cap (4096)
            idle.append(socket.create_connection(("127.0.0.1", s.port), timeout=10))
        with httpx.Client(base_url=s.base, timeout=10) as c:
            assert c.get("/healthz").status_code == 200
        assert _closed(idle[0], within=1)  # the oldest went to make room
    finally:
        for one in idle:
            one.close()
        assert s.stop() == 0, s.log()[-2000:]


# ------------------------------------------------------------ uvicorn's own answers


def _held_upload(port: int) -> socket.socket:
    """A request whose headers are complete and whose body never comes: in flight."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
              b"Content-Type: application/yaml\r\nContent-Length: 100\r\n\r\nformat: " % port)
    return s


def test_too_many_requests_in_flight_is_a_problem_document_with_retry_after():
    # in flight: max(4 * slots, slots + queue) + 16 = max(4, 1 + 2) + 16 = 20
    s = Server("--max-concurrent", "1", "--max-queue", "2", "--timeout", "20")
    held = []
    try:
        for _ in range(20):
            held.append(_held_upload(s.port))
        assert s.wait_logged("", 1)
        time.sleep(1)
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % s.port)
            status, headers, body = _answer(c)
            doc = _is_problem(status, headers, body, 503)
            assert headers["retry-after"] == "1" and doc["type"].endswith(":busy")
            assert _closed(c)
        for one in held:
            one.close()
        time.sleep(1)
        with httpx.Client(base_url=s.base, timeout=10) as c:  # and then it is free
            assert c.get("/healthz").status_code == 200
    finally:
        for one in held:
            one.close()
        assert s.stop() == 0, s.log()[-2000:]


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    assert s.stop() == 0, s.log()[-2000:]


@pytest.mark.parametrize("raw, status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\n\r\n", 400),  # no Host
    (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + b"a" * 70_000, 431),  # unended
    (b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n",
     501),
])
def test_malformed_http_is_a_problem_document(server, raw, status):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as c:
        c.sendall(raw)
        got, headers, body = _answer(c)
        doc = _is_problem(got, headers, body, status)
        assert doc["type"].endswith(":bad-http") and "HTTP/1.1" in doc["detail"]
        assert _closed(c)
    assert "Traceback" not in server.log()


def test_content_length_with_transfer_encoding_is_refused_and_the_connection_closed(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as c:
        c.sendall(b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                  b"Content-Type: application/yaml\r\nContent-Length: 5\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                  b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                  % (server.port, server.port))
        status, headers, body = _answer(c)
        doc = _is_problem(status, headers, body, 400)
        assert "Content-Length" in doc["detail"] and "Transfer-Encoding" in doc["detail"]
        assert headers["connection"] == "close"
        assert _closed(c)  # and the request smuggled behind it is never answered


def test_a_half_closed_client_gets_its_answer(server):
    from conftest import EXAMPLES

    case = next(p for p in sorted(EXAMPLES.glob("*.yaml"))
                if not p.name.endswith(".expected.yaml")).read_bytes()
    for request in (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % server.port,
                    b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                    b"Content-Type: application/yaml\r\nContent-Length: %d\r\n\r\n"
                    % (server.port, len(case)) + case):
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as c:
            c.sendall(request)
            c.shutdown(socket.SHUT_WR)
            status, headers, body = _answer(c)
            assert status == 200, body[:300]
            assert json.loads(body)
            assert _closed(c)
    # a half-close in the middle of the headers is simply closed
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as c:
        c.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        c.shutdown(socket.SHUT_WR)
        assert _closed(c)


# ------------------------------------------------------------ TLS


class TlsServer(Server):
    """A Server whose start line names an https URL."""

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)
            m = re.search(r"listening on (https://\S+?/) ", line)
            if m:
                self.base = m.group(1).rstrip("/")
                self._ready.set()
        self._ready.set()


def _certificate(folder, name: str = "server") -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost, made now, and its key."""
    import subprocess

    cert, key = str(folder / f"{name}.crt"), str(folder / f"{name}.key")
    subprocess.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


@pytest.mark.skipif(not __import__("os").path.exists("/usr/bin/openssl"),
                    reason="no openssl to make a certificate")
def test_tls_serves_https_and_plain_http_fails_cleanly(tmp_path):
    import ssl

    cert, key = _certificate(tmp_path)
    s = TlsServer("--tls-cert", cert, "--tls-key", key)
    try:
        assert s.base.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=cert)
        with httpx.Client(base_url=s.base, timeout=10, verify=trusted) as c:
            r = c.get("/healthz")
            assert r.status_code == 200 and r.json()
            assert c.get("/v1/rulesets").status_code == 200
        # not trusted: the client refuses it (it is a real certificate check)
        with pytest.raises(httpx.ConnectError):
            httpx.get(s.base + "/healthz", timeout=10)
        # plain HTTP to the TLS port: no answer, the connection closed, nothing logged
        # but a line, and the next client is served
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % s.port)
            assert _closed(c, within=15)
        with httpx.Client(base_url=s.base, timeout=10, verify=trusted) as c:
            assert c.get("/healthz").status_code == 200
        # a connection that never starts its handshake is closed after 10 s (asyncio's
        # own default is 60 s)
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
            start = time.monotonic()
            assert _closed(c, within=40)
            assert time.monotonic() - start < 30
        assert "Traceback" not in s.log() and "clear text" not in s.log()
    finally:
        assert s.stop() == 0, s.log()[-2000:]


def test_tls_options_refused_in_words(tmp_path):
    from conftest import run_cli

    cert, key = _certificate(tmp_path)
    other_cert, other_key = _certificate(tmp_path, "other")
    (tmp_path / "text.pem").write_text("hello\n")
    bad = [
        (["--tls-cert", cert], "go together"),
        (["--tls-key", key], "go together"),
        (["--tls-cert", str(tmp_path / "none.crt"), "--tls-key", key], "no such file"),
        (["--tls-cert", str(tmp_path), "--tls-key", key], "not a regular file"),
        (["--tls-cert", str(tmp_path / "text.pem"), "--tls-key", key], "not a PEM certificate"),
        (["--tls-cert", cert, "--tls-key", cert], "not a PEM private key"),
        (["--tls-cert", cert, "--tls-key", other_key], "not the certificate's"),
    ]
    for args, said in bad:
        r = run_cli("serve", "--port", "0", *args)
        assert r.code == 2, (args, r.code, r.err)
        assert said in r.err and "Traceback" not in r.err, (args, r.err)


def test_a_host_other_machines_reach_is_warned_of_without_tls(tmp_path):
    env = {"RISKASSESS_TOKEN": TOKEN}
    s = Server("--host", "0.0.0.0", "--allow-host", "localhost", env=env)
    try:
        assert s.wait_logged("clear text")
    finally:
        assert s.stop() == 0, s.log()[-2000:]
    cert, key = _certificate(tmp_path)
    s = TlsServer("--host", "0.0.0.0", "--allow-host", "localhost", "--tls-cert", cert,
                  "--tls-key", key, env=env)
    try:
        assert s.base.startswith("https://")
        assert "clear text" not in s.log() and "warning" not in s.log()
    finally:
        assert s.stop() == 0, s.log()[-2000:]


# ------------------------------------------------------------ reverse proxy


def test_forwarded_headers_only_from_a_trusted_proxy():
    forwarded = {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}
    s = Server("--trusted-proxy", "127.0.0.0/8", "--trusted-proxy", "192.0.2.1")
    try:
        with httpx.Client(base_url=s.base, timeout=10) as c:
            assert c.get("/healthz", headers=forwarded).status_code == 200
        assert s.wait_logged("203.0.113.7 GET /healthz 200"), s.log()[-2000:]
    finally:
        assert s.stop() == 0, s.log()[-2000:]
    s = Server("--trusted-proxy", "192.0.2.1")  # this client is not the proxy
    try:
        with httpx.Client(base_url=s.base, timeout=10) as c:
            assert c.get("/healthz", headers=forwarded).status_code == 200
        assert s.wait_logged("127.0.0.1 GET /healthz 200"), s.log()[-2000:]
        assert "203.0.113.7" not in s.log()
    finally:
        assert s.stop() == 0, s.log()[-2000:]


@pytest.mark.parametrize("bad", ["proxy.example", "*", "10.0.0.0/33", ""])
def test_trusted_proxy_must_be_an_address_or_network(bad):
    from conftest import run_cli

    r = run_cli("serve", "--port", "0", "--trusted-proxy", bad)
    assert r.code == 2 and "--trusted-proxy" in r.err and "not an IP address" in r.err, r.err


def test_the_scheme_the_app_sees(tmp_path):
    """Over TLS, or from a trusted proxy saying X-Forwarded-Proto: https, the app sees
    scope["scheme"] == "https" (the guard keys its cookie flags and HSTS on it): the
    service's own uvicorn configuration, serving an app that records what it sees."""
    import ssl

    import uvicorn

    from riskassess.serve.guard import Settings
    from riskassess.serve.runner import tls_context, trusted_proxies, uvicorn_config

    seen: list[tuple[str, str]] = []

    async def recorder(scope, receive, send):
        seen.append((scope["scheme"], scope["client"][0]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    cert, key = _certificate(tmp_path)
    forwarded = {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}
    for proxies, tls, expected in (
            (["127.0.0.1"], None, ("https", "203.0.113.7")),  # a trusted proxy
            (["192.0.2.1"], None, ("http", "127.0.0.1")),  # anyone else: ignored
            ([], None, ("http", "127.0.0.1")),  # no proxy trusted: ignored
            ([], tls_context(cert, key), ("https", "127.0.0.1"))):  # TLS itself
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        port = sock.getsockname()[1]
        settings = Settings("127.0.0.1", port, frozenset({"127.0.0.1"}),
                            trusted_proxies=trusted_proxies(proxies))
        server = uvicorn.Server(uvicorn_config(recorder, settings, tls=tls))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            scheme = "https" if tls else "http"
            verify = ssl.create_default_context(cafile=cert) if tls else True
            deadline = time.monotonic() + 30
            while not server.started and time.monotonic() < deadline:
                time.sleep(0.05)
            seen.clear()
            r = httpx.get(f"{scheme}://127.0.0.1:{port}/", headers=forwarded, verify=verify,
                          timeout=10)
            assert r.status_code == 204
            assert seen == [expected], (proxies, seen)
        finally:
            server.should_exit = True
            thread.join(30)
            sock.close()


# ------------------------------------------------------------ workers


def _workers(pid: int) -> set[int]:
    """The processes whose parent is `pid`."""
    import os

    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                out.add(int(entry))
    return out


def test_workers_share_the_socket_and_the_csrf_key_and_stop_together():
    import signal

    s = Server("--workers", "2")
    try:
        workers = _workers(s.proc.pid)
        assert len(workers) == 2, workers
        # the form's CSRF token is the same key's in every worker: posts on fresh
        # connections (handed to either worker) are never "expired"
        with httpx.Client(base_url=s.base, timeout=30) as c:
            page = c.get("/")
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
            cookies = dict(c.cookies)
        for _ in range(12):
            with httpx.Client(base_url=s.base, timeout=30, cookies=cookies,
                              headers={"origin": s.base}) as c:
                r = c.post("/", content=f"csrf={csrf}&action=assess".encode(),
                           headers={"content-type": "application/x-www-form-urlencoded"})
                assert r.status_code != 403 and "had expired" not in r.text, r.status_code
        # a worker that dies is replaced, and the service answers meanwhile
        victim = sorted(workers)[0]
        __import__("os").kill(victim, signal.SIGKILL)
        assert s.wait_logged("starting another", timeout=20), s.log()[-2000:]
        deadline = time.monotonic() + 30
        while len(_workers(s.proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        now = _workers(s.proc.pid)
        assert len(now) == 2 and victim not in now
        with httpx.Client(base_url=s.base, timeout=30) as c:
            assert all(c.get("/healthz").status_code == 200 for _ in range(10))
        assert s.log().count("listening on") == 1
    finally:
        code = s.stop()
    assert code == 0, s.log()[-2000:]
    assert not _workers(s.proc.pid)
    # Ctrl-C: 130, once, through the parent
    s = Server("--workers", "2")
    workers = _workers(s.proc.pid)
    assert s.stop(signal.SIGINT) == 130, s.log()[-2000:]
    time.sleep(0.5)
    assert not any(__import__("os").path.exists(f"/proc/{pid}") for pid in workers)


@pytest.mark.skipif(not __import__("os").path.exists("/usr/bin/openssl"),
                    reason="no openssl to make a certificate")
def test_over_real_tls_the_cookies_are_secure_host_cookies_and_hsts_is_sent(tmp_path):
    """Served over TLS by the service itself, with a tokens file: every answer carries
    HSTS; the form's CSRF cookie and, after signing in, the session cookie are __Host-
    cookies, Secure, HttpOnly, SameSite=Strict, Path=/ (the session's with its Max-Age);
    and the form posts from its https origin are accepted."""
    import os
    import ssl

    cert, key = _certificate(tmp_path)
    tokens = tmp_path / "tokens"
    tokens.write_text("alice: alice-token-0123456789abcdef\n")
    os.chmod(tokens, 0o600)
    s = TlsServer("--tls-cert", cert, "--tls-key", key, "--tokens-file", str(tokens),
                  "--session-minutes", "30")
    try:
        trusted = ssl.create_default_context(cafile=cert)
        with httpx.Client(base_url=s.base, timeout=30, verify=trusted,
                          headers={"origin": s.base}) as c:
            page = c.get("/")  # the sign-in page
            assert page.status_code == 401 and "Sign in" in page.text
            for r in (page, c.get("/healthz"), c.get("/static/form.css")):
                assert r.headers["strict-transport-security"] == "max-age=31536000"

            def flags(r: httpx.Response, name: str) -> set[str]:
                cookie = next(v for k, v in r.headers.multi_items()
                              if k == "set-cookie" and v.startswith(f"__Host-{name}="))
                return {part.strip().lower() for part in cookie.split(";")[1:]}

            csrf_flags = flags(page, "riskassess_csrf")
            assert {"secure", "httponly", "samesite=strict", "path=/"} <= csrf_flags
            assert not any(f.startswith("domain") for f in csrf_flags)
            token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
            signed = c.post("/login", data={"csrf": token,
                                            "token": "alice-token-0123456789abcdef"})
            assert signed.status_code == 303, signed.text[:300]
            session_flags = flags(signed, "riskassess_session")
            assert {"secure", "httponly", "samesite=strict", "path=/",
                    "max-age=1800"} <= session_flags
            again = c.get("/")
            assert again.status_code == 200, again.text[:300]
            assert "Signed in as" in again.text and "alice" in again.text
    finally:
        assert s.stop() == 0, s.log()[-2000:]


def test_a_sign_out_holds_in_every_worker(tmp_path):
    """Under --workers 2, a session signed out on one worker used to stay valid on the
    other (the reviewer's replay got 7 of 20 answers after signing out): the workers now
    share their sign-outs."""
    import os

    tokens = tmp_path / "tokens"
    tokens.write_text("alice: alice-token-0123456789abcdef\n")
    os.chmod(tokens, 0o600)
    s = Server("--workers", "2", "--tokens-file", str(tokens))
    try:
        with httpx.Client(base_url=s.base, timeout=30, headers={"origin": s.base}) as c:
            page = c.get("/")
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
            assert c.post("/login", data={"csrf": csrf, "token":
                                          "alice-token-0123456789abcdef"}).status_code == 303
            cookies = dict(c.cookies)
            signed_in = [httpx.get(s.base + "/v1/rulesets", cookies=cookies,
                                   timeout=30).status_code for _ in range(10)]
            assert signed_in == [200] * 10  # fresh connections: both workers know it
            page = c.get("/")
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
            assert c.post("/logout", data={"csrf": csrf}).status_code == 303
        replayed = [httpx.get(s.base + "/v1/rulesets", cookies=cookies,
                              timeout=30).status_code for _ in range(20)]
        assert replayed == [401] * 20, replayed
    finally:
        assert s.stop() == 0, s.log()[-2000:]
