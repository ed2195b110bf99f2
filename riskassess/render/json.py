"""The JSON report (shared/spec/report-json.md): stable key order, no timestamps; its
one-line form for batches; and the compact outcomes line (`riskassess schema outcomes`)."""

from __future__ import annotations

from typing import Any

from riskassess.law.report import Report
from riskassess.render.formats import Options


def render(report: Report) -> str:
    """The report's JSON, indented (io/jsontext.py: orjson where its bytes are the
    standard library's)."""
    from riskassess.io.jsontext import pretty

    return pretty(report.model_dump_json())


def render_outcome(outcome: Any, options: Options) -> str:
    return render(outcome.report)


def render_line(outcome: Any, options: Options) -> str:
    """The report on one line (a batch's JSON lines)."""
    return outcome.report.model_dump_json() + "\n"


def render_outcomes(outcome: Any, options: Options) -> bytes:
    """The compact line, made by the compiled rule set the report came from."""
    from riskassess.engine.compiled import program
    from riskassess.law.case import fact_values

    report = outcome.report
    done = program(outcome.ruleset).assess(report.case_id, report.assessment_date,
                                           fact_values(outcome.case), outcome.choice)
    return done.outcomes_line(options.path) + b"\n"
