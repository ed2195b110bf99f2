"""The annotated reasoning as Markdown (footnotes for the cited paragraphs)."""

from __future__ import annotations

import re

from riskassess.render.document import Document
from riskassess.render.templating import render as render_template


def render(doc: Document) -> str:
    text = render_template("report.md.j2", doc=doc)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
