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
from serving import TODAY, Server, form_data

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
            # a download from the form: audited once made, with the bytes sent
            got = b.post("/", content=urlencode([("csrf", csrf_of(page)), *form_data(data),
                                                 ("action", "docx")]),
                         headers={"content-type": "application/x-www-form-urlencoded"})
            assert got.status_code == 200 and got.content[:2] == b"PK"
            form_docx = got.content
            assert b.post("/logout", data={"csrf": csrf_of(page)}).status_code == 303
    finally:
        assert s.stop() == 0, s.log()
    text = log.read_text(encoding="utf-8")
    yield {"text": text, "lines": [json.loads(line) for line in text.splitlines()],
           "path": log, "case": case_file, "docx": docx, "edition": edition, "log": s.log(),
           "form_docx": form_docx}


def test_each_assessment_is_a_line_saying_who_what_and_which_report(audited):
    lines = audited["lines"]
    assessed = [e for e in lines if e["event"] == "assessment"]
    assert [(e["principal"], e["via"]) for e in assessed] == [
        ("alice", "api"), ("alice", "api"), ("alice", "batch"), ("bob", "form"),
        ("bob", "form")]
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
    assert "format" not in assessed[3]  # the form's page: the report itself
    assert assessed[4]["format"] == "docx"  # the form's download, with what was sent
    assert assessed[4]["sent_sha256"] == hashlib.sha256(audited["form_docx"]).hexdigest()


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


def _in_process(tmp_path, **settings_args):
    from starlette.testclient import TestClient

    from riskassess.law.ruleset import default_rules_dir
    from riskassess.serve.app import build
    from riskassess.serve.audit import AuditLog
    from riskassess.serve.guard import Settings, allowed_hosts
    from riskassess.serve.service import Service

    audit = AuditLog(tmp_path / "audit.jsonl")
    settings = Settings("127.0.0.1", 80, allowed_hosts("127.0.0.1", []), audit=audit,
                        **settings_args)
    return TestClient(build(Service(default_rules_dir()), settings),
                      base_url="http://127.0.0.1"), audit


def test_no_assessment_is_given_without_its_audit_line(tmp_path, monkeypatch):
    """A full disk used to leave assessments answered 200 with no trace, and a line cut
    in two that the next one ran into. Now the assessment is refused (503) while its line
    cannot be written, /readyz says so, and a cut line is ended before the next."""
    import errno

    from riskassess.serve import audit as audit_module

    c, audit = _in_process(tmp_path)
    real_write = os.write

    def disk_full(fd, data):
        if fd == audit.fd:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(audit_module.os, "write", disk_full)
    r = c.post("/v1/assessments", content=case_bytes(), headers=YAML)
    assert r.status_code == 503 and r.json()["type"].endswith(":audit-unavailable")
    assert FREE_TEXT not in r.text and b"persecution" not in r.content
    assert c.get("/readyz").status_code == 503

    def half(fd, data):
        return real_write(fd, data[: len(data) // 2]) if fd == audit.fd else \
            real_write(fd, data)

    monkeypatch.setattr(audit_module.os, "write", half)
    assert c.post("/v1/assessments", content=case_bytes(), headers=YAML).status_code == 503
    monkeypatch.setattr(audit_module.os, "write", real_write)
    assert c.post("/v1/assessments", content=case_bytes(), headers=YAML).status_code == 200
    assert c.get("/readyz").status_code == 200
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 2  # the half line, ended; then the whole one on a line of its own
    assert json.loads(lines[1])["event"] == "assessment"


def test_knocking_cannot_fill_the_audit_file(tmp_path):
    """A client without a token once wrote an audit line per request, refused by the brake
    or not (2,700 lines in 10 s). Wrong tokens are recorded as the brake lets them be
    compared; its own refusals once a minute per address."""
    c, _ = _in_process(tmp_path, token="the-one-token-0123456789")
    for _ in range(200):
        c.get("/v1/rulesets", headers={"authorization": "Bearer wrong-wrong-wrong-1"})
    events = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    whys = [e["why"] for e in events]
    assert whys.count("rate-limited") == 1
    assert whys.count("wrong token") <= 12  # the burst of 10, and what 3 s let through
