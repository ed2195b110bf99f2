"""What the commands share: option types and the reading of date options."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Optional

import typer

RulesDir = Annotated[Optional[Path], typer.Option(
    "--rules-dir", readable=False,
    help="Use rule sets from this folder instead of the shipped ones.")]


def parse_today(value: Optional[str]) -> dt.date:
    return parse_date(value, "--today")


def parse_date(value: Optional[str], option: str) -> dt.date:
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


ExamplesDir = Annotated[Optional[Path], typer.Option(
    "--examples", readable=False, help="A folder of scenarios; default: the shipped examples.")]
