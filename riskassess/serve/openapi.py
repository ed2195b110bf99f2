"""The OpenAPI 3.1 document of `riskassess serve`, built from the vocabulary's schemas.

The case and report schemas are the ones `riskassess schema case|report` prints (made
from the rules folder's vocabulary), with their definitions moved under
components/schemas (prefixed Case. and Report.), since OpenAPI resolves `$ref` from
the document's root.
"""

from __future__ import annotations

import json
from typing import Any

from riskassess import __version__
from riskassess.law.case import case_model
from riskassess.law.report import report_model
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


def _json(ref: str | dict, description: str) -> dict:
    schema = {"$ref": ref} if isinstance(ref, str) else ref
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document(service) -> bytes:
    vocab = service.vocabulary
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA, "LocatedProblem": LOCATED}
    schemas["Case"] = _hoist(case_model(vocab).model_json_schema(), "Case", schemas)
    schemas["Report"] = _hoist(report_model(vocab).model_json_schema(mode="serialization"),
                               "Report", schemas)
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
        "/v1/rulesets": {"get": {
            "operationId": "listRulesets", "summary": "The editions catalog",
            "responses": {"200": _json(obj, "Every known edition, with its dates, and "
                                            "the one in force today."),
                          **_problems(400, 401)}}},
        "/v1/rulesets/{ruleset_id}": {"get": {
            "operationId": "getRuleset", "summary": "One edition; when encoded, its rules",
            "parameters": [{"name": "ruleset_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": _json(obj, "The edition, its questions, rules and cited "
                                            "paragraphs."), **_problems(400, 401, 404)}}},
        "/v1/rules/{rule_id}": {"get": {
            "operationId": "getRule", "summary": "A rule, in every encoded edition that has it",
            "parameters": [{"name": "rule_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}, ruleset_param],
            "responses": {"200": _json(obj, "When it applies, what it concludes, why, and "
                                            "what it cites."), **_problems(400, 401, 404)}}},
        "/v1/coi/{paragraph_id}": {"get": {
            "operationId": "getParagraph", "summary": "A cited paragraph (country information "
                                                      "or guidance)",
            "parameters": [{"name": "paragraph_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}, ruleset_param],
            "responses": {"200": _json(obj, "Its source, section, locator, summary, facts "
                                            "and the rules citing it."),
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
