"""Choosing the edition for an assessment date, and what the report must say about it.

It needs nothing heavy (no pydantic): the cold `evaluate CASE` runs it on the catalog as
the compiled cache keeps it (`Entry`), and every other command on the catalog as
law/ruleset.py reads it (whose entries have the same attributes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from riskassess.record import record, replace
from riskassess.words import window


@record
class Entry:
    """A catalog entry, as plain data (the attributes of ruleset.CatalogEdition used here)."""

    id: str
    title: str
    profile: str
    encoded: bool
    in_force_from: dt.date
    under_review_from: dt.date | None
    superseded_on: dt.date | None
    successor: str | None
    review_note: str | None

    @classmethod
    def of(cls, e: Any) -> Entry:
        return cls(e.id, e.title, e.profile, e.encoded, e.in_force_from, e.under_review_from,
                   e.superseded_on, e.successor, e.review_note)


@record
class Catalog:
    """The catalog's editions, as plain data."""

    editions: tuple[Entry, ...]


@record
class EditionChoice:
    """Which edition applies to an assessment date, and what the report must say about it."""

    entry: Entry
    selected_by: Literal["assessment_date", "forced"]
    warnings: tuple[tuple[str, str], ...]  # (code, message)
    in_force: Entry | None = None  # the edition in force on the assessment date
    newer: tuple[Entry, ...] = ()  # editions that took effect after the one applied


def all_in_force_on(catalog: Any, day: dt.date) -> list[Entry]:
    """Every edition in force on `day`, one per profile at most, in catalog order."""
    return [e for e in catalog.editions
            if e.in_force_from <= day and (e.superseded_on is None or day < e.superseded_on)]


Picker = Callable[[list[Entry]], Entry]


def check_encoded(catalog: Any, wanted: str, option: str = "--ruleset") -> None:
    """Raise UsageError, naming `option`, when `wanted` is not an encoded edition."""
    from riskassess.errors import UsageError

    encoded = [e.id for e in catalog.editions if e.encoded]
    if wanted not in encoded:
        raise UsageError(f"{option} '{wanted}' is not an encoded edition "
                         f"(encoded: {', '.join(encoded)})")


def choose_edition(catalog: Any, day: dt.date, forced: str | None = None,
                   pick: Picker | None = None, *, can_force: bool = True) -> EditionChoice:
    """Pick the edition for `day` (or the forced one) and the date warnings it needs.

    When rule sets for several profiles are in force on `day`, `pick` chooses among the
    encoded ones (the caller evaluates applicability, see core.profile_picker); without
    it, or when only one is in force, the first listed is taken.

    Raises EditionNotEncodedError when the edition in force is known but not encoded,
    and UsageError for a forced id that is not an encoded edition. `can_force` says whether
    the command has a --ruleset option to advise (the interview has not: its questions
    come from the edition in force)."""
    from riskassess.errors import EditionNotEncodedError

    by_id = {e.id: e for e in catalog.editions}
    candidates = all_in_force_on(catalog, day)
    encoded_now = [e for e in candidates if e.encoded]
    if len(encoded_now) > 1 and pick is not None:
        current: Entry | None = pick(encoded_now)
    else:
        current = (encoded_now or candidates or [None])[0]
    encoded = [e for e in catalog.editions if e.encoded]
    if forced is not None:
        check_encoded(catalog, forced)
        entry = by_id[forced]
        selected_by: Literal["assessment_date", "forced"] = "forced"
    else:
        if current is None:
            first = min(catalog.editions, key=lambda e: e.in_force_from)
            raise EditionNotEncodedError(
                f"no catalogued edition of the guidance was in force on {day.isoformat()} "
                f"(the earliest known, '{first.title}', took effect on "
                f"{first.in_force_from.isoformat()})"
                + ("; use --ruleset to choose one" if can_force else
                   "; give a date on which an encoded edition was in force"))
        if not current.encoded:
            mine = [e for e in encoded if e.profile == current.profile] or encoded
            before = [e for e in mine if e.in_force_from < current.in_force_from]
            after = [e for e in mine if e.in_force_from > current.in_force_from]
            nearest = [e for e in (before[-1:] + after[:1])]
            named = " and ".join(f"'{e.id}' ({window(e)})" for e in nearest)
            raise EditionNotEncodedError(
                f"the guidance in force on {day.isoformat()} is '{current.title}' "
                f"({current.id}, {window(current)}), which riskassess does not encode. "
                f"The nearest encoded edition{'s are' if len(nearest) > 1 else ' is'} {named}. "
                + (f"To assess under one anyway, pass --ruleset {nearest[0].id}"
                   + (f" or --ruleset {nearest[1].id}" if len(nearest) > 1 else "")
                   + "; the report will then warn that it was not the guidance in force."
                   if can_force else
                   "The interview asks the questions of the edition in force, so give a --date "
                   "on which an encoded edition was in force."))
        entry, selected_by = current, "assessment_date"
    if current is not None and current.profile != entry.profile:
        # forced into another profile: what was in force for the forced one's profile
        current = next((e for e in candidates if e.profile == entry.profile), None)
    newer = tuple(e for e in catalog.editions
                  if e.in_force_from > entry.in_force_from and e.profile == entry.profile)
    return EditionChoice(entry, selected_by, tuple(date_warnings(entry, day, current)),
                         in_force=current, newer=newer)


# Warning codes the machinery itself emits from the editions' dates (not from rules).
DATE_WARNING_CODES = ("assessment_date_defaulted", "guidance_superseded", "guidance_under_review",
                      "guidance_not_yet_in_force")


# The dates' warnings in a header, most severe first: a superseded or not yet applicable
# edition, then one under review; the defaulted assessment date comes after the
# rule set's own (warning_order) and the country scope's.
DATE_SEVERITY = ("guidance_superseded", "guidance_not_yet_in_force", "guidance_under_review")


def date_warnings(e: Entry, day: dt.date,
                   current: Entry | None) -> list[tuple[str, str]]:
    out = []
    if e.superseded_on and day >= e.superseded_on:
        now = f" The guidance in force on that date is '{current.title}'." if current else ""
        out.append(("guidance_superseded",
                    f"This assessment applies '{e.title}', which was superseded on "
                    f"{e.superseded_on.isoformat()}, before the assessment date "
                    f"{day.isoformat()}.{now} It was applied only because it was asked for; "
                    "do not rely on it for a decision on that date."))
    elif e.under_review_from and day >= e.under_review_from:
        note = f" {' '.join(e.review_note.split())}" if e.review_note else ""
        out.append(("guidance_under_review",
                    f"On the assessment date {day.isoformat()}, '{e.title}' was under review "
                    f"(from {e.under_review_from.isoformat()}).{note} Check every conclusion "
                    "against the most recent country information."))
    if day < e.in_force_from:
        out.append(("guidance_not_yet_in_force",
                    f"This assessment applies '{e.title}', which took effect on "
                    f"{e.in_force_from.isoformat()}, after the assessment date {day.isoformat()}."))
    return out


DEFAULTED_DATE = "assessment_date_defaulted"


def choose_for_case(catalog: Any, assessment_date: dt.date | None, today: dt.date,
            ruleset_id: str | None, picker_for):
    """The assessment date and the edition for it. A case without `assessment_date` is
    assessed as of `today`, and the report says so: the date picks the edition, so a
    reader must know it was filled in rather than written in the file. `picker_for(day)`
    chooses among rule sets of several profiles in force on that day."""
    day = assessment_date or today
    choice = choose_edition(catalog, day, ruleset_id, picker_for(day))
    if assessment_date is None:
        note = (DEFAULTED_DATE, f"Assessment date not given in the case file: today, "
                                f"{today.isoformat()}, was used. It selects the edition applied; "
                                "add assessment_date to the case file to fix it.")
        choice = replace(choice, warnings=(*choice.warnings, note))
    return day, choice
