"""A bounded load test of `riskassess serve`, on loopback only, beside the CLI's time.

    python bench/serve_load.py [--requests 2000] [--clients 16]

It starts the server on a free loopback port, sends every example once to learn its
report, then sends REQUESTS assessments (the examples in turn) from CLIENTS threads,
each on its own keep-alive connection, and checks every answer: status 200 and the same
bytes as that example's first answer. It prints requests/s, p50 and p99 latency, the
server's peak memory (VmHWM), and, measured in the same run, the time of one
`riskassess evaluate CASE -f json` (cold process, compiled rules cached). It stops by
itself: after REQUESTS answers, or after --limit seconds.

The clients run on the same (two-core) machine as the server, so they take part of
its CPU: the figures are a floor for the server, not a ceiling.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TODAY = "2026-12-01"


def start(env: dict[str, str]) -> tuple[subprocess.Popen, int, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "riskassess", "serve", "--port", "0",
                             "--today", TODAY], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    lines: list[str] = []
    ready = threading.Event()
    port = [0]

    def drain() -> None:
        for line in proc.stderr:
            lines.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                port[0] = int(m.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(90) or not port[0]:
        proc.kill()
        raise RuntimeError("the server did not start:\n" + "".join(lines))
    return proc, port[0], lines


def post(conn: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
    conn.request("POST", "/v1/assessments", body=body,
                 headers={"content-type": "application/yaml"})
    r = conn.getresponse()
    return r.status, r.read()


def peak_memory_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def cli_time(case: Path, env: dict[str, str], runs: int = 7) -> float:
    """The median wall time of one `riskassess evaluate CASE -f json`, in seconds."""
    cmd = [str(Path(sys.executable).with_name("riskassess")), "evaluate", str(case),
           "-f", "json", "--today", TODAY]
    if not Path(cmd[0]).exists():
        cmd = [sys.executable, "-m", "riskassess", *cmd[1:]]
    subprocess.run(cmd, env=env, capture_output=True, check=True)  # writes the cache
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(requests: int = 2000, clients: int = 16, limit: float = 600.0,
        sequential: int = 200) -> dict:
    cases = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
    bodies = [p.read_bytes() for p in cases]
    cache = tempfile.mkdtemp(prefix="riskassess-bench-cache-")
    os.chmod(cache, 0o700)
    env = {**os.environ, "RISKASSESS_CACHE_DIR": cache}
    proc, port, log = start(env)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        expected = []
        for body in bodies:
            status, data = post(conn, body)
            if status != 200:
                raise RuntimeError(f"warm-up answer {status}: {data[:300]!r}")
            expected.append(data)
        one: list[float] = []  # one client, one request at a time: a single case's latency
        for i in range(sequential):
            t = time.perf_counter()
            status, data = post(conn, bodies[i % len(bodies)])
            one.append(time.perf_counter() - t)
            if status != 200 or data != expected[i % len(bodies)]:
                raise RuntimeError(f"sequential answer {i}: status {status}")
        conn.close()
        one.sort()
        rss_before = peak_memory_kib(proc.pid)
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        counter = iter(range(requests))
        deadline = time.monotonic() + limit

        def client() -> None:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine: list[float] = []
            try:
                while time.monotonic() < deadline:
                    with lock:
                        i = next(counter, None)
                    if i is None:
                        break
                    body = bodies[i % len(bodies)]
                    t = time.perf_counter()
                    try:
                        status, data = post(c, body)
                    except (OSError, http.client.HTTPException) as exc:
                        with lock:
                            errors.append(f"request {i}: {type(exc).__name__}")
                        c.close()
                        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                        continue
                    mine.append(time.perf_counter() - t)
                    same = data == expected[i % len(bodies)]
                    if status != 200 or not same:
                        with lock:
                            errors.append(f"request {i}: status {status}, "
                                          f"{'same' if same else 'different'} bytes")
            finally:
                c.close()
                with lock:
                    latencies.extend(mine)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        start_t = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start_t
        peak = peak_memory_kib(proc.pid)
    finally:
        proc.terminate()
        code = proc.wait(60)
    latencies.sort()
    done = len(latencies)
    single = cli_time(cases[0], env)
    return {
        "requests": done, "clients": clients, "errors": errors, "seconds": wall,
        "rps": done / wall if wall else 0.0,
        "p50_ms": 1000 * latencies[done // 2] if done else 0.0,
        "p99_ms": 1000 * latencies[min(done - 1, int(done * 0.99))] if done else 0.0,
        "peak_mib": peak / 1024, "before_mib": rss_before / 1024,
        "cli_ms": 1000 * single, "server_exit": code, "log": "".join(log),
        "one_p50_ms": 1000 * one[len(one) // 2] if one else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--limit", type=float, default=600.0)
    args = parser.parse_args()
    r = run(args.requests, args.clients, args.limit)
    print(f"serve: {r['requests']:,} assessments (JSON) from {r['clients']} clients in "
          f"{r['seconds']:.1f} s: {r['rps']:,.0f} requests/s; latency p50 {r['p50_ms']:.1f} ms, "
          f"p99 {r['p99_ms']:.1f} ms; errors {len(r['errors'])}")
    print(f"server memory: peak {r['peak_mib']:.0f} MiB (after warm-up {r['before_mib']:.0f} "
          f"MiB); exit {r['server_exit']} on SIGTERM")
    print(f"one case: CLI (riskassess evaluate CASE -f json, cold process, rules cached) "
          f"{r['cli_ms']:.0f} ms; the service, one client at a time, p50 "
          f"{r['one_p50_ms']:.1f} ms ({r['cli_ms'] / r['one_p50_ms']:.0f}x less); under load, "
          f"{1000 / r['rps']:.1f} ms of the server per request" if r["one_p50_ms"] else "")
    for e in r["errors"][:10]:
        print("error:", e)
    sys.exit(1 if r["errors"] else 0)


if __name__ == "__main__":
    main()
