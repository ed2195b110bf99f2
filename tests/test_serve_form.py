"""The web form of `riskassess serve`, through a real server and a real HTTP client, and
in a real headless Chromium (Debian's chromium, driven by Playwright with no browser
download of its own).

The form is checked against the vocabulary (a field per fact, `unknown` always
offered) and against the command line: every example, entered in the form, gives a
Markdown download byte-identical to `riskassess evaluate EXAMPLE -o x.md`, and a case
file (YAML) download that assesses as the example does.
"""

from __future__ import annotations

import html
import re
import shutil

import httpx
import pytest
from conftest import EXAMPLES, VOCAB, run_cli
from serving import TODAY, form_data
from serving import form_post as post

from riskassess.io.reader import read_yaml_file

CASES = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser_client(server):
    """A client that has opened the form (so it holds the CSRF cookie) and posts from it."""
    with httpx.Client(base_url=server.base, timeout=60,
                      headers={"origin": server.base}) as c:
        page = c.get("/")
        c.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
        yield c


def test_a_field_per_fact_with_its_meaning_and_unknown(server):
    page = httpx.get(server.base + "/").text
    for path, spec in VOCAB.facts.items():
        fid = "f-" + path.replace(".", "-").replace("_", "-")
        assert f'id="{fid}"' in page, path
        if spec.kind == "set":
            assert f'id="{fid}-unknown" name="{path}" value="unknown" checked' in page
            for value in spec.values:
                assert f'name="{path}:item" value="{value}"' in page
        else:
            assert f'<label for="{fid}">' in page, path
        if spec.kind in ("enum", "bool"):
            select = re.search(rf'<select id="{fid}".*?</select>', page, re.S).group(0)
            assert '<option value="unknown" selected>Unknown</option>' in select
            for value in spec.values:
                v = str(value).lower() if isinstance(value, bool) else value
                assert f'<option value="{v}"' in select
        assert html.escape(spec.description, quote=False) in html.unescape(page) or \
            spec.description in html.unescape(page)
    for landmark in ("<header", "<main>", "<footer", "<form id=\"case-form\""):
        assert landmark in page
    assert "<script" not in page and "style=" not in page


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_every_example_entered_in_the_form_gives_the_clis_report(browser_client, path,
                                                                 tmp_path):
    c = browser_client
    fields = [("csrf", c.csrf), *form_data(path)]
    md = post(c, fields + [("action", "markdown")])
    assert md.status_code == 200, md.text[:2000]
    assert md.headers["content-type"].startswith("text/markdown")
    out = tmp_path / "x.md"
    cli = run_cli("evaluate", str(path), "-o", str(out), "--today", TODAY)
    assert cli.code == 0
    assert md.content == out.read_bytes()
    # the case file downloaded from the form assesses as the example does
    yaml = post(c, fields + [("action", "yaml")])
    assert yaml.status_code == 200 and "attachment" in yaml.headers["content-disposition"]
    saved = tmp_path / "case.yaml"
    saved.write_bytes(yaml.content)
    again = run_cli("evaluate", str(saved), "-f", "json", "--today", TODAY)
    first = run_cli("evaluate", str(path), "-f", "json", "--today", TODAY)
    assert again.code == 0 and again.out == first.out
    # and the page shows the conclusions, and links each open question to its field
    page = post(c, fields + [("action", "assess")])
    assert page.status_code == 200
    panel = page.text.split('<div class="conclusions">')[1].split("</div>\n<article")[0]
    assert "Conclusions of the encoded guidance" in panel
    report = read_json(first.out)
    # the panel names the edition applied and repeats every warning, not only the outcomes
    shown = html.unescape(panel)
    assert report["ruleset"]["title"] in shown
    for w in report["warnings"]:
        assert w["message"] in shown, w["code"]
    for o in report["open_questions"]:
        fid = "f-" + o["fact"].replace(".", "-").replace("_", "-")
        assert f'href="#{fid}"' in page.text and f'id="{fid}' in page.text


def read_json(text: str) -> dict:
    import json

    return json.loads(text)


def test_word_and_pdf_downloads(browser_client):
    fields = [("csrf", browser_client.csrf), *form_data(EXAMPLES / "religious-objector.yaml")]
    docx = post(browser_client, fields + [("action", "docx")])
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert docx.headers["content-disposition"] == (
        'attachment; filename="assessment-EX-RELIGIOUS-OBJECTOR.docx"')
    pdf = post(browser_client, fields + [("action", "pdf")])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_problems_are_shown_at_their_fields_and_nothing_typed_is_lost(browser_client):
    c = browser_client
    data = [("csrf", c.csrf), ("case_id", "KEEP-7"), ("applicant.military_status", "deserter"),
            ("applicant.desertion_date", "2019-13"), ("applicant.rank", "general"),
            ("applicant.prior_measures", "unknown"), ("applicant.prior_measures:item", "wanted"),
            ("applicant.role_and_unit", "typed <b>text</b> kept")]
    r = post(c, data)
    assert r.status_code == 422
    page = r.text
    assert "Conclusions" not in page
    for fid in ("f-applicant-desertion-date", "f-applicant-rank", "f-applicant-prior-measures"):
        assert f'<a href="#{fid}">' in page  # the summary links to the field
        assert f'id="{fid}-error"' in page
    assert re.search(r'id="f-applicant-rank"[^>]*aria-invalid="true"', page)
    assert 'value="KEEP-7"' in page and 'value="2019-13"' in page
    assert "typed &lt;b&gt;text&lt;/b&gt; kept" in page  # kept, and escaped
    assert 'value="wanted" checked' in page
    # a field given twice, an unknown edition, an unknown action
    r = post(c, [("csrf", c.csrf), ("applicant.rank", "nco"),
                          ("applicant.rank", "officer")])
    assert r.status_code == 422 and "given more than once" in r.text
    r = post(c, [("csrf", c.csrf), ("ruleset", "euaa-syria-1999")])
    assert r.status_code == 422 and "no encoded edition" in r.text
    r = post(c, [("csrf", c.csrf), ("action", "delete")])
    assert r.status_code == 422 and "no such action" in r.text


def test_out_of_scope_is_said_at_the_country_field(browser_client):
    r = post(browser_client, [("csrf", browser_client.csrf),
                                       ("applicant.country_of_origin", "af")])
    assert r.status_code == 422 and "outside the guidance" in r.text
    assert 'value="af"' in r.text
    # at the field, and in the summary as a link to it
    error = re.search(r'<p class="field-error" id="f-applicant-country-of-origin-error">.*?</p>',
                      r.text).group(0)
    assert "outside the guidance" in error
    assert '<a href="#f-applicant-country-of-origin">' in r.text


def test_a_forced_edition_warns_in_the_page(browser_client):
    fields = [("csrf", browser_client.csrf), *form_data(EXAMPLES / "religious-objector.yaml"),
              ("ruleset", "euaa-syria-2025-12")]
    r = post(browser_client, fields)
    assert r.status_code == 200
    forced = run_cli("evaluate", str(EXAMPLES / "religious-objector.yaml"), "-f", "json",
                     "--today", TODAY, "--ruleset", "euaa-syria-2025-12").out
    message = read_json(forced)["warnings"][0]["message"]
    assert html.escape(message, quote=True) in r.text or message in html.unescape(r.text)


def test_an_edition_not_encoded_is_said_at_the_date_and_the_edition(browser_client):
    r = post(browser_client, [("csrf", browser_client.csrf), ("assessment_date", "2021-06-01")])
    assert r.status_code == 422
    assert 'id="f-assessment-date-error"' in r.text and 'id="f-ruleset-error"' in r.text
    assert '<a href="#f-ruleset">' in r.text and r.text.count("<title>Error: ") == 1


def test_examples_open_in_the_form(server):
    page = httpx.get(server.base + "/", params={"example": "religious-objector"}).text
    assert 'value="EX-RELIGIOUS-OBJECTOR"' in page
    assert '<option value="reservist" selected' in page
    for bad in ("nope", "../../etc/passwd", "religious-objector.expected"):
        assert httpx.get(server.base + "/", params={"example": bad}).status_code == 404


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package "
                                             "chromium; .ci/run installs it)")
@pytest.mark.slow
def test_a_real_chromium_fills_in_and_submits_the_form(server, tmp_path):
    from playwright.sync_api import sync_playwright

    path = EXAMPLES / "nabek-moral-objector.yaml"
    md = run_cli("evaluate", str(path), "-f", "markdown", "--today", TODAY).out
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(server.base + "/")
            # every field is reachable by its label, as a screen reader names it
            for spec in VOCAB.facts.values():
                if spec.kind != "set":
                    name = re.compile("^" + re.escape(spec.label) + r"( \(recorded only\))?$")
                    assert page.get_by_label(name).count() == 1, spec.label
            for role in ("banner", "main", "contentinfo"):
                assert page.get_by_role(role).count() == 1, role
            # fill in the example's facts, field by field
            for name, value in form_data(path):
                fid = "f-" + name.replace(":item", "").replace(".", "-").replace("_", "-")
                if name.endswith(":item"):
                    page.check(f'input[name="{name}"][value="{value}"]')
                elif name in dict((s, 1) for s, spec in VOCAB.facts.items()
                                  if spec.kind == "set"):
                    page.check(f"#{fid}-{value}")
                elif page.locator(f"#{fid}").evaluate("e => e.tagName") == "SELECT":
                    page.select_option(f"#{fid}", value)
                elif name == "assessment_date":
                    page.fill("#f-assessment-date", value)
                else:
                    page.fill(f"#{fid}", value)
            # keyboard only: Enter in a text field submits the form (its default button)
            page.focus("#f-case-id")
            page.keyboard.press("Enter")
            page.wait_for_selector("text=Conclusions")
            assert "At a glance" in page.inner_text(".conclusions")
            text = page.inner_text("main")
            for line in md.splitlines():  # each question's conclusion, as the CLI says it
                if line.startswith("**Outcome"):
                    assert line.strip("*").split(":", 1)[1].strip().rstrip("*") in text
            # the conclusions at a glance, one row per question
            rows = page.locator(".conclusions table.glance-table tbody tr")
            assert rows.count() == len(VOCAB.questions)
            # an open question's link moves the focus to its field
            link = page.locator(".conclusions li a").first
            target = link.get_attribute("href")
            link.click()
            assert page.evaluate("location.hash") == target
            page.screenshot(path=str(tmp_path / "form.png"), full_page=True)
            # the Word download is offered and works from the browser
            with page.expect_download() as download:
                page.click("button[value=docx]")
            assert download.value.suggested_filename == "assessment-EX-NABEK.docx"
            assert problems == [], problems
        finally:
            browser.close()


def test_odd_characters_typed_in_the_form_are_answered_not_crashed_on(browser_client):
    c = browser_client
    for text in ("\x7f", "a\u0085b", "\u0001", "\ud7ff", "x" * 20_000):
        r = post(c, [("csrf", c.csrf), ("applicant.role_and_unit", text),
                     ("action", "docx")])
        assert r.status_code in (200, 422), (repr(text[:5]), r.status_code)
        if r.status_code == 422:  # refused at the field, with the entry kept
            assert 'id="f-applicant-role-and-unit-error"' in r.text


def test_a_bad_list_item_is_shown_at_its_field_and_a_bad_choice_is_kept(browser_client):
    c = browser_client
    r = post(c, [("csrf", c.csrf), ("applicant.prior_measures", "listed"),
                 ("applicant.prior_measures:item", "tortured-by-mistake"),
                 ("applicant.rank", "general")])
    assert r.status_code == 422
    assert 'id="f-applicant-prior-measures-error"' in r.text
    assert '<a href="#f-applicant-prior-measures">' in r.text
    assert '<option value="general" selected>general (as sent: not an allowed value)' in r.text


def test_odd_example_names_are_404s(server):
    for bad in ("a" * 251, "%00", "..", "CON", "religious-objector/"):
        r = httpx.get(server.base + "/", params={"example": bad})
        assert r.status_code == 404 and "There is no teaching example" in r.text
    r = httpx.get(server.base + "/login", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_a_downloaded_case_file_reads_back_whatever_was_typed(browser_client, tmp_path):
    c = browser_client
    typed = "a\x7fb\u0085c\x01d\u2028e \u00e9\u0645 \"q\" \\"
    r = post(c, [("csrf", c.csrf), ("applicant.role_and_unit", typed), ("action", "yaml")])
    assert r.status_code == 200
    saved = tmp_path / "case.yaml"
    saved.write_bytes(r.content)
    back = run_cli("evaluate", str(saved), "-f", "json", "--today", TODAY)
    assert back.code == 0, back.err
    assert read_yaml_file(saved).data["applicant"]["role_and_unit"] == typed


# Characters beyond the Basic Multilingual Plane: an emoji, and a CJK ideograph of a name
# (U+20BB7, the "tsuchi-yoshi" of Japanese family names) that no shipped font draws.
ASTRAL = "Unit \U00020BB7\u91ce of \u738b\u5c0f\u660e \U0001F600"


def test_characters_beyond_the_bmp_are_kept_in_the_page_and_every_download(browser_client,
                                                                           tmp_path):
    import zipfile

    from pypdf import PdfReader

    c = browser_client
    fields = [("csrf", c.csrf), ("case_id", "ASTRAL-1"), ("assessment_date", "2024-06-01"),
              ("applicant.role_and_unit", ASTRAL), ("applicant.time_served", "\U0001F600")]
    page = post(c, fields + [("action", "assess")])
    assert page.status_code == 200, page.text[:3000]
    assert ASTRAL in html.unescape(page.text.split('<article class="report-body"')[1])
    # the case file reads back as typed, and the command line assesses it
    yaml = post(c, fields + [("action", "yaml")])
    assert yaml.status_code == 200
    saved = tmp_path / "case.yaml"
    saved.write_bytes(yaml.content)
    assert read_yaml_file(saved).data["applicant"]["role_and_unit"] == ASTRAL
    assert run_cli("evaluate", str(saved), "-f", "json", "--today", TODAY).code == 0
    md = post(c, fields + [("action", "markdown")])
    assert md.status_code == 200 and ASTRAL in md.content.decode("utf-8")
    docx = post(c, fields + [("action", "docx")])
    assert docx.status_code == 200
    (tmp_path / "a.docx").write_bytes(docx.content)
    with zipfile.ZipFile(tmp_path / "a.docx") as z:
        assert ASTRAL in z.read("word/document.xml").decode("utf-8")
    pdf = post(c, fields + [("action", "pdf")])
    assert pdf.status_code == 200
    (tmp_path / "a.pdf").write_bytes(pdf.content)
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(tmp_path / "a.pdf").pages]
    # the ideograph no font has is named under the header; the rest is drawn
    assert "U+20BB7 CJK UNIFIED IDEOGRAPH-20BB7" in pages[0]
    assert "\u91ce of \u738b\u5c0f\u660e" in " ".join(pages)
    # the HTML document (the API's, from the case file the form gave)
    r = httpx.post(c.base_url.join("/v1/assessments"), params={"format": "html"},
                   content=yaml.content, headers={"content-type": "application/yaml"},
                   timeout=60)
    assert r.status_code == 200 and ASTRAL in html.unescape(r.text)


def test_a_refusal_the_reader_gives_is_shown_at_its_field():
    """The reader names a line, not a key: the line of the form's case file is its field."""
    from riskassess.errors import CaseFileError
    from riskassess.io.reader import parse_yaml_text
    from riskassess.serve.form import field_problems, read_form

    sub = read_form(VOCAB, {"applicant.role_and_unit": [ASTRAL],
                            "applicant.prior_measures": ["listed"],
                            "applicant.prior_measures:item": ["a", "b"]})
    source = sub.yaml_source()
    assert source.isascii() and "\\U00020bb7" in source
    assert parse_yaml_text(source, "form").data["applicant"]["role_and_unit"] == ASTRAL
    lines = source.splitlines()
    at = {sub.field_at_line(n) for n, line in enumerate(lines, 1) if "role_and_unit" in line}
    assert at == {"applicant.role_and_unit"}
    item = next(n for n, line in enumerate(lines, 1) if line.strip() == '"b"')
    assert sub.field_at_line(item) == "applicant.prior_measures"
    broken = source.replace("\\U00020bb7", "\\ud842\\udfb7")  # JSON's escape, which YAML refuses
    with pytest.raises(CaseFileError) as exc:
        parse_yaml_text(broken, "form")
    assert [name for name, _ in field_problems(exc.value, VOCAB, sub)] == [
        "applicant.role_and_unit"]


def test_characters_beyond_the_bmp_where_they_are_not_allowed_are_refused_at_the_field(
        browser_client):
    c = browser_client
    r = post(c, [("csrf", c.csrf), ("case_id", "REF-\U0001F600"),
                 ("applicant.desertion_date", "2019-\U00020BB7"),
                 ("applicant.country_of_origin", "S\U0001F600"),
                 ("applicant.role_and_unit", ASTRAL)])
    assert r.status_code == 422
    summary = r.text.split('<div class="error-summary"')[1].split("</div>")[0]
    for fid in ("f-case-id", "f-applicant-desertion-date", "f-applicant-country-of-origin"):
        assert f'id="{fid}-error"' in r.text and f'<a href="#{fid}">' in summary, fid
    assert summary.count("<li>") == 3  # nothing at the top, nothing about the free text
    assert 'id="f-applicant-role-and-unit-error"' not in r.text
    assert ASTRAL in html.unescape(r.text) and "REF-\U0001F600" in html.unescape(r.text)
