"""What the fast paths need, with nothing heavy: no pydantic, no rich, no typer.

The fast paths (a cold `evaluate CASE`, a batch) load compiled rule sets from a cache
and must not pay for building models they do not use. This module holds what they
share with the rest of the tool: reading partial dates, the constraints between facts,
the plain reading of case files, the candidate values of a date fact, and the words of
open questions. case.py, vocabulary.py and engine.py import them from here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

UNKNOWN = "unknown"
QUESTION_PREFIX = "question:"
YEARS = (1900, 2100)  # dates outside these years are refused as implausible
CASE_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
COUNTRY_PATTERN = r"^([A-Z]{2}|unknown)$"
PARTIAL_DATE_PATTERN = r"^(unknown|[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?)$"


def _year_to_text(value: Any) -> Any:
    """`desertion_date: 2013` is read as an integer; it means the year 2013."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:04d}" if value >= 0 else str(value)
    return value


_PARTIAL_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")


def parse_partial_date(text: str) -> tuple[int, int | None, int | None]:
    """Parse YYYY, YYYY-MM or YYYY-MM-DD; raise ValueError with a plain-English reason."""
    m = _PARTIAL_DATE.match(text)
    if not m:
        raise ValueError("expected a date as YYYY-MM-DD, YYYY-MM or YYYY")
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValueError(f"year {m.group(1)} is outside {YEARS[0]}-{YEARS[1]}")
    if month is not None and not 1 <= int(month) <= 12:
        raise ValueError(f"month {month} does not exist")
    if day is not None:
        try:
            dt.date(year, int(month), int(day))
        except ValueError:
            raise ValueError(f"day {day} does not exist in {year}-{month}") from None
    return year, int(month) if month else None, int(day) if day else None


def date_bounds(value: str) -> tuple[dt.date, dt.date]:
    """The earliest and latest day a (partial) date can mean: 2024 -> 2024-01-01..2024-12-31."""
    year, month, day = parse_partial_date(value)
    if day is not None:
        d = dt.date(year, month, day)
        return d, d
    if month is not None:
        last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
        return dt.date(year, month, 1), last
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


@dataclass(frozen=True)
class Implication:
    """`fact` must be `value` (or unknown) whenever `when_fact` is `when_is`, or lies on
    or after `when_date` (for a date fact: certainly, over every day it can mean)."""

    fact: str
    value: Any
    when_fact: str
    when_is: Any = None
    when_date: dt.date | None = None

    def condition_holds(self, value: Any) -> bool:
        if value == UNKNOWN or value is None:
            return False
        if self.when_date is None:
            return bool(value == self.when_is)
        if isinstance(value, dt.date):  # an interval's first day, as the engine sees it
            return value >= self.when_date
        try:
            return date_bounds(str(value))[0] >= self.when_date
        except ValueError:
            return False

    def broken_by(self, fact_value: Any, when_value: Any) -> bool:
        return fact_value not in (UNKNOWN, None) and fact_value != self.value \
            and self.condition_holds(when_value)


def record_words(value: Any) -> str:
    return str(value).replace("_", " ")



def date_candidates(value: Any, thresholds: tuple[dt.date, ...],
                    latest: dt.date | None = None) -> tuple[dt.date, ...]:
    """The values a date fact can take, as far as the rules can tell.

    Rules compare a date only with fixed thresholds t1 < t2 < ..., so every day of one
    interval (-inf, t1), [t1, t2), ..., [tn, +inf) behaves alike. Each interval is
    represented by its first day (date.min for the first). A known day is one interval;
    a partial date (2024) is every interval it overlaps; unknown is every interval; and
    `latest` (the assessment date, for facts in the past) cuts off later intervals."""
    starts = (dt.date.min, *thresholds)
    ends = (*thresholds, dt.date.max)
    if value == UNKNOWN:
        lo, hi = dt.date.min, dt.date.max
    else:
        lo, hi = date_bounds(value)
    if latest is not None:
        hi = min(hi, latest)
    found = tuple(start for start, end in zip(starts, ends, strict=True)
                  if lo < end and hi >= start)
    return found or starts[:1]


@dataclass(frozen=True)
class Effect:
    """How one unknown fact matters, for the open-questions list.

    kind is "outcome" (label: the outcomes still open), "item" (collection + label of an
    item it could add) or "warning" (label: the warning code)."""

    question: str
    kind: str
    label: str
    rule: str
    collection: str = ""



@dataclass(frozen=True)
class WhyWords:
    """The vocabulary's words an open question's `why` is made of."""

    titles: dict[str, str]  # question id -> title
    outcome_labels: dict[str, str]
    nouns: dict[str, str]  # list name -> its noun


def why_words(vocab: Any) -> WhyWords:
    return WhyWords({q.id: q.title for q in vocab.questions}, dict(vocab.outcome_labels),
                    vocab.list_nouns())


def why(effects: list[Effect], order: list[str], vocab: Any) -> str:
    """One sentence per fact: per question, what establishing the fact could change, in
    the vocabulary's words (question titles, outcome labels, list nouns).

    An outcome still open says it all for that question; otherwise the items it could add
    are listed per list, then the warnings it could raise."""
    parts: list[str] = []
    for qid in order:
        for warning, text in why_parts([e for e in effects if e.question == qid], qid,
                                       why_words(vocab)):
            if not (warning and text in parts):
                parts.append(text)
    return why_sentence(parts)


def why_sentence(parts: list[str]) -> str:
    return "Establishing it " + "; ".join(parts) + "."


def why_parts(mine: list[Effect], qid: str, words: WhyWords) -> list[tuple[bool, str]]:
    """What establishing a fact could change in one question: (is a warning, words)."""
    titles = words.titles
    outcome = next((e for e in mine if e.kind == "outcome"), None)
    if outcome is not None:
        shown = " or ".join(f"“{words.outcome_labels.get(o, o)}”"
                            for o in outcome.label.split(" or "))
        return [(False, f"could decide {titles.get(qid, qid)} ({shown})")]
    nouns = words.nouns
    parts: list[tuple[bool, str]] = []
    by_coll: dict[str, list[str]] = {}
    for e in mine:
        if e.kind == "item":
            by_coll.setdefault(e.collection, [])
            label = record_words(e.label)
            if label not in by_coll[e.collection]:
                by_coll[e.collection].append(label)
    for coll, labels in by_coll.items():
        parts.append((False, f"could add {' or '.join(labels)} to the "
                             f"{nouns.get(coll, record_words(coll))} ({titles.get(qid, qid)})"))
    for e in mine:
        text = f"could raise the warning “{record_words(e.label)}”"
        if e.kind == "warning" and (True, text) not in parts:
            parts.append((True, text))
    return parts




MISSING = object()


class Plain:
    """A valid case as the engine reads it: its id, its date and its facts' values."""

    __slots__ = ("case_id", "assessment_date", "values")

    def __init__(self, case_id: str | None, assessment_date: dt.date | None,
                 values: dict[str, Any]):
        self.case_id, self.assessment_date, self.values = case_id, assessment_date, values


@dataclass(frozen=True)
class ReaderSpec:
    """What the plain reading needs of a vocabulary, as plain data."""

    facts: tuple[tuple[str, str, str, str, tuple[Any, ...]], ...]  # path, group, key, kind, values
    given_only_if: tuple[tuple[str, tuple[str, frozenset[str]]], ...]
    implications: tuple[Implication, ...]
    not_after_assessment: tuple[str, ...]


def reader_spec(vocab: Any) -> ReaderSpec:
    return ReaderSpec(
        tuple((path, s.group, s.key, s.kind, tuple(s.values)) for path, s in vocab.facts.items()),
        tuple(vocab.given_only_if.items()), tuple(vocab.implications),
        tuple(sorted(vocab.not_after_assessment)))


def plain_reader(spec: ReaderSpec):
    """A function doc -> Plain, or None when the case model must decide (it would refuse
    the file, or the file uses a form this reading does not take).

    It is derived from the vocabulary and from the same patterns and checks as the case
    model, and reads a valid file exactly as the model does (tests/test_fast_reading.py
    shows both accept and refuse the same files, with the same values). It exists because
    the model, built for located error messages, costs more than the assessment."""
    case_id_ok = re.compile(CASE_ID_PATTERN).match
    date_ok = re.compile(PARTIAL_DATE_PATTERN).match
    country_ok = re.compile(COUNTRY_PATTERN).match
    full_date = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
    envelope = {"format", "case_id", "assessment_date"}
    fields: dict[str, dict[str, tuple[str, str, Any]]] = {}
    for path, group, key, kind, values in spec.facts:
        allowed = frozenset(values) if kind in ("enum", "set") else None
        fields.setdefault(group, {})[key] = (path, kind, allowed)
    defaults = {path: UNKNOWN for path, *_ in spec.facts}
    given_only_if = list(spec.given_only_if)
    implications = list(spec.implications)
    not_after = list(spec.not_after_assessment)
    dates: dict[str, dt.date | None] = {}  # partial date -> its first day (None: invalid)

    def first_day(text: str) -> dt.date | None:
        found = dates.get(text, MISSING)
        if found is MISSING:
            try:
                year, month, day = parse_partial_date(text) if date_ok(text) else (0, 0, 0)
                found = dt.date(year, month or 1, day or 1) if year else None
            except ValueError:
                found = None
            if len(dates) > 10_000:
                dates.clear()
            dates[text] = found
        return found  # type: ignore[return-value]

    def read(doc: Any) -> Plain | None:
        data = doc.data
        if doc.problems or data.__class__ is not dict:
            return None
        values = dict(defaults)
        case_id: Any = None
        day = None
        for key, value in data.items():
            if key in envelope:
                if key == "format":
                    if value.__class__ is not int or value != 1:
                        return None
                elif key == "case_id":
                    if value.__class__ is int:
                        value = str(value)
                    if value is not None and (value.__class__ is not str
                                              or not case_id_ok(value)):
                        return None
                    case_id = value
                elif value is not None:
                    if value.__class__ is not str or not full_date(value):
                        return None
                    try:
                        day = dt.date.fromisoformat(value)
                    except ValueError:
                        return None
                    if not YEARS[0] <= day.year <= YEARS[1]:
                        return None
                continue
            known = fields.get(key)
            if known is None or value.__class__ is not dict:
                return None
            for fkey, fvalue in value.items():
                found = known.get(fkey)
                if found is None:
                    return None
                path, kind, allowed = found
                cls = fvalue.__class__
                if cls is str:
                    if fvalue == UNKNOWN:
                        continue
                    if kind == "enum":
                        if fvalue not in allowed:
                            return None
                    elif kind == "date":
                        if first_day(fvalue) is None:
                            return None
                    elif kind == "country":
                        if not country_ok(fvalue):
                            return None
                    elif kind != "text":
                        return None
                elif cls is bool:
                    if kind != "bool":
                        return None
                elif cls is list:
                    if kind != "set" or len(set(fvalue)) != len(fvalue) or any(
                            v.__class__ is not str or v not in allowed for v in fvalue):
                        return None
                    fvalue = frozenset(fvalue)
                elif cls is int and kind == "date":
                    fvalue = _year_to_text(fvalue)
                    if first_day(fvalue) is None:
                        return None
                else:
                    return None
                values[path] = fvalue
        # the combinations the constraints forbid (as _combination_problems finds them)
        for fact, (other, allowed) in given_only_if:
            status = values[other]
            if values[fact] != UNKNOWN and status != UNKNOWN and status not in allowed:
                return None
        for imp in implications:
            if imp.broken_by(values[imp.fact], values[imp.when_fact]):
                return None
        if day is not None:
            for fact in not_after:
                when = values[fact]
                if when != UNKNOWN and first_day(when) > day:  # type: ignore[operator]
                    return None
        return Plain(case_id, day, values)

    return read


def shipped_rules_dir():
    """The shipped rules (inside the installed package, or at the top of a checkout), or
    None when neither is there."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    for candidate in (here / "_data" / "rules", here.parent / "rules"):
        if (candidate / "editions.yaml").is_file():
            return candidate
    return None
