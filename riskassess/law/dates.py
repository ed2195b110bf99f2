"""Partial dates, as case files write them (2013, 2013-04, 2013-04-16), and the values
a date fact can take as far as the rules can tell. Light: the cold start reads it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

YEARS = (1900, 2100)  # dates outside these years are refused as implausible
PARTIAL_DATE_PATTERN = r"^(unknown|[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?)$"
UNKNOWN = "unknown"  # every fact may be unknown: a value of its own, never a guess


def year_to_text(value: Any) -> Any:
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


def full_date(text: str) -> dt.date:
    """An assessment date as a case file writes it (YYYY-MM-DD, in the years YEARS), the
    rule for the case file's assessment_date and the command line's date options alike;
    ValueError with the reason in words otherwise."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ValueError("expected a date as YYYY-MM-DD")
    year, month, day = parse_partial_date(text)
    return dt.date(year, month or 1, day or 1)


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
