"""The web form in a real headless Chromium (Debian's chromium, driven by Playwright with no
browser download of its own), against a real `riskassess serve`: what a person sees and
what a screen reader is given.

- Reflow (WCAG 1.4.10): at 1,280, 375 and 320 CSS pixels nothing is wider than the window
  (`document.documentElement.scrollWidth <= window.innerWidth`), for the blank form, every
  teaching example opened in it, a form with errors and result pages.
- After a refused post the focus is on the error summary (no JavaScript: `autofocus`).
- Codes (outcome and fact codes) are not in the accessible names: a screen reader says the
  words.
"""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import EXAMPLES, VOCAB

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian package chromium; .ci/run "
                             "installs it)")]
WIDTHS = (1280, 375, 320)
EXAMPLE_IDS = sorted(p.stem for p in EXAMPLES.glob("*.yaml")
                     if not p.name.endswith(".expected.yaml"))
# The widest thing a page holds, when it is too wide: named in the failure message.
WIDEST = """() => {
  const w = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')]
    .map(e => [e, e.getBoundingClientRect()]).filter(([e, r]) => r.right > w + 0.5)
    .map(([e, r]) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
         (e.className ? '.' + e.className : '') + ' to ' + Math.round(r.right) + 'px');
  return [document.documentElement.scrollWidth, w, wide.slice(-5)];
}"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    pg = browser.new_page(viewport={"width": WIDTHS[0], "height": 900})
    problems: list[str] = []
    # a refused post's status (422) is said on the console: expected, not a problem
    pg.on("console", lambda m: None if re.search(r"status of 4\d\d", m.text)
          else problems.append(m.text))
    pg.on("pageerror", lambda e: problems.append(str(e)))
    yield pg
    pg.close()
    assert problems == [], problems


def fits(pg, what: str) -> list[str]:
    """At each width, whether the page is wider than the window; what is wrong, if so."""
    wrong = []
    for width in WIDTHS:
        pg.set_viewport_size({"width": width, "height": 900})
        scroll, inner, wide = pg.evaluate(WIDEST)
        if scroll > inner:
            wrong.append(f"{what} at {width}px: {scroll}px wide ({'; '.join(wide)})")
    return wrong


def submit(pg) -> None:
    """Submit the form with the keyboard (Enter in a text field) and wait for the answer."""
    pg.focus("#f-case-id")
    with pg.expect_navigation():
        pg.keyboard.press("Enter")


def test_the_blank_form_and_every_example_reflow(server, page):
    wrong = []
    page.goto(server.base + "/")
    wrong += fits(page, "the blank form")
    for example in EXAMPLE_IDS:
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        page.goto(f"{server.base}/?example={example}")
        assert page.locator(".notice").count() == 1, example
        wrong += fits(page, example)
    assert wrong == [], "\n".join(wrong)


def test_a_form_with_errors_and_result_pages_reflow(server, page):
    wrong = []
    page.goto(server.base + "/")
    page.fill("#f-applicant-desertion-date", "2019-13")
    page.select_option("#f-ruleset", index=1)  # the longest option text of the page
    page.fill("#f-applicant-role-and-unit", "x" * 300)  # a value with no break in it
    submit(page)
    assert page.locator(".error-summary").count() == 1
    wrong = fits(page, "a form with errors")
    for example in ("religious-objector", "rank-unknown-deserter", "daraa-conscript-amnesty"):
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        page.goto(f"{server.base}/?example={example}")
        page.fill("#f-applicant-role-and-unit", "Unit \U00020BB7 " + "y" * 300)
        submit(page)
        assert page.locator(".conclusions").count() == 1, example
        wrong += fits(page, f"the result of {example}")
    assert wrong == [], "\n".join(wrong)


def test_the_glance_keeps_its_table_and_names_each_value_when_stacked(server, page):
    page.goto(f"{server.base}/?example=rank-unknown-deserter")
    submit(page)
    # a wide window keeps the table, its words whole (a question's one-word title on one line)
    titles = page.locator(".conclusions .glance-table th[scope=row] a")
    assert titles.count() == len(VOCAB.questions)
    assert titles.evaluate_all("as => as.map(a => a.getClientRects().length)") == [
        1] * len(VOCAB.questions)
    page.set_viewport_size({"width": 320, "height": 900})
    table = page.locator(".conclusions table.glance-table")
    # still a table to a screen reader: a row per question, a cell per column
    assert page.get_by_role("table").first.is_visible()
    assert table.get_by_role("row").count() == len(VOCAB.questions) + 1
    assert table.get_by_role("cell").count() == 4 * len(VOCAB.questions)
    # and each value is shown under its column's name
    first = table.locator("tbody td").first
    before = first.evaluate("e => getComputedStyle(e, '::before').content")
    assert before == '"Outcome: "', before


def test_after_a_refused_post_the_focus_is_on_the_error_summary(server, page):
    page.goto(server.base + "/")
    page.fill("#f-applicant-desertion-date", "2019-13")
    page.select_option("#f-applicant-rank", "officer")
    submit(page)
    assert page.title().startswith("Error: ")
    focused = page.evaluate("[document.activeElement.id, document.activeElement.className]")
    assert focused == ["error-summary", "error-summary"], focused
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    assert summary.get_attribute("tabindex") == "-1"
    # the summary's first link moves the focus to its field
    link = summary.locator("a").first
    target = link.get_attribute("href")
    link.click()
    assert page.evaluate("'#' + document.activeElement.id") == target
    # a post that is assessed focuses no summary
    page.goto(f"{server.base}/?example=religious-objector")
    submit(page)
    assert page.evaluate("document.activeElement.id") != "error-summary"


SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def test_codes_are_not_read_aloud(server, page):
    """Outcome, value and fact codes are shown, if at all, hidden from the accessibility
    tree; the only codes left in it are those the rule files' own descriptions of the facts
    write (the law's text, not the form's)."""
    from_rules = {code for spec in VOCAB.facts.values()
                  for code in SNAKE.findall(spec.description or "")}
    from_rules |= {code for g in VOCAB.groups for code in SNAKE.findall(g.description or "")}
    page.goto(f"{server.base}/?example=religious-objector")
    submit(page)
    for where in (".conclusions", "#case-form"):
        tree = page.locator(where).aria_snapshot()
        codes = sorted(set(SNAKE.findall(tree)) - from_rules)
        assert codes == [], (where, codes[:20])
    # a choice and a ticked item are named by their words alone
    for spec in VOCAB.facts.values():
        if spec.kind in ("enum", "set"):
            role = "checkbox" if spec.kind == "set" else "option"
            for value in spec.values:
                words = spec.meanings[str(value)]
                found = page.get_by_role(role, name=words, exact=True)
                assert found.count() >= 1, (spec.path, value, words)
    # every field is still reachable by its label, as a screen reader names it
    for spec in VOCAB.facts.values():
        if spec.kind != "set":
            name = re.compile("^" + re.escape(spec.label) + r"( \(recorded only\))?$")
            assert page.get_by_label(name).count() == 1, spec.label
