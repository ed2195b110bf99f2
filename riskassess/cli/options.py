"""What the commands share: option types and the reading of date options."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer


def given_path(value: str | Path) -> Path:
    """A path the command line gives (an argument or option), refused when empty: `""` is
    what an unset shell variable gives, and as a path it would name the current folder."""
    return Path(given_name(value))


def given_name(value: str | Path) -> str:
    """`given_path` for an option kept as written (its final slash says it is a folder)."""
    if isinstance(value, Path):
        return str(value)
    if value == "":
        from riskassess.words import EMPTY_PATH

        raise typer.BadParameter(EMPTY_PATH)
    return value


RulesDir = Annotated[Optional[Path], typer.Option(
    "--rules-dir", parser=given_path, metavar="<path>",
    help="Use rule sets from this folder instead of the shipped ones.")]


def parse_today(value: Optional[str]) -> dt.date:
    return parse_date(value, "--today")


def parse_date(value: Optional[str], option: str) -> dt.date:
    """A date option's value (default: today), refused with the reason and the option's
    name: by the rule a case file's assessment_date obeys (law/dates.py `full_date`), so
    that no date given here makes a case file that `evaluate` would refuse."""
    from riskassess.law.dates import full_date
    from riskassess.words import echoed

    if value is None:
        return dt.date.today()
    try:
        return full_date(value)
    except ValueError as exc:  # e.g. 2025-02-30: say which part does not exist
        raise typer.BadParameter(f"'{echoed(value)}': {exc}", param_hint=option) from None


ExamplesDir = Annotated[Optional[Path], typer.Option(
    "--examples", parser=given_path, metavar="<path>",
    help="A folder of scenarios; default: the shipped examples.")]


# ------------------------------------------------------------------ shell completion
#
# Typer's completion (`riskassess --install-completion`) offers commands, options and the
# values of choice options by itself; these offer the ids the shipped data (or the folder a
# --rules-dir or --examples already on the line names) holds. They read the data, never a
# list of their own, and fail silently: a completion must never print into the shell.


def _offered(ids: Callable[[], list[str]], incomplete: str) -> list[str]:
    try:
        return [i for i in ids() if i.startswith(incomplete)]
    except Exception:  # a broken or missing folder: nothing to offer
        return []


def _rules_dir(ctx: typer.Context) -> Path:
    from riskassess.law.ruleset import default_rules_dir

    given = ctx.params.get("rules_dir")
    return Path(given) if given else default_rules_dir()


def complete_edition(ctx: typer.Context, incomplete: str) -> list[str]:
    """The encoded editions' ids (--ruleset, --editions)."""
    from riskassess.assess.browse import edition_ids

    return _offered(lambda: edition_ids(_rules_dir(ctx)), incomplete)


def complete_rule(ctx: typer.Context, incomplete: str) -> list[str]:
    """The encoded rule sets' rule ids (rules show)."""
    from riskassess.assess.browse import rule_ids

    return _offered(lambda: rule_ids(_rules_dir(ctx)), incomplete)


def complete_paragraph(ctx: typer.Context, incomplete: str) -> list[str]:
    """The ids of the paragraphs the encoded rule sets cite (coi show)."""
    from riskassess.assess.browse import paragraph_ids

    return _offered(lambda: paragraph_ids(_rules_dir(ctx)), incomplete)


def complete_scenario(ctx: typer.Context, incomplete: str) -> list[str]:
    """The examples' scenario ids (examples show|run|vary, train)."""
    from riskassess.law.ruleset import default_examples_dir
    from riskassess.law.scenarios import scenario_ids

    def ids() -> list[str]:
        given = ctx.params.get("examples")
        return scenario_ids(Path(given) if given else default_examples_dir())

    return _offered(ids, incomplete)
