"""Comparisons in words: one case under two editions, and a caseload's transitions.

The computation is elsewhere (engine/explain.py compares two reports; assess/caseload.py
counts a caseload); this module writes what they found for a person.
"""

from __future__ import annotations

from typing import Any

from riskassess import words
from riskassess.engine.explain import compare
from riskassess.law.report import Report, vocabulary_of_report
from riskassess.law.ruleset import RuleSet, warning_rank


def _sorted_warnings(report: Report, ruleset: RuleSet) -> list[Any]:
    """A report's warnings, most severe first (ruleset.warning_rank, as in the documents'
    headers), then the others in the report's order."""
    rank = warning_rank(ruleset)
    return [w for _, w in sorted(enumerate(report.warnings),
                                 key=lambda p: (rank.get(p[1].code, len(rank)), p[0]))]


def _edition_status(report: Report) -> str:
    return words.edition_status(report.ruleset, report.assessment_date)


def _paragraphs(prefix: str, report: Report, pids: tuple[str, ...],
                shown: set[str]) -> list[str]:
    """Paragraph lines: a paragraph with its source, locator and gist the first time it is
    shown (`shown` collects them), later by its id only."""
    out, again = [], []
    for pid in pids:
        c = report.citations.get(pid)
        if pid in shown or c is None:
            again.append(f"[{pid}]")
        else:
            out.append(f"    {prefix} [{pid}] {c.source_short}, {c.locator}: {c.gist}")
        shown.add(pid)
    if again:
        out.append(f"    {prefix} (as above): {', '.join(again)}")
    return out


def describe_comparison(first: Report, second: Report, first_rules: RuleSet,
                        second_rules: RuleSet, titles: dict[str, str] | None = None) -> list[str]:
    """The comparison of one case under two editions, as lines of text for a person: the
    two editions and the one in force, both editions' warnings, then per question what
    changed under the second edition and the paragraphs of the rules that decided it.

    `titles` (edition id -> the catalog's title) gives the short names used in sentences;
    without it, the rule sets' own titles are used."""
    vocab = vocabulary_of_report(second)
    labels = vocab.outcome_labels
    ea, eb = first.ruleset, second.ruleset
    titles = titles or {}
    long_a, long_b = f"'{ea.title}' ({ea.id})", f"'{eb.title}' ({eb.id})"
    name_a = f"'{titles.get(ea.id, ea.title)}' ({ea.id})"
    name_b = f"'{titles.get(eb.id, eb.title)}' ({eb.id})"
    why = "the facts are the same, so this comes from the change of edition."

    def outcome(code: str) -> str:
        return f'"{labels.get(code, code)}" ({code})'

    def open_between(possible: tuple[str, ...]) -> str:
        said = [outcome(p) for p in possible]
        return " and ".join([", ".join(said[:-1]), said[-1]] if len(said) > 2 else said)

    lines = [f"Case {second.case_id or '(no id)'}, assessed on "
             f"{second.assessment_date.isoformat()} under two editions:",
             f"  first:  {long_a}, {_edition_status(first)};",
             f"  second: {long_b}, {_edition_status(second)}."]
    current = eb.in_force_on_assessment_date
    lines.append("  In force on the assessment date: " + (
        f"'{current.title}' ({current.id}{'' if current.encoded else ', not encoded'})."
        if current is not None else "no catalogued edition."))
    lines.append("  Both assessments read the same case file, so the facts are the same: every "
                 "difference below comes from the change of edition, not from the facts.")
    for report, rules, name in ((first, first_rules, name_a), (second, second_rules, name_b)):
        warnings = _sorted_warnings(report, rules)
        lines.append(f"\nWarnings under {name}" + (", most severe first:" if warnings
                                                   else ": none"))
        for w in warnings:
            lines.append(f"  WARNING {w.code}: {' '.join(w.message.split())}")

    headings = {q.id: q.heading for q in second_rules.questions}
    for diff in compare(first, second, first_rules, second_rules):
        shown: set[str] = set()  # paragraphs already shown under this question
        lines.append(f"\n{headings.get(diff.question, diff.question)}")
        if not diff.changed:
            lines.append(f"  Outcome: {outcome(diff.after)} under both editions (unchanged)")
            continue
        if not diff.outcome_changed:
            lines.append(f"  Outcome: {outcome(diff.after)} under both editions "
                         "(same outcome; lists CHANGED)")
        elif diff.before != diff.after:
            lines += [f"  Outcome: {outcome(diff.before)} -> {outcome(diff.after)} (CHANGED)",
                      f"  - Under {name_b}, the outcome is {outcome(diff.after)} instead of "
                      f"{outcome(diff.before)} under {name_a}; {why}"]
            if diff.possible_after:
                lines.append(f"    It is open between {open_between(diff.possible_after)}, "
                             "depending on facts not given.")
        else:  # open under both, between other outcomes
            lines += [f"  Outcome: {outcome(diff.after)} under both editions (open between "
                      "other outcomes; CHANGED)",
                      f"  - Under {name_b}, the outcome is still {outcome(diff.after)}, but "
                      f"open between {open_between(diff.possible_after)} instead of "
                      f"{open_between(diff.possible_before)} under {name_a}; {why}"]
        if diff.outcome_changed:
            if diff.outcome_cites_after:
                lines += _paragraphs("explained by", second, diff.outcome_cites_after, shown)
            else:
                lines.append(f"    No single rule of {eb.id} decides it on the facts given, so "
                             "no paragraph is cited for it.")
            lines += _paragraphs("previously relied on", first, diff.outcome_cites_before,
                                 shown)
        for item in diff.items:
            what = f'"{item.words}"' + (f" ({item.code})" if item.code else "")
            if item.added:
                lines.append(f"  - Under {name_b}, {what} is now listed among the {item.noun} "
                             f"(not listed under {name_a}); {why}")
                lines += _paragraphs("explained by", second, item.cites, shown)
            else:
                lines.append(f"  - Under {name_b}, {what} is no longer listed among the "
                             f"{item.noun} (listed under {name_a}); {why}")
                lines += _paragraphs("previously relied on", first, item.cites, shown)
            if not item.cites:
                lines.append("    No single rule put it there on the facts given, so no "
                             "paragraph is cited for it.")
    return lines


# ------------------------------------------------------------------- caseloads


def describe_caseload(impact: Any) -> list[str]:
    """The caseload's impact as lines of text for a person: the two editions, then per
    question (in the vocabulary's order) the matrix of transitions with its totals and
    the number of cases changed, then the summary."""
    ea, eb = impact.editions
    ta, tb = impact.titles
    lines = [f"Caseload assessed under two editions ({impact.files} file(s)):",
             f"  first (rows):     '{ta}' ({ea});",
             f"  second (columns): '{tb}' ({eb}).",
             "  Each case is assessed twice from the same case file, so the facts are the "
             "same: every change below comes from the change of edition, not from the facts."]
    if impact.assessed:
        for q in impact.questions:
            lines += ["", *_matrix_lines(impact, impact.vocabulary.question(q))]
    lines += ["", *caseload_summary(impact)]
    return lines


def _matrix_lines(impact: Any, question: Any) -> list[str]:
    counts = impact.matrix(question.id)
    seen = {o for pair in counts for o in pair}
    # the outcomes that occur under either edition, in the vocabulary's order: one list
    # for rows and columns, so that the diagonal is the unchanged cases
    order = [o for o in question.outcomes if o in seen] + sorted(seen - set(question.outcomes))
    labels = impact.vocabulary.outcome_labels
    names = [f"[{i}] {labels.get(o, o)} ({o})" for i, o in enumerate(order, 1)]
    rows = [[counts.get((a, b), 0) for b in order] for a in order]
    cols = [sum(row[j] for row in rows) for j in range(len(order))]
    total = sum(cols)
    width = max(len(str(total)), len("total"), len(f"[{len(order)}]"))
    left = max(len(n) for n in names)

    def row(name: str, cells: list) -> str:
        return f"  {name:<{left}}" + "".join(f"  {str(c):>{width}}" for c in cells)

    unchanged = sum(rows[i][i] for i in range(len(order)))
    return [f"{question.title} ({question.id}): {question.description}",
            f"  cases by outcome under {impact.editions[0]} (rows) and "
            f"{impact.editions[1]} (columns):",
            row("", [f"[{i}]" for i in range(1, len(order) + 1)] + ["total"]),
            *(row(n, [*r, sum(r)]) for n, r in zip(names, rows, strict=True)),
            row("total", [*cols, total]),
            f"  changed: {total - unchanged} of {total} case(s)"]


def caseload_summary(impact: Any) -> list[str]:
    """The counts of files, in the words of `evaluate FOLDER`'s summary, and the refusals
    with their first problem."""
    lines = [f"Summary: {impact.files} file(s), {impact.assessed} assessed, "
             f"{len(impact.refused)} refused, {sum(impact.skipped.values())} skipped"]
    for reason, count in impact.skipped.items():
        lines.append(f"  skipped {count}: {reason}")
    lines.append(f"  changed on at least one question: {impact.changed} of "
                 f"{impact.assessed} assessed case(s)")
    if impact.refused:
        lines.append("Refused files:")
        for path, problem, count, code in impact.refused:
            more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" \
                if count > 1 else ""
            lines.append(f"  {path} (exit {code}): {problem}{more}")
    return lines
