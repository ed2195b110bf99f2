"""The JSON report (shared/spec/report-json.md): stable key order, no timestamps."""

from __future__ import annotations

import json

from riskassess.law.report import Report


def render(report: Report, ruleset: object = None) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
