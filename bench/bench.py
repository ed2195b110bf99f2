"""riskassess benchmarks, printed side by side in one run (machines here are shared and noisy).

    pip install -r bench/requirements.txt     # once: the peer engine, bench-only
    python bench/bench.py                     # 1k and 10k; about a minute
    python bench/bench.py --full              # also 100k cases and 100k files

1. Cold start: `riskassess evaluate EXAMPLE --format json` against a bare typer
   hello-world in the same environment, run alternately; medians and their ratio.
2. Engine: cases per second for validate + evaluate + serialise (JSON) of already-parsed
   case dictionaries, at growing sizes (cost should grow linearly), next to the same
   decision logic written as `rule-engine` expressions (PyPI), as a ratio.
3. YAML parsing alone (riskassess's reader, and PyYAML's C loader for reference), and
   end-to-end batch throughput and peak memory for folders of generated case files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from riskassess.case import UNKNOWN  # noqa: E402
from riskassess.engine import domains, evaluate  # noqa: E402
from riskassess.ruleset import choose_edition, load_catalog, load_ruleset  # noqa: E402
from riskassess.vocabulary import load_vocabulary  # noqa: E402
from riskassess.yamlio import parse_yaml_bytes  # noqa: E402

VOCAB = load_vocabulary(ROOT / "rules" / "syria")  # the facts and the case model, from YAML
FACTS = VOCAB.testable
_DOMAINS = domains(VOCAB)
Case = VOCAB.case_model

EXAMPLE = ROOT / "examples" / "daraa-conscript-amnesty.yaml"
DAY = dt.date(2024, 6, 1)


def tool() -> list[str]:
    exe = Path(sys.executable).parent / "riskassess"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "riskassess"]


def cold_start(pairs: int) -> None:
    ours = tool() + ["evaluate", str(EXAMPLE), "--format", "json"]
    hello = [sys.executable, str(ROOT / "bench" / "hello.py")]
    times: dict[str, list[float]] = {"riskassess evaluate": [], "typer hello-world": []}
    for _ in range(pairs):  # alternate, so that load changes hit both alike
        for name, cmd in (("riskassess evaluate", ours), ("typer hello-world", hello)):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"1. cold start, median of {pairs} alternating runs:")
    for name, value in med.items():
        print(f"     {name:22s} {value * 1000:8.1f} ms")
    ratio = med["riskassess evaluate"] / med["typer hello-world"]
    print(f"     ratio                  {ratio:8.2f}")


def case_dicts(n: int, seed: int = 7, unknown_share: float = 0.1) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        applicant = {}
        for path, spec in FACTS.items():
            key = path.split(".", 1)[1]
            if spec.kind == "date":
                applicant[key] = rng.choice(["2012", "2013-04", "2016-08-03", UNKNOWN])
                continue
            value = rng.choice(list(_DOMAINS[path]))
            if rng.random() < unknown_share:
                value = UNKNOWN
            applicant[key] = sorted(value) if isinstance(value, frozenset) else value
        if applicant["military_status"] in ("draft_evader", "never_served"):
            for path in VOCAB.given_only_if:  # facts only deserters and defectors have
                applicant[path.split(".", 1)[1]] = UNKNOWN
        for imp in VOCAB.implications:  # a value one fact forces on another (must_be)
            key, when = imp.fact.split(".", 1)[1], imp.when_fact.split(".", 1)[1]
            if imp.broken_by(applicant[key], applicant[when]):
                applicant[key] = imp.value
        out.append({"case_id": f"BENCH-{len(out)}", "assessment_date": DAY.isoformat(),
                    "applicant": applicant})
    return out


def engine(sizes: list[int]) -> float:
    rs = load_ruleset(ROOT / "rules" / "euaa-syria-2024")
    catalog, _ = load_catalog(ROOT / "rules")
    choice = choose_edition(catalog, DAY)
    print("2. engine: validate + evaluate + JSON, already-parsed case dictionaries "
          "(10% of facts unknown):")
    rate = 0.0
    for n in sizes:
        data = case_dicts(n)
        rs.cache.clear()
        start = time.perf_counter()
        for d in data:
            case = Case.model_validate(d)
            evaluate(case, rs, choice, case.assessment_date).model_dump_json()
        elapsed = time.perf_counter() - start
        rate = n / elapsed
        print(f"     {n:>7d} cases  {elapsed:7.2f} s  {rate:9.0f} cases/s")
    return rate


# The same decisions as rules/euaa-syria-2024, written as rule-engine expressions: each
# question's outcome by first match, and the lists by the rules that add to them. This
# covers known facts only: rule-engine has no notion of an unknown fact.
PEER = {
    "applicability": [("military_status in ['deserter', 'defector']", "in_profile"),
                      ("military_status == 'draft_evader'", "outside_profile"),
                      ("military_status == 'never_served'", "outside_profile")],
    "bases": [("military_status in ['deserter', 'defector']", "art_9_1_severe_acts"),
              ("military_status in ['deserter', 'defector'] and force == 'armed_forces'",
               "art_9_2_e"),
              ("military_status in ['deserter', 'defector'] and conscientious_objection "
               "in ['religious', 'moral', 'political']", "art_9_1_conscientious_objection")],
    "enhancing": [("military_status in ['deserter', 'defector'] and rank == 'officer'",
                   "officer_rank"),
                  ("military_status in ['deserter', 'defector'] and desertion_type == 'external'",
                   "external_desertion"),
                  ("military_status == 'defector'", "joined_opposition"),
                  ("military_status in ['deserter', 'defector'] and fought_against_government",
                   "fought_against_government")],
    "non_reducing": [("military_status in ['deserter', 'defector'] and reconciliation_status "
                      "== 'amnesty_surrender'", "amnesty_surrender"),
                     ("military_status in ['deserter', 'defector'] and reconciliation_status "
                      "== 'settled'", "reconciliation_settlement")],
    "grounds": [("military_status in ['deserter', 'defector']", "political_opinion"),
                ("military_status in ['deserter', 'defector'] and conscientious_objection in "
                 "['religious', 'moral', 'political']", "religion")],
    "exclusion": [("military_status in ['deserter', 'defector'] and exclusion_indicators.length "
                   "> 0", "examination_indicated"),
                  ("military_status in ['deserter', 'defector']", "could_be_relevant"),
                  ("true", "not_assessed")],
}


def peer(n: int) -> float | None:
    try:
        import rule_engine
    except ImportError:
        print("   peer: rule-engine is not installed (pip install -r bench/requirements.txt)")
        return None
    compiled = {k: [(rule_engine.Rule(e), v) for e, v in rules] for k, rules in PEER.items()}
    data = [d["applicant"] for d in case_dicts(n, unknown_share=0.0)]
    for d in data:
        d["fought_against_government"] = bool(d["fought_against_government"])
    start = time.perf_counter()
    for facts in data:
        result = {}
        for key, rules in compiled.items():
            if key in ("applicability", "exclusion"):
                result[key] = next((v for r, v in rules if r.matches(facts)), None)
            else:
                result[key] = [v for r, v in rules if r.matches(facts)]
    elapsed = time.perf_counter() - start
    rate = n / elapsed
    print(f"   peer: rule-engine, the same decisions (outcomes and lists only, known facts), "
          f"{n} cases: {rate:9.0f} cases/s")
    return rate


def yaml_parsing(n: int) -> None:
    import yaml

    texts = [EXAMPLE.read_bytes()] * n
    start = time.perf_counter()
    for raw in texts:
        parse_yaml_bytes(raw, "bench.yaml")
    ours = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for raw in texts:
        yaml.load(raw, Loader=yaml.CSafeLoader)
    plain = n / (time.perf_counter() - start)
    print(f"3. YAML parsing alone, {n} small case files: riskassess reader {ours:8.0f} docs/s "
          f"(positions, duplicate keys, strict typing); PyYAML CSafeLoader {plain:8.0f} docs/s")


def end_to_end(sizes: list[int]) -> None:
    import yaml

    print("   end to end: `riskassess evaluate FOLDER --format jsonl -o FILE` "
          "(read, validate, evaluate, write):")
    timer = shutil.which("time") or "/usr/bin/time"
    for n in sizes:
        folder = Path(tempfile.mkdtemp(prefix=f"riskassess-bench-{n}-"))
        try:
            for i, d in enumerate(case_dicts(n, seed=11)):
                sub = folder / f"{i // 1000:03d}"
                sub.mkdir(exist_ok=True)
                (sub / f"case-{i:06d}.yaml").write_text(yaml.safe_dump(d), encoding="utf-8")
            out = folder / "reports.jsonl"
            start = time.perf_counter()
            proc = subprocess.run([timer, "-f", "%M"] + tool() + [
                "evaluate", str(folder), "--format", "jsonl", "-o", str(out)],
                capture_output=True, text=True, cwd=ROOT)
            elapsed = time.perf_counter() - start
            peak_kib = int(proc.stderr.strip().splitlines()[-1])
            lines = sum(1 for _ in out.open())
            print(f"     {n:>7d} files  {elapsed:7.2f} s  {n / elapsed:8.0f} cases/s  "
                  f"peak memory {peak_kib / 1024:6.1f} MiB  ({lines} reports)")
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also 100k cases and 100k files")
    parser.add_argument("--pairs", type=int, default=9)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}")
    cold_start(args.pairs)
    ours = engine([1_000, 10_000] + ([100_000] if args.full else []))
    theirs = peer(10_000)
    if theirs:
        print(f"   ratio: riskassess (full reports with reasons, citations and open questions) "
              f"/ peer (outcomes only) = {ours / theirs:.2f}")
    yaml_parsing(5_000)
    end_to_end([10_000] + ([100_000] if args.full else []))


if __name__ == "__main__":
    main()
