"""What `riskassess serve` answers, without HTTP: assessments, the rule sets, schemas.

The web layer (app.py, behind guard.py) turns requests into calls here and what these return (or
raise) into responses. Nothing here knows a country, a fact or a rule: everything comes
from the rules folder, as it does for the command line, and an assessment goes through
the same functions as `riskassess evaluate`, so that its JSON is the same bytes.

It is stateless between requests: what it keeps is the rule sets and their compiled
programs (read once, at start), never a case.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from riskassess import __version__
from riskassess.errors import (
    MAX_SHOWN,
    CaseFileError,
    DocumentError,
    EditionNotEncodedError,
    ExitCode,
    OutOfScopeError,
    Problem,
    UsageError,
    UserError,
)
from riskassess.law.case import case_model
from riskassess.law.report import outcomes_model, report_model
from riskassess.render import formats
from riskassess.words import did_you_mean

BODY_NAME = "request body"  # where the API's located problems say they are
MAX_BODY = 1_048_576  # 1 MiB: the case-file reader's own limit

# format= of POST /v1/assessments: the formats the table offers the service
FORMATS = {f.name: f for f in formats.FORMATS if f.served}
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
JSON_TYPES = ("application/json",)


class ServiceError(Exception):
    """A request the service refuses: an HTTP status and an RFC 9457 problem body."""

    def __init__(self, status: int, kind: str, title: str, detail: str, *,
                 exit_code: int | None = None, problems: list[Problem] | None = None,
                 headers: dict[str, str] | None = None, extra: dict | None = None,
                 cause: BaseException | None = None):
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.exit_code, self.problems = exit_code, problems or []
        self.headers = headers or {}
        self.extra = extra or {}  # members of the problem document beyond RFC 9457's
        # an internal error behind a 500, for whoever answers it to log by type and place
        # (guard.where); never part of the answer
        self.cause = cause

    def body(self) -> bytes:
        """The problem document (application/problem+json)."""
        out: dict[str, Any] = {"type": f"urn:riskassess:problem:{self.kind}",
                               "title": self.title, "status": self.status,
                               "detail": self.detail}
        if self.exit_code is not None:
            out["exit_code"] = self.exit_code
        out.update(self.extra)
        if self.problems:
            out["problems"] = [
                {"file": p.file, "line": p.line, "column": p.column, "path": p.path,
                 "message": p.message, "text": str(p)} for p in self.problems[:MAX_SHOWN]]
            if len(self.problems) > MAX_SHOWN:
                out["more_problems"] = len(self.problems) - MAX_SHOWN
        return json.dumps(out, indent=2, ensure_ascii=False).encode() + b"\n"


def refused(exc: UserError, *, read: bool) -> ServiceError:
    """A user error as the API answers it. `read` says whether the body was read as YAML
    (a failure before that is 400, unreadable; after it, 422, not a valid case)."""
    problems = exc.problems
    first = str(problems[0]) if problems else str(exc)
    more = f" (and {len(problems) - 1:,} more)" if len(problems) > 1 else ""
    code = int(exc.exit_code)
    if isinstance(exc, UsageError):
        return ServiceError(400, "bad-parameter", "A parameter cannot be acted on",
                            first + more, exit_code=code, problems=problems)
    if isinstance(exc, EditionNotEncodedError):
        return ServiceError(422, "edition-not-encoded",
                            "The guidance in force on the assessment date is not encoded",
                            first + more, exit_code=code, problems=problems)
    if isinstance(exc, OutOfScopeError):
        return ServiceError(422, "out-of-scope", "The applicant is outside the guidance's scope",
                            first + more, exit_code=code, problems=problems)
    if isinstance(exc, CaseFileError) and not read:
        return ServiceError(400, "unreadable", "The case file cannot be read", first + more,
                            exit_code=code, problems=problems)
    if isinstance(exc, CaseFileError):
        return ServiceError(422, "invalid-case", "The case file is not valid", first + more,
                            exit_code=code, problems=problems)
    return ServiceError(500, "rule-set", "The rule sets cannot be used", first + more,
                        exit_code=code, problems=problems)


@dataclass(frozen=True)
class Answer:
    """A response body: its bytes, media type and (for downloads) a file name."""

    content: bytes
    media_type: str
    filename: str | None = None
    report: Any = field(default=None, compare=False, repr=False)  # for the audit trail


@dataclass
class Service:
    """The rule sets of one rules folder, loaded and compiled once, and what they answer.

    Assessments are made under one lock: the compiled programs keep bounded caches that
    are not meant to be shared between threads, and Python runs one thread at a time in
    any case. Rendering a document (Word, PDF) happens outside it."""

    rules_dir: Path
    today: dt.date | None = None  # fixed for tests and training; else the day of each request
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # renderer failures by (format, kind), for the metrics; counted under their own lock
    render_failures: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    lock_counts: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        from riskassess.assess.browse import encoded_rulesets
        from riskassess.assess.core import Assessor

        self.assessor = Assessor(today=self.today or dt.date.today(), rules_dir=self.rules_dir)
        self.catalog = self.assessor.catalog
        self.vocabulary = self.assessor.vocabulary
        self.rulesets = {rs.id: rs for rs in encoded_rulesets(self.rules_dir)}
        for rs in self.rulesets.values():  # shared with the assessor: compiled once
            self.assessor.rulesets.setdefault(rs.id, rs)
        self._static: dict[str, bytes] = {}

    def day(self) -> dt.date:
        return self.today or dt.date.today()

    # ------------------------------------------------------------- assessments

    def read(self, raw: bytes, media_type: str):
        """The case file of a request body, read as the command line reads a file: JSON
        (application/json) by the JSON reader, which a `.json` case file goes through too;
        anything else by the YAML reader. A batch reads each of its lines with this."""
        from riskassess.io.reader import parse_json_bytes, parse_yaml_bytes

        json = media_type in JSON_TYPES
        try:
            doc = (parse_json_bytes if json else parse_yaml_bytes)(raw, BODY_NAME,
                                                                   error=CaseFileError)
        except RecursionError:  # not expected: both readers are iterative
            raise ServiceError(400, "unreadable", "The case file cannot be read",
                               "nested too deeply to be a case file", exit_code=3) from None
        except UserError as exc:
            raise refused(exc, read=False) from None
        if json and doc.problems:
            # A duplicate key, a lone surrogate, a number too long: JSON a reader may not
            # take as meant (RFC 8259 leaves duplicates to each parser), so the body cannot
            # be read, as with a syntax error (the command line reports them with the rest)
            raise refused(CaseFileError(list(doc.problems)), read=False)
        return doc

    def assess(self, doc, fmt: str = "json", ruleset_id: str | None = None,
               generated_at: dt.datetime | None = None) -> Answer:
        """A case file already read, assessed and rendered in `fmt` (see FORMATS)."""
        try:
            if fmt == "json":
                with self.lock:
                    done = self.assessor.assess_document(doc, today=self.day(),
                                                         ruleset_id=ruleset_id)
                    text = done.pretty_json()
                return Answer(text.encode("utf-8"), FORMATS["json"].media_type)
            outcome, _ = self.document(doc, ruleset_id, generated_at)
        except UserError as exc:
            raise refused(exc, read=True) from None
        return replace(self.render(outcome, fmt, generated_at), report=outcome.report)

    def render(self, outcome, fmt: str, generated_at: dt.datetime | None = None) -> Answer:
        """`render`, its failures counted in `render_failures` ((format, kind): count)."""
        return render(outcome, fmt, generated_at, failed=self._failed)

    def _failed(self, fmt: str, kind: str) -> None:
        with self.lock_counts:
            self.render_failures[fmt, kind] = self.render_failures.get((fmt, kind), 0) + 1

    def document(self, doc, ruleset_id: str | None = None,
                 generated_at: dt.datetime | None = None):
        """The full outcome and the annotated-reasoning document of a case file (made
        under the lock: it evaluates variants; the formats then render it outside)."""
        from riskassess.render.document import document_of

        with self.lock:
            outcome = self.assessor.outcome_of(doc, today=self.day(), ruleset_id=ruleset_id)
            return outcome, document_of(outcome, generated_at)

    # ------------------------------------------------------------ the rule sets

    def rulesets_index(self) -> dict:
        return {"country": self.catalog.country,
                "in_force_today": self._in_force(self.day()),
                "rulesets": [self._entry(e) for e in self.catalog.editions]}

    def _in_force(self, day: dt.date) -> str | None:
        from riskassess.law.editions import choose_for_case

        try:
            _, choice = choose_for_case(self.catalog, None, day, None, lambda d: (
                lambda entries: entries[0]))
        except UserError:
            return None
        return choice.entry.id

    def _entry(self, e) -> dict:
        out = e.model_dump(mode="json", exclude_none=True)
        out["links"] = {"self": f"/v1/rulesets/{e.id}"}
        return out

    def ruleset(self, ruleset_id: str) -> dict:
        entry = next((e for e in self.catalog.editions if e.id == ruleset_id), None)
        if entry is None:
            raise _not_found("rule set", ruleset_id, [e.id for e in self.catalog.editions])
        out = self._entry(entry)
        rs = self.rulesets.get(ruleset_id)
        if rs is None:
            return out
        out.update({
            "sha256": rs.sha256,
            "not_at_hand": list(rs.edition.not_at_hand),
            "questions": [{"id": q.id, "heading": q.heading, "outcomes": list(q.outcomes),
                           "rules": [r.id for r in (*q.outcome_rules, *q.other_rules)]}
                          for q in rs.questions],
            "rules": [self._rule(rs, r) for r in rs.rules.values()],
            "paragraphs": sorted(rs.paragraphs),
        })
        return out

    def _rule(self, rs, r) -> dict:
        return {"id": r.id, "question": r.question, "kind": r.kind,
                "applies_when": r.condition.text, "outcome": r.outcome,
                "adds": {k: list(v) for k, v in r.adds.items()}, "warns": r.warns,
                "prevails_over": list(r.prevails_over), "reasoning": r.reasoning,
                "cites": list(r.cites), "file": r.file, "line": r.line,
                "links": {"self": f"/v1/rules/{r.id}?ruleset={rs.id}",
                          "cites": [f"/v1/coi/{pid}?ruleset={rs.id}" for pid in r.cites]}}

    def check_ruleset(self, ruleset_id: str | None) -> None:
        """A `ruleset=` parameter must name an encoded edition (400 otherwise)."""
        if ruleset_id is None or ruleset_id in self.rulesets:
            return
        known = [e.id for e in self.catalog.editions]
        why = ("is in the catalog but not encoded" if ruleset_id in known
               else "is not an edition of the catalog")
        shown = ruleset_id if len(ruleset_id) <= 60 else ruleset_id[:60] + "..."
        raise ServiceError(400, "bad-parameter", "A parameter cannot be acted on",
                           f"ruleset '{shown}' {why}; the encoded editions are "
                           f"{', '.join(self.rulesets)}"
                           + did_you_mean(ruleset_id, list(self.rulesets)),
                           exit_code=int(ExitCode.USAGE))

    def _wanted(self, ruleset_id: str | None) -> list:
        self.check_ruleset(ruleset_id)
        if ruleset_id is None:
            return list(self.rulesets.values())
        return [self.rulesets[ruleset_id]]

    def _elsewhere(self, kind: str, wanted: str, ruleset_id: str | None, known: list[str],
                   where: list[str]) -> ServiceError:
        """Not found: in another edition (then say which), or close to a known id."""
        if ruleset_id is not None and where:
            return ServiceError(404, "not-found", f"No such {kind} in that edition",
                                f"no {kind} '{wanted}' in {ruleset_id}; it is in "
                                f"{', '.join(where)}")
        return _not_found(kind, wanted, known)

    def rule(self, rule_id: str, ruleset_id: str | None = None) -> dict:
        found = [(rs, rs.rules[rule_id]) for rs in self._wanted(ruleset_id)
                 if rule_id in rs.rules]
        if not found:
            raise self._elsewhere("rule", rule_id, ruleset_id,
                                  sorted({r for rs in self.rulesets.values() for r in rs.rules}),
                                  [rs.id for rs in self.rulesets.values() if rule_id in rs.rules])
        return {"id": rule_id, "rulesets": [{"ruleset": rs.id, **self._rule(rs, r)}
                                            for rs, r in found]}

    def paragraph(self, pid: str, ruleset_id: str | None = None) -> dict:
        found = [rs for rs in self._wanted(ruleset_id) if pid in rs.paragraphs]
        if not found:
            raise self._elsewhere("paragraph", pid, ruleset_id,
                                  sorted({p for rs in self.rulesets.values()
                                          for p in rs.paragraphs}),
                                  [rs.id for rs in self.rulesets.values()
                                   if pid in rs.paragraphs])
        out = []
        for rs in found:
            p = rs.paragraphs[pid]
            cited_by = [r.id for r in rs.rules.values() if pid in r.cites]
            out.append({"ruleset": rs.id, **p.model_dump(mode="json", exclude_none=True),
                        "locator": p.locator,
                        "source_details": rs.sources[p.source].model_dump(
                            mode="json", exclude_none=True),
                        "cited_by": cited_by,
                        "cited_by_review_warning": pid in rs.edition.review_cites})
        return {"id": pid, "rulesets": out}

    # ----------------------------------------------------------------- schemas

    def schema(self, which: str) -> bytes:
        """The bytes `riskassess schema case|report` prints."""
        if which not in self._static:
            self._static[which] = schema_text(self.vocabulary, which).encode("utf-8")
        return self._static[which]

    def health(self) -> dict:
        return {"status": "ok", "version": __version__,
                "rulesets": sorted(self.rulesets)}


def schema_text(vocab, which: str) -> str:
    """A file format's JSON Schema as the CLI prints it (one final newline)."""
    if which == "case":
        schema = case_model(vocab).model_json_schema()
    elif which == "report":
        schema = report_model(vocab).model_json_schema(mode="serialization")
    else:
        schema = outcomes_model(vocab).model_json_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


RENDER_FAILURES = ("document-not-made", "renderer-failed")  # the kinds render() refuses with
# Word and PDF documents are made in a pool of their own, DOCUMENTS_AT_ONCE threads for the
# whole process. The renderers are pure Python, so more at once are no faster, and the
# memory a document leaves behind (python-docx's lxml, the C allocator's per-thread arenas)
# stays with the thread that made it: made in whichever of the 16 slots' worker threads
# held the request, 200 documents peaked at 445 MiB; two at once in those threads, 291 MiB;
# in these two threads, 244 MiB (docs/performance.md).
DOCUMENTS_AT_ONCE = 2
_documents = ThreadPoolExecutor(DOCUMENTS_AT_ONCE, thread_name_prefix="riskassess-documents")


def render(outcome, fmt: str, generated_at: dt.datetime | None = None,
           failed: Callable[[str, str], None] | None = None) -> Answer:
    """An assessed case in one of the served formats, as a download.

    Both the API and the form's download buttons come here, so a renderer's failure is
    answered the same way by both, for that request only: a document the renderer refuses
    and explains (DocumentError, exit 6, e.g. a part too large to lay out on a page) is a
    422 with its message; anything else the renderer raises is a 500 carrying the error as
    its `cause`, which the app logs by type and place only (its message may quote the
    case). `failed(format,
    kind)` is told of either (the service's metrics count them)."""
    spec = FORMATS[fmt]
    try:
        options = formats.Options(path=BODY_NAME, generated_at=generated_at)
        if spec.binary:
            data = _documents.submit(formats.render, spec, outcome, options).result()
        else:
            data = formats.render(spec, outcome, options)
    except DocumentError as exc:
        if failed is not None:
            failed(fmt, RENDER_FAILURES[0])
        problems = exc.problems
        raise ServiceError(422, RENDER_FAILURES[0], "The document cannot be made",
                           str(problems[0]) if problems else str(exc),
                           exit_code=int(exc.exit_code), problems=problems) from None
    except Exception as exc:  # noqa: BLE001 - a renderer's bug: logged by type and place
        if failed is not None:
            failed(fmt, RENDER_FAILURES[1])
        raise ServiceError(500, RENDER_FAILURES[1], "The document cannot be made",
                           f"the {fmt} document could not be made (an internal error; the "
                           "service's log names where it arose); the other formats may "
                           "still be", cause=exc) from None
    return Answer(data.encode("utf-8") if isinstance(data, str) else data, spec.media_type,
                  download_name(outcome.report.case_id, spec.extension().lstrip(".")))


def download_name(case_id: str | None, ext: str) -> str:
    """A file name for a download: the case id (its pattern allows only letters, digits,
    '.', '_' and '-') or 'case'."""
    safe = "".join(ch for ch in (case_id or "") if ch.isalnum() or ch in "._-").strip(".")
    return f"assessment-{safe or 'case'}.{ext}"


def _not_found(kind: str, wanted: str, known: list[str]) -> ServiceError:
    hint = did_you_mean(wanted, known)
    shown = wanted if len(wanted) <= 80 else wanted[:80] + "..."
    return ServiceError(404, "not-found", f"No such {kind}", f"no {kind} '{shown}'{hint}")
