"""The caseload impact of a guidance change: every case file under two editions, counted.

`compare FOLDER --editions A B` assesses each case file of a caseload under edition A and
under edition B and counts, per question, how many cases went from each outcome under A
to each outcome under B. The facts are the same in both assessments (one case file), so
every change comes from the edition.

Files are taken in path order (`core.case_files`), as `evaluate FOLDER` takes them, and
the lines of a JSONL caseload in order, each a case (`batch.jsonl_cases`). Only
counts are kept (and, per refused file, its path, first problem and exit code), never a
report, so memory does not grow with the number of cases assessed. A file refused under
either edition is counted once, with the first problem found. A broken rule set stops the
run: every case would be affected.

A case is assessed in one place, `outcomes_of`, which returns only what the counts and
the summary CSV need, so that a faster engine path can later take its place.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from riskassess.assess.batch import PROBLEMS_SHOWN, cases_of, refusal, shown_name
from riskassess.assess.core import Assessor
from riskassess.errors import CaseFileError, ExitCode, RuleSetError, UserError, capped
from riskassess.io.reader import read_case_document
from riskassess.law.vocabulary import Vocabulary


class Assessed(NamedTuple):
    """One case under one edition: what the caseload counts and the CSV shows."""

    case_id: str
    assessment_date: str  # ISO date
    outcomes: tuple[str, ...]  # one per question, in the vocabulary's order


def outcomes_of(assessor: Assessor, doc: Any) -> Assessed:
    """Assess one case file already read (an io.reader.Document) with the compiled engine and
    keep only its outcomes (no report is built).

    Raises what `Assessor.assess` raises: a UserError (or OSError) refuses the file, a
    RuleSetError stops the run."""
    done = assessor.assess_document(doc)
    return Assessed(done.case_id or "", done.day.isoformat(), tuple(done.outcomes))


@dataclass
class Impact:
    """The counts of one caseload under two editions."""

    editions: tuple[str, str]
    titles: tuple[str, str]  # the catalog's titles of the two editions
    vocabulary: Vocabulary = field(repr=False)  # the questions' outcomes and their labels
    questions: tuple[str, ...]
    files: int = 0
    assessed: int = 0
    changed: int = 0  # cases whose outcome changed on at least one question
    transitions: Counter = field(default_factory=Counter)  # (question, before, after) -> cases
    refused: list[tuple[str, str, int, int]] = field(default_factory=list)
    # ^ path, first problem, number of problems, exit code
    skipped: dict[str, int] = field(default_factory=dict)  # why a folder's file was left out

    @property
    def exit_code(self) -> int:
        """The most severe refusal's code (as `evaluate FOLDER` gives it), else 0."""
        return max((code for *_, code in self.refused), default=int(ExitCode.OK))

    def matrix(self, question: str) -> dict[tuple[str, str], int]:
        """(outcome under A, outcome under B) -> cases, for one question."""
        return {(a, b): n for (q, a, b), n in self.transitions.items() if q == question}


def assessors(editions: tuple[str, str], *, today: dt.date, rules_dir: Path | None = None
              ) -> tuple[Assessor, Assessor]:
    """One assessor per edition, each edition forced. An id that is not an encoded edition
    is refused here, as a usage error, before any file is read: otherwise every file of
    the caseload would be refused for it."""
    from riskassess.law.editions import choose_edition

    first = Assessor(today=today, ruleset_id=editions[0], rules_dir=rules_dir)
    second = Assessor(today=today, ruleset_id=editions[1], rules_dir=rules_dir)
    for edition in editions:
        choose_edition(first.catalog, today, edition)  # UsageError if not encoded
    return first, second


def compare_caseload(paths: list[Path], editions: tuple[str, str], *, today: dt.date,
                     rules_dir: Path | None = None, summary_csv: Path | None = None,
                     force: bool = False) -> Impact:
    """The caseload found under `paths` (files and folders), assessed under both editions;
    with `summary_csv`, its rows written through the safe writer (atomically, never over an
    input or anything but a regular file, an existing file only with `force`), as
    `evaluate --summary-csv` writes its own."""
    import contextlib

    from riskassess.assess.core import CASE_FILE_NAMES, case_files
    from riskassess.errors import UsageError
    from riskassess.io.writer import atomic_writer, text_stream

    first, second = assessors(editions, today=today, rules_dir=rules_dir)
    files = case_files(paths)
    if not files:
        raise UsageError(f"no case files ({CASE_FILE_NAMES}) in: " + ", ".join(map(str, paths)))
    with contextlib.ExitStack() as stack:
        csv_out = None
        if summary_csv is not None:
            csv_out = stack.enter_context(text_stream(
                stack.enter_context(atomic_writer(summary_csv, force=force, inputs=files,
                                                  option="--summary-csv"))))
        return run(files, first, second, csv_out=csv_out)


def csv_columns(questions: tuple[str, ...], editions: tuple[str, str]) -> list[str]:
    """The CSV header: per question, its outcome under each edition (`QUESTION:EDITION`)."""
    return ["path", "case_id", "assessment_date",
            *(f"{q}:{e}" for q in questions for e in editions), "changed", "refused"]


def run(files: Iterable[Path], first: Assessor, second: Assessor, *,
        csv_out: TextIO | None = None,
        assess: Callable[[Assessor, Any], Assessed] = outcomes_of) -> Impact:
    """Assess `files` in order under both editions (each case by `assess`), counting the
    transitions; with `csv_out`, one row per file as it is assessed."""
    questions = first.vocabulary.question_ids
    editions = (first.ruleset_id, second.ruleset_id)
    titles = {e.id: e.title for e in first.catalog.editions}
    impact = Impact(editions=editions, titles=tuple(titles.get(e, e) for e in editions),
                    vocabulary=first.vocabulary, questions=questions,
                    skipped=dict(getattr(files, "skipped", {})))
    writer = csv.writer(csv_out, lineterminator="\n") if csv_out else None
    if writer:
        writer.writerow(csv_columns(questions, editions))
    for name, case in cases_of(files):
        shown = shown_name(name)
        impact.files += 1
        try:
            if isinstance(case, BaseException):
                raise case
            # read once, assessed twice
            doc = case if hasattr(case, "data") else read_case_document(case,
                                                                        error=CaseFileError)
            before = assess(first, doc)
            after = assess(second, doc)
        except RuleSetError:
            raise
        except (UserError, OSError, RecursionError, MemoryError) as exc:
            # Whatever stops one file from being read or assessed is that file's refusal,
            # counted once (the first edition's problem, if both refuse it); the run goes on.
            found, code = refusal(exc, shown)
            impact.refused.append((shown, str(found[0]), len(found), code))
            if writer:
                writer.writerow([shown, "", "", *("" for _ in questions for _ in editions),
                                 "", " | ".join(capped(found, PROBLEMS_SHOWN))])
        else:
            impact.assessed += 1
            pairs = list(zip(before.outcomes, after.outcomes, strict=True))
            changed = [q for q, (a, b) in zip(questions, pairs, strict=True) if a != b]
            impact.changed += bool(changed)
            for q, (a, b) in zip(questions, pairs, strict=True):
                impact.transitions[(q, a, b)] += 1
            if writer:
                writer.writerow([shown, before.case_id, before.assessment_date,
                                 *(o for pair in pairs for o in pair), ";".join(changed), ""])
    return impact


# ----------------------------------------------------------------------- the text
