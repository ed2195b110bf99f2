"""Where the shipped rules and examples are: inside the installed package (a wheel carries
them as `_data/`), or at the top of a checkout. Light: the cold start reads it."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # the riskassess package folder


def candidates(name: str) -> tuple[Path, Path]:
    """Where a shipped folder (`rules`, `examples`) may be, in the order looked at."""
    return PACKAGE / "_data" / name, PACKAGE.parent / name


def shipped_rules_dir() -> Path | None:
    """The shipped rules folder (the one holding editions.yaml), or None."""
    return next((c for c in candidates("rules") if (c / "editions.yaml").is_file()), None)


def shipped_examples_dir() -> Path | None:
    return next((c for c in candidates("examples") if c.is_dir()), None)
