"""The PDF prints every script a case file may hold, and free text of any length: Arabic
joined and in right-to-left order, Chinese, Latin with diacritics, Greek, Cyrillic, Hebrew,
each in a shipped font; a free-text fact of 10,000 or 900,000 characters continued over
pages; a document that cannot be made is that case's refusal, in a batch as alone."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from conftest import EXAMPLES, run_cli
from pypdf import PdfReader

from riskassess.errors import ExitCode

ARABIC = ["محمد عبد الله", "دير الزور"]
OTHERS = ["王小明", "Ñúñez Škoda Ørsted", "Ελληνικά", "Кириллица", "שלום"]
# two free-text facts of rules/syria/facts.yaml (kind: text, recorded only)
RTL_FIRST = "محمد عبد الله من دير الزور (" + ", ".join(OTHERS) + ")"  # a right-to-left paragraph
LTR_FIRST = "Unit of محمد عبد الله, based in دير الزور; with 王小明 and Ñúñez Škoda Ørsted"


def case_file(folder: Path, name: str, **texts: str) -> Path:
    """An example case with free-text facts added (JSON strings are YAML's double-quoted)."""
    text = (EXAMPLES / "daraa-conscript-amnesty.yaml").read_text(encoding="utf-8")
    text = text.replace("case_id: EX-DARAA-AMNESTY", f"case_id: {name}")
    text += "".join(f"  {key}: {json.dumps(value, ensure_ascii=False)}\n"
                    for key, value in texts.items())
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def pdf_of(case: Path, tmp_path: Path) -> Path:
    out = tmp_path / f"{case.stem}.pdf"
    r = run_cli("evaluate", str(case), "-o", str(out))
    assert r.code == 0, r.err
    return out


def facts_part(text: str) -> str:
    """The facts table, as extracted: from its heading to the facts not given."""
    return text[text.index("Case facts"):text.index("Facts not given")]


@pytest.fixture(scope="module")
def scripts(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scripts")
    case = case_file(folder, "SCRIPTS-1", role_and_unit=RTL_FIRST, defection_manner=LTR_FIRST)
    return pdf_of(case, folder)


def test_every_script_is_drawn_in_a_shipped_font(scripts):
    reader = PdfReader(scripts)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Characters not drawn" not in text
    assert "?" not in facts_part(text)
    for words in OTHERS[:4]:  # left-to-right words read back as written
        assert words in text, words
    fonts = {str(font.get_object()["/BaseFont"]).split("+")[-1]
             for page in reader.pages
             for font in page["/Resources"]["/Font"].values()}
    assert {"NotoSansArabic-Regular", "DroidSansFallback", "DejaVuSans"} <= fonts, fonts


def test_arabic_is_joined_and_drawn_right_to_left(scripts):
    """Each Arabic letter is drawn in its joined form (a presentation form, U+FE70-U+FEFF,
    which NFKC maps back to the letter), the letters of a word from right to left. pypdf
    (7.x) reads the characters in drawing order and turns each right-to-left word round:
    NFKC-normalised, every word reads as written (drawn left to right, it would read
    backwards). Of several Arabic words in a run, pypdf keeps the drawing order, right-most
    last: the run "محمد عبد الله" comes back as "الله عبد محمد", which is the run drawn right
    to left (pdftotext, below, gives the whole run in reading order)."""
    text = "\n".join(page.extract_text() for page in PdfReader(scripts).pages)
    table = facts_part(text)
    assert any(0xFE70 <= ord(ch) <= 0xFEFF for ch in table), "joined forms are drawn"
    assert not any(0x0600 <= ord(ch) <= 0x06FF for ch in table), "no letter left unjoined"
    flat = " ".join(unicodedata.normalize("NFKC", table).split())
    for run in ARABIC:
        for word in run.split():
            assert word in flat and word[::-1] not in flat, word
        assert " ".join(reversed(run.split())) in flat, run
    assert "שלום" in flat  # Hebrew too
    # the left-to-right paragraph keeps its order around the Arabic runs
    assert "Unit of الله عبد محمد ,based in الزور دير ;with 王小明" in flat


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext not here")
def test_pdftotext_reads_the_arabic_in_logical_order(scripts):
    """poppler puts right-to-left runs back in reading order (between directional marks):
    NFKC-normalised, the text is the words as written."""
    text = subprocess.run(["pdftotext", str(scripts), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = unicodedata.normalize("NFKC", text)
    flat = "".join(ch for ch in flat if unicodedata.category(ch) != "Cf")
    for words in ARABIC + OTHERS:
        assert words in flat, words


def test_the_same_case_gives_the_same_bytes(scripts, tmp_path):
    again = tmp_path / "again.pdf"
    case = case_file(tmp_path, "SCRIPTS-1", role_and_unit=RTL_FIRST, defection_manner=LTR_FIRST)
    assert run_cli("evaluate", str(case), "-o", str(again)).code == 0
    assert again.read_bytes() == scripts.read_bytes()


def test_a_character_no_font_has_is_named_at_the_top(tmp_path):
    case = case_file(tmp_path, "SCRIPTS-2", role_and_unit="नमस्ते and 王小明")
    pages = [p.extract_text() for p in PdfReader(pdf_of(case, tmp_path)).pages]
    first = " ".join(pages[0].split())
    assert "Characters not drawn: U+0928 DEVANAGARI LETTER NA; U+092E DEVANAGARI LETTER MA;" \
        in first
    assert "printed as “?”" in first
    # five characters, none drawn, in the facts (after the glance, maybe on the next page)
    assert "????? and 王小明" in " ".join(" ".join(p.split()) for p in pages)


# ------------------------------------------------------------------- long free text

def notes(length: int) -> str:
    """Free text of `length` characters: a page of notes repeated, marked at both ends."""
    body = ("He said the unit moved often; dates are approximate. " * (length // 50 + 1))
    return ("START-OF-NOTES " + body)[:length - 13] + " END-OF-NOTES"


def test_ten_thousand_characters_of_free_text_run_over_pages(tmp_path):
    case = case_file(tmp_path, "LONG-10K", role_and_unit=notes(10_000))
    reader = PdfReader(pdf_of(case, tmp_path))
    # each page's text without its running head, page number and the table's repeated
    # header row, which a sentence running on to the next page would have in its middle
    furniture = re.compile(r"^(LONG-10K · 1 June 2024|page \d+ of \d+|Fact|Value)$", re.M)
    text = " ".join(furniture.sub("", page.extract_text()) for page in reader.pages)
    assert len(reader.pages) > 1
    assert "START-OF-NOTES" in text and "END-OF-NOTES" in text
    # every word is there: none lost at a break between rows or pages
    assert " ".join(text.split()).count("dates are approximate.") == \
        notes(10_000).count("dates are approximate.")


@pytest.mark.slow
def test_nine_hundred_thousand_characters_of_free_text_give_a_pdf(tmp_path):
    case = case_file(tmp_path, "LONG-900K", role_and_unit=notes(900_000))
    assert case.stat().st_size < 1_048_576  # within the reader's limit
    reader = PdfReader(pdf_of(case, tmp_path))
    assert len(reader.pages) > 100
    # the table starts under its heading (no page left half empty before it: on the first
    # page after the conclusions at a glance, or the next), and goes on over the others
    start = next(i for i, p in enumerate(reader.pages) if "Case facts" in p.extract_text())
    assert start <= 1  # (its first rows may be other facts, and a row is kept whole)
    assert "START-OF-NOTES" in " ".join(p.extract_text() for p in reader.pages[start:start + 2])
    assert "END-OF-NOTES" in " ".join(page.extract_text() for page in reader.pages[-120:])


# ------------------------------------------------------ a document that cannot be made

def fail_for(monkeypatch, case_id: str) -> None:
    """reportlab fails to lay out the document of `case_id` (as it does for a flowable
    taller than a page)."""
    from reportlab.platypus import LayoutError

    import riskassess.render.pdf as pdf

    render = pdf.render

    def failing(doc, **options):
        if doc.case_id == case_id:
            raise LayoutError("Flowable <Table@0x7F> too large on page 3")
        return render(doc)

    monkeypatch.setattr(pdf, "render", failing)


def test_a_document_that_cannot_be_made_is_refused_with_exit_6(monkeypatch, tmp_path):
    fail_for(monkeypatch, "BROKEN")
    case = case_file(tmp_path, "BROKEN")
    out = tmp_path / "broken.pdf"
    r = run_cli("evaluate", str(case), "-o", str(out))
    assert r.code == ExitCode.CANNOT_WRITE == 6
    assert r.err.strip() == (f"error: {case.as_posix()}: its PDF document cannot be made: a "
                             "part of it is too large to lay out on a page; nothing was written "
                             "(the other formats may still be)")
    assert "Traceback" not in r.err and "0x7F" not in r.err
    assert not out.exists()


def test_a_batch_counts_the_case_whose_document_cannot_be_made(monkeypatch, tmp_path):
    fail_for(monkeypatch, "BROKEN")
    folder = tmp_path / "caseload"
    folder.mkdir()
    for name in ("religious-objector", "officer-fled-abroad"):
        shutil.copy(EXAMPLES / f"{name}.yaml", folder / f"{name}.yaml")
    case_file(folder, "BROKEN")
    out, table = tmp_path / "out", tmp_path / "summary.csv"
    r = run_cli("evaluate", str(folder), "-f", "pdf", "-o", f"{out}/", "--summary-csv",
                str(table), "--today", "2024-09-15")
    assert r.code == ExitCode.CANNOT_WRITE, r.err
    assert "Traceback" not in r.err
    assert sorted(p.name for p in out.iterdir()) == ["officer-fled-abroad.pdf",
                                                      "religious-objector.pdf"]
    assert f"{(folder / 'BROKEN.yaml').as_posix()}: REFUSED (1 problem): " in r.out
    assert "Summary: 3 file(s), 2 assessed, 1 refused, 0 skipped" in r.out
    assert "2 document(s) written in" in r.out
    assert "BROKEN.yaml (exit 6):" in r.out and "its PDF document cannot be made" in r.out
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert len(rows) == 3
    [refused] = [row for row in rows if row["refused"]]
    assert refused["path"].endswith("BROKEN.yaml")
    assert "its PDF document cannot be made" in refused["refused"]


def test_pdf_bytes_are_a_pdf(scripts):
    assert PdfReader(io.BytesIO(scripts.read_bytes())).pages
