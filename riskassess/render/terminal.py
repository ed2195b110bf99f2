"""The terminal report: the guidance's order, every conclusion with its reasons and cites.

Order (as a caseworker reads it): the edition applied and its dates (with any
review or supersession warning at the top), applicability, Step 1 persecution,
Step 2 risk, Step 3 nexus, exclusion, open questions, warnings, cited paragraphs.
Rendered with rich to a string at a fixed width when not on a terminal, so that
output piped to a file is byte-stable.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from riskassess.law.report import Report
from riskassess.law.ruleset import RuleSet
from riskassess.render.formats import Options
from riskassess.render.plaintext import blocks, text_info


def render(report: Report, ruleset: RuleSet, *, width: int = 100, color: bool = False) -> str:
    """The report drawn with rich (in colour on a terminal); render/plaintext.py lays out
    the same blocks without rich, with the same characters."""
    out = io.StringIO()
    console = Console(file=out, width=width, color_system="standard" if color else None,
                      force_terminal=color, highlight=False, emoji=False, markup=False,
                      legacy_windows=False)
    for block in blocks(report.model_dump(mode="json"), text_info(ruleset)):
        kind = block[0]
        if kind == "text":
            _, segments, indent = block
            text = Text()
            for words, style in segments:
                text.append(words, style=style)
            console.print(Padding(text, (0, 0, 0, indent)) if indent else text)
        elif kind == "bullet":  # wrapped lines hang under the text, not under the dash
            _, words, indent, style = block
            grid = Table.grid(padding=(0, 1, 0, 0))
            grid.add_column(width=1)
            grid.add_column()
            grid.add_row("-", Text(words, style=style))
            console.print(Padding(grid, (0, 0, 0, indent)))
        else:
            _, title, words = block
            console.print(Panel(Text(words), title=title, title_align="left",
                                border_style="red bold", width=width))
    # Padding fills lines to the full width; trailing blanks help nobody in a file.
    return "\n".join(line.rstrip() for line in out.getvalue().split("\n"))


def render_outcome(outcome: Any, options: Options) -> str:
    """The renderer of the format table (render/formats.py)."""
    return render(outcome.report, outcome.ruleset, width=options.width, color=options.color)
