"""Proof of the line between law and machinery: a rule set for an imaginary country.

Freedonia (XF, a user-assigned ISO code) has its own facts, its own questions and
outcomes, and one edition, all written here as YAML in a temporary folder. Nothing in
riskassess/ names any of them; the tool loads them, checks them, evaluates a case,
renders every format, drives the interview and prints the case schema.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import jsonschema
import pexpect
import pytest
from conftest import run_cli, spawn_tool, tool_env

from riskassess.errors import ExitCode

CATALOG = """\
format: 1
country: XF
vocabulary: freedonia
profiles:
  street-performers: People who perform in the street.
editions:
  - id: toy-2030
    profile: street-performers
    title: "Freedonia Guidance (2030)"
    publisher: The Toy Agency
    published: "1 January 2030"
    in_force_from: 2030-01-01
    encoded: true
    url: https://example.org/freedonia-2030
"""

FACTS = """\
format: 1
country: XF
country_name: Freedonia
scope:
  fact: person.homeland
  warning: homeland_not_given
  message: These conclusions hold only for a person from Freedonia.
groups:
  - key: person
    title: Person
    description: The person concerned.
    field_description: The person concerned.
facts:
  - path: person.homeland
    kind: country
    description: ISO 3166-1 alpha-2 code of the person's country.
    cites: [toy.scope]
  - path: person.trade
    kind: choice
    description: What the person does for a living.
    values:
      juggler: Juggles in the street.
      baker: Bakes bread indoors.
    cites: [toy.scope]
  - path: person.fined
    kind: yes_no
    description: Whether the person was fined for performing.
    cites: [toy.fines]
  - path: person.fined_on
    kind: partial_date
    description: When the fine was imposed.
    cites: [toy.fines]
  - path: person.props
    kind: codes
    description: The props the person uses.
    values:
      torches: Burning torches.
      knives: Knives.
    cites: [toy.fines]
  - path: person.remarks
    kind: text
    description: Anything else worth recording.
    recorded_only: true
constraints:
  - fact: person.fined_on
    only_if: {fact: person.trade, in: [juggler]}
  - fact: person.fined_on
    not_after: assessment_date
"""

QUESTIONS = """\
format: 1
frame:
  heading: Not decided here
  intro: "The decision-maker decides:"
  not_covered: ["whether the performer is believed ({instrument})"]
  instruments: [{cited_as: Street Code}]
profile_question: coverage
profile_outcome: covered
questions:
  - id: coverage
    title: Coverage
    description: Is the person a street performer?
    outcomes: [covered, not_covered, undetermined]
  - id: danger
    title: Danger
    description: How dangerous is return?
    outcomes: [grave, mild, undetermined, not_assessed]
    lists:
      - name: props_of_concern
        label: Props of concern
        noun: props of concern
outcome_labels:
  covered: a street performer
  not_covered: not a street performer
  grave: return is gravely dangerous
  mild: return is mildly dangerous
  not_assessed: not assessed
quiz:
  - answer: danger
    question: danger
    prompt: How dangerous is return?
"""

EDITION = """\
format: 1
country: XF
vocabulary: ../freedonia
id: toy-2030
title: "Freedonia Guidance (2030), street performers"
profile: street performers
in_force_from: 2030-01-01
guidance_source: toy-guidance
questions:
  - id: coverage
    heading: "Is the person a street performer?"
  - id: danger
    heading: "How dangerous is return?"
codes:
  props_of_concern:
    torches: "Burning torches alarm the authorities."
  warnings:
    guidance_under_review: "Under review."
    guidance_superseded: "Superseded."
    guidance_not_yet_in_force: "Not yet in force."
rule_files: [coverage.yaml, danger.yaml]
"""

COI = """\
format: 1
sources:
  - id: toy-guidance
    short: Toy 2030
    title: Freedonia Guidance
    author: The Toy Agency
    date: "2030"
    kind: guidance
    consulted: "2030-05-01, the printed copy in full"
paragraphs:
  - id: toy.scope
    source: toy-guidance
    section: "1 Street performers"
    gist: Street performers are the profile.
    position: "1, para. 1"
    summary: The guidance concerns people who perform in the street.
  - id: toy.fines
    source: toy-guidance
    section: "2 Fines"
    gist: Performers fined after 2029 face grave danger.
    position: "2, para. 1"
    summary: Performers fined since 2029 face grave danger on return; others mild danger.
"""

COVERAGE = """\
format: 1
question: coverage
rules:
  - id: coverage.juggler
    when: {fact: person.trade, is: juggler}
    outcome: covered
    reasoning: A juggler performs in the street.
    cites: [toy.scope]
  - id: coverage.baker
    when: {fact: person.trade, is: baker}
    outcome: not_covered
    reasoning: A baker works indoors.
    cites: [toy.scope]
"""

DANGER = """\
format: 1
question: danger
rules:
  - id: danger.not-covered
    when: {question: coverage, is: not_covered}
    outcome: not_assessed
    reasoning: Only street performers are assessed.
    cites: [toy.scope]
  - id: danger.recent-fine
    when:
      all:
        - {question: coverage, is: covered}
        - {fact: person.fined, is: true}
        - {fact: person.fined_on, on_or_after: 2029-01-01}
    outcome: grave
    prevails_over: [danger.otherwise]
    reasoning: A recent fine shows the authorities are watching.
    cites: [toy.fines]
  - id: danger.otherwise
    when: {question: coverage, is: covered}
    outcome: mild
    reasoning: Without a recent fine the danger is mild.
    cites: [toy.fines]
  - id: danger.torches
    when: {fact: person.props, contains_any: [torches]}
    adds: {props_of_concern: [torches]}
    reasoning: Torches draw the attention of the authorities.
    cites: [toy.fines]
"""

CASE = """\
format: 1
case_id: XF-1
assessment_date: 2030-06-01
person:
  homeland: XF
  trade: juggler
  fined: true
  fined_on: 2029-05
  props: [torches]
  remarks: Performs on weekends.
"""


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    for name, text in {"editions.yaml": CATALOG, "freedonia/facts.yaml": FACTS,
                       "freedonia/questions.yaml": QUESTIONS, "toy-2030/edition.yaml": EDITION,
                       "toy-2030/coi.yaml": COI, "toy-2030/coverage.yaml": COVERAGE,
                       "toy-2030/danger.yaml": DANGER}.items():
        (rules / name).parent.mkdir(parents=True, exist_ok=True)
        (rules / name).write_text(text, encoding="utf-8")
    return rules


def test_it_loads_and_passes_rules_check(toy):
    r = run_cli("rules", "check", str(toy))
    assert r.code == 0, r.out + r.err
    assert r.out == "" and "checked toy-2030: 0 error(s), 0 warning(s)" in r.err


def test_it_evaluates_and_renders_every_format(toy, tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text(CASE, encoding="utf-8")
    report = json.loads(run_cli("evaluate", str(case), "--rules-dir", str(toy),
                                "-f", "json").out)
    assert report["coverage"]["outcome"] == "covered"
    assert report["danger"]["outcome"] == "grave"
    assert report["danger"]["props_of_concern"] == ["torches"]
    assert report["warnings"] == [] and report["open_questions"] == []
    schema = json.loads(run_cli("schema", "report", "--rules-dir", str(toy)).out)
    jsonschema.validate(report, schema)
    text = run_cli("evaluate", str(case), "--rules-dir", str(toy)).out
    assert "Danger: return is gravely dangerous" in text  # the glance
    text = run_cli("evaluate", str(case), "--rules-dir", str(toy), "--full").out
    assert "Outcome: return is gravely dangerous [grave]" in text
    assert "Props of concern:" in text and "torches: Burning torches alarm" in text
    for fmt in ("markdown", "html"):
        out = run_cli("evaluate", str(case), "--rules-dir", str(toy), "-f", fmt).out
        assert "person.trade" in out and "juggler" in out and "return is gravely" in out
        # the country's own frame, with the instrument cited as it declares
        assert "Not decided here" in out and "believed (Street Code)" in out
    docx = tmp_path / "out.docx"
    r = run_cli("evaluate", str(case), "--rules-dir", str(toy), "-f", "docx", "-o", str(docx))
    assert r.code == 0, r.err
    with zipfile.ZipFile(docx) as z:
        body = z.read("word/document.xml").decode("utf-8")
    assert "person.trade" in body and "return is gravely dangerous" in body
    assert "Not decided here" in body and "believed (Street Code)" in body


def test_unknown_facts_become_open_questions(toy, tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("assessment_date: 2030-06-01\nperson:\n  trade: juggler\n", encoding="utf-8")
    report = json.loads(run_cli("evaluate", str(case), "--rules-dir", str(toy),
                                "-f", "json").out)
    assert report["danger"]["outcome"] == "undetermined"
    assert [o["fact"] for o in report["open_questions"]] == [
        "person.fined", "person.fined_on", "person.props"]
    assert report["warnings"][0] == {"code": "homeland_not_given", "cites": [], "rule": None,
                                     "message": "These conclusions hold only for a person "
                                                "from Freedonia."}


def test_its_constraints_and_scope_hold(toy, tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text("assessment_date: 2030-06-01\nperson:\n  trade: baker\n"
                    "  fined_on: 2029\n", encoding="utf-8")
    r = run_cli("evaluate", str(case), "--rules-dir", str(toy))
    assert r.code == ExitCode.INVALID_INPUT
    assert f"{case}:4:13: person.fined_on: '2029' cannot be given for trade 'baker': it " \
           "applies only to juggler" in r.err
    case.write_text("assessment_date: 2030-06-01\nperson:\n  trade: juggler\n"
                    "  fined_on: 2031\n", encoding="utf-8")
    r = run_cli("evaluate", str(case), "--rules-dir", str(toy))
    assert "person.fined_on: '2031' is after the assessment_date 2030-06-01" in r.err
    case.write_text("person:\n  homeland: SY\n", encoding="utf-8")
    r = run_cli("evaluate", str(case), "--rules-dir", str(toy))
    assert r.code == ExitCode.OUT_OF_SCOPE
    assert "'SY'" in r.err and "Freedonia (XF)" in r.err
    case.write_text("assessment_date: 2029-06-01\nperson:\n  trade: juggler\n", encoding="utf-8")
    r = run_cli("evaluate", str(case), "--rules-dir", str(toy))
    assert r.code == ExitCode.NO_ENCODED_EDITION and "no catalogued edition" in r.err


def test_a_free_text_fact_is_written_back_quoted(toy):
    import datetime as dt

    from riskassess.io.reader import parse_yaml_text
    from riskassess.law.case import case_from_document
    from riskassess.law.ruleset import load_catalog
    from riskassess.teach.interview import Interview, to_yaml

    catalog, _ = load_catalog(toy)
    session = Interview(catalog, toy, dt.date(2030, 6, 1), "XF-2", answers={
        "trade": "juggler", "remarks": "Says: 'no' - twice # not a comment"})
    text = to_yaml(session.case())
    again = case_from_document(parse_yaml_text(text, "written.yaml"), session.vocabulary)
    assert again == session.case() and again.person.remarks.endswith("# not a comment")


def test_schema_case(toy):
    schema = json.loads(run_cli("schema", "case", "--rules-dir", str(toy)).out)
    person = schema["$defs"]["Person"]["properties"]
    assert list(person) == ["homeland", "trade", "fined", "fined_on", "props", "remarks"]
    assert person["trade"]["enum"] == ["juggler", "baker", "unknown"]
    jsonschema.validate({"person": {"trade": "juggler", "props": ["knives"]}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"person": {"trade": "conscript"}}, schema)


def test_it_drives_the_interview(toy, tmp_path):
    out = tmp_path / "interviewed.yaml"
    env = tool_env(COLUMNS="120", NO_COLOR="1")
    child = spawn_tool("interview", "--rules-dir", str(toy), "--date", "2030-06-01", "-o",
                       str(out), env=env, dimensions=(50, 120))
    answers = {"homeland": "xf", "trade": "juggler", "fined": "true", "fined_on": "2029-07",
               "props": "knives"}
    asked = []
    while True:
        i = child.expect([r"\nperson\.(\w+): ", r"No open question remains"])
        if i == 1:
            break
        asked.append(child.match.group(1))
        child.expect("> ")
        child.sendline(answers[asked[-1]])
    child.expect(r"question\(s\) asked")
    child.expect("Danger: return is gravely dangerous")
    child.expect(f"wrote {out}")
    child.expect(pexpect.EOF)
    # the scope fact first (typed in small letters, read as the code), then the rules' own
    assert asked[:2] == ["homeland", "trade"] and sorted(asked) == sorted(answers)
    r = run_cli("evaluate", str(out), "--rules-dir", str(toy), "-f", "json")
    report = json.loads(r.out)
    assert report["danger"]["outcome"] == "grave"
    assert "# When the fine was imposed." in out.read_text(encoding="utf-8")


# ------------------------------------------------------------------ profiles

BAKERS_ENTRY = """
  - id: toy-2030-bakers
    profile: bakers
    title: "Freedonia Guidance (2030), bakers"
    publisher: The Toy Agency
    published: "1 January 2030"
    in_force_from: 2030-01-01
    encoded: true
    url: https://example.org/freedonia-2030-bakers
"""

BAKERS_COVERAGE = """\
format: 1
question: coverage
rules:
  - id: coverage.baker
    when: {fact: person.trade, is: baker}
    outcome: covered
    reasoning: This profile is about bakers.
    cites: [toy.scope]
  - id: coverage.juggler
    when: {fact: person.trade, is: juggler}
    outcome: not_covered
    reasoning: A juggler is not a baker.
    cites: [toy.scope]
"""

BAKERS_DANGER = """\
format: 1
question: danger
rules:
  - id: danger.not-covered
    when: {question: coverage, is: not_covered}
    outcome: not_assessed
    reasoning: Only bakers are assessed here.
    cites: [toy.scope]
  - id: danger.bakers
    when: {question: coverage, is: covered}
    outcome: mild
    reasoning: Bakers face mild danger.
    cites: [toy.fines]
"""


@pytest.fixture
def two_profiles(toy: Path) -> Path:
    """A second rule set, for bakers, in force on the same days as the one for jugglers."""
    catalog = toy / "editions.yaml"
    catalog.write_text(CATALOG.replace("  street-performers: People who perform in the street.\n",
                                       "  street-performers: People who perform in the street.\n"
                                       "  bakers: People who bake.\n") + BAKERS_ENTRY,
                       encoding="utf-8")
    folder = toy / "toy-2030-bakers"
    folder.mkdir()
    (folder / "edition.yaml").write_text(
        EDITION.replace("id: toy-2030", "id: toy-2030-bakers")
        .replace("street performers", "bakers")
        .replace("  props_of_concern:\n    torches: \"Burning torches alarm the authorities.\"\n",
                 ""), encoding="utf-8")
    (folder / "coi.yaml").write_text(COI, encoding="utf-8")
    (folder / "coverage.yaml").write_text(BAKERS_COVERAGE, encoding="utf-8")
    (folder / "danger.yaml").write_text(BAKERS_DANGER, encoding="utf-8")
    return toy


def test_two_profiles_in_force_on_one_day_applicability_chooses(two_profiles, tmp_path):
    r = run_cli("rules", "check", str(two_profiles))
    assert "checked toy-2030, toy-2030-bakers: 0 error(s)" in r.err, r.out + r.err
    case = tmp_path / "case.yaml"
    for trade, edition, outcome in (("juggler", "toy-2030", "grave"),
                                    ("baker", "toy-2030-bakers", "mild")):
        fined_on = "  fined_on: 2029-05\n" if trade == "juggler" else ""  # jugglers only
        case.write_text(f"assessment_date: 2030-06-01\nperson:\n  homeland: XF\n"
                        f"  trade: {trade}\n  fined: true\n{fined_on}  props: []\n",
                        encoding="utf-8")
        report = json.loads(run_cli("evaluate", str(case), "--rules-dir", str(two_profiles),
                                    "-f", "json").out)
        assert (report["ruleset"]["id"], report["coverage"]["outcome"],
                report["danger"]["outcome"]) == (edition, "covered", outcome)
    # neither profile decided (trade unknown): the first listed applies, as before
    case.write_text("assessment_date: 2030-06-01\nperson:\n  homeland: XF\n", encoding="utf-8")
    report = json.loads(run_cli("evaluate", str(case), "--rules-dir", str(two_profiles),
                                "-f", "json").out)
    assert report["ruleset"]["id"] == "toy-2030"


def test_one_profile_may_not_have_two_editions_at_once(two_profiles):
    catalog = two_profiles / "editions.yaml"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("profile: bakers",
                                                                   "profile: street-performers"),
                       encoding="utf-8")
    r = run_cli("rules", "check", str(two_profiles))
    assert r.code == ExitCode.FINDINGS
    assert "in_force_from: editions must be listed in date order" in r.out
