"""Small formatting shared by the renderers."""

from __future__ import annotations

from typing import Any

from riskassess.assessment import Ground


def item_text(item: Any, codes: dict[str, str]) -> str:
    """A list item as a reader sees it: a code with its meaning, or a ground in words."""
    if isinstance(item, Ground):
        imputed = "imputed " if item.imputed else ""
        return f"{imputed}{item.ground.replace('_', ' ')}: {item.likelihood.replace('_', ' ')}"
    meaning = codes.get(item)
    return f"{item}: {meaning}" if meaning else str(item)
