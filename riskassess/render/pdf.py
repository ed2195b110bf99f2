"""The annotated reasoning as a PDF, from the same outline as the Word and HTML documents.

Built with reportlab's platypus (a pure-Python library from the package registry; no
external program). The text is set in the Bitstream Vera fonts that ship inside reportlab,
registered as TrueType so that typographic characters (’ “ ” – § ·) render. reportlab has no
font fallback of its own: each character Vera lacks is set, as a `<font>` run, in the first
font of riskassess/render/fonts/ that has it (Noto Sans Arabic for Arabic, DejaVu Sans for
Greek, Cyrillic, Hebrew and the rest of Latin, Droid Sans Fallback for Chinese, Japanese and
Korean; loaded only when a document needs them; reportlab embeds only the glyphs used). A
character none of them has is drawn '?', and a note under the header names each such one.

reportlab neither joins Arabic letters nor orders right-to-left text: arabic-reshaper gives
each letter its joined form (a presentation form, which the fonts have and text extraction
maps back), and python-bidi's bidirectional algorithm the order each line is drawn in. Lines
must be broken before they are reordered, so a fact's value is broken into lines here, in
logical order, measured with the fonts reportlab will use, each line reordered (and a value
whose first strong letter reads right to left set flush right); other text is reordered whole,
as one line. The facts table holds a long value in rows of CHUNK lines, so that no row is
taller than a page: a free-text fact of any length the case file allows runs over pages
(900,000 characters: about 400 pages, 15 s). A document reportlab still cannot lay out is the
case's DocumentError (exit 6), a refusal in a batch.

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
import re
import unicodedata
from functools import lru_cache
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    LayoutError,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from riskassess import words
from riskassess.errors import DocumentError, Problem
from riskassess.render.document import Document, document_of
from riskassess.render.formats import Options

FONT = "RiskassessVera"
FACES = {FONT: "Vera.ttf", f"{FONT}-Bold": "VeraBd.ttf", f"{FONT}-Italic": "VeraIt.ttf",
         f"{FONT}-BoldItalic": "VeraBI.ttf"}
# The fonts shipped in riskassess/render/fonts/ (each with its licence file), tried in this
# order for a character Vera lacks: (name, regular face, bold face, the code points it is
# tried for: None for any). Each is loaded the first time a document needs it.
FONT_FOLDER = os.path.join(os.path.dirname(__file__), "fonts")
ARABIC_BLOCKS = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF),
                 (0xFE70, 0xFEFF))
FALLBACKS = (
    ("RiskassessArabic", "NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf", ARABIC_BLOCKS),
    ("RiskassessDejaVu", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", None),
    ("RiskassessCJK", "DroidSansFallback.ttf", None, None),
)
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
CHUNK = 10  # lines of a fact's value per row of the facts table: a row never outgrows a page
MISSING_SHOWN = 12  # characters no font can draw, named in the note at the top

_RTL = re.compile("[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF\U00010800-\U00010FFF"
                  "\U0001E800-\U0001EFFF]")
_ARABIC = re.compile("[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF]")
_JOINERS = "\u200c\u200d"  # zero-width (non-)joiner: read by the reshaper, then dropped


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode map of a font subset, with a character beyond U+FFFF (an emoji,
    a rare CJK ideograph) written as its UTF-16 pair, as PDF readers expect, instead of as
    five hex digits, which they misread: the text read back is the text drawn."""
    text = _REPORTLAB_CMAP(fontname, subset)
    for i, v in enumerate(subset):
        if v > 0xFFFF:
            text = text.replace(f"<{i:02X}> <{v:04X}>",
                                f"<{i:02X}> <{chr(v).encode('utf-16-be').hex().upper()}>")
    return text


_REPORTLAB_CMAP = ttfonts.makeToUnicodeCMap
ttfonts.makeToUnicodeCMap = _to_unicode_cmap


def _register(faces: dict[str, str], folder: str) -> set[int]:
    """Register TrueType faces (name -> file in folder) once; the code points all of them
    can draw."""
    covered: set[int] | None = None
    for name, file in faces.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, os.path.join(folder, file)))
        chars = set(pdfmetrics.getFont(name).face.charToGlyph)
        covered = chars if covered is None else covered & chars
    return covered or set()


@lru_cache(maxsize=1)
def _fonts() -> frozenset[int]:
    """Register the Vera faces once; the code points all four of them can draw."""
    covered = _register(FACES, os.path.join(os.path.dirname(reportlab.__file__), "fonts"))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=f"{FONT}-Bold",
                                  italic=f"{FONT}-Italic", boldItalic=f"{FONT}-BoldItalic")
    return frozenset(covered)


@lru_cache(maxsize=None)
def _fallback(index: int) -> frozenset[int]:
    """Register a shipped fallback font (and its bold face, or the regular one in its place)
    as a family; the code points its faces can all draw."""
    name, regular, bold, _ = FALLBACKS[index]
    covered = _register({name: regular, f"{name}-Bold": bold or regular}, FONT_FOLDER)
    # the shipped faces have no italic: a fallback run in italics is set upright
    pdfmetrics.registerFontFamily(name, normal=name, bold=f"{name}-Bold", italic=name,
                                  boldItalic=f"{name}-Bold")
    return frozenset(covered)


@lru_cache(maxsize=None)
def _font_of(ch: str) -> str | None:
    """The font that draws this character: Vera, else the first shipped font that has it;
    None if none has it."""
    code = ord(ch)
    if code in _fonts():
        return FONT
    for index, (name, _, _, blocks) in enumerate(FALLBACKS):
        if blocks is not None and not any(low <= code <= high for low, high in blocks):
            continue
        if code in _fallback(index):
            return name
    return None


@lru_cache(maxsize=1)
def _reshaper():
    import arabic_reshaper

    # harakat kept (they are the text); no ligature of whole words, only the letters' own
    # (lam-alef), so that the text read back from the PDF is the letters written
    return arabic_reshaper.ArabicReshaper(configuration={
        "delete_harakat": False, "ARABIC LIGATURE ALLAH": False})


def _prepared(text: object, lines: bool = False) -> str:
    """The text composed (NFC), control and invisible format characters dropped (no glyph
    stands for them), tabs and line ends as spaces (or, with `lines`, line ends as \\n),
    Arabic letters in their joined forms (still in logical order)."""
    text = unicodedata.normalize("NFC", str(text)).replace("\r\n", "\n")
    text = text.replace("\r", "\n").replace("\t", " ")
    if not lines:
        text = text.replace("\n", " ")
    if not text.isprintable():  # (a line end is not printable: it is kept)
        text = "".join(ch for ch in text if ch in _JOINERS or ch == "\n"
                       or unicodedata.category(ch) not in ("Cc", "Cf"))
    if not text.isascii():
        if _ARABIC.search(text):
            text = _reshaper().reshape(text)
        text = text.replace("\u200c", "").replace("\u200d", "")
    return text


def _visual(line: str, rtl: bool = False) -> str:
    """One line in the order it is drawn, left to right (the Unicode bidirectional algorithm,
    with mirrored brackets), in a paragraph whose direction is right to left if `rtl`."""
    if not _RTL.search(line):
        return line
    from bidi.algorithm import get_display

    return get_display(line, base_dir="R" if rtl else "L")


def _is_rtl(text: str) -> bool:
    """Whether a paragraph reads right to left: its first strong character does (UBA P2)."""
    if not _RTL.search(text):
        return False
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return False
        if kind in ("R", "AL"):
            return True
    return False


class _Text:
    """Text as the PDF draws it: split into runs by the font that has each character, in
    drawing order; the characters no shipped font has are drawn '?' and remembered, for the
    note at the top of the document."""

    def __init__(self) -> None:
        self.missing: dict[str, None] = {}  # in order of first appearance

    def runs(self, visual: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for ch in visual:
            font = _font_of(ch)
            if font is None:
                self.missing.setdefault(ch)
                font, ch = FONT, "?"
            if out and out[-1][0] == font:
                out[-1] = (font, out[-1][1] + ch)
            else:
                out.append((font, ch))
        return out

    def markup(self, visual: str) -> str:
        """Paragraph markup of a line already in drawing order: & < > escaped, each run
        outside Vera in its font."""
        if visual.isascii():
            return escape(self.runs(visual)[0][1]) if visual else ""
        return "".join(escape(s) if font == FONT else f'<font name="{font}">{escape(s)}</font>'
                       for font, s in self.runs(visual))

    def t(self, text: object) -> str:
        """Plain text as Paragraph markup, in a left-to-right paragraph."""
        return self.markup(_visual(_prepared(text)))

    def width(self, text: str, size: float) -> float:
        return sum(pdfmetrics.stringWidth(s, font, size) for font, s in self.runs(text))

    def lines(self, text: object, width: float, size: float) -> tuple[list[str], bool]:
        """The text broken into lines of at most `width` points (at this size of the regular
        face), each as markup in drawing order, and whether the text reads right to left.
        Line ends in the text are kept. Lines are broken in logical order, then each is
        reordered (as the bidirectional algorithm does), which reportlab cannot do."""
        text = _prepared(text, lines=True)
        rtl = _is_rtl(text)
        space = pdfmetrics.stringWidth(" ", FONT, size)
        out: list[str] = []
        for hard in text.split("\n"):
            line: list[str] = []
            used = 0.0
            for word in (w for w in hard.split(" ") if w):
                wide = self.width(word, size)
                if line and used + space + wide > width:
                    out.append(" ".join(line))
                    line, used = [], 0.0
                if wide > width:  # a word longer than the line: cut it where it must
                    piece, used = "", 0.0
                    for ch in word:
                        cw = self.width(ch, size)
                        if piece and used + cw > width:
                            out.append(piece)
                            piece, used = "", 0.0
                        piece += ch
                        used += cw
                    line = [piece]
                    continue
                used += (space if line else 0.0) + wide
                line.append(word)
            out.append(" ".join(line))
        return [self.markup(_visual(line, rtl)) for line in out], rtl

    def note(self) -> str | None:
        """The note naming the characters that could not be drawn, if any."""
        if not self.missing:
            return None
        named = [f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"
                 for ch in list(self.missing)[:MISSING_SHOWN]]
        more = len(self.missing) - len(named)
        listed = "; ".join(named) + (f"; and {more:,} more" if more > 0 else "")
        return ("<b>Characters not drawn:</b> " + escape(listed) + ". No font of this "
                "document has them: each is printed as \u201c?\u201d. The case file has them "
                "as written.")


def _clean(text: object) -> str:
    """The text as the PDF draws it, in logical order: line ends and tabs as spaces, every
    character no shipped font has as '?' (never raises)."""
    out = []
    for ch in str(text):
        if ch in "\t\r\n":
            out.append(" ")
        elif _font_of(ch) is not None:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


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


def _fit(text: str, width: float, size: float, tx: _Text | None = None) -> str:
    """The text (logical order) cut, with an ellipsis, to fit in width at this size."""
    tx = tx or _Text()
    if tx.width(text, size) <= width:
        return text
    low, high = 0, len(text)  # the longest prefix that fits with the ellipsis: binary search
    while low < high:
        mid = (low + high + 1) // 2
        if tx.width(text[:mid] + "…", size) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low] + "…"


def _canvas_maker(running_head: str, tx: _Text):
    head = tx.runs(_visual(_fit(_prepared(running_head), A4[0] - 2 * MARGIN, 8, tx)))

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
            self.setFillColor(GREY)
            x = MARGIN
            for font, text in head:
                self.setFont(font, 8)
                self.drawString(x, height - 14 * mm, text)
                x += pdfmetrics.stringWidth(text, font, 8)
            self.setFont(FONT, 8)
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, height - 15.5 * mm, width - MARGIN, height - 15.5 * mm)
            self.drawCentredString(width / 2, 11 * mm, f"page {self._pageNumber} of {total}")
            self.restoreState()

    return NumberedCanvas


def _facts_table(facts: list[tuple[str, str]], st: dict[str, ParagraphStyle],
                 tx: _Text) -> tuple[Table, int]:
    """The facts given, a row each, and how many lines their values take; a long value is
    continued over rows of CHUNK lines (broken here, in the order the bidirectional algorithm
    gives each line), so that no row is taller than a page and the table splits between any
    two of them."""
    width = A4[0] - 2 * MARGIN
    cell = st["cell"]
    pad = 6  # the table's default left and right padding
    rows = [[Paragraph("Fact", st["cellhead"]), Paragraph("Value", st["cellhead"])]]
    style = [
        ("BOX", (0, 0), (-1, -1), 0.5, RULE),
        ("LINEAFTER", (0, 0), (0, -1), 0.5, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    right = ParagraphStyle("cellrtl", parent=cell, alignment=TA_RIGHT)
    total = 0
    for fact, value in facts:
        lines, rtl = tx.lines(value, width * 0.55 - 2 * pad - 0.01, cell.fontSize)
        total += len(lines)
        first = len(rows)
        style.append(("LINEABOVE", (0, first), (-1, first), 0.5, RULE))
        for at in range(0, len(lines), CHUNK):
            rows.append([Paragraph(tx.t(fact), cell) if at == 0 else "",
                         Paragraph("<br/>".join(lines[at:at + CHUNK]), right if rtl else cell)])
        last = len(rows) - 1
        if last > first:  # a value continued: no gap between its rows
            style += [("BOTTOMPADDING", (0, first), (-1, last - 1), 0),
                      ("TOPPADDING", (0, first + 1), (-1, last), 0)]
    table = Table(rows, colWidths=[width * 0.45, width * 0.55], repeatRows=1)
    table.setStyle(TableStyle(style))
    return table, total


def render(doc: Document, *, annex: bool = True) -> bytes:
    _fonts()
    st = _styles()
    tx = _Text()
    _t = tx.t
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

    facts, _ = _facts_table(doc.facts_given, st, tx) if doc.facts_given else (None, 0)
    # the table's rows split between pages: the heading needs room for its first rows only,
    # not for the whole table (which would leave a half-empty page before a long one)
    story.append(CondPageBreak(40 * mm))
    story.append(_Heading(_t("Case facts"), st["h1-free"], 0, f"h-{next(keys)}"))
    if facts is not None:
        story += [facts, Spacer(0, 6)]
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

    canvasmaker = _canvas_maker(doc.running_head, tx)
    note = tx.note()
    if note:  # after the header lines, before the warnings: it says what the page lacks
        story.insert(1 + len(doc.header_lines), Paragraph(note, st["warning"]))
    out = io.BytesIO()
    template = _Template(
        out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=TOP,
        bottomMargin=BOTTOM, title=doc.title, author="riskassess", creator="riskassess",
        subject=doc.edition_title, keywords="",
        producer="riskassess (reportlab)", invariant=1, pageCompression=1)
    template.build(story, canvasmaker=canvasmaker)
    return out.getvalue()


def render_outcome(outcome: Any, options: Options) -> bytes:
    """The renderer of the format table (render/formats.py). A document reportlab cannot lay
    out (a part taller than a page, which the facts table no longer makes) is refused as
    that case's DocumentError, naming neither the case's text nor reportlab's objects."""
    doc = document_of(outcome, options.generated_at)
    try:
        return render(doc, annex=options.annex)
    except LayoutError:
        why = "a part of it is too large to lay out on a page"
    except RecursionError:
        why = "it is nested too deeply to lay out"
    raise DocumentError(Problem(options.path or "riskassess", None, None, "",
                                words.document_not_made("PDF", why)))
