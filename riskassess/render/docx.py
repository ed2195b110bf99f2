"""The annotated reasoning as a Word document, with real footnotes for the sources.

python-docx has no footnote API, so the footnotes part is written here as plain
WordprocessingML: a `word/footnotes.xml` part with the two separator notes Word expects,
one `w:footnote` per cited paragraph (at its first citation), and `w:footnoteReference`
runs in the text. A paragraph cited again later gets its note number as superscript text.
The file is byte-stable: fixed core properties and fixed zip timestamps.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from xml.sax.saxutils import escape

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from riskassess.render.document import Document

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTES_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
FIXED = dt.datetime(2000, 1, 1)


class _Footnotes:
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
        run = paragraph.add_run()
        _superscript(run)
        if number in self.placed:  # cited before: repeat its number
            run.text = str(number)
            return
        self.placed.add(number)
        ref = OxmlElement("w:footnoteReference")
        ref.set(qn("w:id"), str(number))
        run._r.append(ref)
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


def _note_lines(doc: Document, number: int) -> list[str]:
    n = doc.notes[number - 1]
    lines = [f"[{n.pid}] {n.author}, {n.source}, {n.date}.",
             f"Section: {n.section}. Locator: {n.locator}.", n.summary]
    if n.reports:
        lines.append("Reports in the brackets: " + "; ".join(n.reports) + ".")
    if n.url:
        lines.append(n.url)
    return lines


def render(doc: Document) -> bytes:
    d = docx.Document()
    styles = d.styles
    styles["Normal"].font.name = "Calibri"
    styles["Normal"].font.size = Pt(10.5)
    notes = _Footnotes(d)

    def para(text: str = "", style: str | None = None, numbers: list[int] = (), bold: bool = False):
        p = d.add_paragraph(style=style)
        run = p.add_run(text)
        run.bold = bold
        for i, number in enumerate(numbers):
            if i:  # keep consecutive note marks apart: 3,4,5 rather than 345
                _superscript(p.add_run(","))
            notes.reference(p, number, _note_lines(doc, number))
        return p

    d.add_heading(doc.title, level=0)
    for w in doc.top_warnings:
        p = para(f"WARNING ({w.code}): {w.message}", numbers=w.notes, bold=True)
        p.runs[0].font.color.rgb = RGBColor(0xB3, 0x26, 0x1E)
    para(f"Assessment date {doc.assessment_date}. This is decision support, not a decision: it "
         "applies the guidance's general conclusions to the facts given; credibility, the "
         "weighing of evidence and exclusion remain with the decision-maker.")

    d.add_heading("Case facts", level=1)
    if doc.facts_given:
        table = d.add_table(rows=1, cols=2)
        table.style = "Table Grid"
        table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Fact", "Value"
        for fact, value in doc.facts_given:
            row = table.add_row().cells
            row[0].text, row[1].text = fact, value
    para("Facts not given: " + (", ".join(doc.facts_not_given) or "none") + ".")

    d.add_heading("Guidance applied", level=1)
    para(doc.edition_title, bold=True)
    for line in doc.edition_lines:
        para(line, style="List Bullet")

    for q in doc.questions:
        d.add_heading(q.heading, level=1)
        outcome = f"Outcome: {q.outcome_label} ({q.outcome})"
        if q.possible_outcomes:
            outcome += "; still open between " + ", ".join(q.possible_outcomes)
        para(outcome, bold=True)
        for label, items in q.lists:
            para(f"{label}:")
            for item in items:
                para(item, style="List Bullet")
        for label, items in q.possible:
            para(f"Could be added once facts are known ({label}):")
            for item in items:
                para(item, style="List Bullet")
        for title, reasons in (("Reasons", q.reasons), ("Depending on facts not given",
                                                        q.conditional)):
            if reasons:
                d.add_heading(title, level=2)
            for r in reasons:
                p = para(r.text, style="List Bullet", numbers=r.notes)
                p.add_run(f" (rule {r.rule})").italic = True
        d.add_heading("What this conclusion depends on", level=2)
        if q.depends_on:
            for fact, value in q.depends_on:
                para(f"{fact} = {value}", style="List Bullet")
        else:
            para("No fact given was read by the rules that reached it.")
        d.add_heading("What a single change of a given fact would change", level=2)
        if q.decisive:
            for sentence in q.decisive:
                para(sentence, style="List Bullet")
        else:
            para("No single change of a given fact would change this conclusion.")

    d.add_heading("Open questions (facts to establish)", level=1)
    if doc.open_questions:
        for fact, affects, why in doc.open_questions:
            para(f"{fact} (affects {affects}): {why}", style="List Bullet")
    else:
        para("None: no unknown fact could change a conclusion.")
    d.add_heading("Warnings", level=1)
    if doc.warnings:
        for w in doc.warnings:
            para(f"{w.code}: {w.message}", style="List Bullet", numbers=w.notes)
    else:
        para("None.")
    d.add_heading("Sources", level=1)
    para("The sources are the numbered footnotes: each is a paragraph the rules cite, "
         "summarised in riskassess's own words; check the source before relying on it.")
    for n in doc.notes:
        para(f"{n.number}. {n.pid}: {n.source} ({n.locator})"
             + (". Reports in the brackets: " + "; ".join(n.reports) if n.reports else ""),
             style="List Number")
    footer = doc.footer + (f"; generated at {doc.generated_at}" if doc.generated_at else "")
    d.sections[0].footer.paragraphs[0].text = footer
    para(footer).runs[0].font.size = Pt(8)

    props = d.core_properties
    props.author, props.title = "riskassess", doc.title
    props.created = props.modified = props.last_printed = FIXED
    props.revision = 1
    raw = io.BytesIO()
    d.save(raw)
    return _stable_zip(raw.getvalue())


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
