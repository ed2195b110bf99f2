"""The plain reading of case files (case.plain_reader) against the case model.

The case model is the one validator; the plain reading is derived from the same
vocabulary and patterns, and only exists to be fast. These properties show that it
accepts exactly the files the model accepts, with the same values, and otherwise defers
to the model (which then refuses with located problems)."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskassess.errors import CaseFileError
from riskassess.io.reader import Document, parse_yaml_text
from riskassess.law.case import case_from_document, fact_values, plain_reader
from riskassess.law.casegen import case_dicts
from riskassess.law.ruleset import shipped_vocabulary as shipped

VOCAB = shipped()
READ = plain_reader(VOCAB)
BASES = case_dicts(VOCAB, 60, seed=11)
FACTS = list(VOCAB.facts.values())

# values of every kind the YAML reader can produce, valid for some facts and not others
ODD = [None, 0, 1, -1, 2013, 12345, 1.0, True, False, "", "unknown", "Unknown", "yes", "no",
       "true", "2024", "2024-13", "2024-02-30", "2024-02-29", "1899", "2101-01-01",
       "2013-04", "2016-08-03", "SY", "sy", "XX", "S Y", [], ["unknown"], [1], {}, {"a": 1},
       [{"a": 1}], [[1]], ["isil", {"a": 1}], [None], [True], [1.0],
       "x" * 65, "A-1.b_2", "é", "2024-06-01", "2025-02-01", " 2024-06-01"]


def near_values(spec) -> list:
    """Values of the fact's own kind, valid and nearly valid."""
    values = list(spec.values)
    if spec.kind == "set":
        return [sorted(values)[:2], values[:1], values[:1] * 2, values[:2] + values[:1],
                [*values[:1], "not_a_code"], [], "unknown"]
    if spec.kind == "date":
        return [2013, 1899, 20133, "2013", "2024-12", "2024-12-08", "2024-00", "2025-03-01"]
    return values + ["unknown"]


@st.composite
def mutated(draw):
    data = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["fact", "fact", "fact", "envelope", "group", "extra",
                                      "drop"]))
        pool = ODD
        if where == "fact":
            spec = draw(st.sampled_from(FACTS))
            pool = near_values(spec) if draw(st.booleans()) else ODD
            data.setdefault(spec.group, {})
            if isinstance(data[spec.group], dict):
                data[spec.group][spec.key] = draw(st.sampled_from(pool))
        elif where == "envelope":
            data[draw(st.sampled_from(["format", "case_id", "assessment_date"]))] = \
                draw(st.sampled_from(pool))
        elif where == "group":
            data[draw(st.sampled_from([g.key for g in VOCAB.groups]))] = \
                draw(st.sampled_from([None, [], "x", {}]))
        elif where == "extra":
            spot = draw(st.sampled_from(["top", "group"]))
            target = data if spot == "top" else data.get(VOCAB.groups[0].key)
            if isinstance(target, dict):
                target[draw(st.sampled_from(["note", "rank2", "applicant", "format"]))] = 1
        elif data:
            data.pop(draw(st.sampled_from(list(data))))
    return data


def model_reading(doc: Document):
    try:
        case = case_from_document(doc, VOCAB)
    except CaseFileError:
        return None
    return case


def check(doc: Document) -> None:
    plain = READ(doc)
    case = model_reading(doc)
    if case is None:
        assert plain is None, f"the plain reading accepts what the model refuses: {doc.data}"
        return
    # a form the plain reading does not take may be deferred, but none is expected here
    assert plain is not None, f"the plain reading defers a valid file: {doc.data}"
    assert plain.values == fact_values(case)
    assert plain.case_id == case.case_id
    assert plain.assessment_date == case.assessment_date


@settings(max_examples=1000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_plain_reading_accepts_and_refuses_what_the_model_does(data):
    check(Document("<case>", data))


def test_every_generated_and_shipped_case_is_read_plainly():
    from pathlib import Path

    from riskassess.io.reader import read_yaml_file

    for data in case_dicts(VOCAB, 2000, seed=3):
        assert READ(Document("<case>", data)) is not None
    for path in sorted(Path(__file__).parent.parent.joinpath("examples").glob("*.yaml")):
        if not path.name.endswith(".expected.yaml"):
            doc = read_yaml_file(path)
            check(doc)
            assert READ(doc) is not None, path


def test_reading_problems_and_non_mappings_defer_to_the_model():
    dup = parse_yaml_text("case_id: A\ncase_id: B\n", "<dup>")
    assert dup.problems and READ(dup) is None and model_reading(dup) is None
    for text in ("- 1\n", "just text\n", "42\n"):
        doc = parse_yaml_text(text, "<x>")
        assert READ(doc) is None and model_reading(doc) is None
