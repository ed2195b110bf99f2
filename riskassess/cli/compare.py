"""`riskassess compare`: one case, or a caseload, under two encoded editions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from riskassess.cli.options import (
    RulesDir,
    complete_edition,
    given_path,
    parse_today,
)


def compare(
    cases: Annotated[list[Path], typer.Argument(parser=given_path,
        help="A case file (YAML or .json, format 1); or a .jsonl file (one case per line), "
             "several files and folders (searched for *.yaml, *.yml, *.json and *.jsonl): "
             "a caseload, counted.", show_default=False)],
    editions: Annotated[tuple[str, str], typer.Option(
        "--editions", autocompletion=complete_edition,
        help="The two encoded editions to compare (ids from `rules list`), "
                           "e.g. --editions OLD NEW.")],
    summary_csv: Annotated[Optional[Path], typer.Option(
        "--summary-csv", parser=given_path, metavar="<path>",
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

    For a caseload (a folder, a .jsonl file, several files, or --summary-csv), every case
    (a file, or a line of a .jsonl file, which needs its case_id) is assessed
    under both editions, in path order, and for each question a table counts the cases that
    went from each outcome under the first edition (rows) to each outcome under the second
    (columns), with totals and the number changed; then a summary of the files assessed,
    refused (with the first problem) and skipped. Only outcomes are counted, not lists. A
    refused file does not stop the run; the exit code says whether any file was refused.

    Example: riskassess compare case.yaml --editions euaa-syria-2024 euaa-syria-2025-12

    Example: riskassess compare caseload/ --editions euaa-syria-2024 euaa-syria-2025-12
    --summary-csv impact.csv"""
    from riskassess.assess.core import is_caseload
    from riskassess.law.editions import check_encoded
    from riskassess.law.ruleset import default_rules_dir, load_catalog

    day = parse_today(today)
    catalog, _ = load_catalog(rules_dir or default_rules_dir())
    for wanted in editions:  # named as this command names them, before any case is read
        check_encoded(catalog, wanted, "--editions")
    if len(cases) > 1 or is_caseload(cases[0]) or summary_csv is not None:
        from riskassess.assess.caseload import compare_caseload
        from riskassess.io.writer import check_not_stdout
        from riskassess.render.comparison import describe_caseload

        check_not_stdout({"--summary-csv": summary_csv})
        impact = compare_caseload(cases, editions, today=day, rules_dir=rules_dir,
                                  summary_csv=summary_csv, force=force)
        typer.echo("\n".join(describe_caseload(impact)))
        if impact.exit_code:
            raise typer.Exit(impact.exit_code)
        return
    from riskassess.assess.core import assess_file
    from riskassess.render.comparison import describe_comparison

    case = cases[0]
    first = assess_file(case, today=day, ruleset_id=editions[0], rules_dir=rules_dir)
    second = assess_file(case, today=day, ruleset_id=editions[1], rules_dir=rules_dir)
    titles = {e.id: e.title for e in catalog.editions}
    for line in describe_comparison(first.report, second.report, first.ruleset,
                                    second.ruleset, titles):
        typer.echo(line)
