"""What a person types at a prompt, read as the value it names.

One reading for the interview (facts) and the quiz (outcomes and lists): words match
without regard to case (`Deserter`, `TRUE`, `Unknown`), a list is comma-separated (in
brackets or not), and `none` (or nothing, or `[]`) is the empty list. A word that is not
an allowed value is returned as typed, for the caller to refuse in its own words.
"""

from __future__ import annotations

from typing import Any


def choice(values: tuple[Any, ...] | list[Any], text: str) -> Any:
    """The allowed value spelled like `text` up to case, or `text` itself (then refused)."""
    lowered = {str(v).lower(): v for v in values}
    return lowered.get(text.strip().lower(), text.strip())


def items(values: tuple[Any, ...] | list[Any], text: str) -> list[Any]:
    """A comma-separated list of allowed values, each read as `choice` reads it."""
    text = text.strip()
    if text.lower() in ("none", "[]", ""):
        return []
    return [choice(values, item) for item in text.strip("[]").split(",") if item.strip()]
