"""Batches in worker processes (`evaluate FOLDER --jobs N`) and the outcomes format.

The output must not depend on the number of workers: the same bytes, in path order,
refusals included; a broken rule set still stops the batch."""

from __future__ import annotations

import json
import os
import resource
import subprocess

import pytest
import yaml
from conftest import TOOL, VOCAB, edit, run_cli, tool_env
from hypothesis import given
from hypothesis import strategies as st

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


# ---------------------------------------------- workers that write their lines themselves
#
# With --jobs N and a format of whole lines (jsonl, outcomes), each worker writes its
# chunks' lines to the output itself, in turn (assess/batch.py `_Direct`). Whatever the
# output does to a worker's write, the batch must end as it does in one process.


def _limited(limit: int):
    def set_limit() -> None:  # in the child: a file may not grow beyond `limit` bytes
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return set_limit


def _batch(caseload, fmt: str, jobs: int, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([*TOOL, "evaluate", str(caseload), "-f", fmt, "--jobs",
                             str(jobs), "--today", "2026-12-01", *args],
                            stderr=subprocess.PIPE, env=tool_env(), **kwargs)


@pytest.mark.parametrize("fmt", ["jsonl", "outcomes"])
@pytest.mark.parametrize("where", ["stdout", "--output"])
def test_a_write_failing_in_a_worker_ends_the_batch_as_in_one_process(caseload, tmp_path,
                                                                       fmt, where):
    """A file-size limit halfway through the output: the first chunk (this process's)
    is written, a worker's write fails part-way; exit 6 with the same message, the same
    bytes on standard output, and no --output file, as with --jobs 1."""
    whole = tmp_path / "whole"
    with open(whole, "wb") as out:
        assert _batch(caseload, fmt, 1, stdout=out).wait(timeout=300) == \
            ExitCode.INVALID_INPUT
    limit = whole.stat().st_size // 2
    assert limit > batch.CHUNK * 500  # more than the first chunk's lines
    found = {}
    target = tmp_path / "out"  # named in the message
    for jobs in (1, 2):
        args = ("-o", str(target)) if where == "--output" else ()
        with open(tmp_path / f"stdout-{jobs}", "wb") as out:
            proc = _batch(caseload, fmt, jobs, *args, stdout=out,
                          preexec_fn=_limited(limit))
            _, err = proc.communicate(timeout=300)
        found[jobs] = (proc.returncode, err.decode(),
                       (tmp_path / f"stdout-{jobs}").read_bytes(), target.exists())
    assert found[2] == found[1]
    code, err, written, kept = found[2]
    assert code == ExitCode.CANNOT_WRITE and "File too large" in err and "Traceback" not in err
    assert not kept
    if where == "stdout":
        assert written == whole.read_bytes()[:limit]


def test_an_error_mid_way_leaves_the_lines_assessed_before_it(caseload, tmp_path):
    """One process, its lines written by a thread (a megabyte at a time): the summary CSV
    fails part-way (a file-size limit; standard output is a pipe, which has none). The
    lines assessed before the error are on standard output, whole, as the stream's buffer
    would have left them; exit 6."""
    whole = tmp_path / "whole"
    with open(whole, "wb") as out:
        _batch(caseload, "outcomes", 1, stdout=out).wait(timeout=300)
    proc = _batch(caseload, "outcomes", 1, "--summary-csv", str(tmp_path / "s.csv"),
                  stdout=subprocess.PIPE, preexec_fn=_limited(20_000))
    printed, err = proc.communicate(timeout=300)
    assert proc.returncode == ExitCode.CANNOT_WRITE and b"--summary-csv" in err, err
    lines = printed.splitlines(keepends=True)
    assert 10 < len(lines) < N and whole.read_bytes().startswith(printed)
    assert printed.endswith(b"\n")


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_output_that_fails_is_the_one_named(caseload, tmp_path, jobs):
    """Two outputs open (--output and --summary-csv) and a file-size limit that the
    reports reach first: the error names --output, not the summary (the error passes
    through both writers on its way out), and neither file is left."""
    out, csv = tmp_path / "r.jsonl", tmp_path / "s.csv"
    proc = _batch(caseload, "jsonl", jobs, "-o", str(out), "--summary-csv", str(csv),
                  stdout=subprocess.DEVNULL, preexec_fn=_limited(2_000_000))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == ExitCode.CANNOT_WRITE, err
    assert f"cannot write --output {out}: File too large".encode() in err, err
    assert not out.exists() and not csv.exists()


@pytest.mark.parametrize("fmt", ["jsonl", "outcomes"])
def test_a_reader_that_stops_mid_way_ends_a_parallel_batch_quietly(caseload, fmt):
    """`| head`: the output's reader closes it while the workers write (no death by
    SIGPIPE, no message): exit 0, as in one process."""
    for jobs in (1, 2):
        proc = _batch(caseload, fmt, jobs, stdout=subprocess.PIPE)
        for _ in range(batch.CHUNK + 10):  # past the first chunk's lines (this process's)
            assert proc.stdout.readline().endswith(b"\n")
        proc.stdout.close()
        assert (proc.wait(timeout=300), proc.stderr.read()) == (0, b""), jobs
        proc.stderr.close()


@given(st.lists(st.binary(max_size=40), max_size=30),
       st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=30),
       st.booleans())
def test_gathered_lines_are_written_whole_or_handed_back(lines, sizes, fails):
    """`write_lines` over writes that stop short (a pipe, a signal) and may fail: what it
    wrote followed by what it hands back is every byte, in order."""
    written: list[bytes] = []
    sizes = iter(sizes)

    def writev(fd: int, buffers: list[bytes]) -> int:
        assert 0 < len(buffers) <= 1024 and fd == 7
        size = next(sizes, None)
        if size is None:
            if fails:
                raise OSError(28, "No space left on device")
            size = 1 << 30
        data = b"".join(buffers)[:max(size, 1)]
        written.append(data)
        return len(data)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "writev", writev)
        rest = batch.write_lines(7, lines)
    assert b"".join(written) + rest == b"".join(lines)
    if not fails:
        assert rest == b""
