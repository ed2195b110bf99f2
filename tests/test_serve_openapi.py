"""The OpenAPI document of `riskassess serve` against what a real server answers: the
document is valid OpenAPI 3.1, every endpoint's actual answer validates against the
schema it declares (every edition, rule and paragraph of the shipped rules; every kind of
batch line), and its examples are answers the server gives."""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import EXAMPLES

from riskassess.io.reader import read_yaml_file

CASES = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))


@pytest.fixture(scope="module")
def doc(client):
    from openapi_spec_validator import validate

    out = client.get("/openapi.json").json()
    validate(out)
    return out


def check(doc: dict, schema: dict, value) -> None:
    """`value` validates against `schema`, its $refs resolved in the document."""
    jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(value)


def answer_schema(doc: dict, path: str, media: str = "application/json") -> dict:
    return doc["paths"][path]["get"]["responses"]["200"]["content"][media]


def test_rule_set_endpoints_answer_what_they_declare(client, doc):
    index = client.get("/v1/rulesets").json()
    check(doc, answer_schema(doc, "/v1/rulesets")["schema"], index)
    rules, paragraphs = set(), set()
    for entry in index["rulesets"]:  # encoded and not
        one = client.get(entry["links"]["self"]).json()
        check(doc, answer_schema(doc, "/v1/rulesets/{ruleset_id}")["schema"], one)
        rules |= {r["id"] for r in one.get("rules", [])}
        paragraphs |= set(one.get("paragraphs", []))
    assert rules and paragraphs
    for rule in sorted(rules):
        check(doc, answer_schema(doc, "/v1/rules/{rule_id}")["schema"],
              client.get(f"/v1/rules/{rule}").json())
    for pid in sorted(paragraphs):
        check(doc, answer_schema(doc, "/v1/coi/{paragraph_id}")["schema"],
              client.get(f"/v1/coi/{pid}").json())


def test_the_schemas_are_closed(doc):
    # a field the service adds without declaring it fails the test above
    for name in ("RulesetIndex", "CatalogEntry", "Ruleset", "Rule", "RuleAnswer",
                 "ParagraphAnswer", "Source", "BatchRefusal"):
        assert doc["components"]["schemas"][name]["additionalProperties"] is False, name


def test_examples_are_the_services_answers(client, doc):
    index = answer_schema(doc, "/v1/rulesets")
    assert index["example"] == client.get("/v1/rulesets").json()
    for path, param in (("/v1/rulesets/{ruleset_id}", "ruleset_id"),
                        ("/v1/rules/{rule_id}", "rule_id"),
                        ("/v1/coi/{paragraph_id}", "paragraph_id")):
        media = answer_schema(doc, path)
        check(doc, media["schema"], media["example"])
        given = next(p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == param)
        assert given["example"] == media["example"]["id"]
        live = client.get(path.replace("{" + param + "}", given["example"])).json()
        if param == "ruleset_id":  # the example's lists are cut to their first items
            for key in ("questions", "rules", "paragraphs"):
                assert media["example"][key] == live[key][:1]
                live[key] = live[key][:1]
            assert media["example"] == live
        else:  # the live answer may name more editions; the example asked one
            assert media["example"]["rulesets"][0] in live["rulesets"]


def test_batch_is_described_and_its_lines_validate(client, doc):
    op = doc["paths"]["/v1/batches"]["post"]
    assert set(op["requestBody"]["content"]) == {"application/x-ndjson", "application/jsonl"}
    assert {"200", "400", "401", "413", "415"} <= set(op["responses"])
    assert "67,108,864" in op["description"] and "1,048,576" in op["description"]
    formats = next(p for p in op["parameters"] if p["name"] == "format")["schema"]
    assert formats["enum"] == ["outcomes", "json"]
    item = op["responses"]["200"]["content"]["application/x-ndjson"]["x-itemSchema"]
    line_schema = op["requestBody"]["content"]["application/x-ndjson"]["x-itemSchema"]
    schemas = {name: {"$ref": f"#/components/schemas/{name}"}
               for name in ("OutcomesLine", "Report", "BatchRefusal")}
    body = []
    for path in CASES:
        data = read_yaml_file(path).data
        check(doc, line_schema, json.loads(json.dumps(data)))
        body.append(json.dumps(data).encode())
    body += [b"{not json", b'{"case_id": "X-1", "format": 2}']
    for fmt, kind in (("outcomes", "OutcomesLine"), ("json", "Report")):
        r = client.post("/v1/batches", params={"format": fmt}, content=b"\n".join(body),
                        headers={"content-type": "application/x-ndjson"})
        assert r.status_code == 200
        lines = [json.loads(x) for x in r.content.splitlines()]
        assert len(lines) == len(body)
        for line in lines[:len(CASES)]:
            check(doc, schemas[kind], line)
            check(doc, item, line)
        for line in lines[len(CASES):]:
            check(doc, schemas["BatchRefusal"], line)
            check(doc, item, line)
