"""The terminal report's one layout (render/layout.py), as plain text and in colour.

A cold `evaluate CASE` that prints to a pipe or a file lays the report out from the
compiled engine's bytes, without rich or the report model; the full path lays it out from
the report model. Both must give the same characters, for every example and for generated
cases. At a terminal rich prints the same lines in colour: with its colour codes taken out,
it is the plain text, line for line."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from riskassess.assess.core import Assessor, assess_case, assess_file
from riskassess.io.reader import Document
from riskassess.law.case import case_model
from riskassess.law.casegen import case_dicts
from riskassess.render import layout, terminal

EXAMPLES = sorted(p for p in (Path(__file__).parent.parent / "examples").glob("*.yaml")
                  if not p.name.endswith(".expected.yaml"))
TODAY = dt.date(2026, 12, 1)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_in_colour_are_the_plain_text_with_colour_codes(path):
    outcome = assess_file(path, today=TODAY)
    plain = terminal.render(outcome.report, outcome.ruleset, width=100)
    coloured = terminal.render(outcome.report, outcome.ruleset, width=100, color=True)
    assert ANSI.search(coloured), "no colour at a terminal"
    assert ANSI.sub("", coloured).rstrip("\n") == plain.rstrip("\n")
    assert max(len(line) for line in plain.splitlines()) <= 100


def test_generated_cases_read_the_same_from_the_compiled_bytes():
    assessor = Assessor(today=TODAY)
    vocab = assessor.vocabulary
    for data in case_dicts(vocab, 150, seed=5):
        outcome = assess_case(case_model(vocab).model_validate(data), today=TODAY)
        done = assessor.assess_document(Document("<gen>", data))
        words = layout.text_info(outcome.ruleset)
        assert layout.render(json.loads(done.json()), words) == \
            terminal.render(outcome.report, outcome.ruleset, width=100)


@pytest.mark.parametrize("text, width, lines", [
    ("one two three four", 9, ["one two", "three", "four"]),
    ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),  # a word longer than a line is cut
    ("a " + "y" * 12 + " b c", 10, ["a", "y" * 10, "yy b c"]),
    ("  lead and trail  ", 8, ["  lead", "and", "trail"]),  # blanks at a break are dropped
    ("one\ntwo lines\n\nthree", 20, ["one", "two lines", "", "three"]),
    ("", 10, [""]),
    ("日本語の文字は二桁", 8, ["日本語の", "文字は二", "桁"]),  # wide characters take two columns
    ("café crème brûlée", 11, ["café crème", "brûlée"]),
])
def test_text_is_broken_between_words_at_the_width(text, width, lines):
    assert layout.wrap(text, width) == lines


def test_a_bullet_hangs_and_a_warning_is_boxed():
    lines = layout.lay_out([("bullet", "alpha beta gamma delta", 2, ""),
                            ("panel", "WARNING: w", "one two three four five six")], 16)
    assert layout.plain(lines).splitlines() == [
        "  - alpha beta",
        "    gamma delta",
        "╭─ WARNING: w ─╮",
        "│ one two      │",
        "│ three four   │",
        "│ five six     │",
        "╰──────────────╯",
    ]
