"""The annotated reasoning as a PDF, from the same outline as the Word and HTML documents.

Built with reportlab's platypus (a pure-Python library from the package registry; no
external program). The text is set in the Bitstream Vera fonts that ship inside reportlab,
registered as TrueType so that typographic characters (’ “ ” – § ·) render; a character
none of the four faces has is replaced by '?' rather than drawn as a blank box or raising.

Note markers are superscript numbers in ascending order, separated by commas ("5,6"),
each a link to its endnote under "Notes"; the bibliography follows. Every page carries a
running head and "page X of Y": pages are kept until the end and drawn in `save()` (the
NumberedCanvas pattern of the reportlab docs), which also rebinds the anchors to the page
they are on, since the page count is only known then.

The output is byte-stable: invariant mode (fixed dates and document id), fixed metadata.
"""

from __future__ import annotations

import io
import os
from functools import lru_cache
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from riskassess import words
from riskassess.render.document import Document, document_of
from riskassess.render.formats import Options

FONT = "RiskassessVera"
FACES = {FONT: "Vera.ttf", f"{FONT}-Bold": "VeraBd.ttf", f"{FONT}-Italic": "VeraIt.ttf",
         f"{FONT}-BoldItalic": "VeraBI.ttf"}
RED = colors.HexColor("#B3261E")
DARK_RED = colors.HexColor("#7A1A14")
PINK = colors.HexColor("#FDECEA")
GREY = colors.HexColor("#555555")
RULE = colors.HexColor("#BBBBBB")
SHADE = colors.HexColor("#EEEEEE")
MARGIN = 18 * mm
TOP = 21 * mm
BOTTOM = 17 * mm
NOTES_INTRO = ("Each note is a paragraph the rules cite, summarised in riskassess's own words; "
               "check the source before relying on it.")


@lru_cache(maxsize=1)
def _fonts() -> frozenset[int]:
    """Register the Vera faces once; the code points all four of them can draw."""
    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    covered: set[int] | None = None
    for name, file in FACES.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, os.path.join(folder, file)))
        chars = set(pdfmetrics.getFont(name).face.charToGlyph)
        covered = chars if covered is None else covered & chars
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=f"{FONT}-Bold",
                                  italic=f"{FONT}-Italic", boldItalic=f"{FONT}-BoldItalic")
    return frozenset(covered or ())


def _clean(text: object) -> str:
    """The text with every character the fonts cannot draw replaced by '?' (never raises)."""
    covered = _fonts()
    out = []
    for ch in str(text):
        if ch in "\t\r\n":
            out.append(" ")
        elif ord(ch) in covered:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


def _t(text: object) -> str:
    """Plain text as Paragraph markup: drawable characters, & < > escaped."""
    return escape(_clean(text))


def _href(url: str) -> str:
    """A URL as an attribute value: non-ASCII percent-encoded, quotes escaped."""
    return escape(quote(url, safe=":/?#[]@!$&'()*+,;=%~-._"), {'"': "&quot;"})


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, spaceAfter=4,
                          alignment=TA_LEFT)
    return {
        "body": body,
        "title": ParagraphStyle("title", parent=body, fontName=f"{FONT}-Bold", fontSize=17,
                                leading=21, spaceAfter=8),
        "header": ParagraphStyle("header", parent=body, spaceAfter=1),
        "h1": ParagraphStyle("h1", parent=body, fontName=f"{FONT}-Bold", fontSize=12.5,
                             leading=16, spaceBefore=10, spaceAfter=4, keepWithNext=1),
        "h1-free": ParagraphStyle("h1-free", parent=body, fontName=f"{FONT}-Bold",
                                  fontSize=12.5, leading=16, spaceBefore=10, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=body, fontName=f"{FONT}-Bold", fontSize=10,
                             leading=13, spaceBefore=6, spaceAfter=2, keepWithNext=1,
                             textColor=colors.HexColor("#333333")),
        "bullet": ParagraphStyle("bullet", parent=body, leftIndent=14, bulletIndent=3,
                                 bulletFontName=FONT, spaceAfter=2),
        "warning": ParagraphStyle("warning", parent=body, textColor=DARK_RED, spaceAfter=0),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=11, spaceAfter=0),
        "cellhead": ParagraphStyle("cellhead", parent=body, fontName=f"{FONT}-Bold",
                                   fontSize=8.5, leading=11, spaceAfter=0),
        "note": ParagraphStyle("note", parent=body, fontSize=8.5, leading=10.5, leftIndent=18,
                               bulletIndent=0, bulletFontName=f"{FONT}-Bold", spaceAfter=4),
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10.5, spaceAfter=1,
                                textColor=GREY),
        "code": ParagraphStyle("code", parent=body, fontSize=8, leading=10.5, spaceAfter=1,
                               textColor=GREY, leftIndent=10, firstLineIndent=-10),
    }


class _Heading(Paragraph):
    """A heading that becomes an entry of the PDF outline (the reader's bookmarks pane)."""

    def __init__(self, text: str, style: ParagraphStyle, level: int, key: str):
        super().__init__(text, style)
        self.outline = (level, key)


class _Template(SimpleDocTemplate):
    def afterFlowable(self, flowable) -> None:
        outline = getattr(flowable, "outline", None)
        if outline:
            level, key = outline
            self.canv.bookmarkPage(key, fit="XYZ", top=self.frame._y + flowable.height)
            self.canv.addOutlineEntry(flowable.getPlainText(), key, level=level, closed=True)


def _fit(text: str, width: float, size: float) -> str:
    """The text cut (with an ellipsis) to fit in width at this size of the body font."""
    if pdfmetrics.stringWidth(text, FONT, size) <= width:
        return text
    low, high = 0, len(text)  # the longest prefix that fits with the ellipsis: binary search
    while low < high:
        mid = (low + high + 1) // 2
        if pdfmetrics.stringWidth(text[:mid] + "…", FONT, size) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low] + "…"


def _canvas_maker(running_head: str):
    head = _fit(_clean(running_head), A4[0] - 2 * MARGIN, 8)

    class NumberedCanvas(canvas.Canvas):
        """Keeps every page until save(), then draws 'page X of Y' and the running head."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []
            self._anchors: dict[str, int] = {}  # anchor name -> index of its page

        def bookmarkPage(self, key, *args, **kwargs):
            # The page object is only created in save(): remember which page the anchor is on
            self._anchors[key] = len(self._pages)
            return super().bookmarkPage(key, *args, **kwargs)

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            first = self._doc.pageCounter
            for state in self._pages:
                self.__dict__.update(state)
                self._furniture(total)
                canvas.Canvas.showPage(self)
            for key, index in self._anchors.items():
                self._destinations[key].setPage(
                    pdfdoc.PDFObjectReference(f"Page{first + index}"))
            canvas.Canvas.save(self)

        def _furniture(self, total: int) -> None:
            width, height = self._pagesize
            self.saveState()
            self.setFont(FONT, 8)
            self.setFillColor(GREY)
            self.drawString(MARGIN, height - 14 * mm, head)
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, height - 15.5 * mm, width - MARGIN, height - 15.5 * mm)
            self.drawCentredString(width / 2, 11 * mm, f"page {self._pageNumber} of {total}")
            self.restoreState()

    return NumberedCanvas


def render(doc: Document, *, annex: bool = True) -> bytes:
    _fonts()
    st = _styles()
    known = {n.number for n in doc.notes_for(annex)}
    story: list = []
    keys = iter(range(1, 10_000))

    def marks(numbers) -> str:
        """Superscript note markers, ascending, comma-separated, each linked to its note."""
        ordered = sorted(set(numbers))
        if not ordered:
            return ""
        parts = [f'<a href="#note-{n}" color="#1A4E8A">{n}</a>' if n in known else str(n)
                 for n in ordered]
        return "<super>" + ",".join(parts) + "</super>"

    def para(text: str, style: str = "body", numbers=(), bullet: str | None = None) -> None:
        story.append(Paragraph(text + marks(numbers), st[style],
                               bulletText=bullet))

    def item(text: str, numbers=()) -> None:
        para(_t(text), "bullet", numbers, bullet="•")

    def heading(text: str, level: int) -> None:
        story.append(_Heading(_t(text), st["h1" if level == 0 else "h2"], level,
                              f"h-{next(keys)}"))

    # Header block: title, header lines, then every warning (most severe first), boxed
    story.append(Paragraph(_t(doc.title), st["title"]))
    for line in doc.header_lines:
        para(_t(line), "header")
    story.append(Spacer(0, 6))
    if doc.warnings:
        rows = [[Paragraph("<b>Warning:</b> " + _t(w.message) + marks(w.notes), st["warning"])]
                for w in doc.warnings]
        box = Table(rows, colWidths=[A4[0] - 2 * MARGIN])
        box.setStyle(TableStyle([
            ("BOX", (0, 0), (-1, -1), 1.2, RED),
            ("BACKGROUND", (0, 0), (-1, -1), PINK),
            ("LINEBELOW", (0, 0), (-1, -2), 0.4, RED),
            ("LEFTPADDING", (0, 0), (-1, -1), 7), ("RIGHTPADDING", (0, 0), (-1, -1), 7),
            ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ]))
        story += [box, Spacer(0, 8)]
    heading(words.GLANCE_HEADING, 0)
    width = A4[0] - 2 * MARGIN
    rows = [[Paragraph(_t(c), st["cellhead"]) for c in words.GLANCE_COLUMNS]]
    rows += [[Paragraph(_t(row.title), st["cell"]),
              Paragraph("<b>" + _t(row.outcome_words) + "</b>", st["cell"]),
              Paragraph(_t(row.quote_words), st["cell"]),
              Paragraph(_t(row.rests_on), st["cell"]),
              Paragraph(_t(row.open_words), st["cell"])] for row in doc.glance]
    table = Table(rows, colWidths=[width * f for f in (0.16, 0.22, 0.26, 0.17, 0.19)],
                  repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    story += [table, Spacer(0, 8)]
    para(_t(words.frame_pointer(doc.frame_heading)))

    story.append(CondPageBreak(40 * mm))  # the table may split: no half-empty page before it
    story.append(_Heading(_t("Case facts"), st["h1-free"], 0, f"h-{next(keys)}"))
    if doc.facts_given:
        rows = [[Paragraph("Fact", st["cellhead"]), Paragraph("Value", st["cellhead"])]]
        rows += [[Paragraph(_t(fact), st["cell"]), Paragraph(_t(value), st["cell"])]
                 for fact, value in doc.facts_given]
        width = A4[0] - 2 * MARGIN
        table = Table(rows, colWidths=[width * 0.45, width * 0.55], repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.5, RULE),
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ]))
        story += [table, Spacer(0, 6)]
    else:
        para("No fact is given.")
    para("<b>Facts not given:</b> " + _t("; ".join(doc.facts_not_given) or "none") + ".")

    heading("Guidance applied", 0)
    para("<b>" + _t(doc.edition_title) + "</b>")
    for line in doc.edition_lines:
        item(line)

    for q in doc.questions:
        heading(q.heading, 0)
        if q.caveat:
            para('<font color="#B3261E"><b>' + _t(q.caveat) + "</b></font>")
        para("<b>" + _t(q.outcome_line) + "</b>")
        para(_t(q.rests_on + "."))
        if q.reasons:
            heading("Reasons", 1)
            for r in q.reasons:
                item(r.text, r.notes)
        for h in q.hypotheses:
            heading(h.heading, 1)
            for r in h.reasons:
                item(r.text, r.notes)
        if annex and q.annex_hypotheses:
            para(_t(words.CONDITIONALS_IN_ANNEX))

    heading(doc.frame_heading, 0)
    para(_t(doc.frame_intro))
    for line in doc.frame:
        item(line)
    if doc.frame_note:
        para(_t(doc.frame_note))

    heading(words.OPEN_QUESTIONS, 0)
    para(_t(words.open_facts(doc.open_facts, annex)))
    heading("Notes", 0)
    para(_t(NOTES_INTRO))
    for n in doc.notes_for(annex):
        lines = [_t(line) for line in n.lines]
        if n.url and n.lines and n.lines[-1] == n.url:
            lines[-1] = f'<a href="{_href(n.url)}" color="#1A4E8A">{_t(n.url)}</a>'
        # one run of text: the place, what it is (in italics), the summary
        lines[1] = f"<i>{lines[1]}</i>"
        story.append(Paragraph(f'<a name="note-{n.number}"/>' + " ".join(lines), st["note"],
                               bulletText=f"{n.number}."))

    heading("Bibliography", 0)
    if doc.bibliography:
        for s in doc.bibliography_for(annex):
            text = _t(f"{s.author}, ") + "<i>" + _t(s.title) + "</i>" + _t(f", {s.date}.")
            if s.url:
                text += f' <a href="{_href(s.url)}" color="#1A4E8A">{_t(s.url)}</a>'
            if s.consulted:
                text += _t(f" Consulted: {s.consulted}.")
            if s.at_hand:
                text += _t(f" At hand: {s.at_hand}.")
            para(text, "bullet", bullet="•")
    else:
        para("No source is cited.")
    if doc.bracket_reports(annex):
        para(_t(words.BRACKET_REPORTS + ":"))
        for r in doc.bracket_reports(annex):
            item(r)

    if annex:
        story.append(PageBreak())
        heading(words.ANNEX_HEADING, 0)
        para(_t(words.ANNEX_INTRO))
        for q in doc.questions:
            heading(q.heading, 1)
            for label, items in q.lists:
                para("<b>" + _t(label) + "</b>")
                for text in items:
                    item(text)
            for h in q.annex_hypotheses:
                para("<b>" + _t(h.heading) + "</b>")
                for r in h.reasons:
                    item(r.text, r.notes)
            para("<b>" + _t(words.DEPENDS_ON) + "</b>")
            if q.depends_on:
                for fact, value in q.depends_on:
                    item(f"{fact}: {value}")
            else:
                para(_t(words.DEPENDS_ON_NONE))
            para("<b>" + _t(words.SINGLE_CHANGES) + "</b>")
            if q.decisive:
                for sentence in q.decisive:
                    item(sentence)
            else:
                para(_t(words.SINGLE_CHANGES_NONE))
            for label, items in q.possible:
                para("<b>" + _t(f"{words.POSSIBLE} ({label})") + "</b>")
                for text in items:
                    item(text)
        heading(words.OPEN_QUESTIONS, 1)
        if doc.open_questions:
            for fact, affects, why in doc.open_questions:
                para("<b>" + _t(fact) + "</b>" + _t(f" (affects {affects}): {why}"), "bullet",
                     bullet="•")
        else:
            para(_t(words.NO_OPEN_QUESTION))
        if doc.codes:
            heading(words.CODES_HEADING, 1)
            story += [Paragraph(_t(f"{code}: {meaning}"), st["code"])
                      for code, meaning in doc.codes]
    story += [Spacer(0, 10), KeepTogether([Paragraph(_t(doc.provenance), st["small"])])]

    out = io.BytesIO()
    template = _Template(
        out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=TOP,
        bottomMargin=BOTTOM, title=doc.title, author="riskassess", creator="riskassess",
        subject=_clean(doc.edition_title), keywords="",
        producer="riskassess (reportlab)", invariant=1, pageCompression=1)
    template.build(story, canvasmaker=_canvas_maker(doc.running_head))
    return out.getvalue()


def render_outcome(outcome: Any, options: Options) -> bytes:
    """The renderer of the format table (render/formats.py)."""
    return render(document_of(outcome, options.generated_at), annex=options.annex)
