"""riskassess benchmarks, printed side by side in one run (machines here are shared and noisy).

    python bench/bench.py            # quick: 9 start-up pairs, 1k and 10k cases
    python bench/bench.py --full     # also 100k cases

1. Cold start: `riskassess evaluate EXAMPLE --format json` against a bare typer
   hello-world, run alternately; medians and their ratio.
2. Engine: cases per second for evaluate + JSON serialisation of already-parsed cases
   (a mix of fully known and partly unknown cases), at growing sizes, to show the cost
   grows linearly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from riskassess.case import FACTS, UNKNOWN, Applicant, Case  # noqa: E402
from riskassess.engine import _DOMAINS, evaluate  # noqa: E402
from riskassess.ruleset import choose_edition, load_catalog, load_ruleset  # noqa: E402

EXAMPLE = ROOT / "examples" / "daraa-conscript-amnesty.yaml"


def cold_start(pairs: int) -> None:
    exe = Path(sys.executable).parent / "riskassess"
    tool = [str(exe)] if exe.exists() else [sys.executable, "-m", "riskassess"]
    tool += ["evaluate", str(EXAMPLE), "--format", "json"]
    hello = [sys.executable, str(ROOT / "bench" / "hello.py")]
    times: dict[str, list[float]] = {"riskassess evaluate": [], "typer hello-world": []}
    for _ in range(pairs):  # alternate, so that load changes hit both alike
        for name, cmd in (("riskassess evaluate", tool), ("typer hello-world", hello)):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"cold start, median of {pairs} alternating runs:")
    for name, value in med.items():
        print(f"  {name:22s} {value * 1000:8.1f} ms")
    print(f"  ratio                  {med['riskassess evaluate'] / med['typer hello-world']:8.2f}")


def generated_cases(n: int, seed: int = 7) -> list[Case]:
    rng = random.Random(seed)
    paths = [p for p, spec in FACTS.items() if spec.kind != "date"]
    cases = []
    for _ in range(n):
        applicant = {}
        for path in paths:
            domain = list(_DOMAINS[path]) + [UNKNOWN]
            value = rng.choice(domain) if rng.random() < 0.9 else UNKNOWN
            if isinstance(value, frozenset):
                value = sorted(value)
            applicant[path.split(".", 1)[1]] = value
        if applicant["military_status"] in ("draft_evader", "never_served"):
            applicant["desertion_type"] = UNKNOWN
        cases.append(Case(assessment_date=dt.date(2024, 6, 1),
                          applicant=Applicant.model_validate(applicant)))
    return cases


def engine(sizes: list[int]) -> None:
    rs = load_ruleset(ROOT / "rules" / "euaa-syria-2024")
    catalog, _ = load_catalog(ROOT / "rules")
    day = dt.date(2024, 6, 1)
    choice = choose_edition(catalog, day)
    print("engine (evaluate + JSON), already-parsed cases, ~10% of facts unknown:")
    for n in sizes:
        cases = generated_cases(n)
        start = time.perf_counter()
        for case in cases:
            evaluate(case, rs, choice, day).model_dump_json()
        elapsed = time.perf_counter() - start
        print(f"  {n:>7d} cases  {elapsed:7.2f} s  {n / elapsed:9.0f} cases/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run 100k cases")
    parser.add_argument("--pairs", type=int, default=9)
    args = parser.parse_args()
    cold_start(args.pairs)
    engine([1_000, 10_000] + ([100_000] if args.full else []))


if __name__ == "__main__":
    main()
