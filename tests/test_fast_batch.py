"""The fast path of a batch (riskassess/cli/fast.py `batch_plan`, `run_batch`): a folder or
a list of case files assessed from the compiled rule sets of the cache, without typer,
pydantic or rich, must print exactly what the full path prints (standard output, standard
error, exit code), with one worker and with several, for valid and refused files alike;
and hand everything it does not know to the full path."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import EXAMPLES, TOOL, tool_env
from hypothesis import given
from hypothesis import strategies as st

from riskassess.assess.batch import MIN_PARALLEL
from riskassess.cli import fast

CASES = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
TODAY = ["--today", "2026-12-01"]
REFUSED = {
    "bad-rank.yaml": "applicant: {military_status: deserter, rank: general}\n",
    "out-of-scope.yaml": "applicant: {country_of_origin: AF}\n",
    "broken.yaml": "{ broken\n",
    "empty.yaml": "",
    "deep.yaml": "a: " + "[" * 500 + "]" * 500 + "\n",
    "mapping-in-a-list.yaml": "applicant:\n  armed_groups:\n  - isil\n  - a: 1\n",
}


@pytest.fixture(scope="module")
def caseload(tmp_path_factory):
    """Every example, the refused files above, and copies of the examples in a subfolder:
    more files than a batch needs to start workers; a text file and a sidecar skipped."""
    folder = tmp_path_factory.mktemp("caseload")
    for case in CASES:
        shutil.copy(case, folder / case.name)
    for name, content in REFUSED.items():
        (folder / name).write_text(content, encoding="utf-8")
    (folder / "notes.txt").write_text("not a case\n", encoding="utf-8")
    many = folder / "many"
    many.mkdir()
    for i in range(MIN_PARALLEL + 40):
        shutil.copy(CASES[i % len(CASES)], many / f"copy-{i:04d}.yaml")
    (many / "copy-0007.yaml").write_text(REFUSED["bad-rank.yaml"], encoding="utf-8")
    return folder


def _run(args: list[str], cache) -> subprocess.CompletedProcess:
    return subprocess.run([*TOOL, *args], capture_output=True,
                          env=tool_env(RISKASSESS_CACHE_DIR=str(cache)), timeout=600)


def _same(args: list[str], built, monkeypatch) -> subprocess.CompletedProcess:
    """Run `args` on the fast path and on the full path (the cache off); both alike."""
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(built))
    assert fast.batch_plan(args) is not None, "the fast path did not take the batch"
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", "off")
    assert fast.batch_plan(args) is None  # no cache: the full path answers
    quick, full = _run(args, built), _run(args, "off")
    assert quick.stdout == full.stdout
    assert quick.stderr.decode() == full.stderr.decode()
    assert quick.returncode == full.returncode
    return quick


@pytest.mark.parametrize("fmt", ["outcomes", "jsonl", "text"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_folder_with_refused_files_prints_what_the_full_path_prints(
        built, caseload, monkeypatch, fmt, jobs):
    r = _same(["evaluate", str(caseload), "-f", fmt, "--jobs", jobs, *TODAY], built,
              monkeypatch)
    assert r.returncode == 7  # the worst refusal: a case out of the scope (7) over 3
    summary = (r.stdout if fmt == "text" else r.stderr).decode()
    total = len(CASES) + len(REFUSED) + MIN_PARALLEL + 40
    assert f"Summary: {total} file(s), {total - len(REFUSED) - 1} assessed, " \
           f"{len(REFUSED) + 1} refused, 1 skipped" in summary


@pytest.mark.parametrize("fmt", ["outcomes", "jsonl", "text"])
def test_every_example_listed_by_name_prints_what_the_full_path_prints(
        built, monkeypatch, fmt):
    r = _same(["evaluate", *map(str, CASES), "-f", fmt, *TODAY], built, monkeypatch)
    assert r.returncode == 0 and r.stdout


def test_options_in_other_places_and_forms(built, caseload, monkeypatch):
    _same(["evaluate", "--format=outcomes", "-j", "2", str(caseload / "many"),
           str(EXAMPLES / "deserter-2026.yaml"), "--ruleset", "euaa-syria-2024",
           "--today=2026-12-01"], built, monkeypatch)
    _same(["evaluate", "-foutcomes", "-j2", str(caseload / "many"), *TODAY], built,
          monkeypatch)  # a short option's value written against it, as click reads it


def test_an_edition_not_encoded_refuses_every_file_in_the_full_paths_words(
        built, monkeypatch):
    r = _same(["evaluate", *map(str, CASES[:3]), "-f", "outcomes", "--ruleset", "nope",
               *TODAY], built, monkeypatch)
    assert r.returncode == 2 and b"'nope' is not an encoded edition" in r.stderr


def test_a_batch_imports_no_typer_pydantic_or_rich(built, tmp_path):
    """The fast path's whole point: valid cases assessed from the compiled rule sets alone
    (here with two workers: enough files to start them)."""
    for i in range(MIN_PARALLEL + 10):
        shutil.copy(CASES[i % len(CASES)], tmp_path / f"copy-{i:04d}.yaml")
    code = ("import sys\nfrom riskassess.cli import fast\n"
            f"fast.main(['evaluate', {str(tmp_path)!r}, '-f', 'jsonl', '--jobs', '2', "
            "'--today', '2026-12-01'])\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
            "{'typer', 'click', 'pydantic', 'rich', 'jinja2', 'docx', 'reportlab'})\n"
            "sys.stderr.write(repr(heavy) + '\\n')\n")
    r = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True,
                       env=tool_env(RISKASSESS_CACHE_DIR=str(built)), timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr.endswith("[]\n") and r.stdout.count("\n") == MIN_PARALLEL + 10


@pytest.mark.parametrize("extra", [
    ["-o", "out.jsonl"], ["--summary-csv", "s.csv"], ["-f", "markdown"], ["-f", "json"],
    ["--full"], ["--jobs", "0"], ["-j=2"], ["-f=outcomes"], ["--jobs", "+2"], ["--bogus"],
    ["--today", "2026-13-01"],
    ["-f", "docx", "-o", "out/"], ["--rules-dir", ""],
])
def test_anything_else_goes_to_the_full_path(built, caseload, monkeypatch, extra):
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(built))
    assert fast.batch_plan(["evaluate", str(caseload), "-f", "outcomes", *TODAY]) is not None
    args = ["evaluate", str(caseload), *extra, *TODAY]
    if "-f" not in extra:
        args[2:2] = ["-f", "outcomes"]
    assert fast.batch_plan(args) is None


def test_one_case_or_a_folder_without_cases_is_not_a_fast_batch(built, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(built))
    case = str(EXAMPLES / "deserter-2026.yaml")
    assert fast.batch_plan(["evaluate", case, "-f", "outcomes"]) is None  # `answer`'s
    assert fast.batch_plan(["evaluate", str(tmp_path), "-f", "outcomes"]) is None
    r = _run(["evaluate", str(tmp_path), "-f", "outcomes"], built)
    assert r.returncode == 2 and b"no case files" in r.stderr


def test_the_sidecar_suffix_is_the_scenarios_one():
    from riskassess.assess.files import SUFFIX
    from riskassess.law.scenarios import SUFFIX as SCENARIOS

    assert SUFFIX == SCENARIOS


@given(st.lists(st.sampled_from(["/", ".", "..", "a", "b c", "ع"]), max_size=6).map("".join),
       st.sampled_from(["x.yaml", ".x.json", "ملف.yml"]))
def test_a_found_files_path_is_the_one_path_objects_give(folder, name):
    """case_files names a folder's files from the folder's prefix, made once a folder:
    the same string as `Path(folder, name).as_posix()`, whatever the folder's shape."""
    from pathlib import Path

    from riskassess.assess.files import _prefix

    assert _prefix(folder) + name == Path(folder, name).as_posix()


@pytest.mark.slow
def test_10k_generated_cases_give_the_recorded_reports(built, tmp_path):
    """tests/data/generated-10k.*: the 10,000 generated cases written as case files (JSON
    is YAML), assessed by the fast path in one batch with two workers: every report's digest
    is the one recorded (tests/baselines.py)."""
    import baselines

    from riskassess.law.ruleset import shipped_vocabulary

    recorded = baselines.params()
    folder = tmp_path / "cases"
    folder.mkdir()
    for i, data in enumerate(baselines.generated(shipped_vocabulary(), recorded)):
        (folder / f"case-{i:05d}.yaml").write_text(json.dumps(data), encoding="utf-8")
    args = ["evaluate", str(folder), "-f", "jsonl", "--jobs", "2",
            "--today", recorded["today"]]
    os.environ["RISKASSESS_CACHE_DIR"] = str(built)
    try:
        assert fast.batch_plan(args) is not None
    finally:
        os.environ["RISKASSESS_CACHE_DIR"] = "off"
    r = _run(args, built)
    assert r.returncode == 0, r.stderr[-2000:]
    current = baselines.current_hashes()
    found = [hashlib.sha256(baselines.as_recorded(line, current, recorded)).hexdigest()[:16]
             for line in r.stdout.splitlines()]
    assert found == baselines.DIGESTS.read_text(encoding="utf-8").split()


# ------------------------------------------------------------------ indented JSON


def _stdlib(compact: bytes) -> str:
    return json.dumps(json.loads(compact), indent=2, ensure_ascii=False) + "\n"


def test_orjson_is_there_and_used():
    from riskassess.io import jsontext

    assert jsontext.orjson is not None  # a dependency (pyproject.toml)


@pytest.mark.parametrize("compact", [
    b'{"a":1e-05,"b":[0.5]}', b'{"big":118059162071741130342}', b'[18446744073709551616]',
    b'{"s":"\\ud800"}', b'{"x":[],"y":{},"z":[{}],"w":"\\u2028\\u0000\\u001f\\u007f"}',
    b'{"k":"\xc3\xa9\xf0\x9f\x98\x80","n":-0,"t":true,"f":false,"u":null}',
    b'{"text":"para: 1.5 and\\n  2.5"}', b'[-9223372036854775808, 18446744073709551615]',
    b'{"a":1,"a":2}',
])
def test_indented_json_is_the_standard_librarys(compact):
    from riskassess.io.jsontext import pretty

    assert pretty(compact) == _stdlib(compact)


def test_indented_json_of_floats_is_the_standard_librarys():
    import random
    import struct

    from riskassess.io.jsontext import pretty

    rng = random.Random(5)
    for _ in range(3000):
        value = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        if value == value and abs(value) != float("inf"):
            compact = json.dumps({"v": [value, rng.uniform(-1e6, 1e6)]}).encode()
            assert pretty(compact) == _stdlib(compact)


def test_every_examples_json_report_is_the_standard_librarys(built, monkeypatch):
    """The fast path's `-f json` (orjson where it can) against the standard library's
    indentation of the same report, and the full path's `evaluate -f json` (its goldens are
    tests/golden/*.json.golden)."""
    from riskassess.io import jsontext

    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(built))
    for case in CASES:
        args = ["evaluate", str(case), "-f", "jsonl", *TODAY]
        compact = fast.answer(args).encode()
        orjson = jsontext.orjson
        quick = orjson.dumps(orjson.loads(compact), option=orjson.OPT_INDENT_2).decode() + "\n"
        assert jsontext.pretty(compact) == quick == _stdlib(compact), case.name
        assert fast.answer(["evaluate", str(case), "-f", "json", *TODAY]) == quick


def test_the_generated_reports_indent_as_the_standard_librarys():
    """10,000 generated reports (tests/data/generated-10k.json), indented both ways."""
    import baselines

    from riskassess.assess.core import Assessor
    from riskassess.io.jsontext import pretty
    from riskassess.io.reader import Document
    from riskassess.law.ruleset import shipped_vocabulary

    recorded = baselines.params()
    assessor = Assessor(today=__import__("datetime").date.fromisoformat(recorded["today"]))
    for data in baselines.generated(shipped_vocabulary(), recorded):
        compact = assessor.assess_document(Document("<gen>", data)).json()
        assert pretty(compact) == _stdlib(compact)


# ------------------------------------------------------------------ JSON and JSONL


@pytest.fixture(scope="module")
def json_caseload(tmp_path_factory):
    """Every example as a .json file, JSON files refused in JSON's words (a duplicate key
    is located by its column on the line, where the YAML reader names the line), and a
    JSONL caseload of every example with refused lines (bad JSON, a missing case_id, a
    duplicate key, a value the model refuses, blank lines): more cases than a batch needs
    to start workers, in a subfolder."""
    from riskassess.io.reader import read_yaml_file

    folder = tmp_path_factory.mktemp("jsoncases")
    lines = []
    for case in CASES:
        data = read_yaml_file(case).data
        (folder / f"{case.stem}.json").write_text(json.dumps(data, indent=2), "utf-8")
        lines.append(json.dumps(data, ensure_ascii=False))
    (folder / "twice.json").write_text('{"format": 1, "case_id": "A", "case_id": "B"}\n',
                                       "utf-8")
    (folder / "nan.json").write_text('{"format": 1, "case_id": NaN}\n', "utf-8")
    (folder / "number.json").write_text('{"format": 1e0, "case_id": "N-1"}\n', "utf-8")
    many = folder / "many"
    many.mkdir()
    for i in range(MIN_PARALLEL + 40):
        shutil.copy(folder / f"{CASES[i % len(CASES)].stem}.json", many / f"c-{i:04d}.json")
    bad = json.loads(lines[0])
    bad["applicant"]["sex"] = "mal"
    load = lines + ["", "   ", json.dumps(bad), '{"format": 1, "case_id": null}',
                    '{"case_id": "X", "case_id": "Y"}', "not json", "[" * 100 + "]" * 100]
    (folder / "load.jsonl").write_text("\n".join(load + lines) + "\n", "utf-8")
    return folder


@pytest.mark.parametrize("fmt", ["outcomes", "jsonl", "text"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_json_files_and_a_jsonl_caseload_print_what_the_full_path_prints(
        built, json_caseload, monkeypatch, fmt, jobs):
    r = _same(["evaluate", str(json_caseload), "-f", fmt, "--jobs", jobs, *TODAY], built,
              monkeypatch)
    summary = (r.stdout if fmt == "text" else r.stderr).decode()
    assert "refused" in summary and r.returncode == 3
    assert "duplicate key 'case_id' (first given at column 15 of this line)" in summary
    r = _same(["evaluate", str(json_caseload / "many"), "-f", fmt, "--jobs", jobs, *TODAY],
              built, monkeypatch)
    assert r.returncode == 0 and r.stdout


@pytest.mark.parametrize("fmt", ["outcomes", "jsonl", "text"])
def test_one_jsonl_caseload_is_a_batch_on_the_fast_path(built, json_caseload, monkeypatch,
                                                        fmt):
    load = json_caseload / "load.jsonl"
    r = _same(["evaluate", str(load), "-f", fmt, *TODAY], built, monkeypatch)
    summary = (r.stdout if fmt == "text" else r.stderr).decode()
    total = 2 * len(CASES) + 5
    assert f"Summary: {total} file(s), {total - 5} assessed, 5 refused" in summary
    assert r.returncode == 3


def test_one_json_case_is_read_as_json_on_the_fast_path(built, json_caseload, monkeypatch):
    """A .json file named alone: the fast path reads it as JSON (as YAML, `1e0` is a text
    and the file would be the case model's to refuse; as JSON it is the number 1.0)."""
    from conftest import run_cli

    for name in [f"{CASES[0].stem}.json", "number.json"]:
        args = ["evaluate", str(json_caseload / name), "-f", "outcomes", *TODAY]
        monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(built))
        quick = fast.answer(args)
        monkeypatch.setenv("RISKASSESS_CACHE_DIR", "off")
        full = run_cli(*args)
        if quick is not None:
            assert quick == full.out and full.code == 0
        else:
            assert name == "number.json"
    monkeypatch.setenv("RISKASSESS_CACHE_DIR", str(built))
    assert fast.answer(["evaluate", str(json_caseload / "load.jsonl"), "-f", "outcomes"]) \
        is None


# ------------------------------------------------------------------ the plain YAML route


def _by_the_builder(text: str):
    """The Document the parser's events give (the plain route off), or the refusal."""
    from riskassess.errors import UserError
    from riskassess.io import reader

    try:
        return reader._parse_events(text, "f.yaml")
    except UserError as exc:
        return exc


def _typed(value):
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


def _same_reading(text: str) -> bool:
    """Whether the plain route took the text; if it did, its Document is the builder's:
    the same data (and types), the same positions in the same order, no problems."""
    from riskassess.io import reader

    data = reader._plain_data(text)
    located = reader._plain_document(text, "f.yaml")
    assert (data is None) == (located is None), text  # the same texts, with or without positions
    if data is None:
        return False
    doc = reader.parse_yaml_text(text, "f.yaml")
    full = _by_the_builder(text)
    assert not isinstance(full, Exception), (text, full)
    assert _typed(doc.data) == _typed(full.data) == _typed(data) == _typed(located.data), text
    assert list(doc.value_positions.items()) == list(full.value_positions.items()), text
    assert list(doc.key_positions.items()) == list(full.key_positions.items()), text
    assert list(located.value_positions.items()) == list(full.value_positions.items()), text
    assert full.problems == () and full.voided == frozenset() and doc.problems == (), text
    return True




PLAIN_SHAPES = """\
# a case, in every plain shape
case_id: A-1   # a comment after a value
assessment_date: '2025-02-01'
applicant:

  sex: male
  # a comment between keys
  prior_measures:
  - arrested
  - "detained"
  armed_groups:
    - free_syrian_army
  exclusion_indicators: []
  other: {}
  flow: [a, b ,c]
  text: some words with  spaces
  number: 12
  ratio: 1.5
  yes_no: yes
  flag: true
  nothing: null
  empty: ''
notes: 2024-12
"""


def test_the_plain_route_reads_what_the_builder_reads_on_examples_and_shapes():
    assert _same_reading(PLAIN_SHAPES)
    taken = [_same_reading(p.read_text(encoding="utf-8")) for p in CASES]
    assert sum(taken) >= len(CASES) - 2  # (a list over two lines is the builder's)


def test_the_plain_route_takes_generated_case_files():
    """The shape `yaml.safe_dump` writes a case in (bench/bench.py's case files): all
    taken by the plain route, and read as the builder reads them."""
    import yaml

    from riskassess.law.casegen import case_dicts
    from riskassess.law.ruleset import shipped_vocabulary

    for data in case_dicts(shipped_vocabulary(), 300, seed=5):
        assert _same_reading(yaml.safe_dump(data, sort_keys=False))


def test_the_plain_route_falls_back_on_everything_else():
    """Every test file the tool refuses or reads with problems: the builder's answer."""
    from conftest import DATA

    for path in sorted(DATA.rglob("*.yaml")):
        if path.is_file():
            _same_reading(path.read_bytes().decode("utf-8", "replace"))
    for text in ["", "# only a comment\n", "a: 1\na: 2\n", "a:\n", "a:\nb: 1\n", "- a\n",
                 "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: b\n c\n", "a:\n  b: 1\n c: 2\n",
                 "a: 'it''s'\n", 'a: "\\t"\n', "a:\tb\n", "a: b\r\n", "a: é\n", "---\na: 1\n",
                 "a: 1\n...\n", "%YAML 1.2\n---\na: 1\n", "a: [b, c,]\n", "a: [b, [c]]\n",
                 "a: 1e3\n", "a: 0x1f\n", "a: " + "9" * 5000 + "\n", "? a\n: b\n",
                 "a: b # c\n#d\n  e: f\n", "a:\n- b\nc:\n  - d\n  e: f\n"]:
        _same_reading(text)


def test_the_plain_route_agrees_with_the_builder_on_mutated_files():
    """Thousands of small edits (characters YAML gives a meaning to, line breaks and
    indents, non-ASCII and control characters) of the examples: wherever the plain route
    takes the text, it reads it exactly as the builder does; wherever the builder refuses
    it or reports a problem, the plain route did not take it."""
    import random

    rng = random.Random(2026)
    texts = [PLAIN_SHAPES] + [p.read_text(encoding="utf-8") for p in CASES]
    pieces = list(" \n-:#'\"[]{},.&*!|>%@`?~0123456789abTtnN_\t\\") + [
        "  ", "\n  ", "\n- ", ": ", "- ", " #", "''", "1e3", "0x1", "null", "true", "~",
        "\x00", "\r", "é", "\x7f", "\x1b", "\u2028", "\x85", "\ufeff"]
    taken = 0
    for _ in range(4000):
        text = rng.choice(texts)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(text) + 1)
            op = rng.random()
            if op < 0.5:
                text = text[:i] + rng.choice(pieces) + text[i:]
            elif op < 0.8:
                text = text[:i] + text[i + rng.randint(1, 3):]
            else:
                j = rng.randrange(len(text) + 1)
                text = text[:i] + text[j:j + rng.randint(1, 20)] + text[i:]
        taken += _same_reading(text)
    assert 500 < taken < 4000  # both routes were exercised
