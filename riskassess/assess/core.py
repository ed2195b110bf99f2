"""The one function behind `riskassess evaluate`: read, choose the edition, evaluate.

It reads files but never prints or exits; the CLI renders what it returns and turns
its errors into exit codes. The clock is not read here: the caller passes `today`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from riskassess.assess.cache import sound_ruleset
from riskassess.assess.files import (  # noqa: F401 (light, for the fast path)
    CASE_FILE_NAMES,
    case_files,
    is_caseload,
    is_folder,
)
from riskassess.engine.evaluate import evaluate
from riskassess.law.case import (
    Case,
    case_from_document,
    check_scope,
    fact_values,
    load_case,
)
from riskassess.law.editions import EditionChoice, choose_for_case
from riskassess.law.report import Report
from riskassess.law.ruleset import (
    CatalogEdition,
    RuleSet,
    default_rules_dir,
    load_catalog,
)
from riskassess.law.vocabulary import load_vocabulary


@dataclass(frozen=True)
class Outcome:
    """One assessed case: what every renderer is given (render/formats.py)."""

    report: Report
    ruleset: RuleSet
    case: Case
    choice: EditionChoice
    # what is made from it once (the annotated document), for whichever format asks
    cache: dict = field(default_factory=dict, compare=False, repr=False)


def assess_file(case_path: Path | str, *, today: dt.date, ruleset_id: str | None = None,
                rules_dir: Path | None = None) -> Outcome:
    """Assess one case file. Raises CaseFileError, RuleSetError, EditionNotEncodedError
    or UsageError (all UserError) with located messages."""
    from riskassess.errors import CaseFileError
    from riskassess.io.reader import read_case_document

    doc = read_case_document(case_path, error=CaseFileError)  # the file's own errors first
    rules_dir = rules_dir or default_rules_dir()
    catalog, _ = load_catalog(rules_dir)
    case = case_from_document(doc, load_vocabulary(rules_dir / catalog.vocabulary))
    return assess_case(case, today=today, ruleset_id=ruleset_id, rules_dir=rules_dir)


def assess_case(case: Case, *, today: dt.date, ruleset_id: str | None = None,
                rules_dir: Path | None = None) -> Outcome:
    """Assess a case already read and validated (e.g. a variant built in memory)."""
    rules_dir = rules_dir or default_rules_dir()
    catalog, _ = load_catalog(rules_dir)
    return _assess(case, catalog, rules_dir, today, ruleset_id, {})


def _assess(case: Case, catalog, rules_dir: Path, today: dt.date, ruleset_id: str | None,
            rulesets: dict[str, RuleSet]) -> Outcome:
    """Scope, edition, rule set (compiled once per id in `rulesets`), evaluation."""
    check_scope(case)
    values = fact_values(case)
    day, choice = choose_for_case(catalog, case.assessment_date, today, ruleset_id,
                          lambda day: profile_picker(values, rules_dir, day, rulesets))
    ruleset = rulesets.get(choice.entry.id)
    if ruleset is None:
        ruleset = rulesets[choice.entry.id] = sound_ruleset(rules_dir, choice.entry)
    return Outcome(evaluate(case, ruleset, choice, day), ruleset, case, choice)


def profile_picker(values: dict, rules_dir: Path, day: dt.date,
                   loaded: dict[str, RuleSet] | None = None):
    """For rule sets of several profiles in force on one day: the first (in catalog order)
    whose applicability puts a case (its facts' values) in its profile, else the first
    listed."""
    from riskassess.engine.evaluate import question_outcome

    def pick(entries: list[CatalogEdition]) -> CatalogEdition:
        for entry in entries:
            rs = (loaded or {}).get(entry.id) or sound_ruleset(rules_dir, entry)
            vocab = rs.vocabulary
            outcome, possible = question_outcome(rs, vocab.profile_question,
                                                 {k: v for k, v in values.items()
                                                  if v != "unknown"}, {})
            if possible == (vocab.profile_outcome,):
                return entry
        return entries[0]
    return pick


# ----------------------------------------------------------------------- batches


class Assessor:
    """Assesses many case files with one catalog and one compiled rule set per edition."""

    def __init__(self, *, today: dt.date, ruleset_id: str | None = None,
                 rules_dir: Path | None = None):
        self.today = today
        self.ruleset_id = ruleset_id
        self.rules_dir = rules_dir or default_rules_dir()
        self.catalog, _ = load_catalog(self.rules_dir)
        self.vocabulary = load_vocabulary(self.rules_dir / self.catalog.vocabulary)
        self.rulesets: dict[str, RuleSet] = {}
        self.choices: dict[tuple, EditionChoice] = {}
        self.several_profiles = _several_profiles(self.catalog)
        from riskassess.assess import cache as bundle

        # compiled programs from the cache when it has them (no rule YAML, no compiling)
        self.bundle = bundle.load(self.rules_dir)
        self.programs: dict[str, object] = {}

    def assess(self, path: Path) -> Outcome:
        return _assess(load_case(path, self.vocabulary), self.catalog, self.rules_dir,
                       self.today, self.ruleset_id, self.rulesets)

    def outcome_of(self, doc, *, today: dt.date | None = None,
                   ruleset_id: str | None = None) -> Outcome:
        """The full `Outcome` (report model, rule set, case) of a case file already read,
        as `assess_file` gives it: what the annotated documents are made from."""
        return _assess(case_from_document(doc, self.vocabulary), self.catalog, self.rules_dir,
                       self.today if today is None else today,
                       self.ruleset_id if ruleset_id is None else ruleset_id, self.rulesets)

    def assess_fast(self, path: Path):
        """Assess a case file into a compiled `Assessed` (outcomes, and the report as JSON
        bytes identical to `assess(path).report.model_dump_json()`), without building
        the report model. Raises what `assess` raises, with the same messages."""
        from riskassess.errors import CaseFileError
        from riskassess.io.reader import read_case_document

        return self.assess_document(read_case_document(path, error=CaseFileError))

    def assess_document(self, doc, *, today: dt.date | None = None,
                        ruleset_id: str | None = None):
        """`assess_fast` for a case file already read. `today` and `ruleset_id`, when
        given, replace the assessor's own for this case (a service that runs for days)."""
        from riskassess.law.case import plain_reader

        today = self.today if today is None else today
        ruleset_id = self.ruleset_id if ruleset_id is None else ruleset_id

        plain = plain_reader(self.vocabulary)(doc)
        scope = self.vocabulary.scope.fact
        if plain is None or plain.values.get(scope, "unknown") not in (
                "unknown", self.vocabulary.country):
            # the case model decides: it refuses with located problems, or reads a form
            # the plain reading does not take
            case = case_from_document(doc, self.vocabulary)
            check_scope(case)
            case_id, given, values = case.case_id, case.assessment_date, fact_values(case)
        else:
            case_id, given, values = plain.case_id, plain.assessment_date, plain.values
        key = (given, today, ruleset_id)
        found = self.choices.get(key)
        if found is None:
            found = choose_for_case(self.catalog, given, today, ruleset_id, lambda day: (
                profile_picker(values, self.rules_dir, day, self.rulesets)))
            if not self.several_profiles:  # otherwise the choice depends on the facts
                if len(self.choices) > 10_000:  # bounded for a long-running service
                    self.choices.clear()
                self.choices[key] = found
        day, choice = found
        compiled = self.programs.get(choice.entry.id)
        if compiled is None:
            compiled = self.programs[choice.entry.id] = self._program(choice.entry)
        return compiled.assess(case_id, day, values, choice)

    def _program(self, entry: CatalogEdition):
        from riskassess.engine.compiled import program

        if self.bundle is not None and entry.id in self.bundle.programs:
            return self.bundle.programs[entry.id]
        ruleset = self.rulesets.get(entry.id)
        if ruleset is None:
            ruleset = self.rulesets[entry.id] = sound_ruleset(self.rules_dir, entry)
        return program(ruleset)


def _several_profiles(catalog) -> bool:
    """Whether rule sets of several profiles may be in force on one day."""
    return len({e.profile for e in catalog.editions}) > 1
