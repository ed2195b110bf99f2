"""`riskassess rules check`: prove a rule set well-formed, complete and consistent.

What is checked, for the editions catalog and every encoded edition:

* everything loading checks: schema (unknown keys, wrong types), cited paragraphs that
  do not exist, rules citing nothing, conditions on facts the case model lacks or on
  values outside a fact's list, undocumented codes, catalog dates and their agreement
  with each edition;
* completeness: for every question, every case gets an outcome. A question depends only
  on the facts its rules read and on the outcomes of earlier questions, so the check
  enumerates exactly those: every value of every fact read (dates by the intervals the
  rules' thresholds cut), and every outcome the earlier questions can reach. The first
  case with no applicable outcome rule is reported as a counterexample;
* the same again with `unknown` included, run through the engine itself, so that no
  combination of known and unknown facts leaves a question without an outcome;
* consistency: no case where two outcome rules apply with different outcomes, unless
  the first declares `prevails_over` the other (first counterexample reported);
* warnings: rules that never apply or never decide, `prevails_over` declarations never
  needed, paragraphs no rule cites, and documented codes no rule uses;
* the vocabulary (for a rules folder, over every encoded edition that shares it): every
  declared fact is read by some rule or marked `recorded_only`, no rule reads a fact
  marked `recorded_only`, and every paragraph a fact cites exists in some edition's
  registry. (That every fact a rule reads is declared, with the values it tests, and that
  the constraints are satisfiable, is checked when the rule set and vocabulary load.)

Findings print as FILE:LINE:COLUMN: ID: problem (warnings say "warning:"). The check
returns findings; it never prints or exits.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from riskassess.engine.evaluate import question_outcome
from riskassess.engine.parts import GapError, rule_domains
from riskassess.errors import RuleSetError
from riskassess.io.reader import MAX_BYTES, special_kind
from riskassess.law.case import UNKNOWN
from riskassess.law.dates import date_candidates
from riskassess.law.plain import QUESTION_PREFIX
from riskassess.law.ruleset import (
    QuestionSpec,
    RuleSet,
    edition_folders,
    load_catalog,
    load_ruleset,
    rule_set_files,
    ruleset_for,
    same_file,
    top_warning_codes,
)
from riskassess.law.vocabulary import Vocabulary
from riskassess.words import token


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int
    column: int
    subject: str
    severity: Literal["error", "warning"]
    message: str
    # a cause that others follow from (a folder the catalog does not list): printed first
    cause: bool = field(default=False, compare=False)
    # a file no edition names (stray): about the folder, not the rule sets, which loading
    # refuses for every other error
    stray: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        kind = "warning: " if self.severity == "warning" else ""
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        subject = f" {self.subject}:" if self.subject else ""
        return f"{where}:{subject} {kind}{self.message}"


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    editions: list[str] = field(default_factory=list)
    unloaded: list[str] = field(default_factory=list)  # editions whose files did not load
    cases: int = 0  # combinations enumerated
    # the rule sets' files as checked (law/ruleset.py rule_set_files), when all loaded
    files: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


def check_path(path: Path) -> CheckResult:
    """Check a rules folder (with editions.yaml) or one edition folder (with edition.yaml)."""
    result = CheckResult()
    by_vocab: dict[Vocabulary, list[RuleSet]] = {}
    broken = False
    if (path / "editions.yaml").is_file():
        try:
            catalog, doc = load_catalog(path)
        except RuleSetError as exc:
            result.findings += _from_problems(exc)
            return _sorted(result)
        # an edition folder the catalog does not list: the cause of what follows from it
        # (paragraphs the vocabulary cites, facts only its rules read), so said first
        unlisted = _unlisted_folders(path, catalog, doc, result)
        loaded: list[RuleSet] = []
        for entry in catalog.editions:
            if not entry.encoded:
                continue
            try:
                rs = ruleset_for(path, entry)
            except RuleSetError as exc:
                result.findings += _from_problems(exc)
                result.unloaded.append(entry.id)
                broken = True
                continue
            _check_ruleset(rs, result)
            loaded.append(rs)
            by_vocab.setdefault(rs.vocabulary, []).append(rs)
        # what a vocabulary's facts are read by is known only when every edition loaded
        for vocab, rulesets in by_vocab.items() if not (broken or unlisted) else ():
            _check_vocabulary(vocab, rulesets, result)
        if not broken:
            result.files = rule_set_files(path, doc, loaded)
            _stray_files(path, result, skip=set(unlisted))  # unlisted: said above
    elif (path / "edition.yaml").is_file():
        try:
            rs = load_ruleset(path.resolve())
        except RuleSetError as exc:
            result.findings += _from_problems(exc)
            return _sorted(result)
        _check_ruleset(rs, result)
        result.files = {os.path.relpath(same_file(name), os.path.realpath(path)): digest
                        for name, digest in rs.digests.items()}
        _stray_files(path, result, edition_only=True)
    else:
        result.findings.append(Finding(str(path), 0, 0, "", "error",
                                       "neither editions.yaml nor edition.yaml is here"))
    return _sorted(result)


def _sorted(result: CheckResult) -> CheckResult:
    result.findings.sort(key=lambda f: (not f.cause, f))
    return result


def _unlisted_folders(path: Path, catalog: Any, doc: Any, result: CheckResult) -> list[str]:
    """Folders holding an edition.yaml that no catalog entry names as encoded."""
    entries = {e.id: e for e in catalog.editions}
    where = (doc.file, *(n or 0 for n in doc.position(("editions",), prefer_key=True)))
    unlisted = []
    for name in edition_folders(path):
        entry = entries.get(name)
        if entry is None:
            unlisted.append(name)
            result.findings.append(Finding(
                *where, "", "error", f"no entry for the edition folder '{name}' (it holds "
                f"{name}/edition.yaml): add its entry, with encoded: true, or remove the "
                "folder (until then, the vocabulary is not checked against the editions)",
                cause=True))
        elif not entry.encoded:
            result.findings.append(Finding(
                *where, "", "warning", f"the entry of '{name}' says encoded: false, but "
                f"the folder {name}/ holds an edition: it is never applied"))
    return unlisted


MAX_SCANNED = 10_000  # entries of a rules folder looked at for stray files


def _stray_files(path: Path, result: CheckResult, edition_only: bool = False,
                 skip: set[str] = frozenset()) -> None:
    """YAML files in the folder that no catalog or edition names: never read by the tool,
    so a warning; a device, FIFO or socket among them is an error (it has no place in a
    rules folder, and a tool less careful would hang or grow on it)."""
    top = os.path.realpath(path)
    named = set(result.files)
    seen = 0
    for folder, dirs, names in os.walk(path):
        dirs[:] = [] if edition_only else sorted(
            d for d in dirs if not (folder == str(path) and d in skip))
        for name in sorted(names):
            seen += 1
            if seen > MAX_SCANNED:
                result.findings.append(Finding(str(path), 0, 0, "", "warning",
                                               f"more than {MAX_SCANNED:,} files: stopped "
                                               "looking for stray ones", stray=True))
                return
            if not name.endswith((".yaml", ".yml")):
                continue
            full = os.path.join(folder, name)
            if os.path.relpath(same_file(full), top) in named:
                continue
            stray = "no edition names it (neither editions.yaml nor any edition.yaml)"
            try:
                st = os.stat(full)  # follows a symlink, never opens: nothing can block
            except OSError as exc:
                result.findings.append(Finding(full, 0, 0, "", "warning",
                                               f"{stray}, and it cannot be read "
                                               f"({exc.strerror}): ignored", stray=True))
                continue
            kind = special_kind(st.st_mode)
            if kind:
                result.findings.append(Finding(full, 0, 0, "", "error",
                                               f"is {kind}, not a YAML file; {stray}: "
                                               "remove it from the rules folder", stray=True))
            elif st.st_size > MAX_BYTES:
                result.findings.append(Finding(
                    full, 0, 0, "", "warning", f"{stray}, and at {st.st_size:,} bytes it is "
                    f"past the limit of {MAX_BYTES:,} bytes of a rule file: ignored", stray=True))
            else:
                result.findings.append(Finding(full, 0, 0, "", "warning",
                                               f"{stray}: ignored", stray=True))


def _from_problems(exc: RuleSetError) -> list[Finding]:
    return [Finding(p.file, p.line or 0, p.column or 0, p.path, "error", p.message)
            for p in exc.problems]


def _at(rs: RuleSet, key: str) -> tuple[str, int, int]:
    file, line, column = rs.locations.get(key, (str(rs.directory / "edition.yaml"), 0, 0))
    return file, line or 0, column or 0


def _domain(rs: RuleSet, var: str, reachable: dict[str, tuple[str, ...]]) -> tuple[Any, ...]:
    if var.startswith(QUESTION_PREFIX):
        return reachable[var.split(":", 1)[1]]
    if rs.vocabulary.facts[var].kind == "date":
        return date_candidates(UNKNOWN, rs.thresholds.get(var, ()))
    return rule_domains(rs)[var]


def _space(rs: RuleSet, variables: set[str], reachable: dict[str, tuple[str, ...]]):
    names = sorted(variables)
    for combo in itertools.product(*(_domain(rs, v, reachable) for v in names)):
        assignment = dict(zip(names, combo, strict=True))
        if rs.vocabulary.admissible({}, assignment):  # no case can break a must_be/when
            yield assignment


def _case(rs: RuleSet, assignment: dict[str, Any]) -> str:
    """A counterexample in words; a date is shown as the interval it stands for."""
    parts = []
    for key, value in sorted(assignment.items()):
        if isinstance(value, dt.date):
            cuts = rs.thresholds.get(key, ())
            later = [t for t in cuts if t > value]
            if value == dt.date.min:
                shown = f"before {later[0].isoformat()}" if later else "any date"
            elif later:
                shown = (f"{value.isoformat()} to "
                         f"{(later[0] - dt.timedelta(days=1)).isoformat()}")
            else:
                shown = f"on or after {value.isoformat()}"
        else:
            shown = token(value)
        parts.append(f"{key}={shown}")
    return ", ".join(parts) or "every case"


def _check_ruleset(rs: RuleSet, result: CheckResult) -> None:
    result.editions.append(rs.id)
    findings = result.findings
    reachable: dict[str, tuple[str, ...]] = {}
    possible_sets: dict[str, set[tuple[str, ...]]] = {}
    applied: set[str] = set()  # rules whose condition holds in some case
    decided: set[str] = set()  # outcome rules that decide some case
    needed: set[tuple[str, str]] = set()  # prevails_over pairs that mattered

    # every label in the guidance's brackets names a source of the registry (its `short`)
    labelled = rs.bracket_sources
    for pid, p in rs.paragraphs.items():
        for label in p.labels:
            if label not in labelled:
                findings.append(Finding(
                    *_at(rs, pid), pid, "error",
                    f"bracket label '{label}' names no source: add a source whose short is "
                    f"'{label}' to coi.yaml, with its title, publisher and date"))

    for q in rs.questions:
        variables = set().union(*(r.condition.variables for r in q.outcome_rules))
        gap = None
        conflicts: dict[tuple[str, str], dict] = {}
        outcomes: list[str] = []
        for a in _space(rs, variables, reachable):
            result.cases += 1
            fired = [r for r in q.outcome_rules if r.condition.test(a)]
            if not fired:
                gap = gap or a
                continue
            first = fired[0]
            decided.add(first.id)
            applied.update(r.id for r in fired)
            if first.outcome not in outcomes:
                outcomes.append(first.outcome)
            for other in fired[1:]:
                if other.outcome == first.outcome:
                    continue
                if other.id in first.prevails_over:
                    needed.add((first.id, other.id))
                else:
                    conflicts.setdefault((first.id, other.id), a)
        reachable[q.id] = tuple(sorted(outcomes, key=q.outcomes.index))
        if gap is not None:
            findings.append(Finding(*_at(rs, q.id), q.id, "error",
                                    f"incomplete: no outcome rule applies when {_case(rs, gap)}"))
        for (first, other), a in conflicts.items():
            r1, r2 = rs.rules[first], rs.rules[other]
            findings.append(Finding(
                *_at(rs, first), first, "error",
                f"conflicts with {other}: both apply when {_case(rs, a)}, concluding "
                f"{r1.outcome} and {r2.outcome}; if {first} should win, declare "
                f"'prevails_over: [{other}]'"))
        for r in q.other_rules:
            for a in _space(rs, set(r.condition.variables), reachable):
                result.cases += 1
                if r.condition.test(a):
                    applied.add(r.id)
                    break
        possible_sets[q.id] = _engine_pass(rs, q, possible_sets, result)

    for r in rs.rules.values():
        if r.id not in applied:
            findings.append(Finding(*_at(rs, r.id), r.id, "warning",
                                    "dead rule: it applies to no case"))
        elif r.kind == "outcome" and r.id not in decided:
            findings.append(Finding(*_at(rs, r.id), r.id, "warning",
                                    "never decides: an earlier rule decides every case it "
                                    "applies to"))
        for other in r.prevails_over:
            if (r.id, other) not in needed:
                findings.append(Finding(*_at(rs, r.id), r.id, "warning",
                                        f"prevails_over {other}, but the two never apply "
                                        "to the same case with different outcomes"))

    cited = {pid for r in rs.rules.values() for pid in r.cites} | set(rs.edition.review_cites)
    for pid in rs.paragraphs:
        if pid not in cited:
            findings.append(Finding(*_at(rs, pid), pid, "warning", "no rule cites this paragraph"))

    used: set[tuple[str, str]] = set()
    for r in rs.rules.values():
        for coll, items in r.adds.items():
            used.update((coll, i) for i in items if isinstance(i, str))
        if r.warns:
            used.add(("warnings", r.warns))
    for coll, codes in rs.edition.codes.items():
        for code in codes:
            if (coll, code) in used or (coll == "warnings" and code in top_warning_codes(rs)):
                continue
            findings.append(Finding(*_at(rs, f"codes.{coll}.{code}"), f"codes.{coll}.{code}",
                                    "warning", "documented but no rule uses it"))


def _engine_pass(rs: RuleSet, q: QuestionSpec, possible_sets: dict[str, set[tuple[str, ...]]],
                 result: CheckResult) -> set[tuple[str, ...]]:
    """Run the engine on every combination of the question's facts, unknown included, and
    every outcome set its earlier questions can leave open: each must get an outcome."""
    variables = set().union(*(r.condition.variables for r in q.outcome_rules))
    facts = sorted(v for v in variables if not v.startswith(QUESTION_PREFIX))
    ups = sorted(v[len(QUESTION_PREFIX):] for v in variables
                 if v.startswith(QUESTION_PREFIX))
    domains = []
    for fact in facts:
        values: list[Any] = [UNKNOWN]
        spec = rs.vocabulary.facts[fact]
        if spec.kind == "date":
            # a day in each interval, and a partial date spanning all of them
            values += [d.isoformat() for d in date_candidates(UNKNOWN, rs.thresholds.get(fact, ()))
                       if d.year > 1]
            values += [str(t.year) for t in rs.thresholds.get(fact, ())]
            if rs.thresholds.get(fact):
                values.append("1990-01-01")
        elif spec.kind == "set":
            values += list(rule_domains(rs)[fact])
        else:
            values += list(spec.values)
        domains.append(values)
    up_domains = [sorted(possible_sets[u]) for u in ups]
    seen: set[tuple[str, ...]] = set()
    contract_outcomes = set(q.outcomes) | {"undetermined"}
    for combo in itertools.product(*domains):
        values = dict(zip(facts, combo, strict=True))
        for up_combo in itertools.product(*up_domains):
            result.cases += 1
            upstream = dict(zip(ups, up_combo, strict=True))
            try:
                outcome, possible = question_outcome(rs, q.id, values, upstream)
            except GapError as exc:
                if not any(f.subject == q.id and f.message.startswith("incomplete")
                           for f in result.findings):  # not already reported above
                    result.findings.append(Finding(
                        *_at(rs, q.id), q.id, "error",
                        f"incomplete with unknown facts: no outcome for "
                        f"{_case(rs, exc.assignment)}"))
                return seen or {q.outcomes[:1]}
            if outcome not in contract_outcomes:
                result.findings.append(Finding(*_at(rs, q.id), q.id, "error",
                                               f"outcome {outcome} is outside the contract"))
            seen.add(possible)
    return seen


def _check_vocabulary(vocab: Vocabulary, rulesets: list[RuleSet], result: CheckResult) -> None:
    """Facts declared but read by no rule, facts marked recorded-only that a rule reads,
    and cited paragraphs that no edition sharing the vocabulary has."""
    read: dict[str, str] = {}  # fact -> the first rule reading it
    for rs in rulesets:
        for rule in rs.rules.values():
            for var in sorted(rule.condition.variables):
                read.setdefault(var, rule.id)
    # a fact whose value forces that of a fact a rule reads (must_be ... when) is read
    # through it
    for imp in vocab.implications:
        if imp.fact in read and imp.when_fact not in read:
            read[imp.when_fact] = read[imp.fact]
    paragraphs = {pid for rs in rulesets for pid in rs.paragraphs}
    for path, spec in vocab.facts.items():
        file, line, column = vocab.locations.get(path, (vocab.files[0], 0, 0))
        where = (file, line or 0, column or 0)
        if path == vocab.scope.fact or spec.kind == "text":
            pass  # read by the machinery (the country scope), or never readable
        elif spec.recorded_only and path in read:
            result.findings.append(Finding(*where, path, "error",
                                           f"marked recorded_only, but rule {read[path]} "
                                           "reads it"))
        elif not spec.recorded_only and path not in read:
            result.findings.append(Finding(
                *where, path, "error", "no rule of "
                + ", ".join(rs.id for rs in rulesets)
                + " reads it; write a rule that does, or mark it recorded_only: true"))
        for pid in spec.cites:
            if pid not in paragraphs:
                result.findings.append(Finding(*where, path, "error",
                                               f"cites '{pid}', a paragraph of no edition "
                                               "using this vocabulary"))
