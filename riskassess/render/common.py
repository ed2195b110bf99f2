"""Small formatting shared by the renderers."""

from __future__ import annotations

from typing import Any

from riskassess.law.vocabulary import Vocabulary
from riskassess.law.vocabulary import item_text as _record_text


def bracket_source_text(b: Any) -> str:
    """One report behind a bracket label, for a reader: label, publisher, title, date."""
    return f"{b.label}: {b.author}, {b.title}, {b.date}"


def item_text(item: Any, codes: dict[str, str], vocab: Vocabulary | None = None) -> str:
    """A list item as a reader sees it: a code with its meaning, or a record (e.g. a
    ground) in words, as its item type in the vocabulary says."""
    if not isinstance(item, str):
        return _record_text(item, vocab)
    meaning = codes.get(item)
    return f"{item}: {meaning}" if meaning else str(item)
