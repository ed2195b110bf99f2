"""A rule set compiled to tables, and reports assembled from bytes.

The engine (parts.py) answers a question in *parts*: its outcome rules together, and
each other rule alone. A part reads a few variables, and what it concludes depends
only on how each of them stands in the case, its *token*: a known value, or the tuple
of the values it can still take (after the vocabulary's constraints, given the facts
that are known). Those tokens take few values, so a `Program` computes every part for
every combination of its tokens once, when the rule set is compiled, and keeps the
result with its report fragments already serialised as JSON bytes. Assessing a case
is then: the case's tokens, one table lookup per part, and joining bytes.

The bytes are exactly pydantic's compact JSON of the report models (law/report.py):
`evaluate()` parses them back into a `Report`, and tests compare both with the
reports of the engine before compilation, over the examples and 10,000 generated cases.

Nothing here knows a fact, a question or an outcome by name.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from operator import attrgetter, itemgetter
from typing import Any

from riskassess.engine.effect import Effect
from riskassess.law.dates import date_candidates
from riskassess.law.plain import QUESTION_PREFIX, UNKNOWN, set_signature
from riskassess.words import why_parts, why_sentence, why_words

# Caches of results per combination, bounded so that memory stays flat over a batch of
# any size: questions' merged results (a few KB each), and reports but for their case id and
# date (`_Whole`, whose pieces are shared, but which holds its questions' merged results:
# 5,000 of them put a batch of 100,000 cases at 127 MiB where 1,000 keep it under 80).
MERGED_KEPT = 1_000
WHOLES_KEPT = 1_000
WORDS_KEPT = 5_000  # open questions' JSON
MEMO_SPACE = 100_000  # a question whose variables take at most this many combinations...
MEMO_KEPT = 5_000  # ...keeps this many of its results by combination
SIGNATURES_KEPT = 10_000  # set facts' values (a few codes each) and their classes
LISTS_KEPT = 5_000  # JSON lists of cites, open facts, warning codes
NARROWED_KEPT = 20_000  # open facts' narrowed tokens, by the values their constraints read


# json.dumps(value, ensure_ascii=False, separators=(",", ":")), without making an encoder
# at every call (which json.dumps does for any option not its default)
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dumps(value: Any) -> bytes:
    """A JSON value as pydantic writes it (compact, UTF-8, nothing escaped beyond JSON's)."""
    return _ENCODE(value).encode()


def _string(text: str) -> bytes:
    """A string as `_dumps` writes it, without the encoder for the most common (a file's
    name in printable ASCII but '"' and '\\': nothing to escape)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return b'"' + text.encode() + b'"'
    return _dumps(text)


_DATES: dict[dt.date, bytes] = {}  # a day -> its JSON (a caseload has few distinct days)


def _date(day: dt.date | None) -> bytes:
    if day is None:
        return b"null"
    found = _DATES.get(day)
    if found is None:
        if len(_DATES) > 10_000:
            _DATES.clear()
        found = _DATES[day] = b'"' + day.isoformat().encode() + b'"'
    return found


class _Item:
    """A list item of a part, with its JSON in its list and in `possible`."""

    __slots__ = ("coll", "pos", "key", "listed", "maybe", "item")

    def __init__(self, coll: str, pos: int, key: Any, listed: bytes, maybe: bytes, item: Any):
        self.coll, self.pos, self.key, self.listed, self.maybe = coll, pos, key, listed, maybe
        self.item = item


class _Part:
    """A computed part, ready to join: its reasons, items, warning and notes as bytes."""

    __slots__ = ("outcomes", "token", "outcome", "outcome_vars", "reasons", "certain",
                 "possible", "warning", "notes", "rests_on")

    def __init__(self, **kw: Any):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))


class _Question:
    """What the program knows of one question: its getters, tables and JSON layout."""

    def __init__(self, qid: str, fields: list[str], outcome_vars: tuple[str, ...],
                 rule_vars: list[tuple[str, ...]]):
        self.id = qid
        self.var = QUESTION_PREFIX + qid
        self.key = b'"' + qid.encode() + b'":'
        self.fields_order = [f for f in fields if f != "outcome"]  # the model's JSON order
        self.outcome_vars = outcome_vars
        self.outcome_get = _getter(outcome_vars)
        self.rule_vars = rule_vars
        self.rule_gets = [_getter(v) for v in rule_vars]
        self.outcome_table: dict[Any, _Part] = {}
        self.rule_tables: list[dict[Any, _Part]] = [{} for _ in rule_vars]
        self.merged: dict[tuple, _Merged] = {}
        # the earlier questions this one's rules read: their outcomes (the gate) often
        # settle most rules (not in the profile: no factor applies), see `plan`
        self.gate = tuple(sorted({v for vs in (outcome_vars, *rule_vars) for v in vs
                                  if v.startswith(QUESTION_PREFIX)}))
        self.gate_get = _getter(self.gate)
        self.plans: dict[Any, tuple] = {}
        # every variable the question reads: where their tokens can take few combinations
        # (`plan` says), the merged result per combination, so that a case takes one lookup
        self.every_get = _getter(tuple(sorted({v for vs in (outcome_vars, *rule_vars)
                                               for v in vs})))
        self.memo: dict[Any, _Merged] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # keyed by ids, or holding what is: meaningless elsewhere
        return {**self.__dict__, "merged": {},
                "memo": None if self.memo is None else {}}

    def plan(self, spaces: dict[str, list[Any]]) -> None:
        """For each value of the gate: the rules it leaves open (to look up per case) and
        the part of every other rule (the same whatever the rest of the case). And whether
        the question's variables take few enough combinations to keep its result per
        combination (`memo`)."""
        every = {v for vs in (self.outcome_vars, *self.rule_vars) for v in vs}
        combinations = 1
        for v in every:
            combinations *= len(spaces[v])
        self.memo = {} if combinations <= MEMO_SPACE else None
        for combo in itertools.product(*(spaces[v] for v in self.gate)):
            gate = dict(zip(self.gate, combo, strict=True))
            fixed: list[Any] = []
            live: list[int] = []
            for i, (variables, table) in enumerate(zip(self.rule_vars, self.rule_tables,
                                                       strict=True)):
                spots = [(j, gate[v]) for j, v in enumerate(variables) if v in gate]
                found = {id(part): part for key, part in table.items()
                         if all((key if len(variables) == 1 else key[j]) == t
                                for j, t in spots)}
                if len(found) == 1:
                    fixed.append(next(iter(found.values())))
                else:
                    fixed.append(None)
                    live.append(i)
            self.plans[_key(combo) if combo else ()] = (
                tuple(fixed), tuple(live), tuple(self.rule_gets[i] for i in live),
                tuple(self.rule_tables[i] for i in live))


def _getter(variables: tuple[str, ...]):
    """tokens -> the table key of a part reading `variables`: the token of a single
    variable, the tuple of several (see `_key`)."""
    if not variables:
        return _nothing
    return itemgetter(*variables)


def _nothing(tokens: dict) -> tuple:
    return ()


def _key(combo: tuple) -> Any:
    """The table key `_getter` gives for a combination of tokens."""
    return combo[0] if len(combo) == 1 else combo


class Program:
    """One rule set, compiled: `report_json(...)` gives a case's report as bytes."""

    def __init__(self, ruleset: Any, *, build: bool = True):
        from riskassess import __version__
        from riskassess.engine.parts import citations, rule_domains, rule_positions, set_classes
        from riskassess.law.report import FORMAT, Tool, question_model

        self.ruleset = ruleset
        vocab = ruleset.vocabulary
        self.vocab = vocab
        self.id = ruleset.id
        self.sha256 = ruleset.sha256
        self.misses = 0  # part computations not found in the tables (should stay 0)
        self.domains = rule_domains(ruleset)
        # set facts whose values are cut down to classes: the code sets the rules test, and
        # the value standing for each class
        self.classes = set_classes(ruleset)
        self.thresholds = dict(ruleset.thresholds)
        self.facts = [p for p, s in vocab.testable.items()]
        self.dates = [p for p, s in vocab.testable.items() if s.kind == "date"]
        self.plain = [p for p in self.facts if p not in self.dates]
        self.not_after = vocab.not_after_assessment
        self.implications = tuple(vocab.implications)
        self.scope_fact = vocab.scope.fact
        self.scope_warning = (_warning_bytes(vocab.scope.warning,
                                             " ".join(vocab.scope.message.split()), None, []),
                              (), vocab.scope.warning)
        self.tool = Tool(version=__version__).model_dump_json().encode()
        self.head = b'{"format":' + str(FORMAT).encode() + b',"tool":' + self.tool + \
            b',"case_id":'
        self.review_cites = list(ruleset.edition.review_cites)
        self.question_ids = [q.id for q in ruleset.questions]
        ed = ruleset.edition
        self.edition = (ed.id, ed.title, ed.in_force_from, ed.under_review_from,
                        ed.superseded_on)
        self.directory = ruleset.directory
        self.why_words = why_words(vocab)
        self.fact_order = list(vocab.facts)
        # constraints per fact: (facts whose being given narrows it, and to what),
        # implications where it is the fact, and where it is the condition
        self.narrowing: dict[str, tuple] = {}
        for path in self.facts:
            gi = tuple((f, allowed) for f, (other, allowed) in vocab.given_only_if.items()
                       if other == path)
            as_fact = tuple(i for i in self.implications if i.fact == path)
            as_when = tuple(i for i in self.implications if i.when_fact == path)
            if gi or as_fact or as_when:
                self.narrowing[path] = (gi, as_fact, as_when)
        self._narrowed: dict[tuple, tuple] = {}
        self._narrowed_by_values: dict[tuple, tuple] = {}
        # the facts each narrowed fact's constraints read, as one getter of their values
        self._narrowing_reads = {
            path: _getter(tuple(dict.fromkeys([*(f for f, _ in gi),
                                               *(i.when_fact for i in as_fact),
                                               *(i.fact for i in as_when)])))
            for path, (gi, as_fact, as_when) in self.narrowing.items()}
        self._candidates: dict[tuple, tuple] = {}
        self._choices: dict[tuple, bytes] = {}
        self._open_questions: dict[tuple, bytes] = {}
        self._warnings: dict[tuple, list] = {}
        self._wholes: dict[tuple, _Whole] = {}
        self._why_parts: dict[tuple, list] = {}
        self.positions = rule_positions(ruleset)
        self._last_choice: dict[int, tuple] = {}
        self._choice_keys: dict[int, tuple] = {}
        self._lists: dict[tuple, bytes] = {}
        self._signatures: dict[tuple, Any] = {}  # (set fact, value) -> its class's token
        self.citations = {pid: _dumps(pid) + b":" + c.model_dump_json().encode()
                          for pid, c in citations(ruleset).items()}
        self.questions: list[_Question] = []
        for q in ruleset.questions:
            model = question_model(vocab, q.id)
            rule_vars = [tuple(sorted(r.condition.variables)) for r in q.other_rules]
            self.questions.append(_Question(q.id, list(model.model_fields),
                                            tuple(sorted(q.outcome_reads)), rule_vars))
        self._adapters: dict[tuple[str, str], Any] = {}
        self._interned: dict[tuple, _Part] = {}
        if build:
            self._build()

    # -- tokens ----------------------------------------------------------------

    def tokens(self, values: dict[str, Any], day: dt.date) -> dict[str, Any]:
        """How each fact stands in a case: its value, or the values it can still take."""
        doms = self.domains
        tokens = values.copy()
        for path in self.plain:
            if tokens[path] == UNKNOWN:
                tokens[path] = doms[path]
        signatures = self._signatures
        for path, (tests, representatives) in self.classes.items():
            value = tokens[path]
            if value.__class__ is frozenset:
                found = signatures.get((path, value))
                if found is None:
                    if len(signatures) > SIGNATURES_KEPT:
                        signatures.clear()
                    found = signatures[(path, value)] = \
                        representatives[set_signature(value, tests)]
                tokens[path] = found
        for path in self.dates:
            value = values[path]
            key = (path, value, day if path in self.not_after else None)
            found = self._candidates.get(key)
            if found is None:
                found = self._candidates[key] = date_candidates(
                    value, self.thresholds.get(path, ()), key[2])
            tokens[path] = found[0] if len(found) == 1 else found
        quick = self._narrowed_by_values
        for path, (gi, as_fact, as_when) in self.narrowing.items():
            token = tokens[path]
            if token.__class__ is not tuple:
                continue
            # by the values of the facts its constraints read, at once; else by what the
            # constraints see of them (whether given; the values), computed and kept
            seen = (path, token, self._narrowing_reads[path](values))
            narrowed = quick.get(seen)
            if narrowed is None:
                inputs = (tuple([values[f] != UNKNOWN for f, _ in gi]),
                          tuple([values[i.when_fact] for i in as_fact]),
                          tuple([values[i.fact] for i in as_when]))
                key = (path, token, inputs)
                narrowed = self._narrowed.get(key)
                if narrowed is None:
                    narrowed = self._narrowed[key] = self._narrow(path, token, inputs)
                if len(quick) > NARROWED_KEPT:
                    quick.clear()
                quick[seen] = narrowed
            tokens[path] = narrowed
        return tokens

    def _narrow(self, path: str, token: tuple, inputs: tuple) -> tuple:
        """The values an open fact can take, given what its constraints' other facts are."""
        gi, as_fact, as_when = self.narrowing[path]
        given, whens, facts = inputs
        out = []
        for x in token:
            if any(g and x not in allowed for g, (_, allowed) in zip(given, gi, strict=True)):
                continue
            if any(i.broken_by(x, w) for i, w in zip(as_fact, whens, strict=True)):
                continue
            if any(i.broken_by(f, x) for i, f in zip(as_when, facts, strict=True)):
                continue
            out.append(x)
        return tuple(out)

    # -- compiling -------------------------------------------------------------

    def _spaces(self) -> dict[str, list[Any]]:
        """Every token each variable can have in a valid case."""
        spaces: dict[str, list[Any]] = {}
        for path in self.facts:
            if path in self.dates:
                reps = (dt.date.min, *self.thresholds.get(path, ()))
                opens = [reps[i:j] for i in range(len(reps)) for j in range(i + 2, len(reps) + 1)]
                known = list(reps)
            else:
                opens = [self.domains[path]]
                known = list(self.domains[path])
            if path in self.narrowing:
                opens = list(dict.fromkeys(self._narrow(path, t, inputs) for t in opens
                                           for inputs in self._input_space(path)))
            spaces[path] = known + [t for t in opens if t]
        for q in self.ruleset.questions:
            outs = q.outcomes
            spaces[QUESTION_PREFIX + q.id] = list(outs) + [
                tuple(c) for n in range(2, len(outs) + 1) for c in itertools.combinations(outs, n)]
        return spaces

    def _raw_space(self, path: str) -> list[Any]:
        """Values a fact can have in a case file, as far as a constraint can tell them apart."""
        if path in self.dates:
            days = {*self.thresholds.get(path, ()),
                    *(i.when_date for i in self.implications if i.when_date is not None)}
            return [UNKNOWN, *sorted(d.isoformat() for d in days), "1900"]
        return [UNKNOWN, *self.domains[path]]

    def _input_space(self, path: str):
        gi, as_fact, as_when = self.narrowing[path]
        return itertools.product(
            itertools.product((True, False), repeat=len(gi)),
            itertools.product(*(self._raw_space(i.when_fact) for i in as_fact)),
            itertools.product(*(self._raw_space(i.fact) for i in as_when)))

    def _build(self) -> None:
        from riskassess.engine.parts import GapError

        spaces = self._spaces()
        for spec, q in zip(self.ruleset.questions, self.questions, strict=True):
            for combo in itertools.product(*(spaces[v] for v in q.outcome_vars)):
                tokens = dict(zip(q.outcome_vars, combo, strict=True))
                try:
                    q.outcome_table[_key(combo)] = self._outcome_part(spec, tokens)
                except GapError:  # no case reaches it, or `rules check` reports it
                    continue
            for i, (rule, variables) in enumerate(zip(spec.other_rules, q.rule_vars,
                                                      strict=True)):
                for combo in itertools.product(*(spaces[v] for v in variables)):
                    tokens = dict(zip(variables, combo, strict=True))
                    q.rule_tables[i][_key(combo)] = self._rule_part(spec, rule, tokens)
            q.plan(spaces)

    def _evaluator(self, tokens: dict[str, Any]):
        from riskassess.engine.parts import PartEvaluator

        return PartEvaluator(self._ruleset(), tokens, self.implications)

    def _ruleset(self) -> Any:
        """The rule set compiled (reloaded from its files if this program came from the
        cache, for a part the tables lack)."""
        if self.ruleset is None:
            from riskassess.law.ruleset import load_ruleset

            self.ruleset = load_ruleset(self.directory)
            self.vocab = self.ruleset.vocabulary
        return self.ruleset

    def __getstate__(self) -> dict[str, Any]:
        """What the cache keeps: tables and bytes, not the rule set (its conditions are
        code) nor pydantic's adapters."""
        state = {k: getattr(self, k) for k in self.__dict__}
        # caches keyed by objects' ids mean nothing in another process: they go, with the
        # rest of what was learnt from cases
        state.update(ruleset=None, vocab=None, _adapters={}, _open_questions={},
                     _why_parts={}, _wholes={}, _last_choice={}, _choice_keys={},
                     _signatures={}, _lists={}, _warnings={}, _narrowed={}, _candidates={},
                     _narrowed_by_values={},
                     misses=0)
        return state



    def _intern(self, part: _Part) -> _Part:
        """One object per distinct part, so that equal parts (most rules are false in most
        cases) have one id: merges are cached by the ids of their parts."""
        key = (part.outcomes, part.outcome, part.outcome_vars, part.reasons,
               tuple((i.coll, i.pos, i.key) for i in part.certain),
               tuple((i.coll, i.pos, i.key) for i in part.possible),
               part.warning, part.notes, part.rests_on)
        return self._interned.setdefault(key, part)

    def _outcome_part(self, spec: Any, tokens: dict[str, Any]) -> _Part:
        part = self._evaluator(tokens).outcome_part(spec)
        return self._intern(_Part(
            outcomes=part.outcomes,
            token=part.outcomes[0] if len(part.outcomes) == 1 else part.outcomes,
            outcome=part.outcome, outcome_vars=part.outcome_vars,
            reasons=tuple(_reason(pos, r) for pos, r in part.reasons),
            certain=tuple(self._item(spec.id, c, pos, it) for c, pos, it in part.certain),
            possible=tuple(self._item(spec.id, c, pos, it) for c, pos, it in part.possible),
            warning=None, notes=part.notes, rests_on=part.rests_on))

    def _rule_part(self, spec: Any, rule: Any, tokens: dict[str, Any]) -> _Part:
        part = self._evaluator(tokens).rule_part(rule)
        reasons = () if part.reason is None else (_reason(*part.reason),)
        warning = None if part.warning is None else (
            part.warning.model_dump_json().encode(), tuple(part.warning.cites),
            part.warning.code)
        return self._intern(_Part(
            reasons=reasons,
            certain=tuple(self._item(spec.id, c, pos, it) for c, pos, it in part.certain),
            possible=tuple(self._item(spec.id, c, pos, it) for c, pos, it in part.possible),
            warning=warning, notes=part.notes))

    def _item(self, qid: str, coll: str, pos: int, item: Any) -> _Item:
        from riskassess.engine.parts import item_key

        return _Item(coll, pos, item_key(item), self._item_json(qid, coll, item, False),
                     self._item_json(qid, "possible", item, True), item)

    def _item_json(self, qid: str, field: str, item: Any, maybe: bool) -> bytes:
        """An item's JSON as the question model's field serialises it."""
        from pydantic import TypeAdapter

        from riskassess.law.report import question_model

        adapter = self._adapters.get((qid, field))
        if adapter is None:
            ann = question_model(self._ruleset().vocabulary, qid).model_fields[field].annotation
            if maybe:  # dict[str, list[item]]: the list type
                ann = ann.__args__[1]
            adapter = self._adapters[(qid, field)] = TypeAdapter(ann)
        return adapter.dump_json(adapter.validate_python([item]))[1:-1]

    def _lookup(self, q: _Question, index: int | None, key: Any) -> _Part:
        """A part whose tokens the tables lack (they should not): computed and kept."""
        self.misses += 1
        spec = next(s for s in self._ruleset().questions if s.id == q.id)
        variables = q.outcome_vars if index is None else q.rule_vars[index]
        combo = (key,) if len(variables) == 1 else key
        tokens = dict(zip(variables, combo, strict=True))
        if index is None:
            part = q.outcome_table[key] = self._outcome_part(spec, tokens)
        else:
            part = q.rule_tables[index][key] = self._rule_part(spec, spec.other_rules[index],
                                                               tokens)
        return part

    # -- assessing -------------------------------------------------------------

    def run(self, values: dict[str, Any], day: dt.date) -> list[tuple[_Question, _Merged]]:
        """Each question's merged result for a case: (question, merged)."""
        tokens = self.tokens(values, day)
        out = []
        for q in self.questions:
            memo = q.memo
            if memo is not None:  # a question of few variables: its result at once
                every_token = q.every_get(tokens)
                merged = memo.get(every_token)
                if merged is not None:
                    tokens[q.var] = merged.opart.token
                    out.append((q, merged))
                    continue
            key = q.outcome_get(tokens)
            opart = q.outcome_table.get(key) or self._lookup(q, None, key)
            gate = q.gate_get(tokens)
            plan = q.plans.get(gate)
            if plan is None:  # a gate the tables did not foresee: every rule is looked up
                plan = (tuple(None for _ in q.rule_vars), tuple(range(len(q.rule_vars))),
                        tuple(q.rule_gets), tuple(q.rule_tables))
            fixed, live, gets, tables = plan
            try:
                parts = [table[get(tokens)] for get, table in zip(gets, tables, strict=True)]
            except KeyError:
                parts = [table.get(get(tokens)) or self._lookup(q, i, get(tokens))
                         for i, get, table in zip(live, gets, tables, strict=True)]
            tokens[q.var] = opart.token
            mkey = (gate, id(opart), *map(id, parts))
            merged = q.merged.get(mkey)
            if merged is None:
                every = list(fixed)
                for i, part in zip(live, parts, strict=True):
                    every[i] = part
                merged = self._merge(q, opart, every)
                if len(q.merged) > MERGED_KEPT:  # bounded over a long batch
                    q.merged.clear()
                q.merged[mkey] = merged
            if memo is not None:
                if len(memo) > MEMO_KEPT:
                    memo.clear()
                memo[every_token] = merged
            out.append((q, merged))
        return out

    def _merge(self, q: _Question, opart: _Part, rparts: list[_Part]) -> _Merged:
        """One question's JSON, the cites of its reasons, its warnings and notes."""
        reasons = sorted([*opart.reasons, *(r for p in rparts for r in p.reasons)],
                         key=itemgetter(0))
        final: dict[str, list[_Item]] = {}
        seen: dict[str, set] = {}
        for item in sorted([*opart.certain, *(i for p in rparts for i in p.certain)],
                           key=_POS):
            keys = seen.setdefault(item.coll, set())
            if item.key not in keys:
                keys.add(item.key)
                final.setdefault(item.coll, []).append(item)
        maybe: dict[str, list[_Item]] = {}
        mseen: dict[str, set] = {}
        for item in sorted([*opart.possible, *(i for p in rparts for i in p.possible)],
                           key=_POS):
            keys = mseen.setdefault(item.coll, set(seen.get(item.coll, ())))
            if item.key not in keys:
                keys.add(item.key)
                maybe.setdefault(item.coll, []).append(item)
        # the keys in the question model's order (its lists, then the shared keys)
        chunks = [b'{"outcome":', _dumps(opart.outcome)]
        head = b""
        for field in q.fields_order:
            if field == "rests_on":
                chunks += [b',"rests_on":', _dumps(list(opart.rests_on))]
            elif field == "under_review":  # the whole report's (see _Whole.body)
                chunks.append(b',"under_review":')
                head, chunks = b"".join(chunks), []
            elif field == "possible_outcomes":
                outs = opart.outcomes if len(opart.outcomes) > 1 else ()
                chunks += [b',"possible_outcomes":', _dumps(list(outs))]
            elif field == "possible":
                body = b",".join(_dumps(c) + b":[" + b",".join(i.maybe for i in maybe[c]) + b"]"
                                 for c in sorted(maybe))
                chunks += [b',"possible":{', body, b"}"]
            elif field == "reasons":
                chunks += [b',"reasons":[', b",".join(r[1] for r in reasons), b"]"]
            else:
                chunks += [b',"', field.encode(), b'":[',
                           b",".join(i.listed for i in final.get(field, ())), b"]"]
        chunks.append(b"}")
        notes = tuple((var, var[len(QUESTION_PREFIX):] if var.startswith(QUESTION_PREFIX)
                       else None, effect)
                      for p in (opart, *rparts) for (var,), effect in p.notes)
        return _Merged(
            json=(head, b"".join(chunks)), cites=tuple(c for r in reasons for c in r[2]),
            warnings=tuple(p.warning for p in rparts if p.warning is not None),
            notes=notes, outcome_vars=opart.outcome_vars, outcome=opart.outcome,
            opart=opart, reasons=tuple(reasons), final=final, maybe=maybe, fields=q.fields_order)

    def assess(self, case_id: str | None, day: dt.date, values: dict[str, Any],
               choice: Any) -> Assessed:
        """A case's assessment: its outcomes, and its report in both JSON forms."""
        results = self.run(values, day)
        scope_unknown = values.get(self.scope_fact, UNKNOWN) == UNKNOWN
        # everything but the case id and the date follows from the questions' results,
        # the edition's choice and whether the country is given: made once, joined once
        review = self.edition[3] is not None and day >= self.edition[3]
        key = (self._choice_key(choice), scope_unknown, review, *[id(m) for _, m in results])
        whole = self._wholes.get(key)
        if whole is None:
            whole = self._whole(results, choice, scope_unknown, review)
            if len(self._wholes) > WHOLES_KEPT:  # bounded over a long batch
                self._wholes.clear()
            self._wholes[key] = whole  # it holds what the key's ids are ids of
        return Assessed(self, case_id, day, whole)

    def lists(self, items: tuple[str, ...]) -> bytes:
        """A list of strings as JSON, kept: a caseload's reports share a few lists of
        cites, open facts and warnings."""
        found = self._lists.get(items)
        if found is None:
            if len(self._lists) > LISTS_KEPT:
                self._lists.clear()
            found = self._lists[items] = _dumps(list(items))
        return found

    def _choice_key(self, choice: Any) -> tuple:
        """What a report takes from an edition's choice (its `ruleset` and its warnings):
        choices alike in these (those of many assessment dates) give the same reports."""
        found = self._choice_keys.get(id(choice))
        if found is None or found[0] is not choice:
            key = (choice.entry.id, choice.selected_by,
                   choice.in_force.id if choice.in_force else None,
                   tuple(e.id for e in choice.newer), choice.warnings)
            if len(self._choice_keys) > 1000:
                self._choice_keys.clear()
            found = self._choice_keys[id(choice)] = (choice, key)  # held: its id stays its own
        return found[1]

    def _whole(self, results: list, choice: Any, scope_unknown: bool, review: bool) -> _Whole:
        # open questions: each note's fact, an open earlier question standing for the
        # facts that keep its outcome open
        behind: dict[str, list[str]] = {}
        effects: dict[str, list[Effect]] = {}
        for q, merged in results:
            for var, qid, effect in merged.notes:
                for fact in (behind[qid] if qid is not None else (var,)):
                    effects.setdefault(fact, []).append(effect)
            if merged.outcome_vars:
                behind[q.id] = sorted(set(self._facts_behind(merged.outcome_vars, behind)))
            else:
                behind[q.id] = []
        open_facts = [fact for fact in self.fact_order if fact in effects] if effects else []
        warnings: list[tuple[bytes, tuple, str]] = []
        if scope_unknown:
            warnings.append(self.scope_warning)
        if choice.warnings:
            warnings.extend(self._choice_warnings(choice))
        for _, merged in results:
            warnings.extend(merged.warnings)
        cited = [c for _, merged in results for c in merged.cites]
        cited += [c for w in warnings for c in w[1]]
        return _Whole(self, choice, results, open_facts, effects, warnings,
                      list(dict.fromkeys(cited)), review)

    def _choice_warnings(self, choice: Any) -> list[tuple[bytes, tuple, str]]:
        key = choice.warnings
        found = self._warnings.get(key)
        if found is None:
            found = []
            for code, message in choice.warnings:
                cites = self.review_cites if code == "guidance_under_review" else []
                found.append((_warning_bytes(code, message, None, cites), tuple(cites), code))
            if len(self._warnings) > 1000:
                self._warnings.clear()
            self._warnings[key] = found
        return found

    def report_json(self, case_id: str | None, day: dt.date, values: dict[str, Any],
                    choice: Any) -> bytes:
        """The case's report: the bytes of `Report.model_dump_json()`."""
        return self.assess(case_id, day, values, choice).json()

    @staticmethod
    def _facts_behind(variables: tuple[str, ...], behind: dict[str, list[str]]) -> list[str]:
        facts: list[str] = []
        for var in variables:
            if var.startswith(QUESTION_PREFIX):
                facts.extend(behind[var[len(QUESTION_PREFIX):]])
            else:
                facts.append(var)
        return list(dict.fromkeys(facts))

    def _open_question(self, fact: str, effects: list[Effect]) -> bytes:
        key = (fact, *map(id, effects))  # effects live as long as the tables that hold them
        found = self._open_questions.get(key)
        if found is None:
            ids = self.question_ids
            affects = sorted({e.question for e in effects}, key=ids.index)
            rules = sorted({rid for e in effects for rid in e.rule.split(",")},
                           key=self.positions.__getitem__)
            parts: list[str] = []
            for qid in affects:
                mine = [e for e in effects if e.question == qid]
                key_q = (qid, *map(id, mine))
                words = self._why_parts.get(key_q)
                if words is None:
                    words = self._why_parts[key_q] = why_parts(mine, qid, self.why_words)
                for warning, text in words:
                    if not (warning and text in parts):
                        parts.append(text)
            why = why_sentence(parts)
            if fact in self.thresholds:  # say which dates matter, e.g. "before 2024-12-08"
                cuts = " or ".join(t.isoformat() for t in self.thresholds[fact])
                why = why[:-1] + f"; what matters is whether it falls before or after {cuts}."
            found = (b'{"fact":' + _dumps(fact) + b',"affects":' + _dumps(affects)
                     + b',"why":' + _dumps(why) + b',"rules":' + _dumps(rules) + b"}")
            if len(self._open_questions) > WORDS_KEPT:
                self._open_questions.clear()
                self._why_parts.clear()
            self._open_questions[key] = found
        return found

    def _ruleset_json(self, choice: Any) -> bytes:
        last = self._last_choice.get(id(choice))
        if last is not None and last[0] is choice:
            return last[1]
        found = self._ruleset_json_of(choice)
        if len(self._last_choice) > 1000:
            self._last_choice.clear()
        self._last_choice[id(choice)] = (choice, found)  # holds it, so its id stays its own
        return found

    def _ruleset_json_of(self, choice: Any) -> bytes:
        key = (choice.entry.id, choice.selected_by,
               choice.in_force.id if choice.in_force else None,
               tuple(e.id for e in choice.newer))
        found = self._choices.get(key)
        if found is None:
            (ed_id, ed_title, ed_from, ed_review, ed_superseded), entry = \
                self.edition, choice.entry

            def ref(e: Any) -> bytes:
                if e is None:
                    return b"null"
                return (b'{"id":' + _dumps(e.id) + b',"title":' + _dumps(e.title)
                        + b',"in_force_from":' + _date(e.in_force_from)
                        + b',"encoded":' + (b"true" if e.encoded else b"false") + b"}")

            found = (b'{"id":' + _dumps(ed_id) + b',"title":' + _dumps(ed_title)
                     + b',"in_force_from":' + _date(ed_from)
                     + b',"under_review_from":' + _date(ed_review)
                     + b',"superseded_on":' + _date(ed_superseded)
                     + b',"successor":' + _dumps(entry.successor)
                     + b',"selected_by":' + _dumps(choice.selected_by)
                     + b',"sha256":' + _dumps(self.sha256)
                     + b',"in_force_on_assessment_date":' + ref(choice.in_force)
                     + b',"newer_editions":[' + b",".join(ref(e) for e in choice.newer)
                     + b"]}")
            self._choices[key] = found
        return found


_POS = attrgetter("pos")


class _Merged:
    """One question's result for a combination of parts: its JSON, what the report needs
    beside it, and (on demand) its compact form."""

    __slots__ = ("json", "cites", "warnings", "notes", "outcome_vars", "outcome", "opart",
                 "reasons", "final", "maybe", "fields", "_compact")

    def __init__(self, **kw: Any):
        for k, v in kw.items():
            setattr(self, k, v)
        self._compact: bytes | None = None

    def compact(self) -> bytes:
        """The question in `--format outcomes`: codes and rule ids only."""
        if self._compact is None:
            out: dict[str, Any] = {"outcome": self.outcome}
            if len(self.opart.outcomes) > 1:
                out["possible_outcomes"] = list(self.opart.outcomes)
            out["rests_on"] = list(self.opart.rests_on)
            for field in self.fields:
                if field not in ("possible_outcomes", "possible", "reasons", "rests_on",
                                 "under_review"):
                    out[field] = [i.item for i in self.final.get(field, ())]
            out["possible"] = {c: [i.item for i in self.maybe[c]] for c in sorted(self.maybe)}
            out["rules"] = [r[3] for r in self.reasons if not r[4]]
            out["if_established"] = [r[3] for r in self.reasons if r[4]]
            self._compact = _dumps(out)
        return self._compact


class _Whole:
    """A report but for its case id and date, for one combination of question results."""

    __slots__ = ("program", "choice", "results", "open_facts", "effects", "warnings",
                 "cited", "review", "_pieces", "_compact", "_tally")

    def __init__(self, program: Program, choice: Any, results: list, open_facts: list[str],
                 effects: dict, warnings: list, cited: list[str], review: bool):
        self.program, self.choice, self.results = program, choice, results
        self.review = review  # the edition was under review on the assessment date
        self.open_facts, self.effects, self.warnings, self.cited = \
            open_facts, effects, warnings, cited
        self._pieces: tuple[bytes, ...] | None = None
        self._compact: bytes | None = None
        self._tally: tuple | None = None

    def tally(self) -> tuple:
        """(edition, outcomes, warning codes, open facts): what a batch counts of a case."""
        if self._tally is None:
            self._tally = (self.program.id, tuple([m.outcome for _, m in self.results]),
                           tuple([w[2] for w in self.warnings]), tuple(self.open_facts))
        return self._tally

    def pieces(self) -> tuple[bytes, ...]:
        """The report from its `ruleset` key to the end, as the pieces it is joined from
        (made once: nearly all are shared with the program's tables and other reports, so a
        whole costs a few hundred bytes of pointers where its joined report is 24 KB)."""
        if self._pieces is None:
            p = self.program
            chunks = [b',"ruleset":', p._ruleset_json(self.choice)]
            flag = b"true" if self.review else b"false"
            for q, merged in self.results:
                head, tail = merged.json
                chunks += [b",", q.key, head, flag, tail]
            chunks.append(b',"open_questions":[')
            _listed(chunks, [p._open_question(f, self.effects[f]) for f in self.open_facts])
            chunks.append(b'],"warnings":[')
            _listed(chunks, [w[0] for w in self.warnings])
            chunks.append(b'],"citations":{')
            _listed(chunks, list(map(p.citations.__getitem__, self.cited)))
            chunks.append(b"}}")
            self._pieces = tuple(chunks)
        return self._pieces

    def compact(self) -> bytes:
        """The outcomes line from its `edition` key to the end."""
        if self._compact is None:
            lists = self.program.lists
            chunks = [b',"edition":', _dumps(self.program.id), b',"questions":{',
                      b",".join([q.key + merged.compact() for q, merged in self.results]),
                      b'},"cites":', lists(tuple(self.cited)), b',"open_questions":',
                      lists(tuple(self.open_facts)), b',"warnings":',
                      lists(tuple([w[2] for w in self.warnings])), b',"refused":null}']
            self._compact = b"".join(chunks)
        return self._compact


class Assessed:
    """One case assessed by a program: outcomes at hand, JSON on demand."""

    __slots__ = ("program", "case_id", "day", "whole", "__weakref__")

    def __init__(self, program: Program, case_id: str | None, day: dt.date, whole: _Whole):
        self.program, self.case_id, self.day, self.whole = program, case_id, day, whole

    @property
    def ruleset_id(self) -> str:
        return self.program.id

    @property
    def outcomes(self) -> list[str]:
        return [merged.outcome for _, merged in self.whole.results]

    def tally(self) -> tuple:
        """(edition, outcomes, warning codes, open facts), as tuples shared by the cases
        whose reports differ only in their case id and date."""
        return self.whole.tally()

    @property
    def open_facts(self) -> list[str]:
        return self.whole.open_facts

    @property
    def cited(self) -> list[str]:
        return self.whole.cited

    def _head(self) -> bytes:
        # a case id is letters, digits, '.', '_' and '-' (the case model's pattern): it
        # needs no escaping
        return (b"null" if self.case_id is None else b'"' + self.case_id.encode() + b'"') \
            + b',"assessment_date":' + _date(self.day)

    def json(self) -> bytes:
        """The report, compact: exactly `Report.model_dump_json()`."""
        return b"".join((self.program.head, self._head(), *self.whole.pieces()))

    def json_line(self) -> bytes:
        """The report as a line of `--format jsonl`, joined in one copy (it is 24 KB)."""
        return b"".join((self.program.head, self._head(), *self.whole.pieces(), b"\n"))

    def pretty_json(self) -> str:
        """The report as `evaluate --format json` prints it (indented, one final newline)."""
        from riskassess.io.jsontext import pretty

        return pretty(self.json())

    def outcomes_line(self, path: str) -> bytes:
        """The compact line of `--format outcomes` (see `riskassess schema outcomes`)."""
        return b'{"path":' + _string(path) + b',"case_id":' + self._head() + \
            self.whole.compact()


def _listed(chunks: list[bytes], items: list[bytes]) -> None:
    """Add `items` to `chunks` with a comma between each two (a JSON list's inside)."""
    if items:
        chunks.append(items[0])
        for item in items[1:]:
            chunks += (b",", item)


def refused_line(path: str, problems: list[str], exit_code: int) -> bytes:
    """The `--format outcomes` line of a file that was not assessed."""
    return (b'{"path":' + _dumps(path) + b',"case_id":null,"assessment_date":null,'
            b'"edition":null,"questions":{},"cites":[],"open_questions":[],"warnings":[],'
            b'"refused":{"exit_code":' + str(int(exit_code)).encode() + b',"problems":'
            + _dumps(problems) + b"}}")


def _reason(pos: int, r: Any) -> tuple:
    """A reason as a part keeps it: position, JSON, cites, rule id, conditional."""
    return (pos, r.model_dump_json().encode(), tuple(r.cites), r.rule, r.conditional)


def _warning_bytes(code: str, message: str, rule: str | None, cites: list[str]) -> bytes:
    return (b'{"code":' + _dumps(code) + b',"message":' + _dumps(message) + b',"rule":'
            + (b"null" if rule is None else _dumps(rule)) + b',"cites":' + _dumps(list(cites))
            + b"}")


def program(ruleset: Any, *, build: bool = True) -> Program:
    """The rule set's program, compiled once per loaded rule set (without `build`: only
    its reading of tokens, for answering one question alone)."""
    name = "program" if build else "tokens"
    found = ruleset.cache.get(name) or (ruleset.cache.get("program") if not build else None)
    if found is None:
        found = ruleset.cache[name] = Program(ruleset, build=build)
    return found
