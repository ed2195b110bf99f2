"""Point out characters that look like others, or that cannot be seen at all.

A key typed with a Cyrillic 'а', or a value pasted from a word processor with a
non-breaking or zero-width space, looks right on screen and is still refused: unless
the message names the character to blame, the user stares at a word that seems
correct. Messages use `odd_characters` to name them, `ascii_look_alike` to find the
key that was meant ("did you mean"), and `printable` to echo a value without letting
control characters reach the terminal.
"""

from __future__ import annotations

import unicodedata

# Letters with no decomposition to the ASCII letter they look like (NFKD handles accents,
# full-width forms and the like): the Cyrillic and Greek ones that keyboards make easy.
_LOOK_ALIKES = dict(zip(
    "аеорсухіјѕԁһӏԛԝАВЕКМНОРСТХІЈЅ" "αεικνορτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ" "‐‑‒–—―−‘’‚‛′“”„‟″",
    "aeopcyxijsdhlqwABEKMHOPCTXIJS" "aeikvoptuxABEZHIKMNOPTYX" "-------''''" "'" '""""' '"',
    strict=True))
_CONTROL_NAMES = {"\t": "CHARACTER TABULATION", "\n": "LINE FEED", "\r": "CARRIAGE RETURN"}
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})  # controls, format characters, breaks


def _plain(text: str) -> bool:
    return text.isascii() and text.isprintable()


def _look_alike(ch: str) -> str | None:
    """The ASCII text `ch` passes for, '' if it is invisible, None if neither."""
    if ch in _LOOK_ALIKES:
        return _LOOK_ALIKES[ch]
    if unicodedata.category(ch) in _INVISIBLE:
        return ""
    digit = unicodedata.decimal(ch, None)
    if digit is not None:
        return str(digit)
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if base and _plain(base) else None


def odd_characters(text: str, limit: int = 2) -> str:
    """'' when `text` is printable ASCII; otherwise which characters are not, e.g.
    "it contains U+0430 CYRILLIC SMALL LETTER A at character 2 (looks like 'a')"."""
    if _plain(text):
        return ""
    found = []
    for i, ch in enumerate(text, 1):
        if ch.isascii() and ch.isprintable():
            continue
        name = unicodedata.name(ch, "") or _CONTROL_NAMES.get(ch, "CONTROL CHARACTER")
        like = _look_alike(ch)
        hint = ("invisible" if like == "" else "looks like a space" if like == " "
                else f"looks like '{like}'" if like else "")
        found.append(f"U+{ord(ch):04X} {name} at character {i}" + (f" ({hint})" if hint else ""))
    shown = found[:limit]
    listed = ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0]
    if len(found) > limit:
        listed = ", ".join(shown) + f" and {len(found) - limit} more"
    return f"it contains {listed}"


def ascii_look_alike(text: str) -> str:
    """`text` as it looks: look-alikes replaced by their ASCII letters, invisible characters
    dropped ('rаnk' with a Cyrillic 'а' -> 'rank'), so that "did you mean" finds the key."""
    if _plain(text):
        return text
    out = []
    for ch in text:
        like = ch if ch.isascii() and ch.isprintable() else _look_alike(ch)
        out.append(ch if like is None else like)
    return "".join(out)


def printable(text: str) -> str:
    """`text` with invisible and control characters written as escapes (\\u200b), so that a
    message can echo a value without it hiding characters or driving the terminal."""
    if _plain(text):
        return text
    return "".join(ch if ch.isprintable() or unicodedata.category(ch) == "Zs"
                   else ch.encode("unicode_escape").decode("ascii") for ch in text)
