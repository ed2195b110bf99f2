"""The conclusions at a glance: the one definition of the block that opens every report.

Under the header (case, date, edition, status, warnings) every format opens with one row
per question: the question's short title, its outcome in words, the guidance's operative
words for it (the quotation a deciding rule gives), what the outcome rests on, and how
many open questions (facts to establish) could change the answer. The terminal report
(layout.py), the documents (document.py: Markdown, HTML, Word, PDF) and the web form's
result all take their rows from `rows` below and only lay them out.

`rows` reads the report as JSON data (`Report.model_dump(mode="json")`, or the compiled
engine's bytes parsed) and a layout.TextInfo, so the cold path needs no report model.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from riskassess import words
from riskassess.record import record


@record
class Row:
    """One question at a glance."""

    qid: str
    title: str  # the question's short title (Risk)
    outcome: str  # the outcome in words
    quote: str | None  # the guidance's operative words, if a deciding rule quotes them
    rests_on: str  # what the outcome rests on, in words
    open_facts: tuple[str, ...]  # the open questions that could change this answer, by label
    open_between: tuple[str, ...]  # the outcomes still possible, in words, if undecided
    review_since: dt.date | None  # the edition applied was under review on the date
    unquoted: bool = False  # an outcome the rules quote no words for (the steps' conditionals)

    @property
    def outcome_words(self) -> str:
        """The outcome, saying whose finding it is when the edition was under review."""
        return self.outcome + (words.glance_review(self.review_since)
                               if self.review_since else "")

    @property
    def quote_words(self) -> str:
        if self.unquoted:
            return words.GLANCE_UNQUOTED
        return f"“{self.quote}”" if self.quote else words.GLANCE_NO_QUOTE

    @property
    def open_words(self) -> str:
        return words.glance_open(list(self.open_facts), list(self.open_between))


def deciding(q: dict[str, Any], outcome_rules: frozenset[str]) -> list[dict[str, Any]]:
    """The reasons that decide a question's outcome: the firm reasons of its outcome rules
    (or, when none applies firmly, its firm reasons of any kind)."""
    firm = [r for r in q["reasons"] if not r["conditional"]]
    return [r for r in firm if r["rule"] in outcome_rules] or firm


def open_facts(data: dict[str, Any], info: Any) -> list[str]:
    """The facts still to establish (the open questions), by label."""
    return [info.fact_labels.get(o["fact"], o["fact"]) for o in data["open_questions"]]


def rows(data: dict[str, Any], info: Any) -> list[Row]:
    """The block's rows, in the guidance's order, from a report's JSON data."""
    rs = data["ruleset"]
    since = dt.date.fromisoformat(rs["under_review_from"]) if rs["under_review_from"] else None
    labels = info.outcome_labels
    out = []
    for qid, _heading in info.headings:
        q = data[qid]
        unquoted = q["outcome"] in info.unquoted
        # the deciding rules' words, else those of any reason that applies
        firm = [r for r in q["reasons"] if not r["conditional"]]
        quote = None if unquoted else next(
            (r["quote"]["text"] for r in deciding(q, info.outcome_rules) + firm if r["quote"]),
            None)
        out.append(Row(
            qid, info.titles.get(qid, qid), labels.get(q["outcome"], q["outcome"]), quote,
            words.rests_on_short(q["rests_on"]),
            tuple(info.fact_labels.get(o["fact"], o["fact"]) for o in data["open_questions"]
                  if qid in o["affects"]),
            tuple(labels.get(o, o) for o in q["possible_outcomes"]),
            since if q["under_review"] else None, unquoted))
    return out
