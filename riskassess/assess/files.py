"""The case files of a batch: what `evaluate FOLDER` and `compare FOLDER` assess, found
without importing the case model (the fast path of a batch, cli/fast.py, uses them too)."""

from __future__ import annotations

import os
from pathlib import Path

# A scenario's sidecar (law/scenarios.py SUFFIX; tests/test_fast_batch.py checks they agree):
# written here so that finding case files imports no model
SUFFIX = ".expected.yaml"


def is_folder(path: Path) -> bool:
    """Whether a path names a folder; a name the system refuses (too long, a loop) is not
    one, and the reader then says why it cannot be read."""
    try:
        return path.is_dir()
    except OSError:
        return False


CASE_FILE_NAMES = "*.yaml, *.yml, *.json or *.jsonl"  # what a folder's case files are named
_CASE_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")


def is_caseload(path: Path) -> bool:
    """Whether a path names many cases: a folder, or a JSONL file (one case per line)."""
    from riskassess.io.reader import is_jsonl_name

    return is_jsonl_name(path) or is_folder(path)


def case_files(paths: list[Path]) -> list[Path]:
    """The case files named or found (recursively) under the paths given, each once, sorted
    by path.

    In a folder, a file is a case file when its name ends in .yaml, .yml or .json, in any
    case (`A.YAML` too), or a caseload when it ends in .jsonl (one case per line; the
    batch reads its lines). A scenario sidecar (`X.expected.yaml` beside its case file
    `X.yaml`, `X.yml` or `X.json`) is not a case; a file that merely ends in
    `.expected.yaml`, with no case file beside it, is.
    What a folder holds besides case files is counted in `skipped` (reason -> count), so that
    the summary can say what was left out. A file named on the command line is always taken.

    Paths are gathered as plain strings (a caseload may hold 100,000 files) and turned into
    Path objects lazily by the caller's iteration."""
    found: set[str] = set()
    skipped: dict[str, int] = {}

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    for path in paths:
        if is_folder(path):
            for folder, _, names in os.walk(path):
                lowered = {name.lower() for name in names}
                prefix = _prefix(folder)
                for name in names:
                    low = name.lower()
                    if not low.endswith(_CASE_SUFFIXES):
                        skip(f"not named {CASE_FILE_NAMES}")
                    elif low.endswith(SUFFIX) and any(
                            low[: -len(SUFFIX)] + suffix in lowered
                            for suffix in (".yaml", ".yml", ".json")):
                        skip("scenario sidecar (*.expected.yaml beside its case file)")
                    else:
                        found.add(prefix + name)  # Path(folder, name).as_posix()
        else:
            found.add(path.as_posix())  # missing or unreadable files are reported by the batch
    out = _Paths(sorted(found))
    out.skipped = dict(sorted(skipped.items()))
    return out


def _prefix(folder: str) -> str:
    """What `Path(folder, name).as_posix()` puts before a file's name (made once a folder,
    not once a file: a caseload may hold 100,000 files)."""
    base = Path(folder).as_posix()
    return "" if base == "." else base if base.endswith("/") else base + "/"


class _Paths(list):
    """A sorted list of path strings that yields Path objects (and so stays small)."""

    skipped: dict[str, int] = {}

    def __iter__(self):
        return (Path(p) for p in list.__iter__(self))

    def names(self):
        """The paths as strings (each `Path(name).as_posix()` already)."""
        return list.__iter__(self)

    def __getitem__(self, index):
        item = list.__getitem__(self, index)
        return Path(item) if isinstance(index, int) else _Paths(item)
