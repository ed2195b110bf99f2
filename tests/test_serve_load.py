"""The bounded load test of `riskassess serve` (bench/serve_load.py): 2,000 assessments
from 16 concurrent clients on loopback, every answer checked (status 200, the same bytes
as that example's first answer), and the server stopping cleanly afterwards. It stops
by itself; its figures are printed (pytest -s shows them)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "serve_load.py"


def test_two_thousand_assessments_from_sixteen_clients_without_an_error():
    spec = importlib.util.spec_from_file_location("serve_load", BENCH)
    load = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load)
    r = load.run(requests=2000, clients=16, limit=600)
    assert r["errors"] == [], r["errors"][:10]
    assert r["requests"] == 2000
    assert r["server_exit"] == 0, r["log"][-2000:]
    assert "Traceback" not in r["log"] and "internal error" not in r["log"]
    print(f"\n{r['rps']:.0f} requests/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
          f"peak {r['peak_mib']:.0f} MiB; CLI one case {r['cli_ms']:.0f} ms")
