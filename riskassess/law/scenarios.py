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

from pydantic import BaseModel, ConfigDict, create_model

from riskassess.errors import CaseFileError
from riskassess.io.reader import read_yaml_file
from riskassess.law.report import Report, vocabulary_of_report
from riskassess.law.vocabulary import Vocabulary, item_key

SUFFIX = ".expected.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioFile(_Strict):
    """The sidecar's fixed part; `expected` is built per vocabulary (`sidecar_model`)."""

    format: int
    title: str
    summary: str  # one line, for `examples list` (gives nothing of the answer away)
    narrative: str
    based_on: list[str]
    expected: Any


def sidecar_model(vocab: Vocabulary) -> type[ScenarioFile]:
    """The sidecar model of a vocabulary: per question, its outcome and optionally each of
    its lists (records named by their key field, e.g. ground names)."""
    if "sidecar" not in vocab.models:
        questions: dict[str, Any] = {}
        for q in vocab.questions:
            lists = {s.name: (list[str] | None, None) for s in q.lists}
            model = create_model(f"Expected{q.title}", __base__=_Strict, outcome=(str, ...),
                                 rests_on=(list[str] | None, None),
                                 under_review=(bool | None, None),
                                 **lists, notes=(list[str] | None, None))
            questions[q.id] = (model, ...)
        expected = create_model(
            "Expected", __base__=_Strict,
            # the edition the case must be assessed under (chosen by its date)
            ruleset=(str, ...), **questions,
            open_questions=(list[str], ...), warnings=(list[str], ...))
        vocab.models["sidecar"] = create_model("ScenarioFile", __base__=ScenarioFile,
                                               expected=(expected, ...))
    return vocab.models["sidecar"]


@dataclass(frozen=True)
class Scenario:
    id: str
    case_path: Path
    meta: ScenarioFile


def scenario_ids(directory: Path) -> list[str]:
    """The ids of the examples in `directory` that have a sidecar, sorted, without reading
    them (a scenario's id is its sidecar's name less the suffix)."""
    return sorted(p.name[: -len(SUFFIX)] for p in directory.glob(f"*{SUFFIX}"))


def load_scenarios(directory: Path, vocab: Vocabulary | None = None) -> list[Scenario]:
    """Every example in `directory` that has a sidecar, sorted by id (sidecars read with
    `vocab`, by default the shipped rules' vocabulary)."""
    if vocab is None:
        from riskassess.law.ruleset import shipped_vocabulary

        vocab = shipped_vocabulary()
    model = sidecar_model(vocab)
    out = []
    for sid in scenario_ids(directory):
        sidecar = directory / f"{sid}{SUFFIX}"
        doc = read_yaml_file(sidecar, error=CaseFileError)
        meta = model.model_validate(doc.data)
        out.append(Scenario(sid, directory / f"{sid}.yaml", meta))
    return out


def _names(items: list[Any], vocab: Vocabulary) -> list[str]:
    return sorted(item_key(i, vocab) for i in items)


def compare(report: Report, expected: Any) -> list[str]:
    """Differences between a report and the expected outcomes (empty: they agree).

    Lists are compared as sets of codes (grounds by name): the expectation states what
    the guidance concludes, not the order in which rules happen to be listed."""
    diffs = []
    vocab = vocabulary_of_report(report)
    if report.ruleset.id != expected.ruleset:
        diffs.append(f"ruleset: expected {expected.ruleset}, got {report.ruleset.id}")
    for qid in report.question_ids:
        want = getattr(expected, qid)
        got = report.question(qid)
        if got.outcome != want.outcome:
            diffs.append(f"{qid}.outcome: expected {want.outcome}, got {got.outcome}")
        for key, value in want.model_dump(exclude={"outcome"}).items():
            if value is None:
                continue
            if key == "under_review":
                if got.under_review is not value:
                    diffs.append(f"{qid}.under_review: expected {value}, got {got.under_review}")
                continue
            if key == "rests_on":  # an order of its own (guidance first), compared as is
                if list(got.rests_on) != value:
                    diffs.append(f"{qid}.rests_on: expected {value}, got {list(got.rests_on)}")
                continue
            have = _names(getattr(got, key), vocab)
            if have != sorted(value):
                diffs.append(f"{qid}.{key}: expected {sorted(value)}, got {have}")
    facts = sorted(q.fact for q in report.open_questions)
    if facts != sorted(expected.open_questions):
        diffs.append(f"open_questions: expected {sorted(expected.open_questions)}, got {facts}")
    codes = sorted(w.code for w in report.warnings)
    if codes != sorted(expected.warnings):
        diffs.append(f"warnings: expected {sorted(expected.warnings)}, got {codes}")
    return diffs
