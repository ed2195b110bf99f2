"""The `when:` language of rule files, compiled: each condition a test over a complete
assignment of its variables (facts, earlier questions), the variables it reads, its text for
a reader, and its structure (for reading it in words: engine/hypothesis.py). The compiler
collects every problem of a rule file, located, in one pass."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from riskassess.errors import Problem
from riskassess.io.reader import Document
from riskassess.law.vocabulary import FactSpec
from riskassess.words import spelt

Assignment = dict[str, Any]  # variable -> concrete value ("question:<id>" or a fact path)
Test = Callable[[Assignment], bool]


@dataclass(frozen=True)
class Condition:
    """A compiled condition: a boolean test over a complete assignment, and its variables."""

    test: Test
    variables: frozenset[str]
    text: str  # a plain-English rendering, for `rules show` and reports
    # The condition's structure, for reading it in words (engine/hypothesis.py):
    # ("always",) | ("all"|"any", (Condition, ...)) | ("not", Condition)
    # | ("fact", path, op, value) | ("question", id, (outcome, ...))
    tree: tuple = ("always",)


def question_var(qid: str) -> str:
    return f"question:{qid}"


class ConditionCompiler:
    """Compiles the `when:` language into closures, collecting located problems.

    The language:  `always` | {all: [..]} | {any: [..]} | {not: cond}
                   | {fact: PATH, is: V} | {fact: PATH, in: [..]} | {fact: PATH, not_in: [..]}
                   | {fact: PATH, contains_any: [..]} | {fact: PATH, empty: true|false}
                   | {fact: PATH, before: DATE} | {fact: PATH, on_or_after: DATE}
                   | {question: ID, is: OUTCOME} | {question: ID, in: [..]}

    Date tests compare with fixed dates (thresholds). The engine sees a date fact only
    through the intervals those thresholds cut, so a partial date such as 2024 is exactly
    as open as the thresholds make it (see engine/parts.py).
    """

    def __init__(self, doc: Document, outcomes_of: dict[str, tuple[str, ...]],
                 thresholds: dict[str, set[dt.date]], facts: dict[str, FactSpec]):
        self.doc = doc
        self.facts = facts  # the facts a rule may test (the vocabulary's testable ones)
        self.outcomes_of = outcomes_of  # questions a rule may refer to, with their outcomes
        self.thresholds = thresholds  # date fact -> dates its tests compare with (shared)
        self.problems: list[Problem] = []

    def fail(self, path: tuple, message: str) -> Condition:
        self.problems.append(self.doc.problem(path, message))
        return Condition(lambda a: False, frozenset(), "?")

    def compile(self, raw: Any, path: tuple) -> Condition:
        if raw == "always":
            return Condition(lambda a: True, frozenset(), "always", ("always",))
        if not isinstance(raw, dict):
            return self.fail(path, "a condition is 'always' or a mapping "
                                   "(all, any, not, fact, question)")
        keys = set(raw)
        if keys == {"all"} or keys == {"any"}:
            op = next(iter(keys))
            items = raw[op]
            if not isinstance(items, list) or not items:
                return self.fail(path + (op,), f"'{op}' takes a non-empty list of conditions")
            parts = [self.compile(item, path + (op, i)) for i, item in enumerate(items)]
            tests = [p.test for p in parts]
            variables = frozenset().union(*(p.variables for p in parts))
            joiner = " and " if op == "all" else " or "
            text = joiner.join(f"({p.text})" if (" and " in p.text or " or " in p.text) else p.text
                               for p in parts)
            tree = (op, tuple(parts))
            if op == "all":
                return Condition(lambda a, t=tests: all(f(a) for f in t), variables, text, tree)
            return Condition(lambda a, t=tests: any(f(a) for f in t), variables, text, tree)
        if keys == {"not"}:
            inner = self.compile(raw["not"], path + ("not",))
            return Condition(lambda a, f=inner.test: not f(a), inner.variables,
                             f"not ({inner.text})", ("not", inner))
        if "fact" in keys:
            return self._fact(raw, path)
        if "question" in keys:
            return self._question(raw, path)
        return self.fail(path, f"unknown condition keys {sorted(keys)} "
                               "(allowed: always, all, any, not, fact, question)")

    def _values(self, raw: dict, op: str, path: tuple, allowed: tuple, what: str) -> list | None:
        values = raw[op] if op in ("in", "not_in", "contains_any") else [raw[op]]
        if not isinstance(values, list) or not values:
            self.fail(path + (op,), f"'{op}' takes a non-empty list")
            return None
        bad = [v for v in values if v not in allowed]
        if bad:
            shown = ", ".join(spelt(v) for v in allowed)
            self.fail(path + (op,), f"{spelt(bad[0])} is not a value of {what} (allowed: {shown})")
            return None
        return values

    def _fact(self, raw: dict, path: tuple) -> Condition:
        name = raw["fact"]
        spec: FactSpec | None = self.facts.get(name) if isinstance(name, str) else None
        if spec is None:
            return self.fail(path + ("fact",), f"'{name}' is not a fact of the case model "
                                               f"(allowed: {', '.join(self.facts)})")
        ops = set(raw) - {"fact"}
        allowed_ops = {"enum": {"is", "in", "not_in"}, "bool": {"is"},
                       "set": {"contains_any", "empty"},
                       "date": {"before", "on_or_after"}}[spec.kind]
        if len(ops) != 1 or not ops <= allowed_ops:
            return self.fail(path, f"a condition on '{name}' takes exactly one of: "
                                   f"{', '.join(sorted(allowed_ops))}")
        op = ops.pop()
        if spec.kind == "date":
            try:
                when = dt.date.fromisoformat(str(raw[op]))
            except ValueError:
                return self.fail(path + (op,), f"'{raw[op]}' is not a date YYYY-MM-DD")
            self.thresholds.setdefault(name, set()).add(when)
            if op == "before":
                return Condition(lambda a, n=name, w=when: a[n] < w, frozenset({name}),
                                 f"{name} is before {when.isoformat()}",
                                 ("fact", name, op, when))
            return Condition(lambda a, n=name, w=when: a[n] >= w, frozenset({name}),
                             f"{name} is on or after {when.isoformat()}", ("fact", name, op, when))
        if op == "empty":
            want = raw["empty"]
            if not isinstance(want, bool):
                return self.fail(path + ("empty",), "'empty' takes true or false")
            return Condition(lambda a, n=name, w=want: (len(a[n]) == 0) == w,
                             frozenset({name}), f"{name} is {'empty' if want else 'not empty'}",
                             ("fact", name, "empty", want))
        values = self._values(raw, op, path, spec.values, name)
        if values is None:
            return Condition(lambda a: False, frozenset(), "?")
        shown = ", ".join(spelt(v) for v in values)
        if op == "is":
            v = values[0]
            return Condition(lambda a, n=name, v=v: a[n] == v, frozenset({name}),
                             f"{name} is {spelt(v)}", ("fact", name, "is", v))
        if op == "in":
            vs = frozenset(values)
            return Condition(lambda a, n=name, vs=vs: a[n] in vs, frozenset({name}),
                             f"{name} is one of {shown}", ("fact", name, "in", tuple(values)))
        if op == "not_in":
            vs = frozenset(values)
            return Condition(lambda a, n=name, vs=vs: a[n] not in vs, frozenset({name}),
                             f"{name} is not one of {shown}",
                             ("fact", name, "not_in", tuple(values)))
        vs = frozenset(values)  # contains_any
        return Condition(lambda a, n=name, vs=vs: bool(a[n] & vs), frozenset({name}),
                         f"{name} includes any of {shown}",
                         ("fact", name, "contains_any", tuple(values)))

    def _question(self, raw: dict, path: tuple) -> Condition:
        qid = raw["question"]
        if qid not in self.outcomes_of:
            return self.fail(path + ("question",),
                             f"'{qid}' is not a question answered before this one "
                             f"(allowed: {', '.join(self.outcomes_of) or 'none'})")
        ops = set(raw) - {"question"}
        if len(ops) != 1 or not ops <= {"is", "in"}:
            return self.fail(path, "a condition on a question takes exactly one of: is, in")
        op = ops.pop()
        values = self._values(raw, op, path, self.outcomes_of[qid], f"question '{qid}'")
        if values is None:
            return Condition(lambda a: False, frozenset(), "?")
        var = question_var(qid)
        vs = frozenset(values)
        return Condition(lambda a, v=var, vs=vs: a[v] in vs, frozenset({var}),
                         f"{qid} is {' or '.join(values)}", ("question", qid, tuple(values)))
