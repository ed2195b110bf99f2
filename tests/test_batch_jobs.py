"""Batches in worker processes (`evaluate FOLDER --jobs N`) and the outcomes format.

The output must not depend on the number of workers: the same bytes, in path order,
refusals included; a broken rule set still stops the batch."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import VOCAB, edit, run_cli

from riskassess.assess import batch
from riskassess.errors import ExitCode
from riskassess.law.casegen import case_dicts
from riskassess.law.report import outcomes_model

N = batch.MIN_PARALLEL + 3 * batch.CHUNK + 5  # enough for workers, and a short last chunk


@pytest.fixture(scope="module")
def caseload(tmp_path_factory):
    folder = tmp_path_factory.mktemp("caseload")
    for i, data in enumerate(case_dicts(VOCAB, N, seed=41)):
        sub = folder / f"{i % 7}"
        sub.mkdir(exist_ok=True)
        (sub / f"case-{i:04d}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (folder / f"{100 % 7}" / "case-0100.yaml").write_text("{ broken\n")  # refused, mid-way
    return folder


@pytest.mark.parametrize("fmt", ["outcomes", "jsonl", "text"])
def test_workers_change_nothing_in_the_output(caseload, tmp_path, fmt):
    outputs = {}
    for jobs in (1, 2, 3, 50):  # 50: no more workers than chunks are started
        target = tmp_path / f"out-{jobs}.{'txt' if fmt == 'text' else 'jsonl'}"
        r = run_cli("evaluate", str(caseload), "-f", fmt, "-o", str(target), "--jobs",
                    str(jobs), "--today", "2026-12-01")
        assert r.code == ExitCode.INVALID_INPUT, r.err  # the broken file
        assert f"{N} file(s), {N - 1} assessed, 1 refused" in r.err
        outputs[jobs] = target.read_bytes()
    assert outputs[1] == outputs[2] == outputs[3] == outputs[50]
    lines = outputs[1].decode().splitlines()
    assert len(lines) == (N - 1 if fmt == "jsonl" else N)  # jsonl has reports only
    shown = [line.split(":", 1)[0] if fmt == "text" else json.loads(line).get("path")
             for line in lines]
    if fmt != "jsonl":  # in path order (a JSON report does not name its file)
        assert shown == sorted(shown)


def test_outcomes_lines_validate_and_refusals_are_lines_too(caseload, tmp_path):
    target = tmp_path / "out.jsonl"
    run_cli("evaluate", str(caseload), "-f", "outcomes", "-o", str(target), "--jobs", "2",
            "--today", "2026-12-01")
    model = outcomes_model(VOCAB)
    refused = []
    for line in target.read_text().splitlines():
        parsed = model.model_validate_json(line)
        if parsed.refused is not None:
            refused.append(parsed)
    assert len(refused) == 1 and refused[0].refused.exit_code == ExitCode.INVALID_INPUT
    assert refused[0].path.endswith(f"{100 % 7}/case-0100.yaml")
    assert refused[0].questions.model_dump(exclude_none=True) == {}


def test_a_broken_rule_set_stops_a_parallel_batch(caseload, tmp_path, rules):
    edit(rules / "euaa-syria-2024" / "risk.yaml", "cites: [cg24.concl.risk-co]", "cites: [x]")
    target = tmp_path / "out.jsonl"
    r = run_cli("evaluate", str(caseload), "-f", "outcomes", "-o", str(target), "--jobs", "2",
                "--rules-dir", str(rules), "--today", "2026-12-01")
    assert r.code == ExitCode.RULESET_ERROR, r.err
    assert not target.exists()


def test_schema_outcomes_is_the_lines_schema():
    r = run_cli("schema", "outcomes")
    assert r.code == 0
    schema = json.loads(r.out)
    assert set(schema["required"]) >= {"path", "questions", "cites", "open_questions",
                                       "warnings", "refused"}
    assert {q.id for q in VOCAB.questions} <= set(
        schema["$defs"]["Questions"]["properties"])


def test_jobs_must_be_positive(caseload):
    r = run_cli("evaluate", str(caseload), "--jobs", "0")
    assert r.code == ExitCode.USAGE
