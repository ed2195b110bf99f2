"""The engine: a question answered in parts, over every completion of the facts not given.

Pure: no I/O, no printing, no clock. evaluate.py runs it on a whole case (through the
compiled tables of compiled.py); `rules check` and the compiler call it part by part.

The engine knows no fact, question or outcome by name (nothing about Syria, ranks or
desertion): it runs whatever rules the rule set holds, over whatever facts its
vocabulary declares.

Three-valued logic, computed exactly
------------------------------------
A fact is known or ``unknown``. Rather than approximate with truth tables, the
engine asks what could happen: for the unknown variables a rule set actually reads
(facts, or earlier questions whose outcome is still open), it enumerates every
value they could take (their domains come from the case model) and evaluates the
rules on each completion. So:

* a question's outcome is decided when every completion gives the same outcome;
  otherwise it is ``undetermined`` (or the question's declared fallback), and the
  outcomes still open are listed;
* an item (a basis, a factor, a ground, a warning) is certain when every completion
  gives it and *possible* when only some do;
* an unknown fact is an *open question* when changing it alone changes an outcome,
  adds an item or raises a warning in some completion. These are computed from the
  rules, never listed by hand.

Outcome rules of a question are tried in file order and the first that applies
decides (a "first hit" decision table); `adds` and `warns` rules each apply on
their own. Only the variables a question reads are enumerated, so the cost stays
small: a handful of completions even when every fact is unknown.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from riskassess.engine.effect import Effect
from riskassess.engine.hypothesis import Words, describe, residual
from riskassess.engine.hypothesis import variables as open_variables
from riskassess.errors import RuleSetError
from riskassess.law.plain import QUESTION_PREFIX, set_signature
from riskassess.law.report import (
    BASES,
    BracketSource,
    Citation,
    Reason,
    Warning,
)
from riskassess.law.ruleset import CompiledRule, QuestionSpec, RuleSet
from riskassess.words import sentence, token


class GapError(RuleSetError):
    """No outcome rule of a question applies to some case: the rule set is incomplete."""

    def __init__(self, ruleset_id: str, question: str, assignment: dict[str, Any]):
        self.question = question
        self.assignment = assignment
        shown = ", ".join(f"{k}={token(v)}" for k, v in sorted(assignment.items()))
        super().__init__(f"rule set {ruleset_id}: no rule decides {question} when {shown}")


def _subsets(members: tuple[Any, ...]) -> tuple[frozenset, ...]:
    return tuple(frozenset(c) for n in range(len(members) + 1)
                 for c in itertools.combinations(members, n))


def domains(vocab: Any) -> dict[str, tuple[Any, ...]]:
    """Every value each enumerable fact of a vocabulary can take (built once per vocabulary)."""
    if "domains" not in vocab.models:
        vocab.models["domains"] = {
            path: (_subsets(spec.values) if spec.kind == "set" else spec.values)
            for path, spec in vocab.testable.items() if spec.kind != "date"}
    return vocab.models["domains"]


def set_classes(ruleset: RuleSet) -> dict[str, tuple[tuple[frozenset, ...], dict]]:
    """Per set fact the rule set may cut down: the code sets its `contains_any` conditions
    test, and one value standing for each class of values those tests and `empty` cannot
    tell apart (keyed by law/plain.py set_signature). A condition reads a set fact only
    through those two tests, so every value of a class answers every rule alike. Facts in
    the vocabulary's constraints keep every value (a constraint may read the value itself)."""
    found = ruleset.cache.get("set_classes")
    if found is None:
        vocab = ruleset.vocabulary
        constrained = {f for f, (other, _) in vocab.given_only_if.items()} | {
            other for other, _ in vocab.given_only_if.values()} | {
            p for i in vocab.implications for p in (i.fact, i.when_fact)}
        tests: dict[str, dict[frozenset, None]] = {
            p: {} for p, s in vocab.testable.items() if s.kind == "set" and p not in constrained}

        def walk(tree: tuple) -> None:
            if tree[0] in ("all", "any"):
                for c in tree[1]:
                    walk(c.tree)
            elif tree[0] == "not":
                walk(tree[1].tree)
            elif tree[0] == "fact" and tree[2] == "contains_any" and tree[1] in tests:
                tests[tree[1]].setdefault(frozenset(tree[3]), None)

        for rule in ruleset.rules.values():
            walk(rule.condition.tree)
        everything = domains(vocab)
        found = {}
        for path, seen in tests.items():
            ordered = tuple(sorted(seen, key=sorted))
            representatives: dict[tuple, frozenset] = {}
            for value in everything[path]:  # smallest values first
                representatives.setdefault(set_signature(value, ordered), value)
            found[path] = (ordered, representatives)
        ruleset.cache["set_classes"] = found
    return found


def rule_domains(ruleset: RuleSet) -> dict[str, tuple[Any, ...]]:
    """The vocabulary's domains as far as this rule set can tell values apart: each set
    fact's values cut down to one per class (set_classes). Checking and compiling enumerate
    these, not the 2^n subsets of a list of n codes."""
    found = ruleset.cache.get("domains")
    if found is None:
        found = dict(domains(ruleset.vocabulary))
        for path, (_, representatives) in set_classes(ruleset).items():
            found[path] = tuple(representatives.values())
        ruleset.cache["domains"] = found
    return found


def item_key(item: Any) -> Any:
    return tuple(sorted(item.items())) if isinstance(item, dict) else item


def _item_label(item: Any, vocab: Any) -> str:
    from riskassess.law.vocabulary import item_label

    return item_label(item, vocab)


# ---------------------------------------------------------------- parts of a question
#
# A question is answered in parts: its outcome rules together (first hit), and each of
# its other rules (adds, warns) alone. A part depends only on the variables its rules
# read, each seen as a *token*: a known value, or a tuple of the values it can still take
# (the case's constraints already applied, see compiled.py). So a part's result is a
# function of the tuple of its tokens, which compiled.py tabulates once per rule set.


@dataclass(frozen=True)
class OutcomePart:
    outcomes: tuple[str, ...]  # the outcomes still possible, in the question's order
    outcome: str  # the one reported (undetermined, or the fallback, when several)
    outcome_vars: tuple[str, ...]  # open variables that could change the outcome
    reasons: tuple[tuple[int, Reason], ...]  # (rule position, reason)
    certain: tuple[tuple[str, int, Any], ...]  # (list, rule position, item)
    possible: tuple[tuple[str, int, Any], ...]
    notes: tuple[tuple[tuple[str, ...], Effect], ...]  # open-question notes
    rests_on: tuple[str, ...] = ()  # the kinds of paragraph its deciding rules cite


@dataclass(frozen=True)
class RulePart:
    truth: bool | None  # None: depends on facts not given
    reason: tuple[int, Reason] | None
    warning: Warning | None
    certain: tuple[tuple[str, int, Any], ...]
    possible: tuple[tuple[str, int, Any], ...]
    notes: tuple[tuple[tuple[str, ...], Effect], ...]


def rule_positions(ruleset: RuleSet) -> dict[str, int]:
    return {rid: i for i, rid in enumerate(ruleset.rules)}


class PartEvaluator:
    """Computes parts from tokens. `tokens` maps each variable a part reads (a fact path,
    or question:<id>) to its token; `joint` are the implications whose two facts may both
    be open (checked on every completion that holds both)."""

    def __init__(self, ruleset: RuleSet, tokens: dict[str, Any],
                 joint: tuple[Any, ...] = ()):
        self.rs = ruleset
        self.vocab = ruleset.vocabulary
        self.tokens = tokens
        self.joint = joint
        self.order = rule_positions(ruleset)

    # -- variables -------------------------------------------------------------

    def _split(self, variables: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
        """Known values, and the open variables (sorted) to enumerate."""
        known: dict[str, Any] = {}
        unknown: list[str] = []
        for var in sorted(variables):
            token = self.tokens[var]
            if isinstance(token, tuple):
                unknown.append(var)
            else:
                known[var] = token
        return known, unknown

    def _domain(self, var: str) -> tuple[Any, ...]:
        return self.tokens[var]

    def _completions(self, known: dict[str, Any], unknown: list[str]):
        """Every assignment of the open variables that a valid case file could have."""
        joint = [i for i in self.joint if i.fact in unknown and i.when_fact in unknown]
        for combo in itertools.product(*(self.tokens[v] for v in unknown)):
            completion = dict(zip(unknown, combo, strict=True))
            if any(i.broken_by(completion[i.fact], completion[i.when_fact]) for i in joint):
                continue
            yield combo, {**known, **completion}

    def _influential(self, unknown: list[str], results: list[tuple[tuple, Any]]) -> list[str]:
        """Variables whose change alone changes the result in some completion."""
        return [var for var in unknown if self._swing(unknown, results, var)]

    @staticmethod
    def _swing(unknown: list[str], results: list[tuple[tuple, Any]], var: str) -> set:
        """The results that changing `var` alone moves between (empty: it changes nothing)."""
        i = unknown.index(var)
        groups: dict[tuple, set] = {}
        for combo, result in results:
            groups.setdefault(combo[:i] + combo[i + 1:], set()).add(result)
        return set().union(*(g for g in groups.values() if len(g) > 1))

    # -- the parts -------------------------------------------------------------

    def outcome_part(self, q: QuestionSpec) -> OutcomePart:
        """The question's outcome by first hit over every completion, the items its
        deciding rules add, and what the open variables could change."""
        notes: list[tuple[tuple[str, ...], Effect]] = []
        variables = set().union(*(r.condition.variables for r in q.outcome_rules))
        known, unknown = self._split(variables)
        results: list[tuple[tuple, CompiledRule]] = []
        for combo, assignment in self._completions(known, unknown):
            winner = next((r for r in q.outcome_rules if r.condition.test(assignment)), None)
            if winner is None:
                raise GapError(self.rs.id, q.id, assignment)
            results.append((combo, winner))

        winners = list(dict.fromkeys(r for _, r in results))
        outcomes = tuple(sorted({r.outcome for r in winners}, key=q.outcomes.index))
        decided = len(outcomes) == 1
        outcome = outcomes[0] if decided else (q.if_undetermined or "undetermined")

        by_outcome = [(c, r.outcome) for c, r in results]
        outcome_vars = self._influential(unknown, by_outcome)
        if not decided:
            for var in outcome_vars:
                swing = sorted(self._swing(unknown, by_outcome, var), key=q.outcomes.index)
                notes.append(((var,), Effect(q.id, "outcome", " or ".join(swing),
                                              self._rules_reading(var, winners))))

        # A deciding rule's reason is unconditional when it decides in every completion,
        # or when it gives the fallback outcome that is reported whatever the facts.
        reasons = [(self.order[r.id], self._reason(r, conditional=not (
            len(winners) == 1 or (not decided and r.outcome == q.if_undetermined)), q=q))
            for r in winners]

        certain: list[tuple[str, int, Any]] = []
        possible: list[tuple[str, int, Any]] = []
        for coll in q.collections:
            items = {}
            for r in winners:
                for item in r.adds.get(coll, ()):
                    items.setdefault(item_key(item), (self.order[r.id], item))
            for key, (pos, item) in items.items():
                present = [(c, key in {item_key(i) for i in r.adds.get(coll, ())})
                           for c, r in results]
                if all(p for _, p in present):
                    certain.append((coll, pos, item))
                else:
                    possible.append((coll, pos, item))
                    for var in self._influential(unknown, present):
                        notes.append(((var,), Effect(q.id, "item",
                                                      _item_label(item, self.vocab),
                                                      self._rules_reading(var, winners),
                                                      coll)))
        bases = {self.rs.basis(c) for r in winners for c in r.cites}
        return OutcomePart(outcomes, outcome, tuple(outcome_vars), tuple(reasons),
                           tuple(certain), tuple(possible), tuple(notes),
                           tuple(b for b in BASES if b in bases))

    def rule_part(self, r: CompiledRule) -> RulePart:
        """Whether an adds or warns rule applies (true, false, or open), and what follows."""
        known, unknown = self._split(r.condition.variables)
        results = [(combo, r.condition.test(a)) for combo, a in self._completions(known, unknown)]
        values = {v for _, v in results}
        truth = values.pop() if len(values) == 1 else None
        pos = self.order[r.id]
        if truth is False:
            return RulePart(False, None, None, (), (), ())
        items = tuple((coll, pos, item) for coll, its in r.adds.items() for item in its)
        if truth is True:
            warning = Warning(code=r.warns, message=r.reasoning, rule=r.id,
                              cites=list(r.cites)) if r.kind == "warns" else None
            return RulePart(True, (pos, self._reason(r, conditional=False)), warning,
                            items, (), ())
        if r.kind == "warns":
            effects = [Effect(r.question, "warning", r.warns or "", r.id)]
        else:
            effects = [Effect(r.question, "item", _item_label(i, self.vocab), r.id, coll)
                       for coll, its in r.adds.items() for i in its]
        notes = tuple(((var,), effect) for var in self._influential(unknown, results)
                      for effect in effects)
        return RulePart(None, (pos, self._reason(r, conditional=True)), None, (), items,
                        notes)

    def _rules_reading(self, var: str, rules: list[CompiledRule]) -> str:
        return ",".join(r.id for r in rules if var in r.condition.variables) or \
            ",".join(r.id for r in rules)

    def _reason(self, rule: CompiledRule, *, conditional: bool,
                q: QuestionSpec | None = None) -> Reason:
        """A rule's reason; a conditional one begins with its hypothesis in words (the
        rule's condition on what the facts given leave open; for an outcome rule, also
        that no earlier outcome rule applies)."""
        plain = reasons_of(self.rs)[rule.id]
        if not conditional:
            return plain
        node: Any = rule.condition
        if rule.kind == "outcome" and q is not None:
            earlier = q.outcome_rules[:q.outcome_rules.index(rule)]
            node = ("all", [rule.condition, *(("not", r.condition) for r in earlier)])
        rest = residual(node, self._leaf_truth)
        if isinstance(rest, bool):  # decided only jointly, by the facts' combination rules
            words, open_vars = "the facts not given turn out so", []
        else:
            outcomes = {var[len(QUESTION_PREFIX):]: (t if isinstance(t, tuple) else (t,))
                        for var, t in self.tokens.items() if var.startswith(QUESTION_PREFIX)}
            facts = list(self.vocab.facts)
            open_vars = sorted(open_variables(rest), key=lambda v: (
                not v.startswith(QUESTION_PREFIX), facts.index(v) if v in facts else 0, v))
            known, unknown = self._split(open_vars)
            assignments = [a for _, a in self._completions(known, unknown)]
            words = describe(rest, open_vars, assignments, self._domain,
                             Words(self.vocab, outcomes, self.rs.thresholds,
                                   set_classes(self.rs)))
        return plain.model_copy(update={
            "text": sentence(words, plain.text), "conditional": True,
            "hypothesis": words, "depends_on": open_vars})

    def _leaf_truth(self, leaf: Any) -> bool | None:
        """A single test's value when the facts given decide it, else None."""
        known, unknown = self._split(leaf.variables)
        if not unknown:
            return leaf.test(known)
        values = {leaf.test(a) for _, a in self._completions(known, unknown)}
        return values.pop() if len(values) == 1 else None


@lru_cache(maxsize=16)
def reasons_of(ruleset: RuleSet) -> dict[str, Reason]:
    """Each rule's unconditional reason: built once per rule set."""
    return {rid: Reason(rule=rid, text=r.reasoning, cites=list(r.cites),
                        quote=r.quote.model_dump() if r.quote else None)
            for rid, r in ruleset.rules.items()}


@lru_cache(maxsize=16)
def citations(ruleset: RuleSet) -> dict[str, Citation]:
    """Every paragraph as a report citation: built once per rule set."""
    out = {}
    labelled = ruleset.bracket_sources
    for pid, p in ruleset.paragraphs.items():
        s = ruleset.sources[p.source]
        behind = [BracketSource(label=label, source_id=b.id, title=b.title, author=b.author,
                                date=b.date, url=b.url)
                  for label in p.labels if (b := labelled.get(label)) is not None]
        out[pid] = Citation(
            source=f"{s.author}, {s.title}, {s.date}", locator=p.locator,
            summary=" ".join(p.summary.split()), gist=p.gist, source_id=s.id,
            source_short=s.short, basis=ruleset.basis(pid), section=p.section,
            references=p.references, footnote=p.footnote, facts=list(p.facts), url=s.url,
            bracket_sources=behind)
    return out
