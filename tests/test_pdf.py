"""The PDF document: its text (extracted with pypdf) carries the header block, every warning,
the notes and the bibliography; markers are separate and link to their notes; the bytes
are stable; a character the fonts lack is replaced, never fatal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import io
import re

import pytest
from conftest import ROOT
from pypdf import PdfReader

from riskassess.assess.core import assess_file
from riskassess.render.document import document_of as document

TODAY = dt.date(2026, 12, 1)
# a 2024 example without warnings, a 2024 one under review, a 2026 one with two warnings
EXAMPLES = ["daraa-conscript-amnesty", "defector-designated-group", "deserter-2026"]


def pdf():
    return importlib.import_module("riskassess.render.pdf")  # as the CLI imports it


def flat(text: str) -> str:
    return " ".join(text.split())


def bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


def drawn(text: str) -> str:
    """The text as the PDF draws it (characters outside the fonts become '?')."""
    return pdf()._clean(text)


@pytest.fixture(scope="module", params=EXAMPLES)
def rendered(request):
    doc = document(assess_file(ROOT / "examples" / f"{request.param}.yaml", today=TODAY))
    data = pdf().render(doc)
    reader = PdfReader(io.BytesIO(data))
    pages = [page.extract_text() for page in reader.pages]
    return doc, data, reader, pages


def markers(doc) -> list[list[int]]:
    """The note markers of each place, in reading order: warnings, then each question's
    reasons and its conditional reasons on other answers; then, in the annex, each
    question's conditional reasons on facts not given."""
    places = [w.notes for w in doc.warnings]
    for q in doc.questions:
        places += [r.notes for r in q.reasons]
        places += [r.notes for h in q.hypotheses for r in h.reasons]
    for q in doc.questions:
        places += [r.notes for h in q.annex_hypotheses for r in h.reasons]
    return [p for p in places if p]


def test_is_a4_pdf_with_fixed_metadata(rendered):
    doc, data, reader, _ = rendered
    assert data.startswith(b"%PDF-")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    meta = reader.metadata
    assert meta.title == doc.title
    assert meta.author == "riskassess" and meta.creator == "riskassess"
    assert meta["/CreationDate"].startswith("D:2000")  # invariant mode: no real date


def test_text_has_header_warnings_notes_and_bibliography(rendered):
    doc, _, _, pages = rendered
    # each page without its running head and page number (a paragraph running on to the next
    # page would have them in its middle)
    furniture = {flat(drawn(doc.running_head))}
    text = flat(" ".join(line for page in pages for line in page.split("\n")
                         if flat(line) not in furniture and not re.fullmatch(
                             r"page \d+ of \d+", flat(line))))
    assert flat(drawn(doc.title)) in text
    for line in doc.header_lines:
        assert flat(drawn(line)) in text
    for w in doc.warnings:
        assert "Warning: " + flat(drawn(w.message)) in text
    assert "Notes" in text and "Bibliography" in text
    for n in doc.notes:
        assert flat(drawn(n.summary))[:60] in text, n.number
    for s in doc.bibliography:
        assert flat(drawn(s.title)) in text
    for label, _value in doc.facts_given:
        assert flat(drawn(label)) in text
    for q in doc.questions:
        assert flat(drawn(q.heading)) in text
        assert flat(drawn(q.outcome_line)) in text


def test_warnings_come_first_in_order(rendered):
    doc, _, _, pages = rendered
    first = flat(pages[0])
    at = [first.find("Warning: " + flat(drawn(w.message))[:50]) for w in doc.warnings]
    assert all(i >= 0 for i in at), "every warning is on the first page"
    assert at == sorted(at), "most severe first: the order of doc.warnings"
    if doc.warnings:
        assert at[0] < first.find("At a glance")


def test_every_page_has_running_head_and_page_x_of_y(rendered):
    doc, _, _, pages = rendered
    total = len(pages)
    for number, page in enumerate(pages, 1):
        assert f"page {number} of {total}" in page
        assert flat(drawn(doc.running_head)) in flat(page)


def test_markers_are_separated_and_follow_their_text(rendered):
    doc, _, _, pages = rendered
    # a sentence may run across a page break: the footer between its halves is not its text
    footer = re.escape(bare(drawn(doc.case_id))) + r"·[^·]{1,40}?page\d+of\d+"
    text = re.sub(footer, "", bare(" ".join(pages)))
    places = [(w.message, w.notes) for w in doc.warnings]
    places += [(r.text, r.notes) for q in doc.questions
               for r in q.reasons + [r for h in q.hypotheses + q.annex_hypotheses
                                     for r in h.reasons]]
    several = [(t, n) for t, n in places if len(n) > 1]
    assert several, "each example has a place citing several notes"
    for words, numbers in places:
        if numbers:
            assert numbers == sorted(set(numbers))
            assert bare(drawn(words)) + ",".join(map(str, numbers)) in text, words[:60]


def test_markers_link_to_their_notes(rendered):
    doc, _, reader, pages = rendered
    page_of = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}
    internal, external = [], []
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            assert annot["/Subtype"] == "/Link"
            if "/Dest" in annot:
                internal.append(page_of[annot["/Dest"][0].idnum])
            else:
                external.append(annot["/A"]["/URI"])
    expected = [n for numbers in markers(doc) for n in numbers]
    assert len(internal) == len(expected), "every marker number is a link"
    # a note may run on to the next page: its anchor is where it starts (number, first line)
    start = {n.number: f"{n.number}. " + flat(drawn(n.lines[0]))[:40] for n in doc.notes}
    for target, number in zip(internal, expected, strict=True):
        assert start[number] in flat(pages[target]), (number, target)
    assert all(url.startswith("http") for url in external)


def test_outline_names_the_sections(rendered):
    doc, _, reader, _ = rendered
    titles = [o.title for o in reader.outline if not isinstance(o, list)]
    assert titles[:3] == ["At a glance", "Case facts", "Guidance applied"]
    annex = titles.index("Annex: analysis aids")
    assert titles[annex - 4:annex] == [doc.frame_heading, "Open questions (facts to establish)",
                                       "Notes", "Bibliography"]
    assert [flat(drawn(q.heading)) for q in doc.questions] == [flat(t)
                                                               for t in titles[3:annex - 4]]


def test_same_document_same_bytes(rendered):
    doc, data, _, _ = rendered
    assert pdf().render(doc) == data


def test_characters_outside_the_fonts_are_named_never_fatal():
    """Arabic and an emoji are drawn (shipped fonts); a control character has no glyph and is
    left out; a letter no shipped font has (Devanagari) is printed '?' and named at the top."""
    doc = document(assess_file(ROOT / "examples" / "deserter-2026.yaml", today=TODAY))
    odd = "EX-ش-\U0001F600-\x00<b>&-\u0915"
    doc = dataclasses.replace(
        doc, case_id=odd, title=f"Assessment of case {odd}",
        facts_given=[(label, value + " ش") for label, value in doc.facts_given],
        notes=[dataclasses.replace(n, summary=n.summary + " 😀 →") for n in doc.notes])
    data = pdf().render(doc)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
    text = flat(" ".join(pages))
    shown = "EX-\ufeb5-\U0001F600-<b>&-?"  # ش alone is drawn in its isolated form
    assert f"Assessment of case {shown}" in text
    assert f"Case: {shown}" in text
    assert bare(f"{shown} ·") in bare(pages[-1])  # the running head, drawn run by run
    assert "Characters not drawn: U+0915 DEVANAGARI LETTER KA." in flat(pages[0])
    assert text.count("&-?") == 2 + len(pages)  # the title, the header line, every head
    assert pdf().render(doc) == data


def test_typographic_characters_are_drawn():
    covered = pdf()._fonts()
    assert all(ord(ch) in covered for ch in "’“”–—§·…")
    assert drawn("“§ 4.3” – it’s") == "“§ 4.3” – it’s"


def test_long_running_head_is_cut_to_the_page():
    doc = document(assess_file(ROOT / "examples" / "never-served-2026.yaml", today=TODAY))
    long_id = "X" * 400
    doc = dataclasses.replace(doc, case_id=long_id, title="Assessment")
    reader = PdfReader(io.BytesIO(pdf().render(doc)))
    head = reader.pages[0].extract_text()
    assert "X…" in head and "X" * 200 not in head.split("Case:")[0]
