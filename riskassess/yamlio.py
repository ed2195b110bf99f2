"""The one YAML reader of the tool: safe by construction, strict, and located.

Case files are written by hand under time pressure and are sometimes received
from others, so reading them must never run anything, never silently drop or
reinterpret what was written, and always say where a problem is:

* Only plain data is built: mappings, lists, strings, integers, floats, true/false
  and null. Any explicit tag (``!!python/object``, ``!!binary``...) is refused; no
  constructor is ever called, because the tree is built here from composed nodes.
* Booleans are YAML 1.2's ``true``/``false`` only. YAML 1.1 words such as ``yes``,
  ``no``, ``on`` and ``off`` stay strings, so the case model reports them with the
  allowed values instead of quietly reading them as booleans. Dates stay strings
  too, and are parsed by the model with a clear message.
* Duplicate keys are errors (loaders usually keep the last one silently).
* Anchors and aliases are refused (no case or rule file needs them, and refusing
  them makes alias bombs impossible); files are bounded in size.
* Every value keeps its line and column, so that later validation can report
  ``FILE:LINE:COLUMN: key.path: problem``; all problems of a file come in one pass.

The C parser (libyaml) is used when available; positions and the checks above do
not depend on it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from riskassess.errors import CaseFileError, Problem, UserError

MAX_BYTES = 1_048_576  # 1 MiB: far above any real case or rule file
MAX_NODES = 200_000

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A loader whose implicit typing follows YAML 1.2's core schema, not 1.1."""


_StrictLoader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    ("tag:yaml.org,2002:float", r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$",
     "-+0123456789."),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]:
    _StrictLoader.add_implicit_resolver(_tag, re.compile(_regexp), list(_first))

_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = {
    _STR: lambda v: v,
    "tag:yaml.org,2002:bool": lambda v: v.lower() == "true",
    "tag:yaml.org,2002:int": int,
    "tag:yaml.org,2002:float": float,
    "tag:yaml.org,2002:null": lambda v: None,
}
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Document:
    """Plain data read from one YAML file, with the position of every key and value."""

    file: str
    data: Any
    value_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    # Problems found while reading (duplicate keys, tags, aliases): the data is still
    # usable (a duplicate keeps its first value), so validation can run and report its
    # own problems in the same pass. Callers merge them; see `merged`.
    problems: tuple[Problem, ...] = ()

    # Key paths whose value could not be read at all (a refused tag or alias): later
    # validation would only repeat "no value", so its messages there are dropped.
    voided: frozenset[str] = frozenset()

    def merged(self, more: list[Problem]) -> list[Problem]:
        """This document's reading problems plus `more` (except at voided paths)."""
        return list(self.problems) + [p for p in more if p.path not in self.voided]

    def position(self, path: Path_, *, prefer_key: bool = False) -> tuple[int | None, int | None]:
        """Line and column (1-based) for a key path, falling back to the nearest parent."""
        path = tuple(path)
        while True:
            first, second = (
                (self.key_positions, self.value_positions)
                if prefer_key
                else (self.value_positions, self.key_positions)
            )
            if path in first:
                return first[path]
            if path in second:
                return second[path]
            if not path:
                return (None, None)
            path = path[:-1]

    def problem(self, path: Path_, message: str, *, prefer_key: bool = False) -> Problem:
        line, column = self.position(path, prefer_key=prefer_key)
        return Problem(self.file, line, column, dotted(path), message)


def dotted(path: Path_) -> str:
    """`("applicant", "exclusion_indicators", 1)` -> `applicant.exclusion_indicators[1]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def read_yaml_file(path: Path | str, *, error: type[UserError] = CaseFileError,
                   display_name: str | None = None) -> Document:
    """Read one YAML file safely; raise `error` with located problems if it is unusable."""
    path = Path(path)
    name = display_name or str(path)
    if not path.exists():
        raise error(Problem(name, None, None, "", "no such file"))
    if path.is_dir():
        raise error(Problem(name, None, None, "", "is a directory, expected a YAML file"))
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise error(Problem(name, None, None, "",
                                f"file is {size} bytes; the limit is {MAX_BYTES} bytes"))
        raw = path.read_bytes()
    except PermissionError:
        raise error(Problem(name, None, None, "",
                            "permission denied: the file cannot be read")) from None
    except OSError as exc:
        raise error(Problem(name, None, None, "",
                            f"cannot be read ({exc.strerror or exc})")) from None
    return parse_yaml_bytes(raw, name, error=error)


def parse_yaml_bytes(raw: bytes, name: str, *, error: type[UserError] = CaseFileError) -> Document:
    """Decode (UTF-8, an optional byte-order mark is accepted) and parse."""
    if len(raw) > MAX_BYTES:
        raise error(Problem(name, None, None, "",
                            f"file is {len(raw)} bytes; the limit is {MAX_BYTES} bytes"))
    if b"\x00" in raw:
        line, column = _offset_to_position(raw, raw.index(b"\x00"))
        raise error(Problem(name, line, column, "",
                            "contains NUL bytes: this looks like a binary file, not YAML text"))
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _offset_to_position(raw, exc.start)
        raise error(Problem(name, line, column, "",
                            f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); "
                            "save the file as UTF-8")) from None
    return parse_yaml_text(text, name, error=error)


def _offset_to_position(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


def parse_yaml_text(text: str, name: str, *, error: type[UserError] = CaseFileError) -> Document:
    """Parse one YAML document from text into plain data with positions."""
    loader = _StrictLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise error(_yaml_problem(name, exc, text)) from None
        except yaml.YAMLError as exc:  # unmarked errors: rare, still the user's input
            raise error(Problem(name, None, None, "", f"not valid YAML ({exc})")) from None
    finally:
        loader.dispose()
    if node is None:
        raise error(Problem(name, None, None, "",
                            "the file is empty (or holds only comments): expected a YAML mapping"))
    builder = _Builder(name)
    data = builder.build(node, ())
    problems = builder.problems
    if builder.aliases:
        # The composed tree has lost where each alias was written; the parser's events
        # have not. Report every use of an alias (up to 20) at its own position.
        problems = [p for p in problems if not p.message.startswith("anchors and aliases")]
        for event in itertools.islice((e for e in yaml.parse(text, Loader=_StrictLoader)
                                       if isinstance(e, yaml.AliasEvent)), 20):
            builder.voided.add(dotted(()))  # the whole tree is suspect; no echo messages
            problems.append(Problem(name, event.start_mark.line + 1,
                                    event.start_mark.column + 1, "",
                                    f"alias '*{event.anchor}': anchors and aliases ('&', '*') "
                                    "are not supported; write the value out"))
    return Document(name, data, builder.value_positions, builder.key_positions,
                    tuple(problems), frozenset(builder.voided))


def _yaml_problem(name: str, exc: yaml.MarkedYAMLError, text: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    problem = (exc.problem or "syntax error").strip()
    if exc.context and "expected a single document" in exc.context:
        problem = "holds several YAML documents ('---'); a file holds exactly one"
    elif mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        problem = "a tab character here; YAML does not allow tabs for indentation, use spaces"
    elif exc.context:
        problem = f"{exc.context.strip()}: {problem}"
    if mark is None:
        return Problem(name, None, None, "", f"YAML syntax error: {problem}")
    return Problem(name, mark.line + 1, mark.column + 1, "", f"YAML syntax error: {problem}")


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    if 0 <= line < len(lines) and 0 <= column < len(lines[line]):
        return lines[line][column]
    return ""


class _Builder:
    """Turns composed nodes into plain data, collecting every problem in one pass."""

    def __init__(self, name: str):
        self.name = name
        self.problems: list[Problem] = []
        self.value_positions: dict[Path_, tuple[int, int]] = {}
        self.key_positions: dict[Path_, tuple[int, int]] = {}
        self._seen: set[int] = set()
        self._count = 0
        self.voided: set[str] = set()
        self.aliases = False

    def _add(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.voided.add(dotted(path))
        self.problems.append(
            Problem(self.name, node.start_mark.line + 1, node.start_mark.column + 1,
                    dotted(path), message))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            if self._count == MAX_NODES + 1:
                self._add(node, path, f"too many values (limit {MAX_NODES})")
            return None
        if id(node) in self._seen:
            self.aliases = True
            # An alias yields the anchored node again; point at the key that used it.
            line, column = self.key_positions.get(path, (node.start_mark.line + 1,
                                                         node.start_mark.column + 1))
            self.voided.add(dotted(path))
            self.problems.append(Problem(self.name, line, column, dotted(path),
                                         "anchors and aliases ('&', '*') are not supported; "
                                         "write the value out"))
            return None
        self._seen.add(id(node))
        self.value_positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)

        if isinstance(node, yaml.ScalarNode):
            convert = _SCALAR_TAGS.get(node.tag)
            if convert is None:
                self._add(node, path, f"the YAML tag '{node.tag}' is not allowed; "
                                      "only plain values are read")
                return None
            try:
                return convert(node.value)
            except ValueError:
                kind = node.tag.rsplit(":", 1)[-1]
                self._add(node, path, f"'{node.value}' is not a valid {kind}")
                return None

        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self._add(node, path, f"the YAML tag '{node.tag}' is not allowed")
                return None
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]

        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                self._add(node, path, f"the YAML tag '{node.tag}' is not allowed")
                return None
            out: dict[str, Any] = {}
            first_seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self._add(key_node, path, "a key must be a plain word, not a list or mapping")
                    continue
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self._add(key_node, path, "merge keys ('<<') are not supported")
                    continue
                if key_node.tag not in _SCALAR_TAGS:
                    self._add(key_node, path, f"the YAML tag '{key_node.tag}' is not allowed")
                    continue
                key = key_node.value
                key_path = path + (key,)
                if key in first_seen:
                    self.problems.append(Problem(
                        self.name, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                        dotted(key_path),
                        f"duplicate key '{key}' (first given on line {first_seen[key]}); "
                        "each key may appear only once"))
                    continue
                first_seen[key] = key_node.start_mark.line + 1
                self.key_positions[key_path] = (key_node.start_mark.line + 1,
                                                key_node.start_mark.column + 1)
                out[key] = self.build(value_node, key_path)
            return out

        self._add(node, path, "unsupported YAML node")  # pragma: no cover - defensive
        return None
