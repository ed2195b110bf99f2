"""Decisive facts and edition comparison, computed by re-running the engine.

For each conclusion of a report, `explain` says which facts it depended on (the facts
read by the rules that reached it) and which single change of a given fact would
change it. It tries every other value of every fact the case gives, evaluates each
variant with the engine, and compares. Nothing here is written by hand: a statement
such as "had applicant.conscientious_objection been none instead of religious,
religion (possible) would no longer be among the grounds" (shipped Syria rules) is read
off two reports.

`compare` evaluates one case under two encoded editions and lists, per question, what
changed and the paragraphs behind the change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from riskassess.assessment import Report
from riskassess.case import UNKNOWN, Case, date_bounds, given_facts, vocabulary_of, with_facts
from riskassess.engine import evaluate
from riskassess.ruleset import EditionChoice, RuleSet
from riskassess.vocabulary import item_label, vocabulary_of_report


def show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, frozenset, set)):
        return "[" + ", ".join(sorted(value)) + "]" if value else "[] (none)"
    return str(value)


def _label(item: Any, vocab: Any) -> str:
    return item_label(item, vocab, words=True)


@dataclass(frozen=True)
class Change:
    """One single change of a given fact, and what it would change in one question."""

    fact: str
    given: str
    alternative: str
    effects: tuple[str, ...]

    def sentence(self) -> str:
        return (f"Had {self.fact} been {self.alternative} instead of {self.given}, "
                + "; ".join(self.effects) + ".")


@dataclass
class Explanation:
    report: Report
    # question id -> the (fact, value) pairs its conclusion was reached on
    depends_on: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    decisive: dict[str, list[Change]] = field(default_factory=dict)  # qid -> changes
    variants: int = 0


def _alternatives(case: Case, ruleset: RuleSet, fact: str, value: Any) -> list[Any]:
    spec = ruleset.vocabulary.facts[fact]
    if not spec.testable:
        return []
    if spec.kind in ("enum", "bool"):
        return [v for v in spec.values if v != value]
    if spec.kind == "set":
        current = set(value)
        return ([sorted(current - {m}) for m in spec.values if m in current]
                + [sorted(current | {m}) for m in spec.values if m not in current])
    cuts = ruleset.thresholds.get(fact, ())
    if not cuts:
        return []
    lo, hi = date_bounds(value)
    latest = case.assessment_date or dt.date.max
    out = []
    for day in [cuts[0] - dt.timedelta(days=1), *cuts]:
        if (day < lo or day > hi) and day <= latest:
            out.append(day.isoformat())
    return out


def _valid(facts: dict[str, Any], vocab: Any) -> bool:
    """Whether a variant (fact path -> value) is a case the case model accepts (its
    combination rules)."""
    return vocab.admissible(facts, facts)


def _differences(qid: str, old: Report, new: Report) -> list[str]:
    a, b = old.question(qid), new.question(qid)
    vocab = vocabulary_of_report(new)
    out = []
    if a.outcome != b.outcome:
        out.append(f"the {qid} outcome would be {b.outcome} "
                   f"({vocab.outcome_labels.get(b.outcome, b.outcome)}) instead of {a.outcome}")
    nouns = vocab.list_nouns()
    for coll in (c for c in vocab.list_labels() if c in type(a).model_fields):
        before = [_label(i, vocab) for i in getattr(a, coll)]
        after = [_label(i, vocab) for i in getattr(b, coll)]
        name = nouns[coll]
        for item in before:
            if item not in after:
                out.append(f"{item} would no longer be among the {name}")
        for item in after:
            if item not in before:
                out.append(f"{item} would be added to the {name}")
    return out


def _warning_differences(old: Report, new: Report) -> list[str]:
    before = {w.code for w in old.warnings}
    after = {w.code for w in new.warnings}
    return ([f"the warning {c} would no longer be raised" for c in sorted(before - after)]
            + [f"the warning {c} would be raised" for c in sorted(after - before)])


def explain(case: Case, ruleset: RuleSet, choice: EditionChoice, day: dt.date,
            report: Report | None = None) -> Explanation:
    report = report or evaluate(case, ruleset, choice, day)
    result = Explanation(report=report)
    vocab = vocabulary_of(case)
    values = dict(given_facts(case))
    order = list(vocab.facts)

    # facts each conclusion depended on: those read by the rules that reached it
    reads: dict[str, list[str]] = {}
    for qid in report.question_ids:
        facts: list[str] = []
        fired = [r.rule for r in report.question(qid).reasons if not r.conditional]
        fired += [w.rule for w in report.warnings if w.rule and w.rule.startswith(qid + ".")]
        for rid in fired:
            for var in sorted(ruleset.rules[rid].condition.variables):
                if var.startswith("question:"):
                    facts += reads.get(var.split(":", 1)[1], [])
                else:
                    facts.append(var)
        reads[qid] = list(dict.fromkeys(sorted(facts, key=order.index)))
        result.depends_on[qid] = [(f, show(values[f])) for f in reads[qid]]
        result.decisive[qid] = []

    first = report.question_ids[0]  # warnings are told under the first question
    for fact in vocab.facts:
        value = values[fact]
        if value == UNKNOWN:
            continue
        for alternative in _alternatives(case, ruleset, fact, value):
            if not _valid({**values, fact: alternative}, vocab):
                continue
            variant = with_facts(case, {fact: alternative})
            other = evaluate(variant, ruleset, choice, day)
            result.variants += 1
            warned = _warning_differences(report, other)
            for qid in report.question_ids:
                effects = _differences(qid, report, other)
                if qid == first:
                    effects += warned
                if effects:
                    result.decisive[qid].append(
                        Change(fact, show(value), show(alternative), tuple(effects)))
    return result


# --------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class QuestionDiff:
    question: str
    before: str
    after: str
    changes: tuple[str, ...]
    explained_by: tuple[str, ...]  # paragraph ids cited in the second report's reasons only
    dropped: tuple[str, ...]  # paragraph ids cited in the first report's reasons only


def _present(sentence: str) -> str:
    """'... would be added to ...' -> '... is added to ...' (a change made, not supposed)."""
    for was, now in ((" would be added to ", " is added to "),
                     (" would no longer be ", " is no longer "), (" would be ", " becomes ")):
        sentence = sentence.replace(was, now)
    return sentence


def compare(first: Report, second: Report) -> list[QuestionDiff]:
    out = []
    for qid in second.question_ids:
        a, b = first.question(qid), second.question(qid)
        changes = tuple(_present(c) for c in _differences(qid, first, second))
        cites_a = list(dict.fromkeys(p for r in a.reasons for p in r.cites))
        cites_b = list(dict.fromkeys(p for r in b.reasons for p in r.cites))
        out.append(QuestionDiff(qid, a.outcome, b.outcome, changes,
                                tuple(p for p in cites_b if p not in cites_a) if changes else (),
                                tuple(p for p in cites_a if p not in cites_b) if changes else ()))
    return out
