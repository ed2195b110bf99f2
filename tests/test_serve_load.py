"""The bounded load test of `riskassess serve` (bench/serve_load.py): 800 assessments from
16 concurrent clients on loopback (50 each, so that every client's requests overlap the
others' for most of the run), every answer checked (status 200, the same bytes as that
example's first answer), and the server stopping cleanly afterwards. It stops by itself;
its figures are printed (pytest -s shows them). The benchmark itself runs 2,000."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parent.parent / "bench" / "serve_load.py"


def test_eight_hundred_assessments_from_sixteen_clients_without_an_error():
    spec = importlib.util.spec_from_file_location("serve_load", BENCH)
    load = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load)
    r = load.run(requests=800, clients=16, limit=600)
    assert r["errors"] == [], r["errors"][:10]
    assert r["requests"] == 800
    assert r["server_exit"] == 0, r["log"][-2000:]
    assert "Traceback" not in r["log"] and "internal error" not in r["log"]
    print(f"\n{r['rps']:.0f} requests/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
          f"peak {r['peak_mib']:.0f} MiB; CLI one case {r['cli_ms']:.0f} ms")
