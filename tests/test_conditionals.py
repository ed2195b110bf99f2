"""Issue 15, item 1: a reason that holds only if facts not given turn out a certain way is
never printed as a statement of fact, in any format.

For every shipped example (and each example re-dated to 2026, with its assessment date
taken away, so that the December 2025 edition applies), every conditional reason of the
JSON report must begin with its hypothesis ("If it is established that ...: "), and in
every format (terminal text, Markdown, HTML, Word, PDF) each occurrence of the rule's
reasoning must come right after that hypothesis. Whitespace is ignored, as every format
wraps lines differently.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile

import pytest
import yaml
from conftest import EXAMPLES

from riskassess.assess.core import assess_file
from riskassess.law.case import UNKNOWN, given_facts
from riskassess.law.scenarios import load_scenarios
from riskassess.render.document import document_of as document
from riskassess.words import PREFIX

SCENARIOS = load_scenarios(EXAMPLES)
TODAY = dt.date(2026, 12, 1)


# the examples whose PDF document is checked too: every other one, in id order
PDF = {s.id: i % 2 == 0 for i, s in enumerate(sorted(SCENARIOS, key=lambda s: s.id))}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _texts(outcome, heavy: bool, with_pdf: bool = True) -> dict[str, str]:
    from riskassess.render import docx, markdown, pdf, terminal
    from riskassess.render import html as html_renderer

    doc = document(outcome)
    page = html_renderer.render(doc)
    texts = {
        "text": terminal.render(outcome.report, outcome.ruleset, width=100, color=False),
        "markdown": markdown.render(doc),
        "html": html.unescape(re.sub(r"<[^>]+>", "", page)),
    }
    if heavy:  # Word and PDF: the slowest renderers, of the same document
        import pypdf

        with zipfile.ZipFile(io.BytesIO(docx.render(doc))) as z:
            xml = z.read("word/document.xml").decode()
        # paragraphs' text runs, in order (NOTEREF field codes are instructions, not text)
        texts["docx"] = " ".join(html.unescape(t)
                                 for t in re.findall(r"<w:t[^>]*>([^<]*)</w:t>", xml))
        if with_pdf:
            reader = pypdf.PdfReader(io.BytesIO(pdf.render(doc)))
            # a page's running head and number may fall inside a sentence: taken out
            texts["pdf"] = re.sub(rf"{re.escape(doc.running_head)}\s*page \d+ of \d+", " ",
                                  " ".join(p.extract_text() or "" for p in reader.pages))
    return texts


def _cases(tmp_path_factory):
    for s in SCENARIOS:
        yield s.id, s.case_path
        data = yaml.safe_load(s.case_path.read_text(encoding="utf-8"))
        data.pop("assessment_date", None)
        redated = tmp_path_factory.mktemp("redated") / f"{s.id}.yaml"
        redated.write_text(yaml.safe_dump(data), encoding="utf-8")
        yield s.id + "@2026", redated


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    return [(name, assess_file(path, today=TODAY)) for name, path in _cases(tmp_path_factory)]


def rules_dates(outcome, var: str) -> bool:
    """A date fact given only in part (a year, a month) can leave a rule's test open."""
    return outcome.ruleset.vocabulary.facts[var].kind == "date"


def test_every_conditional_reason_reads_as_a_hypothesis(outcomes):
    seen = 0
    for name, outcome in outcomes:
        rules = outcome.ruleset.rules
        values = dict(given_facts(outcome.case))
        for qid in outcome.report.question_ids:
            for r in outcome.report.question(qid).reasons:
                plain = " ".join(rules[r.rule].reasoning.split())
                if not r.conditional:
                    assert r.text == plain and r.hypothesis is None, (name, r.rule)
                    continue
                seen += 1
                assert r.hypothesis and r.depends_on, (name, r.rule)
                assert r.text == f"{PREFIX}{r.hypothesis}: {plain}", (name, r.rule)
                # the hypothesis is about facts not given (partial dates count as open)
                # or about earlier questions still open
                for var in r.depends_on:
                    if var.startswith("question:"):
                        assert outcome.report.question(var.split(":", 1)[1]).possible_outcomes
                    else:
                        assert values[var] == UNKNOWN or rules_dates(outcome, var), (name, var)
    assert seen > 100  # the examples do exercise conditional reasons


def test_no_conditional_reason_is_printed_as_a_fact_in_any_format(outcomes):
    checked = 0
    for name, outcome in outcomes:
        conditional, firm = {}, set()
        for qid in outcome.report.question_ids:
            for r in outcome.report.question(qid).reasons:
                plain = _squash(" ".join(outcome.ruleset.rules[r.rule].reasoning.split()))
                if r.conditional:
                    conditional.setdefault(plain, set()).add(_squash(PREFIX + r.hypothesis + ":"))
                else:
                    firm.add(plain)
        # every format for the examples as dated, PDF for every other one (it renders the
        # same annotated document as the others, and reading it back takes most of this
        # test's time); the re-dated ones (conditional reasons of the same kinds, under the
        # other edition) in the light formats
        dated = "@" not in name
        for fmt, text in _texts(outcome, heavy=dated, with_pdf=PDF.get(name, False)).items():
            flat = _squash(text)
            for plain, prefixes in conditional.items():
                if plain in firm:  # also given unconditionally (another question)
                    continue
                start = 0
                while (at := flat.find(plain, start)) >= 0:
                    # the text just before it (endswith with an end: no copy of the prefix)
                    assert any(flat.endswith(p, 0, at) for p in prefixes), (
                        f"{name} ({fmt}): a conditional reason is printed without its "
                        f"hypothesis: {plain[:80]}")
                    checked += 1
                    start = at + 1
    assert checked > 500


def test_mutually_exclusive_hypotheses_are_grouped_under_their_fact(outcomes):
    """The 2026 case whose service at the fall is not given: both hypotheses appear under
    one heading on that fact, one of each value, never as two statements of fact."""
    name, outcome = next((n, o) for n, o in outcomes if n == "desertion-year-only-2026")
    doc = document(outcome)
    q = next(q for q in doc.questions if q.id == "applicability")
    label = outcome.ruleset.vocabulary.facts["applicant.active_at_regime_fall"].label
    group = next(h for h in q.hypotheses + q.annex_hypotheses if label.lower() in h.heading.lower()
                 or label in h.heading)
    phrases = outcome.ruleset.vocabulary.facts["applicant.active_at_regime_fall"].phrases
    texts = " ".join(r.text for r in group.reasons)
    assert phrases["true"] in texts and phrases["false"] in texts
    assert not q.reasons or all(not r.text.startswith(PREFIX) for r in q.reasons)
