"""Case files as JSON, caseloads as JSONL (io/reader.py's JSON reader).

A JSON case file gives the `Document` a YAML one gives, so validation, its located problems
and the reports are shared; it keeps the YAML reader's limits (1 MiB, 64 levels, 20,000
values) and refuses what JSON parsers usually take silently (a duplicate key, NaN, a lone
surrogate), each where it is written. A JSONL caseload is one case per line, each refused
or assessed on its own. The service reads application/json bodies with the same reader.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

import httpx
import pytest
import yaml
from conftest import DATA, EXAMPLES, RULES, TOOL, VOCAB, run_cli, tool_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskassess.assess.core import Assessor
from riskassess.errors import CaseFileError
from riskassess.io.reader import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    _JsonScanner,
    parse_json_bytes,
    parse_json_text,
    read_json_file,
    read_yaml_file,
)
from riskassess.law.case import case_from_document
from riskassess.law.casegen import case_dicts

TODAY = "2026-12-01"
CASES = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
EDITIONS = ("euaa-syria-2024", "euaa-syria-2025-12")


def as_json(path, **dump) -> str:
    return json.dumps(read_yaml_file(path).data, ensure_ascii=False, **dump) + "\n"


def refusal(text: str | bytes, name: str = "f.json") -> list[str]:
    """The problems that refuse a JSON text, as the CLI prints them."""
    with pytest.raises(CaseFileError) as info:
        if isinstance(text, bytes):
            parse_json_bytes(text, name)
        else:
            parse_json_text(text, name)
    return [str(p) for p in info.value.problems]


def problems(text: str, name: str = "f.json") -> list[str]:
    """The reading problems of a JSON text that is still read (a document with problems)."""
    return [str(p) for p in parse_json_text(text, name).problems]


def real(*args: str, cwd=None) -> subprocess.CompletedProcess:
    proc = subprocess.run([*TOOL, *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, env=tool_env(), cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return proc


# ------------------------------------------------------------------ 1. the reader


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_every_example_reads_the_same_as_json(path, tmp_path):
    yaml_doc = read_yaml_file(path)
    target = tmp_path / "case.json"
    target.write_text(as_json(path, indent=2), encoding="utf-8")
    doc = read_json_file(target)
    assert doc.data == yaml_doc.data and type(doc.data) is dict
    assert doc.problems == () and doc.sha256 and doc.raw == target.read_bytes()
    # every key and value has a position, and they point at what is written there
    text = target.read_text(encoding="utf-8").split("\n")
    for key_path, (line, column) in doc.key_positions.items():
        assert text[line - 1][column - 1:].startswith(json.dumps(key_path[-1],
                                                                 ensure_ascii=False))
    assert set(doc.value_positions.keys()) == set(yaml_doc.value_positions.keys())


def test_duplicate_keys_are_refused_where_the_second_is():
    assert problems('{"case_id": "A",\n "format": 1,\n  "case_id": "B"}') == [
        "f.json:3:3: case_id: duplicate key 'case_id' (first given on line 1); each key "
        "may appear only once"]
    assert problems('{"applicant": {"sex": "male", "sex": "female"}}') == [
        "f.json:1:31: applicant.sex: duplicate key 'sex' (first given at column 16 of this "
        "line); each key may appear only once"]
    # the first value is kept, as in YAML, so validation can report the rest in one pass
    assert parse_json_text('{"a": 1, "a": 2}', "f").data == {"a": 1}
    # the same key in two mappings is not a duplicate
    assert problems('{"a": {"x": 1}, "b": {"x": 1}}') == []


def test_duplicate_keys_in_a_case_file_with_its_other_problems(tmp_path):
    case = tmp_path / "dup.json"
    case.write_text('{\n  "format": 1,\n  "applicant": {\n    "sex": "male",\n'
                    '    "sex": "female",\n    "rank": "general"\n  }\n}\n')
    r = run_cli("evaluate", str(case), "--today", TODAY)
    assert r.code == 3 and r.out == ""
    lines = r.err.splitlines()
    assert lines[0] == (f"error: {case}:5:5: applicant.sex: duplicate key 'sex' (first given "
                        "on line 4); each key may appear only once")
    assert lines[1].startswith(f"error: {case}:6:13: applicant.rank: 'general' is not an "
                               "allowed value")


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(word):
    assert refusal('{"format": 1,\n "applicant": {"x": %s}}' % word) == [
        f"f.json:2:21: JSON syntax error: {word} is not a JSON value: write a number, or null"]


def test_a_valid_surrogate_pair_is_its_character_and_a_lone_half_is_refused():
    doc = parse_json_text('{"case_id": "x\\uD83D\\uDE00y"}', "f")
    assert doc.data == {"case_id": "x\U0001F600y"} and doc.problems == ()
    lone = ("a lone surrogate escape (half of a pair of \\u escapes, which together write "
            "one character): write the character itself, or both halves of its pair")
    for text, column in [('{"a": "\\ud83d"}', 7), ('{"a": "\\ude00x"}', 7),
                         ('{"a": 1, "b": "\\ud83d\\u0041"}', 15),
                         ('{"a": "\\ude00\\ud83d"}', 7)]:
        doc = parse_json_text(text, "f")
        (problem,) = doc.problems
        assert (problem.line, problem.column, problem.message) == (1, column, lone)
        assert "\ud83d" not in json.dumps(doc.data)  # the half is never kept
    key = parse_json_text('{"\\ud83d": 1}', "f")
    assert key.data == {} and key.problems[0].column == 2 and "surrogate" in \
        key.problems[0].message


def test_syntax_errors_are_located_and_say_what_to_do():
    assert refusal('{"a": 1,\n}') == [
        "f.json:1:8: JSON syntax error: a ',' before '}': JSON allows no comma after the "
        "last item; delete it"]
    assert refusal("{'a': 1}") == [
        "f.json:1:2: JSON syntax error: a key in single quotes: JSON writes keys in double "
        "quotes (\")"]
    assert refusal('{"a": 1 // note\n}') == [
        "f.json:1:9: JSON syntax error: expected ',' or '}', found '/' (JSON has no "
        "comments: delete it)"]
    assert refusal('{"a": "b}') == [
        "f.json:1:7: JSON syntax error: a string is never closed: add its closing '\"'"]
    assert refusal('{"a": [1,\n 2') == [
        "f.json:2:3: JSON syntax error: the text ends inside a list opened on line 1: a "
        "']' is missing"]
    assert refusal('{"a": yes}') == [
        "f.json:1:7: JSON syntax error: 'yes' is not a JSON value: write true, false, null, "
        "a number, or a text in double quotes"]
    assert refusal('{"a": 1} {"b": 2}')[0].startswith(
        "f.json:1:10: JSON syntax error: more text after the end of the JSON value")
    assert refusal("  \n ") == ["f.json: the file is empty: expected a JSON object, "
                                "'{' ... '}'"]


def test_encodings_and_bytes_are_refused_as_for_yaml():
    assert refusal(b'{"a": "\xff"}') == [
        "f.json:1:8: is not valid UTF-8 (byte 0xff); save the file as UTF-8"]
    assert refusal(b'{"a": 1}\x00') == [
        "f.json:1:9: contains NUL bytes: this looks like a binary file, not JSON text"]
    assert refusal('{"a": 1}'.encode("utf-16")) == [
        "f.json: looks like UTF-16 (little-endian) text; riskassess reads UTF-8 only: save "
        "the file as UTF-8"]
    assert parse_json_bytes(b'\xef\xbb\xbf{"a": 1}', "f").data == {"a": 1}  # a BOM


def test_the_size_depth_and_value_limits_hold_with_positions(tmp_path):
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json_text(deep, "f").problems == ()
    assert refusal("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)) == [
        f"f.json:1:{MAX_DEPTH + 1}: too deeply nested (more than {MAX_DEPTH} levels)"]
    assert refusal('{"a":\n' + '{"a":' * 100) == [
        f"f.json:2:{5 * (MAX_DEPTH - 1) + 1}: too deeply nested (more than {MAX_DEPTH} "
        "levels)"]
    many = "[" + ",".join(["1"] * MAX_NODES) + "]"
    assert refusal(many)[-1].startswith(
        f"f.json:1:{2 * MAX_NODES}: too many values (the limit is {MAX_NODES:,}")
    big = tmp_path / "big.json"
    big.write_text('{"a": "' + "x" * MAX_BYTES + '"}')
    with pytest.raises(CaseFileError) as info:
        read_json_file(big)
    assert str(info.value.problems[0]) == (
        f"{big}: file is {MAX_BYTES + 9:,} bytes; the limit is {MAX_BYTES:,} bytes (1 MiB)")
    assert refusal(b" " * (MAX_BYTES + 1))[0].startswith(
        f"f.json: file is {MAX_BYTES + 1:,} bytes")


@pytest.mark.parametrize("bomb", [
    "[" * 20_000 + "]" * 20_000,          # 40 KB of lists
    '{"a":' * 8_000 + "1" + "}" * 8_000,  # 40 KB of objects
    "[" * 20_000,                         # never closed
])
def test_deep_nesting_is_a_clean_refusal_in_a_real_process(tmp_path, bomb):
    case = tmp_path / "bomb.json"
    case.write_text(bomb)
    proc = real("evaluate", str(case))
    assert proc.returncode == 3 and proc.stdout == ""
    assert proc.stderr.startswith(f"error: {case}:1:") and \
        f"too deeply nested (more than {MAX_DEPTH} levels)" in proc.stderr


def test_a_validation_problem_is_located_in_the_json_file(tmp_path):
    path = EXAMPLES / "religious-objector.yaml"
    case = tmp_path / "case.json"
    data = read_yaml_file(path).data
    data["applicant"]["sex"] = "mal"
    text = json.dumps(data, indent=2)
    case.write_text(text)
    line = next(i for i, t in enumerate(text.split("\n"), 1) if '"mal"' in t)
    r = run_cli("evaluate", str(case), "--today", TODAY)
    assert r.code == 3
    assert r.err.startswith(f"error: {case}:{line}:12: applicant.sex: 'mal' is not an "
                            "allowed value; did you mean 'male'?")


def test_a_special_file_is_not_a_json_file(tmp_path):
    folder = tmp_path / "x.json"
    folder.mkdir()
    with pytest.raises(CaseFileError) as info:
        read_json_file(folder)
    assert str(info.value.problems[0]) == f"{folder}: is a directory, not a JSON file"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=4),
    max_leaves=20)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(JSON_VALUES, st.sampled_from([None, 0, 2]), st.booleans())
def test_the_json_module_and_the_scanner_read_the_same(value, indent, ascii_only):
    """The fast reading (json module) and the scanner (problems, positions) agree on the
    data, and the lazily found positions are the scanner's."""
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    fast = parse_json_text(text, "f")
    slow = _JsonScanner(text, "f", CaseFileError).document()
    assert json.dumps(fast.data) == json.dumps(slow.data) == json.dumps(value)
    assert dict(fast.value_positions.items()) == slow.value_positions
    assert dict(fast.key_positions.items()) == slow.key_positions
    assert fast.position(()) == (1, 1)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(JSON_VALUES, JSON_VALUES, st.text(max_size=4), st.sampled_from(["", ":", '":', "\\"]),
       st.booleans())
def test_a_duplicate_key_is_found_however_the_text_is_read(first, second, key, tail, deep):
    """A key written twice in one mapping is a problem whichever reader reads the text
    (orjson, the json module or the scanner), even with colons and quotes in the key or in
    the values, and the first value is kept."""
    key += tail
    text = "{" + json.dumps(key) + ":" + json.dumps(first) + ", " + json.dumps(key) + ":" + \
        json.dumps(second) + "}"
    if deep:
        text = '{"a": [' + text + "]}"
    doc = parse_json_text(text, "f")
    assert len(doc.problems) == 1 and "duplicate key" in str(doc.problems[0])
    kept = doc.data["a"][0] if deep else doc.data
    assert json.dumps(kept) == json.dumps({key: first})


@pytest.mark.parametrize("text", ["1e400", "[1.5, 2]", '{"a": 123456789012345678901234}',
                                  '{"a": -9223372036854775809}', '{"a": 9223372036854775807}',
                                  '{"a": "b:c", "d": 1}', '{"a": 1.0}', "-0", "-0.0"])
def test_numbers_and_colons_read_as_the_json_module_reads_them(text):
    assert json.dumps(parse_json_text(text, "f").data) == json.dumps(json.loads(text))


# ------------------------------------------------------------------ 2. .json case files


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_evaluate_and_compare_take_a_json_case_file(tmp_path, fmt):
    path = EXAMPLES / "religious-objector.yaml"
    case = tmp_path / "religious-objector.json"
    case.write_text(as_json(path, indent=1))
    from_yaml = run_cli("evaluate", str(path), "-f", fmt, "--today", TODAY)
    from_json = run_cli("evaluate", str(case), "-f", fmt, "--today", TODAY)
    assert from_json.code == 0 and from_json.out == from_yaml.out
    if fmt == "text":
        a = run_cli("compare", str(path), "--editions", *EDITIONS, "--today", TODAY)
        b = run_cli("compare", str(case), "--editions", *EDITIONS, "--today", TODAY)
        assert b.code == 0 and b.out == a.out


def test_a_folder_s_json_files_are_cases_too(tmp_path):
    for path in CASES[:3]:
        (tmp_path / f"{path.stem}.json").write_text(as_json(path))
    (tmp_path / "b.yaml").write_bytes(CASES[3].read_bytes())
    (tmp_path / "b.expected.yaml").write_text("x: 1\n")  # a sidecar: skipped
    (tmp_path / "c.json").write_text("{}")
    (tmp_path / "c.expected.yaml").write_text("x: 1\n")  # a sidecar of a JSON case
    (tmp_path / "notes.txt").write_text("not a case")
    r = run_cli("evaluate", str(tmp_path), "-f", "outcomes", "--today", TODAY)
    assert r.code == 0, r.err
    paths = [json.loads(line)["path"] for line in r.out.splitlines()]
    assert paths == sorted([*(f"{tmp_path.as_posix()}/{p.stem}.json" for p in CASES[:3]),
                            f"{tmp_path.as_posix()}/b.yaml", f"{tmp_path.as_posix()}/c.json"])
    assert "Summary: 5 file(s), 5 assessed, 0 refused, 3 skipped" in r.err
    assert "skipped 1: not named *.yaml, *.yml, *.json or *.jsonl" in r.err
    assert "skipped 2: scenario sidecar" in r.err


# ------------------------------------------------------------------ 3. .jsonl caseloads


def caseload(tmp_path, *lines: str, name: str = "caseload.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def line_of(path, **change) -> str:
    data = read_yaml_file(path).data
    data.update(change)
    return json.dumps(data, ensure_ascii=False)


def test_a_jsonl_caseload_is_one_case_per_line_with_refusals_counted(tmp_path):
    good, other = CASES[0], CASES[1]
    bad = read_yaml_file(good).data
    bad["applicant"]["sex"] = "mal"
    load = caseload(tmp_path, line_of(good), "", "   ", json.dumps(bad),
                    line_of(other, case_id=None), '{"case_id": "X", "case_id": "Y"}',
                    "[" * 20_000 + "]" * 20_000, "not json", line_of(other))
    r = run_cli("evaluate", str(load), "-f", "outcomes", "--today", TODAY)
    assert r.code == 3
    out = [json.loads(line) for line in r.out.splitlines()]
    shown = load.as_posix()
    assert [o["path"] for o in out] == [f"{shown}:{n}" for n in (1, 4, 5, 6, 7, 8, 9)]
    assert [o["refused"] is None for o in out] == [True, False, False, False, False, False,
                                                   True]
    assert out[0]["case_id"] == read_yaml_file(good).data["case_id"]
    sex = bad["applicant"]["sex"]
    column = json.dumps(bad).index(f'"{sex}"') + 1
    assert out[1]["refused"]["problems"][0].startswith(
        f"{shown}:4:{column}: applicant.sex: 'mal' is not an allowed value")
    column = line_of(other, case_id=None).index('null') + 1  # case_id's value: null
    assert out[2]["refused"]["problems"] == [
        f"{shown}:5:{column}: case_id: missing: each case of a JSONL caseload needs its "
        "case_id (1-64 letters, digits, '.', '_', '-'), to tell its results from the other "
        "lines'"]
    assert out[3]["refused"]["problems"][0].startswith(
        f"{shown}:6:18: case_id: duplicate key 'case_id'")
    assert out[4]["refused"]["problems"] == [
        f"{shown}:7:{MAX_DEPTH + 1}: too deeply nested (more than {MAX_DEPTH} levels)"]
    assert out[5]["refused"]["problems"][0].startswith(f"{shown}:8:1: JSON syntax error:")
    assert "Summary: 7 file(s), 2 assessed, 5 refused, 0 skipped" in r.err


def test_a_line_without_case_id_is_refused_and_named(tmp_path):
    load = caseload(tmp_path, '{"format": 1}', '{"case_id": ""}', '{"case_id": "OK-1"}')
    r = run_cli("evaluate", str(load), "--today", TODAY)
    assert r.code == 3
    lines = r.out.splitlines()
    assert lines[0] == (f"{load}:1: REFUSED (1 problem): {load}:1:1: case_id: missing: each "
                        "case of a JSONL caseload needs its case_id (1-64 letters, digits, "
                        "'.', '_', '-'), to tell its results from the other lines'")
    assert lines[1].startswith(f"{load}:2: REFUSED") and f"{load}:2:13: case_id:" in lines[1]
    assert lines[2].startswith(f"{load}:3: euaa-")


def test_a_missing_or_special_jsonl_file_is_one_counted_refusal(tmp_path):
    missing = tmp_path / "gone.jsonl"
    good = caseload(tmp_path, line_of(CASES[0]))
    r = run_cli("evaluate", str(missing), str(good), "--today", TODAY)
    assert r.code == 3
    assert r.out.splitlines()[1] == f"{missing}: REFUSED (1 problem): {missing}: no such file"
    assert "Summary: 2 file(s), 1 assessed, 1 refused" in r.out


def test_an_over_long_line_is_refused_and_the_rest_goes_on(tmp_path):
    load = tmp_path / "big.jsonl"
    with open(load, "w") as f:
        f.write(line_of(CASES[0]) + "\n")
        f.write('{"case_id": "' + "x" * (MAX_BYTES + 10) + '"}\n')
        f.write(line_of(CASES[1]) + "\n")
    r = run_cli("evaluate", str(load), "-f", "outcomes", "--today", TODAY)
    assert r.code == 3
    out = [json.loads(line) for line in r.out.splitlines()]
    assert [o["path"].rsplit(":", 1)[1] for o in out] == ["1", "2", "3"]
    assert out[1]["refused"]["problems"] == [
        f"{load}:2: line is longer than the limit of {MAX_BYTES:,} bytes (1 MiB) for one case"]
    assert out[2]["refused"] is None


def test_a_jsonl_caseload_gives_the_reports_of_its_case_files(tmp_path):
    load = caseload(tmp_path, *(line_of(p) for p in CASES))
    by_line = run_cli("evaluate", str(load), "-f", "jsonl", "--today", TODAY)
    by_file = run_cli("evaluate", *map(str, CASES), "-f", "jsonl", "--today", TODAY)
    assert by_line.code == by_file.code == 0
    assert by_line.out == by_file.out
    # the same with workers asked for: the lines are assessed in this process
    jobs = run_cli("evaluate", str(load), "-f", "jsonl", "-j", "2", "--today", TODAY)
    assert jobs.out == by_line.out


def test_compare_takes_a_jsonl_caseload(tmp_path):
    load = caseload(tmp_path, *(line_of(p) for p in CASES[:6]), '{"format": 1}')
    csv = tmp_path / "impact.csv"
    r = run_cli("compare", str(load), "--editions", *EDITIONS, "--summary-csv", str(csv),
                "--today", TODAY)
    by_file = run_cli("compare", *map(str, CASES[:6]), "--editions", *EDITIONS,
                      "--today", TODAY)
    assert r.code == 3 and by_file.code == 0
    rows = csv.read_text().splitlines()
    assert [row.split(",", 1)[0] for row in rows[1:]] == [f"{load.as_posix()}:{n}"
                                                           for n in range(1, 8)]
    assert "case_id: missing" in rows[-1]
    # the counts are those of the case files
    assert "(7 file(s))" in r.out.split("\n", 1)[0]  # the refused line is counted
    table = r.out.split("\n", 1)[1].split("Summary")[0]
    assert table == by_file.out.split("\n", 1)[1].split("Summary")[0]


def test_a_jsonl_caseload_is_not_written_as_documents(tmp_path):
    load = caseload(tmp_path, line_of(CASES[0]))
    r = run_cli("evaluate", str(load), "-f", "markdown", "-o", f"{tmp_path}/out/",
                "--today", TODAY)
    assert r.code == 2 and "is a JSONL caseload" in r.err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_jsonl_in_a_folder_is_read_line_by_line(tmp_path):
    caseload(tmp_path, line_of(CASES[0]), line_of(CASES[1]))
    (tmp_path / "one.json").write_text(as_json(CASES[2]))
    r = run_cli("evaluate", str(tmp_path), "-f", "outcomes", "--today", TODAY)
    assert r.code == 0, r.err
    paths = [json.loads(line)["path"] for line in r.out.splitlines()]
    assert [p.rsplit("/", 1)[1] for p in paths] == ["caseload.jsonl:1", "caseload.jsonl:2",
                                                   "one.json"]


# ------------------------------------------------------------------ 4. the service


@pytest.fixture(scope="module")
def client():
    from serving import Server

    server = Server()
    with httpx.Client(base_url=server.base, timeout=60) as c:
        yield c
    assert server.stop() == 0, server.log()


def test_the_service_takes_a_surrogate_pair_and_refuses_duplicates(client, tmp_path):
    # the name of a rule-free text field of the vocabulary, to carry the emoji
    free = next(p.split(".", 1)[1] for p, spec in VOCAB.facts.items() if spec.kind == "text")
    data = read_yaml_file(EXAMPLES / "religious-objector.yaml").data
    data["applicant"][free] = "PLACEHOLDER"
    body = json.dumps(data).replace("PLACEHOLDER", "x\\uD83D\\uDE00")
    r = client.post("/v1/assessments", content=body.encode(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    # the same bytes as evaluate of the file
    case = tmp_path / "case.json"
    case.write_text(body)
    assert r.content == run_cli("evaluate", str(case), "-f", "json", "--today",
                                "2026-12-01").out.encode()
    # the JSON report does not repeat a text fact; the document does, with its emoji
    r = client.post("/v1/assessments?format=markdown", content=body.encode(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 200 and "x\U0001F600" in r.text
    dup = '{"format": 1,\n "case_id": "A",\n "case_id": "B"}'
    r = client.post("/v1/assessments", content=dup.encode(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    got = r.json()
    assert got["type"].endswith(":unreadable") and got["exit_code"] == 3
    assert got["problems"][0]["line"] == 3 and got["problems"][0]["column"] == 2
    assert got["problems"][0]["path"] == "case_id"
    assert "duplicate key 'case_id'" in got["problems"][0]["message"]
    # a lone half: 400 at its place
    r = client.post("/v1/assessments", content=b'{"case_id": "\\ud83d"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["problems"][0]["column"] == 13


# ------------------------------------------------------------------ 5. properties


ASSESSOR = None


def assessor() -> Assessor:
    global ASSESSOR
    if ASSESSOR is None:
        import datetime as dt

        ASSESSOR = Assessor(today=dt.date(2026, 12, 1), rules_dir=RULES)
    return ASSESSOR


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from([None, 2]), st.booleans())
def test_json_and_yaml_readings_of_a_case_give_the_same_report(seed, indent, ascii_only):
    from riskassess.io.reader import parse_yaml_text

    case = case_dicts(VOCAB, 1, seed=seed)[0]
    as_yaml = yaml.safe_dump(case, sort_keys=False, allow_unicode=True)
    as_json_text = json.dumps(case, indent=indent, ensure_ascii=ascii_only)
    a = assessor().assess_document(parse_yaml_text(as_yaml, "c.yaml"))
    b = assessor().assess_document(parse_json_text(as_json_text, "c.json"))
    assert a.json() == b.json()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(0, 10_000), st.data())
def test_a_duplicate_key_is_refused_where_it_is_in_json_and_jsonl(seed, data):
    case = case_dicts(VOCAB, 1, seed=seed)[0]
    key = data.draw(st.sampled_from(sorted(case["applicant"])))
    text = json.dumps(case)
    # the key again, just after the first
    first = text.index(f'"{key}"', text.index('"applicant"'))
    again = f'"{key}": null, '
    dup = text[:first] + again + text[first:]
    line = data.draw(st.integers(1, 50))
    # as a .json file's text, and as line `line` of a JSONL caseload (blank lines before)
    from riskassess.io.reader import jsonl_lines

    with tempfile.TemporaryDirectory() as folder:
        load = os.path.join(folder, "c.jsonl")
        with open(load, "w", encoding="utf-8") as f:
            f.write("\n" * (line - 1) + dup + "\n" + text + "\n")
        read = list(jsonl_lines(load))
    assert [n for n, _ in read] == [line, line + 1] and read[1][1].problems == ()
    for doc in (parse_json_text(dup, "c"), read[0][1]):
        found = [p for p in doc.problems if "duplicate key" in p.message]
        assert len(found) == 1
        assert found[0].path == f"applicant.{key}"
        assert found[0].column == first + len(again) + 1
    assert found[0].line == line
    with pytest.raises(CaseFileError):  # and the case is refused with it
        case_from_document(read[0][1], VOCAB)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.integers(MAX_DEPTH + 1, 3_000), st.integers(1, 40), st.sampled_from("[{"))
def test_the_depth_limit_holds_for_json_and_jsonl_lines(depth, line, opener):
    text = ('{"a":' * depth + "1" + "}" * depth) if opener == "{" else \
        ("[" * depth + "]" * depth)
    with pytest.raises(CaseFileError) as info:
        parse_json_text(text, "c", first_line=line)
    (problem,) = info.value.problems
    step = 5 if opener == "{" else 1
    assert (problem.line, problem.column) == (line, step * MAX_DEPTH + 1)
    assert problem.message == f"too deeply nested (more than {MAX_DEPTH} levels)"


def test_the_size_limit_holds_for_a_json_file_and_for_each_jsonl_line(tmp_path):
    from riskassess.io.reader import jsonl_lines

    load = tmp_path / "c.jsonl"
    small = '{"case_id": "A"}'
    with open(load, "w") as f:
        f.write(small + "\n" + " " * (MAX_BYTES - 1) + small + "\n" + small + "\n")
    got = list(jsonl_lines(load))
    assert [n for n, _ in got] == [1, 2, 3]
    assert isinstance(got[1][1], CaseFileError)
    assert str(got[1][1].problems[0]) == (f"{load}:2: line is longer than the limit of "
                                          f"{MAX_BYTES:,} bytes (1 MiB) for one case")
    assert got[2][1].data == {"case_id": "A"}


def test_a_jsonl_file_that_is_not_a_regular_file_is_refused(tmp_path):
    fifo = tmp_path / "c.jsonl"
    os.mkfifo(fifo)
    proc = real("evaluate", str(fifo), "--today", TODAY)
    assert proc.returncode == 3
    assert f"{fifo}: is a named pipe (FIFO), not a JSONL file" in proc.stdout + proc.stderr


def test_invalid_yaml_fixtures_still_refused_the_same(tmp_path):
    """The YAML reader is untouched: a fixture of tests/data/invalid still gives its first
    line's expectation (a spot check; tests/test_invalid_cases.py checks them all)."""
    dup = next(p for p in (DATA / "invalid").iterdir() if "duplicate" in p.name)
    r = run_cli("evaluate", str(dup), "--today", TODAY)
    assert r.code == 3 and "duplicate key" in r.err


def test_the_fast_path_answers_a_jsonl_caseload_as_a_batch(tmp_path):
    """A real process with its output to a file (the fast path's condition): a one-line
    caseload is still a caseload (its line shown as FILE:1, a summary), and a .json file
    is read as JSON."""
    load = caseload(tmp_path, line_of(CASES[0]))
    out = tmp_path / "out.txt"
    with open(out, "w") as f:
        proc = subprocess.run([*TOOL, "evaluate", str(load), "-f", "outcomes", "--today", TODAY],
                              stdout=f, stderr=subprocess.PIPE, text=True, timeout=120,
                              stdin=subprocess.DEVNULL, env=tool_env())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["path"] == f"{load.as_posix()}:1"
    assert "Summary: 1 file(s), 1 assessed" in proc.stderr
