"""Decisive facts and edition comparison, computed by re-running the engine.

For each conclusion of a report, `explain` says which facts it depended on (the facts
read by the rules that reached it) and which single change of a given fact would
change it. It tries every other value of every fact the case gives, evaluates each
variant with the engine, and compares. Nothing here is written by hand: a statement
such as "had applicant.conscientious_objection been none instead of religious,
religion (possible) would no longer be among the grounds" (shipped Syria rules) is read
off two reports.

`compare` takes the reports of one case under two encoded editions and lists, per
question, what changed. The facts being the same, a change comes from the edition; it is
explained only by the paragraphs of the rules that decided it: the rule that gave each
report's outcome, and the rules that put each added or removed list item there. Reasons
that hold only if facts not given turn out so explain nothing here. `describe_comparison`
words it for a person, with both editions' warnings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from riskassess import words
from riskassess.engine.evaluate import evaluate
from riskassess.law.case import Case, given_facts, vocabulary_of, with_facts
from riskassess.law.dates import UNKNOWN, date_bounds
from riskassess.law.editions import EditionChoice
from riskassess.law.plain import QUESTION_PREFIX
from riskassess.law.report import Report, vocabulary_of_report
from riskassess.law.ruleset import RuleSet
from riskassess.law.vocabulary import item_label


def _label(item: Any, vocab: Any) -> str:
    return item_label(item, vocab, words=True)


@dataclass(frozen=True)
class Change:
    """One single change of a given fact, and what it would change in one question."""

    fact: str
    given: str
    alternative: str
    effects: tuple[str, ...]
    words: tuple[str, ...] = ()  # the effects in the vocabulary's words, for documents
    given_words: str = ""  # the two values in words (FactSpec.words)
    alternative_words: str = ""

    def sentence(self) -> str:
        return words.had_been(self.fact, self.alternative, self.given, self.effects)

    def prose(self, vocab: Any) -> str:
        """The same for a reader: the fact's label, values and effects in words."""
        return words.had_been(vocab.facts[self.fact].label_in_sentence,
                              f"“{self.alternative_words}”", f"“{self.given_words}”",
                              self.words or self.effects)


@dataclass
class Explanation:
    report: Report
    # question id -> the (fact, value) pairs its conclusion was reached on
    depends_on: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    decisive: dict[str, list[Change]] = field(default_factory=dict)  # qid -> changes
    variants: int = 0


def alternatives(case: Case, ruleset: RuleSet, fact: str, value: Any) -> list[Any]:
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


def _differences(qid: str, old: Report, new: Report) -> list[str]:
    a, b = old.question(qid), new.question(qid)
    vocab = vocabulary_of_report(new)
    out = []
    if a.outcome != b.outcome:
        out.append(words.outcome_would_be(qid, b.outcome,
                                          vocab.outcome_labels.get(b.outcome, b.outcome),
                                          a.outcome))
    nouns = vocab.list_nouns()
    for coll in (c for c in vocab.list_labels() if c in type(a).model_fields):
        before = [_label(i, vocab) for i in getattr(a, coll)]
        after = [_label(i, vocab) for i in getattr(b, coll)]
        name = nouns[coll]
        for item in before:
            if item not in after:
                out.append(words.no_longer_among(item, name))
        for item in after:
            if item not in before:
                out.append(words.added_to(item, name))
    return out


def _differences_words(qid: str, old: Report, new: Report, ruleset: RuleSet) -> list[str]:
    """_differences for a reader: outcome labels and the meanings of codes."""
    a, b = old.question(qid), new.question(qid)
    vocab = ruleset.vocabulary
    title = vocab.question(qid).title
    out = []
    if a.outcome != b.outcome:
        label = vocab.outcome_labels
        out.append(words.answer_would_be(title, label.get(b.outcome, b.outcome),
                                         label.get(a.outcome, a.outcome)))
    nouns = vocab.list_nouns()

    def item_words(coll: str, item: Any) -> str:
        text, code = _item_words(item, coll, ruleset, vocab)
        text = words.record_words(text)
        return f"“{text}”" if code else text

    for coll in (c for c in vocab.list_labels() if c in type(a).model_fields):
        before = {_label(i, vocab): item_words(coll, i) for i in getattr(a, coll)}
        after = {_label(i, vocab): item_words(coll, i) for i in getattr(b, coll)}
        for key, text in before.items():
            if key not in after:
                out.append(words.no_longer_among(text, nouns[coll]))
        for key, text in after.items():
            if key not in before:
                out.append(words.added_to(text, nouns[coll]))
    return out


def _warning_words(old: Report, new: Report) -> list[str]:
    before = {w.code for w in old.warnings}
    after = {w.code: w.message for w in new.warnings}
    return ([words.warning_no_longer_raised(c, in_words=True)
             for c in sorted(before - set(after))]
            + [words.warning_raised(c, after[c]) for c in sorted(set(after) - before)])


def _warning_differences(old: Report, new: Report) -> list[str]:
    before = {w.code for w in old.warnings}
    after = {w.code for w in new.warnings}
    return ([words.warning_no_longer_raised(c) for c in sorted(before - after)]
            + [words.warning_raised(c) for c in sorted(after - before)])


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
                if var.startswith(QUESTION_PREFIX):
                    facts += reads.get(var.split(":", 1)[1], [])
                else:
                    facts.append(var)
        reads[qid] = list(dict.fromkeys(sorted(facts, key=order.index)))
        result.depends_on[qid] = [(f, words.fact_value(values[f])) for f in reads[qid]]
        result.decisive[qid] = []

    first = report.question_ids[0]  # warnings are told under the first question
    for fact in vocab.facts:
        value = values[fact]
        if value == UNKNOWN:
            continue
        for alternative in alternatives(case, ruleset, fact, value):
            variant_facts = {**values, fact: alternative}
            if not vocab.admissible(variant_facts, variant_facts):  # the case model's rules
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
                    said = _differences_words(qid, report, other, ruleset)
                    if qid == first:
                        said += _warning_words(report, other)
                    spec = vocab.facts[fact]
                    result.decisive[qid].append(
                        Change(fact, words.fact_value(value), words.fact_value(alternative),
                               tuple(effects), tuple(said), spec.words(value),
                               spec.words(alternative)))
    return result


# --------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class ItemDiff:
    """One list item that one report has and the other has not, with the rules that put it
    there (in the second report for an added item, in the first for a removed one)."""

    collection: str
    noun: str  # the list's noun in the vocabulary, e.g. "bases of persecution"
    words: str  # the item as a reader sees it: its label, or the code's meaning
    code: str | None  # the item's code, if it is one (shown in parentheses)
    added: bool
    rules: tuple[str, ...]
    cites: tuple[str, ...]


@dataclass(frozen=True)
class QuestionDiff:
    question: str
    before: str
    after: str
    changes: tuple[str, ...]  # each change in one neutral sentence (codes as in the lists)
    # the paragraphs of the rules that gave each report's outcome (their unconditional
    # outcome rules: none when the outcome rests on facts not given)
    outcome_cites_after: tuple[str, ...] = ()
    outcome_cites_before: tuple[str, ...] = ()
    possible_before: tuple[str, ...] = ()  # outcomes still open, when undetermined
    possible_after: tuple[str, ...] = ()
    items: tuple[ItemDiff, ...] = ()  # with the paragraphs of the rules that put each there

    @property
    def outcome_changed(self) -> bool:
        return self.before != self.after or self.possible_before != self.possible_after

    @property
    def changed(self) -> bool:
        return self.outcome_changed or bool(self.items)


def _key(item: Any) -> Any:
    """An item's identity, the same for a report's record and a rule's mapping."""
    if hasattr(item, "model_dump"):
        item = item.model_dump()
    return tuple(sorted(item.items())) if isinstance(item, dict) else item


def _unique(ids: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def _deciding(q: Any, ruleset: RuleSet) -> list[str]:
    """The rules whose unconditional reasons gave a question its outcome (none when the
    outcome rests on facts not given, or on several rules each deciding only in part)."""
    return [r.rule for r in q.reasons if not r.conditional
            and r.rule in ruleset.rules and ruleset.rules[r.rule].kind == "outcome"]


def _adders(q: Any, ruleset: RuleSet, coll: str, item: Any) -> list[str]:
    """The rules of a report's question that put an item in one of its lists."""
    key = _key(item)
    fired = [r.rule for r in q.reasons if not r.conditional and r.rule in ruleset.rules]
    return [rid for rid in fired
            if key in {_key(i) for i in ruleset.rules[rid].adds.get(coll, ())}]


def _cites(ruleset: RuleSet, rules: Any) -> tuple[str, ...]:
    return _unique(p for rid in rules for p in ruleset.rules[rid].cites)


def _item_words(item: Any, coll: str, ruleset: RuleSet, vocab: Any) -> tuple[str, str | None]:
    if not isinstance(item, str):
        return _label(item, vocab), None
    meaning = ruleset.edition.codes.get(coll, {}).get(item)
    return (meaning.strip().rstrip(".") if meaning else item), item


def compare(first: Report, second: Report, first_rules: RuleSet,
            second_rules: RuleSet) -> list[QuestionDiff]:
    """Per question of the second report, what differs from the first, and which rules of
    each rule set decided each difference (nothing is evaluated again)."""
    vocab = vocabulary_of_report(second)
    nouns = vocab.list_nouns()
    out = []
    for qid in second.question_ids:
        a, b = first.question(qid), second.question(qid)
        changes = tuple(words.made(c) for c in _differences(qid, first, second))
        items: list[ItemDiff] = []
        for coll in (c for c in vocab.list_labels() if c in type(b).model_fields):
            before, after = list(getattr(a, coll)), list(getattr(b, coll))
            keys_a, keys_b = {_key(i) for i in before}, {_key(i) for i in after}
            for added, report, rules, q, pool, other in (
                    (False, first, first_rules, a, before, keys_b),
                    (True, second, second_rules, b, after, keys_a)):
                for item in pool:
                    if _key(item) in other:
                        continue
                    said, code = _item_words(item, coll, rules, vocabulary_of_report(report))
                    adders = tuple(_adders(q, rules, coll, item))
                    items.append(ItemDiff(coll, nouns.get(coll, coll), said, code, added,
                                          adders, _cites(rules, adders)))
        out.append(QuestionDiff(
            qid, a.outcome, b.outcome, changes,
            _cites(second_rules, _deciding(b, second_rules)),
            _cites(first_rules, _deciding(a, first_rules)),
            tuple(a.possible_outcomes), tuple(b.possible_outcomes), tuple(items)))
    return out
