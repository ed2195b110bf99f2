"""One renderer per output format, each `render(report, ruleset) -> str`.

The words they show for outcomes and lists come from the rule set's vocabulary
(questions.yaml), never from here.

Renderers are imported lazily by the CLI, so a command pays only for the format it
prints. Every renderer is deterministic: the same report gives the same bytes.
"""

from __future__ import annotations

from enum import Enum


class Format(str, Enum):
    text = "text"
    json = "json"
    jsonl = "jsonl"
    markdown = "markdown"
    html = "html"
    docx = "docx"
