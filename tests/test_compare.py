"""`compare CASE --editions A B`: one case, two editions (issue 15, item 8).

The facts are the same in both assessments, so the output must say that a change comes
from the edition, not from a fact; it must give both editions' warnings with their
messages; and it may explain a change only with the paragraphs of the rules that decided
it. Every expectation is read off the two JSON reports of `evaluate --ruleset A/B` and
the rule sets, so the tests follow the rules rather than a copy of their words.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import EXAMPLES, RULES, VOCAB, run_cli

from riskassess.law.ruleset import load_catalog, load_ruleset, warning_rank
from riskassess.law.vocabulary import item_label

OLD, NEW = "euaa-syria-2024", "euaa-syria-2025-12"
RULESETS = {rid: load_ruleset(RULES / rid) for rid in (OLD, NEW)}
TITLES = {e.id: e.title for e in load_catalog(RULES)[0].editions}

# (example, assessment date): dates before and after the newer edition took effect, and a
# case with facts not given (outcomes left open)
CASES = [("deserter-2026", "2026-02-10"), ("daraa-conscript-amnesty", "2024-06-01"),
         ("officer-fled-abroad", "2024-11-02"), ("religious-objector", "2024-07-10"),
         ("status-unknown", "2026-01-15"), ("never-served", "2024-08-08")]
PAIRS = [(OLD, NEW), (NEW, OLD)]

PARAGRAPH = re.compile(r"^    (explained by|previously relied on) \[([^\]]+)\] ")
AGAIN = re.compile(r"^    (explained by|previously relied on) \(as above\): (.*)$")


def case_path(name: str) -> str:
    return str(EXAMPLES / f"{name}.yaml")


def compare(name: str, day: str, a: str, b: str) -> str:
    r = run_cli("compare", case_path(name), "--editions", a, b, "--today", day)
    assert r.code == 0, r.err
    assert "Traceback" not in r.err
    return r.out


def report(name: str, day: str, ruleset: str) -> dict:
    r = run_cli("evaluate", case_path(name), "--format", "json", "--ruleset", ruleset,
                "--today", day)
    assert r.code == 0, r.err
    return json.loads(r.out)


def sections(out: str, ruleset: str) -> dict[str, list[str]]:
    """The output's lines under each question heading, by question id."""
    headings = {q.heading: q.id for q in RULESETS[ruleset].questions}
    found: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        if line in headings:
            current = headings[line]
            found[current] = []
        elif current is not None:
            found[current].append(line)
    assert set(found) == set(headings.values()), "a question heading is missing"
    return found


def bullets(lines: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each change ('  - ...') with the paragraphs listed under it: (prefix, id)."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for line in lines:
        if line.startswith("  - "):
            out.append((line, []))
            continue
        m, again = PARAGRAPH.match(line), AGAIN.match(line)
        if m or again:
            assert out, f"a paragraph is listed before any change: {line}"
            if m:
                out[-1][1].append((m.group(1), m.group(2)))
            else:
                out[-1][1].extend((again.group(1), pid)
                                  for pid in re.findall(r"\[([^\]]+)\]", again.group(2)))
    return out


def key(item) -> object:
    return tuple(sorted(item.items())) if isinstance(item, dict) else item


def lists_of(question: dict, qid: str) -> list[str]:
    return [c for c in VOCAB.shown_lists(qid) if c in question]


def deciding_cites(rep: dict, qid: str, ruleset: str) -> set[str]:
    """Paragraphs of the rules that gave a question its outcome: unconditional reasons of
    outcome rules."""
    rules = RULESETS[ruleset].rules
    return {p for r in rep[qid]["reasons"] if not r["conditional"]
            and rules[r["rule"]].kind == "outcome" for p in r["cites"]}


def adding_cites(rep: dict, qid: str, ruleset: str, coll: str, items: list) -> set[str]:
    """Paragraphs of the rules (unconditional reasons) that put one of `items` in a list."""
    rules, wanted = RULESETS[ruleset].rules, {key(i) for i in items}
    return {p for r in rep[qid]["reasons"] if not r["conditional"]
            and wanted & {key(i) for i in rules[r["rule"]].adds.get(coll, ())}
            for p in r["cites"]}


def name(ruleset: str) -> str:
    return f"'{TITLES[ruleset]}' ({ruleset})"


# ------------------------------------------------------------------------ wording


def test_the_wording_names_the_edition_not_the_fact():
    a_id, b_id, day = OLD, NEW, "2026-02-10"
    out = compare("deserter-2026", day, a_id, b_id)
    a, b = report("deserter-2026", day, a_id), report("deserter-2026", day, b_id)
    # the top names both editions, by title and id, the one in force, and the same facts
    head = out.split("\nWarnings under")[0]
    for rep in (a, b):
        assert f"'{rep['ruleset']['title']}' ({rep['ruleset']['id']})" in head
    current = b["ruleset"]["in_force_on_assessment_date"]
    assert f"In force on the assessment date: '{current['title']}' ({current['id']})" in head
    assert "the facts are the same" in head and "change of edition" in head
    # no sentence says a fact or an item 'is no longer among' something, nor starts with a code
    assert "no longer among" not in out and "would be" not in out
    labels = VOCAB.outcome_labels
    nouns = VOCAB.list_nouns()
    found = sections(out, b_id)
    changed_items = 0
    for qid, lines in found.items():
        qa, qb = a[qid], b[qid]
        for line, _ in bullets(lines):
            assert line.startswith(f"  - Under {name(b_id)}, "), line
            assert "change of edition" in line, line
        text = "\n".join(lines)
        if qa["outcome"] != qb["outcome"]:
            assert (f'the outcome is "{labels[qb["outcome"]]}" ({qb["outcome"]}) instead of '
                    f'"{labels[qa["outcome"]]}" ({qa["outcome"]}) under {name(a_id)}') in text
        for coll in lists_of(qb, qid):
            before, after = {key(i) for i in qa[coll]}, {key(i) for i in qb[coll]}
            for item in qa[coll]:
                if key(item) in after:
                    continue
                changed_items += 1
                shown = f" ({item})" if isinstance(item, str) else ""
                assert any(f"{shown} is no longer listed among the {nouns[coll]}" in line
                           and (shown or item_label(item, VOCAB, words=True) in line)
                           for line in lines), (qid, coll, item)
            for item in qb[coll]:
                if key(item) not in before:
                    changed_items += 1
                    assert f"is now listed among the {nouns[coll]}" in text, (qid, coll, item)
    assert changed_items > 0  # the example does change lists


def test_a_code_item_is_shown_by_its_meaning_with_the_code_in_parentheses():
    out = compare("deserter-2026", "2026-02-10", OLD, NEW)
    codes = RULESETS[OLD].edition.codes
    a = report("deserter-2026", "2026-02-10", OLD)
    for coll in lists_of(a["persecution"], "persecution"):
        for code in a["persecution"][coll]:
            meaning = codes[coll][code].rstrip(".")
            assert f'"{meaning}" ({code}) is no longer listed' in out


# ----------------------------------------------------------------------- warnings


@pytest.mark.parametrize("case, day", [("deserter-2026", "2026-02-10"),
                                       ("daraa-conscript-amnesty", "2024-06-01")])
def test_both_editions_warnings_appear_with_their_messages(case, day):
    out = compare(case, day, OLD, NEW)
    blocks = out.split("\nWarnings under ")
    assert len(blocks) == 3, "one warnings block per edition"
    seen = 0
    for rid, block in ((OLD, blocks[1]), (NEW, blocks[2])):
        block = block.split("\n\n")[0]
        assert block.startswith(name(rid)), block.splitlines()[0]
        warnings = report(case, day, rid)["warnings"]
        lines = [line for line in block.splitlines() if line.startswith("  WARNING ")]
        expected = [f"  WARNING {w['code']}: {' '.join(w['message'].split())}" for w in warnings]
        assert sorted(lines) == sorted(expected)  # all of them, with their messages
        order = warning_rank(RULESETS[rid])
        rank = [order.get(line.split()[1].rstrip(":"), len(order)) for line in lines]
        assert rank == sorted(rank)  # most severe first, as the rule set orders them
        if not warnings:
            assert block.rstrip().endswith(": none")
        seen += len(warnings)
    assert seen >= 2
    # a warning that is not about the guidance's dates is shown too
    assert any(not w["code"].startswith("guidance_")
               for w in report(case, day, NEW)["warnings"])


# ------------------------------------------------------------- explaining changes


@pytest.mark.parametrize("case, day", CASES)
@pytest.mark.parametrize("a_id, b_id", PAIRS)
def test_a_change_is_explained_only_by_the_rules_that_decided_it(case, day, a_id, b_id):
    out = compare(case, day, a_id, b_id)
    a, b = report(case, day, a_id), report(case, day, b_id)
    nouns = {noun: coll for coll, noun in VOCAB.list_nouns().items()}
    for qid, lines in sections(out, b_id).items():
        for line, paragraphs in bullets(lines):
            if " the outcome is " in line:
                allowed = {"explained by": deciding_cites(b, qid, b_id),
                           "previously relied on": deciding_cites(a, qid, a_id)}
            else:
                coll = next(c for n, c in nouns.items()
                            if f"listed among the {n} (" in line)
                after = {key(i) for i in b[qid][coll]}
                before = {key(i) for i in a[qid][coll]}
                added = [i for i in b[qid][coll] if key(i) not in before]
                removed = [i for i in a[qid][coll] if key(i) not in after]
                allowed = {"explained by": adding_cites(b, qid, b_id, coll, added),
                           "previously relied on": adding_cites(a, qid, a_id, coll, removed)}
            for prefix, pid in paragraphs:
                assert pid in allowed[prefix], (qid, line[:90], prefix, pid)


@pytest.mark.parametrize("case, day", CASES)
def test_no_question_names_a_paragraph_its_deciding_rules_do_not_cite(case, day):
    # The same check per question, whatever the layout: any paragraph named as explaining
    # a question's changes is cited by a rule that gave its new outcome or added a new item.
    out = compare(case, day, OLD, NEW)
    a, b = report(case, day, OLD), report(case, day, NEW)
    for qid, lines in sections(out, NEW).items():
        qa, qb = a[qid], b[qid]
        allowed = deciding_cites(b, qid, NEW) if qa["outcome"] != qb["outcome"] or \
            qa["possible_outcomes"] != qb["possible_outcomes"] else set()
        for coll in lists_of(qb, qid):
            before = {key(i) for i in qa[coll]}
            allowed |= adding_cites(b, qid, NEW, coll,
                                    [i for i in qb[coll] if key(i) not in before])
        for line in lines:
            m = re.search(r"explained by \[([^\]]+)\]", line)
            named = [m.group(1)] if m else []
            if "explained by (as above)" in line:
                named = re.findall(r"\[([^\]]+)\]", line)
            for pid in named:
                assert pid in allowed, (qid, pid)


def test_an_outcome_left_open_by_the_facts_is_explained_by_no_paragraph():
    # Under the newer edition, applicability of the Daraa file of 2024 turns on facts it does
    # not give: every reason of that question is conditional, so none explains the change.
    out = compare("daraa-conscript-amnesty", "2024-06-01", OLD, NEW)
    b = report("daraa-conscript-amnesty", "2024-06-01", NEW)
    assert b["applicability"]["outcome"] == "undetermined"
    assert all(r["conditional"] for r in b["applicability"]["reasons"]
               if RULESETS[NEW].rules[r["rule"]].kind == "outcome")
    lines = sections(out, NEW)["applicability"]
    assert not any(line.startswith("    explained by") for line in lines)
    assert any("no paragraph is cited" in line for line in lines)
    # what the older edition relied on is still named, as such
    assert any(line.startswith("    previously relied on [") for line in lines)


def test_the_rule_that_gave_the_new_outcome_explains_it():
    out = compare("deserter-2026", "2026-02-10", OLD, NEW)
    b = report("deserter-2026", "2026-02-10", NEW)
    lines = sections(out, NEW)["persecution"]
    listed = {pid for _, paragraphs in bullets(lines) for prefix, pid in paragraphs
              if prefix == "explained by"}
    assert listed and listed == deciding_cites(b, "persecution", NEW)


# ---------------------------------------------------------------------- unchanged


@pytest.mark.parametrize("case, day", CASES)
def test_an_unchanged_question_cites_nothing(case, day):
    out = compare(case, day, OLD, NEW)
    a, b = report(case, day, OLD), report(case, day, NEW)
    for qid, lines in sections(out, NEW).items():
        qa, qb = a[qid], b[qid]
        same = (qa["outcome"] == qb["outcome"]
                and qa["possible_outcomes"] == qb["possible_outcomes"]
                and all([key(i) for i in qa[c]] == [key(i) for i in qb[c]]
                        or {key(i) for i in qa[c]} == {key(i) for i in qb[c]}
                        for c in lists_of(qb, qid)))
        body = [line for line in lines if line.strip()]
        if same:
            assert len(body) == 1 and body[0].endswith("under both editions (unchanged)"), body
        else:
            assert "(unchanged)" not in body[0]


def test_the_same_edition_twice_changes_nothing_and_cites_nothing():
    out = compare("deserter-2026", "2026-02-10", NEW, NEW)
    assert "CHANGED" not in out and out.count("(unchanged)") == len(RULESETS[NEW].questions)
    assert "explained by" not in out and "relied on" not in out


def test_the_comparison_is_deterministic():
    assert compare("religious-objector", "2024-07-10", OLD, NEW) == \
        compare("religious-objector", "2024-07-10", OLD, NEW)


@pytest.mark.parametrize("where", ["one", "caseload"])
def test_an_edition_that_is_not_encoded_is_named_as_the_option_compare_has(where):
    """compare has --editions, not --ruleset: the refusal names the option the user typed,
    before any case is read."""
    target = EXAMPLES / "draft-evader.yaml" if where == "one" else EXAMPLES
    r = run_cli("compare", str(target), "--editions", "euaa-syria-2024", "no-such-edition")
    assert r.code == 2
    assert "--editions 'no-such-edition' is not an encoded edition" in r.err
    assert "--ruleset" not in r.err
