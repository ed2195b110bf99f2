"""The one function behind `riskassess evaluate`: read, choose the edition, evaluate.

It reads files but never prints or exits; the CLI renders what it returns and turns
its errors into exit codes. The clock is not read here: the caller passes `today`.
"""

from __future__ import annotations

import datetime as dt
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
    case = load_case(case_path)
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
