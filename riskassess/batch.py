"""Assessing a caseload: many files, one pass, streamed.

Files are taken in path order (so the output does not depend on the order they were
named in), each is assessed or refused, and its line (a JSON report, or a one-line
summary) is written at once. Only counts are kept, so memory does not grow with the
number of cases. A refused file is reported and counted; it does not stop the batch.
A broken rule set does: every case would be affected.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from riskassess.core import Assessor
from riskassess.errors import ExitCode, RuleSetError, UserError, capped

PROBLEMS_SHOWN = 20  # per refused file in the summary; the exit code does not change


def csv_columns(questions: tuple[str, ...]) -> list[str]:
    """The CSV header: one outcome column per question of the vocabulary."""
    return ["path", "case_id", "assessment_date", "ruleset", *questions, "open_questions",
            "warnings", "refused"]


@dataclass
class Tally:
    files: int = 0
    assessed: int = 0
    outcomes: Counter = field(default_factory=Counter)  # (question, outcome) -> count
    refused: list[tuple[str, list[str], int]] = field(default_factory=list)  # path, problems, code
    skipped: dict[str, int] = field(default_factory=dict)  # why a folder's file was left out
    questions: tuple[str, ...] = ()  # the vocabulary's questions, in order

    @property
    def exit_code(self) -> int:
        return max((code for _, _, code in self.refused), default=int(ExitCode.OK))


def run(files: list[Path], assessor: Assessor, *, fmt: str, out: TextIO,
        csv_out: TextIO | None = None, tick: Callable[[], None] | None = None) -> Tally:
    """Assess `files` in order, writing one line per file to `out` (fmt: text or jsonl)."""
    questions = assessor.vocabulary.question_ids
    tally = Tally(questions=questions, skipped=dict(getattr(files, "skipped", {})))
    writer = csv.writer(csv_out, lineterminator="\n") if csv_out else None
    if writer:
        writer.writerow(csv_columns(questions))
    for path in files:
        tally.files += 1
        shown = path.as_posix()
        try:
            outcome = assessor.assess(path)
        except RuleSetError:
            raise
        except (UserError, OSError, RecursionError, MemoryError) as exc:
            # Whatever stops one file from being read or parsed is that file's refusal;
            # the batch goes on. (The reader turns every such cause into a UserError; the
            # others are a last line of defence, so that one file never costs the rest.)
            if isinstance(exc, UserError):
                found, code = exc.problems, int(exc.exit_code)
            else:
                reason = getattr(exc, "strerror", None) or type(exc).__name__
                found, code = [f"{shown}: cannot be read ({reason})"], int(ExitCode.INVALID_INPUT)
            # only the first problems are kept, with a count of the rest: a bad file's
            # thousands of lines would otherwise fill the summary and the memory
            problems = capped(found, PROBLEMS_SHOWN)
            tally.refused.append((shown, problems, code))
            if fmt == "text":
                out.write(f"{shown}: REFUSED ({len(found)} problem"
                          f"{'s' if len(found) > 1 else ''}): {problems[0]}\n")
            if writer:
                writer.writerow([shown, "", "", "", *("" for _ in questions), "", "",
                                 " | ".join(problems)])
        else:
            report = outcome.report
            tally.assessed += 1
            outcomes = [report.question(q).outcome for q in questions]
            for q, o in zip(questions, outcomes, strict=True):
                tally.outcomes[(q, o)] += 1
            if fmt == "jsonl":  # the JSON report, compact, on one line
                out.write(report.model_dump_json() + "\n")
            else:
                warned = f"; warnings: {', '.join(w.code for w in report.warnings)}" \
                    if report.warnings else ""
                out.write(f"{shown}: {report.ruleset.id}: {' | '.join(outcomes)}{warned}\n")
            if writer:
                writer.writerow([shown, report.case_id or "", report.assessment_date.isoformat(),
                                 report.ruleset.id, *outcomes,
                                 ";".join(o.fact for o in report.open_questions),
                                 ";".join(w.code for w in report.warnings), ""])
        if tick:
            tick()
    return tally


def summary(tally: Tally) -> str:
    lines = [f"Summary: {tally.files} file(s), {tally.assessed} assessed, "
             f"{len(tally.refused)} refused, {sum(tally.skipped.values())} skipped"]
    for reason, count in tally.skipped.items():
        lines.append(f"  skipped {count}: {reason}")
    if tally.outcomes:
        width = max(len(o) for _, o in tally.outcomes)
        lines.append(f"  {'question':<14}{'outcome':<{width + 2}}cases")
        for q in tally.questions:
            for (question, outcome), count in sorted(tally.outcomes.items()):
                if question == q:
                    lines.append(f"  {q:<14}{outcome:<{width + 2}}{count}")
    if tally.refused:
        lines.append("Refused files:")
        for path, problems, code in tally.refused:
            lines.append(f"  {path} (exit {code}):")
            lines += [f"    {p}" for p in problems]
    return "\n".join(lines) + "\n"

