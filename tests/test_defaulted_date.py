"""A case without `assessment_date` is assessed as of today, and every format says so.

The date picks the edition, so a reader of any report must be able to see that it was
filled in by the tool and not written in the case file."""

from __future__ import annotations

import csv
import json

import pytest
from baselines import docx_structure
from conftest import run_cli

TODAY = "2026-02-10"
STATEMENT = f"Assessment date not given in the case file: today, {TODAY}, was used"


@pytest.fixture
def undated(tmp_path):
    path = tmp_path / "undated.yaml"
    path.write_text("applicant:\n  military_status: deserter\n  sex: male\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html", "docx"])
def test_every_format_states_the_defaulted_date(undated, tmp_path, fmt):
    target = tmp_path / f"report.{fmt}"
    r = run_cli("evaluate", str(undated), "-f", fmt, "-o", str(target), "--today", TODAY)
    assert r.code == 0, r.err
    data = target.read_bytes()
    if fmt == "docx":
        text = docx_structure(data)
    elif fmt == "json":
        report = json.loads(data)
        assert report["assessment_date"] == TODAY
        [text] = [w["message"] for w in report["warnings"]
                  if w["code"] == "assessment_date_defaulted"]
    else:
        text = " ".join(data.decode("utf-8").split())
    assert STATEMENT in text


def test_a_dated_case_carries_no_such_statement(undated, tmp_path):
    dated = tmp_path / "dated.yaml"
    dated.write_text(f"assessment_date: {TODAY}\n" + undated.read_text(), encoding="utf-8")
    r = run_cli("evaluate", str(dated), "-f", "json", "--today", TODAY)
    assert "assessment_date_defaulted" not in r.out
    # otherwise the two reports are the same
    a = json.loads(r.out)
    b = json.loads(run_cli("evaluate", str(undated), "-f", "json", "--today", TODAY).out)
    b["warnings"] = [w for w in b["warnings"] if w["code"] != "assessment_date_defaulted"]
    assert a == b


def test_batches_show_it_in_the_line_and_the_csv(undated, tmp_path):
    table = tmp_path / "summary.csv"
    r = run_cli("evaluate", str(undated), "--summary-csv", str(table), "--today", TODAY)
    assert r.code == 0, r.err
    assert "assessment_date_defaulted" in r.out
    row = next(csv.DictReader(table.open(encoding="utf-8")))
    assert row["assessment_date"] == TODAY and "assessment_date_defaulted" in row["warnings"]
