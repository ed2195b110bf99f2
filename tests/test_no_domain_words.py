"""The law lives in rules/, the machinery in riskassess/: no domain word in the machinery.

The code, messages and templates of riskassess/ may not name the shipped guidance's
domain (deserters, Syria, amnesty...) nor any fact of the shipped vocabulary. Comments
and docstrings may (they name the shipped rule sets as examples), so they are skipped:
comments with `tokenize`, docstrings with `ast`.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from conftest import ROOT, VOCAB

PACKAGE = ROOT / "riskassess"
DOMAIN_WORDS = ("deserter", "defector", "desertion", "military", "conscript", "officer",
                "amnesty", "reconciliation", "daraa", "syria")


def forbidden() -> re.Pattern:
    """The domain words (anywhere in a word: 'conscript' also catches 'conscription'), each
    fact's dotted path, and each fact key that is not an ordinary English word on its own
    (multi-word keys such as military_status; 'sex', 'rank', 'force' are caught through
    their dotted paths, since 'force' is also the --force option and 'in force')."""
    words = [re.escape(w) for w in DOMAIN_WORDS]
    words += [re.escape(path) for path in VOCAB.facts]
    words += [r"\b" + re.escape(spec.key) + r"\b" for spec in VOCAB.facts.values()
              if "_" in spec.key]
    return re.compile("|".join(words), re.IGNORECASE)


def docstring_lines(source: str) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def python_hits(path: Path, pattern: re.Pattern, root: Path = ROOT) -> list[str]:
    source = path.read_text(encoding="utf-8")
    skip = docstring_lines(source)
    hits = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE):
            continue
        if tok.type == tokenize.STRING and tok.start[0] in skip:
            continue
        m = pattern.search(tok.string)
        if m:
            hits.append(f"{path.relative_to(root)}:{tok.start[0]}: {m.group(0)!r} in "
                        f"{tok.string[:60]!r}")
    return hits


def template_hits(path: Path, pattern: re.Pattern) -> list[str]:
    text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
    return [f"{path.relative_to(ROOT)}:{n}: {m.group(0)!r}"
            for n, line in enumerate(text.splitlines(), 1) if (m := pattern.search(line))]


def test_the_machinery_names_no_domain_word():
    pattern = forbidden()
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        hits += python_hits(path, pattern)
    for path in sorted(PACKAGE.rglob("*.j2")):
        hits += template_hits(path, pattern)
    assert hits == [], "\n".join(hits)


def test_the_check_can_fail(tmp_path):
    """The scan finds a domain word in code and a fact name in a message, and skips
    comments and docstrings."""
    pattern = forbidden()
    sample = tmp_path / "riskassess" / "sample.py"
    sample.parent.mkdir()
    sample.write_text('"""Docstring naming Syria and deserters is fine."""\n'
                      "# a comment about amnesty is fine\n"
                      "def f():\n"
                      '    """So is applicant.military_status here."""\n'
                      '    return "the " + "military_status" + " of a Deserter"\n',
                      encoding="utf-8")
    hits = python_hits(sample, pattern, tmp_path)
    assert [h.split(": ", 1)[0] for h in hits] == ["riskassess/sample.py:5"] * 2
    assert "military_status" in hits[0] and "Deserter" in hits[1]
