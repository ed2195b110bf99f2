"""One renderer per output format, each `render(report, ruleset) -> str`.

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


# Plain-English names for the contract's outcome vocabulary (machinery, not law: the
# vocabulary is fixed by the report contract for every edition).
OUTCOME_LABELS = {
    "in_profile": "within the profile",
    "outside_profile": "outside the profile",
    "undetermined": "undetermined (depends on facts not given)",
    "qualifies": "the acts qualify as persecution",
    "does_not_qualify": "the acts do not qualify as persecution",
    "not_assessed": "not assessed (see the reasons)",
    "substantiated_in_general": "well-founded fear in general substantiated",
    "individual_assessment": "individual assessment required",
    "not_substantiated_in_general": "well-founded fear in general not substantiated",
    "established": "nexus established",
    "not_established": "nexus not established",
    "could_be_relevant": "exclusion could be relevant",
    "examination_indicated": "an exclusion examination is indicated",
}

COLLECTION_LABELS = {
    "refer_to": "Refer to",
    "bases": "Bases",
    "substantiated_for": "Substantiated in relation to",
    # The guidance's conclusions name no circumstance that raises the risk; its COI summary
    # says treatment depends on some (rank, nature of escape, earlier activities).
    "enhancing_factors": "Circumstances the country information links to treatment",
    "non_reducing_factors": "Circumstances that do not lower it",
    "grounds": "Grounds",
    "indicators": "Exclusion indicators given",
    "notes": "Notes",
}

# The same lists named inside a sentence ("... would no longer be among the bases of persecution").
COLLECTION_NOUNS = {
    "refer_to": "profiles referred to",
    "bases": "bases of persecution",
    "substantiated_for": "grounds on which fear is substantiated",
    "enhancing_factors": "circumstances the country information links to treatment",
    "non_reducing_factors": "circumstances that do not lower the risk",
    "grounds": "nexus grounds",
    "indicators": "exclusion indicators",
    "notes": "notes",
}
