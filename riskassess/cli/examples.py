"""Teaching scenarios: `examples list|show|run|vary` and the quiz, `train`."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from riskassess.cli import streams
from riskassess.cli.options import (
    ExamplesDir,
    complete_scenario,
    given_path,
)
from riskassess.errors import ExitCode, OutOfScopeError, UsageError, UserError


def _scenarios(examples: Optional[Path]):
    """The scenarios of --examples (or the shipped ones); a folder that is missing, or
    holds none, is a usage error rather than an empty list (which `examples run --all`
    would report as "0 passed" and a success)."""
    from riskassess.law.ruleset import default_examples_dir
    from riskassess.law.scenarios import SUFFIX, load_scenarios
    from riskassess.textcheck import printable

    folder = examples or default_examples_dir()
    if not folder.is_dir():
        raise UsageError(f"--examples {printable(str(folder))}: not a folder"
                         + ("" if folder.exists() else " (it does not exist)"))
    found = load_scenarios(folder)
    if not found:
        raise UsageError(f"--examples {printable(str(folder))}: no scenarios in this folder (a "
                         f"scenario is a case file NAME.yaml with its NAME{SUFFIX})")
    return found


def examples_list(examples: ExamplesDir = None) -> None:
    """List the scenarios: id, edition, title and a one-line summary.

    Example: riskassess examples list"""
    for sc in _scenarios(examples):
        typer.echo(f"{sc.id}  [{sc.meta.expected.ruleset}]  {sc.meta.title}")
        typer.echo(f"    {sc.meta.summary}")


def examples_show(
    scenario_id: Annotated[str, typer.Argument(help="A scenario id (see examples list).",
                                               show_default=False,
                                               autocompletion=complete_scenario)],
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
    from riskassess.law.case import given_facts
    from riskassess.words import fact_value

    for path, value in given_facts(out.case):
        if value != "unknown":
            typer.echo(f"  {path} = {fact_value(value)}")
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


def examples_run(
    scenario_id: Annotated[Optional[str], typer.Argument(
        help="A scenario id; or use --all.", show_default=False,
        autocompletion=complete_scenario)] = None,
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


def examples_vary(
    scenario_id: Annotated[str, typer.Argument(help="A scenario id.", show_default=False,
                                               autocompletion=complete_scenario)],
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


def train(
    scenario_id: Annotated[Optional[str], typer.Argument(
        help="A scenario id; default: a random one.", show_default=False,
        autocompletion=complete_scenario)] = None,
    random_: Annotated[bool, typer.Option("--random", help="Pick a scenario at random.")] = False,
    seed: Annotated[Optional[int], typer.Option(
        "--seed", help="Make --random repeatable.")] = None,
    answers: Annotated[Optional[Path], typer.Option(
        "--answers", parser=given_path, metavar="<path>",
        help="Grade a trainee's answers from this YAML file instead of asking "
                          "(for a classroom).")] = None,
    examples: ExamplesDir = None,
) -> None:
    """Quiz: read a scenario, answer the guidance's questions, then see the model answer with
    its reasoning and citations, and last your score.

    Example: riskassess train --random --seed 7"""
    import shutil

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
    else:  # the scenario first: a wrong id is said as such, terminal or not
        scenario = training.pick(scenarios, None if random_ else scenario_id, seed)
        if not sys.stdin.isatty():
            raise UsageError("train asks its questions at a terminal, and there is none; "
                             "to grade answers without one, pass --answers FILE")
        out = assess_file(scenario.case_path, today=dt.date.today())
    report = out.report
    from riskassess.law.case import given_facts
    from riskassess.words import fact_value

    vocab = out.ruleset.vocabulary
    width = shutil.get_terminal_size((100, 24)).columns
    facts = [(path, fact_value(v)) for path, v in given_facts(out.case) if v != "unknown"]
    typer.echo(training.briefing(scenario, facts, report.ruleset.title,
                                 report.assessment_date.isoformat(), width))
    if given is None:
        try:
            given = {item: training.ask(item, training.choices(out.ruleset)[item], streams.ask,
                                        lambda text: typer.echo(text, nl=False), vocab, width)
                     for item in training.items(vocab)}
        except EOFError:
            typer.echo("\nquiz abandoned", err=True)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    typer.echo("")
    typer.echo("Model answer, with the reasoning and the paragraphs it rests on:\n")
    typer.echo(render_text(report, out.ruleset, width=100, color=False, full=True))
    # the score last, where the trainee is looking when the long model answer has scrolled by
    typer.echo(training.score_text(training.grade(given, training.model_answer(scenario, vocab),
                                                  training.lists(vocab)), width), nl=False)
