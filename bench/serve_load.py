"""A bounded load test of `riskassess serve`, on loopback only, beside the CLI's time.

    python bench/serve_load.py [--requests 2000] [--clients 64] [--slow 100]
                               [--documents 200] [--doc-clients 16]

It starts the server on a free loopback port (its default 16 slots and queue of 256),
sends every example once to learn its report, then sends REQUESTS assessments (the
examples in turn) from CLIENTS threads, each on its own keep-alive connection, while SLOW
other connections trickle a request's headers at one byte a second (each reconnecting
when the server closes it), and checks every answer: status 200 and the same bytes as
that example's first answer. More clients than slots must wait their turn, not be
refused: any other answer is an error. It prints the errors, the share of answers within
the server's --timeout, requests/s, p50 and p99 latency and the server's peak memory
(VmHWM); then DOCUMENTS requests for Word and PDF (alternating) from DOC_CLIENTS threads,
checked the same way, and the peak memory after them; and, measured in the same run, the
time of one `riskassess evaluate CASE -f json` (cold process, compiled rules cached). It
stops by itself: after the requests, or after --limit seconds for each run.

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


def post(conn: http.client.HTTPConnection, body: bytes,
         path: str = "/v1/assessments") -> tuple[int, bytes]:
    conn.request("POST", path, body=body,
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


TIMEOUT = 30.0  # the server's --timeout (its default): the time an answer is due within


def slow_headers(port: int, n: int, stop: threading.Event, closed: list[int]) -> None:
    """Hold `n` connections that send a request's headers one byte a second; one the server
    closes is counted in closed[0] and opened again."""
    import socket

    line = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode() + \
        b"a" * 10_000

    def connect() -> tuple[socket.socket, int] | None:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5), 0
        except OSError:
            return None

    conns = [connect() for _ in range(n)]
    while not stop.wait(1.0):
        for i, held in enumerate(conns):
            if held is None:
                conns[i] = connect()
                continue
            sock, sent = held
            try:
                sock.sendall(line[sent:sent + 1])
                conns[i] = (sock, sent + 1)
            except OSError:
                sock.close()
                closed[0] += 1
                conns[i] = connect()
    for held in conns:
        if held is not None:
            held[0].close()


def burst(port: int, bodies: list[bytes], expected: list[bytes], requests: int, clients: int,
          limit: float, path: str = "/v1/assessments") -> tuple[list[float], list[str], float]:
    """`requests` posts of `bodies` in turn from `clients` threads (each on its own kept-alive
    connection), each answer checked: (latencies, errors, wall time)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + limit

    def client() -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
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
                    status, data = post(c, body, path)
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        errors.append(f"request {i}: {type(exc).__name__}")
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
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
    latencies.sort()
    return latencies, errors, time.perf_counter() - start_t


def _pct(latencies: list[float], q: float) -> float:
    return 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * q))] \
        if latencies else 0.0


def run(requests: int = 2000, clients: int = 64, limit: float = 600.0,
        sequential: int = 200, slow: int = 100, documents: int = 200,
        doc_clients: int = 16, cli: bool = True) -> dict:
    cases = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
    bodies = [p.read_bytes() for p in cases]
    cache = tempfile.mkdtemp(prefix="riskassess-bench-cache-")
    os.chmod(cache, 0o700)
    env = {**os.environ, "RISKASSESS_CACHE_DIR": cache}
    proc, port, log = start(env)
    stop = threading.Event()
    closed = [0]
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
        one.sort()
        conn.close()
        rss_before = peak_memory_kib(proc.pid)
        trickle = threading.Thread(target=slow_headers, args=(port, slow, stop, closed),
                                   daemon=True)
        trickle.start()
        time.sleep(min(2.0, 0.02 * slow))  # the slow connections open first
        latencies, errors, wall = burst(port, bodies, expected, requests, clients, limit)
        stop.set()
        trickle.join(10)
        peak = peak_memory_kib(proc.pid)
        # documents: Word and PDF in turn, each checked against its first answer
        doc_bodies, doc_expected = [], []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for k, body in enumerate(bodies[:8]):
            fmt = ("docx", "pdf")[k % 2]
            status, data = post(conn, body, f"/v1/assessments?format={fmt}")
            if status != 200:
                raise RuntimeError(f"document warm-up answer {status}: {data[:300]!r}")
            doc_bodies.append((body, fmt))
            doc_expected.append(data)
        conn.close()
        doc_latencies, doc_errors, doc_wall = ([], [], 0.0)
        if documents:
            doc_latencies, doc_errors, doc_wall = burst_documents(
                port, doc_bodies, doc_expected, documents, doc_clients, limit)
        doc_peak = peak_memory_kib(proc.pid)
    finally:
        stop.set()
        proc.terminate()
        code = proc.wait(60)
    done = len(latencies)
    single = cli_time(cases[0], env) if cli else 0.0
    return {
        "requests": done, "clients": clients, "errors": errors, "seconds": wall,
        "rps": done / wall if wall else 0.0, "slow": slow, "slow_closed": closed[0],
        "within_timeout": (sum(t <= TIMEOUT for t in latencies) - len(errors)) / requests
        if requests else 1.0,
        "p50_ms": _pct(latencies, 0.5), "p99_ms": _pct(latencies, 0.99),
        "peak_mib": peak / 1024, "before_mib": rss_before / 1024,
        "documents": len(doc_latencies), "doc_clients": doc_clients, "doc_errors": doc_errors,
        "doc_rps": len(doc_latencies) / doc_wall if doc_wall else 0.0,
        "doc_p50_ms": _pct(doc_latencies, 0.5), "doc_p99_ms": _pct(doc_latencies, 0.99),
        "doc_peak_mib": doc_peak / 1024,
        "cli_ms": 1000 * single, "server_exit": code, "log": "".join(log),
        "one_p50_ms": 1000 * one[len(one) // 2] if one else 0.0,
    }


def burst_documents(port, doc_bodies, doc_expected, requests, clients, limit):
    """`burst` for documents: each body is sent for its own format."""
    paths = {fmt for _, fmt in doc_bodies}
    out_l, out_e, wall = [], [], 0.0
    for fmt in sorted(paths):  # half the requests for each format, one burst each
        mine = [(b, e) for (b, f), e in zip(doc_bodies, doc_expected, strict=True)
                if f == fmt]
        latencies, errors, w = burst(port, [b for b, _ in mine], [e for _, e in mine],
                                     requests // len(paths), clients, limit,
                                     f"/v1/assessments?format={fmt}")
        out_l += latencies
        out_e += [f"{fmt} {e}" for e in errors]
        wall += w
    out_l.sort()
    return out_l, out_e, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--slow", type=int, default=100,
                        help="connections sending their headers at one byte a second")
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--doc-clients", type=int, default=16)
    parser.add_argument("--limit", type=float, default=600.0)
    parser.add_argument("--no-cli", action="store_true", help="leave out the CLI's time")
    args = parser.parse_args()
    r = run(args.requests, args.clients, args.limit, slow=args.slow,
            documents=args.documents, doc_clients=args.doc_clients, cli=not args.no_cli)
    print(f"serve: {r['requests']:,} assessments (JSON) from {r['clients']} clients, "
          f"{r['slow']} slow-header connections held alongside, in {r['seconds']:.1f} s: "
          f"{r['rps']:,.0f} requests/s; latency p50 {r['p50_ms']:.1f} ms, "
          f"p99 {r['p99_ms']:.1f} ms; errors {len(r['errors'])}; answered within "
          f"{TIMEOUT:g} s: {100 * r['within_timeout']:.1f}%; slow connections closed by "
          f"the server: {r['slow_closed']}")
    print(f"server memory: peak {r['peak_mib']:.0f} MiB (after warm-up {r['before_mib']:.0f} "
          f"MiB); exit {r['server_exit']} on SIGTERM")
    print(f"documents: {r['documents']:,} (Word and PDF, half each) from {r['doc_clients']} "
          f"clients: {r['doc_rps']:,.1f} requests/s; latency p50 {r['doc_p50_ms']:.0f} ms, "
          f"p99 {r['doc_p99_ms']:.0f} ms; errors {len(r['doc_errors'])}; server peak memory "
          f"with documents {r['doc_peak_mib']:.0f} MiB")
    print(f"one case: CLI (riskassess evaluate CASE -f json, cold process, rules cached) "
          f"{r['cli_ms']:.0f} ms; the service, one client at a time, p50 "
          f"{r['one_p50_ms']:.1f} ms ({r['cli_ms'] / r['one_p50_ms']:.0f}x less); under load, "
          f"{1000 / r['rps']:.1f} ms of the server per request"
          if r["one_p50_ms"] and r["rps"] and r["cli_ms"] else "")
    for e in (r["errors"] + r["doc_errors"])[:10]:
        print("error:", e)
    sys.exit(1 if r["errors"] or r["doc_errors"] else 0)


if __name__ == "__main__":
    main()
