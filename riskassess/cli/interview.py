"""`riskassess interview`: a case file written by answering questions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from riskassess.cli.options import (
    RulesDir,
    given_path,
    parse_date,
)
from riskassess.errors import ExitCode, UsageError


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
    from riskassess.teach.interview import Interview, answers_from, draft_text, run, to_yaml
    from riskassess.teach.screen import fitted

    if not sys.stdin.isatty():
        raise UsageError("interview asks its questions at a terminal, and there is none; "
                         "write the case file by hand instead (its format: riskassess schema "
                         "case)")
    directory = rules_dir or default_rules_dir()
    catalog, _ = load_catalog(directory)
    answers: dict = {}
    if from_ is not None:
        resumed = load_case(from_, catalog_vocabulary(directory))
        # the draft's note of facts answered unknown is a comment: read the text again,
        # through the same safe reader
        text = read_file_bytes(from_).decode("utf-8-sig", "replace")
        answers = answers_from(resumed, text)
        case_id = case_id or resumed.case_id
        day = parse_date(date, "--date") if date else (resumed.assessment_date or
                                                         dt.date.today())
    else:
        day = parse_date(date, "--date")
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
    session = Interview(catalog, directory, day, case_id, answers=answers)
    try:  # the reference goes into the file: check it as the case file would
        session.case()
    except CaseFileError as exc:
        if any(p.path == "case_id" for p in exc.problems):
            raise UsageError(f"--case-id '{case_id}' is not a valid reference (1-64 letters, "
                             "digits, '.', '_' or '-')") from None
        # the facts resumed cannot all hold on this assessment date (one after --date)
        raise UsageError([dataclasses.replace(p, file=f"{from_} (--date {day})")
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
        run(session, input, lambda text: typer.echo(text, nl=False), save=save, width=width)
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
    text = to_yaml(session.case())
    if output is None:
        typer.echo(text, nl=False)
        draft.unlink(missing_ok=True)
        return
    if output.exists() and not force:
        try:
            reply = input(f"{output} exists; replace it? [y/N] ")
        except (EOFError, KeyboardInterrupt):
            reply = ""
        if not typed.yes(reply):
            typer.echo("not replaced; here is the case file instead:\n")
            typer.echo(text, nl=False)
            if draft.exists():
                typer.echo(f"(your answers also stay in {draft})")
            return
    write_output(output, text.encode("utf-8"), force=True, inputs=[])
    draft.unlink(missing_ok=True)
    typer.echo(f"wrote {output}")
