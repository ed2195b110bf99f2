"""The conclusions at a glance open every format, and say what the JSON report says; the
terminal's default is a summary (--full the complete report); documents keep their analysis
aids in an annex that --no-annex leaves out."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re

import pytest
from conftest import EXAMPLES, run_cli

from riskassess import words
from riskassess.assess.core import assess_file
from riskassess.errors import ExitCode
from riskassess.law.scenarios import load_scenarios
from riskassess.render import formats

SCENARIOS = load_scenarios(EXAMPLES)


@pytest.fixture(scope="module")
def outcomes():
    import functools

    @functools.lru_cache(maxsize=None)
    def outcome(case_path):
        return assess_file(case_path, today=dt.date.today())

    return lambda scenario: outcome(scenario.case_path)


def render(outcome, fmt: str, **options) -> str | bytes:
    return formats.render(formats.get(fmt), outcome, formats.Options(**options))


def expected(outcome) -> list[tuple[str, str, str]]:
    """(title, outcome code, outcome label) per question, from the JSON report."""
    data = json.loads(render(outcome, "json"))
    vocab = outcome.ruleset.vocabulary
    return [(q.title, data[q.id]["outcome"], vocab.outcome_labels[data[q.id]["outcome"]])
            for q in vocab.questions]


def squash(text: str) -> str:
    return " ".join(text.split())


def in_order(text: str, parts: list[str]) -> bool:
    at = 0
    for part in parts:
        at = text.find(part, at)
        if at < 0:
            return False
        at += len(part)
    return True


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_the_glance_opens_every_format_with_the_json_outcomes(scenario, outcomes):
    outcome = outcomes(scenario)
    want = expected(outcome)
    heads = [q.heading for q in outcome.ruleset.questions]

    for full in (False, True):
        text = render(outcome, "text", full=full)
        lines = text.split("\n")
        start = lines.index(words.GLANCE_HEADING)
        assert start < lines.index(heads[0]), "the glance comes before the questions"
        block = "\n".join(lines[start + 1:lines.index("", start)])
        # an entry: "  - Title: outcome" (its lines hang under it), then its details
        entries = re.findall(r"^  - (.*?)\n    (?:“|rests on)", block, re.M | re.S)
        got = [squash(e).split(": ", 1) for e in entries]
        assert [t for t, _ in got] == [t for t, _, _ in want]
        assert all(said.startswith(label)
                   for (_, said), (_, _, label) in zip(got, want, strict=True))

    md = render(outcome, "markdown")
    assert md.index(f"## {words.GLANCE_HEADING}") < md.index("## Case facts")
    table = md[md.index(f"## {words.GLANCE_HEADING}"):].split("\n\n")[1].split("\n")[2:]
    cells = [[c.strip() for c in row.strip("|").split(" | ")] for row in table]
    assert [c[0] for c in cells] == [t for t, _, _ in want]
    assert all(c[1].startswith(label) for c, (_, _, label) in zip(cells, want, strict=True))

    page = render(outcome, "html")
    glance = page[page.index('id="glance"'):page.index('id="facts"')]
    said = [html.unescape(x) for x in re.findall(r'<td class="outcome">(.*?)</td>', glance)]
    assert len(said) == len(want)
    assert all(s.startswith(label) for s, (_, _, label) in zip(said, want, strict=True))
    assert page.index('id="glance"') < page.index('id="facts"')

    import docx

    d = docx.Document(io.BytesIO(render(outcome, "docx")))
    table = d.tables[0]  # the first table of the document
    assert tuple(c.text for c in table.rows[0].cells) == words.GLANCE_COLUMNS
    assert [r.cells[0].text for r in table.rows[1:]] == [t for t, _, _ in want]
    assert all(r.cells[1].text.startswith(label)
               for r, (_, _, label) in zip(table.rows[1:], want, strict=True))


@pytest.mark.parametrize("scenario", SCENARIOS[::4], ids=lambda s: s.id)
def test_the_glance_opens_the_pdf(scenario, outcomes):
    import pypdf

    outcome = outcomes(scenario)
    want = expected(outcome)
    first = squash(pypdf.PdfReader(io.BytesIO(render(outcome, "pdf"))).pages[0].extract_text())
    block = first[first.index(words.GLANCE_HEADING):first.index("Decision support")]
    assert in_order(block, [x for title, _, label in want for x in (title, label)])


def test_the_default_terminal_report_is_about_a_screen():
    """The issue's measure: daraa-conscript-amnesty at 100 columns, at most 60 lines;
    every question's deciding reasons are there with their cites; --full has everything."""
    case = str(EXAMPLES / "daraa-conscript-amnesty.yaml")
    short = run_cli("evaluate", case)
    full = run_cli("evaluate", case, "--full")
    assert short.code == full.code == 0
    assert len(short.out.splitlines()) <= 60
    data = json.loads(run_cli("evaluate", case, "-f", "json").out)
    assert "--full" in short.out and "Cited paragraphs" not in short.out
    for qid in ("applicability", "persecution", "risk", "nexus", "exclusion"):
        firm = [r for r in data[qid]["reasons"] if not r["conditional"]]
        assert firm and squash(firm[0]["text"]) in squash(short.out)
        assert "cites " + ", ".join(firm[0]["cites"]) in squash(short.out)
    for r in (r for q in ("applicability", "risk") for r in data[q]["reasons"]):
        assert squash(r["text"]) in squash(full.out)  # the complete report: every reason
    assert "Cited paragraphs" in full.out and len(full.out) > 3 * len(short.out)


@pytest.mark.parametrize("args, says", [
    (["-f", "json", "--full"], "--full gives the complete text report"),
    (["-f", "markdown", "--full"], "--no-annex"),
    (["--no-annex"], "--no-annex leaves the annex out of a document"),
    (["-f", "json", "--no-annex"], "json has none"),
])
def test_options_that_do_not_apply_are_refused(args, says):
    r = run_cli("evaluate", str(EXAMPLES / "draft-evader.yaml"), *args)
    assert r.code == ExitCode.USAGE and says in r.err and r.out == ""


def test_full_in_a_batch_is_refused(tmp_path):
    r = run_cli("evaluate", str(EXAMPLES), "--full")
    assert r.code == ExitCode.USAGE and "batch" in r.err


def _religious(outcomes):
    return outcomes(next(s for s in SCENARIOS if s.id == "religious-objector"))


def test_the_annex_holds_the_analysis_aids_and_no_annex_leaves_it_out(outcomes):
    outcome = _religious(outcomes)
    with_annex = render(outcome, "markdown")
    without = render(outcome, "markdown", annex=False)
    annex = with_annex[with_annex.index(f"# {words.ANNEX_HEADING}"):]
    body = with_annex[:with_annex.index(f"# {words.ANNEX_HEADING}")]
    for aid in (words.SINGLE_CHANGES, words.DEPENDS_ON, words.POSSIBLE, words.CODES_HEADING,
                "Depending on "):
        assert aid in annex and aid not in body and aid not in without
    assert words.ANNEX_HEADING not in without
    # the body's notes are the same either way; notes cited only in the annex go with it
    notes = re.findall(r"^\[\^(\d+)\]:", with_annex, re.M)
    kept = re.findall(r"^\[\^(\d+)\]:", without, re.M)
    assert kept == notes[:len(kept)] and len(kept) < len(notes)
    cited = set(re.findall(r"\[\^(\d+)\](?!:)", without))
    assert cited == set(kept), "every note kept is cited, every note cited is kept"
    # the body still says what is to be established, and where the rest is
    assert "Still to be established:" in body and "see the annex" in body
    assert "see the annex" not in without


def test_the_religious_objector_pdf_to_file_is_at_most_six_pages(outcomes):
    import pypdf

    outcome = _religious(outcomes)
    short = pypdf.PdfReader(io.BytesIO(render(outcome, "pdf", annex=False)))
    whole = pypdf.PdfReader(io.BytesIO(render(outcome, "pdf")))
    assert len(short.pages) <= 6 < len(whole.pages)
    text = squash(" ".join(p.extract_text() for p in short.pages))
    assert words.ANNEX_HEADING not in text and "Bibliography" in text


@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
def test_no_annex_in_every_document_format(fmt, outcomes, tmp_path):
    out = tmp_path / f"r.{fmt}"
    r = run_cli("evaluate", str(EXAMPLES / "religious-objector.yaml"), "-o", str(out),
                "--no-annex")
    assert r.code == 0, r.err
    data = out.read_bytes()
    if fmt == "docx":
        import docx

        text = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
    elif fmt == "pdf":
        import pypdf

        text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    else:
        text = data.decode()
    assert words.GLANCE_HEADING in text and words.ANNEX_HEADING not in text
    assert words.SINGLE_CHANGES not in text
