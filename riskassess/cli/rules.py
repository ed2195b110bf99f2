"""Reading the law: `rules list|check|show|coverage`, `coi show|search`, `schema ...`."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from riskassess import words
from riskassess.cli.options import (
    RulesDir,
    complete_paragraph,
    complete_rule,
    given_path,
)
from riskassess.errors import ExitCode, UsageError


def schema_case(rules_dir: RulesDir = None) -> None:
    """The JSON Schema of the case file (format 1), built from the rules' vocabulary.

    Example: riskassess schema case > case.schema.json"""
    _print_schema("case", rules_dir)


def schema_report(rules_dir: RulesDir = None) -> None:
    """The JSON Schema of the JSON report (format 1), built from the rules' vocabulary.

    Example: riskassess schema report > report.schema.json"""
    _print_schema("report", rules_dir)


def schema_outcomes(rules_dir: RulesDir = None) -> None:
    """The JSON Schema of one line of `evaluate --format outcomes`, from the vocabulary.

    Example: riskassess schema outcomes > outcomes.schema.json"""
    _print_schema("outcomes", rules_dir)


def _print_schema(which: str, rules_dir: Optional[Path]) -> None:
    from riskassess.law.ruleset import catalog_vocabulary, default_rules_dir
    from riskassess.serve.service import schema_text

    sys.stdout.write(schema_text(catalog_vocabulary(rules_dir or default_rules_dir()), which))


def rules_list(
    rules_dir: Annotated[Optional[Path], typer.Option(
        "--rules-dir", parser=given_path, metavar="<path>",
        help="Use rule sets from this folder instead of the shipped ones.")] = None,
) -> None:
    """List every known edition with its dates, and the rules of each encoded one.

    Example: riskassess rules list"""
    from riskassess.assess.cache import sound
    from riskassess.law.ruleset import default_rules_dir

    directory = rules_dir or default_rules_dir()
    loaded = sound(directory)  # what the check refuses is refused here too
    catalog = loaded.catalog
    for e in catalog.editions:
        window = words.window(e, sep="; ", open_end="not superseded")
        status = "encoded" if e.encoded else "NOT ENCODED"
        typer.echo(f"{e.id}  [{status}]  {e.title}")
        typer.echo(f"    profile: {e.profile}; {window}")
        if e.successor:
            typer.echo(f"    successor: {e.successor}")
        typer.echo(f"    {e.url}")
        if e.encoded:
            rs = loaded.rulesets[e.id]
            typer.echo(f"    rule set sha256 {rs.sha256}; {len(rs.rules)} rules, "
                       f"{len(rs.paragraphs)} cited paragraphs:")
            for rule in rs.rules.values():
                typer.echo(f"      {rule.id}")
            if rs.edition.not_at_hand:
                typer.echo("    not encoded (text not at hand when the rules were written):")
                for item in rs.edition.not_at_hand:
                    typer.echo(f"      - {item}")
        typer.echo()


def rules_check(
    path: Annotated[Optional[Path], typer.Argument(parser=given_path,
        help="The same as --rules-dir (kept for existing scripts).", show_default=False)
    ] = None,
    rules_dir: Annotated[Optional[Path], typer.Option(
        "--rules-dir", parser=given_path, metavar="<path>",
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
    named = [*result.editions, *(f"{e} (not loaded: its errors are above)"
                                 for e in result.unloaded)]
    typer.echo(f"checked {', '.join(named) or 'no rule set'}: "
               f"{len(result.errors)} error(s), {len(result.warnings)} warning(s); "
               f"{result.cases} combinations in {elapsed:.2f} s", err=True)
    if result.errors:
        raise typer.Exit(int(ExitCode.FINDINGS))


def rules_show(
    rule_id: Annotated[str, typer.Argument(help="A rule id (QUESTION.NAME, see rules list).",
                                           show_default=False, autocompletion=complete_rule)],
    rules_dir: RulesDir = None,
) -> None:
    """Print a rule in plain English: when it applies, what it concludes, why, and the
    paragraphs it cites in full.

    Example: riskassess rules show risk.amnesty-does-not-reduce"""
    from riskassess.assess.browse import encoded_rulesets, show_rule
    from riskassess.law.ruleset import default_rules_dir

    typer.echo(show_rule(encoded_rulesets(rules_dir or default_rules_dir()), rule_id), nl=False)


def rules_coverage(
    examples: Annotated[Optional[Path], typer.Option(
        "--examples", parser=given_path, metavar="<path>",
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


def coi_show(
    paragraph_id: Annotated[str, typer.Argument(help="A paragraph id, e.g. cg24.coi.penalties.",
                                                show_default=False,
                                                autocompletion=complete_paragraph)],
    rules_dir: RulesDir = None,
) -> None:
    """Print a cited paragraph in full: source, section, locator, summary, facts, and the
    rules that cite it.

    Example: riskassess coi show sd.houran-200"""
    from riskassess.assess.browse import encoded_rulesets, show_paragraph
    from riskassess.law.ruleset import default_rules_dir

    typer.echo(show_paragraph(encoded_rulesets(rules_dir or default_rules_dir()), paragraph_id),
               nl=False)


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
