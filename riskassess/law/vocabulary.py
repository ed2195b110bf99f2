"""The vocabulary of a country's guidance, read from YAML: facts, constraints, questions.

A vocabulary folder (for example ``rules/syria/``) holds two files:

    facts.yaml      the facts of a case file: dotted path, kind, values and meanings,
                    description, cited paragraphs; cross-fact constraints; the country
                    scope and its warning
    questions.yaml  the questions a rule set answers, their outcome words, the lists
                    each answer carries (with their item types), labels and the quiz

Everything the machinery needs to know about the law's words comes from here: the case
model (pydantic, built with ``create_model``), the report model, the renderers' labels,
the scenario sidecars and the quiz. The engine, the checker and the renderers name no
fact, question or outcome of their own.

A vocabulary is loaded once per process and file state (the cache key holds each file's
size and modification time), so building the models costs nothing on later calls.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskassess.errors import Problem, RuleSetError
from riskassess.io.reader import read_yaml_file
from riskassess.law.dates import UNKNOWN
from riskassess.law.located import validate
from riskassess.law.plain import Implication, frame_lines
from riskassess.words import NOT_GIVEN, record_words

FACTS_FILE = "facts.yaml"
QUESTIONS_FILE = "questions.yaml"

# The kinds of fact a vocabulary may declare, and the engine's name for each: the
# engine enumerates `enum`, `bool` and `set` facts and cuts `date` facts by thresholds;
# `country` and `text` facts are recorded, never tested by a rule.
KINDS = {"choice": "enum", "yes_no": "bool", "codes": "set", "partial_date": "date",
         "country": "country", "text": "text"}


# ------------------------------------------------------------------- file schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Key = Field(pattern=r"^[a-z][a-z0-9_]*$")


class FactEntry(_Strict):
    path: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
    kind: Literal["choice", "yes_no", "partial_date", "codes", "country", "text"]
    description: str
    # a short name for a reader (fact tables, hypotheses); default: the key in words
    label: str | None = None
    values: dict[str, str] = {}  # value -> meaning (choice and codes only)
    # how a condition on the fact reads after "If it is established that": per value (a
    # choice or code; "true"/"false" for yes_no; "empty"/"not_empty" for codes; "before"
    # and "on_or_after" with {date} for a date)
    phrases: dict[str, str] = {}
    cites: list[str] = []
    recorded_only: bool = False  # no rule reads it: kept for the record


class OnlyIf(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    fact: str
    in_: list[str] = Field(alias="in")


class When(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    fact: str
    is_: Any = Field(None, alias="is")  # a value of a choice or yes/no fact
    on_or_after: dt.date | None = None  # a day, for a partial_date fact


class Constraint(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    fact: str
    only_if: OnlyIf | None = None
    not_after: Literal["assessment_date"] | None = None
    must_be: Any = None  # with `when`: the value the fact must have (or be unknown)
    when: When | None = None


class Group(_Strict):
    key: str = Key
    title: str
    description: str
    field_description: str


class Scope(_Strict):
    fact: str
    warning: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    message: str


class FactsFile(_Strict):
    format: Literal[1]
    country: str = Field(pattern=r"^[A-Z]{2}$")
    country_name: str
    scope: Scope
    groups: list[Group]
    facts: list[FactEntry]
    constraints: list[Constraint] = []


class RecordField(_Strict):
    kind: Literal["choice", "yes_no"] = "choice"
    values: list[str] = []
    shown: dict[str, str] = {}  # yes/no fields: "true"/"false" -> words


class ItemType(_Strict):
    title: str
    fields: dict[str, RecordField]
    key: str
    label: str  # in a sentence, e.g. "{ground} ({likelihood})"
    text: str  # in a list, e.g. "{imputed}{ground}: {likelihood}"


class ListEntry(_Strict):
    name: str = Key
    label: str
    noun: str
    description: str | None = None
    # `code` (default): a code documented in the edition's codes; {values: [...]}: one of
    # these; or the name of an item type
    items: str | dict[str, list[str]] = "code"


class QuestionEntry(_Strict):
    id: str = Key
    title: str
    description: str
    outcomes: list[str]
    # how "the answer to this question is OUTCOME" reads in a hypothesis, per outcome
    phrases: dict[str, str] = {}
    lists: list[ListEntry] = []
    shown_in_order: list[str] = []


class QuizEntry(_Strict):
    answer: str = Key
    question: str
    list: str | None = None
    prompt: str


class Instrument(_Strict):
    """How the instrument of the law is cited on a range of assessment dates."""

    cited_as: str
    from_: dt.date | None = Field(None, alias="from")
    until: dt.date | None = None  # the last day
    note: str | None = None


class Frame(_Strict):
    """What an assessment does not decide: printed in every document. `{instrument}` in
    a line stands for how the instrument is cited on the assessment date."""

    heading: str
    intro: str
    not_covered: list[str]
    instruments: list[Instrument]

    @model_validator(mode="after")
    def _every_day_covered(self) -> Frame:
        ins = self.instruments
        ok = bool(ins) and ins[0].from_ is None and ins[-1].until is None and all(
            a.until is not None and b.from_ == a.until + dt.timedelta(days=1)
            for a, b in itertools.pairwise(ins))
        if not ok:
            raise ValueError("instruments must cover every date in order: the first without "
                             "'from', the last without 'until', each 'from' the day after "
                             "the 'until' before it")
        return self

    @property
    def plain(self) -> tuple:
        """The frame as plain data, for law/plain.py frame_lines (and the cold path)."""
        return (" ".join(self.intro.split()), tuple(self.not_covered),
                tuple((i.cited_as, i.from_, i.until, i.note) for i in self.instruments))

    def lines(self, day: dt.date) -> tuple[str, list[str], str | None]:
        """The frame on an assessment date: the intro, each matter not covered, and the
        instrument's note (if any)."""
        return frame_lines(*self.plain, day)


class QuestionsFile(_Strict):
    format: Literal[1]
    frame: Frame
    item_types: dict[str, ItemType] = {}
    profile_question: str
    profile_outcome: str
    questions: list[QuestionEntry]
    outcome_labels: dict[str, str] = {}
    # outcomes whose deciding reasons state the guidance's conclusions only as conditionals
    # (or not at all): the conclusions at a glance quote no words of the guidance for them
    unquoted_outcomes: list[str] = []
    quiz: list[QuizEntry] = []


# ------------------------------------------------------------------ loaded form


@dataclass(frozen=True)
class FactSpec:
    """One fact: its dotted path, kind (the engine's name), known values, description."""

    path: str
    kind: Literal["enum", "bool", "set", "date", "country", "text"]
    values: tuple[Any, ...]  # enum/bool: the values; set: the possible members
    description: str
    meanings: dict[str, str] = field(default_factory=dict)
    cites: tuple[str, ...] = ()
    recorded_only: bool = False
    label: str = ""
    phrases: dict[str, str] = field(default_factory=dict)

    @property
    def group(self) -> str:
        return self.path.split(".", 1)[0]

    @property
    def key(self) -> str:
        return self.path.split(".", 1)[1]

    @property
    def testable(self) -> bool:
        """Whether a rule may test it (country and free-text facts are only recorded)."""
        return self.kind in ("enum", "bool", "set", "date")

    @property
    def label_in_sentence(self) -> str:
        """The label inside a sentence: its first letter in lower case (unless the label
        opens with an abbreviation, e.g. "COI")."""
        if self.label[1:2].isupper():
            return self.label
        return self.label[:1].lower() + self.label[1:]

    def words(self, value: Any) -> str:
        """A value as a reader reads it: a choice or code by its meaning, yes or no, and a
        fact left unknown as not given (never as a truthy "yes" or its letters)."""
        if value is None or value == UNKNOWN:
            return NOT_GIVEN
        if self.kind == "bool":
            return "yes" if value else "no"
        if self.kind == "set":
            items = sorted(value)
            return "; ".join(self.meanings.get(v, v).rstrip(" .") for v in items) \
                if items else "none"
        if self.kind == "enum":
            return self.meanings.get(value, str(value)).rstrip(" .")
        return str(value)


@dataclass(frozen=True)
class ListSpec:
    name: str
    label: str
    noun: str
    description: str | None
    items: str | tuple[str, ...]  # "code", an item type name, or the allowed values


@dataclass(frozen=True)
class QuestionVocab:
    id: str
    title: str
    description: str
    outcomes: tuple[str, ...]  # every outcome the report contract allows
    lists: tuple[ListSpec, ...]
    shown: tuple[str, ...]  # the lists in the order reports show them
    phrases: dict[str, str] = field(default_factory=dict)  # outcome -> hypothesis words

    @property
    def decided(self) -> tuple[str, ...]:
        """The outcomes a rule may conclude (all but 'undetermined')."""
        return tuple(o for o in self.outcomes if o != "undetermined")


@dataclass(frozen=True, eq=False)  # identity: models and caches key on it
class Vocabulary:
    """A loaded vocabulary folder: facts, constraints, questions, and the models built."""

    directory: Path
    country: str
    country_name: str
    scope: Scope
    groups: tuple[Group, ...]
    facts: dict[str, FactSpec]  # every declared fact, in file order
    given_only_if: dict[str, tuple[str, frozenset[str]]]
    not_after_assessment: frozenset[str]
    implications: tuple[Implication, ...]
    questions: tuple[QuestionVocab, ...]
    item_types: dict[str, ItemType]
    outcome_labels: dict[str, str]
    frame: Frame
    quiz: tuple[QuizEntry, ...]
    profile_question: str
    profile_outcome: str
    sha256: str
    files: tuple[str, ...]
    digests: dict[str, str] = field(default_factory=dict)  # file read -> sha256 of its bytes
    locations: dict[str, tuple[str, int | None, int | None]] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict, repr=False)  # built lazily
    unquoted_outcomes: frozenset[str] = frozenset()  # (questions.yaml: no quotation at a glance)

    # -- facts -----------------------------------------------------------------

    @property
    def testable(self) -> dict[str, FactSpec]:
        if "testable" not in self.models:
            self.models["testable"] = {p: s for p, s in self.facts.items() if s.testable}
        return self.models["testable"]

    @property
    def places(self) -> tuple[tuple[str, str, str], ...]:
        """(path, group, key) of every fact, in order: how to read a case quickly."""
        if "places" not in self.models:
            self.models["places"] = tuple((p, s.group, s.key) for p, s in self.facts.items())
        return self.models["places"]

    def by_key(self, key: str) -> FactSpec | None:
        """The fact whose key (the part after the group) is `key` (keys are unique)."""
        return next((s for s in self.facts.values() if s.key == key), None)

    def admissible(self, given: dict[str, Any], completion: dict[str, Any]) -> bool:
        """Whether a completion of unknown facts is possible for a case with these given
        facts (the constraints' impossible combinations)."""
        for fact, (other, allowed) in self.given_only_if.items():
            status = completion.get(other, UNKNOWN)
            if given.get(fact, UNKNOWN) != UNKNOWN and status != UNKNOWN \
                    and status not in allowed:
                return False
        for imp in self.implications:
            if imp.broken_by(completion.get(imp.fact, given.get(imp.fact, UNKNOWN)),
                             completion.get(imp.when_fact, given.get(imp.when_fact, UNKNOWN))):
                return False
        return True

    # -- questions ---------------------------------------------------------------

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

    def question(self, qid: str) -> QuestionVocab:
        return next(q for q in self.questions if q.id == qid)

    def list_labels(self) -> dict[str, str]:
        """List name -> label, in the order reports show them (with the shared notes)."""
        out: dict[str, str] = {}
        for q in self.questions:
            specs = {s.name: s for s in q.lists}
            for name in q.shown:
                out.setdefault(name, specs[name].label)
        out.setdefault("notes", "Notes")
        return out

    def list_nouns(self) -> dict[str, str]:
        out = {s.name: s.noun for q in self.questions for s in q.lists}
        out.setdefault("notes", "notes")
        return out

    def shown_lists(self, qid: str) -> list[str]:
        """The list keys of one question, in the order reports show them (notes last)."""
        return [*self.question(qid).shown, "notes"]

# ------------------------------------------------------------------- loading


def _implication(c: Constraint, spec: FactSpec, facts: dict[str, FactSpec], fdoc: Any,
                 here: tuple, problems: list[Problem]) -> Implication | None:
    """A `must_be ... when ...` constraint, checked against the facts it names."""
    assert c.when is not None
    if c.must_be not in spec.values:
        problems.append(fdoc.problem(here + ("must_be",), f"'{c.must_be}' is not a value of "
                                     f"{spec.path}"))
        return None
    other = facts.get(c.when.fact)
    if other is None or other.path == spec.path:
        problems.append(fdoc.problem(here + ("when", "fact"),
                                     f"'{c.when.fact}' is not another declared fact"))
        return None
    if (c.when.is_ is None) == (c.when.on_or_after is None):
        problems.append(fdoc.problem(here + ("when",), "when is exactly one of: is, "
                                     "on_or_after"))
        return None
    if c.when.on_or_after is not None and other.kind != "date":
        problems.append(fdoc.problem(here + ("when", "on_or_after"),
                                     f"on_or_after applies to a partial_date fact, not "
                                     f"{other.path}"))
        return None
    if c.when.is_ is not None and c.when.is_ not in other.values:
        problems.append(fdoc.problem(here + ("when", "is"), f"'{c.when.is_}' is not a value of "
                                     f"{other.path}"))
        return None
    return Implication(spec.path, c.must_be, other.path, c.when.is_, c.when.on_or_after)


_NOT_GIVEN = object()  # a fact that does not apply (its only_if does not hold)


def _contradictions(facts: dict[str, FactSpec], written: list[tuple[str, Any, int]],
                    fdoc: Any) -> list[Problem]:
    """Values of a fact that no case can hold because the constraints contradict each other
    (two must_be that cannot both hold, an only_if and a must_be at odds, ...).

    Found by enumeration, from the declarations alone: for each value of each constrained
    fact, is there an applicant (every fact linked to it by constraints given a value, or not
    given where its only_if does not hold) for whom every constraint holds? If not, the value
    is reported with the constraints that rule it out, at the last of them."""
    links: dict[str, set[str]] = {}
    for kind, c, _ in written:
        a, b = (c[0], c[1]) if kind == "only_if" else (c.fact, c.when_fact)
        links.setdefault(a, set()).add(b)
        links.setdefault(b, set()).add(a)
    cuts: dict[str, set[dt.date]] = {}
    for kind, c, _ in written:
        if kind == "implication" and c.when_date is not None:
            cuts.setdefault(c.when_fact, set()).add(c.when_date)

    def domain(path: str) -> tuple[Any, ...]:
        spec = facts[path]
        if spec.kind in ("enum", "bool"):
            return tuple(spec.values)
        if spec.kind == "date":
            return (dt.date.min, *sorted(cuts.get(path, ())))
        return ()  # lists, countries, text: no constraint here reads their values

    only_if = {c[0]: c for kind, c, _ in written if kind == "only_if"}

    def broken(values: dict[str, Any]) -> list[int]:
        out = []
        for kind, c, i in written:
            if kind == "only_if":
                fact, other, allowed = c
                if (values.get(fact, _NOT_GIVEN) is not _NOT_GIVEN) != \
                        (values.get(other, _NOT_GIVEN) in allowed):
                    out.append(i)  # given where it does not apply, or missing where it does
            elif values.get(c.fact, _NOT_GIVEN) is not _NOT_GIVEN and \
                    c.broken_by(values[c.fact], values.get(c.when_fact, _NOT_GIVEN)):
                out.append(i)
        return out

    musts = {i for kind, _, i in written if kind == "implication"}
    best = 0
    problems: list[Problem] = []
    for path in links:
        component, todo = {path}, [path]
        while todo:
            for other in links.get(todo.pop(), ()):
                if other not in component:
                    component.add(other)
                    todo.append(other)
        others = sorted(f for f in component - {path} if domain(f))
        choices = [(*domain(f), *((_NOT_GIVEN,) if f in only_if else ())) for f in others]
        for value in domain(path):
            fewest: list[list[int]] = []
            for combo in itertools.product(*choices):
                values = dict(zip(others, combo, strict=True))
                values[path] = value
                found = broken(values)
                if not found:
                    break
                # the culprits: the constraints the nearest misses break, a must_be
                # counting less than an only_if (which says whom a fact concerns)
                cost = sum(1 if i in musts else 100 for i in found)
                if not fewest or cost < best:
                    fewest, best = [found], cost
                elif cost == best:
                    fewest.append(found)
            else:
                culprits = sorted({i for found in fewest for i in found})
                lines = [fdoc.position(("constraints", i))[0] for i in culprits]
                named = sorted({_written_fact(written, i) for i in culprits} - {path})
                shown = value.isoformat() if isinstance(value, dt.date) else \
                    str(value).lower() if isinstance(value, bool) else str(value)
                if isinstance(value, dt.date):
                    shown = f"on or after {shown}" if value != dt.date.min else "any date"
                where = (f"the constraints on lines {', '.join(map(str, lines[:-1]))} and "
                         f"{lines[-1]}" if len(lines) > 1 else f"the constraint on line "
                         f"{lines[0]}")
                verb = "contradict each other" if len(lines) > 1 else "cannot be met"
                problems.append(fdoc.problem(
                    ("constraints", culprits[-1]),
                    f"{where} {verb}: in a case where {path} is {shown}, "
                    + (f"no value of {', '.join(named)} meets them"
                       if named else "they cannot all hold")
                    + " (every case file giving it would be refused)"))
    return problems


def _written_fact(written: list[tuple[str, Any, int]], index: int) -> str:
    """The fact a constraint (by its index in facts.yaml) constrains."""
    for kind, c, i in written:
        if i == index:
            return c[0] if kind == "only_if" else c.fact
    return ""


def load_vocabulary(directory: Path | str) -> Vocabulary:
    """Load and check a vocabulary folder; every problem located, in one RuleSetError."""
    directory = Path(directory).resolve()
    stamp = tuple((name, p.stat().st_size, p.stat().st_mtime_ns)
                  for name in (FACTS_FILE, QUESTIONS_FILE)
                  if (p := directory / name).is_file())
    return _load(directory, stamp)


def vocabulary_stamp(directory: Path) -> tuple:
    """What a cache of something built on a vocabulary must key on."""
    directory = Path(directory).resolve()
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns)
                 for name in (FACTS_FILE, QUESTIONS_FILE) if (p := directory / name).is_file())


@lru_cache(maxsize=8)
def _load(directory: Path, stamp: tuple) -> Vocabulary:
    if not directory.is_dir():
        raise RuleSetError(Problem(str(directory), None, None, "",
                                   "the vocabulary folder does not exist"))
    fdoc = read_yaml_file(directory / FACTS_FILE, error=RuleSetError)
    qdoc = read_yaml_file(directory / QUESTIONS_FILE, error=RuleSetError)
    facts_file, problems = validate(FactsFile, fdoc)
    questions_file, found = validate(QuestionsFile, qdoc)
    problems += found
    if facts_file is None or questions_file is None:
        raise RuleSetError(problems)

    groups = {g.key: g for g in facts_file.groups}
    facts: dict[str, FactSpec] = {}
    keys: dict[str, str] = {}
    locations: dict[str, tuple[str, int | None, int | None]] = {}
    for i, f in enumerate(facts_file.facts):
        here = ("facts", i)
        group, key = f.path.split(".", 1)
        if f.path in facts:
            problems.append(fdoc.problem(here + ("path",), f"fact '{f.path}' is declared twice"))
            continue
        if group not in groups:
            problems.append(fdoc.problem(here + ("path",), f"'{group}' is not a group "
                                         f"(allowed: {', '.join(groups)})"))
        if key in keys:
            problems.append(fdoc.problem(here + ("path",), f"the key '{key}' is already used "
                                         f"by {keys[key]}; keys are unique across groups"))
        keys[key] = f.path
        if f.kind in ("choice", "codes") and not f.values:
            problems.append(fdoc.problem(here, f"a {f.kind} fact lists its values"))
        if f.kind not in ("choice", "codes") and f.values:
            problems.append(fdoc.problem(here + ("values",),
                                         f"a {f.kind} fact has no list of values"))
        if UNKNOWN in f.values:
            problems.append(fdoc.problem(here + ("values", UNKNOWN),
                                         "'unknown' is not a value: every fact may be unknown"))
        allowed_phrases = {"choice": set(f.values), "codes": set(f.values) | {"empty", "not_empty"},
                           "yes_no": {"true", "false"},
                           "partial_date": {"before", "on_or_after"}}.get(f.kind, set())
        for key in f.phrases:
            if key not in allowed_phrases:
                problems.append(fdoc.problem(
                    here + ("phrases", key),
                    f"'{key}' is not a value of this {f.kind} fact (allowed: "
                    f"{', '.join(sorted(allowed_phrases)) or 'none'})"))
        if f.kind == "text" and not f.recorded_only:
            problems.append(fdoc.problem(here + ("kind",), "no rule can read a text fact: "
                                         "mark it recorded_only: true"))
        values: tuple[Any, ...] = tuple(f.values) if f.kind in ("choice", "codes") else \
            (True, False) if f.kind == "yes_no" else ()
        facts[f.path] = FactSpec(
            f.path, KINDS[f.kind], values, " ".join(f.description.split()),  # type: ignore
            dict(f.values), tuple(f.cites), f.recorded_only,
            " ".join((f.label or f.path.split(".", 1)[1].replace("_", " ")).split()),
            {k: " ".join(v.split()) for k, v in f.phrases.items()})
        locations[f.path] = (fdoc.file, *fdoc.position(here))

    given_only_if: dict[str, tuple[str, frozenset[str]]] = {}
    not_after: set[str] = set()
    implications: list[Implication] = []
    required: dict[str, dict[str, set[str]]] = {}  # fact -> other fact -> values allowed
    written: list[tuple[str, Any, int]] = []  # each only_if and must_be, with its index
    for i, c in enumerate(facts_file.constraints):
        here = ("constraints", i)
        spec = facts.get(c.fact)
        if spec is None:
            problems.append(fdoc.problem(here + ("fact",), f"'{c.fact}' is not a declared fact"))
            continue
        kinds = [c.only_if is not None, c.not_after is not None, c.when is not None]
        if sum(kinds) != 1 or (c.when is None) != (c.must_be is None):
            problems.append(fdoc.problem(here, "a constraint is exactly one of: only_if, "
                                               "not_after, must_be with when"))
            continue
        if c.when is not None:
            imp = _implication(c, spec, facts, fdoc, here, problems)
            if imp is not None:
                implications.append(imp)
                written.append(("implication", imp, i))
            continue
        if c.not_after is not None:
            if spec.kind != "date":
                problems.append(fdoc.problem(here + ("fact",), "not_after applies to a "
                                             "partial_date fact"))
            not_after.add(c.fact)
            continue
        assert c.only_if is not None
        other = facts.get(c.only_if.fact)
        if other is None or other.kind != "enum":
            problems.append(fdoc.problem(here + ("only_if", "fact"),
                                         f"'{c.only_if.fact}' is not a declared choice fact"))
            continue
        if other.path == c.fact:
            problems.append(fdoc.problem(here + ("only_if", "fact"),
                                         "a fact cannot depend on itself"))
            continue
        bad = [v for v in c.only_if.in_ if v not in other.values]
        if bad:
            problems.append(fdoc.problem(here + ("only_if", "in"),
                                         f"'{bad[0]}' is not a value of {other.path} "
                                         f"(allowed: {', '.join(other.values)})"))
            continue
        if c.fact in given_only_if and given_only_if[c.fact][0] != other.path:
            problems.append(fdoc.problem(here + ("only_if", "fact"),
                                         f"{c.fact} already depends on "
                                         f"{given_only_if[c.fact][0]}; a fact may depend on "
                                         "one other fact only"))
            continue
        # several only_if on one fact must all hold: the values left must not be none
        wanted = required.setdefault(c.fact, {}).setdefault(other.path, set(other.values))
        wanted &= set(c.only_if.in_)
        if not wanted:
            problems.append(fdoc.problem(here + ("only_if", "in"),
                                         f"unsatisfiable: {c.fact} could never be given (no "
                                         f"value of {other.path} meets all its constraints)"))
            continue
        given_only_if[c.fact] = (other.path, frozenset(v for v in other.values if v in wanted))
        written.append(("only_if", (c.fact, other.path, frozenset(c.only_if.in_)), i))
    # a fact may be given only if another is; that one's own condition must be compatible
    for fact, (other, _) in given_only_if.items():
        if other in given_only_if:
            problems.append(fdoc.problem(("constraints",), f"{fact} depends on {other}, which "
                                         "itself depends on another fact; chains of "
                                         "only_if are not supported"))

    if not problems:
        problems += _contradictions(facts, written, fdoc)

    scope = facts_file.scope
    scope_spec = facts.get(scope.fact)
    if scope_spec is None or scope_spec.kind != "country":
        problems.append(fdoc.problem(("scope", "fact"),
                                     f"'{scope.fact}' is not a declared country fact"))

    questions: list[QuestionVocab] = []
    seen: set[str] = set()
    for i, q in enumerate(questions_file.questions):
        here = ("questions", i)
        if q.id in seen:
            problems.append(qdoc.problem(here + ("id",), f"question '{q.id}' is declared twice"))
        seen.add(q.id)
        specs = []
        for li, entry in enumerate(q.lists):
            items: str | tuple[str, ...]
            if isinstance(entry.items, dict):
                if set(entry.items) != {"values"} or not entry.items["values"]:
                    problems.append(qdoc.problem(here + ("lists", li, "items"),
                                                 "items is code, an item type, or "
                                                 "{values: [...]}"))
                items = tuple(entry.items.get("values", ()))
            else:
                items = entry.items
                if items != "code" and items not in questions_file.item_types:
                    problems.append(qdoc.problem(
                        here + ("lists", li, "items"),
                        f"'{items}' is not an item type (allowed: code, "
                        f"{', '.join(questions_file.item_types) or 'none declared'})"))
            if entry.name in ("notes", "reasons", "possible", "possible_outcomes", "outcome"):
                problems.append(qdoc.problem(here + ("lists", li, "name"),
                                             f"'{entry.name}' is a key every question has"))
            specs.append(ListSpec(entry.name, entry.label, entry.noun, entry.description,
                                  items))
        names = [s.name for s in specs]
        shown = tuple(q.shown_in_order) or tuple(names)
        if sorted(shown) != sorted(names):
            problems.append(qdoc.problem(here + ("shown_in_order",),
                                         "must name each list of the question once"))
            shown = tuple(names)
        if not [o for o in q.outcomes if o != "undetermined"]:
            problems.append(qdoc.problem(here + ("outcomes",), "no outcome a rule can reach"))
        for outcome in q.phrases:
            if outcome not in q.outcomes:
                problems.append(qdoc.problem(here + ("phrases", outcome),
                                             f"'{outcome}' is not an outcome of {q.id}"))
        questions.append(QuestionVocab(q.id, q.title, q.description, tuple(q.outcomes),
                                       tuple(specs), shown,
                                       {k: " ".join(v.split()) for k, v in q.phrases.items()}))
        locations[f"question:{q.id}"] = (qdoc.file, *qdoc.position(here))
    by_id = {q.id: q for q in questions}
    for name, t in questions_file.item_types.items():
        if t.key not in t.fields:
            problems.append(qdoc.problem(("item_types", name, "key"),
                                         f"'{t.key}' is not a field of {name}"))
        for fname, f in t.fields.items():
            if f.kind == "choice" and not f.values:
                problems.append(qdoc.problem(("item_types", name, "fields", fname),
                                             "a choice field lists its values"))
    if questions_file.profile_question not in by_id:
        problems.append(qdoc.problem(("profile_question",),
                                     f"'{questions_file.profile_question}' is not a question"))
    elif questions_file.profile_outcome not in by_id[questions_file.profile_question].outcomes:
        problems.append(qdoc.problem(("profile_outcome",),
                                     f"'{questions_file.profile_outcome}' is not an outcome of "
                                     f"{questions_file.profile_question}"))
    every_outcome = {o for q in questions for o in q.outcomes}
    for i, code in enumerate(questions_file.unquoted_outcomes):
        if code not in every_outcome:
            problems.append(qdoc.problem(("unquoted_outcomes", i),
                                         f"'{code}' is not an outcome of any question"))
    for i, entry in enumerate(questions_file.quiz):
        q = by_id.get(entry.question)
        if q is None:
            problems.append(qdoc.problem(("quiz", i, "question"),
                                         f"'{entry.question}' is not a question"))
        elif entry.list is not None and entry.list not in [s.name for s in q.lists]:
            problems.append(qdoc.problem(("quiz", i, "list"),
                                         f"'{entry.list}' is not a list of {entry.question}"))
    if problems:
        raise RuleSetError(problems)

    h = hashlib.sha256()  # over the bytes the reader read, never read a second time
    for name, doc in ((FACTS_FILE, fdoc), (QUESTIONS_FILE, qdoc)):
        data = doc.raw
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return Vocabulary(
        directory=directory, country=facts_file.country, country_name=facts_file.country_name,
        scope=scope, groups=tuple(facts_file.groups), facts=facts,
        given_only_if=given_only_if, not_after_assessment=frozenset(not_after),
        implications=tuple(implications),
        questions=tuple(questions), item_types=dict(questions_file.item_types),
        outcome_labels=dict(questions_file.outcome_labels), frame=questions_file.frame,
        quiz=tuple(questions_file.quiz),
        profile_question=questions_file.profile_question,
        profile_outcome=questions_file.profile_outcome, sha256=h.hexdigest(),
        files=(str(directory / FACTS_FILE), str(directory / QUESTIONS_FILE)),
        digests={fdoc.file: fdoc.sha256, qdoc.file: qdoc.sha256},
        locations=locations, unquoted_outcomes=frozenset(questions_file.unquoted_outcomes))


# ------------------------------------------------------------- showing items


def item_label(item: Any, vocab: Vocabulary | None, *, words: bool = False) -> str:
    """A list item inside a sentence: a code as is, a record by its item type's label."""
    t = _item_type(item, vocab)
    if t is None:
        return str(item)
    return _format(t.label, _fields(item), t, words)


def item_text(item: Any, vocab: Vocabulary | None) -> str:
    t = _item_type(item, vocab)
    return _format(t.text, _fields(item), t, True) if t else str(item)


def item_key(item: Any, vocab: Vocabulary | None) -> str:
    t = _item_type(item, vocab)
    return str(_fields(item)[t.key]) if t else str(item)


def _fields(item: Any) -> dict[str, Any]:
    return item.model_dump() if isinstance(item, BaseModel) else dict(item)


def _item_type(item: Any, vocab: Vocabulary | None) -> ItemType | None:
    if not isinstance(item, (BaseModel, dict)) or vocab is None:
        return None
    fields = set(_fields(item))
    return next((t for t in vocab.item_types.values() if set(t.fields) == fields), None)


_FIELD = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _format(template: str, values: dict[str, Any], t: ItemType, words: bool) -> str:
    def one(m: re.Match) -> str:
        name = m.group(1)
        value = values.get(name)
        spec = t.fields.get(name)
        if spec is not None and spec.kind == "yes_no":
            return spec.shown.get("true" if value else "false", "")
        return record_words(value) if words else str(value)
    return _FIELD.sub(one, template)
