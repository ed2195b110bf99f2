"""The terminal report, defined once: its content and its layout (no rich, no pydantic).

`blocks(data, info)` says what the report shows, in the guidance's order, from the
report's JSON data (`Report.model_dump(mode="json")`, or the compiled engine's bytes
parsed) and a `TextInfo` (the rule set's headings, labels and codes, as plain data).
`lay_out` breaks the blocks into lines of styled segments at a width. `render` prints
them as plain text, for a pipe or a file; terminal.py has rich print the same lines in
colour at a terminal. A cold `riskassess evaluate CASE > file` needs neither rich nor
the report model.

Order (as a caseworker reads it): the edition applied and its dates (with any review or
supersession warning at the top), each question with its outcome, lists, reasons and
cites, open questions, warnings, cited paragraphs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from types import SimpleNamespace
from typing import Any

from riskassess import words
from riskassess.law.plain import frame_lines
from riskassess.record import record
from riskassess.render import glance

# A block: ("text", [(words, style), ...], indent) | ("bullet", words, indent, style)
#        | ("panel", title, words) | ("blank",)
Block = tuple


@record
class TextInfo:
    """What the terminal report needs of a rule set, as plain data."""

    headings: tuple[tuple[str, str], ...]  # (question id, heading), in order
    titles: dict[str, str]  # question id -> its short title (Risk)
    outcome_rules: frozenset[str]  # ids of the rules that decide an outcome
    outcome_labels: dict[str, str]
    list_labels: dict[str, str]  # list name -> label, in the order reports show them
    codes: dict[str, dict[str, str]]  # list name -> code -> meaning
    rank: dict[str, int]  # warning code -> its place at the top (lower: more severe)
    top: tuple[str, ...]  # warning codes shown at the top
    scope_warning: str
    records: dict[str, str]  # a record item (JSON, keys sorted) -> its words
    fact_labels: dict[str, str]  # fact path -> its label
    unquoted: frozenset[str]  # outcomes the glance quotes no words of the guidance for
    frame: tuple = ("", "", (), ())  # heading, then law/plain.py frame_lines' arguments


def text_info(ruleset: Any) -> TextInfo:
    """A rule set's TextInfo, built once per loaded rule set (and kept in the cache of
    compiled rule sets, for the fast path)."""
    found = ruleset.cache.get("text_info")
    if found is None:
        found = ruleset.cache["text_info"] = _text_info(ruleset)
    return found


def _text_info(ruleset: Any) -> TextInfo:
    from riskassess.law.ruleset import top_warning_codes, warning_rank
    from riskassess.law.vocabulary import item_text

    vocab = ruleset.vocabulary
    records = {}
    for rule in ruleset.rules.values():
        for items in rule.adds.values():
            for item in items:
                if not isinstance(item, str):
                    records[_record_key(item)] = item_text(item, vocab)
    return TextInfo(
        headings=tuple((q.id, q.heading) for q in ruleset.questions),
        titles={q.id: q.title for q in vocab.questions},
        outcome_rules=frozenset(r.id for r in ruleset.rules.values() if r.kind == "outcome"),
        outcome_labels=dict(vocab.outcome_labels), list_labels=vocab.list_labels(),
        codes={k: dict(v) for k, v in ruleset.edition.codes.items()},
        rank=warning_rank(ruleset), top=tuple(top_warning_codes(ruleset)),
        scope_warning=vocab.scope.warning, records=records,
        fact_labels={path: spec.label for path, spec in vocab.facts.items()},
        unquoted=vocab.unquoted_outcomes,
        frame=(vocab.frame.heading, *vocab.frame.plain))


def _record_key(item: Any) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False)


def _item_text(item: Any, codes: dict[str, str], info: TextInfo) -> str:
    """A list item as a reader sees it: a code with its meaning, or a record in words."""
    if not isinstance(item, str):
        return info.records.get(_record_key(item), str(item))
    meaning = codes.get(item)
    return f"{item}: {meaning}" if meaning else str(item)


def blocks(data: dict[str, Any], info: TextInfo, *, full: bool = False) -> list[Block]:
    """The report's blocks: the summary (the default), or the complete report (`full`).
    Both open with the header and the glance; the summary then gives each question's
    deciding reasons with their cites, the complete report everything."""
    out: list[Block] = []

    def say(text: str = "", indent: int = 0, style: str = "") -> None:
        """A line starting with "- " is a bullet whose wrapped lines hang under its text."""
        if text.startswith("- "):
            out.append(("bullet", text[2:], indent, style))
        else:
            out.append(("text", [(text, style)], indent))

    def panel(w: dict) -> None:
        out.append(("panel", f"WARNING: {w['code']}", w["message"]))

    title = [("riskassess assessment", "bold")]
    if data["case_id"]:
        title.append((f" of case {data['case_id']}", ""))
    title.append((f", assessment date {data['assessment_date']}", ""))
    out.append(("text", title, 0))
    say()
    warnings = data["warnings"]
    for w in warnings:  # the country scope, before anything else
        if w["code"] == info.scope_warning:
            panel(w)
            say()

    rs = data["ruleset"]
    out.append(("text", [("Guidance applied", "bold underline")], 0))
    say(rs["title"], 2)
    _edition(rs, say, full)
    rank = info.rank
    for w in sorted(warnings, key=lambda w: rank.get(w["code"], len(rank))):
        if w["code"] in info.top and w["code"] != info.scope_warning:
            panel(w)
    say()

    rows = glance.rows(data, info)
    _glance(rows, data, info, say, out)
    if not full:
        _summary(rows, data, info, say, out)
        return out
    labels, list_labels = info.outcome_labels, info.list_labels
    for qid, heading in info.headings:
        q = data[qid]
        out.append(("text", [(heading, "bold underline")], 0))
        since = (dt.date.fromisoformat(rs["under_review_from"])
                 if q["under_review"] and rs["under_review_from"] else None)
        if since:
            say(words.review_caveat(since), 2, PANEL)
        say(words.outcome_line(labels.get(q["outcome"], q["outcome"]), q["outcome"],
                               review_since=since), 2, "bold")
        say(words.rests_on(q["rests_on"]), 2)
        if q["possible_outcomes"]:
            say(f"{words.OPEN_BETWEEN}: {', '.join(q['possible_outcomes'])}", 2)
        for coll, label in list_labels.items():
            items = q.get(coll)
            if items:
                say(f"{label}:", 2)
                for item in items:
                    say(f"- {_item_text(item, info.codes.get(coll, {}), info)}", 4)
        for coll, items in q["possible"].items():
            say(f"{words.POSSIBLE} ({list_labels.get(coll, coll)}):", 2)
            for item in items:
                say(f"- {_item_text(item, info.codes.get(coll, {}), info)}", 4)
        for heading_, conditional in (("Reasons:", False),
                                      (f"{words.DEPENDING}:", True)):
            reasons = [r for r in q["reasons"] if r["conditional"] is conditional]
            if reasons:
                say(heading_, 2)
            for r in reasons:
                say(f"- {words.with_quote(r['text'], r['quote'] and r['quote']['text'])}", 4)
                say(f"rule {r['rule']}; cites {', '.join(r['cites'])}", 6, "dim")
        say()

    out.append(("text", [("Open questions (facts to establish)", "bold underline")], 0))
    if not data["open_questions"]:
        say(words.NO_OPEN_QUESTION, 2)
    for oq in data["open_questions"]:
        say(f"- {oq['fact']} (affects {', '.join(oq['affects'])})", 2)
        say(oq["why"], 4)
    say()

    out.append(("text", [("Warnings", "bold underline")], 0))
    if not warnings:
        say("None.", 2)
    for w in warnings:
        say(f"- {w['code']}: {w['message']}", 2)
    say()

    out.append(("text", [("Cited paragraphs", "bold underline")], 0))
    for pid, c in data["citations"].items():
        say(f"[{pid}] {c['source_short']}, {c['locator']}", 2, "bold")
        say(f"{words.NOTE_BASIS[c['basis']]} {c['gist']}", 4)
        for b in c["bracket_sources"]:
            say(words.bracket_source(b["label"], b["author"], b["title"], b["date"]), 4)
    say()
    heading_, *plain = info.frame
    out.append(("text", [(heading_, "bold underline")], 0))
    intro, matters, note = frame_lines(*plain, dt.date.fromisoformat(data["assessment_date"]))
    say(intro, 2)
    for line in matters:
        say(f"- {line}", 2)
    if note:
        say(note, 2)
    say()
    say(f"riskassess {data['tool']['version']}; rule set {rs['id']}; sha256 {rs['sha256']}",
        0, "dim")
    return out


def _edition(rs: dict[str, Any], say: Any, full: bool) -> None:
    """The edition applied: its dates and how it was chosen, the edition in force if another,
    newer ones; by title in the complete report, by id in the summary."""
    window = words.window(SimpleNamespace(**rs), str, "; " if full else ", ")
    if full:
        dates = f"edition {rs['id']}; {window}"
        if rs["superseded_on"] and rs["successor"]:
            dates += f" (successor: {rs['successor']})"
        say(dates, 2)
        say("chosen by the assessment date" if rs["selected_by"] == "assessment_date"
            else "forced with --ruleset (not chosen by the assessment date)", 2)
    else:
        chosen = ("chosen by the assessment date" if rs["selected_by"] == "assessment_date"
                  else "forced with --ruleset")
        say(f"edition {rs['id']}, {chosen}; {window}", 2)

    def named(e: dict[str, Any], more: str = "") -> str:
        if full:
            return f"{e['title']} ({e['id']}{more}{'' if e['encoded'] else ', not encoded'})"
        return f"{e['id']}{'' if e['encoded'] else ' (not encoded)'}"

    current = rs["in_force_on_assessment_date"]
    if current is None:
        say("edition in force on the assessment date: none catalogued", 2)
    elif current["id"] != rs["id"]:
        say(f"edition in force on the assessment date: {named(current)}", 2)
    if rs["newer_editions"]:
        say("newer editions: " + ("; " if full else ", ").join(
            named(e, f", from {e['in_force_from']}") for e in rs["newer_editions"]), 2)
    else:
        say(words.NO_NEWER_EDITION, 2)


def _glance(rows: list[glance.Row], data: dict[str, Any], info: TextInfo, say: Any,
            out: list[Block]) -> None:
    """The conclusions at a glance (render/glance.py), one entry per question."""
    out.append(("text", [(words.GLANCE_HEADING, "bold underline")], 0))
    for row in rows:
        out.append(("bullet", f"{row.title}: {row.outcome_words}", 2, "bold"))
        detail = f"rests on {row.rests_on} · open questions: {row.open_words}"
        out.append(("text", [(f"{row.quote_words} · ", ""), (detail, "dim")] if row.quote
                    else [(detail, "dim")], 4))
    say(words.open_facts(glance.open_facts(data, info), annex=False), 2)
    say()


def _summary(rows: list[glance.Row], data: dict[str, Any], info: TextInfo, say: Any,
             out: list[Block]) -> None:
    """Per question, the reasons that decide it with their cites; then the warnings not
    already at the top, and how to get the rest."""
    rs = data["ruleset"]
    quoted = {row.qid: row.quote for row in rows}
    for qid, heading in info.headings:
        q = data[qid]
        out.append(("text", [(heading, "bold underline")], 0))
        if q["under_review"] and rs["under_review_from"]:
            say(words.review_caveat(dt.date.fromisoformat(rs["under_review_from"])), 2, PANEL)
        decided = glance.deciding(q, info.outcome_rules)
        if not decided:
            say(words.NO_FIRM_REASON, 2)
        for r in decided:  # (the quotation the glance shows is not repeated)
            quote = r["quote"] and r["quote"]["text"]
            say(f"- {words.with_quote(r['text'], None if quote == quoted[qid] else quote)}", 2)
            say(f"cites {', '.join(r['cites'])}", 4, "dim")
        say()
    rest = [w for w in data["warnings"] if w["code"] not in info.top]
    if rest:
        out.append(("text", [("Other warnings", "bold underline")], 0))
        for w in rest:
            say(f"- {w['code']}: {w['message']}", 2)
        say()
    say(words.FULL_REPORT, 0, "dim")
    say(f"riskassess {data['tool']['version']}; rule set {rs['id']}; sha256 "
        f"{rs['sha256'][:16]}… (in full: --full, -f json)", 0, "dim")


# ------------------------------------------------------------------------ layout

Segment = tuple[str, str]  # (text, style)
Line = tuple[Segment, ...]
PANEL = "red bold"  # the style of a warning's box


def lay_out(blocks: list[Block], width: int) -> list[Line]:
    """The blocks as lines of at most `width` columns, each a run of styled segments.

    The one layout of the terminal report: text is broken between words (a word longer
    than a line is cut), a bullet's lines hang under its text, a warning is a rounded
    box with its title in the top edge. Plain text (`plain`) and the terminal (rich, in
    colour: terminal.py) both print these lines as they are."""
    out: list[Line] = []
    for block in blocks:
        kind = block[0]
        if kind == "text":
            _, segments, indent = block
            text = "".join(t for t, _ in segments)
            for a, b in _spans(text, width - indent):
                out.append(((" " * indent, ""), *_cut(segments, a, b)))
        elif kind == "bullet":
            _, text, indent, style = block
            for i, (a, b) in enumerate(_spans(text, width - indent - 2)):
                out.append(((" " * indent + ("- " if i == 0 else "  "), ""),
                            (text[a:b], style)))
        else:  # a panel: rounded box, title in the top edge, one space of padding
            _, title, text = block
            inner = width - 4
            out.append((("╭─ " + title + " " + "─" * (width - 5 - _cells(title)) + "╮",
                         PANEL),))
            for a, b in _spans(text, inner):
                line = text[a:b]
                out.append((("│", PANEL), (" " + line + " " * (inner - _cells(line)) + " ", ""),
                            ("│", PANEL)))
            out.append((("╰" + "─" * (width - 2) + "╯", PANEL),))
    return out


def plain(lines: list[Line]) -> str:
    """Laid-out lines as plain text: no trailing blanks, one final newline."""
    return "\n".join(["".join(t for t, _ in line).rstrip() for line in lines] + [""])


def render(data: dict[str, Any], info: TextInfo, *, width: int = 100,
           full: bool = False) -> str:
    """The report as plain text at `width` columns (for a pipe or a file): the summary, or
    the complete report (`full`)."""
    return plain(lay_out(blocks(data, info, full=full), width))


def wrap(text: str, width: int) -> list[str]:
    """A text's lines at `width` columns, as the layout breaks them."""
    return [text[a:b] for a, b in _spans(text, width)]


def _cut(segments: list[Segment], a: int, b: int) -> list[Segment]:
    """The styled segments covering characters a..b of their joined text."""
    out, at = [], 0
    for text, style in segments:
        lo, hi = max(a, at), min(b, at + len(text))
        if lo < hi:
            out.append((text[lo - at:hi - at], style))
        at += len(text)
    return out


_WORD = re.compile(r"\s*\S+\s*")


def _cells(text: str) -> int:
    """Columns a text takes in a terminal: wide East Asian characters take two, combining
    marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _chop(word: str, width: int) -> list[str]:
    """A word too long for a line, cut into pieces of at most `width` columns."""
    pieces, piece, used = [], "", 0
    for ch in word:
        w = _cells(ch)
        if used + w > width and piece:
            pieces.append(piece)
            piece, used = "", 0
        piece += ch
        used += w
    pieces.append(piece)
    return pieces


def _spans(text: str, width: int) -> list[tuple[int, int]]:
    """Where a text's lines begin and end at `width` columns (trailing blanks left out):
    each line of the text on its own, filled word by word; a word that does not fit goes
    to the next line with the blanks before it, and a word longer than a line is cut."""
    out: list[tuple[int, int]] = []
    base = 0
    for line in text.split("\n"):
        breaks: list[int] = []
        offset = 0
        for match in _WORD.finditer(line):
            start, word = match.start(), match.group(0)
            length = _cells(word.rstrip())
            if width - offset >= length:
                offset += _cells(word)
            elif length > width:
                pieces = _chop(word, width)
                for i, piece in enumerate(pieces):
                    if start:
                        breaks.append(start)
                    if i == len(pieces) - 1:
                        offset = _cells(piece)
                    else:
                        start += len(piece)
            elif offset and start:
                breaks.append(start)
                offset = _cells(word)
        cuts = [0, *breaks, len(line)]
        for a, b in zip(cuts, cuts[1:], strict=False):
            out.append((base + a, base + a + len(line[a:b].rstrip())))
        base += len(line) + 1
    return out
