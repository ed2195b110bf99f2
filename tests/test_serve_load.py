"""The bounded load test of `riskassess serve` (bench/serve_load.py), in seconds: 400
assessments from 32 concurrent clients, twice the service's 16 slots, so that a burst must
wait its turn rather than be refused (every answer checked: status 200, the same bytes as
that example's first answer), while 10 connections trickle their headers at one byte a
second; then Word and PDF documents from 4 clients, checked the same way; and the server
stopping cleanly afterwards. Its figures are printed (pytest -s shows them). The benchmark
itself runs 2,000 assessments from 64 clients beside 100 slow connections."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parent.parent / "bench" / "serve_load.py"


def test_a_burst_of_more_clients_than_slots_is_answered_without_an_error():
    spec = importlib.util.spec_from_file_location("serve_load", BENCH)
    load = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load)
    r = load.run(requests=400, clients=32, limit=300, sequential=20, slow=10, documents=8,
                 doc_clients=4, cli=False)
    assert r["errors"] == [], r["errors"][:10]
    assert r["doc_errors"] == [], r["doc_errors"][:10]
    assert r["requests"] == 400 and r["documents"] == 8 and r["within_timeout"] == 1.0
    assert r["server_exit"] == 0, r["log"][-2000:]
    assert "Traceback" not in r["log"] and "internal error" not in r["log"]
    assert "Exceeded concurrency limit" not in r["log"]
    print(f"\n{r['rps']:.0f} requests/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
          f"peak {r['peak_mib']:.0f} MiB; documents p50 {r['doc_p50_ms']:.0f} ms, peak "
          f"{r['doc_peak_mib']:.0f} MiB")
