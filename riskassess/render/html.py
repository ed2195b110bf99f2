"""The annotated reasoning as one self-contained HTML page (inline CSS, no requests).

Every note marker links to its note, and every note links back to each place that cites
it (in reading order). The print stylesheet gives A4 pages with the case id as a running
head and "page X of Y" at the foot."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from riskassess.render.document import Document, document_of
from riskassess.render.formats import Options
from riskassess.render.templating import render as render_template


def backlinks(doc: Document, annex: bool = True) -> dict[int, list[str]]:
    """Note number -> the ids of the markers citing it, in reading order (the ids the
    template's refs macro gives), with or without the annex's."""
    out: dict[int, list[str]] = {}

    def add(numbers: list[int], where: str) -> None:
        for n in numbers:
            out.setdefault(n, []).append(f"ref-{n}-{where}")

    for i, w in enumerate(doc.warnings, 1):
        add(w.notes, f"w{i}")
    for q in doc.questions:
        for i, r in enumerate(q.reasons, 1):
            add(r.notes, f"{q.id}-{i}")
        for hi, h in enumerate(q.hypotheses, 1):
            for i, r in enumerate(h.reasons, 1):
                add(r.notes, f"{q.id}-h{hi}-{i}")
    for q in doc.questions if annex else ():  # the annex, after the body
        for hi, h in enumerate(q.annex_hypotheses, 1):
            for i, r in enumerate(h.reasons, 1):
                add(r.notes, f"{q.id}-a{hi}-{i}")
    return out


def css_string(text: str) -> Markup:
    """A CSS string literal (inside <style>, where HTML escapes are not decoded)."""
    safe = "".join(ch if ch.isalnum() or ch in " .,:;·-_()/'" else f"\\{ord(ch):x} "
                   for ch in text)
    return Markup(f'"{safe}"')


def render(doc: Document, *, annex: bool = True) -> str:
    return render_template("report.html.j2", doc=doc, backlinks=backlinks(doc, annex),
                           running_head=css_string(doc.running_head), annex=annex)


def render_outcome(outcome: Any, options: Options) -> str:
    """The renderer of the format table (render/formats.py)."""
    return render(document_of(outcome, options.generated_at), annex=options.annex)
