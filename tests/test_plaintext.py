"""The plain-text report (render/plaintext.py) against the same blocks drawn by rich.

A cold `evaluate CASE` that prints to a pipe or a file lays the report out without rich;
it must give the very characters rich gives (terminal.py, no colour), for every example
and for generated cases (long words, open questions, every warning)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from riskassess.assess.core import Assessor, assess_file
from riskassess.io.reader import Document
from riskassess.law.case import case_model
from riskassess.law.casegen import case_dicts
from riskassess.render import plaintext, terminal

EXAMPLES = sorted(p for p in (Path(__file__).parent.parent / "examples").glob("*.yaml")
                  if not p.name.endswith(".expected.yaml"))
TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_read_the_same_without_rich(path):
    outcome = assess_file(path, today=TODAY)
    rich_text = terminal.render(outcome.report, outcome.ruleset, width=100)
    plain = plaintext.render(outcome.report.model_dump(mode="json"),
                             plaintext.text_info(outcome.ruleset), width=100)
    assert plain == rich_text


def test_generated_cases_read_the_same_without_rich():
    assessor = Assessor(today=TODAY)
    vocab = assessor.vocabulary
    for data in case_dicts(vocab, 150, seed=5):
        case = case_model(vocab).model_validate(data)
        from riskassess.assess.core import _assess

        outcome = _assess(case, assessor.catalog, assessor.rules_dir, TODAY, None,
                          assessor.rulesets)
        done = assessor.assess_document(Document("<gen>", data))
        info = plaintext.text_info(outcome.ruleset)
        assert plaintext.render(json.loads(done.json()), info) == \
            terminal.render(outcome.report, outcome.ruleset, width=100)


@pytest.mark.parametrize("width", [20, 37, 60, 100])
def test_wrapping_matches_rich_on_hard_lines(width):
    """Long words are folded, runs of spaces kept, lines broken between words as rich does."""
    from rich.console import Console
    from rich.text import Text

    samples = ["word " * 40, "x" * 250, "a " + "y" * (width + 3) + " b c", "  lead and trail  ",
               "“quoted” — dash … ellipsis é " * 6, "one\ntwo lines\n\nthree", "",
               "https://example.org/" + "path/" * 30]
    for text in samples:
        import io

        out = io.StringIO()
        Console(file=out, width=width, color_system=None, highlight=False, emoji=False,
                markup=False).print(Text(text))
        ours = plaintext.render_text_only(text, width)
        theirs = "\n".join(line.rstrip() for line in out.getvalue().split("\n"))
        assert ours == theirs, (width, text)
