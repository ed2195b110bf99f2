"""One renderer per output format, each `render(report, ruleset) -> str`.

The words they show for outcomes and lists come from the rule set's vocabulary
(questions.yaml), never from here.

Renderers are imported lazily by the CLI, so a command pays only for the format it
prints. Every renderer is deterministic: the same report gives the same bytes.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from riskassess.errors import UsageError


class Format(str, Enum):
    text = "text"
    json = "json"
    jsonl = "jsonl"
    outcomes = "outcomes"
    markdown = "markdown"
    html = "html"
    docx = "docx"
    pdf = "pdf"


# The extensions that name a format. Any other (.txt, none) is free: text unless -f says.
EXTENSIONS = {".json": Format.json, ".jsonl": Format.jsonl, ".md": Format.markdown,
              ".markdown": Format.markdown, ".html": Format.html, ".htm": Format.html,
              ".docx": Format.docx, ".pdf": Format.pdf}


def choose_format(given: Format | None, output: Path | None) -> Format:
    """The format asked for with -f, else the one the --output extension names, else text.
    A contradiction (-f text -o report.docx) is refused rather than writing a file whose
    name lies about its content."""
    named = EXTENSIONS.get(output.suffix.lower()) if output is not None else None
    if given is Format.outcomes and named is Format.jsonl:
        named = given  # the outcomes lines are JSON lines too
    if given is not None and named is not None and given is not named:
        raise UsageError(f"--format {given.value} contradicts --output {output}, whose "
                         f"extension means {named.value}; drop --format or change the name")
    return given or named or Format.text

