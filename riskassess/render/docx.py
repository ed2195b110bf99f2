"""The annotated reasoning as a Word document, with real footnotes for the sources.

python-docx has no footnote API, so the footnotes part is written here as plain
WordprocessingML: a `word/footnotes.xml` part with the two separator notes Word expects,
one `w:footnote` per cited paragraph (at its first citation), and `w:footnoteReference`
runs in the text. A paragraph cited again later gets a NOTEREF field to the bookmark
around its first mark. The header carries the case id, the footer "page X of Y".
The file is byte-stable: fixed core properties and fixed zip timestamps.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any
from xml.sax.saxutils import escape

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from riskassess import words
from riskassess.render.document import Document, document_of
from riskassess.render.formats import Options

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTES_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
NS = f'xmlns:w="{W}"'
BOOKMARK = "_RefNote"  # hidden bookmarks (leading underscore), as Word names its own
FIXED = dt.datetime(2000, 1, 1)


class _Footnotes:
    """Real footnotes: the first citation of a paragraph is a footnote reference inside a
    bookmark; every later one is a NOTEREF field to that bookmark (formatted as a note
    mark, \\f, and a link, \\h), so Word renumbers all of them together."""

    def __init__(self, document: docx.document.Document):
        self.element = parse_xml(
            f'<w:footnotes xmlns:w="{W}">'
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
            '</w:footnote>'
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r>'
            '<w:continuationSeparator/></w:r></w:p></w:footnote></w:footnotes>')
        part = XmlPart(PackURI("/word/footnotes.xml"), FOOTNOTES_CT, self.element,
                       document.part.package)
        document.part.relate_to(part, RT.FOOTNOTES)
        settings = document.settings.element
        pr = OxmlElement("w:footnotePr")
        for note_id in ("-1", "0"):
            ref = OxmlElement("w:footnote")
            ref.set(qn("w:id"), note_id)
            pr.append(ref)
        settings.insert(0, pr)
        self.placed: set[int] = set()

    def reference(self, paragraph, number: int, lines: list[str]) -> None:
        p = paragraph._p
        name = f"{BOOKMARK}{number}"
        if number in self.placed:  # cited before: a cross-reference to the first mark
            for xml in (f'<w:r {NS}><w:fldChar w:fldCharType="begin"/></w:r>',
                        f'<w:r {NS}><w:instrText xml:space="preserve"> NOTEREF {name} \\f \\h '
                        '</w:instrText></w:r>',
                        f'<w:r {NS}><w:fldChar w:fldCharType="separate"/></w:r>',
                        f'<w:r {NS}><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                        f'<w:t>{number}</w:t></w:r>',
                        f'<w:r {NS}><w:fldChar w:fldCharType="end"/></w:r>'):
                p.append(parse_xml(xml))
            return
        self.placed.add(number)
        p.append(parse_xml(f'<w:bookmarkStart {NS} w:id="{number}" w:name="{name}"/>'))
        run = paragraph.add_run()
        _superscript(run)
        ref = OxmlElement("w:footnoteReference")
        ref.set(qn("w:id"), str(number))
        run._r.append(ref)
        p.append(parse_xml(f'<w:bookmarkEnd {NS} w:id="{number}"/>'))
        mark = '<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:footnoteRef/></w:r>'
        paragraphs = "".join(
            f'<w:p><w:pPr><w:spacing w:after="0"/></w:pPr>{mark if i == 0 else ""}'
            f'<w:r><w:rPr><w:sz w:val="18"/></w:rPr><w:t xml:space="preserve">'
            f'{escape((" " if i == 0 else "") + line)}</w:t></w:r></w:p>'
            for i, line in enumerate(lines))
        self.element.append(parse_xml(
            f'<w:footnote xmlns:w="{W}" w:id="{number}">{paragraphs}</w:footnote>'))


def _superscript(run) -> None:
    rpr = run._r.get_or_add_rPr()
    va = OxmlElement("w:vertAlign")
    va.set(qn("w:val"), "superscript")
    rpr.append(va)


def _field(paragraph, instruction: str, shown: str) -> None:
    """A simple field (PAGE, NUMPAGES) with its cached result."""
    paragraph._p.append(parse_xml(
        f'<w:fldSimple {NS} w:instr=" {instruction} "><w:r><w:t>{shown}</w:t></w:r>'
        '</w:fldSimple>'))


def xml_text(text: str) -> str:
    """A case's free text as Word can hold it: a character XML 1.0 forbids (a control
    character other than tab and line breaks, U+FFFE, U+FFFF, a lone surrogate) is shown
    as its escape, e.g. \\x01, rather than making the document unwritable."""
    if all(_xml_ok(ch) for ch in text):
        return text
    return "".join(ch if _xml_ok(ch) else (f"\\x{ord(ch):02x}" if ord(ch) < 256
                                           else f"\\u{ord(ch):04x}") for ch in text)


def _xml_ok(ch: str) -> bool:
    o = ord(ch)
    return (o >= 0x20 or ch in "\t\n\r") and not 0xD800 <= o <= 0xDFFF and o not in (
        0xFFFE, 0xFFFF)


def render(doc: Document, *, annex: bool = True) -> bytes:
    d = docx.Document()
    styles = d.styles
    styles["Normal"].font.name = "Calibri"
    styles["Normal"].font.size = Pt(10.5)
    notes = _Footnotes(d)
    style_ids: dict[str, str] = {}

    def paragraph(style: str | None = None):
        """A new paragraph in a named style. python-docx looks a style up by name, and the
        document's default style with it, on every paragraph; here once per style."""
        p = d.add_paragraph()
        if style is not None:
            sid = style_ids.get(style)
            if sid is None:
                sid = style_ids[style] = d.part.get_style_id(d.styles[style],
                                                               WD_STYLE_TYPE.PARAGRAPH)
            p._p.style = sid
        return p

    def heading(text: str, level: int):
        """As python-docx's add_heading: Title for level 0, else Heading N."""
        p = paragraph("Title" if level == 0 else f"Heading {level}")
        if text:
            p.add_run(text)
        return p

    def para(text: str = "", style: str | None = None, numbers: list[int] = (), bold: bool = False,
             size: float | None = None):
        p = paragraph(style)
        run = p.add_run(xml_text(text))
        run.bold = bold
        if size:
            run.font.size = Pt(size)
        marks(p, numbers)
        return p

    def marks(p, numbers: list[int]) -> None:
        for i, number in enumerate(numbers):
            if i:  # keep consecutive note marks apart: 3,4,5 rather than 345
                _superscript(p.add_run(","))
            notes.reference(p, number, doc.notes[number - 1].lines)

    section = d.sections[0]
    head = section.header.paragraphs[0]
    head.text = doc.running_head
    head.runs[0].font.size = Pt(8)
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot.add_run("page ")
    _field(foot, "PAGE", "1")
    foot.add_run(" of ")
    _field(foot, "NUMPAGES", "1")

    heading(doc.title, level=0)
    for label, value in doc.header:
        p = d.add_paragraph()
        p.paragraph_format.space_after = Pt(0)
        p.add_run(label + ": ").bold = True
        p.add_run(xml_text(value))
    for w in doc.warnings:
        p = d.add_paragraph()
        p.paragraph_format.space_before = Pt(6)
        lead = p.add_run("Warning: ")
        lead.bold = True
        body = p.add_run(w.message)
        for r in (lead, body):
            r.font.color.rgb = RGBColor(0xB3, 0x26, 0x1E)
        marks(p, w.notes)
    heading(words.GLANCE_HEADING, level=1)
    table = d.add_table(rows=1, cols=len(words.GLANCE_COLUMNS))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, words.GLANCE_COLUMNS, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for row in doc.glance:
        cells = table.add_row().cells
        for cell, text in zip(cells, (row.title, row.outcome_words, row.quote_words,
                                      row.rests_on, row.open_words), strict=True):
            cell.text = text
        cells[1].paragraphs[0].runs[0].bold = True
    para(words.frame_pointer(doc.frame_heading))

    heading("Case facts", level=1)
    if doc.facts_given:
        table = d.add_table(rows=1, cols=2)
        table.style = "Table Grid"
        table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Fact", "Value"
        for fact, value in doc.facts_given:
            row = table.add_row().cells
            row[0].text, row[1].text = fact, xml_text(value)
    para("Facts not given: " + ("; ".join(doc.facts_not_given) or "none") + ".")

    heading("Guidance applied", level=1)
    para(doc.edition_title, bold=True)
    for line in doc.edition_lines:
        para(line, style="List Bullet")

    for q in doc.questions:
        heading(q.heading, level=1)
        if q.caveat:
            p = para(q.caveat, bold=True)
            p.runs[0].font.color.rgb = RGBColor(0xB3, 0x26, 0x1E)
        para(q.outcome_line, bold=True)
        para(q.rests_on + ".")
        groups = ([("Reasons", q.reasons)] if q.reasons else []) + \
            [(h.heading, h.reasons) for h in q.hypotheses]
        for title, reasons in groups:
            heading(title, level=2)
            for r in reasons:
                para(r.text, style="List Bullet", numbers=r.notes)
        if annex and q.annex_hypotheses:
            para(words.CONDITIONALS_IN_ANNEX)

    heading(doc.frame_heading, level=1)
    para(doc.frame_intro)
    for line in doc.frame:
        para(line, style="List Bullet")
    if doc.frame_note:
        para(doc.frame_note)

    heading(words.OPEN_QUESTIONS, level=1)
    para(words.open_facts(doc.open_facts, annex))
    heading("Notes", level=1)
    para("The notes are the numbered footnotes: each is a paragraph the rules cite, "
         "summarised in riskassess's own words; check the source before relying on it.")
    heading("Bibliography", level=1)
    for s in doc.bibliography_for(annex):
        para(s.line, style="List Bullet")
    if doc.bracket_reports(annex):
        para(words.BRACKET_REPORTS + ":")
        for r in doc.bracket_reports(annex):
            para(r, style="List Bullet")
    if annex:
        _annex(doc, heading, para)
    para(doc.provenance, size=8)

    props = d.core_properties
    props.author, props.title = "riskassess", doc.title
    props.created = props.modified = props.last_printed = FIXED
    props.revision = 1
    raw = io.BytesIO()
    d.save(raw)
    return _stable_zip(raw.getvalue())


def _annex(doc: Document, heading: Any, para: Any) -> None:
    """The analysis aids, after the body, on a page of their own."""
    para().add_run().add_break(WD_BREAK.PAGE)
    heading(words.ANNEX_HEADING, level=1)
    para(words.ANNEX_INTRO)
    for q in doc.questions:
        heading(q.heading, level=2)
        for label, items in q.lists:
            heading(label, level=3)
            for item in items:
                para(item, style="List Bullet")
        for h in q.annex_hypotheses:
            heading(h.heading, level=3)
            for r in h.reasons:
                para(r.text, style="List Bullet", numbers=r.notes)
        heading(words.DEPENDS_ON, level=3)
        if q.depends_on:
            for fact, value in q.depends_on:
                para(f"{fact}: {value}", style="List Bullet")
        else:
            para(words.DEPENDS_ON_NONE)
        heading(words.SINGLE_CHANGES, level=3)
        if q.decisive:
            for sentence in q.decisive:
                para(sentence, style="List Bullet")
        else:
            para(words.SINGLE_CHANGES_NONE)
        for label, items in q.possible:
            heading(f"{words.POSSIBLE} ({label})", level=3)
            for item in items:
                para(item, style="List Bullet")
    heading(words.OPEN_QUESTIONS, level=2)
    if doc.open_questions:
        for fact, affects, why in doc.open_questions:
            para(f"{fact} (affects {affects}): {why}", style="List Bullet")
    else:
        para(words.NO_OPEN_QUESTION)
    heading(words.CODES_HEADING, level=2)
    for code, meaning in doc.codes:
        para(f"{code}: {meaning}", size=8)


def _stable_zip(data: bytes) -> bytes:
    """Rewrite the package with fixed timestamps, so the same document gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def render_outcome(outcome: Any, options: Options) -> bytes:
    """The renderer of the format table (render/formats.py)."""
    return render(document_of(outcome, options.generated_at), annex=options.annex)
