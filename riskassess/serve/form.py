"""The web form of `riskassess serve`: one field per fact of the vocabulary.

The form is generated, like the case model, from the rules folder's vocabulary: a field
per fact with its label, meaning and allowed values, `unknown` always offered (and the
default), the envelope (case id, assessment date) and the edition. What is submitted is
turned into a case file and read by the same reader and case model as a file on disk,
so a value the form would let through the model still refuses, and its message is shown
beside the field it concerns. Everything the user entered is sent back with any page,
so that an error or an expired form never loses it.

HTML only, rendered on the server: it works without JavaScript.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from riskassess.errors import CaseFileError, Problem
from riskassess.law.dates import UNKNOWN
from riskassess.render import formats

LISTED = "listed"  # a list fact's status radio: the ticked items (none ticked: none)
ENVELOPE = ("case_id", "assessment_date", "ruleset")
# what the form's buttons do: assess, download a format of the table that has a button,
# or download the case file
DOWNLOADS = tuple((f.name, f.form_button) for f in formats.FORMATS if f.form_button)
ACTIONS = ("assess", *(name for name, _ in DOWNLOADS), "yaml")
MAX_FIELDS = 1_000
# what yaml_source writes as an escape: anything but printable ASCII and the line breaks
# of its own layout
_NOT_ASCII = re.compile(r"[^\n\x20-\x7e]")


def _escape(m: re.Match) -> str:
    code = ord(m.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


@dataclass(frozen=True)
class Field:
    """One form field: a fact of the vocabulary, or part of the envelope."""

    name: str  # the fact's dotted path (the form's name for it)
    id: str  # the HTML id (f-GROUP-KEY)
    label: str
    description: str
    kind: str  # enum, bool, set, date, country, text
    options: tuple[tuple[str, str], ...] = ()  # (value, words) of a choice or a list
    recorded_only: bool = False

    @property
    def hint_id(self) -> str:
        return self.id + "-hint"

    @property
    def error_id(self) -> str:
        return self.id + "-error"


def field_id(name: str) -> str:
    return "f-" + name.replace(".", "-").replace("_", "-")


def fields_of(vocab) -> list[tuple[Any, list[Field]]]:
    """(group, its fields) for every group of the vocabulary, in its order."""
    out = []
    for group in vocab.groups:
        fields = []
        for spec in vocab.facts.values():
            if spec.group != group.key:
                continue
            if spec.kind in ("enum", "set"):
                options = tuple((str(v), spec.meanings.get(str(v), str(v))) for v in spec.values)
            elif spec.kind == "bool":
                options = (("true", spec.words(True)), ("false", spec.words(False)))
            else:
                options = ()
            fields.append(Field(spec.path, field_id(spec.path), spec.label or spec.path,
                                spec.description, spec.kind, options, spec.recorded_only))
        out.append((group, fields))
    return out


class FormError(Exception):
    """A form body that cannot be read as a form at all."""


def parse_body(raw: bytes) -> dict[str, list[str]]:
    """An application/x-www-form-urlencoded body: name -> the values given, in order."""
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=False,
                          encoding="utf-8", errors="strict", max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError(f"the form's data cannot be read ({exc.__class__.__name__})") from None
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


@dataclass
class Submitted:
    """What a form post says: the values as typed (to show again) and the case file."""

    values: dict[str, Any]  # name -> text, or the list of ticked items (with name + ":status")
    data: dict[str, Any]  # the case file's data
    ruleset: str | None
    action: str
    problems: list[tuple[str | None, str]]  # (field name or None, message)

    def yaml_source(self) -> str:
        """The case file as text for the reader (JSON is YAML), in ASCII: every other
        character is an escape, `\\uXXXX` in the Basic Multilingual Plane and `\\UXXXXXXXX`
        beyond it (emoji, rare CJK ideographs). JSON's own escape for those, a pair of
        surrogates, is refused by YAML, which took a name such as U+20BB7 for a syntax
        error. Each value is on a line of its own, so a line the reader names is a field
        (`field_at_line`)."""
        text = json.dumps(self.data, indent=1, ensure_ascii=False) + "\n"
        return _NOT_ASCII.sub(_escape, text)

    def field_at_line(self, line: int | None) -> str | None:
        """The dotted name of the value on `line` of `yaml_source` (1-based): its layout
        indents each level by one space, and an item of a list is its list's."""
        keys: list[str] = []
        for number, text in enumerate(self.yaml_source().splitlines(), 1):
            depth = len(text) - len(text.lstrip(" "))
            del keys[max(depth - 1, 0):]
            m = re.match(r' *"((?:[^"\\]|\\.)*)": ', text)
            if m:
                keys.append(json.loads(f'"{m.group(1)}"'))
            if number == line:
                return ".".join(keys) or None
        return None


def read_form(vocab, form: dict[str, list[str]]) -> Submitted:
    """The case file a form post describes. Fields left out count as unknown, since an
    older page may lack a fact added since; a value given twice is a problem."""
    problems: list[tuple[str | None, str]] = []
    values: dict[str, Any] = {}

    def one(name: str) -> str:
        given = form.get(name, [])
        if len(given) > 1:
            problems.append((name, "given more than once"))
        return given[0].strip() if given else ""

    data: dict[str, Any] = {"format": 1}
    for name in ("case_id", "assessment_date"):
        values[name] = one(name)
        if values[name]:
            data[name] = values[name]
    values["ruleset"] = one("ruleset")
    action = one("action") or "assess"
    if action not in ACTIONS:
        problems.append((None, f"no such action '{action[:40]}'"))
        action = "assess"
    for spec in vocab.facts.values():
        name = spec.path
        if spec.kind == "set":
            status = one(name) or UNKNOWN
            ticked = form.get(name + ":item", [])
            values[name] = status
            values[name + ":item"] = ticked
            if status == UNKNOWN:
                value: Any = UNKNOWN
                if ticked:
                    problems.append((name, "items are ticked but the list is marked unknown: "
                                           "choose 'as ticked' or untick them"))
            elif status == LISTED:
                value = list(dict.fromkeys(ticked))
            else:
                value = status  # the case model says what is wrong with it
        else:
            text = one(name)
            values[name] = text
            if not text or text.lower() == UNKNOWN:
                value = UNKNOWN
            elif spec.kind == "bool":
                value = {"true": True, "false": False}.get(text.lower(), text)
            elif spec.kind == "country" and len(text) == 2:
                value = text.upper()
            else:
                value = text
        data.setdefault(spec.group, {})[spec.key] = value
    return Submitted(values, data, values["ruleset"] or None, action, problems)


def field_problems(exc: CaseFileError, vocab,
                   sub: Submitted | None = None) -> list[tuple[str | None, str]]:
    """The reader's and the case model's problems, each at the form field of its key
    path, or else of its line in `sub`'s case file (the reader names no key)."""
    names = {*vocab.facts, "case_id", "assessment_date"}
    out: list[tuple[str | None, str]] = []
    for p in exc.problems:
        name = _field_of(p, names)
        if name is None and sub is not None and p.line is not None:
            at = sub.field_at_line(p.line)
            name = at if at in names else None
        out.append((name, p.message))
    return out


def _field_of(p: Problem, names: set[str]) -> str | None:
    path = p.path.split("[", 1)[0]  # an item of a list is its field's
    while path:
        if path in names:
            return path
        path = path.rpartition(".")[0]
    return None


def empty_values(vocab) -> dict[str, Any]:
    values: dict[str, Any] = {name: "" for name in ENVELOPE}
    for spec in vocab.facts.values():
        values[spec.path] = UNKNOWN if spec.kind in ("enum", "bool", "set") else ""
        if spec.kind == "set":
            values[spec.path + ":item"] = []
    return values


def values_from_case(vocab, data: dict[str, Any]) -> dict[str, Any]:
    """The form's values for a case file's data (an example opened in the form)."""
    values = empty_values(vocab)
    for name in ("case_id", "assessment_date"):
        if data.get(name) is not None:
            values[name] = str(data[name])
    for spec in vocab.facts.values():
        value = (data.get(spec.group) or {}).get(spec.key, UNKNOWN)
        if spec.kind == "set":
            if isinstance(value, list):
                values[spec.path], values[spec.path + ":item"] = LISTED, [str(v) for v in value]
        elif isinstance(value, bool):
            values[spec.path] = "true" if value else "false"
        elif value != UNKNOWN:
            values[spec.path] = str(value)
    return values
