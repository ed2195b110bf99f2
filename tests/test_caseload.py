"""`compare FOLDER --editions A B`: the caseload impact of a guidance change.

Every expected count is derived by assessing each case file on its own with the single-case
path (`core.assess_file`, edition forced), never written down: the matrices, the summary
and the CSV must agree with those assessments, and with one another.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import re
import shutil
import weakref
from collections import Counter
from pathlib import Path

import pytest
from conftest import DATA, EXAMPLES, RULES, VOCAB, run_cli

from riskassess.assess.core import Assessor, assess_file, case_files
from riskassess.errors import ExitCode, UserError
from riskassess.law.ruleset import load_catalog
from riskassess.render.comparison import describe_comparison

OLD, NEW = "euaa-syria-2024", "euaa-syria-2025-12"
EDITIONS = ["--editions", OLD, NEW]
TODAY = "2026-03-01"  # for a case without assessment_date, in both the CLI and assess_file
DAY = dt.date.fromisoformat(TODAY)
QUESTIONS = VOCAB.question_ids
TITLES = {e.id: e.title for e in load_catalog(RULES)[0].editions}
CASES = sorted((p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml")),
               key=lambda p: p.as_posix())
SIDECARS = list(EXAMPLES.glob("*.expected.yaml"))


def outcomes(path: Path, edition: str) -> tuple[str, ...]:
    report = assess_file(path, today=DAY, ruleset_id=edition).report
    return tuple(report.question(q).outcome for q in QUESTIONS)


def expected_transitions(paths: list[Path]) -> tuple[Counter, dict[str, list[str]]]:
    """(question, before, after) -> cases, and per file the questions whose outcome changed,
    each case assessed on its own under both editions."""
    counts: Counter = Counter()
    changed: dict[str, list[str]] = {}
    for path in paths:
        before, after = outcomes(path, OLD), outcomes(path, NEW)
        for q, a, b in zip(QUESTIONS, before, after, strict=True):
            counts[(q, a, b)] += 1
        changed[path.as_posix()] = [q for q, a, b in zip(QUESTIONS, before, after, strict=True)
                                    if a != b]
    return counts, changed


ROW = re.compile(r"^  \[(\d+)\] .* \((\w+)\)((?:\s+\d+)+)$")


def matrices(out: str) -> dict[str, dict]:
    """Per question: its cells (before, after) -> cases, the row and column totals, the
    grand total, and the 'changed' figure, as printed."""
    found: dict[str, dict] = {}
    heads = {f"{VOCAB.question(q).title} ({q}): {VOCAB.question(q).description}": q
             for q in QUESTIONS}
    order: list[str] = []
    current = None
    for line in out.splitlines():
        if line in heads:
            current = heads[line]
            found[current] = {"cells": {}, "rows": {}, "order": [], "changed": None}
            order.append(current)
            continue
        if current is None:
            continue
        m = ROW.match(line)
        section = found[current]
        if m:
            numbers = [int(n) for n in m.group(3).split()]
            section["order"].append(m.group(2))
            section["rows"][m.group(2)] = (numbers[:-1], numbers[-1])
        elif line.startswith("  total "):
            numbers = [int(n) for n in line.split()[1:]]
            section["columns"], section["total"] = numbers[:-1], numbers[-1]
        elif (c := re.match(r"^  changed: (\d+) of (\d+) case\(s\)$", line)):
            section["changed"] = (int(c.group(1)), int(c.group(2)))
            current = None
    for section in found.values():
        for a, (cells, _) in section["rows"].items():
            for b, n in zip(section["order"], cells, strict=True):
                section["cells"][(a, b)] = n
    assert order == list(QUESTIONS), "the questions are not all there, in the vocabulary's order"
    return found


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> tuple[object, Path]:
    table = tmp_path_factory.mktemp("impact") / "impact.csv"
    r = run_cli("compare", str(EXAMPLES), *EDITIONS, "--today", TODAY,
                "--summary-csv", str(table))
    assert r.code == 0, r.err
    assert "Traceback" not in r.err
    return r, table


def test_matrices_of_the_shipped_examples_match_each_case_assessed_alone(shipped):
    r, _ = shipped
    counts, changed = expected_transitions(CASES)
    found = matrices(r.out)
    for q in QUESTIONS:
        section = found[q]
        cells = {k: n for k, n in section["cells"].items() if n}
        assert cells == {(a, b): n for (qq, a, b), n in counts.items() if qq == q}, q
        # rows and columns: the outcomes that occur, in the vocabulary's order, once each
        seen = {o for (qq, a, b) in counts if qq == q for o in (a, b)}
        assert section["order"] == [o for o in VOCAB.question(q).outcomes if o in seen]
        # totals: each row's, each column's, and the grand total = the cases assessed
        for a, (row, total) in section["rows"].items():
            assert total == sum(row) == sum(n for (x, _), n in cells.items() if x == a)
        assert section["columns"] == [sum(section["rows"][a][0][j] for a in section["order"])
                                      for j in range(len(section["order"]))]
        assert section["total"] == sum(section["columns"]) == len(CASES)
        off = sum(n for (a, b), n in cells.items() if a != b)
        assert section["changed"] == (off, len(CASES))
        assert off == sum(q in qs for qs in changed.values())
    assert sum(bool(qs) for qs in changed.values()) > 0, "the editions differ on no example"


def test_header_and_summary_of_the_shipped_examples(shipped):
    r, _ = shipped
    _, changed = expected_transitions(CASES)
    head = r.out.split("\n\n")[0]
    assert f"'{TITLES[OLD]}' ({OLD})" in head and f"'{TITLES[NEW]}' ({NEW})" in head
    assert head.index(OLD) < head.index(NEW)
    assert "the facts are the same" in head and "change of edition" in head
    assert (f"Summary: {len(CASES)} file(s), {len(CASES)} assessed, 0 refused, "
            f"{len(SIDECARS)} skipped") in r.out
    assert f"skipped {len(SIDECARS)}: scenario sidecar" in r.out
    at_least_one = sum(bool(qs) for qs in changed.values())
    assert (f"changed on at least one question: {at_least_one} of {len(CASES)} assessed "
            "case(s)") in r.out
    assert "Refused files:" not in r.out


def test_summary_csv_of_the_shipped_examples(shipped):
    r, table = shipped
    rows = read_csv(table)
    assert list(rows[0]) == ["path", "case_id", "assessment_date",
                             *(f"{q}:{e}" for q in QUESTIONS for e in (OLD, NEW)),
                             "changed", "refused"]
    assert [row["path"] for row in rows] == [p.as_posix() for p in CASES]  # path order
    for path, row in zip(CASES, rows, strict=True):
        report = assess_file(path, today=DAY, ruleset_id=OLD).report
        assert row["case_id"] == (report.case_id or "")
        assert row["assessment_date"] == report.assessment_date.isoformat()
        assert tuple(row[f"{q}:{OLD}"] for q in QUESTIONS) == outcomes(path, OLD)
        assert tuple(row[f"{q}:{NEW}"] for q in QUESTIONS) == outcomes(path, NEW)
        assert row["changed"] == ";".join(q for q in QUESTIONS
                                          if row[f"{q}:{OLD}"] != row[f"{q}:{NEW}"])
        assert row["refused"] == ""
    # the matrices' diagonal and off-diagonal agree with the CSV's changed column
    found = matrices(r.out)
    for q in QUESTIONS:
        cells = found[q]["cells"]
        off = sum(n for (a, b), n in cells.items() if a != b)
        diagonal = sum(n for (a, b), n in cells.items() if a == b)
        assert off == sum(q in row["changed"].split(";") for row in rows)
        assert diagonal == sum(q not in row["changed"].split(";") for row in rows)
        assert Counter((row[f"{q}:{OLD}"], row[f"{q}:{NEW}"]) for row in rows) == \
            Counter({k: n for k, n in cells.items() if n})


@pytest.fixture
def caseload(tmp_path: Path) -> Path:
    folder = tmp_path / "load"
    (folder / "sub").mkdir(parents=True)
    for p in CASES[:3]:
        shutil.copy(p, folder / p.name)
    shutil.copy(CASES[3], folder / "sub" / CASES[3].name)
    shutil.copy(DATA / "invalid" / "syntax-error.yaml", folder / "broken.yaml")
    (folder / "notes.txt").write_text("not a case file", encoding="utf-8")
    return folder


def test_a_refused_file_is_counted_once_and_the_exit_code_says_so(caseload, tmp_path):
    table = tmp_path / "impact.csv"
    r = run_cli("compare", str(caseload), *EDITIONS, "--today", TODAY,
                "--summary-csv", str(table))
    assert r.code == ExitCode.INVALID_INPUT, r.err
    assert "Traceback" not in r.err
    broken = caseload / "broken.yaml"
    with pytest.raises(UserError) as refused:
        assess_file(broken, today=DAY, ruleset_id=OLD)
    first = str(refused.value.problems[0])
    good = [p for p in case_files([caseload])]
    good = [p for p in good if p != broken]
    assert "Summary: 5 file(s), 4 assessed, 1 refused, 1 skipped" in r.out
    assert f"  {broken.as_posix()} (exit {int(refused.value.exit_code)}): {first}" in r.out
    counts, changed = expected_transitions(good)
    found = matrices(r.out)
    for q in QUESTIONS:
        assert found[q]["total"] == len(good)  # the refused file is in no matrix
        assert {k: n for k, n in found[q]["cells"].items() if n} == \
            {(a, b): n for (qq, a, b), n in counts.items() if qq == q}
    rows = {row["path"]: row for row in read_csv(table)}
    assert list(rows) == sorted(rows)
    bad = rows[broken.as_posix()]
    assert bad["refused"].split(" | ")[0] == first
    assert all(bad[f"{q}:{e}"] == "" for q in QUESTIONS for e in (OLD, NEW))
    assert bad["changed"] == "" and bad["case_id"] == ""
    for path, qs in changed.items():
        assert rows[path]["changed"] == ";".join(qs) and rows[path]["refused"] == ""


def test_the_exit_code_is_the_most_severe_refusal(caseload):
    # a case from outside the guidance's scope is refused with its own code (7), higher
    # than the broken file's (3)
    (caseload / "elsewhere.yaml").write_text("format: 1\napplicant:\n  country_of_origin: AF\n",
                                             encoding="utf-8")
    with pytest.raises(UserError) as scope:
        assess_file(caseload / "elsewhere.yaml", today=DAY, ruleset_id=OLD)
    r = run_cli("compare", str(caseload), *EDITIONS, "--today", TODAY)
    assert r.code == max(int(scope.value.exit_code), int(ExitCode.INVALID_INPUT))
    assert r.code == ExitCode.OUT_OF_SCOPE
    assert "2 refused" in r.out


def test_the_csv_never_overwrites_an_input_nor_an_existing_file_without_force(caseload,
                                                                             tmp_path):
    victim = caseload / CASES[0].name
    before = victim.read_bytes()
    r = run_cli("compare", str(caseload), *EDITIONS, "--summary-csv", str(victim))
    assert r.code == ExitCode.USAGE and "is an input file" in r.err
    assert victim.read_bytes() == before
    assert r.out == ""  # refused before any case is assessed
    table = tmp_path / "impact.csv"
    table.write_text("mine\n", encoding="utf-8")
    again = run_cli("compare", str(caseload), *EDITIONS, "--summary-csv", str(table))
    assert again.code == ExitCode.USAGE and "--force" in again.err
    assert table.read_text(encoding="utf-8") == "mine\n"
    forced = run_cli("compare", str(caseload), *EDITIONS, "--summary-csv", str(table),
                     "--force")
    assert forced.code == ExitCode.INVALID_INPUT  # the broken file; the CSV is written
    assert table.read_text(encoding="utf-8").startswith("path,case_id,assessment_date,")


def test_two_runs_are_byte_identical_whatever_the_order_given(caseload, tmp_path):
    files = [str(p) for p in case_files([caseload])]
    runs = []
    for i, args in enumerate([[str(caseload)], [str(caseload)], files, files[::-1]]):
        table = tmp_path / f"t{i}.csv"
        r = run_cli("compare", *args, *EDITIONS, "--today", TODAY, "--summary-csv", str(table))
        runs.append((r.code, r.out, r.err, table.read_bytes()))
    assert runs[0] == runs[1]
    # the files named one by one, in either order: the same, but for the folder's notes.txt,
    # which is no longer there to be skipped
    code, out, err, table = runs[0]
    unnamed = out.replace("1 skipped\n  skipped 1: not named *.yaml, *.yml, *.json or "
                          "*.jsonl\n", "0 skipped\n")
    assert unnamed != out
    assert runs[2] == runs[3] == (code, unnamed, err, table)


def test_the_single_file_form_is_unchanged():
    case = EXAMPLES / "daraa-conscript-amnesty.yaml"
    r = run_cli("compare", str(case), *EDITIONS, "--today", TODAY)
    assert r.code == 0, r.err
    first = assess_file(case, today=DAY, ruleset_id=OLD)
    second = assess_file(case, today=DAY, ruleset_id=NEW)
    lines = describe_comparison(first.report, second.report, first.ruleset, second.ruleset,
                                TITLES)
    assert r.out == "\n".join(lines) + "\n"
    assert "Summary:" not in r.out


def test_a_single_file_with_a_summary_csv_is_a_caseload_of_one(tmp_path):
    case = EXAMPLES / "daraa-conscript-amnesty.yaml"
    table = tmp_path / "one.csv"
    r = run_cli("compare", str(case), *EDITIONS, "--today", TODAY, "--summary-csv", str(table))
    assert r.code == 0, r.err
    assert "Summary: 1 file(s), 1 assessed, 0 refused, 0 skipped" in r.out
    (row,) = read_csv(table)
    assert tuple(row[f"{q}:{NEW}"] for q in QUESTIONS) == outcomes(case, NEW)
    assert all(found["total"] == 1 for found in matrices(r.out).values())


@pytest.mark.parametrize("editions", [[OLD, "no-such-edition"], [OLD, "euaa-syria-2025-06"]],
                         ids=["unknown", "not encoded"])
def test_an_edition_that_is_not_encoded_is_a_usage_error(caseload, editions):
    r = run_cli("compare", str(caseload), "--editions", *editions)
    assert r.code == ExitCode.USAGE and editions[1] in r.err and "not an encoded" in r.err
    assert r.out == ""  # refused once, not once per file


def test_an_empty_folder_is_a_usage_error(tmp_path):
    r = run_cli("compare", str(tmp_path), *EDITIONS)
    assert r.code == ExitCode.USAGE and "no case files" in r.err


def test_a_broken_rule_set_stops_the_run(caseload, tmp_path, rules):
    risk = rules / OLD / "risk.yaml"
    risk.write_text(risk.read_text().replace("cites: [cg24.concl.risk-co]", "cites: [x]"))
    table = tmp_path / "impact.csv"
    r = run_cli("compare", str(caseload), *EDITIONS, "--rules-dir", str(rules),
                "--summary-csv", str(table))
    assert r.code == ExitCode.RULESET_ERROR, r.err
    assert not table.exists() and list(tmp_path.glob(".impact.csv.*")) == []


def test_no_report_outlives_its_case(caseload, monkeypatch):
    """Only counts are kept: every report is gone once its case has been counted."""
    from riskassess.assess import caseload as module

    reports: list[weakref.ref] = []
    real = Assessor.assess_document

    def assess(self, doc):
        done = real(self, doc)
        reports.append(weakref.ref(done))
        return done

    monkeypatch.setattr(Assessor, "assess_document", assess)
    first, second = module.assessors((OLD, NEW), today=DAY)
    impact = module.run(case_files([caseload]), first, second)
    gc.collect()
    assert impact.assessed == 4 and len(reports) == 8
    assert [r for r in reports if r() is not None] == []


def test_an_unreadable_file_is_refused_and_the_run_goes_on(caseload):
    loop = caseload / "loop.yaml"
    loop.symlink_to(loop)  # a symlink loop
    with pytest.raises(UserError) as refused:
        assess_file(loop, today=DAY, ruleset_id=OLD)
    r = run_cli("compare", str(caseload), *EDITIONS, "--today", TODAY)
    assert r.code == ExitCode.INVALID_INPUT and "Traceback" not in r.out + r.err
    assert "Summary: 6 file(s), 4 assessed, 2 refused" in r.out
    assert f"  {loop.as_posix()} (exit 3): {refused.value.problems[0]}" in r.out
