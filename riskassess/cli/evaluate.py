"""`riskassess evaluate` (one case, or a batch) and `riskassess explain`."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from riskassess.cli.options import (
    RulesDir,
    complete_edition,
    given_name,
    given_path,
    parse_today,
)
from riskassess.cli.streams import colour
from riskassess.errors import UsageError
from riskassess.render import formats


def evaluate(
    cases: Annotated[list[Path], typer.Argument(parser=given_path,
        help="A case file (YAML or .json, format 1); or a .jsonl caseload (one case per "
             "line), several files and folders (searched for *.yaml, *.yml, *.json and "
             "*.jsonl) to assess as a batch.", show_default=False)],
    format: Annotated[Optional[formats.Format], typer.Option(
        "--format", "-f", show_default=False, help=formats.format_help())] = None,
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", metavar="<path>", show_default=False, parser=given_name,
        help="Write to this regular file (atomically) instead of standard output ('-': "
             "standard output); required for docx and pdf. For documents of a batch (-f "
             "markdown, html, docx, ...): a folder, "
             "FOLDER/ (made if missing, inside an existing folder), that gets one document "
             "per case, named after its case file.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the --output file (or the documents in the --output "
                        "folder) if it exists.")] = False,
    timestamp: Annotated[bool, typer.Option(
        "--timestamp", help="Add the generation time to documents (they are byte-stable "
                            "without it).")] = False,
    ruleset: Annotated[Optional[str], typer.Option(
        "--ruleset", autocompletion=complete_edition,
        help="Force an encoded edition (an id from `rules list`) instead of the "
             "one in force on the assessment date; the report then warns.")] = None,
    rules_dir: RulesDir = None,
    summary_csv: Annotated[Optional[Path], typer.Option(
        "--summary-csv", parser=given_path, metavar="<path>",
        help="Also write one CSV row per case (id, outcomes, open questions, "
                              "warnings, refusal) for spreadsheets.")] = None,
    jobs: Annotated[Optional[int], typer.Option(
        "--jobs", "-j", min=1, show_default=False,
        help="A batch's worker processes (default: the machine's cores). The output is in "
             "path order whatever the number.")] = None,
    full: Annotated[bool, typer.Option(
        "--full", help="The terminal report in full: every reason and conditional, the "
                       "lists, the open questions, every cited paragraph and what the "
                       "assessment does not decide (by default: the conclusions at a glance "
                       "and the reasons that decide them).")] = False,
    no_annex: Annotated[bool, typer.Option(
        "--no-annex", help="Documents without their annex of analysis aids (single changes "
                           "of a fact, what facts not given could add, the open questions "
                           "in full, the codes): the pages to file.")] = False,
    today: Annotated[Optional[str], typer.Option(
        "--today", hidden=True,
        help="Pretend today is this date (for tests and training).")] = None,
) -> None:
    """Assess one case file and print the reasoned assessment; or assess a batch.

    A batch (several files, or a folder) is assessed in path order, one line per case
    (text; --format jsonl for one JSON report per line; --format outcomes for one compact
    line), then a summary. A refused file
    is reported and counted and does not stop the batch; the exit code says whether any
    file was refused. With a document format and -o FOLDER/, each case's document is
    written into the folder as well.

    Example: riskassess evaluate examples/religious-objector.yaml -o assessment.docx"""
    import os

    from riskassess.assess.core import assess_file, is_caseload, is_folder

    fmt = formats.get(format) if format is not None else None
    if output == "-":  # the usual spelling of standard output (it wrote a file named "-")
        output = None
    many = len(cases) > 1 or is_caseload(cases[0]) or summary_csv is not None
    # An output written as a folder (ending in /) or naming one is where a batch of
    # documents goes; it has no extension to take a format from, so -f must say.
    into = output is not None and (output.endswith(("/", os.sep)) or is_folder(Path(output)))
    if fmt is not None and fmt.document and (many or into):
        _no_full(full)
        _batch(cases, fmt, output, force, summary_csv, parse_today(today), ruleset,
               rules_dir, timestamp=timestamp, annex=not no_annex)
        return
    if into:
        named = "is a directory" if is_folder(Path(output)) else "names a folder (it ends in /)"
        kinds = ", ".join(formats.document_names())
        raise UsageError(
            f"--output {output} {named}, which has no extension to take a format from: to "
            f"write one document per case into it, say which with -f ({kinds}); or give a "
            "file name" if fmt is None else
            f"--output {output} {named}; -f {fmt.name} writes one file: give a file name, "
            f"or a document format (-f {kinds}) to write one document per case into the folder")
    output = Path(output) if output is not None else None
    fmt = formats.choose(fmt.name if fmt else None, output)
    if many and fmt.document:  # taken from the --output extension
        raise UsageError(f"a batch prints {_lines()} into one --output file, and "
                         f"{output} "
                         f"names a {fmt.name} document; for one document per case, give "
                         f"the format and a folder: -f {fmt.name} -o FOLDER/")
    if no_annex and not fmt.document:
        raise UsageError(f"--no-annex leaves the annex out of a document ("
                         f"{', '.join(formats.document_names())}); {fmt.name} has none")
    if many:
        _no_full(full)
        _batch(cases, fmt, output, force, summary_csv, parse_today(today), ruleset,
               rules_dir, jobs=jobs or os.cpu_count() or 1)
        return
    if full and fmt.name != "text":
        raise UsageError(f"--full gives the complete text report; {fmt.name} is always "
                         "complete" + (" (--no-annex leaves its annex out)" if fmt.document
                                       else ""))
    case = cases[0]
    if fmt.binary and output is None:
        raise typer.BadParameter(f"the {fmt.name} format needs --output FILE",
                                 param_hint="--format")
    outcome = assess_file(case, today=parse_today(today), ruleset_id=ruleset,
                          rules_dir=rules_dir)
    tty = output is None and sys.stdout.isatty()
    width = max(60, shutil.get_terminal_size().columns if tty else 100)
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) if timestamp else None
    color = output is None and colour(sys.stdout)  # not with NO_COLOR, nor TERM=dumb
    data = formats.render(fmt, outcome, formats.Options(path=case.as_posix(), width=width,
                                                        color=color, generated_at=when,
                                                        full=full, annex=not no_annex))
    _emit(data, output, force, case)
    if fmt.fast:
        from riskassess.assess.cache import ensure

        ensure(rules_dir or outcome.ruleset.directory.parent)  # the next cold start is fast


def _no_full(full: bool) -> None:
    if full:
        raise UsageError("--full gives the complete text report of one case; a batch prints "
                         "one line per case (for every reason of each, -f jsonl or a "
                         "document format)")


def _lines() -> str:
    """The formats a batch prints one line (or block) per case in, in words."""
    found = formats.names(lambda f: f.batch_line)
    return ", ".join(found[:-1]) + " or " + found[-1]


def _emit(data: str | bytes, output: Path | None, force: bool, case: Path) -> None:
    """A single case's output, to standard output or (atomically) the --output file."""
    if output is None:
        sys.stdout.write(data if isinstance(data, str) else data.decode("utf-8"))
        return
    from riskassess.io.writer import write_output

    write_output(output, data.encode("utf-8") if isinstance(data, str) else data,
                 force=force, inputs=[case])
    typer.echo(f"wrote {output}", err=True)


def _batch(*args, **kwargs) -> None:
    """A batch (`_assess_batch`), stopped by Ctrl-C as by SIGTERM and SIGHUP: its outputs
    kept as they were (each is written atomically), its workers stopped, "interrupted" said
    by the error boundary (typer would end a KeyboardInterrupt without a word)."""
    import signal

    from riskassess.stopping import Interrupted

    try:
        _assess_batch(*args, **kwargs)
    except KeyboardInterrupt:
        raise Interrupted(signal.SIGINT) from None


def _assess_batch(paths: list[Path], fmt: formats.OutputFormat, output: Path | str | None,
                  force: bool, summary_csv: Optional[Path], today: dt.date,
                  ruleset: Optional[str], rules_dir: Optional[Path], *,
                  timestamp: bool = False, jobs: int = 1, annex: bool = True) -> None:
    """A batch: one line per case (a batch-line format: text, jsonl, outcomes) to standard
    output or the --output file; or, for a document format, one document per case into the
    --output folder (given as written, to see its final slash) and the text lines to
    standard output."""
    import contextlib
    import os

    from riskassess.assess import batch
    from riskassess.assess.core import CASE_FILE_NAMES, Assessor, case_files
    from riskassess.io.writer import (
        atomic_writer,
        check_distinct,
        check_folder,
        check_not_stdout,
        make_folder,
        settle,
        text_stream,
    )
    from riskassess.stopping import signals_held

    documents = None
    if fmt.document:
        if output is None:
            raise UsageError(f"a batch of {fmt.name} documents is written into a folder, "
                             "one document per case: give it with --output FOLDER/")
        folder = Path(output)
        check_distinct({"--summary-csv": summary_csv, "--output": folder})
        missing = check_folder(folder, create=str(output).endswith(("/", os.sep)))
        documents = batch.Documents(folder, fmt, force=force, summary_csv=summary_csv,
                                    timestamp=timestamp, annex=annex)
        output = None  # the lines go to standard output
    elif not fmt.batch_line:
        raise UsageError(f"a batch prints {_lines()}, not {fmt.name}; for one document per "
                         "case, give a document format and a folder: -f FORMAT -o FOLDER/ "
                         f"(FORMAT: {', '.join(formats.document_names())})")
    elif output is not None:
        output = Path(output)
        check_distinct({"--summary-csv": summary_csv, "--output": output})
    if output is None:  # the lines (or the documents' lines) are printed
        check_not_stdout({"--summary-csv": summary_csv})
    files = case_files(paths)
    if not files:
        raise UsageError(f"no case files ({CASE_FILE_NAMES}) in: " + ", ".join(map(str, paths)))
    if documents is not None:  # everything that can be refused, before any work
        documents.check(files, exists=not missing)
        if missing:
            make_folder(documents.folder)
        else:  # what a killed run left (the temporaries of these documents only)
            documents.remove_stale(files)
    assessor = Assessor(today=today, ruleset_id=ruleset, rules_dir=rules_dir)
    with contextlib.ExitStack() as stack:
        if output is not None:
            out = stack.enter_context(text_stream(
                stack.enter_context(atomic_writer(output, force=force, inputs=files))))
        else:
            out = sys.stdout
        csv_out = None
        if summary_csv is not None:
            csv_out = stack.enter_context(text_stream(
                stack.enter_context(atomic_writer(summary_csv, force=force, inputs=files,
                                                  option="--summary-csv"))))
        tick = None
        if colour(sys.stderr) and len(files) >= 100:  # a bar drawn with escape sequences
            from rich.console import Console
            from rich.progress import Progress

            progress = stack.enter_context(Progress(console=Console(file=sys.stderr),
                                                    transient=True))
            task = progress.add_task("assessing", total=len(files))
            tick = lambda: progress.advance(task)  # noqa: E731
        tally = batch.run(files, assessor, fmt="text" if documents else fmt.name, out=out,
                          csv_out=csv_out, tick=tick, documents=documents, jobs=jobs)
        # the outputs to disk (slow), then renamed together: all replaced or none, a
        # signal during the renames raised after them
        settle(*(s for s in (out, csv_out) if s is not None and s is not sys.stdout))
        with signals_held():
            stack.close()
    if assessor.bundle is None:  # the next run starts from compiled rule sets
        from riskassess.assess.cache import ensure

        ensure(assessor.rules_dir)
    text = batch.summary(tally)
    if (fmt.name == "text" or documents) and output is None:
        sys.stdout.write("\n" + text)
    else:
        sys.stderr.write(text)
    if tally.exit_code:
        raise typer.Exit(tally.exit_code)


def explain(
    case: Annotated[Path, typer.Argument(parser=given_path,
                                         help="The case file (YAML, format 1).",
                                         show_default=False)],
    ruleset: Annotated[Optional[str], typer.Option(
        "--ruleset", autocompletion=complete_edition,
        help="Force an encoded edition instead of the one in force.")] = None,
    rules_dir: RulesDir = None,
    today: Annotated[Optional[str], typer.Option("--today", hidden=True)] = None,
) -> None:
    """Show, for each conclusion, the facts it depended on and which single change of a
    given fact would change it (computed by re-running the engine on variants).

    Example: riskassess explain examples/religious-objector.yaml"""
    from riskassess.assess.core import assess_file
    from riskassess.engine.explain import explain as run_explain

    outcome = assess_file(case, today=parse_today(today), ruleset_id=ruleset,
                          rules_dir=rules_dir)
    report = outcome.report
    result = run_explain(outcome.case, outcome.ruleset, outcome.choice, report.assessment_date,
                         report)
    typer.echo(f"{report.ruleset.title} ({report.ruleset.id}), assessment date "
               f"{report.assessment_date.isoformat()}; {result.variants} variants evaluated")
    from riskassess.law.ruleset import top_warning_codes

    for w in report.warnings:  # what every report states at its top, stated here too
        if w.code in top_warning_codes(outcome.ruleset):
            typer.echo(f"WARNING {w.code}: {w.message}")
    for spec in outcome.ruleset.questions:
        q = report.question(spec.id)
        typer.echo(f"\n{spec.heading}\n  outcome: {q.outcome}")
        facts = result.depends_on[spec.id]
        typer.echo("  depends on: " + (", ".join(f"{f} = {v}" for f, v in facts) or
                                       "no fact given"))
        changes = result.decisive[spec.id]
        if not changes:
            typer.echo("  no single change of a given fact would change it")
        for change in changes:
            typer.echo(f"  - {change.sentence()}")
