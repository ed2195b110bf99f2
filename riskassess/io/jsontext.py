"""Indented JSON text, as `evaluate --format json` and the service write a report: two
spaces, keys in their order, non-ASCII characters as themselves, one final newline; the
bytes of `json.dumps(value, indent=2, ensure_ascii=False) + "\\n"`, made by orjson (ten
times faster) whenever its bytes are those.

They are, but for numbers that are not integers: orjson writes 3e-05 as 0.00003, and
reads an integer too large for 64 bits as a float. So orjson's text is used only when it
holds no number with a fraction or an exponent (none in a report: law/report.py has no
float field); otherwise, and for what orjson refuses to read (a lone surrogate escaped,
NaN), the standard library writes it (tests/test_fast_batch.py compares both).
"""

from __future__ import annotations

import json
import re

try:
    import orjson
except ImportError:  # pragma: no cover (a dependency; the standard library still works)
    orjson = None

# A number that is not an integer, where indented JSON puts a value: after a key, or alone
# on its line in a list. (Inside a string a newline is written \n, so a line's start is
# never in one; a string holding ": 1.5" only sends the text the slow way.)
_FRACTION = re.compile(rb"(?:: |\n *)-?[0-9]+[.eE]")


def pretty(compact: bytes | str) -> str:
    """JSON text (compact, or any form) indented as the report's JSON is."""
    if orjson is not None:
        try:
            out = orjson.dumps(orjson.loads(compact),
                               option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        except (orjson.JSONDecodeError, TypeError):
            out = None
        if out is not None and not _FRACTION.search(out):
            return out.decode()
    return json.dumps(json.loads(compact), indent=2, ensure_ascii=False) + "\n"

