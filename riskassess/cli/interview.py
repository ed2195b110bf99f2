"""`riskassess interview`: a case file written by answering questions."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from riskassess import record
from riskassess.cli import streams
from riskassess.cli.options import (
    RulesDir,
    given_path,
    parse_date,
)
from riskassess.errors import ExitCode, UsageError
from riskassess.law.plain import CASE_ID_PATTERN
from riskassess.words import CASE_ID_FORM, echoed


def interview(
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", parser=given_path, metavar="<path>",
        help="Write the case file here (atomically); default: print it. "
                               "Answers are kept in OUTPUT.draft as you go.")] = None,
    from_: Annotated[Optional[Path], typer.Option(
        "--from", parser=given_path, metavar="<path>",
        help="Resume from an existing case file, asking only what is still open.")
    ] = None,
    date: Annotated[Optional[str], typer.Option(
        "--date", help="The assessment date (YYYY-MM-DD); default: the resumed file's, "
                       "or today. It selects the edition whose rules choose the questions.")
    ] = None,
    case_id: Annotated[Optional[str], typer.Option("--case-id", help="Your reference.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the --output file without asking.")] = False,
    rules_dir: RulesDir = None,
) -> None:
    """Build a case file by answering questions: only the facts that can still change a
    conclusion are asked, chosen by the rules; then the assessment is shown.

    Example: riskassess interview --date 2024-06-01 -o case.yaml"""
    import shutil

    from riskassess.errors import CaseFileError
    from riskassess.io.reader import read_file_bytes
    from riskassess.io.writer import check_target, same_file, write_output
    from riskassess.law.case import load_case
    from riskassess.law.editions import choose_edition
    from riskassess.law.ruleset import (
        catalog_vocabulary,
        default_rules_dir,
        load_catalog,
    )
    from riskassess.render.terminal import render as render_text
    from riskassess.teach import typed
    from riskassess.teach.interview import (
        Interview,
        answers_from,
        draft_text,
        own_comments,
        run,
        to_yaml,
    )
    from riskassess.teach.screen import fitted

    # The options first, by the rules the case file they go into obeys: a date or a
    # reference the file could not hold is refused before anything else
    given_day = parse_date(date, "--date") if date is not None else None
    if case_id is not None and not re.fullmatch(CASE_ID_PATTERN, case_id):
        raise typer.BadParameter(f"'{echoed(case_id)}' is not {CASE_ID_FORM}",
                                 param_hint="--case-id")
    if not sys.stdin.isatty():
        raise UsageError("interview asks its questions at a terminal, and there is none; "
                         "write the case file by hand instead (its format: riskassess schema "
                         "case)")
    directory = rules_dir or default_rules_dir()
    catalog, _ = load_catalog(directory)
    answers: dict = {}
    comments = None
    if from_ is not None:
        resumed = load_case(from_, catalog_vocabulary(directory))
        # the draft's note of facts answered unknown is a comment, and so are the person's
        # own notes, which the file written keeps: read the text again, through the same
        # safe reader
        text = read_file_bytes(from_).decode("utf-8-sig", "replace")
        answers = answers_from(resumed, text)
        comments = own_comments(resumed, text)
        case_id = case_id or resumed.case_id
        day = given_day or resumed.assessment_date or dt.date.today()
    else:
        day = given_day or dt.date.today()
    choose_edition(catalog, day, can_force=False)  # refuse now, not after the questions
    # Everything that can be checked about where the answers will go is checked before the
    # first question, so that no answer is typed in vain. The file is replaced only after a
    # confirmation at the end (or with --force), so an existing one is allowed here.
    draft = Path(f"{output}.draft") if output is not None else Path("riskassess-interview.draft")
    if output is not None:
        check_target(output, force=True, inputs=[])
    resuming_draft = from_ is not None and draft.exists() and same_file(draft, from_)
    if draft.exists() and not resuming_draft:
        raise UsageError(f"{draft} holds the answers of an earlier, unfinished interview; "
                         f"resume it with --from {draft}, or remove it")
    check_target(draft, force=True, inputs=[p for p in (from_,) if p and not resuming_draft],
                 option="the interview draft")
    session = Interview(catalog, directory, day, case_id, answers=answers, comments=comments)
    try:  # the facts resumed may not all hold on another date (one after --date)
        session.case()
    except CaseFileError as exc:
        raise UsageError([record.replace(p, file=f"{from_} (--date {day})")
                          for p in exc.problems]) from None

    def save() -> None:
        write_output(draft, draft_text(session).encode("utf-8"), force=True, inputs=[],
                     option="the interview draft")

    width = shutil.get_terminal_size((100, 24)).columns
    typer.echo(fitted(f"Interview for an assessment on {day.isoformat()}. Answer each "
                      "question; only facts that can still change a conclusion are asked.\n"
                      f"Every answer is kept in {draft} as you go (resume with --from "
                      f"{draft}).", width, hang=0), nl=False)
    try:
        run(session, streams.ask, lambda text: typer.echo(text, nl=False), save=save, width=width)
    except (EOFError, KeyboardInterrupt):
        kept = (f"your {len(session.answers)} answer(s) are kept in {draft}; resume with "
                f"riskassess interview --from {draft}"
                + (f" -o {output}" if output is not None else "")) if draft.exists() \
            else "no answer had been given"
        typer.echo(f"\ninterview interrupted; {kept}", err=True)
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    report, ruleset = session.assess()
    typer.echo(f"\n{len(session.asked)} question(s) asked.\n")
    typer.echo(render_text(report, ruleset, width=100, color=False))
    text = to_yaml(session.case(), comments=comments)
    if output is None:
        typer.echo(text, nl=False)
        draft.unlink(missing_ok=True)
        return
    # What the person wrote in the file replaced is never lost: their comments are carried
    # into the new file when it is the one resumed from; any that would not be are kept, with
    # the whole old file, in a backup beside it
    backup = _backup_needed(output, text, session.case)
    if output.exists() and not force:
        kept = (f" (the old one is kept as {backup})" if backup is not None else
                f" (your {len(comments)} comment line(s) are carried over)" if comments
                else "")
        try:
            reply = streams.ask(f"{output} exists; replace it{kept}? [y/N] ")
        except (EOFError, KeyboardInterrupt):  # stopped, not answered: nothing is replaced,
            # the case file is shown and the answers stay in the draft, but the exit code
            # says the interview did not end as asked (a script must not take it for done)
            typer.echo("\nnot replaced; here is the case file instead:\n")
            typer.echo(text, nl=False)
            typer.echo(f"\ninterview interrupted; {output} was not replaced; your answers "
                       f"are kept in {draft}; resume with riskassess interview --from "
                       f"{draft} -o {output}", err=True)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        if not typed.yes(reply):
            typer.echo("not replaced; here is the case file instead:\n")
            typer.echo(text, nl=False)
            if draft.exists():
                typer.echo(f"(your answers also stay in {draft})")
            return
    if backup is not None:
        write_output(backup, output.read_bytes(), force=False, inputs=[],
                     option="the backup")
    write_output(output, text.encode("utf-8"), force=True, inputs=[])
    draft.unlink(missing_ok=True)
    typer.echo(f"wrote {output}" + (f"; the file it replaced is kept as {backup}"
                                    if backup is not None else ""))


def _backup_needed(output: Path, text: str, case) -> Path | None:
    """Where to keep the file `output` before it is replaced by `text`, or None when nothing
    the person wrote in it would be lost (no such file, or every comment of theirs is in the
    new text). A backup never replaces another: OUTPUT~, else OUTPUT.~1~, OUTPUT.~2~, ..."""
    from riskassess.errors import UserError
    from riskassess.io.reader import parse_yaml_bytes, read_file_bytes
    from riskassess.law.case import case_from_document, vocabulary_of
    from riskassess.teach.interview import own_comments

    if not output.is_file():
        return None
    try:
        raw = read_file_bytes(output)
        old = case_from_document(parse_yaml_bytes(raw, str(output)), vocabulary_of(case()))
        theirs = own_comments(old, raw.decode("utf-8-sig"))
        lost = [c for c in [*sum(theirs.above.values(), []), *sum(theirs.after.values(), []),
                            *theirs.end] if c not in text]
    except UserError:  # not a case file (any more): kept whole
        lost = [output]
    if not lost:
        return None
    candidate = Path(f"{output}~")
    number = 0
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = Path(f"{output}.~{number}~")
    return candidate
