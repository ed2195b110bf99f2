"""The plain reading of case files, with nothing heavy: no pydantic, no rich, no typer.

The fast paths (a cold `evaluate CASE`, a batch) load compiled rule sets from a cache
and must not pay for building models they do not use. This module holds what they
share with the case model: the envelope's patterns, the constraints between facts
(`Implication`) and a reading of a valid case file that gives exactly the values the
case model gives (`plain_reader`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from riskassess.law.dates import (
    PARTIAL_DATE_PATTERN,
    UNKNOWN,
    YEARS,
    date_bounds,
    parse_partial_date,
    year_to_text,
)
from riskassess.record import record

QUESTION_PREFIX = "question:"
CASE_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
COUNTRY_PATTERN = r"^([A-Z]{2}|unknown)$"


@record
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


MISSING = object()


class Plain:
    """A valid case as the engine reads it: its id, its date and its facts' values."""

    __slots__ = ("case_id", "assessment_date", "values")

    def __init__(self, case_id: str | None, assessment_date: dt.date | None,
                 values: dict[str, Any]):
        self.case_id, self.assessment_date, self.values = case_id, assessment_date, values


@record
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
                    if kind != "set":
                        return None
                    try:
                        codes = frozenset(fvalue)
                    except TypeError:  # an item that is a mapping or a list
                        return None
                    # no item twice, and each a code (a string: `allowed` holds only those)
                    if len(codes) != len(fvalue) or not codes <= allowed:
                        return None
                    fvalue = codes
                elif cls is int and kind == "date":
                    fvalue = year_to_text(fvalue)
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


def frame_lines(intro: str, not_covered: tuple[str, ...] | list[str],
                instruments: tuple[tuple[str, dt.date | None, dt.date | None, str | None], ...],
                day: dt.date) -> tuple[str, list[str], str | None]:
    """What an assessment does not decide, on an assessment date (the vocabulary's frame:
    law/vocabulary.py Frame): the intro, each matter not covered with `{instrument}`
    replaced by how the instrument is cited on `day`, and that instrument's note."""
    cited_as, note = next((c, n) for c, start, until, n in instruments
                          if (start is None or start <= day) and (until is None or day <= until))
    return (intro, [" ".join(line.split()).replace("{instrument}", cited_as)
                    for line in not_covered], " ".join(note.split()) if note else None)


def set_signature(value: frozenset, tests: tuple[frozenset, ...]) -> tuple[bool, ...]:
    """What the rules can see of a set fact's value: whether it meets each code set a
    `contains_any` tests, and whether it is empty."""
    return (*(bool(value & codes) for codes in tests), not value)
