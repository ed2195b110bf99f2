"""The tool's own English: every phrase riskassess writes that is not law.

The law's words (fact labels and phrases, outcome labels, list nouns, rule reasons,
paragraph summaries) live in `rules/`. The words around them live here: how a value,
a date or an edition's dates are written, the frame of a conditional reason, what
establishing an open fact could change, the phrases of a comparison. Rewording one
means editing one place. Nothing heavy is imported: the cold start uses it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from riskassess.record import record
from riskassess.textcheck import printable

# ---------------------------------------------------------------------- values


def spelt(value: Any) -> str:
    """A value as a YAML file spells it: true and false in small letters."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def echoed(value: Any, limit: int = 80) -> str:
    """A value the user wrote, echoed in a message: spelt as in the file, its invisible and
    control characters escaped (they must not hide or drive the terminal), and cut short."""
    text = printable(spelt(value))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def kind_of(value: Any) -> str:
    """What a refused value is, in a message: a mapping, a list, nothing, or the value."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "nothing" if value is None else f"'{echoed(value)}'"


def one_of(words: list[str]) -> str:
    """'a', 'b' or 'c' (the wording pydantic uses for a closed list of values)."""
    quoted = [f"'{w}'" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def not_allowed(shown: str, allowed: str, hint: str = "") -> str:
    """Why a value is refused: it is not among those allowed (a case file's words, which
    an interview's answer and a quiz's answer are refused in too)."""
    return f"{shown} is not an allowed value{hint} (allowed: {allowed})"


# What a value of a set form must look like, after "'VALUE' is not " (a case file's
# case_id and country, the interview's --case-id)
CASE_ID_FORM = ("a valid reference: write 1-64 letters, digits, '.', '_' or '-' (no spaces "
                "or other characters)")
COUNTRY_FORM = ("a country code: write the country's two capital letters (ISO 3166-1 "
                "alpha-2), e.g. SY")


# A path given on the command line as "" (an unset shell variable): as a path it would name
# the current folder, and a command would read or write there
EMPTY_PATH = ("an empty path names no file or folder (an unset shell variable?); give the "
              "path itself")


def escaped_note(count: int, encoding: str) -> str:
    """After a command whose standard output could not show some characters."""
    return (f"note: standard output's encoding ({encoding}) cannot show {count:,} "
            f"character{'s' if count != 1 else ''} of this output; each is written as its "
            "escape (such as \\u0645). To see them, use a UTF-8 terminal or set "
            "PYTHONIOENCODING=utf-8; files written with -o are always UTF-8")


# How a person says yes or no at a prompt (besides true and false)
YES = ("yes", "y")
NO = ("no", "n")


def fact_value(value: Any) -> str:
    """A fact's value in a line of facts: as the file spells it, a list in brackets."""
    if isinstance(value, (list, tuple, frozenset, set)):
        return "[" + ", ".join(sorted(value)) + "]" if value else "[] (none)"
    return spelt(value)


def token(value: Any) -> str:
    """A value as the engine sees it (a set of codes, or an interval of dates by its
    first day), for a rule set's author (`rules check`)."""
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(value)) + "]"
    if isinstance(value, dt.date):
        return "before the first threshold" if value == dt.date.min else f"from {value}"
    return spelt(value)


def did_you_mean(wanted: str, known: list[str], *, most: int = 3, cutoff: float = 0.5,
                 quoted: bool = False) -> str:
    """'; did you mean A, B?' for the known names close to `wanted` (at most `most`, in
    quotes if `quoted`), or '' when none is close."""
    import difflib

    close = difflib.get_close_matches(wanted, known, n=most, cutoff=cutoff)
    if not close:
        return ""
    return "; did you mean " + ", ".join(f"'{c}'" if quoted else c for c in close) + "?"


def bracket_source(label: str, author: str, title: str, date: str) -> str:
    """One report behind a label of the guidance's brackets: label, publisher, title, date."""
    return f"{label}: {author}, {title}, {date}"


def record_words(value: Any) -> str:
    """A code in words: its underscores as spaces (`not_in_force` -> `not in force`)."""
    return str(value).replace("_", " ")


def sentence_case(text: str) -> str:
    """A phrase made the start of a sentence: its first letter a capital."""
    return text[:1].upper() + text[1:]


def long_date(day: dt.date) -> str:
    """A date for a reader: 8 December 2024."""
    return f"{day.day} {day.strftime('%B')} {day.year}"


# -------------------------------------------------------------------- editions


def window(e: Any, show: Callable[[dt.date], str] = dt.date.isoformat, sep: str = ", ",
           *, open_end: str = "") -> str:
    """An edition's dates in words (`show` writes a date: ISO by default; `sep` joins the
    parts; `open_end` is said when it is not superseded, if anything)."""
    out = f"in force from {show(e.in_force_from)}"
    if e.under_review_from:
        out += f"{sep}under review from {show(e.under_review_from)}"
    if e.superseded_on:
        out += f"{sep}superseded on {show(e.superseded_on)}"
    elif open_end:
        out += f"{sep}{open_end}"
    return out


# How a document's header states the edition's status, from the dates' warning codes.
STATUS_WORDS = {
    "guidance_superseded": "superseded on the assessment date",
    "guidance_not_yet_in_force": "not yet in force on the assessment date",
    "guidance_under_review": "under review on the assessment date",
}
IN_FORCE = "in force on the assessment date"


def since_then(e: Any, day: dt.date) -> str | None:
    """What became of an edition after the assessment date (a decision taken later must
    not miss it): superseded, or else put under review, on a later day."""
    if e.superseded_on and e.superseded_on > day:
        return f"superseded on {long_date(e.superseded_on)}, after the assessment date"
    if e.under_review_from and e.under_review_from > day:
        return f"under review from {long_date(e.under_review_from)}, after the assessment date"
    return None


def edition_status(e: Any, day: dt.date) -> str:
    """An edition's standing on an assessment date (a report's `ruleset`), in words."""
    current = e.in_force_on_assessment_date
    if current is not None and current.id == e.id:
        return IN_FORCE
    if day < e.in_force_from:
        return f"not yet {IN_FORCE} (in force from {e.in_force_from.isoformat()})"
    if e.superseded_on and day >= e.superseded_on:
        return f"superseded on {e.superseded_on.isoformat()}, before the assessment date"
    return "not the edition in force on the assessment date"


# -------------------------------------------------------------------- outcomes

# Headings every format gives a question's parts (the terminal, the documents' templates)
NOT_GIVEN = "not given"  # a fact left unknown, where its value would be shown


def implied(value_words: str, from_label: str) -> str:
    """A fact not given whose value another fact given settles (a constraint)."""
    return f"{value_words} (not given; follows from {from_label.lower()})"
POSSIBLE = "Could be added once facts are known"  # items facts not given could add
DEPENDING = "Depending on facts not given"  # conditional reasons
OPEN_BETWEEN = "Still open between"  # the outcomes still possible


def outcome_line(label: str, code: str | None = None, open_between: list[str] = (),
                 review_since: dt.date | None = None) -> str:
    """The frame of a question's outcome: its label (and code, in the terminal), and the
    outcomes still open (in documents); for an edition under review on the assessment date,
    the headline itself says whose finding it is."""
    head = (f"Outcome found by the edition applied, under review since {long_date(review_since)}"
            if review_since else "Outcome")
    line = f"{head}: {label}" + (f" [{code}]" if code is not None else "")
    if open_between:
        line += "; still open between " + and_(list(open_between))
    return line


def and_(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c' ('' for none)."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


# ------------------------------------------------------ what an outcome rests on

# The kinds of paragraph an outcome rests on (a report's `rests_on`; law/report.py BASES)
BASIS_WORDS = {"guidance": "the guidance", "press_release": "a press release",
               "country_information": "country information", "law": "the law"}
# ... and what one cited paragraph is, at the head of its note
NOTE_BASIS = {"guidance": "The guidance.",
              "press_release": "A press release, not the guidance.",
              "country_information": "Country information, not a conclusion of the guidance.",
              "law": "The law."}


def rests_on(bases: list[str] | tuple[str, ...]) -> str:
    """'Rests on: the guidance; country information', saying so when no conclusion of the
    guidance is among them."""
    return "Rests on: " + rests_on_short(bases)


def rests_on_short(bases: list[str] | tuple[str, ...]) -> str:
    """'the guidance; country information' (a cell of the glance)."""
    line = "; ".join(BASIS_WORDS[b] for b in bases) or "no paragraph cited"
    return line + ("" if "guidance" in bases else " (not a conclusion of the guidance)")


# ------------------------------------------------------------ at a glance
# The block that opens every report (render/glance.py)

GLANCE_HEADING = "At a glance"
GLANCE_COLUMNS = ("Question", "Outcome", "The guidance's words", "Rests on", "Open questions")
GLANCE_NO_QUOTE = "no words of the guidance quoted"  # no deciding rule quotes them
# an outcome whose reasons state the guidance's conclusions only as conditionals
GLANCE_UNQUOTED = "none for this outcome (see the reasons)"


def glance_review(since: dt.date) -> str:
    """After an outcome found by an edition under review on the assessment date."""
    return f" (finding of the edition applied, under review since {long_date(since)})"


def glance_open(facts: list[str], between: list[str]) -> str:
    """The open questions that could change an answer (named, if there are few; else how
    many), and the outcomes still open."""
    if not facts:
        return "none"
    said = "; ".join(facts) if len(facts) <= 3 else f"{len(facts)} facts"
    if not between:
        return f"{said}, which could add to the reasons but not change the outcome"
    return f"{said}; the outcome is still open between " + and_(between)


# Where no reason applies firmly on the facts given (the summary of the terminal report)
NO_FIRM_REASON = ("No reason applies on the facts given alone; the answer depends on facts "
                  "not given.")

# The annex of a document: the analysis aids, apart from what a decision drafts from
ANNEX_HEADING = "Annex: analysis aids"
ANNEX_INTRO = ("For preparing the case, not for filing: per question, the facts the conclusion "
               "depended on, what a single change of a given fact would change and what facts "
               "not given could add; then the open questions in full and the codes used.")
CONDITIONALS_IN_ANNEX = ("Reasons that would hold only if facts not given were established: "
                         "in the annex.")
DEPENDS_ON = "What this conclusion depends on"
DEPENDS_ON_NONE = "No fact given was read by the rules that reached it."
SINGLE_CHANGES = "What a single change of a given fact would change"
SINGLE_CHANGES_NONE = "No single change of a given fact would change this conclusion."
OPEN_QUESTIONS = "Open questions (facts to establish)"
CODES_HEADING = "Reference: codes used"
# In the bibliography, after the sources cited
BRACKET_REPORTS = "Reports named by label in the guidance's bracketed references"


def open_facts(labels: list[str], annex: bool) -> str:
    """The body's line on the facts still to establish (the annex has them in full)."""
    if not labels:
        return NO_OPEN_QUESTION
    return ("Still to be established: " + "; ".join(labels) + "."
            + (" What establishing each could change: see the annex." if annex else ""))


# How a reader gets what the default terminal report leaves out
FULL_REPORT = ("This is the summary; in full (every reason, list, open question and cited "
               "paragraph): --full. What decided each answer: riskassess explain.")




def review_caveat(since: dt.date) -> str:
    """The caveat above every outcome of an edition under review on the date (the outcome's
    headline itself says that it is that edition's finding, under review since when)."""
    return (f"Not to be relied on without current country information: the edition applied "
            f"has been under review since {long_date(since)}, and some of its conclusions may "
            "no longer hold.")


# When the catalog lists no edition after the one applied: it lists what was known when it
# was last written, so "catalogued", not "exists"
NO_NEWER_EDITION = "no newer edition is catalogued"

# Under "Open questions" when there are none
NO_OPEN_QUESTION = ("None among the facts these rules read. Facts recorded only are read by no "
                    "rule and may still need establishing, for exclusion above all.")


def frame_pointer(heading: str) -> str:
    """The line at the head of a document that says where its frame is."""
    return (f"Decision support, not a decision: what it leaves to the decision-maker is set "
            f"out under “{heading}”, after the conclusions.")


def with_quote(text: str, quote: str | None) -> str:
    """A reason with the guidance's own words it restates, quoted after it."""
    return f'{text} The guidance\'s words: "{quote}".' if quote else text


# --------------------------------------------------------- conditional reasons

PREFIX = "If it is established that "


def sentence(hypothesis: str, reasoning: str) -> str:
    """The conditional reason: the hypothesis, then the rule's reasoning."""
    return f"{PREFIX}{hypothesis}: {reasoning}"


# -------------------------------------------------------------- open questions


@record
class WhyWords:
    """The vocabulary's words an open question's `why` is made of."""

    titles: dict[str, str]  # question id -> title
    outcome_labels: dict[str, str]
    nouns: dict[str, str]  # list name -> its noun


def why_words(vocab: Any) -> WhyWords:
    return WhyWords({q.id: q.title for q in vocab.questions}, dict(vocab.outcome_labels),
                    vocab.list_nouns())


def why_sentence(parts: list[str]) -> str:
    return "Establishing it " + "; ".join(parts) + "."


def why_parts(mine: list[Any], qid: str, words: WhyWords) -> list[tuple[bool, str]]:
    """What establishing a fact could change in one question: (is a warning, words)."""
    titles = words.titles
    outcome = next((e for e in mine if e.kind == "outcome"), None)
    if outcome is not None:
        shown = " or ".join(f"“{words.outcome_labels.get(o, o)}”"
                            for o in outcome.label.split(" or "))
        return [(False, f"could decide {titles.get(qid, qid)} ({shown})")]
    nouns = words.nouns
    parts: list[tuple[bool, str]] = []
    by_coll: dict[str, list[str]] = {}
    for e in mine:
        if e.kind == "item":
            by_coll.setdefault(e.collection, [])
            label = record_words(e.label)
            if label not in by_coll[e.collection]:
                by_coll[e.collection].append(label)
    for coll, labels in by_coll.items():
        parts.append((False, f"could add {' or '.join(labels)} to the "
                             f"{nouns.get(coll, record_words(coll))} ({titles.get(qid, qid)})"))
    for e in mine:
        text = f"could raise the warning “{record_words(e.label)}”"
        if e.kind == "warning" and (True, text) not in parts:
            parts.append((True, text))
    return parts


# ------------------------------------------------------------ what would change
#
# A single change of a given fact (`explain`), and a change of edition (`compare`), are
# told in these phrases: first as a supposition ("would be"), then, for an edition that
# did change, as a fact (`made`).


def had_been(fact: str, alternative: str, given: str, effects: list[str] | tuple[str, ...]
             ) -> str:
    return f"Had {fact} been {alternative} instead of {given}, " + "; ".join(effects) + "."


def outcome_would_be(qid: str, new: str, new_label: str, old: str) -> str:
    return f"the {qid} outcome would be {new} ({new_label}) instead of {old}"


def answer_would_be(title: str, new_label: str, old_label: str) -> str:
    return f"the answer on {title.lower()} would be “{new_label}” instead of “{old_label}”"


def no_longer_among(item: str, noun: str) -> str:
    return f"{item} would no longer be among the {noun}"


def added_to(item: str, noun: str) -> str:
    return f"{item} would be added to the {noun}"


def warning_no_longer_raised(code: str, *, in_words: bool = False) -> str:
    if in_words:
        return f"the warning on {record_words(code)} would no longer be raised"
    return f"the warning {code} would no longer be raised"


def warning_raised(code: str, message: str | None = None) -> str:
    if message is not None:
        return f"a warning would be raised: “{message.rstrip('.')}”"
    return f"the warning {code} would be raised"


def document_not_made(fmt: str, why: str) -> str:
    """Why a case's document was not written (a refusal of that case, exit 6)."""
    return (f"its {fmt} document cannot be made: {why}; nothing was written (the other "
            "formats may still be)")


def made(sentence: str) -> str:
    """'... would be added to ...' -> '... is added to ...' (a change made, not supposed)."""
    for was, now in ((" would be added to ", " is added to "),
                     (" would no longer be ", " is no longer "), (" would be ", " becomes ")):
        sentence = sentence.replace(was, now)
    return sentence


# ------------------------------------------------------------------- stopping

# Said on standard error when Ctrl-C, SIGTERM or SIGHUP stops the tool (the exit code says
# which: 130, 143, 129); whatever it was writing is removed, its previous content kept.
INTERRUPTED = "interrupted"
