"""What an unknown fact could change: the engine's note behind each open question.

Light (no pydantic): compiled rule sets keep these in their tables, and the cold start
reads them back from the cache."""

from __future__ import annotations

from riskassess.record import record


@record
class Effect:
    """How one unknown fact matters, for the open-questions list.

    kind is "outcome" (label: the outcomes still open), "item" (collection + label of an
    item it could add) or "warning" (label: the warning code)."""

    question: str
    kind: str
    label: str
    rule: str
    collection: str = ""
