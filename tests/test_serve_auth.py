"""Who uses `riskassess serve`: the form's sessions (one per person, signed, expiring,
ended by signing out), named tokens (--tokens-file, reloaded on SIGHUP), the brake on
wrong tokens, a signed-in browser reading the API, and the https-aware Host, Origin,
cookies and HSTS.

Through real servers (tests/serving.py) and a real client (httpx); the https rules also
in-process with Starlette's TestClient (base_url https://...), as behind a TLS proxy."""

from __future__ import annotations

import os
import re
import signal
import time

import httpx
import pytest
from conftest import EXAMPLES, run_cli
from serving import Server

from riskassess.errors import ExitCode

YAML = {"content-type": "application/yaml"}
ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef-xyz"
CAROL = "carol-token-0123456789abcdef-q"
CASE = EXAMPLES / "religious-objector.yaml"


def tokens_file(folder, text: str, mode: int = 0o600):
    path = folder / "tokens.txt"
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


def sign_in(c: httpx.Client, base: str, token: str) -> httpx.Response:
    """A browser's sign-in: the form's page, then its post from the service's origin."""
    page = c.get(base + "/")
    return c.post(base + "/login", data={"csrf": csrf_of(page), "token": token},
                  headers={"origin": base})


def session_cookies(c: httpx.Client) -> list[str]:
    return [ck.value for ck in c.cookies.jar if "riskassess_session" in ck.name]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("auth")


@pytest.fixture(scope="module")
def replicas(folder):
    """Two servers with the same tokens and the same --secret-file, and a third with the
    same tokens but a key of its own."""
    tokens = tokens_file(folder, f"# the firm's people\nalice: {ALICE}\nbob:   {BOB}\n")
    secret = folder / "secret"
    secret.write_text(os.urandom(32).hex())
    os.chmod(secret, 0o600)
    common = ("--tokens-file", str(tokens), "--session-minutes", "30")
    servers = [Server(*common, "--secret-file", str(secret)),
               Server(*common, "--secret-file", str(secret)), Server(*common)]
    yield servers
    for s in servers:
        assert s.stop() == 0, s.log()


@pytest.fixture(scope="module")
def single():
    """A server with one token (RISKASSESS_TOKEN), as before named tokens."""
    s = Server(env={"RISKASSESS_TOKEN": ALICE})
    yield s
    assert s.stop() == 0, s.log()


def test_each_sign_in_is_a_session_of_its_own_ended_by_signing_out(single):
    with httpx.Client(timeout=60) as one, httpx.Client(timeout=60) as two:
        assert sign_in(one, single.base, ALICE).status_code == 303
        assert sign_in(two, single.base, ALICE).status_code == 303
        first, second = session_cookies(one)[0], session_cookies(two)[0]
        assert first != second and ALICE not in first
        page = one.get(single.base + "/")
        assert page.status_code == 200 and "Signed in as token" in page.text
        r = one.post(single.base + "/logout", data={"csrf": csrf_of(page)},
                     headers={"origin": single.base})
        assert r.status_code == 303
        with httpx.Client(timeout=60) as copy:  # the cookie as it was before signing out
            copy.cookies.set("riskassess_session", first, domain="127.0.0.1")
            assert copy.get(single.base + "/").status_code == 401
        assert two.get(single.base + "/").status_code == 200


def test_sessions_are_per_person_and_signing_out_ends_them(replicas):
    a = replicas[0]
    with httpx.Client(timeout=60) as alice, httpx.Client(timeout=60) as alice2, \
            httpx.Client(timeout=60) as bob:
        r = sign_in(alice, a.base, ALICE)
        assert r.status_code == 303
        set_cookie = r.headers["set-cookie"]
        assert set_cookie.startswith("riskassess_session=")
        for attribute in ("HttpOnly", "SameSite=strict", "Path=/", "Max-Age=1800"):
            assert attribute.lower() in set_cookie.lower(), set_cookie
        assert "secure" not in set_cookie.lower()  # plain http here
        assert sign_in(alice2, a.base, ALICE).status_code == 303
        assert sign_in(bob, a.base, BOB).status_code == 303
        values = session_cookies(alice) + session_cookies(alice2) + session_cookies(bob)
        assert len(set(values)) == 3  # a session of its own each time, not a shared value
        assert not any(t in v for v in values for t in (ALICE, BOB))
        page = alice.get(a.base + "/")
        assert page.status_code == 200 and "Signed in as alice" in page.text
        assert "Signed in as bob" in bob.get(a.base + "/").text
        # a copy of alice's cookie, taken before she signs out
        stolen = httpx.Cookies()
        stolen.set("riskassess_session", session_cookies(alice)[0], domain="127.0.0.1")
        # signing out needs the form's CSRF token
        r = alice.post(a.base + "/logout", data={"csrf": "0" * 64},
                       headers={"origin": a.base})
        assert r.status_code == 403
        r = alice.post(a.base + "/logout", data={"csrf": csrf_of(page)},
                       headers={"origin": a.base})
        assert r.status_code == 303 and "max-age=0" in r.headers["set-cookie"].lower()
        assert alice.get(a.base + "/").status_code == 401  # the sign-in page again
        with httpx.Client(timeout=60, cookies=stolen) as thief:
            r = thief.get(a.base + "/")
            assert r.status_code == 401 and 'name="token"' in r.text
        # her other session and bob's go on
        assert alice2.get(a.base + "/").status_code == 200
        assert bob.get(a.base + "/").status_code == 200
    assert ALICE not in a.log() and BOB not in a.log()


def test_a_session_or_form_of_one_replica_works_on_another_with_the_same_secret(replicas):
    a, b, other = replicas
    with httpx.Client(timeout=60) as c:
        assert sign_in(c, a.base, ALICE).status_code == 303
        page = c.get(a.base + "/")  # the form, served by one process
        assert page.status_code == 200
        data = {"csrf": csrf_of(page), "case_id": "REPLICA-1", "applicant.rank": "officer"}
        r = c.post(b.base + "/", data=data, headers={"origin": b.base})  # posted to another
        assert r.status_code == 200 and "Conclusions" in r.text, r.text[:300]
        # a service with a key of its own takes neither the session nor the form
        assert c.get(other.base + "/").status_code == 401
        r = c.post(other.base + "/", data=data, headers={"origin": other.base})
        assert r.status_code == 401


def test_a_signed_in_browser_reads_the_api_but_cannot_post_to_it(single):
    a = single
    with httpx.Client(timeout=60) as c:
        for path in ("/v1/rulesets", "/openapi.json", "/v1/schema/case",
                     "/v1/rules/risk.amnesty-does-not-reduce"):
            assert c.get(a.base + path).status_code == 401, path
        assert sign_in(c, a.base, ALICE).status_code == 303
        for path in ("/v1/rulesets", "/openapi.json", "/v1/schema/case",
                     "/v1/rules/risk.amnesty-does-not-reduce"):
            assert c.get(a.base + path).status_code == 200, path
        # a post to the API still needs the token (a cookie would let other sites post)
        r = c.post(a.base + "/v1/assessments", content=CASE.read_bytes(), headers=YAML)
        assert r.status_code == 401
        r = c.post(a.base + "/v1/assessments", content=CASE.read_bytes(),
                   headers={**YAML, "authorization": f"Bearer {ALICE}"})
        assert r.status_code == 200


def test_wrong_tokens_are_slowed_down_per_address(single):
    s = single
    wrong = {"authorization": "Bearer not-a-token-of-this-service"}
    # guesses/s as they come in, from 127.0.0.2, before and after its bucket empties
    with httpx.Client(base_url=s.base, timeout=60,
                      transport=httpx.HTTPTransport(local_address="127.0.0.2")) as c:
        start, compared, limited = time.monotonic(), 0, []
        while time.monotonic() - start < 4.0:
            r = c.get("/v1/rulesets", headers=wrong)
            if r.status_code == 401:
                compared += 1
            else:
                limited.append(r)
        elapsed = time.monotonic() - start
        sent = compared + len(limited)
    print(f"guesses sent {sent / elapsed:.0f}/s, compared {compared / elapsed:.1f}/s")
    # a burst of 10, then one every 3 s: at most 10 + 4/3 + 1 in 4 s (810/s before)
    assert compared <= 10 + elapsed / 3 + 1, (compared, elapsed)
    assert sent > 2 * compared  # they were sent much faster than they were compared
    r = limited[-1]
    assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith(":too-many-failures")
    assert 1 <= int(r.headers["retry-after"]) <= 3
    # the form's sign-in from that address is braked too, before the token is compared
    with httpx.Client(timeout=60,
                      transport=httpx.HTTPTransport(local_address="127.0.0.2")) as c:
        page = sign_in(c, s.base, ALICE)
        # a page a person reads, saying how long to wait, not the API's problem document
        assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")
        assert "Too many wrong tokens" in page.text and "retry-after" in page.headers
    # another address is not locked out by it
    with httpx.Client(timeout=60) as c:
        r = c.get(s.base + "/v1/rulesets", headers={"authorization": f"Bearer {ALICE}"})
        assert r.status_code == 200
        assert sign_in(c, s.base, ALICE).status_code == 303


def test_the_table_of_addresses_is_bounded():
    from riskassess.serve.auth import FailureLimiter

    limiter = FailureLimiter(burst=2, every=60, size=100)
    for i in range(5000):
        limiter.fail(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter.table) == 100
    limiter.fail("192.0.2.1")
    limiter.fail("192.0.2.1")
    assert limiter.wait("192.0.2.1") > 0 and limiter.wait("192.0.2.2") == 0
    # an IPv6 client is one /64, however many addresses it takes from it
    limiter.fail("2001:db8::1")
    limiter.fail("2001:db8::2")
    assert limiter.wait("2001:db8::ffff") > 0


def test_an_expired_session_is_refused():
    from riskassess.serve.auth import Keyring, Sessions

    keyring = Keyring({"alice": ALICE})
    sessions = Sessions(os.urandom(32), minutes=1)
    cookie = sessions.issue("alice", keyring)
    assert sessions.person(cookie, keyring)[0] == "alice"
    sid, expiry, mac, name = cookie.split(".", 3)
    assert int(expiry) - time.time() <= 60
    # an expiry moved later by hand breaks the signature; a past one is refused
    assert sessions.person(f"{sid}.{int(expiry) + 3600}.{mac}.{name}", keyring) is None
    assert sessions.person(f"{sid}.{int(expiry)}.{mac}.bob", keyring) is None
    old = Sessions(sessions.key, minutes=-1)
    assert old.person(old.issue("alice", keyring), keyring) is None


# ------------------------------------------------------------ the tokens file


@pytest.mark.parametrize("text,said", [
    (f"alice: {ALICE}\nalice: {BOB}\n", ":2: alice: the name is given again (first on line 1)"),
    (f"alice: {ALICE}\n\nbob: {ALICE}\n", ":3: bob: the same token as line 1"),
    ("alice: short-token\n", ":1: alice: the token is shorter than 16 characters"),
    (f"alice {ALICE}\n", ":1: not 'name: token' (no colon)"),
    (f"al ice: {ALICE}\n", ":1: the name is not 1 to 64 letters"),
    (f"token: {ALICE}\n", "the name 'token' is the one of --token"),
])
def test_a_bad_tokens_file_is_refused_at_its_line_without_the_token(tmp_path, text, said):
    path = tokens_file(tmp_path, text)
    args = ["--token", CAROL] if "token:" in text else []
    r = run_cli("serve", "--port", "0", "--tokens-file", str(path), *args)
    assert r.code == ExitCode.USAGE, r.err
    assert said in r.err and str(path) in r.err, r.err
    for token in (ALICE, BOB, "short-token", CAROL):
        assert token not in r.err


def test_a_world_readable_tokens_file_is_warned_about(tmp_path):
    s = Server("--tokens-file", str(tokens_file(tmp_path, f"alice: {ALICE}\n", 0o644)))
    try:
        assert "can be read by other users" in s.log()
    finally:
        assert s.stop() == 0


def test_sighup_reloads_the_tokens_and_a_revoked_token_ends_its_sessions(tmp_path):
    path = tokens_file(tmp_path, f"alice: {ALICE}\nbob: {BOB}\n")
    s = Server("--tokens-file", str(path), "--host", "127.0.0.1")
    try:
        with httpx.Client(base_url=s.base, timeout=60) as c, \
                httpx.Client(timeout=60) as browser:
            def ok(token):
                return c.get("/v1/rulesets",
                             headers={"authorization": f"Bearer {token}"}).status_code
            assert ok(ALICE) == 200 and ok(CAROL) == 401
            assert sign_in(browser, s.base, ALICE).status_code == 303
            assert browser.get(s.base + "/").status_code == 200
            # alice leaves the firm, carol joins: a line each, then SIGHUP
            path.write_text(f"bob: {BOB}\ncarol: {CAROL}\n")
            s.proc.send_signal(signal.SIGHUP)
            assert s.wait_logged("the tokens file was reloaded: 2 tokens"), s.log()
            assert ok(ALICE) == 401 and ok(CAROL) == 200 and ok(BOB) == 200
            assert browser.get(s.base + "/").status_code == 401  # her session ended
            # a bad file keeps the tokens in use, and says where it is bad
            path.write_text(f"bob: {BOB}\ncarol: {BOB}\n")
            s.proc.send_signal(signal.SIGHUP)
            assert s.wait_logged("the 2 tokens in use are kept"), s.log()
            assert f"{path}:2: carol: the same token as line 1" in s.log()
            assert ok(CAROL) == 200 and ok(BOB) == 200
    finally:
        assert s.stop() == 0
    for token in (ALICE, BOB, CAROL):
        assert token not in s.log()


# ------------------------------------------------------------ behind TLS


@pytest.fixture(scope="module")
def tls_app():
    """The app as a TLS reverse proxy (or uvicorn's TLS) hands it requests: scheme
    https, the public name rafiki.example, the socket's own port 8765."""
    from starlette.testclient import TestClient

    from riskassess.law.ruleset import default_rules_dir
    from riskassess.serve.app import build
    from riskassess.serve.guard import Settings, allowed_hosts
    from riskassess.serve.service import Service

    settings = Settings("127.0.0.1", 8765, allowed_hosts("127.0.0.1", ["rafiki.example"]),
                        tokens={"alice": ALICE}, tls=True)
    app = build(Service(default_rules_dir()), settings)
    return lambda base: TestClient(app, base_url=base, follow_redirects=False)


def test_over_https_hsts_secure_host_cookies_and_the_public_origin(tls_app):
    c = tls_app("https://rafiki.example")
    r = c.get("/healthz")
    assert r.status_code == 200  # Host rafiki.example: port 443, the public origin
    assert r.headers["strict-transport-security"] == "max-age=31536000"
    page = c.get("/")
    assert page.status_code == 401
    csrf_cookie = page.headers["set-cookie"]
    assert csrf_cookie.startswith("__Host-riskassess_csrf=") and "Secure" in csrf_cookie
    r = c.post("/login", data={"csrf": csrf_of(page), "token": ALICE},
               headers={"origin": "https://rafiki.example"})
    assert r.status_code == 303, r.text[:300]
    cookie = r.headers["set-cookie"]
    for attribute in ("__Host-riskassess_session=", "Secure", "HttpOnly", "SameSite=strict",
                      "Path=/", "Max-Age=28800"):
        assert attribute.lower() in cookie.lower(), cookie
    assert "domain" not in cookie.lower()
    assert "Signed in as alice" in c.get("/").text
    assert c.get("/v1/rulesets").status_code == 200  # the session reads the API
    # under TLS the origins are https ones: the http origin, or another port, is refused
    page = c.get("/")
    for bad in ("http://rafiki.example", "http://rafiki.example:8765",
                "https://rafiki.example:8443", "https://evil.example"):
        r = c.post("/logout", data={"csrf": csrf_of(page)}, headers={"origin": bad})
        assert r.status_code == 403 and "forbidden-origin" in r.text, bad
    for good in ("https://rafiki.example", "https://rafiki.example:8765"):
        assert c.post("/", data={"csrf": csrf_of(page)},
                      headers={"origin": good}).status_code != 403, good


def test_over_https_the_host_names_an_allowed_name_on_443_or_the_local_port(tls_app):
    for base in ("https://rafiki.example", "https://rafiki.example:443",
                 "https://rafiki.example:8765", "https://127.0.0.1:8765"):
        assert tls_app(base).get("/healthz").status_code == 200, base
    for base in ("https://evil.example", "https://rafiki.example:8443",
                 "http://rafiki.example", "http://rafiki.example:443"):
        r = tls_app(base).get("/healthz")
        assert r.status_code == 400 and "host-not-allowed" in r.text, base
    r = tls_app("http://rafiki.example:8765").get("/healthz")
    assert r.status_code == 200 and "strict-transport-security" not in r.headers


def test_a_bad_secret_file_is_refused_and_a_tokens_file_counts_as_a_token(tmp_path):
    short = tmp_path / "short"
    short.write_text("x" * 31)
    for path, said in ((short, "it holds 31 bytes; at least 32 are needed"),
                       (tmp_path, "not a regular file"),
                       (tmp_path / "absent", "cannot read it")):
        r = run_cli("serve", "--port", "0", "--secret-file", str(path))
        assert r.code == ExitCode.USAGE and f"--secret-file {path}: {said}" in r.err, r.err
    # another machine may reach it: a tokens file is a token (the address is not ours)
    tokens = tokens_file(tmp_path, f"alice: {ALICE}\n")
    r = run_cli("serve", "--host", "192.0.2.7", "--port", "0", "--tokens-file", str(tokens))
    assert r.code == ExitCode.USAGE and "not a loopback address" not in r.err, r.err
    assert "cannot listen on 192.0.2.7" in r.err


def test_random_bytes_are_a_secret_as_they_are_and_text_loses_its_line_end(tmp_path):
    """`head -c 32 /dev/urandom > FILE` was refused about one time in twenty: the bytes
    were stripped as if they were text, and a first or last byte that is a blank made 31."""
    from riskassess.serve.auth import read_secret

    raw = tmp_path / "raw"
    raw.write_bytes(b"\n" + bytes(range(200, 231)))  # 32 bytes, the first a line end
    os.chmod(raw, 0o600)
    key, warnings = read_secret(raw)
    assert len(key) == 32 and not warnings
    text = tmp_path / "text"
    text.write_text("ab" * 32 + "\n")
    os.chmod(text, 0o600)
    same = tmp_path / "same"
    same.write_text("ab" * 32)
    os.chmod(same, 0o600)
    assert read_secret(text)[0] == read_secret(same)[0]


def test_an_audit_file_others_can_read_is_warned_about(tmp_path):
    """The TLS key and an existing audit file that other users may read were taken
    without a word (the tokens and the secret files were warned about)."""
    audit = tmp_path / "audit.jsonl"
    audit.write_text("")
    os.chmod(audit, 0o644)
    s = Server("--audit-log", str(audit))
    try:
        assert "--audit-log" in s.log() and "other users of this machine can read it" in s.log()
    finally:
        assert s.stop() == 0
