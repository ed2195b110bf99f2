"""`riskassess serve`, tested as a client sees it: a real server on a free loopback port
(a subprocess), spoken to with a real HTTP client (httpx) or a raw socket.

It covers every endpoint and every error status; the JSON report byte-identical to
`riskassess evaluate --format json` for every example, as YAML and as JSON; the same
located problems as the CLI for every invalid case file; the token, Host and Origin
rules, the CSRF token, the size and time limits, the concurrency limit; that nothing of
a case reaches the log; and that SIGTERM lets a request in flight finish.
"""

from __future__ import annotations

import io
import json
import re
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from conftest import DATA, EXAMPLES, TOOL, run_cli, tool_env
from serving import TODAY, Server

from riskassess.errors import ExitCode
from riskassess.io.reader import read_yaml_file

CASES = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
INVALID = sorted(p for p in (DATA / "invalid").iterdir() if p.is_file() and not p.is_symlink())
YAML = {"content-type": "application/yaml"}
JSONH = {"content-type": "application/json"}
TOKEN = "a-long-enough-test-token-0123456789"


def cli_json(path: Path) -> bytes:
    r = run_cli("evaluate", str(path), "-f", "json", "--today", TODAY)
    assert r.code == 0, r.err
    return r.out.encode("utf-8")


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:riskassess:problem:")
    assert body["title"] and body["detail"]
    return body


# ------------------------------------------------------------ byte identity


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_json_report_is_the_clis_bytes_for_every_example(client, path):
    expected = cli_json(path)
    r = client.post("/v1/assessments", content=path.read_bytes(), headers=YAML)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.content == expected
    # the same case sent as JSON gives the same bytes too
    data = read_yaml_file(path).data
    r = client.post("/v1/assessments", content=json.dumps(data).encode(), headers=JSONH)
    assert r.status_code == 200 and r.content == expected


def test_forced_ruleset_is_the_clis_bytes(client):
    path = EXAMPLES / "religious-objector.yaml"
    r = run_cli("evaluate", str(path), "-f", "json", "--today", TODAY,
                "--ruleset", "euaa-syria-2025-12")
    assert r.code == 0
    got = client.post("/v1/assessments?ruleset=euaa-syria-2025-12",
                      content=path.read_bytes(), headers=YAML)
    assert got.status_code == 200 and got.content == r.out.encode()
    assert got.json()["ruleset"]["id"] == "euaa-syria-2025-12"


@pytest.mark.parametrize("fmt,kind", [("markdown", "text/markdown"), ("html", "text/html"),
                                      ("docx", "application/vnd.openxml"),
                                      ("pdf", "application/pdf")])
def test_document_formats_match_the_cli(client, fmt, kind, tmp_path):
    path = EXAMPLES / "nabek-moral-objector.yaml"
    r = client.post(f"/v1/assessments?format={fmt}", content=path.read_bytes(), headers=YAML)
    assert r.status_code == 200 and r.headers["content-type"].startswith(kind)
    if fmt in ("docx", "pdf"):
        assert r.headers["content-disposition"] == (
            f'attachment; filename="assessment-EX-NABEK.{fmt}"')
    out = tmp_path / f"report.{ 'md' if fmt == 'markdown' else fmt}"
    cli = run_cli("evaluate", str(path), "-o", str(out), "--today", TODAY)
    assert cli.code == 0, cli.err
    if fmt == "docx":
        assert zipfile.ZipFile(io.BytesIO(r.content)).namelist() == \
            zipfile.ZipFile(out).namelist()
        from baselines import docx_structure

        assert docx_structure(r.content) == docx_structure(out.read_bytes())
    elif fmt == "pdf":
        from pypdf import PdfReader

        def text(data: bytes) -> str:
            return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)

        assert r.content.startswith(b"%PDF") and text(r.content) == text(out.read_bytes())
    else:
        assert r.content == out.read_bytes()
    if fmt == "html":  # its inline style is allowed by its hash, and nothing else
        csp = r.headers["content-security-policy"]
        assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+'", csp)
        assert "script-src" not in csp and "default-src 'none'" in csp


# ------------------------------------------------------------ the other endpoints


def test_rulesets_and_rules_and_paragraphs(client):
    index = client.get("/v1/rulesets").json()
    ids = [e["id"] for e in index["rulesets"]]
    assert index["in_force_today"] in ids
    encoded = [e["id"] for e in index["rulesets"] if e["encoded"]]
    assert encoded == ["euaa-syria-2024", "euaa-syria-2025-12"]
    not_encoded = next(e["id"] for e in index["rulesets"] if not e["encoded"])
    assert "rules" not in client.get(f"/v1/rulesets/{not_encoded}").json()
    rs = client.get("/v1/rulesets/euaa-syria-2024").json()
    assert rs["rules"] and rs["paragraphs"] and rs["sha256"]
    listed = run_cli("rules", "list").out
    assert rs["sha256"] in listed
    for rule in rs["rules"]:
        assert rule["id"] in listed
    rule = rs["rules"][0]
    one = client.get(f"/v1/rules/{rule['id']}").json()
    assert one["id"] == rule["id"] and one["rulesets"][0]["reasoning"] == rule["reasoning"]
    only = client.get(f"/v1/rules/{rule['id']}", params={"ruleset": "euaa-syria-2024"}).json()
    assert [x["ruleset"] for x in only["rulesets"]] == ["euaa-syria-2024"]
    pid = rule["cites"][0]
    para = client.get(f"/v1/coi/{pid}").json()
    assert para["id"] == pid
    first = para["rulesets"][0]
    assert rule["id"] in first["cited_by"] and first["summary"] and first["source_details"]
    shown = run_cli("coi", "show", pid).out
    assert first["locator"] in shown


def test_not_found_says_what_is_close(client):
    body = problem(client.get("/v1/rules/risk.amnesty-does-not-reduc"), 404)
    assert "did you mean risk.amnesty-does-not-reduce" in body["detail"]
    problem(client.get("/v1/rulesets/no-such-edition"), 404)
    problem(client.get("/v1/coi/no.such.paragraph"), 404)
    problem(client.get("/v1/rules/x", params={"ruleset": "nope"}), 400)  # a bad parameter
    problem(client.get("/v1/schema/nope"), 404)
    problem(client.get("/no/such/endpoint"), 404)
    problem(client.delete("/v1/rulesets"), 405)
    problem(client.get("/v1/assessments"), 405)


def test_schemas_are_the_clis(client):
    for which in ("case", "report"):
        r = client.get(f"/v1/schema/{which}")
        assert r.status_code == 200
        assert r.content == run_cli("schema", which).out.encode()


def test_openapi_document_is_valid_and_names_every_route(client, server):
    from openapi_spec_validator import validate

    doc = client.get("/openapi.json").json()
    validate(doc)
    for path in ("/v1/assessments", "/v1/batches", "/v1/rulesets", "/v1/rulesets/{ruleset_id}",
                 "/v1/rules/{rule_id}", "/v1/coi/{paragraph_id}", "/v1/schema/case",
                 "/v1/schema/report", "/healthz"):
        assert path in doc["paths"], path
    responses = doc["paths"]["/v1/assessments"]["post"]["responses"]
    assert {"200", "400", "413", "415", "422", "503"} <= set(responses)
    # the report a request gets validates against the schema the document gives
    import jsonschema

    schema = dict(doc["components"]["schemas"]["Report"])
    schema["components"] = doc["components"]
    report = client.post("/v1/assessments", content=CASES[0].read_bytes(), headers=YAML).json()
    jsonschema.validate(report, schema)


def test_health(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and "euaa-syria-2024" in body["rulesets"]


# ------------------------------------------------------------ errors, as the CLI says them


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_case_files_get_the_clis_located_problems(client, path):
    cli = run_cli("evaluate", str(path), "-f", "json", "--today", TODAY)
    raw = path.read_bytes()
    r = client.post("/v1/assessments", content=raw, headers=YAML)
    if cli.code == 0:  # a file kept beside the invalid ones to show it is accepted
        assert r.status_code == 200 and r.content == cli.out.encode()
        return
    if len(raw) > 1_048_576:
        body = problem(r, 413)
    else:
        body = problem(r, 400 if r.status_code == 400 else 422)
    assert body["exit_code"] == cli.code
    expected = [line[len("error: "):].replace(str(path), "request body")
                for line in cli.err.splitlines() if line.startswith("error: ")]
    if "problems" in body:
        texts = [p["text"] for p in body["problems"]]
        more = body.get("more_problems")
        if more:
            texts.append(f"... and {more:,} more problems in request body")
        assert texts == expected
        for p in body["problems"]:
            assert set(p) == {"file", "line", "column", "path", "message", "text"}
    else:
        assert body["detail"] in " ".join(expected)


def test_unreadable_is_400_and_invalid_is_422(client):
    body = problem(client.post("/v1/assessments", content=b"a: [\n", headers=YAML), 400)
    assert body["type"].endswith(":unreadable") and body["exit_code"] == 3
    assert body["problems"][0]["line"] == 2
    body = problem(client.post("/v1/assessments", content=b'{"format": 1,,}', headers=JSONH),
                   400)
    assert body["problems"][0]["line"] == 1 and body["problems"][0]["column"] == 14
    problem(client.post("/v1/assessments", content=b'{"format": NaN}', headers=JSONH), 400)
    problem(client.post("/v1/assessments", content=b"[" * 100_000, headers=JSONH), 400)
    problem(client.post("/v1/assessments", content=b"\xff\xfe", headers=JSONH), 400)
    body = problem(client.post("/v1/assessments",
                               content=b"format: 1\napplicant:\n  rank: general\n",
                               headers=YAML), 422)
    assert body["type"].endswith(":invalid-case")
    assert body["problems"][0] | {"text": ""} == {
        "file": "request body", "line": 3, "column": 9, "path": "applicant.rank",
        "message": body["problems"][0]["message"], "text": ""}


def test_out_of_scope_and_not_encoded_carry_the_clis_exit_codes(client, tmp_path):
    other = b"format: 1\napplicant:\n  country_of_origin: AF\n"
    body = problem(client.post("/v1/assessments", content=other, headers=YAML), 422)
    assert body["type"].endswith(":out-of-scope")
    assert body["exit_code"] == ExitCode.OUT_OF_SCOPE
    old = b"format: 1\nassessment_date: 2021-06-01\n"
    (tmp_path / "old.yaml").write_bytes(old)
    cli = run_cli("evaluate", str(tmp_path / "old.yaml"), "--today", TODAY)
    assert cli.code == ExitCode.NO_ENCODED_EDITION
    body = problem(client.post("/v1/assessments", content=old, headers=YAML), 422)
    assert body["type"].endswith(":edition-not-encoded")
    assert body["exit_code"] == ExitCode.NO_ENCODED_EDITION


def test_media_types_and_parameters(client):
    case = CASES[0].read_bytes()
    for kind in ("text/plain", "application/x-www-form-urlencoded", "application/yaml; "
                 "charset=latin-1", ""):
        body = problem(client.post("/v1/assessments", content=case,
                                   headers={"content-type": kind}), 415)
        assert "application/yaml" in body["detail"]
    for kind in ("application/x-yaml", "text/yaml", "application/yaml; charset=utf-8"):
        assert client.post("/v1/assessments", content=case,
                           headers={"content-type": kind}).status_code == 200
    body = problem(client.post("/v1/assessments?format=rtf", content=case, headers=YAML), 400)
    assert body["exit_code"] == ExitCode.USAGE
    body = problem(client.post("/v1/assessments?formt=pdf", content=case, headers=YAML), 400)
    assert "unknown parameter 'formt'" in body["detail"]
    problem(client.post("/v1/assessments?format=json&format=pdf", content=case,
                        headers=YAML), 400)
    body = problem(client.post("/v1/assessments?ruleset=euaa-syria-1999", content=case,
                               headers=YAML), 400)
    assert body["exit_code"] == ExitCode.USAGE


def test_size_limit(client, server):
    big = b"# " + b"x" * 1_048_576 + b"\nformat: 1\n"
    body = problem(client.post("/v1/assessments", content=big, headers=YAML), 413)
    assert body["exit_code"] == 3 and "1,048,576" in body["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"#" * 65_536 + b"\n"

    problem(client.post("/v1/assessments", content=chunks(), headers=YAML), 413)
    # just under the limit is read and assessed
    fits = CASES[0].read_bytes() + b"#" * (1_048_576 - len(CASES[0].read_bytes()) - 2) + b"\n"
    assert len(fits) < 1_048_576
    assert client.post("/v1/assessments", content=fits, headers=YAML).status_code == 200


def test_bad_requests_never_affect_the_next(client, server):
    expected = cli_json(CASES[1])
    garbage = [b"GARBAGE\r\n\r\n", b"POST /v1/assessments HTTP/1.1\r\nHost: x\r\n\r\n",
               b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Long: " + b"a" * 70_000
               + b"\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"]
    for raw in garbage:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(raw)
            try:
                s.recv(65_536)
            except (ConnectionResetError, TimeoutError):
                pass
        r = client.post("/v1/assessments", content=CASES[1].read_bytes(), headers=YAML)
        assert r.status_code == 200 and r.content == expected
    for bad in (b"a: [", b"format: 2\n", b"\x00" * 100, b"{" * 5000):
        client.post("/v1/assessments", content=bad, headers=YAML)
        r = client.post("/v1/assessments", content=CASES[1].read_bytes(), headers=YAML)
        assert r.content == expected


# ------------------------------------------------------------ security


def test_security_headers_on_every_response(client):
    for r in (client.get("/"), client.get("/healthz"), client.get("/nope"),
              client.post("/v1/assessments", content=b"a: [", headers=YAML),
              client.get("/static/form.css")):
        h = r.headers
        assert "default-src 'none'" in h["content-security-policy"]
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert "script-src" not in h["content-security-policy"]
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"
        assert "server" not in h


def test_host_header_allow_list(client, server):
    port = server.port
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}",
                 "127.0.0.1.evil.example", "", f"localhost:{port}x",
                 "127.0.0.1", "localhost"):  # no port: port 80, which it is not
        body = problem(client.get("/healthz", headers={"host": host}), 400)
        assert body["type"].endswith(":host-not-allowed")
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        assert client.get("/healthz", headers={"host": host}).status_code == 200


def form_token(c: httpx.Client) -> str:
    page = c.get("/")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


def test_form_posts_need_the_origin_and_the_csrf_token(server):
    origin = server.base
    with httpx.Client(base_url=server.base, timeout=60) as c:
        token = form_token(c)
        data = {"csrf": token, "case_id": "KEEP-ME-1", "applicant.rank": "officer"}
        for bad in ("http://evil.example", "null", f"http://127.0.0.1:{server.port + 1}"):
            body = problem(c.post("/", data=data, headers={"origin": bad}), 403)
            assert body["type"].endswith(":forbidden-origin")
        problem(c.post("/", data=data, headers={"referer": "http://evil.example/x"}), 403)
        problem(c.post("/", data=data, headers={"sec-fetch-site": "cross-site"}), 403)
        # the wrong CSRF token: not assessed, and what was typed is kept
        r = c.post("/", data={**data, "csrf": "0" * 64}, headers={"origin": origin})
        assert r.status_code == 403 and "expired" in r.text
        assert 'value="KEEP-ME-1"' in r.text and '<option value="officer" selected' in r.text
        assert "Conclusions" not in r.text
        r = c.post("/", data=data, headers={"origin": origin})
        assert r.status_code == 200 and "Conclusions" in r.text
    with httpx.Client(base_url=server.base, timeout=60) as fresh:  # no cookie at all
        r = fresh.post("/", data=data, headers={"origin": origin})
        assert r.status_code == 403 and 'value="KEEP-ME-1"' in r.text


def test_token_rules():
    s = Server(env={"RISKASSESS_TOKEN": TOKEN})
    try:
        with httpx.Client(base_url=s.base, timeout=60) as c:
            case = CASES[0].read_bytes()
            for headers in ({}, {"authorization": "Bearer wrong"},
                            {"authorization": f"Bearer {TOKEN}x"},
                            {"authorization": f"Basic {TOKEN}"}):
                r = c.post("/v1/assessments", content=case, headers={**YAML, **headers})
                body = problem(r, 401)
                assert r.headers["www-authenticate"].startswith("Bearer")
                assert body["type"].endswith(":unauthorized")
            # (each wrong token counts against this address: see test_serve_auth.py)
            for headers in ({}, {"authorization": "Bearer wrong"}):
                problem(c.get("/v1/rulesets", headers=headers), 401)
                problem(c.get("/openapi.json", headers=headers), 401)
            auth = {"authorization": f"Bearer {TOKEN}"}
            r = c.post("/v1/assessments", content=case, headers={**YAML, **auth})
            assert r.status_code == 200 and r.content == cli_json(CASES[0])
            assert c.get("/healthz").status_code == 200  # for monitors, no token
            # the form asks for the token once, then keeps a session cookie
            page = c.get("/")
            assert page.status_code == 401 and 'name="token"' in page.text
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
            r = c.post("/login", data={"csrf": csrf, "token": "wrong"},
                       headers={"origin": s.base})
            assert r.status_code == 401 and "not a token of this service" in r.text
            r = c.post("/login", data={"csrf": csrf, "token": TOKEN},
                       headers={"origin": s.base})
            assert r.status_code == 303
            assert c.get("/").status_code == 200
            assert TOKEN not in str(c.cookies.jar)
    finally:
        assert s.stop() == 0
    assert TOKEN not in s.log()


@pytest.mark.parametrize("args,said", [
    (["--host", "192.0.2.7"], "not a loopback address"),
    (["--host", "0.0.0.0", "--token", TOKEN], "--allow-host"),
    (["--token", "short"], "shorter than 16"),
    # a host is judged by the address it names, however spelt
    (["--host", "0", "--token", TOKEN], "--allow-host"),
    (["--host", "::0", "--token", TOKEN], "--allow-host"),
    (["--host", "::ffff:0.0.0.0", "--token", TOKEN], "--allow-host"),
    (["--host", "0", "--allow-host", "me.example"], "not a loopback address"),
    (["--host", "no such host!"], "--host no such host!"),
    # --allow-host takes a name or an address alone
    (["--allow-host", "http://me.example"], "not a host name"),
    (["--allow-host", "me.example:8080"], "not a host name"),
    (["--allow-host", "192.0.2.2:8837"], "not a host name"),
    (["--allow-host", "cafe:8852"], "not a host name"),
    (["--allow-host", "-"], "not a host name"),
])
def test_refuses_to_start_unsafely(args, said):
    r = run_cli("serve", *args)
    assert r.code == ExitCode.USAGE and said in r.err, r.err


def test_port_in_use_is_a_clear_error(server):
    r = run_cli("serve", "--port", str(server.port))
    assert r.code == ExitCode.USAGE and "cannot listen on 127.0.0.1 port" in r.err


def test_nothing_of_a_case_reaches_the_log(client, server):
    secret_id, secret_text = "CASE-SECRET-7Q", "unit-secret-value-93"
    case = (f"format: 1\ncase_id: {secret_id}\napplicant:\n  role_and_unit: {secret_text}\n"
            "  rank: officer\n").encode()
    assert client.post("/v1/assessments", content=case, headers=YAML).status_code == 200
    bad = case.replace(b"rank: officer", b"rank: officer-" + secret_text.encode())
    assert client.post("/v1/assessments", content=bad, headers=YAML).status_code == 422
    client.post(f"/v1/assessments?ruleset={secret_text}", content=case, headers=YAML)
    with httpx.Client(base_url=server.base, timeout=60) as c:
        token = form_token(c)
        c.post("/", data={"csrf": token, "case_id": secret_id,
                          "applicant.role_and_unit": secret_text},
               headers={"origin": server.base})
    assert server.wait_logged("POST / 200")
    log = server.log()
    assert secret_id not in log and secret_text not in log
    assert re.search(r"127\.0\.0\.1 POST /v1/assessments 422 [0-9.]+ ms", log)
    assert "?" not in "".join(line for line in server.lines if "POST /v1" in line)


# ------------------------------------------------------------ limits and reliability


def _partial(port: int, body: bytes, sent: int) -> socket.socket:
    """A request whose body is only partly sent: it is in flight until the rest comes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"POST /v1/assessments HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
              b"Content-Type: application/yaml\r\nContent-Length: %d\r\n\r\n"
              % (port, len(body)) + body[:sent])
    return s


def _response(s: socket.socket) -> tuple[int, bytes]:
    data = b""
    while True:
        chunk = s.recv(65_536)
        if not chunk:
            break
        data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        m = re.search(rb"content-length: (\d+)", head, re.I)
        if m and len(rest) >= int(m.group(1)):
            break
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def test_concurrency_limit_and_request_timeout():
    s = Server("--max-concurrent", "1", "--max-queue", "0", "--timeout", "2")
    try:
        body = CASES[2].read_bytes()
        with httpx.Client(base_url=s.base, timeout=60) as c:
            # a slow upload holds its connection, not an assessment's slot
            held = _partial(s.port, body, 10)
            time.sleep(0.3)
            r = c.post("/v1/assessments", content=body, headers=YAML)
            assert r.status_code == 200 and r.content == cli_json(CASES[2])
            status, _ = _response(held)  # and it times out (2 s): 408
            assert status == 408
            held.close()
        # eight PDFs at once with one slot and no queue: those beyond it get 503, the
        # others their PDF (tests/test_serve_metrics.py tests the queue)
        from concurrent.futures import ThreadPoolExecutor

        # on a server of its own with a long deadline: a PDF made on a loaded machine may
        # take longer than this test's 2 s, and would be refused for time, not for the slot
        busy = Server("--max-concurrent", "1", "--max-queue", "0", "--timeout", "120")
        try:
            base = busy.base

            def pdf(_):
                with httpx.Client(base_url=base, timeout=120) as one:
                    return one.post("/v1/assessments?format=pdf", content=body, headers=YAML)

            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(pdf, range(8)))
        finally:
            assert busy.stop() == 0, busy.log()[-2000:]
        statuses = sorted(r.status_code for r in answers)
        assert 200 in statuses and 503 in statuses and set(statuses) == {200, 503}, statuses
        for r in answers:
            if r.status_code == 503:
                assert r.headers["retry-after"] == "1"
                assert problem(r, 503)["type"].endswith(":busy")
            else:
                assert r.content.startswith(b"%PDF")
        with httpx.Client(base_url=s.base, timeout=60) as c:  # and then the slot is free
            r = c.post("/v1/assessments", content=body, headers=YAML)
            assert r.status_code == 200 and r.content == cli_json(CASES[2])
            assert c.get("/v1/rulesets").status_code == 200  # reading is never limited
        # a request whose headers trickle in (or never come) is closed at the deadline
        for first in (b"", b"GET /healthz HTTP/1.1\r\nHo"):
            slow = socket.create_connection(("127.0.0.1", s.port), timeout=15)
            slow.sendall(first)
            start = time.monotonic()
            assert slow.recv(1024) == b""
            assert time.monotonic() - start < 6
            slow.close()
        with httpx.Client(base_url=s.base, timeout=60) as c:  # and a kept-alive one waits
            assert c.get("/healthz").status_code == 200
            time.sleep(1)
            assert c.get("/healthz").status_code == 200
    finally:
        assert s.stop() == 0


def test_sigterm_drains_the_request_in_flight():
    s = Server()
    body = CASES[3].read_bytes()
    held = _partial(s.port, body, 20)
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGTERM)
    assert s.wait_logged("Shutting down")
    refused = False  # no new connection is accepted once it is shutting down
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
        except OSError:
            refused = True
            break
        time.sleep(0.1)
    assert refused
    held.sendall(body[20:])
    status, content = _response(held)
    held.close()
    assert status == 200 and content == cli_json(CASES[3])
    assert s.proc.wait(30) == 0
    assert "stopped; requests in flight were answered" in s.log()


def test_ctrl_c_stops_with_130():
    s = Server()
    assert s.stop(signal.SIGINT) == ExitCode.INTERRUPTED
    assert "interrupted" in s.log()


def test_serve_help_and_start_line():
    r = subprocess.run([*TOOL, "serve", "--help"], capture_output=True, text=True,
                       timeout=60, env=tool_env())
    assert r.returncode == 0 and "--token" in r.stdout and "--max-concurrent" in r.stdout


def test_other_commands_do_not_import_the_web_stack():
    code = ("import sys\nfrom riskassess.cli.app import main\n"
            "try:\n"
            f"    main(['evaluate', {str(CASES[0])!r}, '-f', 'markdown', '--today', {TODAY!r}])\n"
            "except SystemExit:\n    pass\n"
            "web = sorted({m.split('.')[0] for m in sys.modules} & "
            "{'starlette', 'uvicorn', 'anyio', 'h11', 'httpx'})\n"
            "sys.stderr.write(repr(web))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    assert r.stderr.endswith("[]"), r.stderr[-500:]


def test_a_browser_on_port_80_sends_no_port_in_its_origin():
    from riskassess.serve.guard import Settings, allowed_hosts

    on80 = Settings("127.0.0.1", 80, allowed_hosts("127.0.0.1", []))
    assert "http://127.0.0.1" in on80.origins and "http://localhost:80" in on80.origins
    other = Settings("127.0.0.1", 8765, allowed_hosts("127.0.0.1", []))
    assert "http://127.0.0.1" not in other.origins


def test_parameters_name_encoded_editions_and_say_where_an_id_is(client):
    body = problem(client.get("/v1/rules/risk.amnesty-does-not-reduce",
                              params={"ruleset": "nope"}), 400)
    assert "the encoded editions are euaa-syria-2024, euaa-syria-2025-12" in body["detail"]
    body = problem(client.post("/v1/assessments?ruleset=easo-syria-2020",
                               content=CASES[0].read_bytes(), headers=YAML), 400)
    assert "in the catalog but not encoded" in body["detail"]
    assert "--ruleset" not in body["detail"] and body["exit_code"] == ExitCode.USAGE
    body = problem(client.get("/v1/coi/sd.houran-200",
                              params={"ruleset": "euaa-syria-2025-12"}), 404)
    assert body["detail"] == ("no paragraph 'sd.houran-200' in euaa-syria-2025-12; it is in "
                              "euaa-syria-2024")
    problem(client.get("/healthz?x=1"), 400)
    problem(client.get("/openapi.json?x=1"), 400)


def test_odd_json_is_refused_in_words(client):
    body = problem(client.post("/v1/assessments", content=b'{"format": 1' + b"1" * 5000 + b"}",
                               headers=JSONH), 400)
    assert "over 4,300 digits" in body["detail"] and "sys." not in body["detail"]


def test_control_characters_in_free_text_never_break_a_document(client):
    case = json.dumps({"format": 1, "applicant": {"role_and_unit": "a\u0001b\u000bc\ufffe"}})
    for fmt in ("json", "markdown", "html", "docx", "pdf"):
        r = client.post(f"/v1/assessments?format={fmt}", content=case.encode(), headers=JSONH)
        assert r.status_code == 200, (fmt, r.text[:300])
    from baselines import docx_structure

    docx = client.post("/v1/assessments?format=docx", content=case.encode(), headers=JSONH)
    assert "a\\x01b\\x0bc\\ufffe" in docx_structure(docx.content)


def test_free_text_cannot_add_markup_to_the_markdown(client):
    evil = "x | y\n\n# Injected\n<script>alert(1)</script> ![i](http://evil.example/t.png)"
    case = json.dumps({"format": 1, "applicant": {"role_and_unit": evil}})
    md = client.post("/v1/assessments?format=markdown", content=case.encode(),
                     headers=JSONH).text
    row = next(line for line in md.splitlines() if line.startswith("| Role and unit"))
    assert row.count(" | ") == 1 and row.endswith(" |")  # one cell, the table intact
    assert "<script>" not in md and "![i]" not in md and "\n# Injected" not in md
    assert "&lt;script&gt;" in row and "\\!" not in row and "\\[i\\]" in row


def test_internal_errors_are_logged_by_place_not_value():
    from riskassess.serve.guard import where

    def inner(value):
        raise KeyError(value)

    try:
        inner("SECRET-FACT")
    except KeyError as exc:
        place = where(exc)
    assert "test_serve.py" in place and "inner" in place and "SECRET" not in place


def test_odd_requests_from_the_second_review(client, server):
    port = server.port
    for odd in ("127.0.0.1:\u00b2", f"127.0.0.1:{port}\u00b9"):  # digits that are not ASCII
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + odd.encode("latin-1") + b"\r\n\r\n")
            status, _ = _response(s)
        assert status == 400
    with httpx.Client(base_url=server.base, timeout=60, headers={"origin": server.base}) as c:
        page = c.get("/")
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
        r = c.post("/", content=f"csrf={csrf}&action=assess&action=pdf".encode(),
                   headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422 and "given more than once" in r.text
    rule = client.get("/v1/rulesets/euaa-syria-2024").json()["rules"][0]["id"]
    assert client.get(f"/v1/rules/{rule}?ruleset=").status_code == 200  # empty: none
    # a client that goes away in the middle of its upload is a 400, not an internal error
    held = _partial(port, CASES[0].read_bytes(), 10)
    held.close()
    assert server.wait_logged("POST /v1/assessments 400")
    assert "internal error" not in server.log()


def test_a_client_that_does_not_read_its_answers_cannot_hold_the_connection():
    s = Server("--timeout", "2")
    try:
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.connect(("127.0.0.1", s.port))
        request = b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % s.port
        c.sendall(request * 200)  # pipelined (about 20 MB of answers), and not read
        # the answer it does not read is cut off after --timeout (2 s); what the system's
        # buffers took is left, and the connection is then closed as idle (5 s)
        assert s.wait_logged("did not read its answer within 2 s", timeout=30), \
            s.log()[-1000:]
        time.sleep(6)
        c.settimeout(20)
        while c.recv(1 << 20):  # what was buffered, then the end: the server closed it
            pass
        c.close()
        with httpx.Client(base_url=s.base, timeout=60) as fresh:
            assert fresh.get("/healthz").status_code == 200
    finally:
        assert s.stop() == 0
