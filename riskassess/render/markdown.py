"""The annotated reasoning as Markdown (footnotes for the cited paragraphs)."""

from __future__ import annotations

import re
from typing import Any

from riskassess.render.document import Document, document_of
from riskassess.render.formats import Options
from riskassess.render.templating import render as render_template


def render(doc: Document, *, annex: bool = True) -> str:
    text = render_template("report.md.j2", doc=doc, annex=annex)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def render_outcome(outcome: Any, options: Options) -> str:
    """The renderer of the format table (render/formats.py)."""
    return render(document_of(outcome, options.generated_at), annex=options.annex)
