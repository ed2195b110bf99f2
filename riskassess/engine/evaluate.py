"""evaluate(case, ruleset) -> Report, and one question alone for `rules check`.

Pure: no I/O, no printing, no clock. The work is done part by part (parts.py), from the
tables the rule set is compiled to (compiled.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from riskassess.engine.compiled import program
from riskassess.engine.parts import PartEvaluator
from riskassess.law.case import UNKNOWN, Case, fact_values
from riskassess.law.editions import EditionChoice
from riskassess.law.plain import QUESTION_PREFIX
from riskassess.law.report import Report, report_model
from riskassess.law.ruleset import RuleSet


def evaluate(case: Case, ruleset: RuleSet, choice: EditionChoice,
             assessment_date: dt.date) -> Report:
    """Assess one case under one rule set; `choice` says how the edition was chosen.

    The report is assembled as JSON bytes by the rule set's compiled program and read
    back into the report model, so the model and the bytes cannot disagree."""
    data = program(ruleset).report_json(case.case_id, assessment_date, fact_values(case),
                                        choice)
    return report_model(ruleset.vocabulary).model_validate_json(data)


def question_outcome(ruleset: RuleSet, qid: str, values: dict[str, Any],
                     upstream: dict[str, tuple[str, ...]]) -> tuple[str, tuple[str, ...]]:
    """Run the engine on one question alone, for `rules check`.

    `values` gives some facts (the rest are unknown); `upstream` gives, for each earlier
    question, the outcomes still possible. Returns the outcome and the possible outcomes."""
    full = {**{path: UNKNOWN for path in ruleset.vocabulary.facts}, **values}
    tokens = program(ruleset, build=False).tokens(full, dt.date.max)
    for up, outcomes in upstream.items():
        tokens[QUESTION_PREFIX + up] = outcomes[0] if len(outcomes) == 1 else tuple(outcomes)
    spec = next(q for q in ruleset.questions if q.id == qid)
    part = PartEvaluator(ruleset, tokens, tuple(ruleset.vocabulary.implications)
                         ).outcome_part(spec)
    return part.outcome, part.outcomes
