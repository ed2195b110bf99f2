"""The annotated reasoning as one self-contained HTML page (inline CSS, no requests)."""

from __future__ import annotations

from riskassess.render.document import Document
from riskassess.render.templating import render as render_template


def render(doc: Document) -> str:
    return render_template("report.html.j2", doc=doc)
