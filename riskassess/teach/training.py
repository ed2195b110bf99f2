"""Training: run scenarios, quiz trainees, grade answers, and vary facts.

A trainee answers the quiz of the vocabulary (questions.yaml, `quiz`): each item is a
question's outcome or the items of one of its lists. For the shipped Syria rules:
persecution and its bases, the level of risk, the nexus grounds, the exclusion pointer.

The model answer is the scenario's hand-written expectation, which the tests keep in
agreement with the engine. The reasoning and citations shown afterwards are the engine's
report. Grading gives one point per question. A list (bases, grounds) earns partial
credit: the share of the model's items and the trainee's items they have in common
(|A ∩ B| / |A ∪ B|).

Answers, typed at the prompt or written in an answers file, are read as the interview reads
its answers (typed.py: any case, an outcome by its code or its label), and refused in the
words a refused case file gets.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from riskassess.errors import CaseFileError, Problem, UsageError
from riskassess.io.reader import Document
from riskassess.law.ruleset import RuleSet
from riskassess.law.scenarios import Scenario
from riskassess.law.vocabulary import Vocabulary
from riskassess.teach import typed
from riskassess.teach.screen import fitted
from riskassess.words import did_you_mean, echoed, not_allowed


def items(vocab: Vocabulary) -> tuple[str, ...]:
    """The quiz's answers, in order."""
    return tuple(q.answer for q in vocab.quiz)


def prompts(vocab: Vocabulary) -> dict[str, str]:
    return {q.answer: q.prompt for q in vocab.quiz}


def lists(vocab: Vocabulary) -> tuple[str, ...]:
    """The answers that are lists (graded with partial credit)."""
    return tuple(q.answer for q in vocab.quiz if q.list is not None)


def find(scenarios: list[Scenario], scenario_id: str) -> Scenario:
    for s in scenarios:
        if s.id == scenario_id:
            return s
    hint = did_you_mean(scenario_id, [s.id for s in scenarios], cutoff=0.4)
    raise UsageError(f"no scenario '{scenario_id}'{hint}")


def pick(scenarios: list[Scenario], scenario_id: str | None, seed: int | None) -> Scenario:
    if scenario_id:
        return find(scenarios, scenario_id)
    return random.Random(seed).choice(scenarios)


def choices(ruleset: RuleSet) -> dict[str, list[str]]:
    """The answers a trainee may give, from the rule set and its vocabulary: a question's
    outcomes; for a list of codes, the codes the edition documents; for a list of values
    or records, the values (of the record's key field)."""
    vocab = ruleset.vocabulary
    outcomes = {q.id: list(q.outcomes) + ([] if q.if_undetermined else ["undetermined"])
                for q in ruleset.questions}
    out: dict[str, list[str]] = {}
    for entry in vocab.quiz:
        if entry.list is None:
            out[entry.answer] = outcomes[entry.question]
            continue
        spec = next(s for s in vocab.question(entry.question).lists if s.name == entry.list)
        if spec.items == "code":
            out[entry.answer] = sorted(ruleset.edition.codes.get(entry.list, {}))
        elif isinstance(spec.items, tuple):
            out[entry.answer] = sorted(ruleset.edition.codes.get(entry.list, {})) \
                or list(spec.items)
        else:
            t = vocab.item_types[spec.items]
            out[entry.answer] = list(t.fields[t.key].values)
    return out


def model_answer(scenario: Scenario, vocab: Vocabulary | None = None) -> dict[str, Any]:
    """The scenario's expectation as quiz answers (vocabulary: the shipped one unless given)."""
    if vocab is None:
        from riskassess.law.ruleset import shipped_vocabulary

        vocab = shipped_vocabulary()
    e = scenario.meta.expected
    out: dict[str, Any] = {}
    for entry in vocab.quiz:
        q = getattr(e, entry.question)
        out[entry.answer] = q.outcome if entry.list is None else \
            sorted(getattr(q, entry.list) or [])
    return out


@dataclass(frozen=True)
class Mark:
    item: str
    given: Any
    model: Any
    points: float
    comment: str


def grade(answers: dict[str, Any], model: dict[str, Any],
          list_items: tuple[str, ...] | None = None) -> list[Mark]:
    """One mark per item of the model answer; list items (those whose model answer is a
    list, unless `list_items` names them) get partial credit."""
    marks = []
    for item in model:
        given, want = answers.get(item), model[item]
        if (item in list_items) if list_items is not None else isinstance(want, list):
            a, b = set(given or []), set(want)
            union = a | b
            points = 1.0 if not union else len(a & b) / len(union)
            missing, extra = sorted(b - a), sorted(a - b)
            if points == 1.0:
                comment = "correct"
            else:
                parts = []
                if missing:
                    parts.append("missing " + ", ".join(missing))
                if extra:
                    parts.append("not supported: " + ", ".join(extra))
                comment = ("partly right: " if a & b else "wrong: ") + "; ".join(parts)
        else:
            points = 1.0 if given == want else 0.0
            comment = "correct" if points else f"wrong: the model answer is {want}"
        marks.append(Mark(item, given, want, round(points, 2), comment))
    return marks


def refused(value: Any, allowed: list[str]) -> str:
    """Why a quiz answer is refused: in a refused case file's words."""
    return not_allowed(f"'{echoed(value)}'", ", ".join(allowed) or "none")


def read_answer(item: str, allowed: list[str], value: Any, vocab: Vocabulary) -> Any:
    """An answer as typed.py reads it: one value, or a list for a list item (from the text
    of a prompt, or a file's text or list); a word that is not allowed is kept as typed."""
    labels = vocab.outcome_labels
    if item not in lists(vocab):
        return typed.choice(allowed, value, labels) if isinstance(value, str) else value
    if value is None:
        return []
    if isinstance(value, str):
        return typed.items(allowed, value, labels)
    return [typed.choice(allowed, v, labels) if isinstance(v, str) else v
            for v in (value if isinstance(value, list) else [value])]


def answers_from_document(doc: Document, allowed: dict[str, list[str]], vocab: Vocabulary
                          ) -> tuple[dict[str, Any], str | None]:
    ITEMS, LISTS = items(vocab), lists(vocab)
    problems: list[Problem] = list(doc.problems)
    if not isinstance(doc.data, dict):
        raise CaseFileError(doc.problem((), "an answers file is a mapping of: scenario, "
                                            + ", ".join(ITEMS)))
    answers: dict[str, Any] = {}
    for key, value in doc.data.items():
        if key == "scenario":
            continue
        if key not in ITEMS:
            problems.append(doc.problem((key,), f"unknown key '{key}' (allowed: scenario, "
                                                + ", ".join(ITEMS) + ")", prefer_key=True))
            continue
        read = read_answer(key, allowed[key], value, vocab)
        if key in LISTS:
            bad = [v for v in read if v not in allowed[key]]
            if bad:
                problems.append(doc.problem((key,), refused(bad[0], allowed[key])))
            answers[key] = sorted(str(v) for v in read)
        else:
            if read not in allowed[key]:
                problems.append(doc.problem((key,), refused(read, allowed[key])))
            answers[key] = read
    for item in ITEMS:
        if item not in doc.data:
            problems.append(doc.problem((), f"missing answer '{item}'"))
    if problems:
        raise CaseFileError(problems)
    scenario = doc.data.get("scenario")
    return answers, str(scenario) if scenario is not None else None


def ask(item: str, allowed: list[str], read: Callable[[str], str],
        write: Callable[[str], None], vocab: Vocabulary, width: int = 100) -> Any:
    """Ask one question until the answer is one of the allowed values (what is said is
    wrapped at words to `width` columns)."""
    shown = fitted(f"  allowed: {', '.join(allowed) or 'none'}", width)
    write("\n" + fitted(prompts(vocab)[item], width) + shown)
    while True:
        raw = read("> ").strip()
        if raw in ("", "?"):
            write(shown)
            continue
        value = read_answer(item, allowed, raw, vocab)
        bad = [v for v in value if v not in allowed] if item in lists(vocab) else \
            ([] if value in allowed else [value])
        if not bad:
            return sorted(value) if item in lists(vocab) else value
        write(fitted(f"  {refused(bad[0], allowed)}", width))


def score_text(marks: list[Mark], width: int = 100) -> str:
    """The marks, one a line (wrapped at words to `width` columns), the score last."""
    lines = ["Your answers against the model answer:"]
    for m in marks:
        given = ", ".join(m.given) if isinstance(m.given, list) else m.given
        model = ", ".join(m.model) if isinstance(m.model, list) else m.model
        lines.append(f"  {m.item:12s} {m.points:4.2f}  yours: {given or 'none'}; "
                     f"model: {model or 'none'} ({m.comment})")
    total = sum(m.points for m in marks)
    lines.append(f"Score: {total:g} / {len(marks)}")
    return fitted("\n".join(lines), width, hang=4)


def briefing(scenario: Scenario, facts: list[tuple[str, str]], edition: str, day: str,
             width: int = 100) -> str:
    """The scenario as a trainee reads it first, wrapped at words to `width` columns."""
    lines = [f"Scenario {scenario.id}: {scenario.meta.title}", "",
             " ".join(scenario.meta.narrative.split()), "",
             f"Assessment date {day}; guidance applied: {edition}.", "Facts given:"]
    lines += [f"  {fact} = {value}" for fact, value in facts] or ["  none"]
    return fitted("\n".join(lines), width, hang=0)
