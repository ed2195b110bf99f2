"""The one function behind `riskassess evaluate`: read, choose the edition, evaluate.

It reads files but never prints or exits; the CLI renders what it returns and turns
its errors into exit codes. The clock is not read here: the caller passes `today`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from riskassess.assessment import Report
from riskassess.case import Case, case_from_document, load_case
from riskassess.engine import evaluate
from riskassess.ruleset import (
    CatalogEdition,
    EditionChoice,
    RuleSet,
    choose_edition,
    default_rules_dir,
    load_catalog,
    ruleset_for,
)
from riskassess.vocabulary import check_scope, load_vocabulary


@dataclass(frozen=True)
class Outcome:
    report: Report
    ruleset: RuleSet
    case: Case
    choice: EditionChoice


def assess_file(case_path: Path | str, *, today: dt.date, ruleset_id: str | None = None,
                rules_dir: Path | None = None) -> Outcome:
    """Assess one case file. Raises CaseFileError, RuleSetError, EditionNotEncodedError
    or UsageError (all UserError) with located messages."""
    from riskassess.errors import CaseFileError
    from riskassess.yamlio import read_yaml_file

    doc = read_yaml_file(case_path, error=CaseFileError)  # the case file's own errors first
    rules_dir = rules_dir or default_rules_dir()
    catalog, _ = load_catalog(rules_dir)
    case = case_from_document(doc, load_vocabulary(rules_dir / catalog.vocabulary))
    return assess_case(case, today=today, ruleset_id=ruleset_id, rules_dir=rules_dir)


def assess_case(case: Case, *, today: dt.date, ruleset_id: str | None = None,
                rules_dir: Path | None = None) -> Outcome:
    """Assess a case already read and validated (e.g. a variant built in memory)."""
    rules_dir = rules_dir or default_rules_dir()
    catalog, _ = load_catalog(rules_dir)
    check_scope(case)
    day = case.assessment_date or today
    choice = choose_edition(catalog, day, ruleset_id,
                            profile_picker(case, rules_dir, day))
    ruleset = ruleset_for(rules_dir, choice.entry)
    return Outcome(evaluate(case, ruleset, choice, day), ruleset, case, choice)


def profile_picker(case: Case, rules_dir: Path, day: dt.date,
                   loaded: dict[str, RuleSet] | None = None):
    """For rule sets of several profiles in force on one day: the first (in catalog order)
    whose applicability puts this case in its profile, else the first listed."""
    from riskassess.case import fact_values
    from riskassess.engine import question_outcome

    def pick(entries: list[CatalogEdition]) -> CatalogEdition:
        for entry in entries:
            rs = (loaded or {}).get(entry.id) or ruleset_for(rules_dir, entry)
            vocab = rs.vocabulary
            outcome, possible = question_outcome(rs, vocab.profile_question,
                                                 {k: v for k, v in fact_values(case).items()
                                                  if v != "unknown"}, {})
            if possible == (vocab.profile_outcome,):
                return entry
        return entries[0]
    return pick


def document(outcome: Outcome, generated_at: dt.datetime | None = None):
    """The annotated-reasoning document (with decisive facts) for the document formats."""
    from riskassess.explain import explain
    from riskassess.render.document import build

    report = outcome.report
    explanation = explain(outcome.case, outcome.ruleset, outcome.choice,
                          report.assessment_date, report)
    return build(report, outcome.ruleset, outcome.case, explanation, generated_at)


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

    def assess(self, path: Path) -> Outcome:
        case = load_case(path, self.vocabulary)
        check_scope(case)
        day = case.assessment_date or self.today
        choice = choose_edition(self.catalog, day, self.ruleset_id,
                                profile_picker(case, self.rules_dir, day, self.rulesets))
        ruleset = self.rulesets.get(choice.entry.id)
        if ruleset is None:
            ruleset = self.rulesets[choice.entry.id] = ruleset_for(self.rules_dir, choice.entry)
        return Outcome(evaluate(case, ruleset, choice, day), ruleset, case, choice)


def case_files(paths: list[Path]) -> list[Path]:
    """The case files named or found (recursively, *.yaml and *.yml) under the paths given,
    each once, sorted by path; scenario sidecars (*.expected.yaml) are left out.

    Paths are gathered as plain strings (a caseload may hold 100,000 files) and turned into
    Path objects lazily by the caller's iteration."""
    from riskassess.scenarios import SUFFIX

    found: set[str] = set()
    for path in paths:
        if path.is_dir():
            for folder, _, names in os.walk(path):
                for name in names:
                    if name.endswith((".yaml", ".yml")) and not name.endswith(SUFFIX):
                        found.add(Path(folder, name).as_posix())
        else:
            found.add(path.as_posix())  # missing or unreadable files are reported by the batch
    return _Paths(sorted(found))


class _Paths(list):
    """A sorted list of path strings that yields Path objects (and so stays small)."""

    def __iter__(self):
        return (Path(p) for p in list.__iter__(self))

    def __getitem__(self, index):
        item = list.__getitem__(self, index)
        return Path(item) if isinstance(index, int) else _Paths(item)
