"""Command-line interface: options -> core -> renderer -> exit code. No legal logic here.

The error boundary is `main`: a user error (bad case file, bad rule set, an edition
not encoded) becomes its located messages on stderr and a documented exit code; an
internal error keeps its traceback (without local variables: case files hold
sensitive personal data) and exits 70.
"""

from __future__ import annotations

import datetime as dt
import errno
import re
import shutil
import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

from riskassess import __version__
from riskassess.errors import EXIT_CODE_HELP, ExitCode, OutOfScopeError, UsageError, UserError
from riskassess.render import Format

app = typer.Typer(
    name="riskassess",
    help=("Assess asylum cases against EUAA country guidance encoded as YAML rules, with "
          "cited reasoning. Decision support, not a decision.\n\n"
          "Example: riskassess evaluate case.yaml"),
    epilog=EXIT_CODE_HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
schema_app = typer.Typer(help="Print the JSON Schema of a file format.", no_args_is_help=True)
rules_app = typer.Typer(help="Browse the editions catalog and the encoded rule sets.",
                        no_args_is_help=True)
coi_app = typer.Typer(help="Read and search the paragraphs the rules cite.",
                      no_args_is_help=True)
examples_app = typer.Typer(help="Teaching scenarios: list, read, run and vary them.",
                           no_args_is_help=True)
app.add_typer(examples_app, name="examples")
app.add_typer(schema_app, name="schema")
app.add_typer(rules_app, name="rules")
app.add_typer(coi_app, name="coi")

RulesDir = Annotated[Optional[Path], typer.Option(
    "--rules-dir", readable=False,
    help="Use rule sets from this folder instead of the shipped ones.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"riskassess {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """riskassess: country guidance as testable rules."""


def _parse_today(value: Optional[str]) -> dt.date:
    return _parse_date(value, "--today")


def _parse_date(value: Optional[str], option: str) -> dt.date:
    """A date option's value (default: today), refused with the reason and the option's name."""
    if value is None:
        return dt.date.today()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise typer.BadParameter(f"'{value}' is not a date YYYY-MM-DD", param_hint=option)
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:  # e.g. 2025-02-30: say which part does not exist
        raise typer.BadParameter(f"'{value}' is not a date in the calendar ({exc})",
                                 param_hint=option) from None


@app.command(epilog=EXIT_CODE_HELP)
def evaluate(
    cases: Annotated[list[Path], typer.Argument(readable=False,
        help="A case file (YAML, format 1); or several files and folders (searched for "
             "*.yaml and *.yml) to assess as a batch.", show_default=False)],
    format: Annotated[Optional[Format], typer.Option(
        "--format", "-f", show_default=False,
        help="text (terminal), json (the report contract), jsonl (a batch: one report per "
             "line), outcomes (one compact JSON line per case: outcomes, lists, deciding "
             "rules, cites, open questions, warnings; see `schema outcomes`), or an "
             "annotated document: markdown, html, docx, pdf. Default: the "
             "--output extension's (.md, .markdown, .html, .htm, .docx, .pdf, .json, .jsonl), "
             "otherwise "
             "text.")] = None,
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", metavar="<path>", show_default=False,
        help="Write to this regular file (atomically) instead of standard output; required "
             "for docx and pdf. For documents of a batch (-f markdown, html, docx, ...): a folder, "
             "FOLDER/ (made if missing, inside an existing folder), that gets one document "
             "per case, named after its case file.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the --output file (or the documents in the --output "
                        "folder) if it exists.")] = False,
    timestamp: Annotated[bool, typer.Option(
        "--timestamp", help="Add the generation time to documents (they are byte-stable "
                            "without it).")] = False,
    ruleset: Annotated[Optional[str], typer.Option(
        "--ruleset", help="Force an encoded edition (an id from `rules list`) instead of the "
                          "one in force on the assessment date; the report then warns.")] = None,
    rules_dir: RulesDir = None,
    summary_csv: Annotated[Optional[Path], typer.Option(
        "--summary-csv", readable=False,
        help="Also write one CSV row per case (id, outcomes, open questions, "
                              "warnings, refusal) for spreadsheets.")] = None,
    jobs: Annotated[Optional[int], typer.Option(
        "--jobs", "-j", min=1, show_default=False,
        help="A batch's worker processes (default: the machine's cores). The output is in "
             "path order whatever the number.")] = None,
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

    from riskassess.assess.batch import document_formats, is_document
    from riskassess.assess.core import assess_file, is_folder
    from riskassess.render import choose_format

    many = len(cases) > 1 or is_folder(cases[0]) or summary_csv is not None
    # An output written as a folder (ending in /) or naming one is where a batch of
    # documents goes; it has no extension to take a format from, so -f must say.
    into = output is not None and (output.endswith(("/", os.sep)) or is_folder(Path(output)))
    if format is not None and is_document(format) and (many or into):
        _batch(cases, format, output, force, summary_csv, _parse_today(today), ruleset,
               rules_dir, timestamp=timestamp)
        return
    if into:
        named = "is a directory" if is_folder(Path(output)) else "names a folder (it ends in /)"
        kinds = ", ".join(document_formats())
        raise UsageError(
            f"--output {output} {named}, which has no extension to take a format from: to "
            f"write one document per case into it, say which with -f ({kinds}); or give a "
            "file name" if format is None else
            f"--output {output} {named}; -f {format.value} writes one file: give a file name, "
            f"or a document format (-f {kinds}) to write one document per case into the folder")
    output = Path(output) if output is not None else None
    format = choose_format(format, output)
    if many and is_document(format):  # taken from the --output extension
        raise UsageError(f"a batch prints text, jsonl or outcomes into one --output file, and "
                         f"{output} "
                         f"names a {format.value} document; for one document per case, give "
                         f"the format and a folder: -f {format.value} -o FOLDER/")
    if many:
        _batch(cases, format, output, force, summary_csv, _parse_today(today), ruleset,
               rules_dir, jobs=jobs or os.cpu_count() or 1)
        return
    case = cases[0]
    if format in (Format.docx, Format.pdf) and output is None:
        raise typer.BadParameter(f"the {format.value} format needs --output FILE",
                                 param_hint="--format")
    data: str | bytes
    if format is Format.outcomes:  # the compact line, without the report model
        from riskassess.assess.core import Assessor

        done = Assessor(today=_parse_today(today), ruleset_id=ruleset,
                        rules_dir=rules_dir).assess_fast(case)
        _emit(done.outcomes_line(case.as_posix()) + b"\n", output, force, case)
        return
    outcome = assess_file(case, today=_parse_today(today), ruleset_id=ruleset,
                          rules_dir=rules_dir)
    if format is Format.json:
        from riskassess.render.json import render as render_json

        data = render_json(outcome.report)
    elif format is Format.jsonl:
        data = outcome.report.model_dump_json() + "\n"

    elif format is Format.text:
        from riskassess.render.terminal import render as render_text

        tty = output is None and sys.stdout.isatty()
        width = shutil.get_terminal_size().columns if tty else 100
        data = render_text(outcome.report, outcome.ruleset, width=max(60, width), color=tty)
    else:
        import datetime as dtm
        import importlib

        from riskassess.assess.core import document

        when = dtm.datetime.now(dtm.timezone.utc).replace(microsecond=0) if timestamp else None
        renderer = importlib.import_module(f"riskassess.render.{format.value}")
        data = renderer.render(document(outcome, when))
    _emit(data, output, force, case)
    if format in (Format.text, Format.json, Format.jsonl):
        from riskassess.assess.cache import ensure

        ensure(rules_dir or outcome.ruleset.directory.parent)  # the next cold start is fast


def _emit(data: str | bytes, output: Path | None, force: bool, case: Path) -> None:
    """A single case's output, to standard output or (atomically) the --output file."""
    if output is None:
        sys.stdout.write(data if isinstance(data, str) else data.decode("utf-8"))
        return
    from riskassess.io.writer import write_output

    write_output(output, data.encode("utf-8") if isinstance(data, str) else data,
                 force=force, inputs=[case])
    typer.echo(f"wrote {output}", err=True)


def _batch(paths: list[Path], format: Format, output: Path | str | None, force: bool,
           summary_csv: Optional[Path], today: dt.date, ruleset: Optional[str],
           rules_dir: Optional[Path], *, timestamp: bool = False, jobs: int = 1) -> None:
    """A batch: one line per case (text, jsonl or outcomes) to standard output or the
    --output file;
    or, for a document format, one document per case into the --output folder (given as
    written, to see its final slash) and the text lines to standard output."""
    import contextlib
    import os

    from riskassess.assess import batch
    from riskassess.assess.core import Assessor, case_files
    from riskassess.io.writer import (
        atomic_writer,
        check_distinct,
        check_folder,
        make_folder,
        text_stream,
    )

    documents = None
    if batch.is_document(format):
        if output is None:
            raise UsageError(f"a batch of {format.value} documents is written into a folder, "
                             "one document per case: give it with --output FOLDER/")
        folder = Path(output)
        check_distinct({"--summary-csv": summary_csv, "--output": folder})
        missing = check_folder(folder, create=str(output).endswith(("/", os.sep)))
        documents = batch.Documents(folder, format, force=force, summary_csv=summary_csv,
                                    timestamp=timestamp)
        output = None  # the lines go to standard output
    elif format not in (Format.text, Format.jsonl, Format.outcomes):
        raise UsageError(f"a batch prints text, jsonl (one JSON report per line) or outcomes, not "
                         f"{format.value}; for one document per case, give a document format "
                         f"and a folder: -f FORMAT -o FOLDER/ (FORMAT: "
                         f"{', '.join(batch.document_formats())})")
    elif output is not None:
        output = Path(output)
        check_distinct({"--summary-csv": summary_csv, "--output": output})
    files = case_files(paths)
    if not files:
        raise UsageError("no case files (*.yaml, *.yml) in: " + ", ".join(map(str, paths)))
    if documents is not None:  # everything that can be refused, before any work
        documents.check(files, exists=not missing)
        if missing:
            make_folder(documents.folder)
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
        if sys.stderr.isatty() and len(files) >= 100:
            from rich.console import Console
            from rich.progress import Progress

            progress = stack.enter_context(Progress(console=Console(file=sys.stderr),
                                                    transient=True))
            task = progress.add_task("assessing", total=len(files))
            tick = lambda: progress.advance(task)  # noqa: E731
        tally = batch.run(files, assessor, fmt="text" if documents else format.value, out=out,
                          csv_out=csv_out, tick=tick, documents=documents, jobs=jobs)
    if assessor.bundle is None:  # the next run starts from compiled rule sets
        from riskassess.assess.cache import ensure

        ensure(assessor.rules_dir)
    text = batch.summary(tally)
    if (format is Format.text or documents) and output is None:
        sys.stdout.write("\n" + text)
    else:
        sys.stderr.write(text)
    if tally.exit_code:
        raise typer.Exit(tally.exit_code)


@app.command(epilog=EXIT_CODE_HELP)
def explain(
    case: Annotated[Path, typer.Argument(readable=False, help="The case file (YAML, format 1).",
                                         show_default=False)],
    ruleset: Annotated[Optional[str], typer.Option(
        "--ruleset", help="Force an encoded edition instead of the one in force.")] = None,
    rules_dir: RulesDir = None,
    today: Annotated[Optional[str], typer.Option("--today", hidden=True)] = None,
) -> None:
    """Show, for each conclusion, the facts it depended on and which single change of a
    given fact would change it (computed by re-running the engine on variants).

    Example: riskassess explain examples/religious-objector.yaml"""
    from riskassess.assess.core import assess_file
    from riskassess.engine.explain import explain as run_explain

    outcome = assess_file(case, today=_parse_today(today), ruleset_id=ruleset,
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


@app.command(epilog=EXIT_CODE_HELP)
def compare(
    cases: Annotated[list[Path], typer.Argument(readable=False,
        help="A case file (YAML, format 1); or several files and folders (searched for "
             "*.yaml and *.yml): a caseload, counted.", show_default=False)],
    editions: Annotated[tuple[str, str], typer.Option(
        "--editions", help="The two encoded editions to compare (ids from `rules list`), "
                           "e.g. --editions OLD NEW.")],
    summary_csv: Annotated[Optional[Path], typer.Option(
        "--summary-csv", readable=False,
        help="Also write one CSV row per case file: path, case_id, assessment_date, each "
             "question's outcome under each edition (columns QUESTION:EDITION), the "
             "questions that changed (;-separated) and the refusal, if any.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the --summary-csv file if it exists.")] = False,
    rules_dir: RulesDir = None,
    today: Annotated[Optional[str], typer.Option("--today", hidden=True)] = None,
) -> None:
    """Assess one case under two encoded editions and show, per question, what changed and
    which paragraphs explain the change; or count what changes for a caseload.

    The facts are the same in both assessments, so every change comes from the edition. The
    output names both editions and the one in force on the assessment date, gives both
    editions' warnings, and explains each change only with the paragraphs of the rules that
    decided it (the rule giving each outcome; the rules adding each changed list item).

    For a caseload (a folder, several files, or --summary-csv), every case file is assessed
    under both editions, in path order, and for each question a table counts the cases that
    went from each outcome under the first edition (rows) to each outcome under the second
    (columns), with totals and the number changed; then a summary of the files assessed,
    refused (with the first problem) and skipped. Only outcomes are counted, not lists. A
    refused file does not stop the run; the exit code says whether any file was refused.

    Example: riskassess compare case.yaml --editions euaa-syria-2024 euaa-syria-2025-12

    Example: riskassess compare caseload/ --editions euaa-syria-2024 euaa-syria-2025-12
    --summary-csv impact.csv"""
    from riskassess.assess.core import is_folder

    day = _parse_today(today)
    if len(cases) > 1 or is_folder(cases[0]) or summary_csv is not None:
        from riskassess.assess.caseload import compare_caseload, describe

        impact = compare_caseload(cases, editions, today=day, rules_dir=rules_dir,
                                  summary_csv=summary_csv, force=force)
        typer.echo("\n".join(describe(impact)))
        if impact.exit_code:
            raise typer.Exit(impact.exit_code)
        return
    from riskassess.assess.core import assess_file
    from riskassess.engine.explain import describe_comparison
    from riskassess.law.ruleset import default_rules_dir, load_catalog

    case = cases[0]
    first = assess_file(case, today=day, ruleset_id=editions[0], rules_dir=rules_dir)
    second = assess_file(case, today=day, ruleset_id=editions[1], rules_dir=rules_dir)
    catalog, _ = load_catalog(rules_dir or default_rules_dir())
    titles = {e.id: e.title for e in catalog.editions}
    for line in describe_comparison(first.report, second.report, first.ruleset,
                                    second.ruleset, titles):
        typer.echo(line)


@schema_app.command("case")
def schema_case(rules_dir: RulesDir = None) -> None:
    """The JSON Schema of the case file (format 1), built from the rules' vocabulary.

    Example: riskassess schema case > case.schema.json"""
    _print_schema("case", rules_dir)


@schema_app.command("report")
def schema_report(rules_dir: RulesDir = None) -> None:
    """The JSON Schema of the JSON report (format 1), built from the rules' vocabulary.

    Example: riskassess schema report > report.schema.json"""
    _print_schema("report", rules_dir)


@schema_app.command("outcomes")
def schema_outcomes(rules_dir: RulesDir = None) -> None:
    """The JSON Schema of one line of `evaluate --format outcomes`, from the vocabulary.

    Example: riskassess schema outcomes > outcomes.schema.json"""
    _print_schema("outcomes", rules_dir)


def _print_schema(which: str, rules_dir: Optional[Path]) -> None:
    from riskassess.law.ruleset import catalog_vocabulary, default_rules_dir
    from riskassess.serve.service import schema_text

    sys.stdout.write(schema_text(catalog_vocabulary(rules_dir or default_rules_dir()), which))


@rules_app.command("list")
def rules_list(
    rules_dir: Annotated[Optional[Path], typer.Option(
        "--rules-dir", readable=False,
        help="Use rule sets from this folder instead of the shipped ones.")] = None,
) -> None:
    """List every known edition with its dates, and the rules of each encoded one.

    Example: riskassess rules list"""
    from riskassess.law.ruleset import default_rules_dir, load_catalog, ruleset_for

    directory = rules_dir or default_rules_dir()
    catalog, _ = load_catalog(directory)
    for e in catalog.editions:
        window = f"in force from {e.in_force_from.isoformat()}"
        if e.under_review_from:
            window += f"; under review from {e.under_review_from.isoformat()}"
        window += (f"; superseded on {e.superseded_on.isoformat()}" if e.superseded_on
                   else "; not superseded")
        status = "encoded" if e.encoded else "NOT ENCODED"
        typer.echo(f"{e.id}  [{status}]  {e.title}")
        typer.echo(f"    profile: {e.profile}; {window}")
        if e.successor:
            typer.echo(f"    successor: {e.successor}")
        typer.echo(f"    {e.url}")
        if e.encoded:
            rs = ruleset_for(directory, e)
            typer.echo(f"    rule set sha256 {rs.sha256}; {len(rs.rules)} rules, "
                       f"{len(rs.paragraphs)} cited paragraphs:")
            for rule in rs.rules.values():
                typer.echo(f"      {rule.id}")
            if rs.edition.not_at_hand:
                typer.echo("    not encoded (text not at hand when the rules were written):")
                for item in rs.edition.not_at_hand:
                    typer.echo(f"      - {item}")
        typer.echo()


@rules_app.command("check", epilog=EXIT_CODE_HELP)
def rules_check(
    path: Annotated[Optional[Path], typer.Argument(readable=False,
        help="The same as --rules-dir (kept for existing scripts).", show_default=False)
    ] = None,
    rules_dir: Annotated[Optional[Path], typer.Option(
        "--rules-dir", readable=False,
        help="A rules folder (with editions.yaml) or one edition folder (with "
                            "edition.yaml); default: the shipped rules.")] = None,
) -> None:
    """Prove the rule sets well-formed, complete and consistent; exit 1 on any error.

    Reports schema errors, dangling citations, conditions on unknown facts or values,
    gaps (a case no outcome rule decides) and conflicts (two rules, two outcomes), each
    with a counterexample; and warns of dead rules, uncited paragraphs and unused codes.

    Example: riskassess rules check --rules-dir my-rules/"""
    import time

    from riskassess.engine.check import check_path
    from riskassess.law.ruleset import default_rules_dir

    if path is not None and rules_dir is not None and path != rules_dir:
        raise UsageError(f"two rules folders given ({path} and --rules-dir {rules_dir}); "
                         "give one")
    start = time.perf_counter()
    result = check_path(rules_dir or path or default_rules_dir())
    elapsed = time.perf_counter() - start
    for finding in result.findings:
        typer.echo(str(finding))
    typer.echo(f"checked {', '.join(result.editions) or 'no rule set'}: "
               f"{len(result.errors)} error(s), {len(result.warnings)} warning(s); "
               f"{result.cases} combinations in {elapsed:.2f} s", err=True)
    if result.errors:
        raise typer.Exit(int(ExitCode.FINDINGS))


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(help="A rule id (QUESTION.NAME, see rules list).",
                                           show_default=False)],
    rules_dir: RulesDir = None,
) -> None:
    """Print a rule in plain English: when it applies, what it concludes, why, and the
    paragraphs it cites in full.

    Example: riskassess rules show risk.amnesty-does-not-reduce"""
    from riskassess.assess.browse import encoded_rulesets, show_rule
    from riskassess.law.ruleset import default_rules_dir

    typer.echo(show_rule(encoded_rulesets(rules_dir or default_rules_dir()), rule_id), nl=False)


@rules_app.command("coverage")
def rules_coverage(
    examples: Annotated[Optional[Path], typer.Option(
        "--examples", readable=False,
        help="A folder of case files; default: the shipped examples.")] = None,
    rules_dir: RulesDir = None,
) -> None:
    """Run the example case files and report which rules and paragraphs they exercise;
    exit 1 if any rule is exercised by no example.

    Example: riskassess rules coverage"""
    from riskassess.assess.browse import coverage
    from riskassess.law.ruleset import default_examples_dir, default_rules_dir

    result = coverage(examples or default_examples_dir(), rules_dir or default_rules_dir(),
                      dt.date.today())
    for edition, rules in result.rules.items():
        used = sum(1 for examples_ in rules.values() if examples_)
        paras = result.paragraphs[edition]
        cited = sum(1 for examples_ in paras.values() if examples_)
        typer.echo(f"{edition}: {used}/{len(rules)} rules exercised, "
                   f"{cited}/{len(paras)} paragraphs cited by the examples")
        for rid, examples_ in rules.items():
            mark = "   " if examples_ else "NO "
            typer.echo(f"  {mark}{rid}  {', '.join(examples_[:3])}"
                       f"{' ...' if len(examples_) > 3 else ''}")
        for pid, examples_ in paras.items():
            if not examples_:
                typer.echo(f"  paragraph not cited by any example: {pid}")
    for name, why in result.refused:
        typer.echo(f"refused example {name}: {why}")
    if result.unexercised():
        raise typer.Exit(int(ExitCode.FINDINGS))


@coi_app.command("show")
def coi_show(
    paragraph_id: Annotated[str, typer.Argument(help="A paragraph id, e.g. cg24.coi.penalties.",
                                                show_default=False)],
    rules_dir: RulesDir = None,
) -> None:
    """Print a cited paragraph in full: source, section, locator, summary, facts, and the
    rules that cite it.

    Example: riskassess coi show sd.houran-200"""
    from riskassess.assess.browse import encoded_rulesets, show_paragraph
    from riskassess.law.ruleset import default_rules_dir

    typer.echo(show_paragraph(encoded_rulesets(rules_dir or default_rules_dir()), paragraph_id),
               nl=False)


@coi_app.command("search")
def coi_search(
    words: Annotated[list[str], typer.Argument(help="Words that must all appear.",
                                               show_default=False)],
    rules_dir: RulesDir = None,
) -> None:
    """Find paragraphs by words in their id, source, section, locator, summary or facts.

    Example: riskassess coi search amnesty Daraa"""
    from riskassess.assess.browse import encoded_rulesets, search_paragraphs
    from riskassess.law.ruleset import default_rules_dir

    hits = search_paragraphs(encoded_rulesets(rules_dir or default_rules_dir()), words)
    for edition, pid, gist in hits:
        typer.echo(f"{pid}  [{edition}]  {gist}")
    if not hits:
        typer.echo("no paragraph matches all of: " + " ".join(words), err=True)


ExamplesDir = Annotated[Optional[Path], typer.Option(
    "--examples", readable=False, help="A folder of scenarios; default: the shipped examples.")]


def _scenarios(examples: Optional[Path]):
    from riskassess.law.ruleset import default_examples_dir
    from riskassess.law.scenarios import load_scenarios

    return load_scenarios(examples or default_examples_dir())


@examples_app.command("list")
def examples_list(examples: ExamplesDir = None) -> None:
    """List the scenarios: id, edition, title and a one-line summary.

    Example: riskassess examples list"""
    for sc in _scenarios(examples):
        typer.echo(f"{sc.id}  [{sc.meta.expected.ruleset}]  {sc.meta.title}")
        typer.echo(f"    {sc.meta.summary}")


@examples_app.command("show")
def examples_show(
    scenario_id: Annotated[str, typer.Argument(help="A scenario id (see examples list).",
                                               show_default=False)],
    examples: ExamplesDir = None,
) -> None:
    """Print a scenario: its narrative, the facts, the sources it draws on, the model answer.

    Example: riskassess examples show police-captain-2012"""
    from riskassess.assess.core import assess_file
    from riskassess.teach.training import find, model_answer

    sc = find(_scenarios(examples), scenario_id)
    out = assess_file(sc.case_path, today=dt.date.today())
    e = sc.meta.expected
    typer.echo(f"{sc.id}: {sc.meta.title}\n\n{' '.join(sc.meta.narrative.split())}\n")
    typer.echo(f"Case file: {sc.case_path.name}; assessment date "
               f"{out.report.assessment_date}; edition {e.ruleset}")
    typer.echo("Facts given:")
    from riskassess.engine.explain import show
    from riskassess.law.case import given_facts

    for path, value in given_facts(out.case):
        if value != "unknown":
            typer.echo(f"  {path} = {show(value)}")
    typer.echo("Based on:")
    for pid in sc.meta.based_on:
        c = out.ruleset.paragraphs[pid]
        typer.echo(f"  [{pid}] {c.gist}")
    typer.echo("Model answer:")
    for item, value in model_answer(sc, out.ruleset.vocabulary).items():
        shown = ", ".join(value) if isinstance(value, list) else value
        typer.echo(f"  {item}: {shown or 'none'}")
    first = out.ruleset.vocabulary.question_ids[0]
    typer.echo(f"  {first}: {getattr(e, first).outcome}")
    typer.echo(f"  open questions: {', '.join(e.open_questions) or 'none'}")
    typer.echo(f"  warnings: {', '.join(e.warnings) or 'none'}")


@examples_app.command("run", epilog=EXIT_CODE_HELP)
def examples_run(
    scenario_id: Annotated[Optional[str], typer.Argument(
        help="A scenario id; or use --all.", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Run every scenario.")] = False,
    examples: ExamplesDir = None,
) -> None:
    """Evaluate scenarios and compare with their expected outcomes: a PASS/FAIL table;
    exit 1 on any FAIL.

    Example: riskassess examples run --all"""
    from riskassess.assess.core import assess_file
    from riskassess.errors import UserError
    from riskassess.law.scenarios import compare as compare_expected
    from riskassess.teach.training import find

    scenarios = _scenarios(examples)
    if all_ == bool(scenario_id):
        raise typer.BadParameter("give a scenario id or --all (not both)")
    chosen = scenarios if all_ else [find(scenarios, scenario_id or "")]
    failed = 0
    for sc in chosen:
        try:
            diffs = compare_expected(assess_file(sc.case_path, today=dt.date.today()).report,
                                     sc.meta.expected)
        except UserError as exc:
            diffs = [str(p) for p in exc.problems]
        status = "PASS" if not diffs else "FAIL"
        failed += bool(diffs)
        typer.echo(f"{status}  {sc.id}")
        for d in diffs:
            typer.echo(f"      {d}")
    typer.echo(f"{len(chosen) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(int(ExitCode.FINDINGS))


@examples_app.command("vary")
def examples_vary(
    scenario_id: Annotated[str, typer.Argument(help="A scenario id.", show_default=False)],
    fact: Annotated[list[str], typer.Option(
        "--fact", help="A change PATH=VALUE: a fact's dotted path (see schema case) or "
                       "assessment_date, e.g. assessment_date=2026-01-15; repeat for several.")],
    examples: ExamplesDir = None,
) -> None:
    """Show how the outcomes change when facts of a scenario change (computed by the engine).

    Example: riskassess examples vary religious-objector --fact applicant.rank=officer"""
    from riskassess.assess.core import assess_file
    from riskassess.engine.explain import compare as run_compare
    from riskassess.io.reader import parse_yaml_text, read_yaml_file
    from riskassess.law.ruleset import catalog_vocabulary, default_rules_dir
    from riskassess.teach.training import find

    sc = find(_scenarios(examples), scenario_id)
    data = read_yaml_file(sc.case_path).data
    vocab = catalog_vocabulary(default_rules_dir())
    FACTS = vocab.facts
    data = {**data, **{g.key: dict(data.get(g.key) or {}) for g in vocab.groups}}
    for change in fact:
        path, sep, raw = change.partition("=")
        if not sep:
            raise typer.BadParameter(f"'{change}' is not PATH=VALUE", param_hint="--fact")
        if path not in FACTS and path not in ("assessment_date",):
            raise typer.BadParameter(f"'{path}' is not a fact (allowed: assessment_date, "
                                     f"{', '.join(FACTS)})", param_hint="--fact")
        value = parse_yaml_text(raw or "unknown", "--fact").data
        if path == "assessment_date":
            data["assessment_date"] = value
        else:
            group, key = path.split(".", 1)
            data[group][key] = value
    from riskassess.assess.core import assess_case
    from riskassess.io.reader import Document
    from riskassess.law.case import case_from_document

    base_outcome = assess_file(sc.case_path, today=dt.date.today())
    base = base_outcome.report
    try:  # the variant is checked like a case file; its errors name the --fact option
        variant = case_from_document(Document("--fact", data), vocab)
        other_outcome = assess_case(variant, today=dt.date.today())
        other = other_outcome.report
    except OutOfScopeError:
        raise  # not a bad --fact: the variant is outside the guidance's scope (exit 7)
    except UserError as exc:
        raise UsageError(exc.problems) from None
    typer.echo(f"{sc.id} with {', '.join(fact)}:")
    if base.ruleset.id != other.ruleset.id:
        typer.echo(f"  edition: {base.ruleset.id} -> {other.ruleset.id}")
    for diff in run_compare(base, other, base_outcome.ruleset, other_outcome.ruleset):
        mark = ("unchanged" if not diff.changes else
                "CHANGED" if diff.before != diff.after else "same outcome; lists CHANGED")
        typer.echo(f"  {diff.question}: {diff.before} -> {diff.after} ({mark})")
        for line in diff.changes:
            typer.echo(f"    - {line}")
    before = {w.code for w in base.warnings}
    after = {w.code for w in other.warnings}
    for code in sorted(after - before):
        typer.echo(f"  warning added: {code}")
    for code in sorted(before - after):
        typer.echo(f"  warning removed: {code}")


@app.command(epilog=EXIT_CODE_HELP)
def train(
    scenario_id: Annotated[Optional[str], typer.Argument(
        help="A scenario id; default: a random one.", show_default=False)] = None,
    random_: Annotated[bool, typer.Option("--random", help="Pick a scenario at random.")] = False,
    seed: Annotated[Optional[int], typer.Option(
        "--seed", help="Make --random repeatable.")] = None,
    answers: Annotated[Optional[Path], typer.Option(
        "--answers", readable=False,
        help="Grade a trainee's answers from this YAML file instead of asking "
                          "(for a classroom).")] = None,
    examples: ExamplesDir = None,
) -> None:
    """Quiz: read a scenario, answer the guidance's questions, then see the model answer with
    its reasoning and citations, and a score.

    Example: riskassess train --random --seed 7"""
    from riskassess.assess.core import assess_file
    from riskassess.render.terminal import render as render_text
    from riskassess.teach import training

    scenarios = _scenarios(examples)
    given: dict | None = None
    if answers is not None:
        from riskassess.io.reader import read_yaml_file as _read

        doc = _read(answers)
        named = doc.data.get("scenario") if isinstance(doc.data, dict) else None
        if scenario_id and named and str(named) != scenario_id:
            raise UsageError(f"{answers} answers scenario '{named}', not '{scenario_id}'; "
                             "grade it against the scenario it answers")
        if not scenario_id and not named and not random_:
            raise UsageError(f"{answers} does not say which scenario it answers: give the "
                             "scenario id, a 'scenario:' key in the file, or --random")
        scenario = training.pick(scenarios, scenario_id or (str(named) if named else None), seed)
        out = assess_file(scenario.case_path, today=dt.date.today())
        given, _ = training.answers_from_document(doc, training.choices(out.ruleset),
                                                  out.ruleset.vocabulary)
    else:
        if not sys.stdin.isatty():
            raise UsageError("train asks its questions at a terminal, and there is none; "
                             "to grade answers without one, pass --answers FILE")
        scenario = training.pick(scenarios, None if random_ else scenario_id, seed)
        out = assess_file(scenario.case_path, today=dt.date.today())
    report = out.report
    from riskassess.engine.explain import show
    from riskassess.law.case import given_facts

    vocab = out.ruleset.vocabulary
    facts = [(path, show(v)) for path, v in given_facts(out.case) if v != "unknown"]
    typer.echo(training.briefing(scenario, facts, report.ruleset.title,
                                 report.assessment_date.isoformat()))
    if given is None:
        try:
            given = {item: training.ask(item, training.choices(out.ruleset)[item], input,
                                        lambda text: typer.echo(text, nl=False), vocab)
                     for item in training.items(vocab)}
        except EOFError:
            typer.echo("\nquiz abandoned", err=True)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    typer.echo("")
    typer.echo(training.score_text(training.grade(given, training.model_answer(scenario, vocab),
                                                  training.lists(vocab))))
    typer.echo("Model answer, with the reasoning and the paragraphs it rests on:\n")
    typer.echo(render_text(report, out.ruleset, width=100, color=False))


@app.command(epilog=EXIT_CODE_HELP)
def interview(
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", readable=False,
        help="Write the case file here (atomically); default: print it. "
                               "Answers are kept in OUTPUT.draft as you go.")] = None,
    from_: Annotated[Optional[Path], typer.Option(
        "--from", readable=False,
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
    from pydantic import ValidationError

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
    from riskassess.teach.interview import Interview, answers_from, draft_text, run, to_yaml

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
        day = _parse_date(date, "--date") if date else (resumed.assessment_date or
                                                         dt.date.today())
    else:
        day = _parse_date(date, "--date")
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
    except ValidationError:
        raise UsageError(f"--case-id '{case_id}' is not a valid reference (1-64 letters, "
                         "digits, '.', '_' or '-')") from None

    def save() -> None:
        write_output(draft, draft_text(session).encode("utf-8"), force=True, inputs=[],
                     option="the interview draft")

    typer.echo(f"Interview for an assessment on {day.isoformat()}. Answer each question; "
               "only facts that can still change a conclusion are asked.\n"
               f"Every answer is kept in {draft} as you go (resume with --from {draft}).")
    try:
        run(session, input, lambda text: typer.echo(text, nl=False), save=save)
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
            reply = input(f"{output} exists; replace it? [y/N] ").strip().lower()
        except (EOFError, KeyboardInterrupt):
            reply = ""
        if reply not in ("y", "yes"):
            typer.echo("not replaced; here is the case file instead:\n")
            typer.echo(text, nl=False)
            if draft.exists():
                typer.echo(f"(your answers also stay in {draft})")
            return
    write_output(output, text.encode("utf-8"), force=True, inputs=[])
    draft.unlink(missing_ok=True)
    typer.echo(f"wrote {output}")



@app.command(epilog=EXIT_CODE_HELP)
def serve(
    host: Annotated[str, typer.Option(
        "--host", help="The address to listen on. Anything but a loopback address needs "
                       "--token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                      help="The port (0: any free one).")] = 8765,
    rules_dir: RulesDir = None,
    token: Annotated[Optional[str], typer.Option(
        "--token", envvar="RISKASSESS_TOKEN", show_default=False,
        help="Require this bearer token (at least 16 characters) on every request but "
             "/healthz; the form asks for it once. Better given in the environment "
             "variable RISKASSESS_TOKEN, which other users cannot list.")] = None,
    allow_host: Annotated[Optional[list[str]], typer.Option(
        "--allow-host", show_default=False,
        help="Another name the Host header may give (the name clients use for this "
             "machine); repeatable. The address listened on is always allowed.")] = None,
    max_concurrent: Annotated[int, typer.Option(
        "--max-concurrent", min=1, help="Assessments at once; beyond, 503.")] = 16,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=0.1, help="Seconds a request may take, its body's upload "
                                   "included.")] = 30.0,
    open_form: Annotated[bool, typer.Option(
        "--open", help="Open the form in this machine's web browser.")] = False,
    today: Annotated[Optional[str], typer.Option("--today", hidden=True)] = None,
) -> None:
    """Serve the HTTP API (/v1, described at /openapi.json) and the web form (/) on the
    encoded rule sets. Stops on Ctrl-C or SIGTERM, after answering what is in flight.

    Nothing is stored and nothing is logged but method, path, status and time.

    Example: riskassess serve   (then open http://127.0.0.1:8765/)"""
    import signal

    from riskassess.serve.runner import serve as run_service

    stopped = run_service(host=host, port=port, rules_dir=rules_dir, token=token,
                          allow_host=allow_host or [], max_concurrent=max_concurrent,
                          timeout=timeout, open_form=open_form,
                          today=_parse_today(today) if today is not None else None)
    if stopped == signal.SIGINT:
        sys.stderr.write("riskassess serve: interrupted; requests in flight were answered\n")
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    sys.stderr.write("riskassess serve: stopped; requests in flight were answered\n")


def main(argv: list[str] | None = None) -> None:
    """Entry point: the one error boundary of the tool.

    typer handles usage errors (exit 2), --help and --version itself; commands return
    normally for success and raise typer.Exit(code) otherwise. Standard output is
    guarded: a failed print (a full disk) is an OutputError, a closed pipe ends quietly;
    it is flushed here, inside the boundary, rather than by the interpreter at exit."""
    from riskassess.io.writer import stdout_boundary

    try:
        with stdout_boundary():
            app(args=argv, prog_name="riskassess")
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:
            _internal()
        # a path the system refuses outright: the user's to fix, not a bug
        sys.stderr.write(f"error: {exc.filename}: file name too long\n")
        sys.exit(int(ExitCode.USAGE))
    except Exception:
        _internal()


def _internal() -> None:
    traceback.print_exc()
    sys.stderr.write("riskassess: internal error (a bug). Please report it with the "
                     "traceback above (it holds no local variables).\n")
    sys.exit(int(ExitCode.INTERNAL))

