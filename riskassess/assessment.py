"""The assessment report: immutable result models whose JSON is the report contract.

`shared/spec/report-json.md` fixes the keys and closed vocabularies below; the
project adds some keys (each documented in docs/report-json.md):

* per question: ``possible_outcomes`` (when facts are missing, the outcomes still
  open), ``possible`` (items that unknown facts could add) and ``notes``;
* ``reasons[].conditional``: true for a reason that applies only if facts not given
  turn out a certain way;
* ``risk.substantiated_for``: the grounds on which the guidance says fear is
  substantiated in general;
* ``open_questions[].rules``, ``warnings[].rule`` and ``warnings[].cites``;
* ``ruleset.successor`` and ``ruleset.selected_by``; richer ``citations``.

The engine fills these models; they validate what it produced, so a rule set that
concluded something outside the contract fails loudly instead of printing it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reason(_Frozen):
    rule: str = Field(description="The id of the rule that gave this reason.")
    text: str = Field(description="The rule's reasoning, one sentence.")
    cites: list[str] = Field(description="Paragraph ids the rule relies on (see citations).")
    conditional: bool = Field(
        False, description="True if the reason applies only if facts not given turn out so.")


class Ground(_Frozen):
    ground: Literal["political_opinion", "religion", "race", "nationality",
                    "particular_social_group"]
    imputed: bool
    likelihood: Literal["highly_likely", "possible"]


Item = str | Ground


class _Question(_Frozen):
    """Base of the five question models below (built by `_question`). It declares no fields
    at run time, so that each model's own fields keep their reading order."""

    if TYPE_CHECKING:
        outcome: str
        possible_outcomes: list[str]
        possible: dict[str, list[Item]]
        notes: list[str]
        reasons: list[Reason]


def _question(name: str, doc: str, outcome: Any, **lists: Any) -> type[_Question]:
    """A question model whose JSON keys come in reading order: the outcome, the question's
    own lists, then the keys every question shares."""
    return create_model(  # type: ignore[call-overload, no-any-return]
        name, __base__=_Question, __doc__=doc,
        outcome=(outcome, ...),
        **lists,
        possible_outcomes=(list[str], Field(
            [], description="When the outcome depends on facts not given: the outcomes still "
                            "open.")),
        possible=(dict[str, list[Item]], Field(
            {}, description="Items that facts not given could add, per list of this question.")),
        notes=(list[str], Field([], description="Codes of notes the rule set attaches.")),
        reasons=(list[Reason], ...),
    )


Applicability = _question(
    "Applicability", "Does the applicant fall within the profile?",
    Literal["in_profile", "outside_profile", "undetermined"],
    refer_to=(list[str], Field([], description="Other profiles of the guidance that apply.")))
Persecution = _question(
    "Persecution", "Step 1: do the acts qualify as persecution?",
    Literal["qualifies", "does_not_qualify", "undetermined", "not_assessed"],
    bases=(list[Literal["art_9_1_severe_acts", "art_9_2_e", "art_9_1_conscientious_objection"]],
           []))
Risk = _question(
    "Risk", "Step 2: the level of risk.",
    Literal["substantiated_in_general", "individual_assessment", "not_substantiated_in_general",
            "undetermined", "not_assessed"],
    enhancing_factors=(list[str], []), non_reducing_factors=(list[str], []),
    substantiated_for=(list[str], Field(
        [], description="What the guidance finds the fear substantiated in relation to.")))
Nexus = _question(
    "Nexus", "Step 3: the reasons for persecution.",
    Literal["established", "not_established", "undetermined", "not_assessed"],
    grounds=(list[Ground], []))
Exclusion = _question(
    "Exclusion", "The exclusion pointer.",
    Literal["could_be_relevant", "examination_indicated", "undetermined", "not_assessed"],
    indicators=(list[str], []))


QUESTION_MODELS: dict[str, type[_Question]] = {
    "applicability": Applicability,
    "persecution": Persecution,
    "risk": Risk,
    "nexus": Nexus,
    "exclusion": Exclusion,
}

# The questions of the report contract, in the guidance's order.
QUESTIONS: tuple[str, ...] = tuple(QUESTION_MODELS)


class OpenQuestion(_Frozen):
    fact: str = Field(description="Dotted path of a fact not given, e.g. applicant.rank.")
    affects: list[str] = Field(description="Questions whose answer it could change.")
    why: str
    rules: list[str] = Field(description="The rules through which it matters.")


class Warning(_Frozen):
    code: str
    message: str
    rule: str | None = None
    cites: list[str] = []


class Citation(_Frozen):
    source: str = Field(description="Title, author or publisher, and date of the source.")
    locator: str = Field(
        description="Where in the source: section, paragraph, bracketed references.")
    summary: str = Field(description="What the paragraph says, in riskassess's own words.")
    gist: str = Field(description="The same in one line.")
    source_id: str
    source_short: str
    section: str
    references: list[str] = Field(
        [], description="The guidance's bracketed references, as printed.")
    footnote: str | None = None
    facts: list[str] = []
    url: str | None = None


class Tool(_Frozen):
    name: Literal["riskassess"] = "riskassess"
    version: str


class EditionRef(_Frozen):
    id: str
    title: str
    in_force_from: dt.date
    encoded: bool


class RulesetInfo(_Frozen):
    id: str
    title: str
    in_force_from: dt.date
    under_review_from: dt.date | None
    superseded_on: dt.date | None
    successor: str | None
    selected_by: Literal["assessment_date", "forced"]
    sha256: str
    in_force_on_assessment_date: EditionRef | None = Field(
        description="The edition in force on the assessment date (null: none catalogued).")
    newer_editions: list[EditionRef] = Field(
        description="Editions that took effect after the one applied, encoded or not.")


class Report(_Frozen):
    """One assessment, format 1."""

    format: Literal[1] = 1
    tool: Tool
    case_id: str | None
    assessment_date: dt.date
    ruleset: RulesetInfo
    applicability: Applicability
    persecution: Persecution
    risk: Risk
    nexus: Nexus
    exclusion: Exclusion
    open_questions: list[OpenQuestion]
    warnings: list[Warning]
    citations: dict[str, Citation]

    def question(self, qid: str) -> _Question:
        return getattr(self, qid)
