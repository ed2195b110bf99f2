"""What a person reads at a prompt (the interview's and the quiz's questions, refusals and
briefing): text wrapped at words to the terminal's width, by the terminal report's own
word-wrapping (render/layout.py `wrap`), so that no word is broken across lines."""

from __future__ import annotations

from riskassess.render.layout import wrap

NARROWEST = 20  # columns: a narrower terminal still gets lines of this width


def fitted(text: str, width: int, hang: int = 2) -> str:
    """Each line of a text wrapped at words to `width` columns, the continuations of a line
    indented `hang` columns more than the line itself; a newline after the last line."""
    width = max(width, NARROWEST)
    out = []
    for line in text.split("\n"):
        body = line.lstrip(" ")
        lead = " " * (len(line) - len(body))
        more = lead + " " * hang
        first, *rest = wrap(body, max(width - len(lead), NARROWEST // 2))
        if rest:  # the continuations wrapped again, at the width left beside their indent
            rest = wrap(" ".join(rest), max(width - len(more), NARROWEST // 2))
        out += [lead + first] + [more + r for r in rest]
    return "\n".join(out) + "\n"
