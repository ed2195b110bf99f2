"""The compiled rule sets, cached on disk, so that a cold `evaluate CASE` parses no rule
YAML and builds no model; and the record that `rules check` passed a rules folder, so that
loading (which applies no rule set the check rejects) runs the check once per version.

A bundle holds, for one rules folder, everything the fast path (cli/fast.py) needs as plain
data: the catalog's editions, the plain reading of case files, and for every encoded
edition its compiled program (tables and report fragments as bytes) and the words of its
text report. Its name is a hash of the folder's catalog and path, of riskassess's own code
and of the Python version; it lists the files of the rule sets (the catalog, what it and
each edition.yaml name, the vocabulary) with the sha256 of each, and is used only if every
one still has those bytes. Nothing else in the folder is read: a stray file is not part of
the rule set (`rules check` reports it).

Where: $RISKASSESS_CACHE_DIR (absolute, not the root), else $XDG_CACHE_HOME/riskassess,
else $HOME/.cache/riskassess; RISKASSESS_CACHE_DIR=off turns the cache off. XDG_CACHE_HOME
and HOME count only when they are absolute paths of existing folders owned by the user (and
not the root of the file system): with neither, there is no cache, and no home or folder at
the root is ever made.

The cache is never needed: a bundle that is missing, unreadable, corrupt (its bytes do not
match the sha256 written before them), not owned by the user or writable by others is
ignored (and the slow path runs and rebuilds it); one that cannot be written is not
written. It is a pickle, so it is only ever read from a folder only the user can write,
and only after its digest matched.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from riskassess.record import field, record

FORMAT = 4
MAGIC = b"riskassess-bundle 4\n"  # then the sha256 of the pickle (32 bytes), then the pickle
MAX_BYTES = 64 * 1024 * 1024
KEEP = 8  # bundles kept in the folder (the most recent)
KEEP_CHECKED = 32  # records of a check passed


class Programs:
    """Edition id -> compiled Program, as a dict is read (`get`, `[]`, `in`), each program
    unpickled only when it is first asked for: a cold start assesses one case under one
    edition, and unpickling the others would cost it as much again."""

    def __init__(self) -> None:
        self._made: dict[str, Any] = {}
        self._packed: dict[str, bytes] = {}

    def __setitem__(self, edition: str, program: Any) -> None:
        self._packed.pop(edition, None)
        self._made[edition] = program

    def __getitem__(self, edition: str) -> Any:
        found = self.get(edition, _NONE)
        if found is _NONE:
            raise KeyError(edition)
        return found

    def get(self, edition: str, default: Any = None) -> Any:
        found = self._made.get(edition, _NONE)
        if found is _NONE:
            packed = self._packed.pop(edition, None)
            if packed is None:
                return default
            found = self._made[edition] = pickle.loads(packed)  # noqa: S301 (the bundle's)
        return found

    def __contains__(self, edition: object) -> bool:
        return edition in self._made or edition in self._packed

    def __len__(self) -> int:
        return len(self._made) + len(self._packed)

    def __getstate__(self) -> dict[str, bytes]:
        return {**self._packed, **{e: pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL)
                                   for e, p in self._made.items()}}

    def __setstate__(self, state: dict[str, bytes]) -> None:
        self._made, self._packed = {}, dict(state)


_NONE: Any = object()


@record(frozen=False)
class Bundle:
    key: str
    reader_spec: Any  # plain.ReaderSpec
    scope_fact: str
    country: str
    catalog: Any  # editions.Catalog
    several_profiles: bool
    programs: Programs = field(default_factory=Programs)  # edition id -> compiled.Program
    texts: dict[str, Any] = field(default_factory=dict)  # edition id -> layout.TextInfo
    reader: Any = None  # built from reader_spec when loaded
    # the rule sets' files (path relative to the rules folder -> sha256 of its bytes)
    files: dict[str, str] = field(default_factory=dict)
    questions: tuple[str, ...] = ()  # the vocabulary's question ids, in order (a batch's tally)
    rules_dir: str = ""  # the folder it was built from
    # of the files above, those whose bytes were checked against their sha256 when the
    # bundle was written, with their stat signature then (`_signature`): unchanged while
    # it is unchanged (see `_unchanged`)
    stats: dict[str, tuple] = field(default_factory=dict)


# A file whose content or status changed less than this long ago (or in the future) is read
# and hashed, never trusted by its stat signature: an edit within one tick of the file
# system's clock (up to 2 s on some) keeps its modification time.
SETTLED_NS = 3_000_000_000


def _signature(st: os.stat_result) -> tuple:
    """What changes whenever a file's bytes do: size, modification and status-change times
    (the latter no user can set back) and the inode (a file replaced by a rename)."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _settled(st: os.stat_result, now_ns: int) -> bool:
    return max(st.st_mtime_ns, st.st_ctime_ns) < now_ns - SETTLED_NS


def cache_dir() -> Path | None:
    given = os.environ.get("RISKASSESS_CACHE_DIR")
    if given is not None:
        if given.strip().lower() in ("", "off", "0", "no"):
            return None
        # a folder named outright: absolute (a relative one would follow the working folder)
        # and not the root of the file system; else no cache
        if not os.path.isabs(given) or os.path.realpath(given) == os.path.realpath(os.sep):
            return None
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if _usable_base(xdg):
        return Path(xdg) / "riskassess"
    home = os.environ.get("HOME", "")
    if _usable_base(home):
        return Path(home) / ".cache" / "riskassess"
    return None  # no home (HOME unset, empty, /nonexistent...): no cache


def _usable_base(path: str) -> bool:
    """An absolute path of an existing folder owned by this user, not the root."""
    if not path or not os.path.isabs(path):
        return False
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and \
        os.path.realpath(path) != os.path.realpath(os.sep)


@lru_cache(maxsize=1)
def _code() -> bytes:
    """A digest of this package's code and the Python version: a bundle or a check's
    record is valid for them only.

    Of each module, its path and stat signature (`_signature`: a reinstall or an edit
    changes it), not its bytes, so that a cold start reads no code to hash; a module
    changed in the last seconds (`SETTLED_NS`) is hashed by its bytes as well, so that two
    versions written within one tick of the clock never share a digest."""
    h = hashlib.sha256(f"riskassess {FORMAT} {sys.version}".encode())
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    now = time.time_ns()
    found = []
    for folder, dirs, names in os.walk(package):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found += [os.path.join(folder, n) for n in names if n.endswith(".py")]
    for path in sorted(found):
        st = os.stat(path)
        h.update(os.path.relpath(path, package).encode() + b"\0")
        h.update(repr(_signature(st)).encode() + b"\0")
        if not _settled(st, now):
            with open(path, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    return h.digest()


def key(rules_dir: Path) -> str | None:
    """The name of a rules folder's bundle: a hash of its catalog's bytes and its path,
    this package's code and the Python version; None when the catalog is not a file the
    reader would read (then there is no bundle, and the slow path says what is wrong)."""
    from riskassess.errors import UserError
    from riskassess.io.reader import read_file_bytes

    h = hashlib.sha256(b"riskassess-bundle\0" + _code())
    h.update(os.path.realpath(rules_dir).encode() + b"\0")
    try:  # the one safe reader: it never blocks and never reads without bound
        h.update(read_file_bytes(Path(rules_dir) / "editions.yaml"))
    except UserError:
        return None
    return h.hexdigest()


def _unchanged(rules_dir: Path, files: dict[str, str], stats: dict[str, tuple]) -> bool:
    """Whether every file of a bundle's rule sets still has the bytes it was built from:
    a file with the stat signature it had when its bytes were checked (`stats`: settled
    then, so any write since has changed its status-change time), else its bytes' sha256
    (read by the safe reader: a file that became a FIFO or grew past the limit fails)."""
    from riskassess.errors import UserError
    from riskassess.io.reader import read_file_bytes

    if not files:
        return False
    for name, digest in files.items():
        path = rules_dir / name
        known = stats.get(name)
        if known is not None:
            try:
                st = os.stat(path)
            except OSError:
                return False
            if stat.S_ISREG(st.st_mode) and _signature(st) == known:
                continue
        try:
            data = read_file_bytes(path)
        except UserError:
            return False
        if hashlib.sha256(data).hexdigest() != digest:
            return False
    return True


def _stats(rules_dir: Path, files: dict[str, str]) -> dict[str, tuple]:
    """The stat signatures of the files that are settled and still have the bytes of their
    sha256 (checked between two stats that agree), for `_unchanged`."""
    from riskassess.errors import UserError
    from riskassess.io.reader import read_file_bytes

    now = time.time_ns()
    out = {}
    for name, digest in files.items():
        path = rules_dir / name
        try:
            before = os.stat(path)
            if not stat.S_ISREG(before.st_mode) or not _settled(before, now):
                continue
            data = read_file_bytes(path)
            after = os.stat(path)
        except (OSError, UserError):
            continue
        if _signature(before) == _signature(after) and \
                hashlib.sha256(data).hexdigest() == digest:
            out[name] = _signature(after)
    return out


def _safe_folder(folder: Path) -> bool:
    """A folder only this user can write (so that nobody else can plant a pickle); a
    symlink counts as the folder it leads to."""
    try:
        st = os.stat(os.path.realpath(folder))
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and \
        not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _own_file(path: Path) -> os.stat_result | None:
    """A regular file of this user that nobody else can write, or None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or \
            st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    return st


def load(rules_dir: Path) -> Bundle | None:
    """The bundle of a rules folder, or None (no cache, none yet, or one not to trust)."""
    folder = cache_dir()
    if folder is None or not _safe_folder(folder):
        return None
    rules_dir = Path(rules_dir)
    try:
        wanted = key(rules_dir)
        if wanted is None:
            return None
        path = folder / f"{wanted}.pickle"
        st = _own_file(path)
        if st is None or st.st_size > MAX_BYTES:
            return None
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
        head = len(MAGIC) + 32
        # the digest first: a pickle whose bytes changed (a disk error) is never unpickled
        if len(data) > MAX_BYTES or not data.startswith(MAGIC) or \
                hashlib.sha256(memoryview(data)[head:]).digest() != data[len(MAGIC):head]:
            return None
        found = pickle.loads(memoryview(data)[head:])  # noqa: S301 (only this user's)
    except Exception:  # missing, unreadable or corrupt: the slow path runs
        return None
    if not isinstance(found, Bundle) or found.key != wanted or \
            not _unchanged(rules_dir, found.files, found.stats):
        return None
    from riskassess.law.plain import plain_reader

    found.reader = plain_reader(found.reader_spec)
    return found


# ------------------------------------------------------------- sound rule sets


@record(frozen=False)
class Sound:
    """A rules folder as every command but `rules check` loads it: its catalog and its
    encoded rule sets, which the check passed."""

    catalog: Any  # ruleset.Catalog
    rulesets: dict[str, Any]  # edition id -> RuleSet, in catalog order
    files: dict[str, str]  # ruleset.rule_set_files


_PROVED: set[str] = set()  # digests of rule-set versions the check passed, this process


def forget() -> None:
    """Forget what this process proved (for tests)."""
    _PROVED.clear()


def check_errors(rules_dir: Path) -> Any:
    """`rules check` of a folder (engine/check.py): the one validator."""
    from riskassess.engine.check import check_path

    return check_path(rules_dir)


def sound(rules_dir: Path) -> Sound:
    """Load a rules folder's catalog and rule sets, and refuse them (RuleSetError, exit 4)
    with the errors `rules check` reports, whatever they are; the findings on files no
    edition names (stray files) excepted, since nothing here reads them.

    The check runs once per version of the rule sets: it is recorded as passed for the
    sha256 of exactly the files it checked (with this package's code) in this process and,
    when there is a cache folder, on disk."""
    from riskassess.errors import Problem, RuleSetError
    from riskassess.law.ruleset import (
        edition_folders,
        load_catalog,
        rule_set_files,
        ruleset_for,
    )

    rules_dir = Path(rules_dir)
    for _ in range(3):
        catalog, doc = load_catalog(rules_dir)
        rulesets = {e.id: ruleset_for(rules_dir, e) for e in catalog.editions if e.encoded}
        files = rule_set_files(rules_dir, doc, list(rulesets.values()))
        folders = edition_folders(rules_dir)
        digest = _version(files, folders)
        found = Sound(catalog, rulesets, files)
        if digest in _PROVED or _passed(digest):
            _PROVED.add(digest)
            return found
        result = check_errors(rules_dir)
        errors = [f for f in result.errors if not f.stray]
        if errors:
            raise RuleSetError([Problem(f.file, f.line or None, f.column or None, f.subject,
                                        f.message) for f in errors])
        if _version(result.files, edition_folders(rules_dir)) == digest:
            _PROVED.add(digest)
            _record(digest)
            return found
        # a file changed between loading and checking: load again
    raise RuleSetError(f"the rules folder {rules_dir} changed while it was being checked; "
                       "run the command again")


def sound_ruleset(rules_dir: Path, entry: Any) -> Any:
    """The rule set of one encoded catalog entry, from a sound rules folder."""
    return sound(rules_dir).rulesets[entry.id]


def _version(files: dict[str, str], folders: tuple[str, ...]) -> str:
    from riskassess.law.ruleset import files_digest

    return hashlib.sha256(_code() + files_digest(files).encode() + b"\0"
                          + "\0".join(folders).encode()).hexdigest()


def _passed(digest: str) -> bool:
    folder = cache_dir()
    return folder is not None and _safe_folder(folder) and \
        _own_file(folder / f"checked-{digest}") is not None


def _record(digest: str) -> None:
    folder = cache_dir()
    if folder is None or not _make(folder):
        return
    with _quietly():
        os.close(os.open(folder / f"checked-{digest}", os.O_WRONLY | os.O_CREAT, 0o600))
        records = sorted(folder.glob("checked-*"), key=lambda p: p.stat().st_mtime,
                         reverse=True)
        for old in records[KEEP_CHECKED:]:
            old.unlink()


def _make(folder: Path) -> bool:
    """Make the cache folder, private, if missing (and its parent, as $HOME/.cache, but
    never a folder whose parent does not exist or is the root); whether it is safe."""
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except FileNotFoundError:
        parent = folder.parent
        if parent.parent == parent or os.path.realpath(parent.parent) == os.sep or \
                not parent.parent.is_dir():
            return False
        try:
            parent.mkdir(mode=0o700)
            folder.mkdir(mode=0o700)
        except OSError:
            return False
    except OSError:
        return False
    return _safe_folder(folder)


def build(rules_dir: Path) -> Bundle:
    """Compile every encoded edition of a sound rules folder (the slow path's work, once)."""
    from riskassess.engine.compiled import program
    from riskassess.law.editions import Catalog, Entry
    from riskassess.law.plain import reader_spec
    from riskassess.law.vocabulary import load_vocabulary
    from riskassess.render.layout import text_info

    found = sound(rules_dir)
    catalog = found.catalog
    vocab = load_vocabulary(Path(rules_dir) / catalog.vocabulary)
    bundle = Bundle(key=key(rules_dir), reader_spec=reader_spec(vocab),
                    scope_fact=vocab.scope.fact, country=vocab.country,
                    catalog=Catalog(tuple(Entry.of(e) for e in catalog.editions)),
                    several_profiles=len({e.profile for e in catalog.editions}) > 1,
                    files=found.files, questions=tuple(vocab.question_ids),
                    rules_dir=str(rules_dir))
    for entry_id, rs in found.rulesets.items():
        bundle.programs[entry_id] = program(rs)
        bundle.texts[entry_id] = text_info(rs)
    return bundle


def save(bundle: Bundle) -> bool:
    """Write a bundle atomically into the cache folder (made private if missing); False
    when it cannot be (no cache, a folder others can write, a full disk...)."""
    folder = cache_dir()
    if folder is None or bundle.key is None:
        return False
    try:
        if not _make(folder):
            return False
        if bundle.rules_dir:
            bundle.stats = _stats(Path(bundle.rules_dir), bundle.files)
        reader, bundle.reader = bundle.reader, None
        try:
            data = pickle.dumps(bundle, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            bundle.reader = reader
        data = MAGIC + hashlib.sha256(data).digest() + data
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".bundle-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, folder / f"{bundle.key}.pickle")
        except BaseException:
            with _quietly():
                os.unlink(tmp)
            raise
        _prune(folder)
        return True
    except (OSError, pickle.PicklingError):
        return False


def ensure(rules_dir: Path) -> None:
    """Build and save the bundle of a rules folder if the cache has none (after a command
    that ran the slow path: the next cold start is fast). Never fails the command."""
    if cache_dir() is None:
        return
    try:
        if key(rules_dir) is not None and load(rules_dir) is None:
            save(build(rules_dir))
    except Exception:  # noqa: S110 (the cache is never needed)
        pass


def _prune(folder: Path) -> None:
    bundles = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in bundles[KEEP:]:
        with _quietly():
            old.unlink()


class _quietly:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> bool:
        return exc[0] is not None and issubclass(exc[0], OSError)
