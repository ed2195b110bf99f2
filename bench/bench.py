"""riskassess benchmarks: every figure beside its floor and its target, in one run (the
machines here are shared and noisy, so only ratios measured side by side mean much).

    pip install -r bench/requirements.txt     # once: the peer engine, bench-only
    python bench/bench.py                     # 10k cases and 10k files; a few minutes
    python bench/bench.py --full              # also 100k files (peak memory)

1. Cold start: `riskassess evaluate EXAMPLE > file` (standard output not a terminal, the
   compiled-rules cache warm) against a bare typer hello-world, `python -c pass` and Python
   reading one YAML file with PyYAML's C loader, run alternately; medians and ratios. Also
   the same command with the cache off.
2. Engine, on 10,000 distinct generated cases (riskassess/law/casegen.py), first pass on a
   fresh process state: validate + evaluate + the JSON report; evaluate + JSON alone;
   next to the same decisions as `rule-engine` expressions and as plain Python
   predicates (outcomes and lists only: neither writes reasons, citations or open
   questions).
3. Files: reading 10,000 case files alone, parsing them with PyYAML's C loader alone and
   with riskassess's reader; then `evaluate FOLDER > FILE` (the fast path) and
   `evaluate FOLDER -o FILE` (the full command line) end to end with `--format outcomes`
   and `--format jsonl` (the default --jobs, and --jobs 1: all outputs byte-identical),
   and `compare FOLDER --editions A B`, each with its
   peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from riskassess.law.casegen import case_dicts  # noqa: E402
from riskassess.law.ruleset import shipped_vocabulary as shipped  # noqa: E402

VOCAB = shipped()
EXAMPLE = ROOT / "examples" / "daraa-conscript-amnesty.yaml"
TODAY = "2026-12-01"
TARGETS = {"cold": 1.0, "cold_floor": 2.0, "engine": 30_000, "engine_goal": 50_000,
           "outcomes": 5_000, "jsonl": 2_500, "memory": 100}


def tool() -> list[str]:
    exe = Path(sys.executable).parent / "riskassess"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "riskassess"]


def verdict(ok: bool) -> str:
    return "meets the target" if ok else "MISSES the target"


# ------------------------------------------------------------------ 1. cold start


def cold_start(pairs: int, cache: Path, against: str | None = None) -> None:
    """The cold start beside its floors; with `against` (another riskassess executable, e.g.
    an install of the commit before a change), that one too, in the same alternation and
    with a cache of its own, so that a before and after are measured side by side."""
    env = {**os.environ, "RISKASSESS_CACHE_DIR": str(cache)}
    off = {**os.environ, "RISKASSESS_CACHE_DIR": "off"}
    args = ["evaluate", str(EXAMPLE), "--today", TODAY]
    ours = tool() + args
    runs = {
        "riskassess evaluate (cache warm)": (ours, env),
        "riskassess evaluate (cache off)": (ours, off),
        "typer hello-world": ([sys.executable, str(ROOT / "bench" / "hello.py")], env),
        "python -c pass": ([sys.executable, "-c", "pass"], env),
        # the floor of any tool that reads a YAML case file: Python, PyYAML's C loader, one file
        "python + one YAML file": ([sys.executable, "-c", "import yaml; yaml.load(open("
                                    f"{str(EXAMPLE)!r}, 'rb'), Loader=yaml.CSafeLoader)"], env),
    }
    if against:
        theirs = cache / "against"
        theirs.mkdir(mode=0o700)
        runs["--against (cache warm)"] = ([against, *args],
                                          {**os.environ, "RISKASSESS_CACHE_DIR": str(theirs)})
        # builds its cache
        subprocess.run(runs["--against (cache warm)"][0], check=True,
                       stdout=subprocess.DEVNULL, env=runs["--against (cache warm)"][1])
    subprocess.run(ours, check=True, stdout=subprocess.DEVNULL, env=env)  # builds the cache
    times: dict[str, list[float]] = {name: [] for name in runs}
    with tempfile.TemporaryFile() as sink:  # a file: not a terminal
        for _ in range(pairs):  # alternate, so that load changes hit all alike
            for name, (cmd, e) in runs.items():
                start = time.perf_counter()
                subprocess.run(cmd, check=True, stdout=sink, env=e, cwd=ROOT)
                times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    hello = med["typer hello-world"]
    print(f"1. cold start, median of {pairs} alternating runs, output to a file:")
    for name, value in med.items():
        print(f"     {name:34s} {value * 1000:7.1f} ms   {value / hello:5.2f} x hello-world")
    ratio = med["riskassess evaluate (cache warm)"] / hello
    print(f"     target: at most {TARGETS['cold']:.1f} x hello-world: {ratio:.2f}, "
          f"{verdict(ratio <= TARGETS['cold'])}")
    floor = med["riskassess evaluate (cache warm)"] / med["python + one YAML file"]
    print(f"     target: at most {TARGETS['cold_floor']:.1f} x (python + one YAML file): "
          f"{floor:.2f}, {verdict(floor <= TARGETS['cold_floor'])}")
    if against:
        mine, theirs = times["riskassess evaluate (cache warm)"], times["--against (cache warm)"]
        faster = sum(a < b for a, b in zip(mine, theirs, strict=True))
        share = med["riskassess evaluate (cache warm)"] / med["--against (cache warm)"]
        print(f"     this one / --against: {share:.3f} (faster in {faster} of {pairs} pairs)")


# ---------------------------------------------------------------------- 2. engine


def engine(n: int) -> None:
    from riskassess.assess.core import Assessor
    from riskassess.io.reader import Document
    from riskassess.law.plain import plain_reader, reader_spec

    data = case_dicts(VOCAB, n, seed=2024)
    docs = [Document("<bench>", d) for d in data]
    today = dt.date.fromisoformat(TODAY)
    print(f"2. engine, {n} distinct generated cases (10% of facts unknown; dates across "
          "both encoded editions), first pass:")
    distinct = len({repr(sorted(d["applicant"].items())) for d in data})
    print(f"     distinct fact combinations: {distinct}")

    assessor = Assessor(today=today)
    assessor.assess_document(Document("<warm>", data[0]))  # load and compile the editions
    for entry in assessor.catalog.editions:  # both encoded editions, before timing
        if entry.encoded and entry.id not in assessor.rulesets:
            from riskassess.law.ruleset import ruleset_for

            assessor.rulesets[entry.id] = ruleset_for(assessor.rules_dir, entry)
    from riskassess.engine.compiled import program

    for rs in assessor.rulesets.values():
        program(rs)
    start = time.perf_counter()
    for doc in docs:
        assessor.assess_document(doc).json()
    full = n / (time.perf_counter() - start)
    misses = sum(rs.cache["program"].misses for rs in assessor.rulesets.values())
    print(f"     validate + evaluate + JSON report     {full:9.0f} cases/s  "
          f"(parts missing from the tables: {misses})")

    reader = plain_reader(reader_spec(VOCAB))
    start = time.perf_counter()
    plains = [reader(doc) for doc in docs]
    validate = n / (time.perf_counter() - start)
    print(f"     validate alone                        {validate:9.0f} cases/s")

    fresh = Assessor(today=today)
    fresh.assess_document(Document("<warm>", data[0]))
    for entry in fresh.catalog.editions:
        if entry.encoded and entry.id not in fresh.rulesets:
            from riskassess.law.ruleset import ruleset_for

            fresh.rulesets[entry.id] = ruleset_for(fresh.rules_dir, entry)
    progs = {rid: program(rs) for rid, rs in fresh.rulesets.items()}
    from riskassess.law.editions import choose_for_case

    choices = {}
    for p in plains:
        key = p.assessment_date
        if key not in choices:
            choices[key] = choose_for_case(fresh.catalog, key, today, None, lambda day: None)
    start = time.perf_counter()
    for p in plains:
        day, choice = choices[p.assessment_date]
        progs[choice.entry.id].assess(p.case_id, day, p.values, choice).json()
    evaluate = n / (time.perf_counter() - start)
    print(f"     evaluate + JSON report (valid cases)  {evaluate:9.0f} cases/s")

    pred = predicates([p.values for p in plains])
    print(f"     floor: plain Python predicates        {pred:9.0f} cases/s  "
          "(outcomes and lists only, unknown facts ignored)")
    theirs = peer([p.values for p in plains])
    if theirs:
        print(f"     peer: rule-engine expressions         {theirs:9.0f} cases/s  "
              "(the same, known facts only)")
    ok = full >= TARGETS["engine"]
    print(f"     target: at least {TARGETS['engine']:,} cases/s (goal {TARGETS['engine_goal']:,})"
          f": {full:,.0f} validated, {evaluate:,.0f} evaluated, {verdict(ok)}")


# The same decisions as rules/euaa-syria-2024, by first match for each outcome and by
# the rules that add to each list; known facts only (neither peer has unknowns).
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


def _facts(values: list[dict]) -> list[dict]:
    out = []
    for v in values:
        facts = {k.split(".", 1)[1]: v[k] for k in v}
        facts["fought_against_government"] = facts["fought_against_government"] is True
        facts["exclusion_indicators"] = sorted(facts["exclusion_indicators"]) \
            if isinstance(facts["exclusion_indicators"], frozenset) else []
        out.append(facts)
    return out


def _decide(rules: dict, facts: dict, test) -> dict:
    result = {}
    for key, found in rules.items():
        if key in ("applicability", "exclusion"):
            result[key] = next((v for r, v in found if test(r, facts)), None)
        else:
            result[key] = [v for r, v in found if test(r, facts)]
    return result


def predicates(values: list[dict]) -> float:
    """The PEER decisions compiled to Python lambdas: the floor any interpreter of these
    rules is measured against."""
    compiled = {k: [(eval("lambda f: " + _python(e)), v) for e, v in rules]  # noqa: S307
                for k, rules in PEER.items()}
    data = _facts(values)
    start = time.perf_counter()
    for facts in data:
        _decide(compiled, facts, lambda r, f: r(f))
    return len(data) / (time.perf_counter() - start)


def _python(expr: str) -> str:
    import re

    expr = expr.replace(".length", "").replace("true", "True")
    expr = re.sub(r"\b(exclusion_indicators) > 0", r"len(f['\1']) > 0", expr)
    return re.sub(r"\b([a-z_]+)\b(?= (?:in|==|and|$)|$)",
                  lambda m: m.group(1) if m.group(1) in ("in", "and", "True") else
                  f"f['{m.group(1)}']", expr)


def peer(values: list[dict]) -> float | None:
    try:
        import rule_engine
    except ImportError:
        print("     peer: rule-engine is not installed (pip install -r bench/requirements.txt)")
        return None
    compiled = {k: [(rule_engine.Rule(e), v) for e, v in rules] for k, rules in PEER.items()}
    data = _facts(values)
    start = time.perf_counter()
    for facts in data:
        _decide(compiled, facts, lambda r, f: r.matches(f))
    return len(data) / (time.perf_counter() - start)


# ----------------------------------------------------------------------- 3. files


def make_caseload(n: int, seed: int = 11, *, kinds: tuple[str, ...] = ("yaml",)) -> Path:
    """n generated cases in a temporary folder: as YAML files (cases/, 1,000 a folder), as
    JSON files (json/) and as one JSONL caseload (all.jsonl), each kind asked for."""
    import json

    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    folder = Path(tempfile.mkdtemp(prefix=f"riskassess-bench-{n}-"))
    jsonl = open(folder / "all.jsonl", "w", encoding="utf-8") if "jsonl" in kinds else None
    try:
        for i, d in enumerate(case_dicts(VOCAB, n, seed=seed)):
            for kind, top in (("yaml", "cases"), ("json", "json")):
                if kind in kinds:
                    sub = folder / top / f"{i // 1000:03d}"
                    sub.mkdir(parents=True, exist_ok=True)
                    text = yaml.dump(d, Dumper=dumper, sort_keys=False) if kind == "yaml" \
                        else json.dumps(d, indent=2, ensure_ascii=False) + "\n"
                    (sub / f"case-{i:06d}.{kind}").write_text(text, encoding="utf-8")
            if jsonl:
                jsonl.write(json.dumps(d, ensure_ascii=False) + "\n")
    finally:
        if jsonl:
            jsonl.close()
    return folder


def _run(cmd: list[str], env: dict, stdout: Path | None = None) -> tuple[float, float, float]:
    """Wall time, CPU time (user + system, its workers included) and peak memory (MiB, its
    largest process, by GNU time: a process started from this large one would inherit
    this one's high-water mark) of a command; its standard output to `stdout`, else to
    /dev/null (either way not a terminal: a batch's fast path, cli/fast.py)."""
    timer = shutil.which("time") or "/usr/bin/time"
    with tempfile.NamedTemporaryFile("r") as peak:
        # the output emptied before the clock starts: emptying the last round's file (240
        # MB of full reports, maybe still being written to disk) is this script's work
        with open(stdout or os.devnull, "wb") as sink:
            start = time.perf_counter()
            proc = subprocess.Popen([timer, "-o", peak.name, "-f", "%M"] + cmd, stdout=sink,
                                    stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if status != 0:
            raise SystemExit(f"{' '.join(cmd)} failed (status {status})")
        return elapsed, usage.ru_utime + usage.ru_stime, \
            int(peak.read().strip().splitlines()[-1]) / 1024


def _same_but_paths(a: Path, b: Path) -> bool:
    """Whether two `-f outcomes` outputs are the same but for each line's path."""
    import json

    with open(a, "rb") as x, open(b, "rb") as y:
        for one, two in zip(x, y, strict=False):
            one, two = json.loads(one), json.loads(two)
            one.pop("path"), two.pop("path")
            if one != two:
                return False
        return x.read(1) == y.read(1) == b""


def files(n: int, cache: Path, *, compare: bool, rounds: int = 3,
          against: str | None = None) -> None:
    """Batches of n generated cases, side by side in alternating rounds: YAML files, JSON
    files and one JSONL, `-f outcomes` and `-f jsonl`, --jobs 1 and the default; with
    `against` (another install), its batch of the YAML files in the same rounds, and each
    figure's ratio to it (else to this one's YAML files)."""
    import json

    import yaml

    from riskassess.io.reader import parse_json_bytes, parse_yaml_bytes

    env = {**os.environ, "RISKASSESS_CACHE_DIR": str(cache)}
    theirs = {**os.environ, "RISKASSESS_CACHE_DIR": str(cache / "against")}
    if against:
        (cache / "against").mkdir(mode=0o700, exist_ok=True)
        subprocess.run([against, "evaluate", str(EXAMPLE)], check=True,
                       stdout=subprocess.DEVNULL, env=theirs)  # its cache
    subprocess.run(tool() + ["evaluate", str(EXAMPLE)], check=True, stdout=subprocess.DEVNULL,
                   env=env)  # this one's cache, built before the rounds
    folder = make_caseload(n, kinds=("yaml", "json", "jsonl"))
    try:
        paths = sorted((folder / "cases").rglob("*.yaml"))
        start = time.perf_counter()
        raws = [p.read_bytes() for p in paths]
        reading = n / (time.perf_counter() - start)
        rates = {}
        for name, parse in [
                ("floor: PyYAML C loader alone", lambda raw: yaml.load(
                    raw, Loader=yaml.CSafeLoader)),
                ("riskassess's YAML reader alone", lambda raw: parse_yaml_bytes(raw, "b")),
                ("floor: json.loads alone", json.loads),
                ("riskassess's JSON reader alone", lambda raw: parse_json_bytes(raw, "b"))]:
            if "JSON" in name or "json" in name:
                raws = [p.read_bytes() for p in sorted((folder / "json").rglob("*.json"))]
            start = time.perf_counter()
            for raw in raws:
                parse(raw)
            rates[name] = n / (time.perf_counter() - start)
        del raws
        print(f"3. files, {n} generated cases: YAML files, JSON files, one JSONL "
              f"(medians of {rounds} alternating rounds; CPU: user + system, workers "
              "included; the wall time is mostly the machine's load when it is shared):")
        print(f"     floor: reading the files alone          {reading:9.0f} files/s")
        for name, rate in rates.items():
            print(f"     {name:40s}{rate:9.0f} files/s")
        default = os.cpu_count() or 1
        # name -> (command, environment, format, jobs, the name of its reference)
        runs: dict[str, tuple[list[str], dict, str, int, str]] = {}
        for fmt in ("outcomes", "jsonl"):
            for j in sorted({1, default}):
                base = ["evaluate", "-f", fmt, "--jobs", str(j), "--today", TODAY]
                ref = f"{'--against' if against else 'this one'}: YAML files -f {fmt} -j {j}"
                if against:
                    runs[ref] = ([against, *base, str(folder / "cases")], theirs, fmt, j, ref)
                for what, source in (("YAML files", "cases"), ("JSON files", "json"),
                                     ("one JSONL", "all.jsonl")):
                    if what == "one JSONL" and j != 1:
                        continue  # (a caseload's lines are assessed in one process)
                    runs[f"this one: {what} -f {fmt} -j {j}"] = (
                        tool() + [*base, str(folder / source)], env, fmt, j, ref)
        found: dict[str, list[tuple[float, float, float]]] = {k: [] for k in runs}
        outputs = {k: folder / f"out-{i}" for i, k in enumerate(runs)}
        for _ in range(rounds):
            for key, (cmd, e, *_) in runs.items():
                found[key].append(_run(cmd, e, stdout=outputs[key]))
        med = {k: [statistics.median(r[i] for r in v) for i in range(3)]
               for k, v in found.items()}
        for key, (wall, cpu, peak) in med.items():
            ref = runs[key][4]
            print(f"     {key:44s} {wall:6.2f} s wall ({wall / med[ref][0]:4.2f})  "
                  f"{cpu:6.2f} s CPU ({cpu / med[ref][1]:4.2f})  {n / wall:6.0f} cases/s  "
                  f"peak {peak:5.1f} MiB")
        print("     (in brackets: the ratio to " + ("--against's YAML files in the same "
                                                      "rounds" if against else
                                                      "this one's YAML files") + ")")
        for fmt in ("outcomes", "jsonl"):
            keys = [k for k in runs if runs[k][2] == fmt]
            yaml_files = [k for k in keys if "YAML files" in k]
            same = all(filecmp.cmp(outputs[yaml_files[0]], outputs[k], shallow=False)
                       for k in yaml_files)
            others = [k for k in keys if "YAML files" not in k]
            if fmt == "jsonl":
                alike = all(filecmp.cmp(outputs[yaml_files[0]], outputs[k], shallow=False)
                            for k in others)
            else:
                alike = all(_same_but_paths(outputs[yaml_files[0]], outputs[k])
                            for k in others)
            print(f"     -f {fmt}: YAML files' outputs byte-identical (every jobs, "
                  f"--against): {same}; JSON files and the JSONL give the same "
                  f"{'bytes' if fmt == 'jsonl' else 'lines but for the path'}: {alike}")
        for path in outputs.values():
            path.unlink(missing_ok=True)
        if compare:
            elapsed, peak = timed_compare(folder, env, n)
            print(f"     compare FOLDER --editions A B             {n / elapsed:9.0f} cases/s"
                  f"  {elapsed:6.2f} s  peak {peak:6.1f} MiB  (memory < {TARGETS['memory']} "
                  f"MiB: {verdict(peak < TARGETS['memory'])})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def timed_compare(folder: Path, env: dict, n: int) -> tuple[float, float]:
    wall, _, peak = _run(tool() + ["compare", str(folder / "cases"), "--editions",
                                   "euaa-syria-2024", "euaa-syria-2025-12", "--summary-csv",
                                   str(folder / "impact.csv"), "--today", TODAY], env)
    return wall, peak


def memory(n: int, cache: Path) -> None:
    """Peak memory of n cases in every batch format (text, outcomes, jsonl; YAML files
    and one JSONL; output to /dev/null), and of `compare`: one run each."""
    env = {**os.environ, "RISKASSESS_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    folder = make_caseload(n, kinds=("yaml", "jsonl"))
    print(f"4. memory, {n} generated cases (written in {time.perf_counter() - start:.0f} s), "
          "one run each, output to /dev/null:")
    try:
        for source, what in ((folder / "cases", "YAML files"), (folder / "all.jsonl",
                                                                 "one JSONL")):
            for fmt in ("outcomes", "jsonl", "text"):
                wall, cpu, peak = _run(tool() + ["evaluate", str(source), "-f", fmt,
                                                 "--today", TODAY], env)
                print(f"     {what:10s} -f {fmt:8s} (default --jobs) {wall:7.1f} s  "
                      f"{cpu:7.1f} s CPU  peak {peak:6.1f} MiB  (< {TARGETS['memory']} MiB: "
                      f"{verdict(peak < TARGETS['memory'])})")
        wall, peak = timed_compare(folder, env, n)
        print(f"     compare FOLDER --editions A B             {wall:7.1f} s  peak "
              f"{peak:6.1f} MiB  (< {TARGETS['memory']} MiB: "
              f"{verdict(peak < TARGETS['memory'])})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="also peak memory at 100k cases (a few minutes more)")
    parser.add_argument("--pairs", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds of the batches (medians)")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--only", choices=["cold", "engine", "files", "memory"], default=None)
    parser.add_argument("--against", metavar="EXE", default=None,
                        help="another riskassess executable (e.g. the previous commit's, "
                             "installed in another venv) timed in the same cold-start runs "
                             "and batches")
    args = parser.parse_args()
    print(f"machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}")
    cache = Path(tempfile.mkdtemp(prefix="riskassess-bench-cache-"))
    os.chmod(cache, 0o700)
    try:
        if args.only in (None, "cold"):
            cold_start(args.pairs, cache, args.against)
        if args.only in (None, "engine"):
            engine(10_000)
        if args.only in (None, "files"):
            files(args.cases, cache, compare=True, rounds=args.rounds, against=args.against)
        if args.only == "memory" or (args.only is None and args.full):
            memory(100_000, cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
