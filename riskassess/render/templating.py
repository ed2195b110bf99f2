"""Jinja2 for the Markdown and HTML reports (imported only when one is asked for)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from riskassess import words

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=4)
def environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["md_cell"] = md_cell
    env.globals["words"] = words  # the tool's own phrases (riskassess/words.py)
    return env


_MD_SPECIAL = set("\\`*_[]<>|")


def md_cell(text: str) -> str:
    """Text the user wrote, as one Markdown table cell that shows it as written: line
    breaks become spaces, and Markdown's and HTML's special characters are escaped, so
    a case's free text can neither break the table nor add headings, links, images or
    markup to the report."""
    text = " ".join(str(text).split())
    return "".join("&lt;" if ch == "<" else "&gt;" if ch == ">" else
                   "\\" + ch if ch in _MD_SPECIAL else ch for ch in text)


def render(template: str, **context: object) -> str:
    autoescape = template.endswith(".html.j2")
    return environment(autoescape).get_template(template).render(**context)
