"""Assessing a caseload: many files, one pass, streamed.

Files are taken in path order (so the output does not depend on the order they were
named in), each is assessed or refused, and its line (a JSON report, or a one-line
summary) is written at once. Only counts are kept, so memory does not grow with the
number of cases. A refused file is reported and counted; it does not stop the batch.
A broken rule set does: every case would be affected.

A batch of documents (`Documents`) writes each assessed case's document into a folder as
the case is assessed, and prints the text line for it.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import os
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from riskassess.core import Assessor, Outcome
from riskassess.errors import ExitCode, RuleSetError, UsageError, UserError, capped
from riskassess.render import EXTENSIONS, Format

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
    documents: int | None = None  # written, in a batch of documents
    folder: str = ""  # where they were written

    @property
    def exit_code(self) -> int:
        return max((code for _, _, code in self.refused), default=int(ExitCode.OK))


def run(files: list[Path], assessor: Assessor, *, fmt: str, out: TextIO,
        csv_out: TextIO | None = None, tick: Callable[[], None] | None = None,
        documents: Documents | None = None) -> Tally:
    """Assess `files` in order, writing one line per file to `out` (fmt: text or jsonl);
    with `documents`, each assessed case's document too, named at the end of its line."""
    questions = assessor.vocabulary.question_ids
    tally = Tally(questions=questions, skipped=dict(getattr(files, "skipped", {})))
    if documents is not None:
        tally.documents, tally.folder = 0, documents.folder.as_posix().rstrip("/") + "/"
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
                written = ""
                if documents is not None:
                    written = f" -> {documents.write(path, outcome)}"
                    tally.documents += 1
                out.write(f"{shown}: {report.ruleset.id}: {' | '.join(outcomes)}{warned}"
                          f"{written}\n")
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
    if tally.documents is not None:
        lines.append(f"  {tally.documents} document(s) written in {tally.folder}")
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



# ----------------------------------------------------------------------- documents

def is_document(format: Format) -> bool:
    """Whether a format is a document (one file per case): every format but the text, the
    JSON report and its one-line form."""
    return format not in (Format.text, Format.json, Format.jsonl)


def document_formats() -> list[str]:
    return [f.value for f in Format if is_document(f)]


def extension(format: Format) -> str:
    """The extension a document of `format` is named with: the first one that names the
    format (.md for markdown), else the format's name."""
    return next((ext for ext, named in EXTENSIONS.items() if named is format),
                f".{format.value}")


class Documents:
    """One document per case, written into a folder (`evaluate FOLDER -f FORMAT -o OUT/`).

    A case's document is named after its file: the file's name without its extension, and
    the format's (caseload/2024/A-17.yaml -> OUT/A-17.docx). Its bytes are those that
    `evaluate CASE -f FORMAT -o FILE` writes for the case on the same day. Two cases whose
    documents would have one name (a.yaml in two folders, a.yaml and a.yml, or names that
    differ only in case, one file on many file systems) are refused before anything is
    assessed or written (`check`): a document must never silently take another case's place,
    and a name that depended on which case came first would surprise.

    Each document is written by the safe writer, atomically, as soon as its case is
    assessed: an interruption leaves only complete documents. An existing document is
    replaced only with `force`, and only if it is a regular file; no document may be a case
    file or the --summary-csv file."""

    def __init__(self, folder: Path, format: Format, *, force: bool,
                 summary_csv: Path | None = None, timestamp: bool = False):
        self.folder, self.format, self.force = Path(folder), format, force
        self.summary_csv, self.timestamp = summary_csv, timestamp
        self.extension = extension(format)
        self.renderer = importlib.import_module(f"riskassess.render.{format.value}")

    def target(self, case: Path) -> Path:
        return self.folder / f"{Path(case).stem}{self.extension}"

    def check(self, files: list[Path], *, exists: bool) -> None:
        """Refuse, before any work, two cases of one document name, and (when the folder
        `exists`) a document that may not be written: an input, the summary, an existing
        file without `force`, anything but a regular file."""
        from riskassess.output import check_targets, probe_folder

        seen: dict[str, tuple[str, str]] = {}  # folded name -> (case file, document name)
        for path in files:
            name = self.target(path).name
            key = unicodedata.normalize("NFC", name).casefold()
            first = seen.setdefault(key, (path.as_posix(), name))
            if first[0] != path.as_posix():
                same = (f"would both be written to {(self.folder / name).as_posix()}"
                        if first[1] == name else
                        f"would be written to {(self.folder / first[1]).as_posix()} and "
                        f"{(self.folder / name).as_posix()}, names that differ only in case "
                        "(one file on many systems)")
                raise UsageError(f"the documents of {first[0]} and {path.as_posix()} {same}; "
                                 "rename one of the case files, or assess them into "
                                 "different folders")
        csv = self.summary_csv
        if csv is not None and os.path.realpath(csv.parent) == os.path.realpath(self.folder):
            folded = unicodedata.normalize("NFC", csv.name).casefold()
            if folded in seen:  # (found below as well when the folder exists; not before)
                raise UsageError(f"--summary-csv {csv} would be the document of "
                                 f"{seen[folded][0]}; give each output its own")
        if exists:
            check_targets((self.target(p) for p in files), force=self.force, inputs=files,
                          others={"--summary-csv": csv})
            probe_folder(self.folder, f"into --output {self.folder}")

    def write(self, case: Path, outcome: Outcome) -> str:
        """Make and write the document of one assessed case; returns where it went."""
        from riskassess.core import document
        from riskassess.output import write_output

        when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) \
            if self.timestamp else None
        data = self.renderer.render(document(outcome, when))
        target = self.target(case)
        write_output(target, data.encode("utf-8") if isinstance(data, str) else data,
                     force=self.force, inputs=[p for p in (case, self.summary_csv) if p])
        return target.as_posix()
