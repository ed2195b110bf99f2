"""The one YAML reader of the tool: safe by construction, strict, and located.

Case files are written by hand under time pressure and are sometimes received
from others, so reading them must never run anything, never silently drop or
reinterpret what was written, never hang, and always say where a problem is. Every
file the tool reads (case files, interview drafts, rule files, COI registries, the
editions catalog, training answers) comes through `read_yaml_file`:

* Only regular files are read. Devices, FIFOs, sockets and directories are refused
  by name before they are opened, and again from the opened descriptor; the file is
  opened non-blocking, so that nothing (a FIFO with no writer) can make it wait.
  At most 1 MiB is read, counted while reading: /dev/zero and /proc files, which
  report a size of 0, cannot make it grow.
* Text is UTF-8 (a byte-order mark is accepted). UTF-16 and UTF-32 are recognised,
  by their byte-order mark or their NUL bytes, and named, rather than called binary.
* Only plain data is built: mappings, lists, strings, integers, floats, true/false
  and null. Any explicit tag (``!!python/object``, ``!!binary``...) is refused; no
  constructor is ever called, because the tree is built here from parser events.
* The tree is built without recursion, and nesting is bounded (MAX_DEPTH levels) and
  reported where the level too many starts, so no input can exhaust the stack; the
  number of values is bounded too (MAX_NODES), which keeps validating a wrong file fast.
* Booleans are YAML 1.2's ``true``/``false`` only. YAML 1.1 words such as ``yes``,
  ``no``, ``on`` and ``off`` stay strings, so the case model reports them with the
  allowed values instead of quietly reading them as booleans. Dates stay strings
  too, and are parsed by the model with a clear message.
* Duplicate keys are errors (loaders usually keep the last one silently).
* Aliases are refused where they are written (no case or rule file needs them, and
  never expanding them makes alias bombs impossible).
* Every value keeps its line and column, so that later validation can report
  ``FILE:LINE:COLUMN: key.path: problem``; all problems of a file come in one pass.

The C parser (libyaml) is used when available; positions and the checks above do
not depend on it.

Case files may also be JSON (`*.json`) and caseloads JSONL (`*.jsonl`, one case per line):
the JSON section at the end reads them into the same `Document`, with the same limits,
duplicate keys refused and positions kept (`read_case_document` reads a case file of
either kind by its name, `jsonl_lines` the cases of a caseload).
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import stat
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskassess.errors import CaseFileError, Problem, UserError
from riskassess.record import field, record, replace
from riskassess.textcheck import printable

if TYPE_CHECKING:
    import yaml

MAX_BYTES = 1_048_576  # 1 MiB: far above any real case or rule file
# Values (scalars, lists, mappings) in one file: the largest shipped file holds under 600.
# The bound keeps the validation of a wrong file small: describing a list of 200,000
# refused items took pydantic 20 s and 700 MB.
MAX_NODES = 20_000
# Lists and mappings inside each other, the top one counting as 1: case files use 3, the
# shipped rule files 7. Far deeper is a mistake or an attack, and is refused where it starts.
MAX_DEPTH = 64

# YAML 1.2's core schema for untagged scalars (not PyYAML's YAML 1.1): (tag, pattern, first
# characters). The plain route (`_plain_scalar`) and the strict loader resolve by it.
_RESOLVERS = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    ("tag:yaml.org,2002:float", r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$",
     "-+0123456789."),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]
_IMPLICIT: dict[str, list[tuple[str, Any]]] = {}  # first character -> [(tag, regexp)]
for _tag, _regexp, _first in _RESOLVERS:
    _compiled = re.compile(_regexp)
    for _char in _first:  # as PyYAML's add_implicit_resolver files them
        _IMPLICIT.setdefault(_char, []).append((_tag, _compiled))

_YAML: Any = None


def _yaml() -> tuple[Any, Any, Any]:
    """PyYAML, its fastest safe loader, and the strict loader (a loader whose implicit
    typing follows the core schema above), made when first needed: the plain route reads
    most case files without them, and a cold start is the faster for not importing them."""
    global _YAML
    if _YAML is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class _StrictLoader(base):  # type: ignore[misc, valid-type]
            """A loader whose implicit typing follows YAML 1.2's core schema, not 1.1."""

        _StrictLoader.yaml_implicit_resolvers = {c: list(r) for c, r in _IMPLICIT.items()}
        _YAML = (yaml, base, _StrictLoader)
    return _YAML


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
_NO_PATHS: frozenset[str] = frozenset()


@record
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
    # The bytes the document was read from, and their sha256 (hex): what a digest of a
    # file the tool read must cover, without reading it a second time.
    raw: bytes = field(default=b"", repr=False, compare=False)
    sha256: str = ""

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
            out += ("." if out else "") + printable(str(part))
    return out


def read_yaml_file(path: Path | str, *, error: type[UserError] = CaseFileError,
                   display_name: str | None = None) -> Document:
    """Read one YAML file safely; raise `error` with located problems if it is unusable."""
    name = display_name or str(path)
    raw = read_file_bytes(path, error=error, display_name=name)
    return parse_yaml_bytes(raw, name, error=error, digest=True)


_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0))


def read_file_bytes(path: Path | str, *, error: type[UserError] = CaseFileError,
                    display_name: str | None = None, kind: str = "YAML") -> bytes:
    """The bytes of a regular file of at most MAX_BYTES; anything else raises `error`.

    It never blocks and never reads without bound: a path is classified before it is
    opened (opening some devices has effects of its own) and again after (it may have
    been swapped in between); it is opened non-blocking, so that a FIFO with no writer
    cannot hang it; and at most MAX_BYTES + 1 bytes are read, whatever size the file
    reports (/proc files report 0). `kind` names what the file should be (YAML, JSON)."""
    name = display_name or str(path)

    def refused(message: str) -> UserError:
        return error(Problem(name, None, None, "", message))

    fd, status = open_regular(path, error=error, display_name=name, kind=kind)
    try:
        if status.st_size > MAX_BYTES:
            raise refused(f"file is {status.st_size:,} bytes; the limit is {MAX_BYTES:,} "
                          "bytes (1 MiB)")
        chunks, left = [], MAX_BYTES + 1
        while left:
            chunk = os.read(fd, min(left, max(status.st_size + 1, 65_536)))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
            if len(chunk) == status.st_size and status.st_size:
                break  # all the file said it holds, in one read: no read to find its end
        if not left:
            raise refused(f"file is larger than the limit of {MAX_BYTES:,} bytes (1 MiB)")
    except OSError as exc:
        raise refused(_os_reason(exc)) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def open_regular(path: Path | str, *, error: type[UserError] = CaseFileError,
                 display_name: str | None = None, kind: str = "YAML"
                 ) -> tuple[int, os.stat_result]:
    """A descriptor (non-blocking, read-only) of a regular file and its status; anything
    else (a directory, device, FIFO, socket, missing file) raises `error` by name. The
    caller closes the descriptor."""
    name = display_name or str(path)

    def refused(message: str) -> UserError:
        return error(Problem(name, None, None, "", message))

    try:
        what = special_kind(os.stat(path).st_mode)  # follows symlinks, like open
        if what:
            raise refused(f"is {what}, not a {kind} file")
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise refused(_os_reason(exc)) from None
    try:
        status = os.fstat(fd)
        what = special_kind(status.st_mode)
        if what:
            raise refused(f"is {what}, not a {kind} file")
    except OSError as exc:
        os.close(fd)
        raise refused(_os_reason(exc)) from None
    except BaseException:
        os.close(fd)
        raise
    return fd, status


def special_kind(mode: int) -> str | None:
    """What a file that is not a regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a device (character special file)"
    if stat.S_ISBLK(mode):
        return "a device (block special file)"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"  # pragma: no cover - e.g. a Solaris door


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop: the link points (through others) back at itself"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied: the file cannot be read"
    return f"cannot be read ({exc.strerror or exc})"


_WIDE = (  # byte-order mark, name, code unit size, positions of a code unit that ASCII zeroes
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian)", 4, (1, 2, 3)),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian)", 4, (0, 1, 2)),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian)", 2, (1,)),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian)", 2, (0,)),
)


def _wide_encoding(raw: bytes) -> str | None:
    """The UTF-16 or UTF-32 form `raw` looks like, by its byte-order mark or (without one)
    by where its NUL bytes are: mostly-ASCII text in UTF-16 LE has one at every odd offset
    and none at even ones. None when it looks like neither."""
    for bom, label, _, _ in _WIDE:
        if raw.startswith(bom):
            return label
    head = raw[:4096]
    for _, label, unit, zero in _WIDE:
        units = len(head) // unit
        if not units:
            continue
        lanes = [head[i:units * unit:unit].count(0) for i in range(unit)]
        if all(2 * lanes[i] >= units for i in zero) and \
                all(10 * lanes[i] <= units for i in range(unit) if i not in zero):
            return label
    return None


def parse_yaml_bytes(raw: bytes, name: str, *, error: type[UserError] = CaseFileError,
                     digest: bool = False) -> Document:
    """Decode (UTF-8, an optional byte-order mark is accepted) and parse; with `digest`,
    the Document keeps the bytes and their sha256."""
    return parse_yaml_text(_decoded(raw, name, error), name, error=error,
                           raw=raw if digest else None)


def _decoded(raw: bytes, name: str, error: type[UserError], kind: str = "YAML",
             first_line: int = 1) -> str:
    """The text of `raw`: at most MAX_BYTES of UTF-8 (an optional byte-order mark is
    accepted), else `error` naming what it looks like. `first_line`: the line of the file
    `raw` starts on (a JSONL line), for the positions."""
    if len(raw) > MAX_BYTES:
        raise error(Problem(name, None, None, "",
                            f"file is {len(raw):,} bytes; the limit is {MAX_BYTES:,} bytes "
                            "(1 MiB)"))
    nul = raw.find(b"\x00")
    if nul >= 0 or raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        wide = _wide_encoding(raw)
        if wide:
            raise error(Problem(name, None, None, "",
                                f"looks like {wide} text; riskassess reads UTF-8 only: save "
                                "the file as UTF-8"))
    if nul >= 0:
        line, column = _offset_to_position(raw, nul)
        raise error(Problem(name, line + first_line - 1, column, "",
                            f"contains NUL bytes: this looks like a binary file, not {kind} "
                            "text"))
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _offset_to_position(raw, exc.start)
        raise error(Problem(name, line + first_line - 1, column, "",
                            f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); "
                            "save the file as UTF-8")) from None


def _offset_to_position(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


def parse_yaml_text(text: str, name: str, *, error: type[UserError] = CaseFileError,
                    raw: bytes | None = None) -> Document:
    """Parse one YAML document from text into plain data with positions; `raw`: the bytes
    it was decoded from, to keep in the Document with their sha256."""
    data = _plain_data(text)  # the plain shapes of case files, read fast
    if data is not None:
        found = _Lazy(_plain_positions, text, name)
        if raw is None:
            return Document(name, data, _Positions(found, 0), _Positions(found, 1),  # type: ignore[arg-type]
                            (), _NO_PATHS, b"", "")
        return Document(name, data, _Positions(found, 0), _Positions(found, 1),  # type: ignore[arg-type]
                        (), frozenset(), raw, hashlib.sha256(raw).hexdigest())
    doc = _parse_events(text, name, error=error)
    if raw is None:
        return doc
    return Document(doc.file, doc.data, doc.value_positions, doc.key_positions, doc.problems,
                    doc.voided, raw, hashlib.sha256(raw).hexdigest())


def _parse_events(text: str, name: str, *, error: type[UserError] = CaseFileError
                  ) -> Document:
    """Parse one YAML document from the parser's events (`_Builder`)."""
    yaml, _, strict = _yaml()
    loader = strict(text)
    builder = _Builder(name, error, loader)
    try:
        try:
            found = builder.read()
        except yaml.MarkedYAMLError as exc:
            raise error(_yaml_problem(name, exc, text)) from None
        except yaml.reader.ReaderError as exc:  # a character YAML does not allow
            raise error(_character_problem(name, exc, text)) from None
        except yaml.YAMLError as exc:  # unmarked errors: rare, still the user's input
            raise error(Problem(name, None, None, "", f"not valid YAML ({exc})")) from None
    finally:
        loader.dispose()
    if not found:
        raise error(Problem(name, None, None, "",
                            "the file is empty (or holds only comments): expected a YAML "
                            "mapping, one 'key: value' per line"))
    return Document(name, builder.data, builder.value_positions, builder.key_positions,
                    tuple(builder.counted()), frozenset(builder.voided))


def _character_problem(name: str, exc: yaml.reader.ReaderError, text: str) -> Problem:
    """A control character YAML refuses (ESC, form feed, DEL, C1...), at its line and
    column, by its code point and name."""
    at = exc.position if isinstance(exc.position, int) and 0 <= exc.position < len(text) \
        else None
    if at is None:
        return Problem(name, None, None, "", f"not valid YAML ({exc.reason})")
    before = text[:at]
    line, column = before.count("\n") + 1, at - (before.rfind("\n") + 1) + 1
    return Problem(name, line, column, "",
                   f"the character U+{ord(text[at]):04X} "
                   f"{unicodedata.name(text[at], '') or 'CONTROL CHARACTER'} is not allowed in "
                   "YAML; delete it, "
                   "or write it as an escape inside double quotes (e.g. \"\\x1b\")")


def _yaml_problem(name: str, exc: yaml.MarkedYAMLError, text: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    problem = (exc.problem or "syntax error").strip()
    if exc.context and "expected a single document" in exc.context:
        problem = ("holds several YAML documents (a '---' line starts another); a file "
                   "holds exactly one: put each in a file of its own")
    elif mark is not None and "exceeded maximum nesting depth" in problem:
        # libyaml's own limit (1,000 '[' in a row), met before ours as it scans ahead
        return Problem(name, mark.line + 1, mark.column + 1, "",
                       f"too deeply nested (more than {MAX_DEPTH} levels)")
    elif mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        problem = "a tab character here; YAML does not allow tabs for indentation, use spaces"
    elif exc.context:
        problem = f"{exc.context.strip()}: {problem}"
    problem += _SYNTAX_HINTS.get(problem, "")
    if mark is None:
        return Problem(name, None, None, "", f"YAML syntax error: {problem}")
    return Problem(name, mark.line + 1, mark.column + 1, "", f"YAML syntax error: {problem}")


# What to do about libyaml's commonest complaints, in words a newcomer can act on
_SYNTAX_HINTS = {
    "mapping values are not allowed in this context":
        " (a ':' YAML cannot read here: is the line indented like the keys beside it, or "
        "does the value hold ': '? Then put the value in quotes)",
    "while scanning a simple key: could not find expected ':'":
        " (a line that is not 'key: value': add the ':' and a space, or indent it under "
        "its key)",
    "while scanning a quoted scalar: found unexpected end of stream":
        " (a quoted value is never closed: add its closing quote)",
    "while parsing a flow sequence: did not find expected ',' or ']'":
        " (a list opened with '[' is not closed with ']', or two items lack a ',')",
    "while parsing a flow node: did not find expected node content":
        " (a '{' or '[' is not closed, or a ',' is followed by nothing)",
}


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    if 0 <= line < len(lines) and 0 <= column < len(lines[line]):
        return lines[line][column]
    return ""


# ------------------------------------------------------------------ plain shapes
#
# Most case files are written in a few plain shapes: `key: value` lines, a mapping of them
# under a key, lists of `- value` lines, `[]`, `{}` and `[a, b]`, words and numbers, quoted
# texts without escapes, comments. `_plain_document` reads a text made only of those, line
# by line, into exactly the Document the parser's events give (the same data, values
# and positions: tests/test_fast_batch.py compares them on the examples, the generated
# cases and thousands of mutations of them), several times faster. On anything else (a
# character outside printable ASCII, a tab, a duplicate key, an empty value, a tag, an
# anchor, a multi-line or escaped scalar, deeper nesting, a number too long to read...)
# it gives None and the parser reads the text, and says what is wrong, as it always has.

_WORD = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
# One line of the plain shapes: its indent, then `key:` or `- `, then at most one value: a
# word or words, a quoted text without escapes, `[]`, `{}` or `[a, b]`; then a comment.
_PLAIN_LINE = (  # compiled when positions are first asked for (not at every start)
    rf"( *)(?:(?P<key>[A-Za-z_][A-Za-z0-9_]*):|(?P<dash>-)(?= ))"
    rf"(?: +(?:(?P<plain>{_WORD}(?: +[A-Za-z0-9_.\-]+)*)|'(?P<single>[^'\n]*)'"
    r'|"(?P<double>[^"\\\n]*)"'
    rf"|(?P<empty>\[\]|\{{\}})|\[(?P<flow> *{_WORD}(?: *, *{_WORD})*) *\]))?"
    r"(?: +#.*)? *")
_PLAIN_SKIP_LINE = re.compile(r" *(?:#.*)?")
_PLAIN_FLOW_ITEM = re.compile(_WORD)
_PLAIN_FLOW_ITEMS = _PLAIN_FLOW_ITEM.findall
_NOT_PLAIN = re.compile(r"[^\x20-\x7e\n]")
_PLAIN_DEPTH = 8  # deeper is left to the parser (and its limit)
_PLAIN_SCALARS: dict[str, Any] = {}  # a plain scalar's text -> its value (all immutable)


def _plain_scalar(text: str) -> Any:
    """A plain scalar's value, resolved as `_Builder._scalar` resolves an untagged one;
    raises ValueError where the builder would report a problem."""
    value = _PLAIN_SCALARS.get(text, _PLAIN_SCALARS)
    if value is _PLAIN_SCALARS:
        value = text
        for tag, regexp in _IMPLICIT.get(text[:1], ()):
            if regexp.match(text):
                value = _SCALAR_TAGS[tag](text)
                break
        if len(_PLAIN_SCALARS) >= 4096:
            _PLAIN_SCALARS.clear()
        _PLAIN_SCALARS[text] = value
    return value


# One line of the plain shapes: (indent, key, dash, words, 'single', "double", [] or {},
# [flow]); a blank or comment line has neither key nor dash. A line of another shape does
# not match.
_PLAIN_ROW = re.compile(
    rf"( *)(?:(?:([A-Za-z_][A-Za-z0-9_]*):|(-)(?= ))"
    rf"(?: +(?:({_WORD}(?: +[A-Za-z0-9_.\-]+)*)|('[ -&(-~]*')"
    r'|("[ !#-\[\]-~]*")'
    rf"|(\[\]|\{{\}})|(\[ *{_WORD}(?: *, *{_WORD})* *\])))?(?: +#[ -~]*)?|#[ -~]*)? *"
    ).fullmatch

# What a line says, read once for all the files of a batch (a caseload's files share most
# of their lines: `  rank: officer`): (indent, key or "", what follows, value), where what
# follows is one of these; the value is immutable (a scalar, or a flow list's tuple).
_SKIP, _VALUE, _EMPTY_LIST, _EMPTY_MAP, _FLOW, _BLOCK, _LONE_DASH = range(7)
_PLAIN_ROWS: dict[str, tuple] = {}
_PLAIN_ROWS_KEPT = 8192


def _plain_row(line: str) -> tuple | None:
    """A line of the plain shapes as `_plain_data` reads it, or None for another shape.
    Raises ValueError for a number too long to read."""
    m = _PLAIN_ROW(line)
    if m is None:
        return None
    spaces, key, dash, words, single, double, empty, flow = m.groups("")
    if not key and not dash:
        row: tuple = (0, "", _SKIP, None)
    elif words:
        row = (len(spaces), key, _VALUE, _plain_scalar(words))
    elif single or double:
        row = (len(spaces), key, _VALUE, (single or double)[1:-1])
    elif empty:
        row = (len(spaces), key, _EMPTY_LIST if empty == "[]" else _EMPTY_MAP, None)
    elif flow:
        row = (len(spaces), key, _FLOW,
               tuple(_plain_scalar(item) for item in _PLAIN_FLOW_ITEMS(flow)))
    else:
        row = (len(spaces), key, _BLOCK if key else _LONE_DASH, None)
    if len(_PLAIN_ROWS) >= _PLAIN_ROWS_KEPT:
        _PLAIN_ROWS.clear()
    _PLAIN_ROWS[line] = row
    return row


def _plain_data(text: str) -> Any:
    """The data of a text in the plain shapes, or None: `_plain_document` without the
    positions (computed only when asked for), taking exactly the same texts."""
    known = _PLAIN_ROWS.get
    root: dict = {}
    stack: list[list] = []  # the open containers, each [indent, container, indentless]
    frame: list = [-1, None, False]
    pending: tuple | None = None  # (indent, container, key) of a key awaiting its block
    count = 0
    try:
        for line in text.split("\n"):
            row = known(line) or _plain_row(line)
            if row is None:
                return None  # a line of another shape (or not printable ASCII)
            indent, key, follows, value = row
            if follows == _SKIP:
                continue  # a blank or comment line
            if pending is not None:
                above, container, pkey = pending
                pending = None
                if indent > above or (indent == above and not key):
                    if len(stack) >= _PLAIN_DEPTH:
                        return None
                    block: Any = {} if key else []
                    container[pkey] = block
                    frame = [indent, block, indent == above]
                    stack.append(frame)
                else:
                    return None  # an empty value (null): the parser's to read
            elif indent != frame[0] or (key and frame[2]):
                if not stack:
                    if not key or indent:
                        return None
                    frame = [0, root, False]
                    stack.append(frame)
                else:
                    while stack and indent < stack[-1][0]:
                        stack.pop()
                    if stack and stack[-1][2] and key and indent == stack[-1][0]:
                        stack.pop()  # the end of a list written at its key's indent
                    if not stack or stack[-1][0] != indent:
                        return None
                    frame = stack[-1]
            container = frame[1]
            count += 1
            if follows == _VALUE:
                pass
            elif follows == _EMPTY_LIST:
                value = []
            elif follows == _EMPTY_MAP:
                value = {}
            elif follows == _FLOW:
                count += len(value)
                value = list(value)
            elif follows == _BLOCK:  # no value on the line: a block follows
                if type(container) is not dict or key in container:
                    return None
                pending = (indent, container, key)
                continue
            else:
                return None  # a '-' alone
            if count >= MAX_NODES:
                return None
            if key:
                if type(container) is not dict or key in container:
                    return None  # (a duplicate key: the parser's to report)
                container[key] = value
            elif type(container) is list:
                container.append(value)
            else:
                return None
    except ValueError:  # a number too long to read: the parser's to report
        return None
    if pending is not None or not stack or count >= MAX_NODES:
        return None
    return root


class _Lazy:
    """The positions of a text, computed when first asked for by `locate(*args)` (which
    gives (value positions, key positions), or None when it cannot: then there are none)."""

    __slots__ = ("locate", "args", "tables")

    def __init__(self, locate: Any, *args: Any):
        self.locate, self.args = locate, args
        self.tables: tuple[dict, dict] | None = None

    def table(self, which: int) -> dict:
        tables = self.tables
        if tables is None:  # (two threads asking at once both compute the same tables)
            tables = self.tables = self.locate(*self.args) or ({}, {})
        return tables[which]


def _plain_positions(text: str, name: str) -> tuple[dict, dict] | None:
    doc = _plain_document(text, name)
    if doc is None:  # not expected (both take the same texts): the parser's positions
        try:
            doc = _parse_events(text, name)
        except UserError:
            return None
    return dict(doc.value_positions), dict(doc.key_positions)


def _plain_document(text: str, name: str) -> Document | None:
    """The Document of a text in the plain shapes (see above), or None."""
    if _NOT_PLAIN.search(text):
        return None
    match, skip, scalar = re.compile(_PLAIN_LINE).fullmatch, _PLAIN_SKIP_LINE.fullmatch, \
        _plain_scalar
    values: dict[Path_, tuple[int, int]] = {}
    keys: dict[Path_, tuple[int, int]] = {}
    root: dict = {}
    # the open containers, each [indent, container, path, whether a list at its key's indent]
    stack: list[list] = []
    frame: list = [-1, None, (), False]
    pending: tuple | None = None  # (indent, container, key, path) of a key awaiting its block
    count = 0
    number = 0
    try:
        for line in text.split("\n"):
            number += 1
            found = match(line)
            if found is None:
                if skip(line):
                    continue
                return None
            indent = found.end(1)
            kind = found.lastgroup
            key = found.group("key")
            if pending is not None:
                above, container, pkey, path = pending
                pending = None
                if indent > above or (indent == above and key is None):
                    if len(stack) >= _PLAIN_DEPTH:
                        return None
                    block: Any = {} if key is not None else []
                    container[pkey] = block
                    values[path] = (number, indent + 1)
                    frame = [indent, block, path, indent == above]
                    stack.append(frame)
                else:
                    return None  # an empty value (null): the parser's to read
            elif indent != frame[0] or (key is not None and frame[3]):
                if not stack:
                    if key is None or indent:
                        return None
                    values[()] = (number, 1)
                    frame = [0, root, (), False]
                    stack.append(frame)
                else:
                    while stack and indent < stack[-1][0]:
                        stack.pop()
                    if stack and stack[-1][3] and key is not None and indent == stack[-1][0]:
                        stack.pop()  # the end of a list written at its key's indent
                    if not stack or stack[-1][0] != indent:
                        return None
                    frame = stack[-1]
            container = frame[1]
            count += 1
            if key is not None:
                if type(container) is not dict or count >= MAX_NODES:
                    return None
                where = frame[2] + (key,)
                if where in keys:
                    return None  # a duplicate: the parser's to report
                keys[where] = (number, indent + 1)
                if kind == "key":  # no value on the line: a block follows
                    pending = (indent, container, key, where)
                    continue
            else:
                if type(container) is not list or kind == "dash" or count >= MAX_NODES:
                    return None
                where = frame[2] + (len(container),)
            if kind == "plain":
                values[where] = (number, found.start(kind) + 1)
                value = scalar(found.group(kind))
            elif kind == "single" or kind == "double":
                values[where] = (number, found.start(kind))  # at the quote
                value = found.group(kind)
            elif kind == "empty":
                values[where] = (number, found.start(kind) + 1)
                value = [] if found.group(kind) == "[]" else {}
            else:
                start = found.start(kind)
                values[where] = (number, start)  # at the '['
                value = []
                for item in _PLAIN_FLOW_ITEM.finditer(found.group(kind)):
                    count += 1
                    values[where + (len(value),)] = (number, start + item.start() + 1)
                    value.append(scalar(item.group()))
            if key is not None:
                container[key] = value
            else:
                container.append(value)
    except ValueError:  # a number too long to read: the parser's to report
        return None
    if pending is not None or not stack or count >= MAX_NODES:
        return None
    return Document(name, root, values, keys)


_EXPECT_KEY = object()  # a mapping's state between entries
_SKIP = object()  # a mapping's state when the value of a refused key comes next
_MAX_ALIAS_PROBLEMS = 20


class _Frame:
    """One open list or mapping while the events are read."""

    __slots__ = ("container", "path", "key", "skip")

    def __init__(self, container: Any, path: Path_, skip: bool):
        self.container = container  # a list, a dict, or None when its content is skipped
        self.path = path
        self.skip = skip
        self.key: Any = _EXPECT_KEY  # mappings only: the path of the value that comes next


class _Builder:
    """Builds plain data from the parser's events, collecting every problem in one pass.

    Built from events rather than from composed nodes, without recursion: the nesting
    depth is checked as each list or mapping opens, so that no input, however deep, can
    exhaust the stack (PyYAML's composer and a recursive walk both can), and an alias is
    reported where it is written and never expanded."""

    def __init__(self, name: str, error: type[UserError], loader: Any):
        self.name = name
        self.error = error
        self.loader = loader
        self.problems: list[Problem] = []
        self.value_positions: dict[Path_, tuple[int, int]] = {}
        self.key_positions: dict[Path_, tuple[int, int]] = {}
        self.voided: set[str] = set()
        self.data: Any = None
        self._aliases: dict[str, list[int]] = {}  # anchor -> [its problem's index, more uses]

    def _add(self, mark: Any, path: Path_, message: str) -> None:
        self.voided.add(dotted(path))
        self.problems.append(Problem(self.name, mark.line + 1, mark.column + 1, dotted(path),
                                     message))

    def _stop(self, mark: Any, message: str) -> UserError:
        """Too much to read on: what was found so far, and why reading stopped."""
        return self.error(self.counted() + [Problem(self.name, mark.line + 1, mark.column + 1,
                                                   "", message)])

    def read(self) -> bool:
        """Read the one document of the stream; False when there is none."""
        yaml = _yaml()[0]
        get = self.loader.get_event
        get()  # the stream starts
        start = get()
        if isinstance(start, yaml.StreamEndEvent):
            return False
        self._document(get)
        after = get()
        if not isinstance(after, yaml.StreamEndEvent):
            raise yaml.composer.ComposerError("expected a single document in the stream",
                                              start.start_mark, "but found another document",
                                              after.start_mark)
        return True

    def _document(self, get: Any) -> None:
        yaml = _yaml()[0]
        resolve = self.loader.resolve
        positions = self.value_positions
        root = _Frame([], (), False)  # holds the document's one node
        stack: list[_Frame] = []
        parent = root
        count = 0  # values so far
        while True:
            event = get()
            kind = type(event)
            if kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                stack.pop()
                parent = stack[-1] if stack else root
                continue
            if kind is yaml.DocumentEndEvent:
                self.data = root.container[0] if root.container else None
                return
            opens = kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent
            mark = event.start_mark
            if opens and len(stack) >= MAX_DEPTH:
                raise self._stop(mark, f"too deeply nested (more than {MAX_DEPTH} levels)")

            # What this node is: skipped, a key, or a value at `path`.
            container = parent.container
            if parent.skip:
                path = None
            elif type(container) is dict:
                key, parent.key = parent.key, _SKIP
                if key is _EXPECT_KEY:  # a key: the next node is its value
                    if kind is yaml.ScalarEvent:
                        parent.key = self._key(event, parent, resolve)
                    elif kind is yaml.AliasEvent:
                        self._alias(event, parent.path)
                    else:
                        self._add(mark, parent.path,
                                  "a key must be a plain word, not a list or mapping")
                    path = None
                else:  # a value: `key` is its path, or _SKIP
                    parent.key = _EXPECT_KEY
                    path = None if key is _SKIP else key
            else:
                path = parent.path + (len(container),) if parent is not root else ()

            if path is None:  # nothing of it is kept, but its depth still counts
                if opens:
                    parent = _Frame(None, (), True)
                    stack.append(parent)
                continue
            count += 1
            if count > MAX_NODES:
                raise self._stop(mark, f"too many values (the limit is {MAX_NODES:,}; a case "
                                       "file holds a few dozen): is it the right file?")
            positions[path] = (mark.line + 1, mark.column + 1)
            frame = None
            if kind is yaml.ScalarEvent:
                value = self._scalar(event, path, resolve)
            elif opens:
                value = [] if kind is yaml.SequenceStartEvent else {}
                if event.tag not in (None, "!", _SEQ if kind is yaml.SequenceStartEvent
                                     else _MAP):
                    self._add(mark, path, _tag_refused(event.tag))
                    value = None
                frame = _Frame(value, path, value is None)
            else:  # an alias
                value = None
                self._alias(event, path)
            if type(container) is dict:
                container[path[-1]] = value
            else:
                container.append(value)
            if frame is not None:
                stack.append(frame)
                parent = frame

    def _key(self, event: Any, parent: _Frame, resolve: Any) -> Any:
        """The path of the key a scalar names in `parent`, or _SKIP (with a problem) if the
        key is refused.

        A key is its text as written: `1:` and `true:` are the keys '1' and 'true'."""
        yaml = _yaml()[0]
        mark, path = event.start_mark, parent.path
        tag = event.tag
        if tag is not None:  # untagged, it resolves to one of _SCALAR_TAGS: no need to ask
            if tag == "!":
                tag = resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag == "tag:yaml.org,2002:merge":
                self._add(mark, path, "merge keys ('<<') are not supported")
                return _SKIP
            if tag not in _SCALAR_TAGS:
                self._add(mark, path, _tag_refused(tag))
                return _SKIP
        key = event.value
        here = path + (key,)
        first = self.key_positions.get(here)
        if first is not None:
            self.problems.append(Problem(
                self.name, mark.line + 1, mark.column + 1, dotted(here),
                f"duplicate key '{printable(key)}' (first given on line {first[0]}); "
                "each key may appear only once"))
            return _SKIP
        self.key_positions[here] = (mark.line + 1, mark.column + 1)
        return here

    def _scalar(self, event: Any, path: Path_, resolve: Any) -> Any:
        yaml = _yaml()[0]
        tag, value = event.tag, event.value
        if tag is None:  # what the loader's resolve does, without its generality
            if not event.implicit[0]:  # quoted or a block scalar: text
                return value
            for candidate, regexp in _IMPLICIT.get(value[:1], ()):
                if regexp.match(value):
                    tag = candidate
                    break
            else:
                return value
        elif tag == "!":
            tag = resolve(yaml.ScalarNode, value, event.implicit)
        convert = _SCALAR_TAGS.get(tag)
        if convert is None:
            self._add(event.start_mark, path, _tag_refused(tag))
            return None
        try:
            return convert(value)
        except ValueError:
            kind = tag.rsplit(":", 1)[-1]
            self._add(event.start_mark, path, f"'{printable(value)}' is not a valid {kind}")
            return None

    def _alias(self, event: Any, path: Path_) -> None:
        # The whole tree is suspect once an alias is used: no echo messages at its top.
        self.voided.update((dotted(path), ""))
        # one problem per anchor, where it is first used, counting the other uses: the
        # same problem forty times says nothing more
        anchor = event.anchor
        first = self._aliases.get(anchor)
        if first is not None:
            first[1] += 1
            return
        if len(self._aliases) >= _MAX_ALIAS_PROBLEMS:
            return
        self._aliases[anchor] = [len(self.problems), 0]
        self.problems.append(Problem(
            self.name, event.start_mark.line + 1, event.start_mark.column + 1, "",
            _alias_refused(anchor, 0)))

    def counted(self) -> list[Problem]:
        """The problems found, each alias's with the number of its other uses."""
        out = list(self.problems)
        for anchor, (index, more) in self._aliases.items():
            if more:
                out[index] = replace(out[index], message=_alias_refused(anchor, more))
        return out


def _alias_refused(anchor: str, more: int) -> str:
    again = f" (it is used {more} more time{'s' if more != 1 else ''} after this)" if more \
        else ""
    return (f"alias '*{printable(anchor)}': anchors and aliases ('&', '*') are not supported; "
            f"write the value out{again}")


def _tag_refused(tag: str) -> str:
    """Why a YAML tag is refused, the tag written as in the file ('!!binary')."""
    shown = "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag
    return (f"the YAML tag '{printable(shown)}' is not allowed; write the plain value, "
            "without a '!' tag")


_CORE = "tag:yaml.org,2002:"


# ------------------------------------------------------------------ comments


@record
class Comment:
    """A comment of a YAML text: its line (1-based), its text from the '#', and whether it
    stands on a line of its own (else it follows a value on its line)."""

    line: int
    text: str
    own_line: bool


def comments(text: str) -> list[Comment]:
    """Every comment of a YAML text, in order: a '#' that starts a line or follows a blank
    outside every token the scanner reads (a quoted value, a block scalar). [] for a text
    that does not scan (it was read before, so that is not expected)."""
    covered: dict[int, int] = {}  # line (0-based) -> where its last token ends
    yaml, base, _ = _yaml()
    try:
        for token in yaml.scan(text, Loader=base):
            start, end = token.start_mark, token.end_mark
            for line in range(start.line, end.line + 1):
                upto = end.column if line == end.line else 1 << 30
                if upto > covered.get(line, -1):
                    covered[line] = upto
    except yaml.YAMLError:
        return []
    found = []
    for number, line in enumerate(text.split("\n")):
        start = max(covered.get(number, 0), 0)
        at = line.find("#", start)
        while at > 0 and line[at - 1] not in " \t":
            at = line.find("#", at + 1)
        if at >= 0:
            found.append(Comment(number + 1, line[at:].rstrip("\r"), not line[:at].strip()))
    return found


# ------------------------------------------------------------------ JSON
#
# A case file may be JSON (a case-management system's export) and a caseload JSONL (one
# case per line). JSON gives the same `Document` as YAML, with the same limits (size, depth,
# values), duplicate keys refused where the second is written, and a position for every
# key and value, so that validation, its located problems and the reports are shared.
#
# Reading is done twice over only when it must be: orjson, else the json module (both C,
# fast), reads a text whose nesting and number of values are bounded by a count of its
# brackets and commas (so that it cannot recurse deeply) and that has no surrogate escape
# (`_orjson_data` says when orjson's reading could differ from the json module's); when
# the json module finds a duplicate key, NaN or Infinity, or any error, or when the text
# is not so bounded, the iterative scanner below reads it instead, and says exactly where
# and what. The scanner
# also gives the positions, only when something asks for one (a problem to locate).

JSON_SUFFIX = ".json"
JSONL_SUFFIX = ".jsonl"

_JSON_WS = re.compile(r"[ \t\n\r]*")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_JSON_WORD = re.compile(r"-?[A-Za-z_][A-Za-z0-9_]*|-?[0-9][A-Za-z0-9_.+-]*")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile(r"\r\n?|\n")
_NOT_JSON_CONSTANTS = ("NaN", "Infinity", "-Infinity")
_JSON_LITERALS = {"true": True, "false": False, "null": None}


def is_json_name(path: Path | str) -> bool:
    """Whether a file is read as JSON (`.json`, in any case)."""
    return str(path).lower().endswith(JSON_SUFFIX)


def is_jsonl_name(path: Path | str) -> bool:
    """Whether a file is a JSONL caseload (`.jsonl`, in any case): one case per line."""
    return str(path).lower().endswith(JSONL_SUFFIX)


def read_case_document(path: Path | str, *, error: type[UserError] = CaseFileError,
                       display_name: str | None = None) -> Document:
    """One case document from a path of any accepted kind: a `.json` file as JSON, any
    other as YAML (whatever its name: a file named on the command line is always read)."""
    if is_json_name(path):
        return read_json_file(path, error=error, display_name=display_name)
    return read_yaml_file(path, error=error, display_name=display_name)


def read_json_file(path: Path | str, *, error: type[UserError] = CaseFileError,
                   display_name: str | None = None) -> Document:
    """Read one JSON file safely, as `read_yaml_file` reads YAML."""
    name = display_name or str(path)
    raw = read_file_bytes(path, error=error, display_name=name, kind="JSON")
    doc = parse_json_bytes(raw, name, error=error)
    return replace(doc, raw=raw, sha256=hashlib.sha256(raw).hexdigest())


def parse_json_bytes(raw: bytes, name: str, *, error: type[UserError] = CaseFileError,
                     first_line: int = 1) -> Document:
    """Decode (UTF-8, an optional byte-order mark is accepted) and parse one JSON value.
    `first_line`: the line of the file the bytes start on (a JSONL line)."""
    text = _decoded(raw, name, error, "JSON", first_line)
    return parse_json_text(text, name, error=error, first_line=first_line)


def parse_json_text(text: str, name: str, *, error: type[UserError] = CaseFileError,
                    first_line: int = 1) -> Document:
    """Parse one JSON value from text into plain data with positions (see above)."""
    import json

    opened = text.count("{") + text.count("[")  # at least the depth, and the containers
    if opened <= MAX_DEPTH and opened + text.count(",") < MAX_NODES \
            and not _SURROGATE_ESCAPE.search(text):
        data = _orjson_data(text)
        if data is not _NOT_READ:
            found = _Located(text, name, error, first_line)
            return Document(name, data, _Positions(found, 0), _Positions(found, 1),  # type: ignore[arg-type]
                            (), _NO_PATHS, b"", "")
        duplicates = []

        def pairs(items: list) -> dict:
            out = dict(items)
            if len(out) != len(items):
                duplicates.append(True)
            return out

        def constant(word: str) -> None:
            raise ValueError(word)

        try:
            data = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
        except (ValueError, RecursionError):  # RecursionError: not expected, depth bounded
            pass
        else:
            if not duplicates:
                found = _Located(text, name, error, first_line)
                return Document(name, data, _Positions(found, 0), _Positions(found, 1),  # type: ignore[arg-type]
                                (), _NO_PATHS, b"", "")
    return _JsonScanner(text, name, error, first_line).document()


_NOT_READ = object()
_ORJSON: Any = None  # orjson's loads and its error, once imported (False: not installed)


def _orjson_data(text: str) -> Any:
    """The data of a bounded JSON text as the json module reads it, read by orjson (ten
    times faster), or _NOT_READ where the two could differ, for the json module to read:
    any error (orjson refuses NaN and Infinity, which the json module reads and the caller
    refuses); a number that is not an integer, or an integer beyond 64 bits (orjson gives
    a float for it); a duplicate key (orjson keeps the last one, silently). Keys are
    counted: every ':' outside a string separates a key from its value, so when the keys
    read equal the ':' of the whole text, no key was written twice (a ':' in a string
    makes the count differ: then the json module reads it)."""
    global _ORJSON
    if _ORJSON is None:
        try:
            import orjson

            _ORJSON = (orjson.loads, orjson.JSONDecodeError)
        except ImportError:  # pragma: no cover - orjson is a dependency
            _ORJSON = False
    if not _ORJSON:
        return _NOT_READ
    loads, failed = _ORJSON
    try:
        data = loads(text)
    except failed:
        return _NOT_READ
    return data if _keys_if_plain(data) == text.count(":") else _NOT_READ


def _keys_if_plain(value: Any) -> int:
    """The number of keys in a JSON value read by orjson, or -1 if it holds a float or an
    integer beyond 64 bits (the depth is bounded by the caller)."""
    cls = value.__class__
    if cls is dict:
        items: Any = value.values()
        total = len(value)
    elif cls is list:
        items, total = value, 0
    elif cls is float or (cls is int and not -_INT64 <= value < _INT64):
        return -1
    else:
        return 0
    if _TEXTS.issuperset(map(type, items)):  # the most common: nothing more inside
        return total
    for item in items:
        if item.__class__ not in _TEXTS:
            found = _keys_if_plain(item)
            if found < 0:
                return -1
            total += found
    return total


_TEXTS = frozenset({str, bool, type(None)})
_INT64 = 2 ** 63


class _Located:
    """The positions of a JSON text, found by the scanner when first asked for."""

    __slots__ = ("args", "tables")

    def __init__(self, *args: Any):
        self.args = args
        self.tables: tuple[dict, dict] | None = None

    def table(self, which: int) -> dict:
        if self.tables is None:
            try:
                doc = _JsonScanner(*self.args).document()
                self.tables = (doc.value_positions, doc.key_positions)
            except UserError:  # not expected (the json module read it): no positions then
                self.tables = ({}, {})
        return self.tables[which]


class _Positions:
    """A read-only mapping of positions (values: 0, keys: 1) computed on first use."""

    __slots__ = ("found", "which")

    def __init__(self, found: _Located | _Lazy, which: int):
        self.found, self.which = found, which

    def __getitem__(self, path: Path_) -> tuple[int, int]:
        return self.found.table(self.which)[path]

    def __contains__(self, path: object) -> bool:
        return path in self.found.table(self.which)

    def get(self, path: Path_, default: Any = None) -> Any:
        return self.found.table(self.which).get(path, default)

    def __iter__(self):
        return iter(self.found.table(self.which))

    def __len__(self) -> int:
        return len(self.found.table(self.which))

    def items(self):
        return self.found.table(self.which).items()

    def keys(self):
        return self.found.table(self.which).keys()

    def __eq__(self, other: object) -> bool:
        return dict(self.items()) == (dict(other.items()) if hasattr(other, "items")
                                      else other)

    __hash__ = None  # type: ignore[assignment]


class _JsonStop(Exception):
    """Reading stops: a syntax error, or a limit met."""


class _JsonScanner:
    """Reads one JSON value without recursion, with the position of every key and value,
    every duplicate key, lone surrogate and number too long to read as a problem (the
    document stays usable, as a YAML one does), and a syntax error or a limit met as the
    problem that stops reading."""

    def __init__(self, text: str, name: str, error: type[UserError], first_line: int = 1):
        self.text, self.name, self.error, self.first_line = text, name, error, first_line
        self.problems: list[Problem] = []
        self.voided: set[str] = set()
        self.value_positions: dict[Path_, tuple[int, int]] = {}
        self.key_positions: dict[Path_, tuple[int, int]] = {}
        self._starts: list[int] | None = None

    # -- positions

    def where(self, offset: int) -> tuple[int, int]:
        """Line and column (1-based, the column in characters) of an offset."""
        import bisect

        if self._starts is None:
            self._starts = [0] + [m.end() for m in _LINE_BREAK.finditer(self.text)]
        index = bisect.bisect_right(self._starts, offset) - 1
        return self.first_line + index, offset - self._starts[index] + 1

    def _add(self, offset: int, path: Path_, message: str, *, void: bool = True) -> None:
        if void:
            self.voided.add(dotted(path))
        line, column = self.where(offset)
        self.problems.append(Problem(self.name, line, column, dotted(path), message))

    def _stop(self, offset: int, message: str, *, syntax: bool = True) -> _JsonStop:
        line, column = self.where(offset)
        self.problems.append(Problem(self.name, line, column, "",
                                     f"JSON syntax error: {message}" if syntax else message))
        return _JsonStop()

    # -- reading

    def document(self) -> Document:
        try:
            data = self._read()
        except _JsonStop:
            raise self.error(self.problems) from None
        return Document(self.name, data, self.value_positions, self.key_positions,
                        tuple(self.problems), frozenset(self.voided))

    def _read(self) -> Any:
        text = self.text
        end = len(text)
        ws = _JSON_WS.match
        pos = ws(text, 0).end()
        if text.startswith("\ufeff"):  # a byte-order mark decoded as text
            pos = ws(text, 1).end()
        if pos == end:
            raise self.error(Problem(self.name, None, None, "", "the file is empty: expected "
                                     "a JSON object, '{' ... '}'"))
        # a frame: [container (dict, list, or None when skipped), path, opening offset]
        stack: list[list] = []
        root: list = []
        count = 0
        path: Path_ | None = ()  # where the next value goes; None: it is not kept
        while True:
            # ---- a value at `pos`, for `path`
            pos = ws(text, pos).end()
            if pos == end:
                raise self._unclosed(stack, pos)
            char = text[pos]
            if path is not None:
                count += 1
                if count > MAX_NODES:
                    raise self._stop(pos, f"too many values (the limit is {MAX_NODES:,}; a "
                                          "case file holds a few dozen): is it the right "
                                          "file?", syntax=False)
                self.value_positions[path] = self.where(pos)
            if char == "{" or char == "[":
                if len(stack) >= MAX_DEPTH:
                    raise self._stop(pos, f"too deeply nested (more than {MAX_DEPTH} levels)",
                                     syntax=False)
                value: Any = None if path is None else ({} if char == "{" else [])
                self._put(stack, root, path, value)
                stack.append([value, path, pos])
                pos = ws(text, pos + 1).end()
                closer = "}" if char == "{" else "]"
                if pos < end and text[pos] == closer:
                    stack.pop()
                    pos += 1
                elif char == "{":
                    pos, path = self._key(stack[-1], pos)
                    continue
                else:
                    path = None if value is None else path + (0,)
                    continue
            else:
                value, pos = self._scalar(pos, path)
                self._put(stack, root, path, value)
            # ---- after a value: a ',' and the next, or the end of containers
            while True:
                pos = ws(text, pos).end()
                if not stack:
                    if pos != end:
                        raise self._stop(pos, "more text after the end of the JSON value: a "
                                              "case file holds one object (a caseload of "
                                              "several cases is a .jsonl file, one case per "
                                              "line)")
                    return root[0]
                frame = stack[-1]
                is_dict = type(frame[0]) is dict or (frame[0] is None and
                                                     text[frame[2]] == "{")
                closer = "}" if is_dict else "]"
                if pos == end:
                    raise self._unclosed(stack, pos)
                char = text[pos]
                if char == closer:
                    stack.pop()
                    pos += 1
                    continue
                if char != ",":
                    raise self._stop(pos, f"expected ',' or '{closer}', found "
                                          f"{self._found(pos)}{self._hint(pos, closer)}")
                comma = pos
                pos = ws(text, pos + 1).end()
                if pos < end and text[pos] in "}]":
                    raise self._stop(comma, f"a ',' before '{text[pos]}': JSON allows no "
                                            "comma after the last item; delete it")
                if is_dict:
                    pos, path = self._key(frame, pos)
                else:
                    container = frame[0]
                    path = None if container is None else frame[1] + (len(container),)
                break

    def _put(self, stack: list, root: list, path: Path_ | None, value: Any) -> None:
        if path is None:
            return
        if not stack:
            root.append(value)
            return
        container = stack[-1][0]
        if type(container) is dict:
            container[path[-1]] = value
        else:
            container.append(value)

    def _key(self, frame: list, pos: int) -> tuple[int, Path_ | None]:
        """Read a key and its ':' at `pos`; the position after it and the path of its value
        (None when the value is not kept: a duplicate, or a refused key)."""
        text = self.text
        if pos >= len(text):
            raise self._unclosed([frame], pos)
        if text[pos] != '"':
            found = self._found(pos)
            if text[pos] == "'":
                raise self._stop(pos, "a key in single quotes: JSON writes keys in double "
                                      "quotes (\")")
            raise self._stop(pos, f"expected a key in double quotes, found {found}"
                                  f"{self._hint(pos, '}')}")
        key, after = self._string(pos)
        path: Path_ | None = None
        parent = frame[1]
        if frame[0] is not None and key is not None:
            here = parent + (key,)
            first = self.key_positions.get(here)
            if first is not None:
                line, column = self.where(pos)
                earlier = (f"first given at column {first[1]} of this line"
                           if first[0] == line else f"first given on line {first[0]}")
                self.problems.append(Problem(
                    self.name, line, column, dotted(here),
                    f"duplicate key '{printable(key)}' ({earlier}); each key may appear "
                    "only once"))
            else:
                self.key_positions[here] = self.where(pos)
                path = here
        elif frame[0] is not None:  # a lone surrogate: refused where it is
            self._add(pos, parent, "the key holds a lone surrogate escape (half of a pair "
                                   "of \\u escapes): write the character itself, or both "
                                   "halves of its pair")
        pos = _JSON_WS.match(text, after).end()
        if pos >= len(text) or text[pos] != ":":
            if pos >= len(text):
                raise self._unclosed([frame], pos)
            raise self._stop(pos, f"expected ':' after the key, found {self._found(pos)}")
        return pos + 1, path

    def _string(self, pos: int) -> tuple[str | None, int]:
        """The string starting at `pos` (its '"') and the offset after it; None for a string
        holding a lone surrogate (the caller reports it)."""
        import json

        text = self.text
        try:
            value, after = json.decoder.scanstring(text, pos + 1, True)
        except json.JSONDecodeError as exc:
            message = exc.msg
            at = exc.pos
            if message.startswith("Unterminated string"):
                raise self._stop(pos, "a string is never closed: add its closing '\"'") \
                    from None
            if message.startswith("Invalid control character"):
                raise self._stop(at, f"the character U+{ord(text[at]):04X} cannot be written "
                                     "as it is inside a JSON string (a line break or tab "
                                     "must be written \\n or \\t)") from None
            if message.startswith("Invalid \\uXXXX"):
                raise self._stop(at, "a \\u escape needs four hexadecimal digits") from None
            raise self._stop(at, "an escape JSON does not know: write \\\\ for a backslash "
                                 "(the escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)") \
                from None
        if _SURROGATE.search(value):
            return None, after
        return value, after

    def _scalar(self, pos: int, path: Path_ | None) -> tuple[Any, int]:
        text = self.text
        char = text[pos]
        if char == '"':
            value, after = self._string(pos)
            if value is None and path is not None:
                self._add(pos, path, "a lone surrogate escape (half of a pair of \\u "
                                     "escapes, which together write one character): write "
                                     "the character itself, or both halves of its pair")
            return value, after
        word = _JSON_WORD.match(text, pos)
        if word is not None and word.group() in _JSON_LITERALS:
            return _JSON_LITERALS[word.group()], word.end()
        number = _JSON_NUMBER.match(text, pos)
        if word is not None and word.group() in _NOT_JSON_CONSTANTS:
            raise self._stop(pos, f"{word.group()} is not a JSON value: write a number, or "
                                  "null")
        if number is not None and (word is None or word.end() <= number.end()):
            digits = number.group()
            try:
                if number.group(1) is None and number.group(2) is None:
                    return int(digits), number.end()
                return float(digits), number.end()
            except ValueError:  # over Python's 4,300 digits
                if path is not None:
                    self._add(pos, path, f"a number of {len(digits):,} digits: too long to "
                                         "read (over 4,300 digits)")
                return None, number.end()
        if char == "'":
            raise self._stop(pos, "a text in single quotes: JSON writes texts in double "
                                  "quotes (\")")
        if word is not None:
            shown = word.group()
            shown = printable(shown if len(shown) <= 40 else shown[:40] + "...")
            raise self._stop(pos, f"'{shown}' is not a JSON value: write true, false, null, "
                                  "a number, or a text in double quotes")
        raise self._stop(pos, f"expected a value, found {self._found(pos)}"
                              f"{self._hint(pos, '')}")

    def _found(self, pos: int) -> str:
        char = self.text[pos]
        if char.isprintable() and not char.isspace():
            return f"'{char}'"
        return f"U+{ord(char):04X} {unicodedata.name(char, 'CONTROL CHARACTER')}"

    def _hint(self, pos: int, closer: str) -> str:
        char = self.text[pos]
        if char in "/#":
            return " (JSON has no comments: delete it)"
        if char == "'":
            return " (JSON writes texts in double quotes)"
        if closer and char in "}]" and char != closer:
            return f" (a '{'{' if closer == '}' else '['}' is closed by '{closer}')"
        if char == '"' and closer:
            return " (is a ',' missing before it?)"
        return ""

    def _unclosed(self, stack: list, pos: int) -> _JsonStop:
        if not stack:
            return self._stop(pos, "the text ends where a value is expected")
        opened = stack[-1][2]
        line, _ = self.where(opened)
        kind, closer = ("an object", "}") if self.text[opened] == "{" else ("a list", "]")
        return self._stop(pos, f"the text ends inside {kind} opened on line {line}: a "
                               f"'{closer}' is missing")


def jsonl_lines(path: Path | str, *, error: type[UserError] = CaseFileError,
                display_name: str | None = None):
    """Each case of a JSONL caseload, in order: (its line number, its Document, or the
    UserError that refuses that line). Blank lines (spaces only) are skipped. A file that
    cannot be opened raises `error`.

    The file may be of any size; each line is a case file of its own, with a case file's
    limits (1 MiB, the depth, the number of values): a longer line is refused (and read
    past, never held). Positions are the file's own: line numbers count every line."""
    name = display_name or str(path)
    fd, _ = open_regular(path, error=error, display_name=name, kind="JSONL")
    with os.fdopen(fd, "rb") as stream:
        number = 0
        while True:
            try:
                line = stream.readline(MAX_BYTES + 1)
            except OSError as exc:
                raise error(Problem(name, number + 1, None, "", _os_reason(exc))) from None
            if not line:
                return
            number += 1
            if len(line) > MAX_BYTES and not line.endswith(b"\n"):
                while True:  # the rest of the line, in pieces, not kept
                    more = stream.readline(65_536)
                    if not more or more.endswith(b"\n"):
                        break
                yield number, error(Problem(
                    name, number, None, "",
                    f"line is longer than the limit of {MAX_BYTES:,} bytes (1 MiB) for one "
                    "case"))
                continue
            if not line.strip(b" \t\r\n"):
                continue
            if number == 1 and line.startswith(codecs.BOM_UTF8):
                line = line[3:]
            try:
                yield number, parse_json_bytes(line, name, error=error, first_line=number)
            except UserError as exc:
                yield number, exc
