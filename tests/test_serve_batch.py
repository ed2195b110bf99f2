"""`POST /v1/batches`, tested as a client sees it: a real server (tests/serving.py) and a
real client (httpx, or a raw socket where the test needs to send a body bit by bit).

It checks that the answer lines are the CLI's own (`evaluate FOLDER -f outcomes`, and
`-f jsonl` for format=json) in the body's order; that a bad line is refused in its place,
with the exit code and located problems a single assessment gives, and the rest goes on;
the limits (a line's 1 MiB, the body's 64 MiB, the time per line); that the answer
streams while the body is still arriving, holding no assessment slot while it waits; and
the token.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import EXAMPLES, run_cli
from serving import TODAY, Server

from riskassess.errors import ExitCode
from riskassess.io.reader import read_yaml_file

CASES = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
NDJSON = {"content-type": "application/x-ndjson"}
TOKEN = "a-long-enough-test-token-0123456789"
MiB = 1_048_576


@pytest.fixture(scope="module")
def client(server):  # (conftest's, with time for bodies of many megabytes)
    with httpx.Client(base_url=server.base, timeout=120) as c:
        yield c


def as_line(path) -> bytes:
    return json.dumps(read_yaml_file(path).data).encode()


@pytest.fixture(scope="module")
def cli_lines(tmp_path_factory):
    """What `riskassess evaluate FOLDER -f outcomes|jsonl` writes for every example, by
    example, the file's path taken out of the outcomes line."""
    folder = tmp_path_factory.mktemp("caseload")
    for i, path in enumerate(CASES):
        shutil.copy(path, folder / f"{i:03}.yaml")
    out = {}
    for fmt in ("outcomes", "jsonl"):
        r = run_cli("evaluate", str(folder), "-f", fmt, "--today", TODAY)
        assert r.code == 0, r.err
        lines = r.out.encode().splitlines(keepends=True)
        assert len(lines) == len(CASES)
        if fmt == "outcomes":
            lines = [line[line.index(b',"case_id":'):] for line in lines]
        out[fmt] = lines
    return out


def lines_of(r: httpx.Response) -> list[bytes]:
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"] == "application/x-ndjson"
    assert r.content.endswith(b"\n")
    return r.content.splitlines(keepends=True)


def refusal(line: bytes, n: int, status: int, exit_code: int | None) -> dict:
    got = json.loads(line)
    assert set(got) == {"line", "case_id", "refused"} and got["line"] == n
    problem = got["refused"]
    assert problem["status"] == status and problem["type"].startswith("urn:riskassess:problem:")
    assert problem["title"] and problem["detail"]
    assert problem.get("exit_code") == exit_code
    return got


# ------------------------------------------------------------------ the CLI's lines


@pytest.mark.parametrize("fmt", ["outcomes", "json"])
def test_lines_are_the_clis_in_the_bodys_order(client, cli_lines, fmt):
    # every example, in reverse order, with blank lines and bad lines between them
    order = list(reversed(range(len(CASES))))
    body, expected = [], []
    for k, i in enumerate(order):
        body.append(as_line(CASES[i]))
        expected.append(("ok", i, len(body)))
        if k % 7 == 3:
            body += [b"", b"   "]  # blank lines: no answer, but they are counted
        if k % 9 == 4:
            body.append(b"{not json")
            expected.append(("refused", None, len(body)))
    params = {} if fmt == "outcomes" else {"format": "json"}
    got = lines_of(client.post("/v1/batches", params=params, content=b"\n".join(body) + b"\n",
                               headers=NDJSON))
    assert len(got) == len(expected)
    for line, (kind, i, n) in zip(got, expected, strict=True):
        if kind == "refused":
            refusal(line, n, 400, ExitCode.INVALID_INPUT)
        elif fmt == "outcomes":
            prefix = b'{"path":' + json.dumps(f"request body:{n}").encode()
            assert line == prefix + cli_lines["outcomes"][i]
        else:
            assert line == cli_lines["jsonl"][i]


def test_both_media_types_and_a_last_line_without_its_end(client, cli_lines):
    body = as_line(CASES[0]) + b"\r\n" + as_line(CASES[1])  # CRLF, and no final line end
    for kind in ("application/x-ndjson", "application/jsonl; charset=utf-8"):
        got = lines_of(client.post("/v1/batches", params={"format": "json"}, content=body,
                                   headers={"content-type": kind}))
        assert got == [cli_lines["jsonl"][0], cli_lines["jsonl"][1]]
    empty = client.post("/v1/batches", content=b"", headers=NDJSON)  # no line, no answer
    assert empty.status_code == 200 and empty.content == b""


# ------------------------------------------------------------------ refusals as lines


def test_bad_lines_are_refused_in_place_and_the_rest_goes_on(client, cli_lines):
    good = as_line(CASES[0])
    lines = [
        b"{not json",  # 1: unreadable (400, exit 3), located on its line
        b'{"case_id": "REF-2", "applicant": {"rank": "general"}}',  # 2: invalid (422, 3)
        b'{"case_id": "REF-3", "applicant": {"country_of_origin": "AF"}}',  # 3: scope (7)
        b'{"case_id": "REF-4", "assessment_date": "2021-06-01"}',  # 4: not encoded (5)
        b'{"case_id": "REF-5", "case_id": "REF-5b"}',  # 5: a duplicate key
        b"[1, 2]",  # 6: not a mapping
        b'{"case_id": "bad id with spaces", "format": 2}',  # 7: an invalid id is not repeated
        b'"\xff"',  # 8: not UTF-8
        good,  # 9
    ]
    got = lines_of(client.post("/v1/batches", content=b"\n".join(lines), headers=NDJSON))
    assert len(got) == len(lines)
    first = refusal(got[0], 1, 400, ExitCode.INVALID_INPUT)
    assert first["case_id"] is None
    located = first["refused"]["problems"][0]
    assert (located["file"], located["line"], located["column"]) == ("request body", 1, 2)
    assert located["text"].startswith("request body:1:2: JSON syntax error")
    assert first["refused"]["detail"].startswith("request body:1:2: ")
    second = refusal(got[1], 2, 422, ExitCode.INVALID_INPUT)
    assert second["case_id"] == "REF-2"
    assert second["refused"]["type"].endswith(":invalid-case")
    where = second["refused"]["problems"][0]
    assert (where["line"], where["path"]) == (2, "applicant.rank")
    assert where["text"].startswith(f"request body:2:{where['column']}: applicant.rank: ")
    third = refusal(got[2], 3, 422, ExitCode.OUT_OF_SCOPE)
    assert third["case_id"] == "REF-3" and third["refused"]["type"].endswith(":out-of-scope")
    fourth = refusal(got[3], 4, 422, ExitCode.NO_ENCODED_EDITION)
    assert fourth["refused"]["type"].endswith(":edition-not-encoded")
    fifth = refusal(got[4], 5, 400, ExitCode.INVALID_INPUT)  # unreadable, as JSON
    assert "duplicate key" in fifth["refused"]["detail"]
    assert fifth["refused"]["problems"][0]["line"] == 5
    refusal(got[5], 6, 422, ExitCode.INVALID_INPUT)
    assert refusal(got[6], 7, 422, ExitCode.INVALID_INPUT)["case_id"] is None
    refusal(got[7], 8, 400, ExitCode.INVALID_INPUT)
    assert got[8] == b'{"path":"request body:9"' + cli_lines["outcomes"][0]
    # a single assessment of the same line is refused with the same problem document
    single = client.post("/v1/assessments", content=lines[1],
                         headers={"content-type": "application/json"}).json()
    placed = second["refused"]
    assert {k: v for k, v in single.items() if k not in ("detail", "problems")} == \
        {k: v for k, v in placed.items() if k not in ("detail", "problems")}
    assert [p["message"] for p in single["problems"]] == \
        [p["message"] for p in placed["problems"]]


def test_a_line_over_1_mib_is_refused_and_the_next_assessed(client, cli_lines):
    long = b'{"case_id": "' + b"x" * MiB + b'"}'
    fits = as_line(CASES[2]) + b" " * (MiB - len(as_line(CASES[2])))  # exactly 1 MiB
    got = lines_of(client.post("/v1/batches", params={"format": "json"},
                               content=long + b"\n" + fits + b"\n" + as_line(CASES[3]),
                               headers=NDJSON))
    assert len(got) == 3
    too = refusal(got[0], 1, 413, ExitCode.INVALID_INPUT)
    assert f"{len(long):,}" in too["refused"]["detail"]
    assert got[1:] == [cli_lines["jsonl"][2], cli_lines["jsonl"][3]]


# ------------------------------------------------------------------ the whole request


def problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def test_what_refuses_the_whole_request(client):
    line = as_line(CASES[0])
    assert problem(client.post("/v1/batches", content=line, headers={
        "content-type": "application/json"}), 415)["status"] == 415
    body = problem(client.post("/v1/batches", params={"format": "pdf"}, content=line,
                               headers=NDJSON), 400)
    assert body["exit_code"] == ExitCode.USAGE and "outcomes, json" in body["detail"]
    problem(client.post("/v1/batches", params={"ruleset": "nope"}, content=line,
                        headers=NDJSON), 400)
    problem(client.post("/v1/batches", params={"x": "1"}, content=line, headers=NDJSON), 400)
    problem(client.get("/v1/batches"), 405)
    # a forced edition applies to every line
    got = lines_of(client.post("/v1/batches", params={"ruleset": "euaa-syria-2024"},
                               content=line, headers=NDJSON))
    assert json.loads(got[0])["edition"] == "euaa-syria-2024"


def _raw(port: int, head: bytes, timeout: float = 60) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(head)
    return s


def _head(port: int, extra: str) -> bytes:
    return (f"POST /v1/batches HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/x-ndjson\r\n{extra}\r\n").encode()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def test_the_body_limit(client, server):
    # declared over 64 MiB: refused before any of it is read
    s = _raw(server.port, _head(server.port, f"Content-Length: {64 * MiB + 1}\r\n"))
    answer = b""
    while data := s.recv(65_536):  # the service closes the connection after it
        answer += data
    s.close()
    assert answer.startswith(b"HTTP/1.1 413 ") and b"67,108,865" in answer
    # sent without a length: cut at 64 MiB, the lines before it answered, a last refusal
    head = as_line(CASES[0]) + b"\n"

    def chunks():
        yield head
        for _ in range(65):  # 65 MiB of blank lines of 512 KiB
            yield (b" " * (MiB // 2 - 1) + b"\n") * 2

    got = lines_of(client.post("/v1/batches", content=chunks(), headers=NDJSON))
    assert len(got) == 2 and json.loads(got[0])["case_id"]
    last = refusal(got[1], json.loads(got[1])["line"], 413, ExitCode.INVALID_INPUT)
    assert "67,108,864" in last["refused"]["detail"]
    assert client.get("/healthz").status_code == 200


# ------------------------------------------------------------------ streaming and time


def _read_line(s: socket.socket, buffer: bytearray) -> None:
    """Read until `buffer` holds a whole answer line (a chunk ending in a line end),
    after the response's head if it starts with one."""
    while b"\n\r\n" not in (buffer.partition(b"\r\n\r\n")[2]
                              if buffer.startswith(b"HTTP/") else buffer):
        data = s.recv(65_536)
        if not data:
            raise AssertionError(f"the connection closed: {bytes(buffer)[:300]!r}")
        buffer += data


def test_answers_stream_while_the_body_arrives_holding_no_slot():
    s = Server("--max-concurrent", "1", "--timeout", "3")
    try:
        sock = _raw(s.port, _head(s.port, "Transfer-Encoding: chunked\r\n"))
        sock.sendall(_chunk(as_line(CASES[0]) + b"\n"))
        got = bytearray()
        _read_line(sock, got)  # the first answer comes before the body is complete
        assert got.startswith(b"HTTP/1.1 200 ") and b'"path":"request body:1"' in got
        # the batch waits for its next line holding no slot: a single assessment is served
        with httpx.Client(base_url=s.base, timeout=60) as c:
            r = c.post("/v1/assessments", content=CASES[1].read_bytes(),
                       headers={"content-type": "application/yaml"})
            assert r.status_code == 200
        sock.sendall(_chunk(as_line(CASES[1]) + b"\n"))
        got.clear()
        _read_line(sock, got)
        assert b'"path":"request body:2"' in got
        # a next line that does not come within --timeout (3 s): a last refusal line
        start = time.monotonic()
        rest = bytearray()
        while b"0\r\n\r\n" not in rest:
            data = sock.recv(65_536)
            if not data:
                break
            rest += data
        assert 2 < time.monotonic() - start < 60
        line = next(x for x in bytes(rest).split(b"\r\n") if x.startswith(b"{"))
        late = refusal(line, 3, 408, None)
        assert "3 s" in late["refused"]["detail"]
        sock.close()
    finally:
        assert s.stop() == 0, s.log()


def test_a_client_that_sends_everything_before_reading(client, cli_lines):
    # httpx, like most clients, reads nothing of the answer until its body is sent. 15 MB
    # of lines whose 13 MB of answers fill the connection's buffers long before the body
    # is read: without the body read ahead, both sides would wait on each other.
    padded = [as_line(p) + b" " * (50_000 - len(as_line(p))) for p in CASES]
    body = b"\n".join(padded[i % len(CASES)] for i in range(300))
    start = time.monotonic()
    got = lines_of(client.post("/v1/batches", params={"format": "json"}, content=body,
                               headers=NDJSON))
    assert got == [cli_lines["jsonl"][i % len(CASES)] for i in range(300)]
    assert time.monotonic() - start < 100


def _memory(pid: int, which: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(which + r":\s+(\d+) kB", f.read()).group(1)) * 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_memory_does_not_grow_for_a_client_that_reads_as_it_sends(cli_lines):
    # 30 MB of lines sent while the answers are read: the service reads at most about
    # 1 MiB ahead of its answers, so its peak memory grows by far less than the body
    s = Server()
    try:
        padded = [as_line(p) + b" " * (20_000 - len(as_line(p))) for p in CASES]
        with httpx.Client(base_url=s.base, timeout=60) as c:  # warm: the rule sets in use
            lines_of(c.post("/v1/batches", content=b"\n".join(padded), headers=NDJSON))
        before = _memory(s.proc.pid, "VmHWM")
        sock = _raw(s.port, _head(s.port, "Transfer-Encoding: chunked\r\n"), timeout=120)

        def send():
            for i in range(1_500):
                sock.sendall(_chunk(padded[i % len(CASES)] + b"\n"))
            sock.sendall(b"0\r\n\r\n")

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        got = bytearray()
        while not got.endswith(b"\r\n0\r\n\r\n"):
            data = sock.recv(1 << 20)
            assert data, bytes(got[-300:])
            got += data
        sender.join(60)
        sock.close()
        assert got.count(b'{"path":"request body:') == 1_500
        grown = _memory(s.proc.pid, "VmHWM") - before
        assert grown < 12 * MiB, f"the peak grew by {grown / MiB:.1f} MiB for 30 MB of lines"
    finally:
        assert s.stop() == 0, s.log()


def test_token_mode():
    s = Server(env={"RISKASSESS_TOKEN": TOKEN})
    try:
        with httpx.Client(base_url=s.base, timeout=60) as c:
            line = as_line(CASES[0])
            for headers in ({}, {"authorization": "Bearer wrong"}):
                problem(c.post("/v1/batches", content=line, headers={**NDJSON, **headers}),
                        401)
            r = c.post("/v1/batches", content=line,
                       headers={**NDJSON, "authorization": f"Bearer {TOKEN}"})
            assert len(lines_of(r)) == 1 and json.loads(r.content)["case_id"]
    finally:
        assert s.stop() == 0
    assert TOKEN not in s.log()


def test_nothing_of_a_batch_reaches_the_log(client, server):
    secret = "SECRETCASEREF"
    lines = [b'{"case_id": "%s", "applicant": {"rank": "general"}}' % secret.encode(),
             b'{"case_id": "%s"' % secret.encode()]
    client.post("/v1/batches", content=b"\n".join(lines), headers=NDJSON)
    assert server.wait_logged("POST /v1/batches 200")
    assert secret not in server.log() and "general" not in server.log()
