"""The compiled rule sets, cached on disk, so that a cold `evaluate CASE` parses no rule
YAML and builds no model.

A bundle holds, for one rules folder, everything the fast path (cli/fast.py) needs as plain
data: the catalog's editions, the plain reading of case files, and for every encoded
edition its compiled program (tables and report fragments as bytes) and the words of its
text report. It is keyed by a hash of the rule files' contents, of riskassess's own code
and of the Python version, so any change to either makes a new one.

Where: $RISKASSESS_CACHE_DIR, else $XDG_CACHE_HOME/riskassess, else ~/.cache/riskassess;
RISKASSESS_CACHE_DIR=off turns the cache off. The cache is never needed: a bundle that is
missing, unreadable, corrupt, not owned by the user or writable by others is ignored (and
the slow path runs); one that cannot be written is not written. It is a pickle, so it is
only ever read from a folder only the user can write.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = 1
MAX_BYTES = 64 * 1024 * 1024
KEEP = 8  # bundles kept in the folder (the most recent)


@dataclass
class Bundle:
    key: str
    reader_spec: Any  # plain.ReaderSpec
    scope_fact: str
    country: str
    catalog: Any  # editions.Catalog
    several_profiles: bool
    programs: dict[str, Any] = field(default_factory=dict)  # edition id -> compiled.Program
    texts: dict[str, Any] = field(default_factory=dict)  # edition id -> layout.TextInfo
    reader: Any = None  # built from reader_spec when loaded


def cache_dir() -> Path | None:
    given = os.environ.get("RISKASSESS_CACHE_DIR")
    if given is not None:
        return None if given.strip().lower() in ("", "off", "0", "no") else Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "riskassess"


def key(rules_dir: Path) -> str | None:
    """The hash of what a bundle is made from: the rule files, this package's code and the
    Python version; None when a file of the rules folder is not one the reader would read
    (a device, a FIFO, a file past its size limit): then there is no bundle, and the slow
    path says what is wrong with the folder."""
    from riskassess.errors import UserError
    from riskassess.io.reader import read_file_bytes

    h = hashlib.sha256(f"riskassess-bundle {FORMAT} {sys.version}".encode())
    rules_dir = Path(rules_dir)
    for path in sorted(rules_dir.rglob("*.yaml")):
        h.update(path.relative_to(rules_dir).as_posix().encode() + b"\0")
        try:  # the one safe reader: it never blocks and never reads without bound
            h.update(read_file_bytes(path) + b"\0")
        except UserError:
            return None
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def _safe_folder(folder: Path) -> bool:
    """A folder only this user can write (so that nobody else can plant a pickle); a
    symlink counts as the folder it leads to."""
    try:
        st = os.stat(os.path.realpath(folder))
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and \
        not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load(rules_dir: Path) -> Bundle | None:
    """The bundle of a rules folder, or None (no cache, none yet, or one not to trust)."""
    folder = cache_dir()
    if folder is None or not _safe_folder(folder):
        return None
    try:
        wanted = key(rules_dir)
        if wanted is None:
            return None
        path = folder / f"{wanted}.pickle"
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or \
                st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or st.st_size > MAX_BYTES:
            return None
        with open(path, "rb") as f:
            found = pickle.load(f)  # noqa: S301 (a file only this user can write)
    except Exception:  # missing, unreadable or corrupt: the slow path runs
        return None
    if not isinstance(found, Bundle) or found.key != wanted:
        return None
    from riskassess.law.plain import plain_reader

    found.reader = plain_reader(found.reader_spec)
    return found


def build(rules_dir: Path) -> Bundle:
    """Compile every encoded edition of a rules folder (the slow path's work, once)."""
    from riskassess.engine.compiled import program
    from riskassess.law.editions import Catalog, Entry
    from riskassess.law.plain import reader_spec
    from riskassess.law.ruleset import load_catalog, ruleset_for
    from riskassess.law.vocabulary import load_vocabulary
    from riskassess.render.layout import text_info

    catalog, _ = load_catalog(rules_dir)
    vocab = load_vocabulary(rules_dir / catalog.vocabulary)
    bundle = Bundle(key=key(rules_dir), reader_spec=reader_spec(vocab),
                    scope_fact=vocab.scope.fact, country=vocab.country,
                    catalog=Catalog(tuple(Entry.of(e) for e in catalog.editions)),
                    several_profiles=len({e.profile for e in catalog.editions}) > 1)
    for entry in catalog.editions:
        if entry.encoded:
            rs = ruleset_for(rules_dir, entry)
            bundle.programs[entry.id] = program(rs)
            bundle.texts[entry.id] = text_info(rs)
    return bundle


def save(bundle: Bundle) -> bool:
    """Write a bundle atomically into the cache folder (made private if missing); False
    when it cannot be (no cache, a folder others can write, a full disk...)."""
    folder = cache_dir()
    if folder is None:
        return False
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _safe_folder(folder):
            return False
        reader, bundle.reader = bundle.reader, None
        try:
            data = pickle.dumps(bundle, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            bundle.reader = reader
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
