"""The OpenAPI 3.1 document of `riskassess serve`, built from the vocabulary's schemas.

The case and report schemas are the ones `riskassess schema case|report` prints (made
from the rules folder's vocabulary), with their definitions moved under
components/schemas (prefixed Case. and Report.), since OpenAPI resolves `$ref` from
the document's root; the outcomes line is `riskassess schema outcomes`'s. The answers
about the rule sets are typed from the models they dump (the catalog's editions, the COI
registry's paragraphs and sources) plus what the service adds, and each has an example
made when the document is built, by asking the service about the first encoded rule set,
its first rule and the first paragraph that rule cites: no id is written here.

A batch's body and answer are JSON lines, which OpenAPI 3.1 can only call strings: each
line's schema is given as `x-itemSchema` (OpenAPI 3.2's `itemSchema`).
"""

from __future__ import annotations

import json
from typing import Any

from riskassess import __version__
from riskassess.law.case import case_model
from riskassess.law.report import outcomes_model, report_model
from riskassess.law.ruleset import CatalogEdition, Paragraph, Source
from riskassess.serve.batch import BATCH_FORMATS, BATCH_TYPES, MAX_BATCH
from riskassess.serve.service import FORMATS, JSON_TYPES, MAX_BODY, YAML_TYPES

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem, with the located problems of the CLI.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "urn:riskassess:problem:KIND"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "exit_code": {"type": "integer",
                      "description": "The exit code `riskassess evaluate` gives the same input."},
        "problems": {"type": "array", "items": {"$ref": "#/components/schemas/LocatedProblem"}},
        "more_problems": {"type": "integer",
                          "description": "How many problems beyond the 50 listed."},
    },
}
LOCATED = {
    "type": "object",
    "required": ["file", "line", "column", "path", "message", "text"],
    "properties": {
        "file": {"type": "string", "description": "'request body' for the API."},
        "line": {"type": ["integer", "null"]},
        "column": {"type": ["integer", "null"]},
        "path": {"type": "string", "description": "The key path, e.g. GROUP.KEY."},
        "message": {"type": "string"},
        "text": {"type": "string", "description": "FILE:LINE:COLUMN: path: message, as the "
                                                  "CLI prints it."},
    },
}


STR = {"type": "string"}
STRS = {"type": "array", "items": STR}


def _object(properties: dict, optional: tuple[str, ...] = ()) -> dict:
    """A closed object: every property required but the optional ones."""
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": [k for k in properties if k not in optional]}


def _extended(schema: dict, properties: dict, optional: tuple[str, ...] = ()) -> dict:
    """A model's schema with the properties the service adds to its dump."""
    out = dict(schema)
    out["properties"] = {**schema["properties"], **properties}
    out["required"] = [*schema.get("required", []),
                       *(k for k in properties if k not in optional)]
    return out


RULE = _object({
    "id": STR, "question": STR, "kind": STR,
    "applies_when": {"type": "string", "description": "Its condition, in words."},
    "outcome": {"type": ["string", "null"]},
    "adds": {"type": "object", "additionalProperties": {"type": "array"},
             "description": "List -> items it adds (codes or records)."},
    "warns": {"type": ["string", "null"]}, "prevails_over": STRS, "reasoning": STR,
    "cites": STRS, "file": STR, "line": {"type": "integer"},
    "links": _object({"self": STR, "cites": STRS})})
BATCH_REFUSAL = _object({
    "line": {"type": "integer", "minimum": 1, "description": "The line of the body."},
    "case_id": {"type": ["string", "null"], "description": "The line's case_id, when it "
                                                            "could be read and is valid."},
    "refused": {"$ref": "#/components/schemas/Problem"}})


def _rule_set_schemas(into: dict) -> None:
    """The schemas of the answers about rule sets, into components/schemas."""
    ref = "#/components/schemas/"
    into["CatalogEntry"] = _extended(_hoist(CatalogEdition.model_json_schema(), "Catalog",
                                            into), {"links": _object({"self": STR})})
    into["RulesetIndex"] = _object({
        "country": STR, "in_force_today": {"type": ["string", "null"]},
        "rulesets": {"type": "array", "items": {"$ref": ref + "CatalogEntry"}}})
    question = _object({"id": STR, "heading": STR, "outcomes": STRS, "rules": STRS})
    encoded = {"sha256": STR, "not_at_hand": STRS,
               "questions": {"type": "array", "items": question},
               "rules": {"type": "array", "items": {"$ref": ref + "Rule"}},
               "paragraphs": STRS}
    into["Ruleset"] = _extended(into["CatalogEntry"], encoded, optional=tuple(encoded))
    into["Ruleset"]["description"] = ("An edition of the catalog; when it is encoded, its "
                                      "questions, rules and cited paragraphs too.")
    into["Rule"] = RULE
    into["RuleAnswer"] = _object({"id": STR, "rulesets": {"type": "array", "items": _extended(
        RULE, {"ruleset": STR})}})
    into["Source"] = _hoist(Source.model_json_schema(), "Source", into)
    cited = _extended(_hoist(Paragraph.model_json_schema(), "Paragraph", into), {
        "ruleset": STR, "locator": STR, "source_details": {"$ref": ref + "Source"},
        "cited_by": STRS, "cited_by_review_warning": {"type": "boolean"}})
    into["ParagraphAnswer"] = _object({"id": STR, "rulesets": {"type": "array",
                                                               "items": cited}})


def _examples(service) -> dict[str, Any]:
    """An answer of each rule-set endpoint, asked of the service: the first encoded rule
    set (its lists cut to their first items), its first rule, that rule's first cite."""
    first = next(iter(service.rulesets.values()), None)
    if first is None:
        return {}
    ruleset = service.ruleset(first.id)
    for key in ("questions", "rules", "paragraphs"):
        ruleset[key] = ruleset[key][:1]
    rule = next(iter(first.rules.values()))
    out = {"index": service.rulesets_index(), "ruleset": ruleset,
           "rule": service.rule(rule.id, first.id)}
    if rule.cites:
        out["paragraph"] = service.paragraph(rule.cites[0], first.id)
    return out


def _hoist(schema: dict, prefix: str, into: dict) -> dict:
    """A pydantic schema with its $defs moved into `into` under `prefix`."""
    text = json.dumps(schema)
    text = text.replace('"#/$defs/', f'"#/components/schemas/{prefix}.')
    moved = json.loads(text)
    for name, sub in moved.pop("$defs", {}).items():
        into[f"{prefix}.{name}"] = sub
    return moved


def _problems(*statuses: int) -> dict:
    words = {400: "Unreadable case file, or a bad parameter",
             401: "The token is missing or wrong", 403: "Refused (Origin, CSRF)",
             404: "Not found", 408: "The body did not arrive in time",
             413: f"The body is over {MAX_BODY:,} bytes (1 MiB)",
             415: "The body's media type is not accepted",
             422: "Not a valid case file, out of scope, or the guidance in force is not "
                  "encoded, or the document asked for cannot be made (the problem says "
                  "which, with the CLI's exit code)",
             500: "A renderer failed unexpectedly (renderer-failed)",
             503: "Too many assessments waiting, or no answer within the time limit, or "
                  "(readyz) not ready (Retry-After)"}
    ref = {"$ref": "#/components/schemas/Problem"}
    return {str(s): {"description": words[s], "content": {"application/problem+json":
                                                           {"schema": ref}}}
            for s in statuses}


def _json(ref: str | dict, description: str, example: Any = None) -> dict:
    schema = {"$ref": ref} if isinstance(ref, str) else ref
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"description": description, "content": {"application/json": media}}


def _batch(ruleset_param: dict) -> dict:
    """POST /v1/batches (serve/batch.py)."""
    ref = "#/components/schemas/"
    lines = {"type": "string", "description": "JSON lines."}
    body = {t: {"schema": lines, "x-itemSchema": {"$ref": ref + "Case"}} for t in BATCH_TYPES}
    answer_line = {"anyOf": [{"$ref": ref + "OutcomesLine"}, {"$ref": ref + "Report"},
                             {"$ref": ref + "BatchRefusal"}],
                   "description": "format=outcomes: an OutcomesLine; format=json: a Report "
                                  "(on one line); a refused line: a BatchRefusal."}
    problems = _problems(400, 401, 413, 415)
    problems["413"]["description"] = (f"The body is declared over {MAX_BATCH:,} bytes "
                                      "(64 MiB)")
    return {"post": {
        "operationId": "assessBatch", "summary": "Assess many case files (JSON lines)",
        "description": (
            "The body is JSON lines: one case file (format 1, as JSON) a line, at most "
            f"{MAX_BODY:,} bytes (1 MiB) each, the body at most {MAX_BATCH:,} bytes (64 "
            "MiB). The answer streams one line per case, in the body's order: by default "
            "the line `riskassess evaluate FOLDER --format outcomes` writes (its path "
            "'request body:N'), with format=json the report as `--format jsonl` writes "
            "it. A line that cannot be read, validated or assessed is answered in its "
            "place by a BatchRefusal (the problem a single assessment gets, located on "
            "line N), and the batch goes on; a blank line has no answer. The time limit "
            "(--timeout) applies per case: each line must arrive within it of the "
            "previous answer (else a last refusal, 408), each case be assessed within it "
            "(else its refusal, 503). Each case takes an assessment slot once its line "
            "has arrived; when none is free it is refused (503) in its place. A body "
            "sent without a Content-Length is cut at the limit, with a last refusal."),
        "parameters": [
            {"name": "format", "in": "query", "required": False,
             "schema": {"type": "string", "enum": list(BATCH_FORMATS),
                        "default": "outcomes"}},
            ruleset_param],
        "requestBody": {"required": True, "content": body},
        "responses": {"200": {"description": "One line per case (blank lines excepted).",
                              "content": {"application/x-ndjson": {
                                  "schema": lines, "x-itemSchema": answer_line}}},
                      **problems}}}


def _path_param(name: str, example: dict | None) -> dict:
    out = {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
    if example is not None:
        out["example"] = example["id"]
    return out


def document(service) -> bytes:
    vocab = service.vocabulary
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA, "LocatedProblem": LOCATED}
    schemas["Case"] = _hoist(case_model(vocab).model_json_schema(), "Case", schemas)
    schemas["Report"] = _hoist(report_model(vocab).model_json_schema(mode="serialization"),
                               "Report", schemas)
    schemas["OutcomesLine"] = _hoist(outcomes_model(vocab).model_json_schema(), "Outcomes",
                                     schemas)
    schemas["BatchRefusal"] = BATCH_REFUSAL
    _rule_set_schemas(schemas)
    examples = _examples(service)
    ref = "#/components/schemas/"
    case_body = {t: {"schema": {"$ref": "#/components/schemas/Case"}}
                 for t in (*YAML_TYPES, *JSON_TYPES)}
    ruleset_param = {"name": "ruleset", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": sorted(service.rulesets)},
                     "description": "Force an encoded edition instead of the one in force on "
                                    "the assessment date (the report then warns)."}
    obj = {"type": "object"}
    binary = {"type": "string", "format": "binary"}
    report = {"$ref": "#/components/schemas/Report"}
    assessed = {"description": "The assessment. JSON: the same bytes as `riskassess "
                               "evaluate --format json`; documents: as `evaluate -o FILE`.",
                "content": {f.media_type.split(";")[0]: {"schema": (
                    report if f.name == "json" else binary if f.binary
                    else {"type": "string"})} for f in FORMATS.values()}}
    paths = {
        "/v1/assessments": {"post": {
            "operationId": "assess", "summary": "Assess a case file",
            "description": "The body is a case file (format 1) as YAML or JSON, at most "
                           "1 MiB. Without an assessment date the day of the request is "
                           "used and the report says so.",
            "parameters": [
                {"name": "format", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": list(FORMATS), "default": "json"}},
                ruleset_param],
            "requestBody": {"required": True, "content": case_body},
            "responses": {"200": assessed,
                          **_problems(400, 401, 408, 413, 415, 422, 500, 503)}}},
        "/v1/batches": _batch(ruleset_param),
        "/v1/rulesets": {"get": {
            "operationId": "listRulesets", "summary": "The editions catalog",
            "responses": {"200": _json(ref + "RulesetIndex", "Every known edition, with its "
                                       "dates, and the one in force today.",
                                       examples.get("index")),
                          **_problems(400, 401)}}},
        "/v1/rulesets/{ruleset_id}": {"get": {
            "operationId": "getRuleset", "summary": "One edition; when encoded, its rules",
            "parameters": [_path_param("ruleset_id", examples.get("ruleset"))],
            "responses": {"200": _json(ref + "Ruleset", "The edition, its questions, rules "
                                       "and cited paragraphs.", examples.get("ruleset")),
                          **_problems(400, 401, 404)}}},
        "/v1/rules/{rule_id}": {"get": {
            "operationId": "getRule", "summary": "A rule, in every encoded edition that has it",
            "parameters": [_path_param("rule_id", examples.get("rule")), ruleset_param],
            "responses": {"200": _json(ref + "RuleAnswer", "When it applies, what it "
                                       "concludes, why, and what it cites.",
                                       examples.get("rule")),
                          **_problems(400, 401, 404)}}},
        "/v1/coi/{paragraph_id}": {"get": {
            "operationId": "getParagraph", "summary": "A cited paragraph (country information "
                                                      "or guidance)",
            "parameters": [_path_param("paragraph_id", examples.get("paragraph")),
                           ruleset_param],
            "responses": {"200": _json(ref + "ParagraphAnswer", "Its source, section, "
                                       "locator, summary, facts and the rules citing it.",
                                       examples.get("paragraph")),
                          **_problems(400, 401, 404)}}},
        "/v1/schema/case": {"get": {
            "operationId": "caseSchema", "summary": "The case file's JSON Schema",
            "responses": {"200": {"description": "As `riskassess schema case` prints it.",
                                  "content": {"application/schema+json": {
                                      "schema": obj}}}, **_problems(401)}}},
        "/v1/schema/report": {"get": {
            "operationId": "reportSchema", "summary": "The JSON report's JSON Schema",
            "responses": {"200": {"description": "As `riskassess schema report` prints it.",
                                  "content": {"application/schema+json": {
                                      "schema": obj}}}, **_problems(401)}}},
        "/healthz": {"get": {
            "operationId": "health", "summary": "Whether the service is up (no token needed)",
            "security": [],
            "responses": {"200": _json(obj, "status, version and the encoded editions.")}}},
        "/readyz": {"get": {
            "operationId": "ready", "summary": "Whether to send it work: rule sets loaded and "
            "the queue not full (no token needed)", "security": [],
            "responses": {"200": _json(obj, "status, rule sets, slots and queue."),
                          **_problems(503)}}},
        "/metrics": {"get": {
            "operationId": "metrics", "summary": "Prometheus metrics (text format)",
            "responses": {"200": {"description": "Requests by route template and status, "
                                  "latency, slots, queue, refusals, renderer failures.",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}},
                          **_problems(401)}}},
    }
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "riskassess", "version": __version__,
                 "description": "Assessments of asylum case files against encoded country "
                                "guidance, with cited reasoning. Decision support, not a "
                                "decision. Errors are application/problem+json (RFC 9457)."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}, {}],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
