"""The terminal report: the guidance's order, every conclusion with its reasons and cites.

Order (as a caseworker reads it): the edition applied and its dates (with any
review or supersession warning at the top), applicability, Step 1 persecution,
Step 2 risk, Step 3 nexus, exclusion, open questions, warnings, cited paragraphs.
Rendered with rich to a string at a fixed width when not on a terminal, so that
output piped to a file is byte-stable.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from riskassess.assessment import Report
from riskassess.render.common import bracket_source_text, item_text
from riskassess.ruleset import RuleSet, top_warning_codes, warning_rank


def render(report: Report, ruleset: RuleSet, *, width: int = 100, color: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system="standard" if color else None,
                      force_terminal=color, highlight=False, emoji=False, markup=False,
                      legacy_windows=False)
    codes = ruleset.edition.codes
    vocab = ruleset.vocabulary
    labels, list_labels = vocab.outcome_labels, vocab.list_labels()

    def say(text: str | Text = "", indent: int = 0, style: str = "") -> None:
        """Print indented; a line starting with "- " is a bullet whose wrapped lines hang
        under its text, not under the dash."""
        if isinstance(text, str):
            if text.startswith("- "):
                grid = Table.grid(padding=(0, 1, 0, 0))
                grid.add_column(width=1)
                grid.add_column()
                grid.add_row("-", Text(text[2:], style=style))
                console.print(Padding(grid, (0, 0, 0, indent)))
                return
            text = Text(text, style=style)
        console.print(Padding(text, (0, 0, 0, indent)) if indent else text)

    title = Text("riskassess assessment", style="bold")
    if report.case_id:
        title.append(f" of case {report.case_id}")
    title.append(f", assessment date {report.assessment_date.isoformat()}")
    say(title)
    say()
    scope = vocab.scope.warning  # the country scope, before anything else
    for w in report.warnings:
        if w.code == scope:
            console.print(Panel(Text(w.message), title=f"WARNING: {w.code}",
                                title_align="left", border_style="red bold", width=width))
            say()

    rs = report.ruleset
    say(Text("Guidance applied", style="bold underline"))
    say(rs.title, 2)
    dates = f"edition {rs.id}; in force from {rs.in_force_from.isoformat()}"
    if rs.under_review_from:
        dates += f"; under review from {rs.under_review_from.isoformat()}"
    if rs.superseded_on:
        dates += f"; superseded on {rs.superseded_on.isoformat()}"
        if rs.successor:
            dates += f" (successor: {rs.successor})"
    say(dates, 2)
    say("chosen by the assessment date" if rs.selected_by == "assessment_date"
        else "forced with --ruleset (not chosen by the assessment date)", 2)
    current = rs.in_force_on_assessment_date
    if current is None:
        say("edition in force on the assessment date: none catalogued", 2)
    elif current.id != rs.id:
        say(f"edition in force on the assessment date: {current.title} ({current.id}"
            f"{'' if current.encoded else ', not encoded'})", 2)
    if rs.newer_editions:
        say("newer editions: " + "; ".join(
            f"{e.title} ({e.id}, from {e.in_force_from.isoformat()}"
            f"{'' if e.encoded else ', not encoded'})" for e in rs.newer_editions), 2)
    else:
        say("no newer edition is known", 2)
    rank = warning_rank(ruleset)
    for w in sorted(report.warnings, key=lambda w: rank.get(w.code, len(rank))):
        if w.code in top_warning_codes(ruleset) and w.code != scope:
            console.print(Panel(Text(w.message), title=f"WARNING: {w.code}",
                                title_align="left", border_style="red bold", width=width))
    say()

    headings = {q.id: q.heading for q in ruleset.questions}
    for qid in headings:
        q = report.question(qid)
        say(Text(headings[qid], style="bold underline"))
        say(f"Outcome: {labels.get(q.outcome, q.outcome)} [{q.outcome}]", 2, "bold")
        if q.possible_outcomes:
            say(f"Still open between: {', '.join(q.possible_outcomes)}", 2)
        for coll, label in list_labels.items():
            items = getattr(q, coll, None)
            if items:
                say(f"{label}:", 2)
                for item in items:
                    say(f"- {item_text(item, codes.get(coll, {}), vocab)}", 4)
        for coll, items in q.possible.items():
            say(f"Could be added once facts are known ({list_labels.get(coll, coll)}):", 2)
            for item in items:
                say(f"- {item_text(item, codes.get(coll, {}), vocab)}", 4)
        for title, conditional in (("Reasons:", False), ("Depending on facts not given:", True)):
            reasons = [r for r in q.reasons if r.conditional is conditional]
            if reasons:
                say(title, 2)
            for r in reasons:
                say(f"- {r.text}", 4)
                say(f"rule {r.rule}; cites {', '.join(r.cites)}", 6, "dim")
        say()

    say(Text("Open questions (facts to establish)", style="bold underline"))
    if not report.open_questions:
        say("None: no unknown fact could change a conclusion.", 2)
    for oq in report.open_questions:
        say(f"- {oq.fact} (affects {', '.join(oq.affects)})", 2)
        say(oq.why, 4)
    say()

    say(Text("Warnings", style="bold underline"))
    if not report.warnings:
        say("None.", 2)
    for w in report.warnings:
        say(f"- {w.code}: {w.message}", 2)
    say()

    say(Text("Cited paragraphs", style="bold underline"))
    for pid, c in report.citations.items():
        say(f"[{pid}] {c.source_short}, {c.locator}", 2, "bold")
        say(c.gist, 4)
        for b in c.bracket_sources:
            say(bracket_source_text(b), 4)
    say()
    say(f"riskassess {report.tool.version}; rule set {rs.id}; sha256 {rs.sha256}", 0, "dim")
    # Padding fills lines to the full width; trailing blanks help nobody in a file.
    return "\n".join(line.rstrip() for line in out.getvalue().split("\n"))
