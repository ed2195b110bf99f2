"""A rule's condition, restricted to the facts not given, read as a hypothesis.

A reason that holds only if facts not given turn out a certain way is never printed as
a statement of fact. The engine asks, for each test in the rule's condition, whether the
facts given already decide it; what is left (the residual) is the hypothesis, and it
is read in words from the vocabulary: each fact's `phrases` (facts.yaml) and each
question's `phrases` (questions.yaml), with plain fallbacks built from the fact's label
and the values' meanings. The reason then reads "If it is established that <hypothesis>:
<the rule's reasoning>".

For an outcome rule the hypothesis also says that no earlier outcome rule applies, as
outcome rules are tried in order and the first that applies decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from riskassess.law.conditions import Condition
from riskassess.law.plain import QUESTION_PREFIX
from riskassess.words import long_date

# a residual: True, False, or a node ("all"|"any", [nodes]) | ("not", node) | Condition leaf
Node = Any


def residual(node: Node, truth: Callable[[Condition], bool | None]) -> Node:
    """Simplify a condition with what the facts given decide: True, False, or what is
    left. `truth(leaf)` is a leaf test's value when the facts decide it, else None."""
    if isinstance(node, Condition):
        tree = node.tree
        if tree[0] == "always":
            return True
        if tree[0] in ("all", "any"):
            return residual((tree[0], list(tree[1])), truth)
        if tree[0] == "not":
            return residual(("not", tree[1]), truth)
        value = truth(node)
        return node if value is None else value
    kind = node[0]
    if kind == "not":
        inner = residual(node[1], truth)
        return (not inner) if isinstance(inner, bool) else ("not", inner)
    parts = []
    for child in node[1]:
        value = residual(child, truth)
        if isinstance(value, bool):
            if value is (kind == "any"):  # True in an any, False in an all: decided
                return value
            continue
        # flatten nested nodes of the same kind
        if isinstance(value, tuple) and value[0] == kind:
            parts.extend(value[1])
        else:
            parts.append(value)
    if not parts:
        return kind == "all"
    return parts[0] if len(parts) == 1 else (kind, parts)


def variables(node: Node) -> list[str]:
    """The variables (fact paths, "question:<id>") a residual still reads, in order."""
    if isinstance(node, bool):
        return []
    if isinstance(node, Condition):
        return sorted(node.variables)
    children = [node[1]] if node[0] == "not" else node[1]
    return list(dict.fromkeys(v for c in children for v in variables(c)))


class Words:
    """Reads residual conditions in words, from one vocabulary and rule set."""

    def __init__(self, vocab: Any, outcomes_of: dict[str, tuple[str, ...]],
                 thresholds: dict[str, Any] | None = None,
                 set_tests: dict[str, tuple] | None = None):
        self.vocab = vocab
        self.outcomes_of = outcomes_of  # question id -> outcomes still possible
        self.thresholds = thresholds or {}  # date fact -> the dates rules compare it with
        # set fact -> the code sets the rules' `contains_any` test (engine/parts.py
        # set_classes): a domain cut down to classes holds one value per class, so a
        # class is read back through the test that defines it
        self.set_tests = set_tests or {}

    def __call__(self, node: Node, negated: bool = False) -> str:
        if isinstance(node, Condition):
            return self.leaf(node.tree, negated)
        kind = node[0]
        if kind == "not":
            return self(node[1], not negated)
        # De Morgan: "not (a and b)" reads "a is not so, or b is not so"
        joiner = " and " if (kind == "all") != negated else " or "
        parts = [self._grouped(child, negated) for child in node[1]]
        return joiner.join(dict.fromkeys(parts))

    def _grouped(self, child: Node, negated: bool) -> str:
        text = self(child, negated)
        compound = not isinstance(child, Condition) and child[0] != "not" \
            and len(child[1]) > 1
        return f"({text})" if compound else text

    def leaf(self, tree: tuple, negated: bool) -> str:
        if tree[0] == "question":
            _, qid, values = tree
            chosen = [o for o in self.outcomes_of.get(qid, values) if o not in values] \
                if negated else list(values)
            return self._either([self._outcome(qid, o) for o in chosen])
        _, path, op, value = tree
        spec = self.vocab.facts[path]
        if spec.kind == "bool":
            want = value != negated
            return spec.phrases.get("true" if want else "false") or \
                f"{spec.label}: {'yes' if want else 'no'}"
        if spec.kind == "date":
            if negated:
                op = "on_or_after" if op == "before" else "before"
            date = long_date(value)
            template = spec.phrases.get(op)
            if template:
                return template.replace("{date}", date)
            return f"{spec.label} is {'before' if op == 'before' else 'on or after'} {date}"
        if op == "empty":
            want = value != negated
            key = "empty" if want else "not_empty"
            return spec.phrases.get(key) or \
                f"{spec.label}: {'none' if want else 'at least one is given'}"
        if op == "contains_any":
            words = self._either([self._value(spec, v) for v in value])
            return f"it is not established that {words}" if negated else words
        chosen = [value] if op == "is" else list(value)
        if (op == "not_in") != negated:
            chosen = [v for v in spec.values if v not in chosen]
        return self._either([self._value(spec, v) for v in chosen])

    def values(self, var: str, values: set, domain: tuple) -> str | None:
        """One variable restricted to some of its values, in words (None: no simple
        reading, e.g. a set of codes that no single test describes)."""
        ordered = [v for v in domain if v in values]
        if var.startswith(QUESTION_PREFIX):
            qid = var.split(":", 1)[1]
            return self._either([self._outcome(qid, o) for o in ordered])
        spec = self.vocab.facts[var]
        if spec.kind in ("enum", "bool"):
            if spec.kind == "bool":
                return self._either([self.leaf(("fact", var, "is", v), False) for v in ordered])
            return self._either([self._value(spec, v) for v in ordered])
        if spec.kind == "date":
            return self._date_range(spec, var, ordered, list(domain))
        if spec.kind == "set":
            empty = frozenset()
            if set(ordered) == {empty}:
                return self.leaf(("fact", var, "empty", True), False)
            if set(ordered) == set(domain) - {empty}:
                return self.leaf(("fact", var, "empty", False), False)
            for tested in self.set_tests.get(var, ((), {}))[0]:
                if set(ordered) == {s for s in domain if s & tested}:
                    codes = tuple(m for m in spec.values if m in tested)
                    return self.leaf(("fact", var, "contains_any", codes), False)
            codes = tuple(m for m in spec.values if frozenset({m}) in values)
            if set(ordered) == {s for s in domain if s & set(codes)}:
                return self.leaf(("fact", var, "contains_any", codes), False)
        return None

    def _date_range(self, spec: Any, var: str, ordered: list, domain: list) -> str | None:
        """Candidate dates stand for the intervals the rules' thresholds cut: a run of
        them reads as 'on or after T1 and before T2'."""
        first, last = domain.index(ordered[0]), domain.index(ordered[-1])
        if last - first + 1 != len(ordered):
            return None
        thresholds = sorted(self.thresholds.get(var, ()))
        parts = []
        if first > 0:
            low = max((t for t in thresholds if t <= ordered[0]), default=None)
            if low is None:
                return None
            parts.append(self.leaf(("fact", var, "on_or_after", low), False))
        if last < len(domain) - 1:
            high = min((t for t in thresholds if t > ordered[-1]), default=None)
            if high is None:
                return None
            parts.append(self.leaf(("fact", var, "before", high), False))
        return " and ".join(parts) or None

    def _value(self, spec: Any, value: Any) -> str:
        phrase = spec.phrases.get(str(value))
        if phrase:
            return phrase
        meaning = spec.meanings.get(str(value))
        return f"{spec.label} is “{value}”" + (f" ({meaning.rstrip('.')})" if meaning else "")

    def _outcome(self, qid: str, outcome: str) -> str:
        q = self.vocab.question(qid)
        phrase = q.phrases.get(outcome)
        if phrase:
            return phrase
        label = self.vocab.outcome_labels.get(outcome, outcome)
        return f"the answer to “{q.title}” is “{label}”"

    @staticmethod
    def _either(parts: list[str]) -> str:
        parts = list(dict.fromkeys(parts))
        if len(parts) <= 1:
            return "".join(parts)
        return ", ".join(parts[:-1]) + " or " + parts[-1]


def holds(node: Node, assignment: dict[str, Any]) -> bool:
    """A residual's value on a complete assignment of its variables."""
    if isinstance(node, bool):
        return node
    if isinstance(node, Condition):
        return node.test(assignment)
    if node[0] == "not":
        return not holds(node[1], assignment)
    results = (holds(c, assignment) for c in node[1])
    return all(results) if node[0] == "all" else any(results)


def describe(node: Node, open_vars: list[str], assignments: list[dict[str, Any]],
             domain: Callable[[str], tuple], words: Words) -> str:
    """The residual in words, as simply as its truth allows.

    `assignments` are every admissible completion of `open_vars`. When the completions
    that satisfy the residual are exactly those whose values lie in one set per variable
    (the usual case), each variable is described by its set of values ("he was an
    officer", "he left service before 8 December 2024"); otherwise the condition is read
    as written."""
    sat = [a for a in assignments if holds(node, a)]
    chosen = {v: {a[v] for a in sat} for v in open_vars}
    in_box = [a for a in assignments if all(a[v] in chosen[v] for v in open_vars)]
    if sat and len(in_box) == len(sat):
        parts = []
        for var in open_vars:
            values = chosen[var]
            if len(values) == len(domain(var)):
                continue  # any value will do
            text = words.values(var, values, domain(var))
            if text is None:
                break
            parts.append(text)
        else:
            if parts:  # "A, that either B or C, and that D", after "If it is established that"
                if len(parts) == 1:
                    return parts[0]
                parts = [f"either {p}" if " or " in p else p for p in parts]
                return ", that ".join(parts[:-1]) + ", and that " + parts[-1]
    return words(node)


