"""The test baselines: golden files and the digests of 10,000 generated reports.

What they compare is what a change of law should change, not what any change touches:
- the tool's version and a rule set's sha256 are written into every report; a version
  bump, or a comment added to a rule file (the hash covers the file's bytes), changes them
  and nothing else, so both sides are compared with them replaced by placeholders;
- a fact that no rule of the edition applied reads cannot change an assessment; documents
  still name it (among the facts not given, and in the codes' reference), so both sides are
  compared with those mentions left out (tests/test_documents.py checks them on their own);
- the generated cases are drawn with the facts, seed and dates recorded beside their
  digests (generated-10k.json), so that a fact added to the vocabulary draws nothing, and
  their digests are taken with the version and hashes recorded there.

Regenerate them after a deliberate change of output, then review the diff
(docs/testing.md):

    .venv/bin/python tests/baselines.py goldens     # tests/golden/*.golden
    .venv/bin/python tests/baselines.py digests     # tests/data/generated-10k.*
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import re
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
GOLDEN = TESTS / "golden"
FORMATS = ["text", "text-full", "json", "markdown", "markdown-no-annex", "html", "docx"]
# A golden "format" that is a format with an option: (format, its option, Options' field)
VARIANTS = {"text-full": ("text", "--full", {"full": True}),
            "markdown-no-annex": ("markdown", "--no-annex", {"annex": False})}
DIGESTS = TESTS / "data" / "generated-10k.sha256"
PARAMS = TESTS / "data" / "generated-10k.json"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

_VERSION = re.compile(r'(riskassess |"version": ?")[0-9]+(?:\.[0-9]+)+(?:[a-z0-9.+-]*)')
_SHA256 = re.compile(r"\b[0-9a-f]{64}\b|\b[0-9a-f]{16}…")  # (the summary shows 16 digits)
_NOT_GIVEN = re.compile(r"^(.*Facts not given:(?:</b>)? )(.*?)(\.(?:</p>)?)$")


def unread_facts(ruleset) -> dict[str, str]:
    """Path -> label of each fact of the vocabulary that no rule of the rule set reads."""
    read = set().union(*(r.condition.variables for r in ruleset.rules.values()))
    return {path: spec.label for path, spec in ruleset.vocabulary.facts.items()
            if path not in read}


def normalised(text: str, unread: dict[str, str]) -> str:
    """A report or document as the baselines compare it (see the module's docstring)."""
    text = _VERSION.sub(r"\1<version>", text)
    text = _SHA256.sub("<sha256>", text)
    labels = set(unread.values()) | {html.escape(v) for v in unread.values()}
    mentions = tuple(f"fact: {path}" for path in unread)
    out = []
    for line in text.split("\n"):
        if any(m + c in line for m in mentions for c in ("`", "<", ":")):
            continue  # the codes' reference line of an unread fact
        found = _NOT_GIVEN.match(line)
        if found:
            kept = [x for x in found.group(2).split("; ") if x not in labels and x != "none"]
            line = found.group(1) + ("; ".join(kept) or "none") + found.group(3)
        out.append(line)
    return "\n".join(out)


def docx_structure(data: bytes) -> str:
    """A Word file as text: each paragraph with its style, tables, footnote marks, notes."""
    import docx
    from lxml import etree

    d = docx.Document(io.BytesIO(data))
    lines = []
    for block in d.element.body.iterchildren():
        if block.tag == f"{W}p":
            style = block.find(f"{W}pPr/{W}pStyle")
            name = style.get(f"{W}val") if style is not None else "Normal"
            text = ""
            for node in block.iter():
                if node.tag == f"{W}t":
                    text += node.text or ""
                elif node.tag == f"{W}footnoteReference":
                    text += f"[^{node.get(f'{W}id')}]"
            lines.append(f"{name}: {text}")
        elif block.tag == f"{W}tbl":
            for row in block.iter(f"{W}tr"):
                cells = ["".join(t.text or "" for t in c.iter(f"{W}t"))
                         for c in row.iter(f"{W}tc")]
                lines.append("Table: " + " | ".join(cells))
    footnotes = [rel.target_part for rel in d.part.rels.values()
                 if rel.reltype.endswith("/footnotes")]
    assert len(footnotes) == 1, "the document has one footnotes part"
    for note in etree.fromstring(footnotes[0].blob).iter(f"{W}footnote"):
        if note.get(f"{W}type"):
            continue
        paras = ["".join(t.text or "" for t in p.iter(f"{W}t")).strip()
                 for p in note.iter(f"{W}p")]
        lines.append(f"Footnote {note.get(f'{W}id')}: " + " / ".join(paras))
    return "\n".join(lines) + "\n"


def produce(case: Path, fmt: str, folder: Path) -> str:
    """What `riskassess evaluate CASE -f FMT -o FILE` writes, as a golden file holds it
    (a Word file by its structure)."""
    from conftest import run_cli

    fmt, option, _ = VARIANTS.get(fmt, (fmt, None, {}))
    out = folder / f"{case.stem}.{fmt}"
    r = run_cli("evaluate", str(case), "--format", fmt, "--output", str(out),
                *([option] if option else []))
    assert r.code == 0, r.err
    data = out.read_bytes()
    out.unlink()
    return as_golden(data, fmt)


def rendered(outcome, case: Path, fmt: str) -> str:
    """The same from an outcome already assessed (the format table's renderer, which is
    what `evaluate -o FILE` writes: tests/test_formats.py), so that the formats of one
    example share one assessment and one annotated document."""
    from riskassess.render import formats

    fmt, _, fields = VARIANTS.get(fmt, (fmt, None, {}))
    data = formats.render(formats.get(fmt), outcome, formats.Options(path=case.as_posix(),
                                                                     **fields))
    return as_golden(data.encode("utf-8") if isinstance(data, str) else data, fmt)


def as_golden(data: bytes, fmt: str) -> str:
    return docx_structure(data) if fmt == "docx" else data.decode("utf-8")


def golden_path(scenario_id: str, fmt: str) -> Path:
    return GOLDEN / f"{scenario_id}.{fmt}.golden"


# ------------------------------------------------------------------ the 10k digests


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def params() -> dict:
    return json.loads(PARAMS.read_text(encoding="utf-8"))


def generated(vocab, recorded: dict) -> list[dict]:
    from riskassess.law.casegen import case_dicts

    return case_dicts(vocab, recorded["count"], seed=recorded["seed"], facts=recorded["facts"],
                      assessed=tuple(recorded["assessed"]))


def as_recorded(report_json: bytes, current: dict[str, str], recorded: dict) -> bytes:
    """A report's JSON with today's version and rule-set hashes replaced by those the
    digests were taken with (`current`: edition id -> today's sha256)."""
    from riskassess import __version__

    out = report_json.replace(b'"version":"' + __version__.encode() + b'"',
                              b'"version":"' + recorded["version"].encode() + b'"')
    for edition, sha in current.items():
        out = out.replace(sha.encode(), recorded["sha256"][edition].encode())
    return out


def current_hashes() -> dict[str, str]:
    from riskassess.law.ruleset import default_rules_dir, load_catalog, ruleset_for

    rules = default_rules_dir()
    catalog, _ = load_catalog(rules)
    return {e.id: ruleset_for(rules, e).sha256 for e in catalog.editions if e.encoded}


# ------------------------------------------------------------------ regeneration


def regenerate_goldens() -> None:
    import tempfile

    from conftest import EXAMPLES

    from riskassess.law.scenarios import load_scenarios

    with tempfile.TemporaryDirectory() as tmp:  # through the command line, as a user would
        for scenario in load_scenarios(EXAMPLES):
            for fmt in FORMATS:
                golden_path(scenario.id, fmt).write_text(
                    produce(scenario.case_path, fmt, Path(tmp)), encoding="utf-8")


def regenerate_digests(count: int = 10_000, seed: int = 7,
                       today: str = "2026-12-01") -> None:
    from riskassess import __version__
    from riskassess.assess.core import Assessor
    from riskassess.io.reader import Document
    from riskassess.law.casegen import ASSESSED
    from riskassess.law.ruleset import shipped_vocabulary

    vocab = shipped_vocabulary()
    recorded = {"count": count, "seed": seed, "today": today, "assessed": list(ASSESSED),
                "facts": list(vocab.testable), "version": __version__,
                "sha256": current_hashes()}
    assessor = Assessor(today=dt.date.fromisoformat(today))
    lines = [digest(assessor.assess_document(Document("<gen>", data)).json())
             for data in generated(vocab, recorded)]
    DIGESTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    PARAMS.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(TESTS))
    import conftest  # noqa: F401 (the compiled-rules cache off, as in the tests)

    which = sys.argv[1:] or ["goldens", "digests"]
    for name in which:
        {"goldens": regenerate_goldens, "digests": regenerate_digests}[name]()
        print(f"regenerated the {name}; review them with git diff")
