"""The terminal report: the guidance's order, every conclusion with its reasons and cites.

The content and the layout are defined once, in layout.py. Printed to a pipe or a file,
the report is that layout as plain text, the same bytes at every run. At a terminal,
rich prints the very same lines in colour, at the terminal's width; it is imported only
then.
"""

from __future__ import annotations

import io
from typing import Any

from riskassess.law.report import Report
from riskassess.law.ruleset import RuleSet
from riskassess.render.formats import Options
from riskassess.render.layout import blocks, lay_out, plain, text_info


def render(report: Report, ruleset: RuleSet, *, width: int = 100, color: bool = False,
           full: bool = False) -> str:
    """The report laid out at `width` columns; in colour (ANSI, by rich) when `color`: the
    summary, or the complete report (`full`)."""
    lines = lay_out(blocks(report.model_dump(mode="json"), text_info(ruleset), full=full),
                    width)
    if not color:
        return plain(lines)
    from rich.console import Console
    from rich.text import Text

    out = io.StringIO()
    console = Console(file=out, width=width, color_system="standard", force_terminal=True,
                      highlight=False, emoji=False, markup=False, legacy_windows=False)
    for line in lines:  # already laid out: rich adds the colour, not a second layout
        console.print(Text.assemble(*line), soft_wrap=True)
    return "\n".join(line.rstrip() for line in out.getvalue().split("\n"))


def render_outcome(outcome: Any, options: Options) -> str:
    """The renderer of the format table (render/formats.py)."""
    return render(outcome.report, outcome.ruleset, width=options.width, color=options.color,
                  full=options.full)
