"""The annotated reasoning as a neutral document, shared by Markdown, HTML, Word and PDF.

The body is what a decision drafts from, in the guidance's order:
1. a header block: case id, assessment date (and whether it was defaulted), the edition
   and its status, and every warning, most severe first (the rule set declares the order
   of its own warnings; see ruleset.warning_rank);
2. the conclusions at a glance (render/glance.py: the one definition every format shares);
3. the case facts as given (labels and value meanings from the vocabulary), and those not
   given;
4. applicability, then Steps 1, 2 and 3, then exclusion. Each conclusion comes with its
   lists and reasons; reasons that hold only if facts not given turn out a certain way are
   grouped under the facts they depend on and written as conditionals ("If it is
   established that ...: ...");
5. what the assessment does not decide (the frame), and the facts still to establish;
6. the notes (the cited paragraphs) and the bibliography of the reports behind them.
Then the annex of analysis aids, which a document to file leaves out (`--no-annex`): per
question the facts it depended on, the single changes that would alter it and what facts
not given could add; the open questions in full; the codes used (codes appear nowhere
else a person reads).

Each cited paragraph becomes a numbered note, numbered by its first appearance in the
document, so note numbers follow the reading order; the markers of one place are in
ascending order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from riskassess import words
from riskassess.engine.explain import Explanation, explain
from riskassess.law.case import UNKNOWN, Case, given_facts
from riskassess.law.plain import QUESTION_PREFIX
from riskassess.law.report import Report
from riskassess.law.ruleset import RuleSet, warning_rank
from riskassess.law.vocabulary import item_text as record_text
from riskassess.render.glance import Row
from riskassess.render.glance import rows as glance_rows
from riskassess.render.layout import text_info
from riskassess.words import long_date, sentence_case, window


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
    # the reports behind the labels of the guidance's brackets, as words.bracket_source
    reports: list[str] = field(default_factory=list)
    basis: str = "guidance"  # what the paragraph is (law/report.py BASES)
    short: str = ""  # the source's short name (the bibliography has it in full)
    source_url: str | None = None  # the source's address (the bibliography's)

    @property
    def where(self) -> str:
        """'Section S; locator L.' with no doubled punctuation (a section may be a question),
        or the locator alone when it opens with the section."""
        section = _trim(self.section)
        if not section or self.locator.startswith(section):
            return _end(self.locator)
        return _end(f"{section}; {self.locator}")

    @property
    def lines(self) -> list[str]:
        """The note as a reader sees it, one line each: the source's short name and the
        place, what the paragraph is, its summary, and its own address if it has one apart
        from the source's. The source in full, and the reports the brackets name, are in
        the bibliography."""
        out = [f"{self.short or self.source}, {self.where}", words.NOTE_BASIS[self.basis],
               self.summary]
        if self.url and self.url != self.source_url:
            out.append(self.url)
        return out


@dataclass
class Reason:
    text: str  # the rule's reasoning, with the guidance's words it restates (if quoted)
    rule: str
    notes: list[int]


@dataclass
class Hypotheses:
    """Conditional reasons that depend on the same facts not given."""

    heading: str
    reasons: list[Reason]


@dataclass
class Question:
    id: str
    heading: str
    outcome: str  # code (small print only)
    outcome_label: str
    possible_labels: list[str]
    lists: list[tuple[str, list[str]]]
    possible: list[tuple[str, list[str]]]
    reasons: list[Reason]
    hypotheses: list[Hypotheses]  # conditionals on other questions' answers only (body)
    depends_on: list[tuple[str, str]]
    decisive: list[str]
    rests_on: str = ""  # what the outcome rests on, in words
    caveat: str | None = None  # the edition was under review on the assessment date
    review_since: dt.date | None = None  # ... since this day
    # conditionals on facts not given: analysis aids, in the annex
    annex_hypotheses: list[Hypotheses] = field(default_factory=list)

    @property
    def outcome_line(self) -> str:
        return words.outcome_line(self.outcome_label, open_between=self.possible_labels,
                                  review_since=self.review_since)

    @property
    def conditional(self) -> list[Reason]:
        return [r for h in self.hypotheses + self.annex_hypotheses for r in h.reasons]


@dataclass
class Warning:
    code: str
    message: str
    notes: list[int]


@dataclass
class Source:
    """One entry of the bibliography."""

    author: str
    title: str
    date: str
    url: str | None
    consulted: str | None = None
    at_hand: str | None = None
    first_note: int = 0  # the number of the first note citing it

    @property
    def line(self) -> str:
        """The entry as one line: author, title, date, address, when consulted, what was
        at hand."""
        out = f"{self.author}, {self.title}, {self.date}." + (f" {self.url}" if self.url else "")
        if self.consulted:
            out += f" Consulted: {_end(self.consulted)}"
        if self.at_hand:
            out += f" At hand: {_end(self.at_hand)}"
        return out


@dataclass
class Document:
    title: str
    case_id: str | None
    assessment_date: str
    date_defaulted: bool
    edition_title: str
    edition_status: str
    edition_lines: list[str]
    warnings: list[Warning]  # every warning, most severe first
    facts_given: list[tuple[str, str]]  # label, value in words
    facts_not_given: list[str]  # labels
    questions: list[Question]
    open_questions: list[tuple[str, str, str]]  # fact label, affects (titles), why
    frame_heading: str = ""  # what the assessment does not decide:
    frame_intro: str = ""
    frame: list[str] = field(default_factory=list)  # each matter not covered
    frame_note: str | None = None  # how the instrument is cited on the date, if need be
    notes: list[Note] = field(default_factory=list)
    bibliography: list[Source] = field(default_factory=list)
    codes: list[tuple[str, str]] = field(default_factory=list)  # code, words (small print)
    footer: str = ""
    generated_at: str | None = None
    glance: list[Row] = field(default_factory=list)  # the conclusions at a glance
    body_notes: int = 0  # notes 1..body_notes are cited in the body; the rest in the annex only

    def notes_for(self, annex: bool) -> list[Note]:
        """The notes of the document with or without its annex."""
        return self.notes if annex else self.notes[:self.body_notes]

    def bracket_reports(self, annex: bool) -> list[str]:
        """The reports the guidance's bracketed references name by label, in the notes
        kept, each once, in order of first citation."""
        return list(dict.fromkeys(r for n in self.notes_for(annex) for r in n.reports))

    def bibliography_for(self, annex: bool) -> list[Source]:
        """The sources of those notes."""
        return self.bibliography if annex else [
            s for s in self.bibliography if s.first_note <= self.body_notes]

    @property
    def open_facts(self) -> list[str]:
        """The open questions' facts, by label (the body names them; the annex explains)."""
        return [fact for fact, _, _ in self.open_questions]

    @property
    def header(self) -> list[tuple[str, str]]:
        """The header block (after the title, before the warnings): label, value."""
        return [("Case", self.case_id or "no case id given"),
                ("Assessment date", self.assessment_day
                 + (" (not given in the case file: today's date was used)"
                    if self.date_defaulted else "")),
                ("Guidance applied", self.edition_title),
                ("Status of that guidance", self.edition_status)]

    @property
    def header_lines(self) -> list[str]:
        return [f"{label}: {value}" for label, value in self.header]

    @property
    def running_head(self) -> str:
        return f"{self.case_id or 'Assessment'} · {self.assessment_day}"

    @property
    def assessment_day(self) -> str:
        return long_date(dt.date.fromisoformat(self.assessment_date))

    @property
    def provenance(self) -> str:
        return self.footer + (f"; generated at {self.generated_at}" if self.generated_at else "")


def build(report: Report, ruleset: RuleSet, case: Case, explanation: Explanation,
          generated_at: dt.datetime | None = None) -> Document:
    numbers: dict[str, int] = {}
    notes: list[Note] = []
    vocab = ruleset.vocabulary
    codes = ruleset.edition.codes
    used_codes: dict[str, str] = {}

    def cite(pids: list[str]) -> list[int]:
        out = []
        for pid in pids:
            if pid not in numbers:
                numbers[pid] = len(numbers) + 1
                c = report.citations[pid]
                src = ruleset.sources[c.source_id]
                notes.append(Note(numbers[pid], pid, src.title, src.author, src.date, c.section,
                                  c.locator, c.summary, c.url,
                                  [words.bracket_source(b.label, b.author, b.title, b.date)
                                   for b in c.bracket_sources], c.basis, c.source_short,
                                  src.url))
            out.append(numbers[pid])
        return sorted(dict.fromkeys(out))

    def code(kind: str, value: str, said: str) -> str:
        used_codes.setdefault(f"{kind}: {value}", said)
        return said

    def item(coll: str, value: Any) -> str:
        if not isinstance(value, str):
            return record_text(value, vocab)
        meaning = codes.get(coll, {}).get(value)
        return code(coll, value, meaning) if meaning else value.replace("_", " ")

    def outcome(value: str) -> str:
        return code("outcome", value, vocab.outcome_labels.get(value, value))

    def shown_value(path: str) -> str:
        """A fact's value as the engine used it: a fact not given that a constraint settles
        from a fact given reads as that value, saying so."""
        value = values[path]
        if value == UNKNOWN:
            for imp in vocab.implications:
                if imp.fact == path and imp.condition_holds(values.get(imp.when_fact, UNKNOWN)):
                    return words.implied(vocab.facts[path].words(imp.value),
                                         fact_label(imp.when_fact))
        return vocab.facts[path].words(value)

    def fact_label(path: str) -> str:
        spec = vocab.facts.get(path)
        return code("fact", path, spec.label) if spec else path

    def variable_label(var: str) -> str:
        if var.startswith(QUESTION_PREFIX):
            qid = var[len(QUESTION_PREFIX):]
            return f"the answer on {vocab.question(qid).title.lower()}"
        return vocab.facts[var].label_in_sentence  # (the facts' table registered its code)

    rs = report.ruleset
    rank = warning_rank(ruleset)
    ordered = sorted(enumerate(report.warnings),
                     key=lambda p: (rank.get(p[1].code, len(rank)), p[0]))
    warnings = [Warning(w.code, w.message, cite(list(w.cites))) for _, w in ordered]
    for w in warnings:
        code("warning", w.code, w.message)
    codes_now = {w.code for w in warnings}
    status = next((words.STATUS_WORDS[c] for c in words.STATUS_WORDS if c in codes_now),
                  words.IN_FORCE)
    later = words.since_then(rs, report.assessment_date)
    if later:
        status += f"; {later}"
    if rs.selected_by != "assessment_date":
        status += "; chosen with --ruleset, not by the assessment date"

    lines = [sentence_case(window(rs, long_date)) + "."]
    current = rs.in_force_on_assessment_date
    if current is None:
        lines.append("No catalogued edition was in force on the assessment date.")
    elif current.id != rs.id:
        lines.append(f"Edition in force on the assessment date: {current.title}"
                     f"{'' if current.encoded else ' (not encoded in riskassess)'}.")
    lines.append("Newer editions: " + "; ".join(
        f"{e.title}, from {long_date(e.in_force_from)}"
        f"{'' if e.encoded else ' (not encoded)'}" for e in rs.newer_editions) + "."
        if rs.newer_editions else words.sentence_case(words.NO_NEWER_EDITION) + ".")

    given, missing = [], []
    values = dict(given_facts(case))
    for path, value in values.items():
        shown = shown_value(path)  # a fact not given that a fact given settles: shown so
        if value == UNKNOWN and shown == vocab.facts[path].words(UNKNOWN):
            missing.append(fact_label(path))
        else:
            given.append((fact_label(path), shown))

    list_labels = vocab.list_labels()
    questions: list[Question] = []
    deferred: list[tuple[int, list[tuple[tuple[str, ...], list[Any]]]]] = []

    def heading(key: tuple[str, ...]) -> str:
        return ("Depending on " + words.and_([variable_label(v) for v in key])
                if key else words.DEPENDING)

    def reason(r: Any) -> Reason:
        return Reason(words.with_quote(r.text, r.quote.text if r.quote else None), r.rule,
                      cite(list(r.cites)))

    for spec in ruleset.questions:
        q = report.question(spec.id)
        lists = [(label, [item(coll, i) for i in getattr(q, coll)])
                 for coll, label in list_labels.items() if getattr(q, coll, None)]
        possible = [(list_labels.get(coll, coll), [item(coll, i) for i in items])
                    for coll, items in q.possible.items()]
        firm = [reason(r) for r in q.reasons if not r.conditional]
        groups: dict[tuple[str, ...], list[Any]] = {}
        for r in q.reasons:
            if r.conditional:
                groups.setdefault(tuple(r.depends_on), []).append(r)
        # A conditional on other questions' answers only states the guidance's conclusions
        # for a case they leave open: the body's. One on facts not given is an aid: annex.
        on_answers = {key: bool(key) and all(v.startswith(QUESTION_PREFIX) for v in key)
                      for key in groups}
        hypotheses = [Hypotheses(heading(key), [reason(r) for r in rs])
                      for key, rs in groups.items() if on_answers[key]]
        deferred.append((len(questions), [(key, rs) for key, rs in groups.items()
                                          if not on_answers[key]]))
        questions.append(Question(
            spec.id, spec.heading, q.outcome, outcome(q.outcome),
            [outcome(o) for o in q.possible_outcomes], lists, possible, firm, hypotheses,
            [(fact_label(f), shown_value(f)) for f, _ in explanation.depends_on.get(spec.id, [])],
            [c.prose(vocab) for c in explanation.decisive.get(spec.id, [])],
            words.rests_on(q.rests_on),
            words.review_caveat(rs.under_review_from) if q.under_review and
            rs.under_review_from else None,
            rs.under_review_from if q.under_review else None))

    body_notes = len(notes)
    for index, keyed in deferred:  # cited after the body, so the body's notes come first
        questions[index].annex_hypotheses = [Hypotheses(heading(key), [reason(r) for r in rs])
                                             for key, rs in keyed]
    titles = {q.id: q.title for q in vocab.questions}
    open_questions = [(fact_label(o.fact), ", ".join(titles.get(a, a) for a in o.affects), o.why)
                      for o in report.open_questions]

    cited_sources = list(dict.fromkeys(report.citations[n.pid].source_id for n in notes))
    first = {}
    for n in notes:
        first.setdefault(report.citations[n.pid].source_id, n.number)
    bibliography = [Source(src.author, src.title, src.date, src.url, src.consulted, src.at_hand,
                           first[s]) for s, src in ((s, ruleset.sources[s]) for s in cited_sources)]
    frame_intro, frame, frame_note = vocab.frame.lines(report.assessment_date)
    footer = (f"riskassess {report.tool.version}; rule set {rs.id}, sha256 {rs.sha256}; "
              f"assessment date {report.assessment_date.isoformat()}")
    return Document(
        title=("Assessment of case " + report.case_id) if report.case_id else "Assessment",
        case_id=report.case_id, assessment_date=report.assessment_date.isoformat(),
        date_defaulted="assessment_date_defaulted" in codes_now,
        edition_title=rs.title, edition_status=status, edition_lines=lines,
        warnings=warnings, facts_given=given, facts_not_given=missing, questions=questions,
        open_questions=open_questions, frame_heading=vocab.frame.heading,
        frame_intro=frame_intro, frame=frame, frame_note=frame_note, notes=notes,
        bibliography=bibliography,
        codes=sorted(used_codes.items()) + [(f"note {n.number}", n.pid) for n in notes],
        footer=footer,
        generated_at=generated_at.isoformat(timespec="seconds") if generated_at else None,
        glance=glance_rows(report.model_dump(mode="json"), text_info(ruleset)),
        body_notes=body_notes)


def _trim(text: str) -> str:
    return text.rstrip(" .")


def _end(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."



def document_of(outcome: Any, generated_at: dt.datetime | None = None) -> Document:
    """The annotated document of an assessed case (assess.core.Outcome), with its decisive
    facts: built once per outcome and time stamp, whichever formats ask for it."""
    key = ("document", generated_at)
    found = outcome.cache.get(key)
    if found is None:
        report = outcome.report
        explanation = explain(outcome.case, outcome.ruleset, outcome.choice,
                              report.assessment_date, report)
        found = outcome.cache[key] = build(report, outcome.ruleset, outcome.case, explanation,
                                           generated_at)
    return found
