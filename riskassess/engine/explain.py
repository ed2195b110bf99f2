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

from riskassess.engine.evaluate import evaluate
from riskassess.law.case import Case, given_facts, vocabulary_of, with_facts
from riskassess.law.dates import UNKNOWN, date_bounds
from riskassess.law.editions import EditionChoice
from riskassess.law.report import Report, vocabulary_of_report
from riskassess.law.ruleset import RuleSet, warning_rank
from riskassess.law.vocabulary import item_label


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
    words: tuple[str, ...] = ()  # the effects in the vocabulary's words, for documents
    given_words: str = ""  # the two values in words (FactSpec.words)
    alternative_words: str = ""

    def sentence(self) -> str:
        return (f"Had {self.fact} been {self.alternative} instead of {self.given}, "
                + "; ".join(self.effects) + ".")

    def prose(self, vocab: Any) -> str:
        """The same for a reader: the fact's label, values and effects in words."""
        return (f"Had {vocab.facts[self.fact].label_in_sentence} been "
                f"“{self.alternative_words}” instead of “{self.given_words}”, "
                + "; ".join(self.words or self.effects) + ".")


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


def _differences_words(qid: str, old: Report, new: Report, ruleset: RuleSet) -> list[str]:
    """_differences for a reader: outcome labels and the meanings of codes."""
    a, b = old.question(qid), new.question(qid)
    vocab = ruleset.vocabulary
    title = vocab.question(qid).title
    out = []
    if a.outcome != b.outcome:
        label = vocab.outcome_labels
        out.append(f"the answer on {title.lower()} would be “{label.get(b.outcome, b.outcome)}” "
                   f"instead of “{label.get(a.outcome, a.outcome)}”")
    nouns = vocab.list_nouns()

    def words(coll: str, item: Any) -> str:
        text, code = _item_words(item, coll, ruleset, vocab)
        text = text.replace("_", " ")
        return f"“{text}”" if code else text

    for coll in (c for c in vocab.list_labels() if c in type(a).model_fields):
        before = {_label(i, vocab): words(coll, i) for i in getattr(a, coll)}
        after = {_label(i, vocab): words(coll, i) for i in getattr(b, coll)}
        for key, text in before.items():
            if key not in after:
                out.append(f"{text} would no longer be among the {nouns[coll]}")
        for key, text in after.items():
            if key not in before:
                out.append(f"{text} would be added to the {nouns[coll]}")
    return out


def _warning_words(old: Report, new: Report) -> list[str]:
    before = {w.code for w in old.warnings}
    after = {w.code: w.message for w in new.warnings}
    return ([f"the warning on {c.replace('_', ' ')} would no longer be raised"
             for c in sorted(before - set(after))]
            + [f"a warning would be raised: “{after[c].rstrip('.')}”"
               for c in sorted(set(after) - before)])


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
                    words = _differences_words(qid, report, other, ruleset)
                    if qid == first:
                        words += _warning_words(report, other)
                    spec = vocab.facts[fact]
                    result.decisive[qid].append(
                        Change(fact, show(value), show(alternative), tuple(effects),
                               tuple(words), spec.words(value), spec.words(alternative)))
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


def _present(sentence: str) -> str:
    """'... would be added to ...' -> '... is added to ...' (a change made, not supposed)."""
    for was, now in ((" would be added to ", " is added to "),
                     (" would no longer be ", " is no longer "), (" would be ", " becomes ")):
        sentence = sentence.replace(was, now)
    return sentence


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
        changes = tuple(_present(c) for c in _differences(qid, first, second))
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
                    words, code = _item_words(item, coll, rules, vocabulary_of_report(report))
                    adders = tuple(_adders(q, rules, coll, item))
                    items.append(ItemDiff(coll, nouns.get(coll, coll), words, code, added,
                                          adders, _cites(rules, adders)))
        out.append(QuestionDiff(
            qid, a.outcome, b.outcome, changes,
            _cites(second_rules, _deciding(b, second_rules)),
            _cites(first_rules, _deciding(a, first_rules)),
            tuple(a.possible_outcomes), tuple(b.possible_outcomes), tuple(items)))
    return out


def _sorted_warnings(report: Report, ruleset: RuleSet) -> list[Any]:
    """A report's warnings, most severe first (ruleset.warning_rank, as in the documents'
    headers), then the others in the report's order."""
    rank = warning_rank(ruleset)
    return [w for _, w in sorted(enumerate(report.warnings),
                                 key=lambda p: (rank.get(p[1].code, len(rank)), p[0]))]


def _edition_status(report: Report) -> str:
    e, day = report.ruleset, report.assessment_date
    current = e.in_force_on_assessment_date
    if current is not None and current.id == e.id:
        return "in force on the assessment date"
    if day < e.in_force_from:
        return ("not yet in force on the assessment date (in force from "
                f"{e.in_force_from.isoformat()})")
    if e.superseded_on and day >= e.superseded_on:
        return f"superseded on {e.superseded_on.isoformat()}, before the assessment date"
    return "not the edition in force on the assessment date"


def _paragraphs(prefix: str, report: Report, pids: tuple[str, ...],
                shown: set[str]) -> list[str]:
    """Paragraph lines: a paragraph with its source, locator and gist the first time it is
    shown (`shown` collects them), later by its id only."""
    out, again = [], []
    for pid in pids:
        c = report.citations.get(pid)
        if pid in shown or c is None:
            again.append(f"[{pid}]")
        else:
            out.append(f"    {prefix} [{pid}] {c.source_short}, {c.locator}: {c.gist}")
        shown.add(pid)
    if again:
        out.append(f"    {prefix} (as above): {', '.join(again)}")
    return out


def describe_comparison(first: Report, second: Report, first_rules: RuleSet,
                        second_rules: RuleSet, titles: dict[str, str] | None = None) -> list[str]:
    """The comparison of one case under two editions, as lines of text for a person: the
    two editions and the one in force, both editions' warnings, then per question what
    changed under the second edition and the paragraphs of the rules that decided it.

    `titles` (edition id -> the catalog's title) gives the short names used in sentences;
    without it, the rule sets' own titles are used."""
    vocab = vocabulary_of_report(second)
    labels = vocab.outcome_labels
    ea, eb = first.ruleset, second.ruleset
    titles = titles or {}
    long_a, long_b = f"'{ea.title}' ({ea.id})", f"'{eb.title}' ({eb.id})"
    name_a = f"'{titles.get(ea.id, ea.title)}' ({ea.id})"
    name_b = f"'{titles.get(eb.id, eb.title)}' ({eb.id})"
    why = "the facts are the same, so this comes from the change of edition."

    def outcome(code: str) -> str:
        return f'"{labels.get(code, code)}" ({code})'

    def open_between(possible: tuple[str, ...]) -> str:
        words = [outcome(p) for p in possible]
        return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 2 else words)

    lines = [f"Case {second.case_id or '(no id)'}, assessed on "
             f"{second.assessment_date.isoformat()} under two editions:",
             f"  first:  {long_a}, {_edition_status(first)};",
             f"  second: {long_b}, {_edition_status(second)}."]
    current = eb.in_force_on_assessment_date
    lines.append("  In force on the assessment date: " + (
        f"'{current.title}' ({current.id}{'' if current.encoded else ', not encoded'})."
        if current is not None else "no catalogued edition."))
    lines.append("  Both assessments read the same case file, so the facts are the same: every "
                 "difference below comes from the change of edition, not from the facts.")
    for report, rules, name in ((first, first_rules, name_a), (second, second_rules, name_b)):
        warnings = _sorted_warnings(report, rules)
        lines.append(f"\nWarnings under {name}" + (", most severe first:" if warnings
                                                   else ": none"))
        for w in warnings:
            lines.append(f"  WARNING {w.code}: {' '.join(w.message.split())}")

    headings = {q.id: q.heading for q in second_rules.questions}
    for diff in compare(first, second, first_rules, second_rules):
        shown: set[str] = set()  # paragraphs already shown under this question
        lines.append(f"\n{headings.get(diff.question, diff.question)}")
        if not diff.changed:
            lines.append(f"  Outcome: {outcome(diff.after)} under both editions (unchanged)")
            continue
        if not diff.outcome_changed:
            lines.append(f"  Outcome: {outcome(diff.after)} under both editions "
                         "(same outcome; lists CHANGED)")
        elif diff.before != diff.after:
            lines += [f"  Outcome: {outcome(diff.before)} -> {outcome(diff.after)} (CHANGED)",
                      f"  - Under {name_b}, the outcome is {outcome(diff.after)} instead of "
                      f"{outcome(diff.before)} under {name_a}; {why}"]
            if diff.possible_after:
                lines.append(f"    It is open between {open_between(diff.possible_after)}, "
                             "depending on facts not given.")
        else:  # open under both, between other outcomes
            lines += [f"  Outcome: {outcome(diff.after)} under both editions (open between "
                      "other outcomes; CHANGED)",
                      f"  - Under {name_b}, the outcome is still {outcome(diff.after)}, but "
                      f"open between {open_between(diff.possible_after)} instead of "
                      f"{open_between(diff.possible_before)} under {name_a}; {why}"]
        if diff.outcome_changed:
            if diff.outcome_cites_after:
                lines += _paragraphs("explained by", second, diff.outcome_cites_after, shown)
            else:
                lines.append(f"    No single rule of {eb.id} decides it on the facts given, so "
                             "no paragraph is cited for it.")
            lines += _paragraphs("previously relied on", first, diff.outcome_cites_before,
                                 shown)
        for item in diff.items:
            what = f'"{item.words}"' + (f" ({item.code})" if item.code else "")
            if item.added:
                lines.append(f"  - Under {name_b}, {what} is now listed among the {item.noun} "
                             f"(not listed under {name_a}); {why}")
                lines += _paragraphs("explained by", second, item.cites, shown)
            else:
                lines.append(f"  - Under {name_b}, {what} is no longer listed among the "
                             f"{item.noun} (listed under {name_a}); {why}")
                lines += _paragraphs("previously relied on", first, item.cites, shown)
            if not item.cites:
                lines.append("    No single rule put it there on the facts given, so no "
                             "paragraph is cited for it.")
    return lines
