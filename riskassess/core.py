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
from riskassess.case import Case, load_case
from riskassess.engine import evaluate
from riskassess.ruleset import (
    EditionChoice,
    RuleSet,
    choose_edition,
    default_rules_dir,
    load_catalog,
    ruleset_for,
)


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
    return assess_case(load_case(case_path), today=today, ruleset_id=ruleset_id,
                       rules_dir=rules_dir)


def assess_case(case: Case, *, today: dt.date, ruleset_id: str | None = None,
                rules_dir: Path | None = None) -> Outcome:
    """Assess a case already read and validated (e.g. a variant built in memory)."""
    rules_dir = rules_dir or default_rules_dir()
    catalog, _ = load_catalog(rules_dir)
    day = case.assessment_date or today
    choice = choose_edition(catalog, day, ruleset_id)
    ruleset = ruleset_for(rules_dir, choice.entry)
    return Outcome(evaluate(case, ruleset, choice, day), ruleset, case, choice)


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
        self.rulesets: dict[str, RuleSet] = {}

    def assess(self, path: Path) -> Outcome:
        case = load_case(path)
        day = case.assessment_date or self.today
        choice = choose_edition(self.catalog, day, self.ruleset_id)
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
