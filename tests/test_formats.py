"""Every format of the table (render/formats.py), whatever it is: what the table says of it
holds wherever the format is offered. A format added to the table is tested here without
a line of test code (docs/changing.md); its golden files, if any, are its own choice."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import EXAMPLES, run_cli

from riskassess.assess.core import assess_file
from riskassess.render import formats

TODAY = dt.date(2026, 12, 1)
CASES = ["religious-objector", "deserter-2026", "status-unknown"]
NAMES = [f.name for f in formats.FORMATS]


@pytest.fixture(scope="module")
def outcomes():
    return {name: assess_file(EXAMPLES / f"{name}.yaml", today=TODAY) for name in CASES}


def _file_name(fmt: formats.OutputFormat) -> str:
    return "out" + (fmt.extension() if fmt.extensions else ".txt")


@pytest.mark.parametrize("name", NAMES)
def test_the_renderer_gives_what_the_table_says_and_the_same_bytes_twice(name, outcomes):
    fmt = formats.get(name)
    for case, outcome in outcomes.items():
        first = formats.render(fmt, outcome, formats.Options(path=f"{case}.yaml"))
        assert isinstance(first, bytes if fmt.binary else (str, bytes)), name
        assert first, name
        again = formats.render(fmt, outcome, formats.Options(path=f"{case}.yaml"))
        assert again == first, f"{name} is not byte-stable"


@pytest.mark.parametrize("name", NAMES)
def test_the_command_line_writes_the_renderers_bytes(name, outcomes, tmp_path):
    fmt = formats.get(name)
    case = EXAMPLES / f"{CASES[0]}.yaml"
    out = tmp_path / _file_name(fmt)
    r = run_cli("evaluate", str(case), "-f", name, "-o", str(out))
    assert r.code == 0, r.err
    expected = formats.render(fmt, assess_file(case, today=dt.date.today()),
                              formats.Options(path=case.as_posix()))
    assert out.read_bytes() == (expected if isinstance(expected, bytes) else expected.encode())
    if fmt.extensions:  # the extension alone names the format
        named = tmp_path / ("by-extension" + fmt.extension())
        assert run_cli("evaluate", str(case), "-o", str(named)).code == 0
        assert named.read_bytes() == out.read_bytes()
    if fmt.binary:  # bytes are never printed to a terminal
        assert run_cli("evaluate", str(case), "-f", name).code == 2


@pytest.mark.parametrize("name", [f.name for f in formats.FORMATS if f.document])
def test_a_batch_of_documents_writes_one_per_case_in_the_format(name, tmp_path):
    fmt = formats.get(name)
    cases = [EXAMPLES / f"{c}.yaml" for c in CASES[:2]]
    r = run_cli("evaluate", *map(str, cases), "-f", name, "-o", f"{tmp_path}/docs/")
    assert r.code == 0, r.err
    written = sorted(p.name for p in (tmp_path / "docs").iterdir())
    assert written == sorted(c.stem + fmt.extension() for c in cases)


@pytest.mark.parametrize("name", [f.name for f in formats.FORMATS if not f.batch_line
                                  and not f.document])
def test_a_batch_refuses_a_format_that_is_neither_a_line_nor_a_document(name):
    cases = [str(EXAMPLES / f"{c}.yaml") for c in CASES[:2]]
    r = run_cli("evaluate", *cases, "-f", name)
    assert r.code == 2 and "a batch prints" in r.err


def test_every_format_the_help_names_and_every_extension_it_takes():
    text = " ".join(run_cli("evaluate", "--help").out.split())
    for fmt in formats.FORMATS:
        assert fmt.name in text
        for ext in fmt.extensions:
            assert ext in text


@pytest.mark.parametrize("name", [f.name for f in formats.FORMATS if f.served])
def test_the_service_answers_every_served_format_with_its_media_type(name):
    from conftest import RULES

    from riskassess.io.reader import read_yaml_file
    from riskassess.serve.service import Service

    fmt = formats.get(name)
    service = Service(RULES, today=TODAY)
    case = EXAMPLES / f"{CASES[0]}.yaml"
    answer = service.assess(read_yaml_file(case), name)
    assert answer.media_type == fmt.media_type and answer.content
    if fmt.binary:
        assert answer.filename and answer.filename.endswith(fmt.extension())


def test_every_batch_line_and_fast_format_has_its_writer():
    """A batch writes its lines, and the cold start its answers, from compiled bytes: each
    format the table marks so must have its writer there, or it would print something else."""
    from riskassess.assess import batch
    from riskassess.cli import fast

    for fmt in formats.FORMATS:
        if fmt.batch_line:
            assert fmt.name == "text" or fmt.name in batch.LINES, fmt.name
        if fmt.fast:
            assert fmt.name in fast.ANSWERS, fmt.name
