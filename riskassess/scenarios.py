"""Example scenarios: a case file plus a sidecar with its story and expected outcomes.

`examples/NAME.yaml` is an ordinary case file; `examples/NAME.expected.yaml` holds the
title, a short narrative, the paragraphs the scenario draws on and the outcomes the
guidance gives. The expectations are written by hand from the guidance, never
generated from the engine, so that comparing them with a report can catch a rule
that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from riskassess.assessment import QUESTIONS, Ground, Report
from riskassess.errors import CaseFileError
from riskassess.yamlio import read_yaml_file

SUFFIX = ".expected.yaml"


class ExpectedQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: str
    refer_to: list[str] | None = None
    bases: list[str] | None = None
    substantiated_for: list[str] | None = None
    enhancing_factors: list[str] | None = None
    non_reducing_factors: list[str] | None = None
    grounds: list[str] | None = None  # ground names
    indicators: list[str] | None = None
    notes: list[str] | None = None


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ruleset: str  # the edition the case must be assessed under (chosen by its date)
    applicability: ExpectedQuestion
    persecution: ExpectedQuestion
    risk: ExpectedQuestion
    nexus: ExpectedQuestion
    exclusion: ExpectedQuestion
    open_questions: list[str]
    warnings: list[str]


class ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int
    title: str
    summary: str  # one line, for `examples list` (gives nothing of the answer away)
    narrative: str
    based_on: list[str]
    expected: Expected


@dataclass(frozen=True)
class Scenario:
    id: str
    case_path: Path
    meta: ScenarioFile


def load_scenarios(directory: Path) -> list[Scenario]:
    """Every example in `directory` that has a sidecar, sorted by id."""
    out = []
    for sidecar in sorted(directory.glob(f"*{SUFFIX}")):
        sid = sidecar.name[: -len(SUFFIX)]
        doc = read_yaml_file(sidecar, error=CaseFileError)
        meta = ScenarioFile.model_validate(doc.data)
        out.append(Scenario(sid, directory / f"{sid}.yaml", meta))
    return out


def _names(items: list[Any]) -> list[str]:
    return sorted(i.ground if isinstance(i, Ground) else str(i) for i in items)


def compare(report: Report, expected: Expected) -> list[str]:
    """Differences between a report and the expected outcomes (empty: they agree).

    Lists are compared as sets of codes (grounds by name): the expectation states what
    the guidance concludes, not the order in which rules happen to be listed."""
    diffs = []
    if report.ruleset.id != expected.ruleset:
        diffs.append(f"ruleset: expected {expected.ruleset}, got {report.ruleset.id}")
    for qid in QUESTIONS:
        want: ExpectedQuestion = getattr(expected, qid)
        got = report.question(qid)
        if got.outcome != want.outcome:
            diffs.append(f"{qid}.outcome: expected {want.outcome}, got {got.outcome}")
        for key, value in want.model_dump(exclude={"outcome"}).items():
            if value is None:
                continue
            have = _names(getattr(got, key))
            if have != sorted(value):
                diffs.append(f"{qid}.{key}: expected {sorted(value)}, got {have}")
    facts = sorted(q.fact for q in report.open_questions)
    if facts != sorted(expected.open_questions):
        diffs.append(f"open_questions: expected {sorted(expected.open_questions)}, got {facts}")
    codes = sorted(w.code for w in report.warnings)
    if codes != sorted(expected.warnings):
        diffs.append(f"warnings: expected {sorted(expected.warnings)}, got {codes}")
    return diffs
