"""The annotated reasoning as a neutral document, shared by Markdown, HTML and Word.

The document follows the guidance's order:
1. the case facts as given, and the facts not given;
2. the edition applied and its dates, with any review or supersession warning at the top;
3. applicability, then Steps 1, 2 and 3, then exclusion. Each conclusion comes with its
   reasons, the facts it depended on, and the single changes that would alter it;
4. the open questions and the warnings;
5. the sources.

Each cited paragraph becomes a numbered note, numbered by its first appearance in the
document, so footnote numbers in every format follow the reading order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from riskassess.assessment import Report
from riskassess.case import UNKNOWN, Case, given_facts
from riskassess.explain import Explanation, show
from riskassess.render.common import bracket_source_text, item_text
from riskassess.ruleset import RuleSet, top_warning_codes


@dataclass
class Note:
    number: int
    pid: str
    source: str  # title
    author: str
    date: str
    section: str
    locator: str
    summary: str
    url: str | None
    # the reports behind the labels of the guidance's brackets, as bracket_source_text
    reports: list[str] = field(default_factory=list)


@dataclass
class Reason:
    text: str
    rule: str
    notes: list[int]


@dataclass
class Question:
    id: str
    heading: str
    outcome: str
    outcome_label: str
    possible_outcomes: list[str]
    lists: list[tuple[str, list[str]]]
    possible: list[tuple[str, list[str]]]
    reasons: list[Reason]
    conditional: list[Reason]
    depends_on: list[tuple[str, str]]
    decisive: list[str]


@dataclass
class Warning:
    code: str
    message: str
    notes: list[int]


@dataclass
class Document:
    title: str
    case_id: str | None
    assessment_date: str
    edition_title: str
    edition_lines: list[str]
    top_warnings: list[Warning]
    facts_given: list[tuple[str, str]]
    facts_not_given: list[str]
    questions: list[Question]
    open_questions: list[tuple[str, str, str]]  # fact, affects, why
    warnings: list[Warning]
    notes: list[Note] = field(default_factory=list)
    footer: str = ""
    generated_at: str | None = None


def build(report: Report, ruleset: RuleSet, case: Case, explanation: Explanation,
          generated_at: dt.datetime | None = None) -> Document:
    numbers: dict[str, int] = {}
    notes: list[Note] = []

    def cite(pids: list[str]) -> list[int]:
        out = []
        for pid in pids:
            if pid not in numbers:
                numbers[pid] = len(numbers) + 1
                c = report.citations[pid]
                src = ruleset.sources[c.source_id]
                notes.append(Note(numbers[pid], pid, src.title, src.author, src.date, c.section,
                                  c.locator, c.summary, c.url,
                                  [bracket_source_text(b) for b in c.bracket_sources]))
            out.append(numbers[pid])
        return out

    rs = report.ruleset
    lines = [f"Edition {rs.id}, in force from {rs.in_force_from.isoformat()}"
             + (f", under review from {rs.under_review_from.isoformat()}"
                if rs.under_review_from else "")
             + (f", superseded on {rs.superseded_on.isoformat()}" if rs.superseded_on else "")
             + (f" (successor: {rs.successor})" if rs.successor else "") + ".",
             "Chosen by the assessment date." if rs.selected_by == "assessment_date"
             else "Forced with --ruleset: not chosen by the assessment date."]
    current = rs.in_force_on_assessment_date
    if current is None:
        lines.append("No catalogued edition was in force on the assessment date.")
    elif current.id != rs.id:
        lines.append(f"Edition in force on the assessment date: {current.title} ({current.id}"
                     f"{'' if current.encoded else ', not encoded'}).")
    lines.append("Newer editions: " + "; ".join(
        f"{e.title} ({e.id}, from {e.in_force_from.isoformat()}"
        f"{'' if e.encoded else ', not encoded'})" for e in rs.newer_editions) + "."
        if rs.newer_editions else "No newer edition is known.")

    top = [w for w in report.warnings if w.code in top_warning_codes(ruleset)]
    top_views = [Warning(w.code, w.message, cite(list(w.cites))) for w in top]

    given, missing = [], []
    for path, value in given_facts(case):
        if value == UNKNOWN:
            missing.append(path)
        else:
            given.append((path, show(value)))

    codes = ruleset.edition.codes
    vocab = ruleset.vocabulary
    list_labels = vocab.list_labels()
    questions = []
    for spec in ruleset.questions:
        q = report.question(spec.id)
        lists = [(label, [item_text(i, codes.get(coll, {}), vocab) for i in getattr(q, coll)])
                 for coll, label in list_labels.items()
                 if getattr(q, coll, None)]
        possible = [(list_labels.get(coll, coll),
                     [item_text(i, codes.get(coll, {}), vocab) for i in items])
                    for coll, items in q.possible.items()]
        firm = [Reason(r.text, r.rule, cite(list(r.cites))) for r in q.reasons if not r.conditional]
        maybe = [Reason(r.text, r.rule, cite(list(r.cites))) for r in q.reasons if r.conditional]
        questions.append(Question(
            spec.id, spec.heading, q.outcome, vocab.outcome_labels.get(q.outcome, q.outcome),
            list(q.possible_outcomes), lists, possible, firm, maybe,
            explanation.depends_on.get(spec.id, []),
            [c.sentence() for c in explanation.decisive.get(spec.id, [])]))

    warnings = [Warning(w.code, w.message, cite(list(w.cites))) for w in report.warnings]
    footer = (f"riskassess {report.tool.version}; rule set {rs.id}, sha256 {rs.sha256}; "
              f"assessment date {report.assessment_date.isoformat()}")
    return Document(
        title=("Assessment of case " + report.case_id) if report.case_id else "Assessment",
        case_id=report.case_id, assessment_date=report.assessment_date.isoformat(),
        edition_title=rs.title, edition_lines=lines, top_warnings=top_views,
        facts_given=given, facts_not_given=missing, questions=questions,
        open_questions=[(o.fact, ", ".join(o.affects), o.why) for o in report.open_questions],
        warnings=warnings, notes=notes, footer=footer,
        generated_at=generated_at.isoformat(timespec="seconds") if generated_at else None)
