"""`riskassess serve` under strain: a renderer's failure answered for its request only, a
burst of assessments queued for the slots (not refused), /readyz and /metrics.

What a client sees is tested through a real server (tests/serving.py) and a real client
(httpx). A renderer that fails cannot be made to fail from a case file (the PDF lays out
any free text the case file allows), so its failures are forced in-process, by
monkeypatching the renderer, with Starlette's TestClient on the same application."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from urllib.parse import urlencode

import httpx
import pytest
from conftest import EXAMPLES
from serving import Server

from riskassess.io.reader import read_yaml_file

YAML = {"content-type": "application/yaml"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
EXAMPLE = EXAMPLES / "defector-designated-group.yaml"
# a free-text fact (kind: text in the vocabulary) of about 3,000 characters
LONG = ("He left his unit at night with two others and crossed three checkpoints on foot "
        "before reaching the border; ") * 28
LONG = LONG[:3000]


def long_case() -> bytes:
    return EXAMPLE.read_bytes() + f"  defection_manner: {LONG!r}\n".encode()


def form_pairs(csrf: str, extra: str = LONG) -> list[tuple[str, str]]:
    """The example's facts as the form posts them, with the long free text."""
    data = read_yaml_file(EXAMPLE).data
    out = [("csrf", csrf), ("case_id", data["case_id"]),
           ("assessment_date", str(data["assessment_date"]))]
    for key, value in data["applicant"].items():
        name = f"applicant.{key}"
        if isinstance(value, list):
            out += [(name, "listed")] + [(name + ":item", v) for v in value]
        elif isinstance(value, bool):
            out.append((name, "true" if value else "false"))
        else:
            out.append((name, str(value)))
    return out + [("applicant.defection_manner", extra)]


def opened_form(c) -> str:
    page = c.get("/")
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# ------------------------------------------------------------------ the renderers


def test_a_long_free_text_gives_a_pdf_from_the_api_and_from_the_form(server):
    from pypdf import PdfReader

    with httpx.Client(base_url=server.base, timeout=120) as c:
        r = c.post("/v1/assessments?format=pdf", content=long_case(), headers=YAML)
        assert r.status_code == 200, r.text[:500]
        assert r.headers["content-type"] == "application/pdf"
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
        assert "crossed three checkpoints" in text
    with httpx.Client(base_url=server.base, timeout=120,
                      headers={"origin": server.base}) as c:
        csrf = opened_form(c)
        for fmt, magic in (("pdf", b"%PDF"), ("docx", b"PK")):
            r = c.post("/", content=urlencode(form_pairs(csrf) + [("action", fmt)]).encode(),
                       headers=FORM)
            assert r.status_code == 200 and r.content.startswith(magic), r.text[:300]
    assert "internal error" not in server.log()


@pytest.fixture(scope="module")
def in_process():
    """The application itself, in this process (so that a renderer can be made to fail),
    with its log records."""
    from starlette.testclient import TestClient

    from riskassess.law.ruleset import default_rules_dir
    from riskassess.serve.app import build
    from riskassess.serve.guard import Settings, allowed_hosts
    from riskassess.serve.service import Service

    settings = Settings(host="127.0.0.1", port=8765,
                        allowed_hosts=allowed_hosts("127.0.0.1", []))
    service = Service(default_rules_dir(), today=dt.date(2026, 12, 1))
    with TestClient(build(service, settings), base_url="http://127.0.0.1:8765",
                    raise_server_exceptions=False) as c:
        c.service = service
        yield c


def fail_layout(monkeypatch):
    """The PDF's layout fails as reportlab fails (its message quoting the case's text):
    the renderer explains it as a DocumentError."""
    from reportlab.platypus import LayoutError

    from riskassess.render import pdf

    def failing(doc, annex=True):
        raise LayoutError("Flowable <Paragraph 'SECRET-FACT'> too large on page 3")

    monkeypatch.setattr(pdf, "render", failing)


def fail_unexpectedly(monkeypatch, fmt: str):
    """A renderer with a bug: it raises what nobody expects, quoting the case."""
    import importlib

    from riskassess.render import formats

    module = importlib.import_module(formats.get(fmt).render.partition(":")[0])

    def failing(outcome, options):
        raise ValueError("SECRET-FACT")

    monkeypatch.setattr(module, "render_outcome", failing)


def test_a_document_the_renderer_refuses_is_a_422_for_that_request_only(
        in_process, monkeypatch, caplog):
    c = in_process
    fail_layout(monkeypatch)
    body = problem(c.post("/v1/assessments?format=pdf", content=long_case(),
                          headers=YAML), 422)
    assert body["type"] == "urn:riskassess:problem:document-not-made"
    assert body["exit_code"] == 6
    assert "its PDF document cannot be made: a part of it is too large to lay out" \
        in body["detail"]
    assert "SECRET" not in str(body)
    # the same case in another format, and the next request, are answered
    assert c.post("/v1/assessments?format=docx", content=long_case(),
                  headers=YAML).status_code == 200
    assert c.post("/v1/assessments", content=long_case(), headers=YAML).status_code == 200
    # the form's PDF button: the form again, its entries kept, the reason at the top
    csrf = opened_form(c)
    r = c.post("/", content=urlencode(form_pairs(csrf, "KEPT-ENTRY") + [("action", "pdf")]),
               headers={**FORM, "origin": "http://127.0.0.1:8765"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "The document cannot be made" in r.text and "its PDF document cannot be made" \
        in r.text
    assert "KEPT-ENTRY" in r.text
    assert "SECRET" not in caplog.text


@pytest.mark.parametrize("fmt", ["pdf", "docx", "markdown", "html"])
def test_a_renderer_that_fails_unexpectedly_is_a_500_logged_by_place(
        in_process, monkeypatch, caplog, fmt):
    c = in_process
    fail_unexpectedly(monkeypatch, fmt)
    with caplog.at_level(logging.INFO, logger="riskassess.serve"):
        body = problem(c.post(f"/v1/assessments?format={fmt}", content=long_case(),
                              headers=YAML), 500)
        assert body["type"] == "urn:riskassess:problem:renderer-failed"
        assert f"the {fmt} document could not be made" in body["detail"]
        csrf = opened_form(c)
        r = c.post("/", content=urlencode(form_pairs(csrf, "KEPT-ENTRY")
                                          + [("action", fmt)]),
                   headers={**FORM, "origin": "http://127.0.0.1:8765"})
        assert c.post("/v1/assessments", content=long_case(),
                      headers=YAML).status_code == 200
    if fmt in ("pdf", "docx", "markdown"):  # the formats the form has a button for
        assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
        assert "The document cannot be made" in r.text and "KEPT-ENTRY" in r.text
    logged = [rec.getMessage() for rec in caplog.records if "internal error" in
              rec.getMessage()]
    assert logged and all(
        "ValueError at " in m and "test_serve_metrics.py" in m for m in logged), logged
    assert "SECRET" not in caplog.text and "SECRET" not in str(body)
    assert c.service.render_failures[fmt, "renderer-failed"] >= 1


# ------------------------------------------------------------------ the queue


def at_once(base: str, n: int, body: bytes, fmt: str = "pdf") -> list[httpx.Response]:
    """`n` assessments sent together, each from its own client and connection."""
    from concurrent.futures import ThreadPoolExecutor

    gate = __import__("threading").Barrier(n)

    def one(_):
        with httpx.Client(base_url=base, timeout=180) as c:
            c.get("/healthz")  # connected before the others start
            gate.wait()
            return c.post(f"/v1/assessments?format={fmt}", content=body, headers=YAML)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_more_assessments_than_slots_wait_their_turn_and_all_succeed():
    s = Server("--max-concurrent", "1", "--timeout", "120")
    try:
        answers = at_once(s.base, 6, EXAMPLE.read_bytes())
        assert [r.status_code for r in answers] == [200] * 6, \
            [r.text[:200] for r in answers if r.status_code != 200]
        assert all(r.content.startswith(b"%PDF") for r in answers)
        assert "internal error" not in s.log()
    finally:
        assert s.stop() == 0


def test_a_full_queue_refuses_with_503_and_retry_after():
    s = Server("--max-concurrent", "1", "--max-queue", "1", "--timeout", "120")
    try:
        answers = at_once(s.base, 6, long_case())
        statuses = sorted(r.status_code for r in answers)
        assert statuses.count(200) >= 2 and 503 in statuses, statuses
        assert set(statuses) == {200, 503}, statuses
        for r in answers:
            if r.status_code == 503:
                body = problem(r, 503)
                assert body["type"] == "urn:riskassess:problem:queue-full"
                assert "1 more are waiting their turn" in body["detail"]
                assert r.headers["retry-after"] == "1"
            else:
                assert r.content.startswith(b"%PDF")
    finally:
        assert s.stop() == 0


def test_a_request_waits_for_a_slot_no_longer_than_its_deadline():
    import time

    s = Server("--max-concurrent", "1", "--timeout", "2")
    try:
        start = time.monotonic()
        answers = at_once(s.base, 6, long_case())
        took = time.monotonic() - start
        kinds = sorted(problem(r, 503)["type"].rsplit(":", 1)[1] if r.status_code != 200
                       else "ok" for r in answers)
        # six PDFs of about a second or more each cannot all be made in 2 s by one slot
        assert "timeout" in kinds and set(kinds) <= {"ok", "timeout"}, kinds
        assert all(r.headers.get("retry-after") == "1" for r in answers
                   if r.status_code == 503)
        assert took < 2 + 20, took  # the deadline, with a generous margin for this machine
    finally:
        assert s.stop() == 0


# ------------------------------------------------------------ /readyz and /metrics


def metrics_of(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a Prometheus text page."""
    from prometheus_client.parser import text_string_to_metric_families

    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_ready_and_metrics_by_route_template_never_by_path(server):
    with httpx.Client(base_url=server.base, timeout=60) as c:
        r = c.get("/readyz")
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "ready" and "euaa-syria-2024" in body["rulesets"]
        assert body["slots"] == {"in_use": 0, "limit": 16}
        assert body["queue"] == {"length": 0, "limit": 256}
        assert c.post("/v1/assessments", content=EXAMPLE.read_bytes(),
                      headers=YAML).status_code == 200
        assert c.get("/v1/rules/risk.SECRET-ID").status_code == 404
        assert c.get("/healthz", params={"SECRET-Q": "SECRET-V"}).status_code == 400
        assert c.get("/SECRET-PATH").status_code == 404
        r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "SECRET" not in r.text
    m = metrics_of(r.text)
    total = "riskassess_http_requests_total"
    assert m[total, (("method", "POST"), ("route", "/v1/assessments"), ("status", "200"))] >= 1
    assert m[total, (("method", "GET"), ("route", "/v1/rules/{rule_id}"),
                     ("status", "404"))] >= 1
    assert m[total, (("method", "GET"), ("route", "(none)"), ("status", "404"))] >= 1
    assert m[total, (("method", "GET"), ("route", "/healthz"), ("status", "400"))] >= 1
    assert m["riskassess_http_request_duration_seconds_count",
             (("route", "/v1/assessments"),)] >= 1
    assert m["riskassess_slots_in_use", ()] == 0 and m["riskassess_slots", ()] == 16
    assert m["riskassess_queue_length", ()] == 0 and m["riskassess_queue_limit", ()] == 256
    for kind in ("busy", "queue-full", "timeout"):
        assert ("riskassess_refusals_total", (("kind", kind),)) in m
    assert "# TYPE riskassess_renderer_failures_total counter" in r.text


def test_metrics_need_the_token_and_readyz_does_not():
    token = "a-long-enough-test-token-0123456789"
    s = Server(env={"RISKASSESS_TOKEN": token})
    try:
        with httpx.Client(base_url=s.base, timeout=60) as c:
            assert c.get("/readyz").status_code == 200
            assert problem(c.get("/metrics"), 401)["type"].endswith(":unauthorized")
            r = c.get("/metrics", headers={"authorization": f"Bearer {token}"})
            assert r.status_code == 200 and "riskassess_slots_in_use" in r.text
    finally:
        assert s.stop() == 0


def test_readyz_is_503_while_the_queue_is_full_and_refusals_are_counted():
    import threading
    import time

    s = Server("--max-concurrent", "1", "--max-queue", "1", "--timeout", "120")
    try:
        answers: list[httpx.Response] = []
        burst = threading.Thread(target=lambda: answers.extend(
            at_once(s.base, 4, long_case())))
        burst.start()
        seen = None
        with httpx.Client(base_url=s.base, timeout=60) as c:
            end = time.monotonic() + 60
            while burst.is_alive() and time.monotonic() < end:
                r = c.get("/readyz")
                if r.status_code == 503:
                    seen = problem(r, 503)
                    break
                time.sleep(0.02)
            burst.join()
            assert seen is not None, "the queue was never seen full"
            assert seen["type"].endswith(":not-ready") and r.headers["retry-after"] == "1"
            assert seen["slots"] == {"in_use": 1, "limit": 1}
            assert seen["queue"] == {"length": 1, "limit": 1}
            assert c.get("/readyz").status_code == 200  # and ready again afterwards
            m = metrics_of(c.get("/metrics").text)
        refused = sum(r.status_code == 503 for r in answers)
        assert refused >= 1 and m["riskassess_refusals_total", (("kind", "queue-full"),)] \
            == refused
    finally:
        assert s.stop() == 0


def test_renderer_failures_are_counted(in_process, monkeypatch):
    c = in_process
    fail_layout(monkeypatch)
    before = metrics_of(c.get("/metrics").text)
    key = ("riskassess_renderer_failures_total",
           (("format", "pdf"), ("kind", "document-not-made")))
    assert c.post("/v1/assessments?format=pdf", content=EXAMPLE.read_bytes(),
                  headers=YAML).status_code == 422
    after = metrics_of(c.get("/metrics").text)
    assert after[key] == before.get(key, 0) + 1


def test_other_commands_do_not_import_prometheus_client():
    import subprocess
    import sys

    code = ("import sys\nfrom riskassess.cli.app import main\n"
            "try:\n"
            f"    main(['evaluate', {str(EXAMPLE)!r}, '-f', 'pdf', '-o', '/dev/null', "
            "'--today', '2026-12-01'])\n"
            "except SystemExit:\n    pass\n"
            "sys.stderr.write(repr('prometheus_client' in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    assert r.stderr.endswith("False"), r.stderr[-500:]
