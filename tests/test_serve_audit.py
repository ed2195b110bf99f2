"""The audit trail of `riskassess serve` (--audit-log FILE): one JSON line per
assessment (API, batch and form), sign-in, sign-out and refused token; never a fact, a free
text or a token. Through a real server and a real client (httpx); the file's own rules
(append only, 0600, one write a line, no directory, FIFO or device) also in-process."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from urllib.parse import urlencode

import httpx
import pytest
from conftest import EXAMPLES, VOCAB, run_cli
from serving import TODAY, Server

from riskassess.errors import ExitCode
from riskassess.io.reader import read_yaml_file

YAML = {"content-type": "application/yaml"}
ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef-xyz"
EXAMPLE = EXAMPLES / "religious-objector.yaml"
FREE_TEXT = "Unit-Secret-Text 93, north"


def case_bytes() -> bytes:
    """The example, with a free text of the case added."""
    text = EXAMPLE.read_text(encoding="utf-8")
    return text.replace("applicant:\n", f"applicant:\n  role_and_unit: \"{FREE_TEXT}\"\n",
                        1).encode()


def leaves(data) -> list:
    if isinstance(data, dict):
        return [v for value in data.values() for v in leaves(value)]
    if isinstance(data, list):
        return [v for value in data for v in leaves(value)]
    return [data]


def cli_json(path) -> bytes:
    r = run_cli("evaluate", str(path), "-f", "json", "--today", TODAY)
    assert r.code == 0, r.err
    return r.out.encode("utf-8")


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


def form_data(data: dict) -> list[tuple[str, str]]:
    out = [("case_id", data.get("case_id") or ""),
           ("assessment_date", str(data.get("assessment_date") or ""))]
    for group, facts in data.items():
        if isinstance(facts, dict):
            for key, value in facts.items():
                if isinstance(value, list):
                    out.append((f"{group}.{key}", "listed"))
                    out += [(f"{group}.{key}:item", item) for item in value]
                elif isinstance(value, bool):
                    out.append((f"{group}.{key}", "true" if value else "false"))
                else:
                    out.append((f"{group}.{key}", str(value)))
    return out


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """A server with named tokens and an audit log, used by alice (API), bob (form) and
    a guesser; its audit lines."""
    folder = tmp_path_factory.mktemp("audit")
    tokens = folder / "tokens"
    tokens.write_text(f"alice: {ALICE}\nbob: {BOB}\n")
    os.chmod(tokens, 0o600)
    log = folder / "audit.jsonl"
    case_file = folder / "case.yaml"
    case_file.write_bytes(case_bytes())
    s = Server("--tokens-file", str(tokens), "--audit-log", str(log))
    try:
        with httpx.Client(base_url=s.base, timeout=60) as c:
            alice = {"authorization": f"Bearer {ALICE}"}
            r = c.post("/v1/assessments", content=case_bytes(), headers={**YAML, **alice})
            assert r.status_code == 200
            r = c.post("/v1/assessments?format=docx", content=case_bytes(),
                       headers={**YAML, **alice})
            assert r.status_code == 200
            docx = r.content
            line = json.dumps(read_yaml_file(case_file).data, default=str).encode() + b"\n"
            r = c.post("/v1/batches", content=line,
                       headers={"content-type": "application/x-ndjson", **alice})
            assert r.status_code == 200 and json.loads(r.content)["refused"] is None
            assert c.get("/v1/rulesets", headers={"authorization": "Bearer wrong-guess-1"}
                         ).status_code == 401
            edition = json.loads(cli_json(case_file))["ruleset"]
        with httpx.Client(base_url=s.base, timeout=60, headers={"origin": s.base}) as b:
            page = b.get("/")
            assert b.post("/login", data={"csrf": csrf_of(page), "token": "wrong-guess-2"}
                          ).status_code == 401
            assert b.post("/login", data={"csrf": csrf_of(page), "token": BOB}
                          ).status_code == 303
            data = read_yaml_file(case_file).data
            r = b.post("/", content=urlencode([("csrf", csrf_of(page)), *form_data(data)]),
                       headers={"content-type": "application/x-www-form-urlencoded"})
            assert r.status_code == 200 and "Conclusions" in r.text, r.text[:500]
            # the form does not say "nothing is stored" when an audit trail is kept
            said = " ".join(r.text.split())
            assert "keeps an audit trail" in said and "Nothing you enter" not in said
            assert b.post("/logout", data={"csrf": csrf_of(page)}).status_code == 303
    finally:
        assert s.stop() == 0, s.log()
    text = log.read_text(encoding="utf-8")
    yield {"text": text, "lines": [json.loads(line) for line in text.splitlines()],
           "path": log, "case": case_file, "docx": docx, "edition": edition, "log": s.log()}


def test_each_assessment_is_a_line_saying_who_what_and_which_report(audited):
    lines = audited["lines"]
    assessed = [e for e in lines if e["event"] == "assessment"]
    assert [(e["principal"], e["via"]) for e in assessed] == [
        ("alice", "api"), ("alice", "api"), ("alice", "batch"), ("bob", "form")]
    report = cli_json(audited["case"])
    questions = [q.id for q in VOCAB.questions]
    expected = json.loads(report)
    for e in assessed:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["time"])
        assert e["case_id"] == "EX-RELIGIOUS-OBJECTOR"
        assert e["edition"] == audited["edition"]["id"]
        assert e["ruleset_sha256"] == audited["edition"]["sha256"]
        assert e["outcomes"] == {q: expected[q]["outcome"] for q in questions}
        # the report as `riskassess evaluate --format json` prints it, for any format
        assert e["report_sha256"] == hashlib.sha256(report).hexdigest()
    assert assessed[1]["format"] == "docx"
    assert assessed[1]["sent_sha256"] == hashlib.sha256(audited["docx"]).hexdigest()


def test_sign_in_sign_out_and_refused_tokens_are_lines_without_the_token(audited):
    lines = audited["lines"]
    others = [{k: v for k, v in e.items() if k != "time"} for e in lines
              if e["event"] != "assessment"]
    assert others == [
        {"event": "auth-refused", "client": "127.0.0.1", "how": "bearer",
         "why": "wrong token"},
        {"event": "auth-refused", "client": "127.0.0.1", "how": "sign-in",
         "why": "wrong token"},
        {"event": "sign-in", "principal": "bob", "client": "127.0.0.1"},
        {"event": "sign-out", "principal": "bob", "client": "127.0.0.1"}]
    for secret in (ALICE, BOB, "wrong-guess-1", "wrong-guess-2"):
        assert secret not in audited["text"] and secret not in audited["log"]


def test_no_value_of_the_case_reaches_the_audit_but_its_reference(audited):
    data = read_yaml_file(audited["case"]).data
    values = {str(v) for v in leaves({k: v for k, v in data.items() if k != "case_id"})}
    values |= {"true", "false"} if any(isinstance(v, bool) for v in leaves(data)) else set()
    assert FREE_TEXT in values and len(values) > 8
    text = audited["text"]
    for value in sorted(values):
        # each value as JSON would write it: a string, or a bare number or boolean
        for said in (json.dumps(value), f":{value},", f":{value}}}"):
            assert said not in text, value
        if len(value) >= 4:
            assert value not in text, value
    assert data["case_id"] in text


def test_the_file_is_made_0600_and_appended_to_never_truncated(audited, tmp_path):
    assert stat.S_IMODE(os.stat(audited["path"]).st_mode) == 0o600
    from riskassess.serve.audit import AuditLog

    path = tmp_path / "audit.jsonl"
    path.write_text('{"event":"earlier"}\n')
    first = AuditLog(path)
    second = AuditLog(path)  # a second process on the same file
    first.event("one", n=1)
    second.event("two", n=2)
    first.event("three", n=3)
    first.close()
    second.close()
    events = [json.loads(line)["event"] for line in path.read_text().splitlines()]
    assert events == ["earlier", "one", "two", "three"]


def test_a_directory_fifo_or_device_is_refused_at_start(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, said in ((tmp_path, "a directory"), (fifo, "a FIFO"),
                       ("/dev/null", "a device")):
        r = run_cli("serve", "--port", "0", "--audit-log", str(path))
        assert r.code == ExitCode.USAGE, r.err
        assert f"--audit-log {path}: {said}, not a file" in r.err, r.err
        assert "Traceback" not in r.err
    r = run_cli("serve", "--port", "0", "--audit-log", str(tmp_path / "no" / "such.log"))
    assert r.code == ExitCode.USAGE and "cannot open it for appending" in r.err, r.err


def test_without_a_token_the_principal_is_anonymous(tmp_path):
    from starlette.testclient import TestClient

    from riskassess.law.ruleset import default_rules_dir
    from riskassess.serve.app import build
    from riskassess.serve.audit import AuditLog
    from riskassess.serve.guard import Settings, allowed_hosts
    from riskassess.serve.service import Service

    settings = Settings("127.0.0.1", 80, allowed_hosts("127.0.0.1", []),
                        audit=AuditLog(tmp_path / "audit.jsonl"))
    c = TestClient(build(Service(default_rules_dir()), settings),
                   base_url="http://127.0.0.1")
    assert c.post("/v1/assessments", content=case_bytes(), headers=YAML).status_code == 200
    line = json.loads((tmp_path / "audit.jsonl").read_text())
    assert line["principal"] == "anonymous" and line["via"] == "api"

    # and the form says so: without an audit log, nothing is kept at all
    page = " ".join(c.get("/").text.split())
    assert "keeps an audit trail of each assessment" in page
    bare = TestClient(build(Service(default_rules_dir()), Settings(
        "127.0.0.1", 80, allowed_hosts("127.0.0.1", []))), base_url="http://127.0.0.1")
    page = " ".join(bare.get("/").text.split())
    assert "Nothing you enter is stored" in page and "audit trail" not in page
