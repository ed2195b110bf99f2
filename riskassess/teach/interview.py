"""`riskassess interview`: build a case file by asking only what can still matter.

The vocabulary's scope fact (the applicant's country) is asked first: no rule reads it,
but the guidance concerns applicants from one country only. Then the engine chooses every
question. After each answer the case is evaluated again, and
the next question is one of its open questions: an unknown fact that could still change
a conclusion, add a basis, factor or ground, or raise a warning. The open question that
affects the most questions goes first (ties to the fact more rules read, then the
vocabulary's order). So under the shipped Syria rules a draft evader is asked for his
military status first and then nothing else, because nothing else can change a conclusion
about someone outside the profile.

Answers are read as typed.py reads them (any case, a value's code or its label, yes and
no) and checked as a case file is checked, by the case model and the vocabulary's
constraints: a refused answer is refused in the words a refused case file would get. The
allowed values and their meanings come from the vocabulary, not from text repeated here.
The user may answer `unknown`, go `back` to change the last answer, or `stop`. What is
said is wrapped at words to the width of the terminal (render/layout.py `wrap`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from riskassess.errors import UserError
from riskassess.io.reader import comments, dotted, parse_yaml_text
from riskassess.law.case import (
    UNKNOWN,
    Case,
    case_from_answers,
    given_facts,
    vocabulary_of,
)
from riskassess.law.ruleset import Catalog
from riskassess.law.vocabulary import FactSpec, load_vocabulary
from riskassess.render.layout import wrap
from riskassess.teach import typed
from riskassess.teach.screen import fitted
from riskassess.words import fact_value

BACK, STOP = "back", "stop"


@dataclass
class Interview:
    catalog: Catalog
    rules_dir: Any
    day: dt.date
    case_id: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)  # fact key -> value (known or unknown)
    history: list[str] = field(default_factory=list)  # fact keys in the order answered
    asked: list[str] = field(default_factory=list)  # every question put, for the record
    # the person's own comments in the file resumed from, kept in the draft and the file
    comments: Comments | None = None

    @property
    def vocabulary(self):
        return load_vocabulary(self.rules_dir / self.catalog.vocabulary)

    def case(self, answers: dict[str, Any] | None = None) -> Case:
        """The case the answers make, checked as a case file is (CaseFileError if not)."""
        return case_from_answers(self.vocabulary, self.answers if answers is None else answers,
                                 case_id=self.case_id, assessment_date=self.day)

    def assess(self):
        """The case so far, assessed as `evaluate` would (the scope included: an answer or
        a resumed file may name a country outside the guidance's)."""
        from riskassess.assess.core import assess_case

        outcome = assess_case(self.case(), today=self.day, rules_dir=self.rules_dir)
        return outcome.report, outcome.ruleset

    def next_fact(self) -> str | None:
        """The open question to ask next, or None when nothing left could matter."""
        vocab = self.vocabulary
        scope_key = vocab.scope.fact.split(".", 1)[1]
        if scope_key not in self.answers:
            # The scope fact comes first: no rule reads it, but an applicant from another
            # country is not assessed at all, and without it every report is qualified.
            return vocab.scope.fact
        report, _ = self.assess()
        order = list(vocab.facts)
        candidates = [q for q in report.open_questions
                      if self.answers.get(q.fact.split(".", 1)[1]) != UNKNOWN]
        if not candidates:
            return None
        # Ties (several facts that can change every question) go to the fact more rules
        # read, so that a fact that can end the interview at once is asked before facts
        # that matter only inside the profile.
        best = min(candidates, key=lambda q: (-len(q.affects), -len(q.rules),
                                              order.index(q.fact)))
        return best.fact


def parse(spec: FactSpec, raw: str) -> Any:
    """Turn what was typed into the value the case model expects (it validates it), as
    typed.py reads it: a caseworker typing at a prompt need not match the file format's
    spelling. A value's label is what the tool shows for it (FactSpec.words)."""
    text = raw.strip()
    if text.lower() == UNKNOWN:
        return UNKNOWN
    labels = {v: spec.words(v) for v in spec.values}
    if spec.kind in ("bool", "enum"):
        return typed.choice(spec.values, text, labels)
    if spec.kind == "set":
        return typed.items(spec.values, text, labels)
    if spec.kind == "country" and len(text) == 2:
        return text.upper()  # codes are capitals: sy means SY
    return text


def prompt_text(spec: FactSpec, width: int = 100) -> str:
    """A fact's question, wrapped at words to `width` columns."""
    fact = spec.path
    if spec.kind == "set":
        allowed = "a comma-separated list of: " + ", ".join(spec.values) + "; or none"
    elif spec.kind == "date":
        allowed = "YYYY-MM-DD, YYYY-MM or YYYY"
    elif spec.kind == "country":
        allowed = "a two-letter country code (ISO 3166-1 alpha-2)"
    elif spec.kind == "text":
        allowed = "any text"
    elif spec.kind == "bool":
        allowed = "yes (true), no (false)"
    else:
        allowed = ", ".join(fact_value(v) for v in spec.values)
    return "\n" + fitted(f"{fact}: {' '.join(spec.description.split())}", width) + \
        fitted(f"  answer: {allowed}; or unknown. (back: change the last answer; stop: "
               "finish now)", width)


def refusal(exc: UserError, spec: FactSpec) -> str:
    """Why an answer is refused, in the words of a refused case file: the problem found at
    the fact asked, or else the first other one, named by its fact (an answer can clash with
    an earlier one)."""
    problems = exc.problems
    mine = [p for p in problems if p.path == spec.path or p.path.startswith(spec.path + "[")]
    if mine:
        return mine[0].message
    first = problems[0]
    return f"{first.path}: {first.message}" if first.path else first.message


def run(interview: Interview, read: Callable[[str], str], write: Callable[[str], None],
        save: Callable[[], None] | None = None, width: int = 100) -> None:
    """Ask until no open question remains or the user stops. `save` is called after every
    change of the answers (an answer, or `back`), so that a draft on disk always holds
    every answer given so far. What is said is wrapped at words to `width` columns."""
    while True:
        fact = interview.next_fact()
        if fact is None:
            write("\n" + fitted("No open question remains: every fact that could change a "
                                "conclusion is answered or marked unknown.", width))
            return
        spec = interview.vocabulary.facts[fact]
        key = spec.key
        write(prompt_text(spec, width))
        while True:
            raw = read("> ")
            word = raw.strip().lower()
            if word == STOP:
                write("\nStopped: the facts not answered stay unknown.\n")
                return
            if word == BACK:
                if not interview.history:
                    write("  nothing to go back to\n")
                    continue
                last = interview.history.pop()
                interview.answers.pop(last, None)
                if save:
                    save()
                back = interview.vocabulary.by_key(last)
                write(f"  back to {back.path if back else last}\n")
                break
            value = parse(spec, raw)
            trial = {**interview.answers, key: value}
            try:
                interview.case(trial)
            except UserError as exc:
                write(fitted(f"  not accepted: {refusal(exc, spec)}", width))
                continue
            interview.answers[key] = value
            interview.history.append(key)
            interview.asked.append(fact)
            if save:
                save()
            break


DRAFT_MARK = "# interview draft; facts answered unknown:"


def draft_text(interview: Interview) -> str:
    """The draft kept on disk during an interview: the case file so far, plus a comment
    naming the facts answered `unknown` (so that a resumed interview does not ask them
    again; a case file cannot otherwise tell "answered unknown" from "not yet asked")."""
    unknown = [k for k, v in interview.answers.items() if v == UNKNOWN]
    return (f"# riskassess interview draft: resume with riskassess interview --from "
            f"THIS-FILE.\n{DRAFT_MARK} {', '.join(unknown) or '-'}\n"
            + to_yaml(interview.case(), comments=interview.comments))


def answers_from(case: Case, text: str) -> dict[str, Any]:
    """The answers to resume from: the facts a file gives, plus those a draft records as
    answered unknown."""
    vocab = vocabulary_of(case)
    answers = {path.split(".", 1)[1]: value for path, value in given_facts(case)
               if value != UNKNOWN}
    for line in text.splitlines():
        if line.startswith(DRAFT_MARK):
            for key in line[len(DRAFT_MARK):].split(","):
                key = key.strip()
                if key and vocab.by_key(key) is not None and key not in answers:
                    answers[key] = UNKNOWN
    return answers


@dataclass
class Comments:
    """The comments a person wrote in a case file, by the key they belong to (a dotted path:
    `format`, `applicant`, `applicant.rank`): those on lines of their own above it, those
    after its value, and those after the last key (`end`). The comments the tool writes
    itself (the header, each fact's meaning, a draft's notes) are not among them."""

    above: dict[str, list[str]] = field(default_factory=dict)
    after: dict[str, list[str]] = field(default_factory=dict)
    end: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return (sum(map(len, self.above.values())) + sum(map(len, self.after.values()))
                + len(self.end))


_HEADER = ("# riskassess case file (format 1), written by ",
           "# Any fact may be changed by hand; unknown means not established.",
           "# riskassess interview draft: ", DRAFT_MARK)


def own_comments(case: Case, text: str) -> Comments:
    """The comments a person wrote in the case file `text` (which `case` was read from),
    each placed at the key it stands above or follows, so that a file written again
    (`to_yaml`) keeps them where they were."""
    doc = parse_yaml_text(text, "case file")
    ours = set(_HEADER) | {line.strip() for line in to_yaml(case).splitlines()
                           if line.lstrip().startswith("#")}
    keys = sorted((line, column, dotted(path)) for path, (line, column)
                  in doc.key_positions.items())
    found = Comments()
    for comment in comments(text):
        if comment.text.strip() in ours or comment.text.startswith(_HEADER):
            continue
        if comment.own_line:
            below = [k for k in keys if k[0] > comment.line]
            if below:
                found.above.setdefault(below[0][2], []).append(comment.text)
            else:
                found.end.append(comment.text)
            continue
        before = [k for k in keys if k[0] <= comment.line]
        if before:
            found.after.setdefault(before[-1][2], []).append(comment.text)
        else:  # after a value that no key precedes: not a case file's shape
            found.end.append(comment.text)
    return found


def _commented(line: str, path: str, comments: Comments | None) -> list[str]:
    """A line of the file with the person's comments on `path` above it and after it."""
    if comments is None:
        return [line]
    indent = " " * (len(line) - len(line.lstrip(" ")))
    after = comments.after.get(path, [])
    above = comments.above.get(path, []) + after[1:]  # a value's line holds one comment
    return [indent + text for text in above] + [f"{line}  {after[0]}" if after else line]


def to_yaml(case: Case, written_by: str = "riskassess interview",
            comments: Comments | None = None) -> str:
    """The case file, with the meaning of each fact as a comment above it (and `comments`,
    a person's own from the file it was resumed from, where they were)."""
    lines = [f"# riskassess case file (format 1), written by `{written_by}`.",
             "# Any fact may be changed by hand; unknown means not established."]
    lines += _commented("format: 1", "format", comments)
    if case.case_id:
        lines += _commented(f"case_id: {case.case_id}", "case_id", comments)
    if case.assessment_date:
        lines += _commented(f"assessment_date: {case.assessment_date.isoformat()}",
                            "assessment_date", comments)
    vocab = vocabulary_of(case)
    values = dict(given_facts(case))
    group = None
    for path, spec in vocab.facts.items():
        key = spec.key
        value = values[path]
        if spec.group != group:
            group = spec.group
            lines += _commented(f"{group}:", group, comments)
        for chunk in wrap(" ".join(spec.description.split()), 86):
            lines.append(f"  # {chunk}")
        if isinstance(value, list):
            shown = "[" + ", ".join(value) + "]"
        elif isinstance(value, bool):
            shown = "true" if value else "false"
        elif spec.kind == "date" and value != UNKNOWN:
            shown = f'"{value}"'
        elif spec.kind == "text" and value != UNKNOWN:
            shown = _yaml_quoted(value)
        else:
            shown = str(value)
        lines += _commented(f"  {key}: {shown}", path, comments)
    if comments is not None:
        lines += comments.end
    return "\n".join(lines) + "\n"


def _yaml_quoted(text: str) -> str:
    """Text as a double-quoted YAML scalar (a JSON string is one), with every character
    YAML would refuse raw or read as a line break (DEL, C1 controls, U+2028, U+2029, U+FFFE,
    U+FFFF, lone surrogates) escaped, so that the file reads back as the same text."""
    quoted = json.dumps(text, ensure_ascii=False)
    return "".join(f"\\u{ord(ch):04x}" if _yaml_unsafe(ch) else ch for ch in quoted)


def _yaml_unsafe(ch: str) -> bool:
    o = ord(ch)
    return 0x7F <= o <= 0x9F or o in (0x2028, 0x2029, 0xFFFE, 0xFFFF) or 0xD800 <= o <= 0xDFFF
