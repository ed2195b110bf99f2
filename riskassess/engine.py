"""evaluate(case, ruleset) -> Report. Pure: no I/O, no printing, no clock.

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

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from riskassess import __version__
from riskassess.assessment import (
    BracketSource,
    Citation,
    EditionRef,
    OpenQuestion,
    Reason,
    Report,
    RulesetInfo,
    Tool,
    Warning,
)
from riskassess.case import UNKNOWN, Case, date_bounds, fact_values
from riskassess.errors import RuleSetError
from riskassess.hypothesis import Words, describe, residual, sentence
from riskassess.hypothesis import variables as open_variables
from riskassess.ruleset import CompiledRule, EditionChoice, QuestionSpec, RuleSet
from riskassess.vocabulary import record_words

QUESTION_PREFIX = "question:"


class GapError(RuleSetError):
    """No outcome rule of a question applies to some case: the rule set is incomplete."""

    def __init__(self, ruleset_id: str, question: str, assignment: dict[str, Any]):
        self.question = question
        self.assignment = assignment
        shown = ", ".join(f"{k}={_show(v)}" for k, v in sorted(assignment.items()))
        super().__init__(f"rule set {ruleset_id}: no rule decides {question} when {shown}")


def _show(value: Any) -> str:
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(value)) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return "before the first threshold" if value == dt.date.min else f"from {value}"
    return str(value)


@dataclass
class _Effect:
    """How one unknown fact matters, for the open-questions list.

    kind is "outcome" (label: the outcomes still open), "item" (collection + label of an
    item it could add) or "warning" (label: the warning code)."""

    question: str
    kind: str
    label: str
    rule: str
    collection: str = ""


def _why(effects: list[_Effect], order: list[str], vocab: Any) -> str:
    """One sentence per fact: per question, what establishing the fact could change, in
    the vocabulary's words (question titles, outcome labels, list nouns).

    An outcome still open says it all for that question; otherwise the items it could add
    are listed per list, then the warnings it could raise."""
    nouns = vocab.list_nouns()
    titles = {q.id: q.title for q in vocab.questions}
    parts = []
    for qid in order:
        mine = [e for e in effects if e.question == qid]
        outcome = next((e for e in mine if e.kind == "outcome"), None)
        if outcome is not None:
            shown = " or ".join(f"“{vocab.outcome_labels.get(o, o)}”"
                                for o in outcome.label.split(" or "))
            parts.append(f"could decide {titles.get(qid, qid)} ({shown})")
            continue
        by_coll: dict[str, list[str]] = {}
        for e in mine:
            if e.kind == "item":
                by_coll.setdefault(e.collection, [])
                label = record_words(e.label)
                if label not in by_coll[e.collection]:
                    by_coll[e.collection].append(label)
        for coll, labels in by_coll.items():
            parts.append(f"could add {' or '.join(labels)} to the "
                         f"{nouns.get(coll, record_words(coll))} ({titles.get(qid, qid)})")
        for e in mine:
            text = f"could raise the warning “{record_words(e.label)}”"
            if e.kind == "warning" and text not in parts:
                parts.append(text)
    return "Establishing it " + "; ".join(parts) + "."


@dataclass
class _QuestionState:
    outcome: str
    possible_outcomes: tuple[str, ...]
    outcome_facts: set[str]  # unknown facts that could change the outcome
    collections: dict[str, list[Any]]
    possible: dict[str, list[Any]]
    reasons: list[Reason]
    warnings: list[Warning] = field(default_factory=list)


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


def date_candidates(value: Any, thresholds: tuple[dt.date, ...],
                    latest: dt.date | None = None) -> tuple[dt.date, ...]:
    """The values a date fact can take, as far as the rules can tell.

    Rules compare a date only with fixed thresholds t1 < t2 < ..., so every day of one
    interval (-inf, t1), [t1, t2), ..., [tn, +inf) behaves alike. Each interval is
    represented by its first day (date.min for the first). A known day is one interval;
    a partial date (2024) is every interval it overlaps; unknown is every interval; and
    `latest` (the assessment date, for facts in the past) cuts off later intervals."""
    starts = (dt.date.min, *thresholds)
    ends = (*thresholds, dt.date.max)
    if value == UNKNOWN:
        lo, hi = dt.date.min, dt.date.max
    else:
        lo, hi = date_bounds(value)
    if latest is not None:
        hi = min(hi, latest)
    found = tuple(start for start, end in zip(starts, ends, strict=True)
                  if lo < end and hi >= start)
    return found or starts[:1]



def _item_key(item: Any) -> Any:
    return tuple(sorted(item.items())) if isinstance(item, dict) else item


def _item_label(item: Any, vocab: Any) -> str:
    from riskassess.vocabulary import item_label

    return item_label(item, vocab)


class _Evaluator:
    def __init__(self, ruleset: RuleSet, values: dict[str, Any], assessment_date: dt.date):
        self.rs = ruleset
        self.vocab = ruleset.vocabulary
        self.domains = domains(self.vocab)
        self.values = values
        self.states: dict[str, _QuestionState] = {}
        self.effects: dict[str, list[_Effect]] = {}
        self.order = {rid: i for i, rid in enumerate(ruleset.rules)}
        self.dates = {
            path: date_candidates(values[path], ruleset.thresholds.get(path, ()),
                                  assessment_date
                                  if path in self.vocab.not_after_assessment else None)
            for path, spec in self.vocab.testable.items() if spec.kind == "date"
        }

    # -- variables -------------------------------------------------------------

    def _split(self, variables: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
        """Known values, and the unknown variables (sorted) to enumerate."""
        known: dict[str, Any] = {}
        unknown: list[str] = []
        for var in sorted(variables):
            if var.startswith(QUESTION_PREFIX):
                state = self.states[var[len(QUESTION_PREFIX):]]
                if len(state.possible_outcomes) == 1:
                    known[var] = state.possible_outcomes[0]
                else:
                    unknown.append(var)
            elif var in self.dates:
                if len(self.dates[var]) == 1:
                    known[var] = self.dates[var][0]
                else:
                    unknown.append(var)
            elif self.values[var] == UNKNOWN:
                unknown.append(var)
            else:
                known[var] = self.values[var]
        return known, unknown

    def _domain(self, var: str) -> tuple[Any, ...]:
        if var.startswith(QUESTION_PREFIX):
            return self.states[var[len(QUESTION_PREFIX):]].possible_outcomes
        if var in self.dates:
            return self.dates[var]
        return self.domains[var]

    def _completions(self, known: dict[str, Any], unknown: list[str]):
        """Every assignment of the unknown variables that a valid case file could have."""
        for combo in itertools.product(*(self._domain(v) for v in unknown)):
            completion = dict(zip(unknown, combo, strict=True))
            if self.vocab.admissible(self.values, completion):
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

    def _facts_behind(self, variables: Iterable[str]) -> list[str]:
        """Map variables to facts: an open earlier question stands for its open facts."""
        facts: list[str] = []
        for var in variables:
            if var.startswith(QUESTION_PREFIX):
                facts.extend(sorted(self.states[var[len(QUESTION_PREFIX):]].outcome_facts))
            else:
                facts.append(var)
        return list(dict.fromkeys(facts))

    def _note(self, variables: Iterable[str], effect: _Effect) -> None:
        for fact in self._facts_behind(variables):
            self.effects.setdefault(fact, []).append(effect)

    # -- questions -------------------------------------------------------------

    def question(self, q: QuestionSpec) -> tuple[_QuestionState, Any]:
        """Answer one question: from the cache when the same inputs were seen before.

        A question's result depends only on the values (or candidates) of the variables
        its rules read, and on which constraint-bearing facts were given; that is the
        cache key. What depends on earlier questions' open facts (their outcome facts,
        the open-question notes) is replayed, not cached."""
        key = self._key(q)
        cache = self.rs.cache
        hit = cache.get(key)
        if hit is None:
            self.recorded: list[tuple[list[str], _Effect]] = []
            state, outcome_vars = self._compute(q)
            model = self.vocab.question_model(q.id).model_validate({
                "outcome": state.outcome, **state.collections,
                "possible_outcomes": (list(state.possible_outcomes)
                                      if len(state.possible_outcomes) > 1 else []),
                "possible": state.possible, "reasons": state.reasons})
            hit = (state, outcome_vars, tuple(self.recorded), model)
            if len(cache) > 5_000:  # bounded, so memory stays flat over a long batch
                cache.clear()
            cache[key] = hit
        state, outcome_vars, notes, model = hit
        state = dataclasses.replace(state, outcome_facts=set(self._facts_behind(outcome_vars)))
        self.states[q.id] = state
        for variables, effect in notes:
            self._note(variables, effect)
        return state, model

    def _key(self, q: QuestionSpec) -> tuple:
        """What the question's answer depends on: the values its outcome rules read, and
        for each other rule its (cached) truth, with the open variables when unknown."""
        parts: list[Any] = [q.id]
        for rule in q.other_rules:
            truth, open_vars, _ = self._truth(rule)
            parts.append((truth, tuple(open_vars)) if truth is None else truth)
        for var in q.outcome_reads:
            if var.startswith(QUESTION_PREFIX):
                parts.append(self.states[var[len(QUESTION_PREFIX):]].possible_outcomes)
            elif var in self.dates:
                parts.append(self.dates[var])
            else:
                parts.append(self.values[var])
        parts.append(tuple(self.values[f] == UNKNOWN for f in self.vocab.given_only_if))
        # a given fact of an implication narrows the completions of the other one
        parts.append(tuple((self.values[i.fact], self.values[i.when_fact])
                           for i in self.vocab.implications))
        return tuple(parts)

    def _record(self, variables: list[str], effect: _Effect) -> None:
        self.recorded.append((list(variables), effect))

    def _compute(self, q: QuestionSpec) -> tuple[_QuestionState, list[str]]:
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
                self._record([var], _Effect(q.id, "outcome", " or ".join(swing),
                                            self._rules_reading(var, winners)))

        # A deciding rule's reason is unconditional when it decides in every completion,
        # or when it gives the fallback outcome that is reported whatever the facts.
        reasons = [self._reason(r, conditional=not (
            len(winners) == 1 or (not decided and r.outcome == q.if_undetermined)), q=q)
            for r in winners]

        collections: dict[str, list[tuple[int, Any]]] = {c: [] for c in q.collections}
        possible: dict[str, list[tuple[int, Any]]] = {}
        # items added by the deciding rule(s)
        for coll in q.collections:
            items = {}
            for r in winners:
                for item in r.adds.get(coll, ()):
                    items.setdefault(_item_key(item), (self.order[r.id], item))
            for key, (pos, item) in items.items():
                present = [(c, key in {_item_key(i) for i in r.adds.get(coll, ())})
                           for c, r in results]
                if all(p for _, p in present):
                    collections[coll].append((pos, item))
                else:
                    possible.setdefault(coll, []).append((pos, item))
                    for var in self._influential(unknown, present):
                        self._record([var], _Effect(q.id, "item",
                                                    _item_label(item, self.vocab),
                                                    self._rules_reading(var, winners), coll))

        warnings: list[Warning] = []
        for r in q.other_rules:
            truth, rvars, rresults = self._truth(r)
            if truth is False:
                continue
            if truth is True:
                reasons.append(self._reason(r, conditional=False))
                if r.kind == "warns":
                    warnings.append(Warning(code=r.warns, message=r.reasoning, rule=r.id,
                                            cites=list(r.cites)))
                for coll, items in r.adds.items():
                    for item in items:
                        collections[coll].append((self.order[r.id], item))
                continue
            reasons.append(self._reason(r, conditional=True))
            if r.kind == "warns":
                effects = [_Effect(q.id, "warning", r.warns or "", r.id)]
            else:
                effects = [_Effect(q.id, "item", _item_label(i, self.vocab), r.id, coll)
                           for coll, items in r.adds.items() for i in items]
            for coll, items in r.adds.items():
                for item in items:
                    possible.setdefault(coll, []).append((self.order[r.id], item))
            for var in self._influential(rvars, rresults):
                for effect in effects:
                    self._record([var], effect)

        def tidy(pairs: list[tuple[int, Any]], exclude: set | None = None) -> list[Any]:
            seen = set(exclude or ())
            out = []
            for _, item in sorted(pairs, key=lambda p: p[0]):
                key = _item_key(item)
                if key not in seen:
                    seen.add(key)
                    out.append(item)
            return out

        final = {c: tidy(v) for c, v in collections.items()}
        maybe = {c: tidy(v, {_item_key(i) for i in final.get(c, [])})
                 for c, v in sorted(possible.items())}
        state = _QuestionState(
            outcome=outcome,
            possible_outcomes=outcomes,
            outcome_facts=set(),
            collections=final,
            possible={c: v for c, v in maybe.items() if v},
            reasons=sorted(reasons, key=lambda r: self.order[r.rule]),
            warnings=warnings,
        )
        return state, outcome_vars

    def _rules_reading(self, var: str, rules: list[CompiledRule]) -> str:
        return ",".join(r.id for r in rules if var in r.condition.variables) or \
            ",".join(r.id for r in rules)

    def _truth(self, rule: CompiledRule) -> tuple[bool | None, list[str], list]:
        """Whether a rule applies: true, false, or None (depends on facts not given).

        Cached per rule and the values of the few variables it reads."""
        known, unknown = self._split(rule.condition.variables)
        key = ("rule", rule.id, tuple(sorted(known.items())),
               tuple((v, self._domain(v)) for v in unknown),
               (tuple(self.values[f] == UNKNOWN for f in self.vocab.given_only_if),
                tuple((self.values[i.fact], self.values[i.when_fact])
                      for i in self.vocab.implications))
               if unknown else ())
        hit = self.rs.cache.get(key)
        if hit is None:
            results = [(combo, rule.condition.test(a))
                       for combo, a in self._completions(known, unknown)]
            values = {v for _, v in results}
            hit = (values.pop() if len(values) == 1 else None, unknown, results)
            if len(self.rs.cache) > 5_000:
                self.rs.cache.clear()
            self.rs.cache[key] = hit
        return hit

    def _reason(self, rule: CompiledRule, *, conditional: bool,
                q: QuestionSpec | None = None) -> Reason:
        """A rule's reason; a conditional one begins with its hypothesis in words (the
        rule's condition on what the facts given leave open; for an outcome rule, also
        that no earlier outcome rule applies)."""
        plain = _reasons(self.rs)[rule.id]
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
            outcomes = {qid: s.possible_outcomes for qid, s in self.states.items()}
            facts = list(self.vocab.facts)
            open_vars = sorted(open_variables(rest), key=lambda v: (
                not v.startswith(QUESTION_PREFIX), facts.index(v) if v in facts else 0, v))
            known, unknown = self._split(open_vars)
            assignments = [a for _, a in self._completions(known, unknown)]
            words = describe(rest, open_vars, assignments, self._domain,
                             Words(self.vocab, outcomes, self.rs.thresholds))
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


def _ref(entry: Any) -> EditionRef | None:
    if entry is None:
        return None
    return EditionRef(id=entry.id, title=entry.title, in_force_from=entry.in_force_from,
                      encoded=entry.encoded)


@lru_cache(maxsize=16)
def _reasons(ruleset: RuleSet) -> dict[str, Reason]:
    """Each rule's unconditional reason: built once per rule set."""
    return {rid: Reason(rule=rid, text=r.reasoning, cites=list(r.cites))
            for rid, r in ruleset.rules.items()}


@lru_cache(maxsize=16)
def _citations(ruleset: RuleSet) -> dict[str, Citation]:
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
            source_short=s.short, section=p.section, references=p.references,
            footnote=p.footnote, facts=list(p.facts), url=s.url, bracket_sources=behind)
    return out


def evaluate(case: Case, ruleset: RuleSet, choice: EditionChoice,
             assessment_date: dt.date) -> Report:
    """Assess one case under one rule set; `choice` says how the edition was chosen."""
    ev = _Evaluator(ruleset, fact_values(case), assessment_date)
    questions: dict[str, Any] = {}
    rule_warnings: list[Warning] = []
    for q in ruleset.questions:
        state, questions[q.id] = ev.question(q)
        rule_warnings += state.warnings

    ed = ruleset.edition
    vocab = ruleset.vocabulary
    scope = vocab.scope
    # the country scope first: a report whose applicant's country is not given says so
    # before anything else (the wording is the vocabulary's)
    warnings = [Warning(code=scope.warning, message=" ".join(scope.message.split()))
                ] if ev.values.get(scope.fact, UNKNOWN) == UNKNOWN else []
    warnings += [Warning(code=code, message=message,
                        cites=list(ed.review_cites) if code == "guidance_under_review" else [])
                for code, message in choice.warnings] + rule_warnings

    question_ids = [q.id for q in ruleset.questions]
    open_questions = []
    for fact in vocab.facts:  # the vocabulary's order
        effects = ev.effects.get(fact)
        if not effects:
            continue
        affects = sorted({e.question for e in effects}, key=question_ids.index)
        rules = sorted({rid for e in effects for rid in e.rule.split(",")},
                       key=lambda rid: ev.order[rid])
        why = _why(effects, question_ids, vocab)
        if fact in ruleset.thresholds:  # say which dates matter, e.g. "before 2024-12-08"
            cuts = " or ".join(t.isoformat() for t in ruleset.thresholds[fact])
            why = why[:-1] + f"; what matters is whether it falls before or after {cuts}."
        open_questions.append(OpenQuestion(fact=fact, affects=affects, why=why, rules=rules))

    cited: list[str] = []
    for qid in question_ids:
        for r in questions[qid].reasons:
            cited.extend(r.cites)
    for w in warnings:
        cited.extend(w.cites)
    every = _citations(ruleset)
    citations = {pid: every[pid] for pid in dict.fromkeys(cited)}

    entry = choice.entry
    return vocab.report_model(
        tool=Tool(version=__version__),
        case_id=case.case_id,
        assessment_date=assessment_date,
        ruleset=RulesetInfo(id=ed.id, title=ed.title, in_force_from=ed.in_force_from,
                            under_review_from=ed.under_review_from,
                            superseded_on=ed.superseded_on, successor=entry.successor,
                            selected_by=choice.selected_by, sha256=ruleset.sha256,
                            in_force_on_assessment_date=_ref(choice.in_force),
                            newer_editions=[_ref(e) for e in choice.newer]),
        open_questions=open_questions,
        warnings=warnings,
        citations=citations,
        **questions,
    )


def question_outcome(ruleset: RuleSet, qid: str, values: dict[str, Any],
                     upstream: dict[str, tuple[str, ...]]) -> tuple[str, tuple[str, ...]]:
    """Run the engine on one question alone, for `rules check`.

    `values` gives some facts (the rest are unknown); `upstream` gives, for each earlier
    question, the outcomes still possible. Returns the outcome and the possible outcomes."""
    ev = _Evaluator(ruleset, {**{path: UNKNOWN for path in ruleset.vocabulary.facts}, **values},
                    dt.date.max)
    for up, outcomes in upstream.items():
        outcome = outcomes[0] if len(outcomes) == 1 else "undetermined"
        ev.states[up] = _QuestionState(outcome=outcome, possible_outcomes=outcomes,
                                       outcome_facts=set(),
                                       collections={}, possible={}, reasons=[])
    spec = next(q for q in ruleset.questions if q.id == qid)
    state, _ = ev.question(spec)
    return state.outcome, state.possible_outcomes
