"""Reading rules and cited paragraphs from the command line, and example coverage.

`rules show`, `coi show`, `coi search` and `rules coverage` are for lawyers and policy
officers who want to check what a rule does and what a paragraph says without opening
YAML. Everything here returns text or data; the CLI prints it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from riskassess.assess.cache import sound
from riskassess.errors import UsageError, UserError
from riskassess.law.ruleset import RuleSet, load_catalog
from riskassess.words import did_you_mean


def encoded_rulesets(rules_dir: Path) -> list[RuleSet]:
    """The encoded rule sets, in the catalog's order, as loading gives them: sound."""
    return list(sound(rules_dir).rulesets.values())


def edition_ids(rules_dir: Path) -> list[str]:
    """The ids of the encoded editions, in the catalog's order (what --ruleset accepts)."""
    catalog, _ = load_catalog(rules_dir)
    return [e.id for e in catalog.editions if e.encoded]


def rule_ids(rules_dir: Path) -> list[str]:
    """Every rule id of the encoded rule sets (what `rules show` accepts), sorted."""
    return sorted({rid for rs in encoded_rulesets(rules_dir) for rid in rs.rules})


def paragraph_ids(rules_dir: Path) -> list[str]:
    """Every cited paragraph's id of the encoded rule sets (what `coi show` accepts), sorted."""
    return sorted({pid for rs in encoded_rulesets(rules_dir) for pid in rs.paragraphs})


def _not_found(kind: str, wanted: str, known: list[str]) -> UsageError:
    return UsageError(f"no {kind} '{wanted}' in the encoded rule sets"
                      f"{did_you_mean(wanted, known)}")


def _paragraph_text(rs: RuleSet, pid: str, indent: str = "") -> list[str]:
    p = rs.paragraphs[pid]
    s = rs.sources[p.source]
    lines = [f"{indent}[{pid}] {s.author}, {s.title}, {s.date}",
             f"{indent}  section: {p.section}",
             f"{indent}  locator: {p.locator}"]
    if p.footnote:
        lines.append(f"{indent}  footnote: {p.footnote}")
    if s.url:
        lines.append(f"{indent}  address: {s.url}")
    lines.append(f"{indent}  summary: {' '.join(p.summary.split())}")
    if p.facts:
        lines.append(f"{indent}  facts:")
        lines += [f"{indent}    - {fact}" for fact in p.facts]
    return lines


def show_rule(rulesets: list[RuleSet], rule_id: str) -> str:
    """A rule in plain English, for every encoded edition that has it."""
    found = [rs for rs in rulesets if rule_id in rs.rules]
    if not found:
        raise _not_found("rule", rule_id, sorted({r for rs in rulesets for r in rs.rules}))
    blocks = []
    for rs in found:
        r = rs.rules[rule_id]
        q = next(q for q in rs.questions if q.id == r.question)
        codes = rs.edition.codes
        lines = [f"Rule {r.id}",
                 f"  edition: {rs.id} ({rs.edition.title})",
                 f"  written in: {r.file}, line {r.line}",
                 f"  question: {q.heading}",
                 f"  applies when: {r.condition.text}"]
        if r.kind == "outcome":
            label = rs.vocabulary.outcome_labels.get(r.outcome or "", r.outcome)
            lines.append(f"  concludes: {label} [{r.outcome}] (the first applicable outcome "
                         "rule of its question decides)")
        if r.kind == "warns":
            meaning = codes.get("warnings", {}).get(r.warns or "", "")
            lines.append(f"  concludes: warning {r.warns}: {meaning}")
        for coll, items in r.adds.items():
            for item in items:
                meaning = codes.get(coll, {}).get(item, "") if isinstance(item, str) else ""
                noun = rs.vocabulary.list_nouns().get(coll, coll)
                lines.append(f"  adds to {noun}: "
                             f"{item}{': ' + meaning if meaning else ''}")
        if r.prevails_over:
            lines.append(f"  prevails over: {', '.join(r.prevails_over)}")
        lines.append(f"  why: {r.reasoning}")
        lines.append("  cited paragraphs:")
        for pid in r.cites:
            lines += _paragraph_text(rs, pid, "    ")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def show_paragraph(rulesets: list[RuleSet], pid: str) -> str:
    found = [rs for rs in rulesets if pid in rs.paragraphs]
    if not found:
        raise _not_found("paragraph", pid, sorted({p for rs in rulesets for p in rs.paragraphs}))
    blocks = []
    for rs in found:
        lines = [f"Paragraph {pid} (rule set {rs.id})"]
        lines += _paragraph_text(rs, pid, "  ")
        cited_by = [r.id for r in rs.rules.values() if pid in r.cites]
        if pid in rs.edition.review_cites:
            cited_by.append("the guidance_under_review warning")
        lines.append(f"  cited by: {', '.join(cited_by) or 'no rule'}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def search_paragraphs(rulesets: list[RuleSet], words: list[str]) -> list[tuple[str, str, str]]:
    """Paragraphs whose id, source, section, locator, gist, summary or facts contain every
    word (case-insensitive), as (rule set id, paragraph id, gist)."""
    wanted = [w.lower() for w in words if w.strip()]
    hits = []
    for rs in rulesets:
        for pid, p in rs.paragraphs.items():
            s = rs.sources[p.source]
            text = " ".join([pid, s.id, s.short, s.title, s.author, s.date, p.section,
                             p.locator, p.gist, p.summary, *p.facts]).lower()
            if all(w in text for w in wanted):
                hits.append((rs.id, pid, p.gist))
    return hits


@dataclass
class Coverage:
    """Which rules and paragraphs the examples exercise, per edition."""

    # edition -> rule id (or paragraph id) -> the examples that exercise it
    rules: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    paragraphs: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (example, why)

    def unexercised(self) -> list[tuple[str, str]]:
        return [(ed, rid) for ed, rules in self.rules.items()
                for rid, examples in rules.items() if not examples]


def coverage(examples_dir: Path, rules_dir: Path, today: dt.date) -> Coverage:
    from riskassess.assess.core import assess_file

    result = Coverage()
    for rs in encoded_rulesets(rules_dir):
        result.rules[rs.id] = {rid: [] for rid in rs.rules}
        result.paragraphs[rs.id] = {pid: [] for pid in rs.paragraphs}
    cases = sorted(p for p in examples_dir.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
    for path in cases:
        try:
            report = assess_file(path, today=today, rules_dir=rules_dir).report
        except UserError as exc:
            result.refused.append((path.name, str(exc.problems[0])))
            continue
        edition = report.ruleset.id
        fired = {r.rule for qid in report.question_ids
                 for r in report.question(qid).reasons if not r.conditional}
        fired |= {w.rule for w in report.warnings if w.rule}
        for rid in sorted(fired):
            result.rules[edition][rid].append(path.stem)
        for pid in report.citations:
            result.paragraphs[edition][pid].append(path.stem)
    return result
