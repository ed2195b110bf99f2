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

# What a cited paragraph is, for a reader who must tell the guidance's conclusions from
# the rest: a conclusion (or definition) of the guidance itself; a press release about
# it; country information (the guidance's own COI summary, or a report it did not
# write); or the law itself (an article of the Qualification Directive). A question's
# `rests_on` lists these, in this order.
Basis = Literal["guidance", "press_release", "country_information", "law"]
BASES: tuple[str, ...] = ("guidance", "press_release", "country_information", "law")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Quote(_Frozen):
    text: str = Field(description="The guidance's own words, at most eleven of them.")
    cite: str = Field(description="The paragraph they are from (see citations).")


class Reason(_Frozen):
    rule: str = Field(description="The id of the rule that gave this reason.")
    text: str = Field(description="The rule's reasoning, one sentence.")
    cites: list[str] = Field(description="Paragraph ids the rule relies on (see citations).")
    conditional: bool = Field(
        False, description="True if the reason applies only if facts not given turn out so; "
                           "its text then begins with the hypothesis.")
    hypothesis: str | None = Field(
        None, description="For a conditional reason: what must be established for it to "
                          "apply, in words (the rule's condition on the facts not given).")
    depends_on: list[str] = Field(
        [], description="For a conditional reason: the facts not given (paths) and open "
                        "earlier questions (question:<id>) the hypothesis is about.")
    quote: Quote | None = Field(
        None, description="The guidance's operative words the reason restates, quoted.")


class _Question(_Frozen):
    """Base of the question models (built by `_question` from a vocabulary). It declares
    no fields at run time, so that each model's own fields keep their reading order."""

    if TYPE_CHECKING:
        outcome: str
        rests_on: list[str]
        under_review: bool
        possible_outcomes: list[str]
        possible: dict[str, list[Any]]
        notes: list[str]
        reasons: list[Reason]


def _question(name: str, doc: str, outcome: Any, item: Any, **lists: Any) -> type[_Question]:
    """A question model whose JSON keys come in reading order: the outcome, the question's
    own lists, then the keys every question shares."""
    return create_model(  # type: ignore[call-overload, no-any-return]
        name, __base__=_Question, __doc__=doc,
        outcome=(outcome, ...),
        rests_on=(list[Basis], Field(
            description="What the outcome rests on: the kinds of the paragraphs its deciding "
                        "rules cite, among guidance (a conclusion of the guidance), "
                        "press_release, country_information and law.")),
        under_review=(bool, Field(
            description="True when the edition applied was under review on the assessment "
                        "date: the outcome is then the edition's finding, not to be relied "
                        "on without current country information.")),
        **lists,
        possible_outcomes=(list[str], Field(
            [], description="When the outcome depends on facts not given: the outcomes still "
                            "open.")),
        possible=(dict[str, list[item]], Field(  # type: ignore[valid-type]
            {}, description="Items that facts not given could add, per list of this question.")),
        notes=(list[str], Field([], description="Codes of notes the rule set attaches.")),
        reasons=(list[Reason], ...),
    )


def _record(name: str, spec: Any) -> type[_Frozen]:
    """A structured list item (e.g. a nexus ground) from its item type in the vocabulary."""
    fields: dict[str, Any] = {}
    for fname, f in spec.fields.items():
        fields[fname] = ((bool if f.kind == "yes_no" else Literal[tuple(f.values)]), ...)
    return create_model(spec.title, __base__=_Frozen, **fields)  # type: ignore[call-overload]


def build_report_model(vocab: Any) -> type[Report]:
    """The report model of a vocabulary: one question model per question, in its order.

    The JSON keys are the question ids and list names the vocabulary declares; for the
    shipped vocabulary they are the report contract's (shared/spec/report-json.md)."""
    records = {name: _record(name, t) for name, t in vocab.item_types.items()}
    item: Any = str
    for model in records.values():
        item = item | model
    questions: dict[str, Any] = {}
    for q in vocab.questions:
        lists: dict[str, Any] = {}
        for spec in q.lists:
            if isinstance(spec.items, tuple):
                member: Any = Literal[spec.items]
            else:
                member = records.get(spec.items, str)
            default = Field([], description=spec.description) if spec.description else []
            lists[spec.name] = (list[member], default)
        questions[q.id] = (_question(q.title, q.description, Literal[q.outcomes], item,
                                     **lists), ...)
    return create_model(  # type: ignore[call-overload, no-any-return]
        "Report", __base__=Report, __doc__=f"One assessment, format {FORMAT}.",
        **questions,
        open_questions=(list[OpenQuestion], ...),
        warnings=(list[Warning], ...),
        citations=(dict[str, Citation], ...),
    )


# which vocabulary built a report model (a report carries its vocabulary this way)
_VOCABULARY_OF: dict[type, Any] = {}


def report_model(vocab: Any) -> type[Report]:
    """The report model of a vocabulary, built once and kept with it."""
    found = vocab.models.get("report")
    if found is None:
        found = vocab.models["report"] = build_report_model(vocab)
        _VOCABULARY_OF[found] = vocab
    return found  # type: ignore[no-any-return]


def question_model(vocab: Any, qid: str) -> type[_Question]:
    """The model of one question of a vocabulary's reports."""
    key = "question-model:" + qid  # (a key of vocab.models, not a variable)
    if key not in vocab.models:
        vocab.models[key] = report_model(vocab).model_fields[qid].annotation
    return vocab.models[key]  # type: ignore[no-any-return]


def outcomes_model(vocab: Any) -> type[_Frozen]:
    """The model of a `--format outcomes` line (see `riskassess schema outcomes`)."""
    if "outcomes" not in vocab.models:
        vocab.models["outcomes"] = build_outcomes_model(vocab)
    return vocab.models["outcomes"]  # type: ignore[no-any-return]


def vocabulary_of_report(report: Any) -> Any:
    """The vocabulary whose report model a report is an instance of."""
    return _VOCABULARY_OF[type(report)]


class Refusal(_Frozen):
    exit_code: int = Field(description="The exit code the file alone would have given.")
    problems: list[str] = Field(description="The located problems (the first 20, then a "
                                            "count of the rest).")


def build_outcomes_model(vocab: Any) -> type[_Frozen]:
    """One line of `--format outcomes`: a case's outcomes in codes, without the texts.

    Per question its outcome, its lists (codes or records, as in the report), the items
    facts not given could add, the rules whose reasons apply (`rules`) and those that
    apply only if facts not given turn out so (`if_established`); then the paragraphs the
    report cites, its open questions (fact paths) and warnings (codes). A file that could
    not be assessed has `refused` and nothing else."""
    report = report_model(vocab)
    questions: dict[str, Any] = {}
    for q in vocab.questions:
        full = report.model_fields[q.id].annotation
        fields: dict[str, Any] = {"outcome": (full.model_fields["outcome"].annotation, ...),
                                  "possible_outcomes": (list[str], Field(
                                      [], description="Present when the outcome is open."))}
        for name, info in full.model_fields.items():
            if name not in ("outcome", "possible_outcomes", "reasons", "under_review"):
                fields[name] = (info.annotation, ...)
        fields["rules"] = (list[str], Field(description="Rules whose reasons apply."))
        fields["if_established"] = (list[str], Field(
            description="Rules whose reasons apply only if facts not given turn out so."))
        questions[q.id] = (create_model(f"{q.id}_outcomes", __base__=_Frozen, **fields)
                           | None, None)
    questions_model = create_model("Questions", __base__=_Frozen, **questions)
    return create_model(  # type: ignore[call-overload, no-any-return]
        "OutcomesLine", __base__=_Frozen, __doc__=build_outcomes_model.__doc__,
        path=(str, Field(description="The case file, as the batch names it.")),
        case_id=(str | None, ...),
        assessment_date=(dt.date | None, ...),
        edition=(str | None, Field(description="The edition applied (a rule set id).")),
        questions=(questions_model, ...),
        cites=(list[str], Field(description="Paragraph ids the report cites, in order.")),
        open_questions=(list[str], Field(description="Facts whose establishing could "
                                                     "change a conclusion.")),
        warnings=(list[str], Field(description="Warning codes, in the report's order.")),
        refused=(Refusal | None, ...),
    )


class OpenQuestion(_Frozen):
    fact: str = Field(
        description="Dotted path of a fact not given (GROUP.KEY, as in the case file).")
    affects: list[str] = Field(description="Questions whose answer it could change.")
    why: str
    rules: list[str] = Field(description="The rules through which it matters.")


class Warning(_Frozen):
    code: str
    message: str
    rule: str | None = None
    cites: list[str] = []


class BracketSource(_Frozen):
    """The report behind one label of the guidance's brackets, e.g. "Targeting 2022"."""

    label: str = Field(description="The label as the guidance's brackets print it.")
    source_id: str
    title: str
    author: str = Field(description="The publisher or author.")
    date: str
    url: str | None = None


class Citation(_Frozen):
    source: str = Field(description="Title, author or publisher, and date of the source.")
    locator: str = Field(
        description="Where in the source: section, paragraph, bracketed references.")
    summary: str = Field(description="What the paragraph says, in riskassess's own words.")
    gist: str = Field(description="The same in one line.")
    source_id: str
    source_short: str
    basis: Basis = Field(description="What the paragraph is: a conclusion of the guidance, "
                                     "a press release, country information, or the law.")
    section: str
    references: list[str] = Field(
        [], description="The guidance's bracketed references, as printed.")
    footnote: str | None = None
    facts: list[str] = []
    url: str | None = None
    bracket_sources: list[BracketSource] = Field(
        [], description="The reports the bracketed references name by label, each with its "
                        "full title, publisher and date, in the order the labels first appear.")


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


# The report's format: 2 since each question says what its outcome rests on, whether
# the edition was under review, and nexus `established` became `indicated` (see
# docs/report-json.md, "Changes").
FORMAT = 2


class Report(_Frozen):
    """One assessment: the base of every report model.

    The questions (for the shipped rules: applicability, persecution, risk, nexus,
    exclusion) and the keys after them are added by `build_report_model`."""

    format: Literal[2] = FORMAT
    tool: Tool
    case_id: str | None
    assessment_date: dt.date
    ruleset: RulesetInfo

    if TYPE_CHECKING:
        open_questions: list[OpenQuestion]
        warnings: list[Warning]
        citations: dict[str, Citation]

    def question(self, qid: str) -> _Question:
        return getattr(self, qid)

    @property
    def question_ids(self) -> tuple[str, ...]:
        base = set(Report.model_fields)
        return tuple(name for name, info in type(self).model_fields.items()
                     if name not in base and isinstance(info.annotation, type)
                     and issubclass(info.annotation, _Question))
