"""Annotated documents (Markdown, HTML, Word), decisive facts, comparison, safe output.

Golden files live in tests/golden/, one per example and format, named *.golden (generated
output, reviewed as diffs; docs/testing.md says how to regenerate them). Word files are
compared by their extracted text and structure, footnotes included.
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import baselines
import pytest
from conftest import EXAMPLES, RULES, run_cli

from riskassess.assess.core import assess_file
from riskassess.engine.explain import explain
from riskassess.errors import ExitCode
from riskassess.law.ruleset import load_ruleset
from riskassess.law.scenarios import load_scenarios
from riskassess.words import fact_value

SCENARIOS = load_scenarios(EXAMPLES)
FORMATS = baselines.FORMATS


def produce(scenario, fmt: str, tmp_path: Path) -> bytes:
    out = tmp_path / f"{scenario.id}.{fmt}"
    r = run_cli("evaluate", str(scenario.case_path), "--format", fmt, "--output", str(out))
    assert r.code == 0, r.err
    return out.read_bytes()


@pytest.fixture(scope="module")
def outcomes():
    """Each example assessed once, for all its formats (as `evaluate` assesses it today)."""
    import functools

    @functools.lru_cache(maxsize=None)
    def outcome(case_path: Path):
        return assess_file(case_path, today=dt.date.today())

    return lambda scenario: outcome(scenario.case_path)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_golden(scenario, fmt, outcomes):
    """Each example in each format against its golden file (tests/baselines.py says what
    is compared; `python tests/baselines.py goldens` regenerates them, through the command
    line: tests/test_formats.py shows it writes what the renderers give)."""
    text = baselines.rendered(outcomes(scenario), scenario.case_path, fmt)
    golden = baselines.golden_path(scenario.id, fmt)
    assert golden.exists(), f"missing {golden.name}: run python tests/baselines.py goldens"
    unread = baselines.unread_facts(load_ruleset(RULES / scenario.meta.expected.ruleset))
    assert baselines.normalised(text, unread) == \
        baselines.normalised(golden.read_text(encoding="utf-8"), unread)


def test_documents_name_every_fact_not_given_even_one_no_rule_reads(tmp_path):
    """What the goldens leave out of their comparison (facts no rule reads) is checked
    here: such a fact, not given, is named among the facts not given and in the codes."""
    scenario = next(s for s in SCENARIOS if s.id == "draft-evader")
    unread = baselines.unread_facts(load_ruleset(RULES / scenario.meta.expected.ruleset))
    assert unread, "the shipped vocabulary has facts no rule reads (recorded only)"
    text = baselines.produce(scenario.case_path, "markdown", tmp_path)
    not_given = next(line for line in text.splitlines() if line.startswith("Facts not given:"))
    for path, label in unread.items():
        key = path.split(".", 1)[1]
        if f"{key}:" not in scenario.case_path.read_text():
            assert label in not_given and f"`fact: {path}`" in text, path


@pytest.mark.parametrize("fmt", ["markdown", "html", "docx"])
def test_documents_are_byte_stable_and_carry_the_footer(fmt, tmp_path):
    scenario = SCENARIOS[0]
    first = produce(scenario, fmt, tmp_path)
    (tmp_path / f"{scenario.id}.{fmt}").unlink()
    assert produce(scenario, fmt, tmp_path) == first
    text = baselines.docx_structure(first) if fmt == "docx" else first.decode()
    report = assess_file(scenario.case_path, today=dt.date(1900, 1, 1)).report
    assert f"riskassess {report.tool.version}; rule set {report.ruleset.id}, sha256 " \
           f"{report.ruleset.sha256}; assessment date {report.assessment_date}" in text
    assert "generated at" not in text


def test_timestamp_is_added_only_on_request(tmp_path):
    r = run_cli("evaluate", str(SCENARIOS[0].case_path), "-f", "markdown", "--timestamp")
    assert r.code == 0 and "; generated at 20" in r.out


def test_documents_follow_the_guidance_order_with_warnings_first():
    r = run_cli("evaluate", str(EXAMPLES / "nabek-moral-objector.yaml"), "-f", "markdown")
    order = ["- Case: EX-NABEK", "- Assessment date: ", "- Guidance applied: ",
             "- Status of that guidance: under review on the assessment date",
             "> **Warning:** On the assessment date", "## At a glance", "## Case facts",
             "## Guidance applied",
             "## Does the applicant fall within the profile?", "## Step 1.", "## Step 2.",
             "## Step 3.", "## Exclusion", "## Open questions", "## Notes", "## Bibliography",
             "# Annex: analysis aids", "## Reference: codes used"]
    positions = [r.out.index(part) for part in order]
    assert positions == sorted(positions)
    assert "Art. 9(2)(e) QD" in r.out and "[^1]: EUAA CG Syria 2024, review notice" in r.out
    assert "- `note 1`: cg24.review-notice" in r.out  # the paragraph id, in small print


def test_every_note_is_referenced_and_numbered_in_reading_order():
    import re

    r = run_cli("evaluate", str(EXAMPLES / "religious-objector.yaml"), "-f", "markdown")
    body, sources = r.out.split("## Notes", 1)
    annex = sources.split("# Annex: analysis aids", 1)[1]  # read after the body
    refs = [int(n) for n in re.findall(r"\[\^(\d+)\](?!:)", body + annex)]
    first_seen = list(dict.fromkeys(refs))
    assert first_seen == list(range(1, len(first_seen) + 1))
    defined = [int(n) for n in re.findall(r"^\[\^(\d+)\]:", sources, flags=re.M)]
    assert defined == first_seen


def test_html_is_self_contained_and_accessible():
    r = run_cli("evaluate", str(EXAMPLES / "nabek-moral-objector.yaml"), "-f", "html")
    html = r.out
    assert "<script" not in html and "<link" not in html and " src=" not in html
    assert "@media print" in html and '<html lang="en">' in html
    for landmark in ("<header>", "<nav aria-label=\"Contents\">", "<main>", "<footer>",
                     'role="alert"', 'id="note-1"', 'href="#note-1"'):
        assert landmark in html


def test_word_file_has_real_footnotes():
    scenario = next(s for s in SCENARIOS if s.id == "religious-objector")
    out = assess_file(scenario.case_path, today=dt.date(1900, 1, 1))
    from riskassess.render.document import document_of as document
    from riskassess.render.docx import render

    doc = document(out)
    data = render(doc)
    structure = baselines.docx_structure(data)
    assert structure.count("\nFootnote ") == len(doc.notes) == len(out.report.citations)
    assert "Footnote 1: EUAA CG Syria 2024, 4.2.3, profile definition" in structure
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        body = z.read("word/document.xml").decode()
        footers = "".join(z.read(n).decode() for n in z.namelist() if "footer" in n)
        headers = "".join(z.read(n).decode() for n in z.namelist() if "header" in n)
    # the first mark of each note sits in a bookmark; every repeat is a NOTEREF field to it
    marks = re.findall(r'<w:footnoteReference w:id="(\d+)"/>', body)
    assert sorted(map(int, marks)) == list(range(1, len(doc.notes) + 1))
    for n in marks:
        assert f'w:name="_RefNote{n}"' in body
    repeats = re.findall(r"NOTEREF _RefNote(\d+) \\f \\h", body)
    cited = sum(len(r.notes) for q in doc.questions for r in q.reasons + q.conditional) \
        + sum(len(w.notes) for w in doc.warnings)
    assert repeats and len(repeats) + len(marks) == cited
    assert all(n in marks for n in repeats)
    # "page X of Y" and the case id as a running head
    assert 'w:instr=" PAGE "' in footers and 'w:instr=" NUMPAGES "' in footers
    assert "page " in footers and " of " in footers
    assert "EX-RELIGIOUS-OBJECTOR" in headers


def test_every_citation_names_the_reports_behind_its_bracket_labels(tmp_path):
    """Issue 14, item 11: the guidance's brackets name EASO/EUAA reports by short labels; the
    JSON carries each report's title, publisher and date, and every format shows them."""
    case = EXAMPLES / "officer-fled-abroad.yaml"
    report = json.loads(run_cli("evaluate", str(case), "-f", "json").out)
    cited = report["citations"]["cg24.coi.ill-treatment-despite-amnesty"]
    assert [(b["label"], b["source_id"]) for b in cited["bracket_sources"]] == [
        ("Targeting 2022", "euaa-coi-targeting-2022"),
        ("Military service", "easo-coi-military-service-2021")]
    first = cited["bracket_sources"][0]
    assert first["title"] == "Syria: Targeting of individuals, COI report"
    assert first["author"] == "European Union Agency for Asylum (EUAA)"
    assert first["date"].startswith("September 2022")
    assert report["citations"]["cg24.profile"]["bracket_sources"] == []
    for c in report["citations"].values():  # every label used has its report
        assert {b["label"] for b in c["bracket_sources"]} == {
            ref.split(",")[0] for bracket in c["references"]
            for ref in bracket.strip("[]").split("; ")}
    shown = "Syria: Targeting of individuals, COI report"
    for fmt in ("text", "markdown", "html"):
        out = run_cli("evaluate", str(case), "-f", fmt, *(["--full"] if fmt == "text" else [])).out
        assert shown in " ".join(out.split()), fmt
    target = tmp_path / "case.docx"
    assert run_cli("evaluate", str(case), "-f", "docx", "-o", str(target)).code == 0
    structure = baselines.docx_structure(target.read_bytes())
    assert "Reports named by label in the guidance's bracketed references:\nListBullet: " \
           "Targeting 2022: European Union Agency for Asylum (EUAA), " + shown in structure


@pytest.mark.skipif(shutil.which("soffice") is None and shutil.which("libreoffice") is None,
                    reason="LibreOffice is not installed (Debian package libreoffice-writer)")
def test_word_file_converts_with_libreoffice(tmp_path):
    scenario = next(s for s in SCENARIOS if s.id == "nabek-moral-objector")
    data = produce(scenario, "docx", tmp_path)
    source = tmp_path / "report.docx"
    source.write_bytes(data)
    office = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "report.pdf"
    assert pdf.exists() and pdf.stat().st_size > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        flat = " ".join(text.split())
        assert "was under review (from 2024-12-08)" in flat and "page 1 of " in flat
        assert "EX-NABEK" in flat and "Bibliography" in flat


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None,
                    reason="Chromium is not installed (Debian package chromium; "
                           ".ci/run installs it)")
@pytest.mark.slow
def test_html_in_a_real_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    r = run_cli("evaluate", str(EXAMPLES / "nabek-moral-objector.yaml"), "-f", "html",
                "-o", str(page))
    assert r.code == 0
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
             "--enable-logging=stderr", "--v=0"]
    shot = tmp_path / "report.png"
    run = subprocess.run(flags + ["--window-size=1000,1400", f"--screenshot={shot}",
                                  page.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines()
               if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    dom = subprocess.run(flags + ["--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert 'class="warnings-top"' in dom and "was under review (from 2024-12-08)" in dom
    assert 'id="note-1"' in dom and 'id="notes"' in dom and 'id="bibliography"' in dom
    # every marker is its own link to its note, and the note links back to it
    markers = re.findall(r'<a class="ref" href="#note-(\d+)" id="(ref-[^"]+)"', dom)
    assert markers
    for number, ref_id in markers:
        assert f'id="{ref_id}"' in dom
        note = re.search(rf'<li id="note-{number}">.*?</li>', dom, flags=re.S).group(0)
        assert f'href="#{ref_id}"' in note, (number, ref_id)
    groups = re.findall(r'<sup class="refs">(.*?)</sup>', dom)
    assert any(g.count('class="ref"') > 1 for g in groups)
    for g in groups:  # markers of one place are separated and in ascending order
        numbers = [int(n) for n in re.findall(r">(\d+)</a>", g)]
        assert numbers == sorted(numbers)
        assert g.count('class="sep"') == len(numbers) - 1
    # printed by the browser: the separators survive, with a running head and page numbers
    pdf = tmp_path / "printed.pdf"
    subprocess.run(flags + ["--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
                   capture_output=True, timeout=120)
    if pdf.exists() and shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                              text=True).stdout
        assert "page 1 of " in text and "EX-NABEK · " in text
        assert re.search(r"\.\d+,\d+", " ".join(text.split()))  # e.g. "result.1,2"


# ------------------------------------------------------------------- decisive facts

DECISIVE_EXAMPLES = ["religious-objector", "police-captain-2012", "officer-fled-abroad",
                     "unit-implicated-deserter", "deserter-2026", "fifth-corps-settled-defector"]


def _signature(report, qid):
    q = report.question(qid)
    lists = {k: repr(v) for k, v in q.model_dump().items()
             if isinstance(v, list) and k not in ("reasons", "possible_outcomes")}
    return q.outcome, lists, sorted(w.code for w in report.warnings) if qid == "applicability" \
        else None


@pytest.mark.parametrize("name", DECISIVE_EXAMPLES)
def test_decisive_facts_agree_with_the_engine(name, tmp_path):
    """Each statement is checked by writing the variant as a case file and assessing it;
    and every single change not listed is checked to change nothing."""
    from riskassess.engine.explain import alternatives
    from riskassess.io.reader import read_yaml_file
    from riskassess.law.case import UNKNOWN, given_facts

    path = EXAMPLES / f"{name}.yaml"
    out = assess_file(path, today=dt.date(1900, 1, 1))
    result = explain(out.case, out.ruleset, out.choice, out.report.assessment_date, out.report)
    listed = {(qid, c.fact, c.alternative) for qid, changes in result.decisive.items()
              for c in changes}
    raw = read_yaml_file(path).data
    values = dict(given_facts(out.case))
    checked = 0
    for fact in values:
        key = fact.split(".", 1)[1]
        if values[fact] == UNKNOWN:
            continue
        for alternative in alternatives(out.case, out.ruleset, fact, values[fact]):
            variant_facts = {**values, fact: alternative}
            if not out.ruleset.vocabulary.admissible(variant_facts, variant_facts):
                continue
            variant = tmp_path / f"{key}-{checked}.yaml"
            data = {**raw, "applicant": {**raw["applicant"], key: alternative}}
            variant.write_text(json.dumps(data, default=str), encoding="utf-8")  # JSON is YAML
            other = assess_file(variant, today=dt.date(1900, 1, 1)).report
            for qid in result.decisive:
                changed = _signature(out.report, qid) != _signature(other, qid)
                assert changed == ((qid, fact, fact_value(alternative)) in listed), (qid, fact,
                                                                               alternative)
            checked += 1
    assert checked >= 10


def test_the_issues_example_sentence():
    out = assess_file(EXAMPLES / "religious-objector.yaml", today=dt.date(1900, 1, 1))
    result = explain(out.case, out.ruleset, out.choice, out.report.assessment_date, out.report)
    sentences = [c.sentence() for c in result.decisive["nexus"]]
    assert ("Had applicant.conscientious_objection been none instead of religious, "
            "religion (possible) would no longer be among the nexus grounds.") in sentences
    # Since the profile as drafted names neither women nor police or security personnel,
    # sex and force now decide applicability too, and so every later step (issue 14).
    # (issue 24: the guidance neither names nor excludes them, so individual assessment)
    assert any(x.startswith("Had applicant.force been police instead of armed_forces, "
                            "the nexus outcome would be individual_assessment")
               for x in sentences)
    assert any(x.startswith("Had applicant.sex been female instead of male, "
                            "the nexus outcome would be individual_assessment")
               for x in sentences)
    assert ("applicant.conscientious_objection", "religious") in result.depends_on["nexus"]


def test_explain_command():
    r = run_cli("explain", str(EXAMPLES / "religious-objector.yaml"))
    assert r.code == 0
    assert "religion (possible) would no longer be among the nexus grounds" in r.out
    assert "variants evaluated" in r.out


def test_compare_two_editions():
    # The same man in 2026, who says he was not serving at the fall (the Daraa file of 2024
    # cannot say so, and under the December 2025 edition it is open for him).
    r = run_cli("compare", str(EXAMPLES / "deserter-2026.yaml"), "--editions",
                "euaa-syria-2024", "euaa-syria-2025-12")
    assert r.code == 0, r.err
    step1 = r.out.split("Step 1.")[1].split("Step 2.")[0]
    # outcomes by their labels, codes in parentheses (issue 15: prose, not codes)
    assert ('"the acts qualify as persecution" (qualifies) -> '
            '"no acts of persecution reported (the only sentence of Step 1 at hand)" '
            '(no_acts_reported) (CHANGED)') in step1
    assert "explained by [cg25.4-3.step1]" in step1
    # each edition's warnings under its own heading, with their messages (tests/test_compare.py)
    older = r.out.split("Warnings under 'EUAA Country Guidance: Syria (April 2024)' "
                        "(euaa-syria-2024)")[1].split("\n\n")[0]
    assert "WARNING guidance_superseded: This assessment applies" in older
    early = run_cli("compare", str(EXAMPLES / "daraa-conscript-amnesty.yaml"), "--editions",
                    "euaa-syria-2024", "euaa-syria-2025-12")
    assert early.code == 0, early.err
    assert ('"the acts qualify as persecution" (qualifies) -> '
            '"undetermined (depends on facts not given)" (undetermined) (CHANGED)'
            in early.out.split("Step 1.")[1])
    newer = early.out.split("Warnings under 'EUAA Country Guidance: Syria (December 2025)' "
                            "(euaa-syria-2025-12)")[1].split("\n\n")[0]
    assert "WARNING guidance_not_yet_in_force: This assessment applies" in newer
    same = run_cli("compare", str(EXAMPLES / "deserter-2026.yaml"), "--editions",
                   "euaa-syria-2025-12", "euaa-syria-2025-12")
    assert same.code == 0 and "CHANGED" not in same.out and same.out.count("(unchanged)") == 5


# ---------------------------------------------------------------------- safe output

CASE = EXAMPLES / "officer-fled-abroad.yaml"


def test_output_never_overwrites_the_case_file(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_bytes(CASE.read_bytes())
    r = run_cli("evaluate", str(case), "-f", "markdown", "-o", str(case), "--force")
    assert r.code == ExitCode.USAGE and "never writes over" in r.err
    assert case.read_bytes() == CASE.read_bytes()


def test_existing_output_needs_force(tmp_path):
    target = tmp_path / "out.md"
    target.write_text("mine", encoding="utf-8")
    r = run_cli("evaluate", str(CASE), "-f", "markdown", "-o", str(target))
    assert r.code == ExitCode.USAGE and "--force" in r.err
    assert target.read_text() == "mine"
    assert run_cli("evaluate", str(CASE), "-f", "markdown", "-o", str(target), "--force").code == 0
    assert target.read_text().startswith("# Assessment of case EX-OFFICER-ABROAD")


def test_a_failed_write_leaves_nothing_partial(tmp_path, monkeypatch):
    target = tmp_path / "out.docx"
    target.write_bytes(b"previous")

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    r = run_cli("evaluate", str(CASE), "-f", "docx", "-o", str(target), "--force")
    assert r.code == ExitCode.CANNOT_WRITE and "No space left on device" in r.err
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.docx"]


def test_docx_needs_an_output_file():
    r = run_cli("evaluate", str(CASE), "-f", "docx")
    assert r.code == ExitCode.USAGE and "--output" in r.err
