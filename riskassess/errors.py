"""One exception tree and one exit-code table for the whole tool.

A *user* error (a bad case file, a bad rule set, a date no encoded edition covers)
is the user's to fix: the CLI prints its located problems and exits with the code
below, never a traceback. Anything else is an internal error (a bug) and keeps its
traceback. A signal that stops the tool is not an error: `stopping.Interrupted`, exit 128 + its
number. Messages name the offending value only, never the whole case: case
files hold special-category personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

from riskassess.record import record


class ExitCode(IntEnum):
    """Exit codes, identical for every command (documented in --help and README)."""

    OK = 0
    FINDINGS = 1  # the command ran and found something to report (reserved for checks)
    USAGE = 2  # bad command line (typer/click use 2 as well)
    INVALID_INPUT = 3  # a case file could not be read or is not valid
    RULESET_ERROR = 4  # a rule set or the editions catalog is not valid
    NO_ENCODED_EDITION = 5  # the guidance in force on the assessment date is not encoded
    CANNOT_WRITE = 6  # an output file could not be written or its document made (nothing partial)
    OUT_OF_SCOPE = 7  # the applicant is from a country the encoded guidance does not concern
    INTERNAL = 70  # a bug: please report it with the traceback
    HANGUP = 129  # stopped by SIGHUP (its terminal closed): 128 + SIGHUP, as shells report
    INTERRUPTED = 130  # Ctrl-C or end of input at a prompt (the shells' 128 + SIGINT)
    TERMINATED = 143  # stopped by SIGTERM (`kill`, `timeout`, a service manager): 128 + 15


EXIT_CODE_HELP = (
    "Exit codes: 0 success; 1 findings; 2 usage error; 3 invalid input (case file); "
    "4 rule-set error; 5 the guidance in force on the assessment date is not encoded "
    "(use --ruleset to force one); 6 an output file could not be written or its document "
    "made; 7 the applicant's "
    "country is outside the guidance's scope; 70 internal error; 130 interrupted (Ctrl-C, or "
    "end of input at a prompt); 143 and 129 stopped by SIGTERM and SIGHUP."
)


@record(order=True)
class Problem:
    """One located problem: rendered as FILE:LINE:COLUMN: key.path: message."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        from riskassess.textcheck import printable

        where = printable(self.file)  # a line end in a file's name must not start a line
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.path:
            return f"{where}: {self.path}: {self.message}"
        return f"{where}: {self.message}"


class RiskAssessError(Exception):
    """Base of every error the tool raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL


class UserError(RiskAssessError):
    """An error the user can fix; carries every located problem found in one pass."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("riskassess", None, None, "", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = sorted(problems, key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_order(p: Problem) -> tuple:
    return (p.file, p.line or 0, p.column or 0, p.path, p.message)


class CaseFileError(UserError):
    """The case file cannot be read or does not follow the case-file contract."""

    exit_code = ExitCode.INVALID_INPUT


class RuleSetError(UserError):
    """A rule set, a COI registry or the editions catalog is not valid."""

    exit_code = ExitCode.RULESET_ERROR


class EditionNotEncodedError(UserError):
    """The edition in force on the assessment date exists but is not encoded."""

    exit_code = ExitCode.NO_ENCODED_EDITION


class OutOfScopeError(UserError):
    """The case names a country of origin the encoded guidance does not concern."""

    exit_code = ExitCode.OUT_OF_SCOPE


class UsageError(UserError):
    """A command-line value that the tool cannot act on (e.g. an unknown edition id)."""

    exit_code = ExitCode.USAGE


class OutputError(UserError):
    """An output file could not be written (disk full, no permission)."""

    exit_code = ExitCode.CANNOT_WRITE


class DocumentError(OutputError):
    """A case's document cannot be made in the format asked for (its content cannot be laid
    out); nothing is written. In a batch it is that case's refusal, not the batch's end."""


MAX_SHOWN = 50  # problems listed before the rest is only counted


def capped(problems: Sequence[Problem | str], limit: int = MAX_SHOWN) -> list[str]:
    """The lines to print for `problems`: the first `limit`, then how many more per file.

    A file of thousands of bad lines (a wrong file renamed to .yaml) would otherwise print
    megabytes that nobody reads; the first problems say what is wrong, the count says how
    much. Problems given as text have no file: their rest is counted without one."""
    lines = [str(p) for p in problems[:limit]]
    rest: dict[str, int] = {}
    for p in problems[limit:]:
        file = p.file if isinstance(p, Problem) else ""
        rest[file] = rest.get(file, 0) + 1
    for file, count in rest.items():
        lines.append(f"... and {count:,} more problem{'s' if count != 1 else ''}"
                     + (f" in {file}" if file else ""))
    return lines
