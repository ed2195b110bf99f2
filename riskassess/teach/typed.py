"""What a person types, read as the value it names: the one reader of answers.

The interview (facts) and the quiz (outcomes and lists, at the prompt or in an answers
file) read every answer here, alike:
- without regard to case or to blanks around it (`Deserter`, ` TRUE `, `Unknown`);
- a value by its code, by its code in words (`draft evader` for `draft_evader`), or by its
  label (what the tool shows for it: an outcome's label, a yes/no fact's yes or no);
- a yes/no value also by the words a person says yes or no with (words.YES, words.NO:
  y, yes, n, no), as well as true and false;
- a list comma-separated (in brackets or not), and `none` (or nothing, or `[]`) the empty
  list.
A word that is not an allowed value is returned as typed (without its blanks), for the
caller to refuse in its own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from riskassess.words import NO, YES, spelt

Labels = Mapping[Any, str]


def _plain(text: Any) -> str:
    """A spelling as it is compared: small letters, underscores as blanks, blanks single."""
    return " ".join(str(text).replace("_", " ").split()).lower().rstrip(".")


def spellings(value: Any, labels: Labels | None = None) -> list[str]:
    """Every spelling of a value that is read as it (compared as `_plain` compares)."""
    out = [spelt(value)]
    if labels and value in labels:
        out.append(labels[value])
    if value is True:
        out += YES
    elif value is False:
        out += NO
    return out


def choice(values: tuple[Any, ...] | list[Any], text: str,
           labels: Labels | None = None) -> Any:
    """The allowed value `text` names (by its code, its label, or yes/no), or `text` itself
    (then refused). A code is matched before a label, should a label spell another code."""
    typed = _plain(text)
    for first in (True, False):
        for value in values:
            names = spellings(value, labels)
            if any(_plain(n) == typed for n in (names[:1] if first else names[1:])):
                return value
    return text.strip()


def items(values: tuple[Any, ...] | list[Any], text: str,
          labels: Labels | None = None) -> list[Any]:
    """A comma-separated list of allowed values, each read as `choice` reads it."""
    text = text.strip()
    if text.lower() in ("none", "[]", ""):
        return []
    return [choice(values, item, labels) for item in text.strip("[]").split(",")
            if item.strip()]


def yes(text: str) -> bool:
    """Whether a reply is a yes (anything else is a no)."""
    return choice((True, False), text) is True
