"""The pages of the web form: the blank form, a submitted one (the report, or the
problems at their fields), its downloads, and the sign-in page.

Every page that answers a post carries all the values posted, so nothing typed is lost:
not on an error, and not when the form has expired (the service was restarted, so its
CSRF key changed): the user is told, and submits again.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from riskassess import __version__
from riskassess.errors import CaseFileError, EditionNotEncodedError, OutOfScopeError, UserError
from riskassess.serve.form import (
    DOWNLOADS,
    Field,
    FormError,
    empty_values,
    field_id,
    field_problems,
    fields_of,
    parse_body,
    read_form,
    values_from_case,
)
from riskassess.serve.guard import CSRF_COOKIE, log, signed_in_as, where
from riskassess.serve.service import Answer, ServiceError, refused
from riskassess.words import and_

HTML = "text/html; charset=utf-8"


def _envelope() -> dict[str, Field]:
    return {"case_id": Field("case_id", "f-case-id", "Case reference", "", "text"),
            "assessment_date": Field("assessment_date", "f-assessment-date",
                                     "Assessment date", "", "date"),
            "ruleset": Field("ruleset", "f-ruleset", "Edition of the guidance", "", "enum")}


def page(app, request: Request, *, values: dict[str, Any], status: int = 200,
         summary: list[tuple[str | None, str]] = (), notice: str | None = None,
         outcome=None, document=None) -> Response:
    from riskassess.render.html import backlinks
    from riskassess.render.templating import render as render_template

    service = app.service
    vocab = service.vocabulary
    groups = fields_of(vocab)
    envelope = _envelope()
    ids = {f.name: f.id for _, fs in groups for f in fs} | {
        name: f.id for name, f in envelope.items()}
    labels = {f.name: f.label for _, fs in groups for f in fs} | {
        name: f.label for name, f in envelope.items()}
    errors: dict[str, list[str]] = {}
    # a problem of a name the form has no field for (e.g. the action) is said at the top
    summary = [(name if name in ids else None, message) for name, message in summary]
    for name, message in summary:
        if name:
            errors.setdefault(name, []).append(message)
    report_html = open_questions = None
    if document is not None:
        report = outcome.report
        links = [field_id(o.fact) for o in report.open_questions]
        report_html = Markup(render_template("report_body.html.j2", doc=document,
                                             backlinks=backlinks(document), embedded=True,
                                             open_links=links, annex=True))
        titles = {q.id: q.title for q in vocab.questions}
        open_questions = [(o.fact, labels.get(o.fact, o.fact),
                           and_([titles.get(a, a) for a in o.affects]))
                          for o in report.open_questions]
    csrf, new_cookie = app.csrf_pair(request)
    from riskassess.words import long_date, window

    editions = [(rs.id, rs.edition.title, window(rs.edition, long_date))
                for rs in service.rulesets.values()]
    html = render_template(
        "form.html.j2", version=__version__, doc=document, report_html=report_html,
        open_questions=open_questions, groups=groups, envelope=envelope, values=values,
        errors=errors, summary=list(summary), ids=ids, labels=labels, notice=notice,
        csrf=csrf, editions=editions, today=service.day().isoformat(),
        examples=_examples() if document is None else [], downloads=DOWNLOADS,
        signed_in_as=signed_in_as(request), audited=app.settings.audit is not None)
    response = Response(html.encode("utf-8"), status_code=status, media_type=HTML)
    if new_cookie:
        response.set_cookie(CSRF_COOKIE, new_cookie, httponly=True, samesite="strict", path="/")
    return response


def blank(app, request: Request, example: str | None) -> Response:
    """The form with every fact unknown; or an example's facts, for trainers."""
    vocab = app.service.vocabulary
    if example is None:
        return page(app, request, values=empty_values(vocab))
    from riskassess.io.reader import read_yaml_file
    from riskassess.law.ruleset import default_examples_dir

    known = dict(_examples())
    if example not in known:
        return page(app, request, values=empty_values(vocab), status=404,
                    notice=f"There is no teaching example '{example[:60]}'; choose one from "
                           "the list.")
    doc = read_yaml_file(default_examples_dir() / f"{example}.yaml", error=CaseFileError)
    values = values_from_case(vocab, doc.data)
    dated = (f" and its assessment date ({values['assessment_date']}), which chooses the "
             "edition" if values["assessment_date"] else "")
    return page(app, request, values=values,
                notice=f"The teaching example {known[example]} ({example}) is filled in: its "
                       f"facts, its reference{dated}. Press Assess to see what the guidance "
                       "gives.")


def submitted(app, request: Request, raw: bytes) -> Response:
    """A posted form: the report (or a download), or the problems at their fields.
    Runs in a worker thread (it assesses)."""
    from riskassess.io.reader import parse_yaml_text
    from riskassess.law.case import case_from_document

    service = app.service
    vocab = service.vocabulary
    try:
        form = parse_body(raw)
    except FormError as exc:
        raise ServiceError(400, "bad-request", "Bad request", str(exc)) from None
    sub = read_form(vocab, form)
    if not app.csrf_ok(request, (form.get("csrf") or [""])[0]):
        return page(app, request, values=sub.values, status=403, notice=(
            "This form had expired (the service was restarted, or the page came from "
            "elsewhere), so it was not assessed. Your entries are kept below: submit again."))
    problems = list(sub.problems)  # every problem of the form in one pass
    ruleset = sub.ruleset
    if ruleset is not None and ruleset not in service.rulesets:
        problems.append(("ruleset", f"no encoded edition '{ruleset[:40]}'"))
    try:
        doc = parse_yaml_text(sub.yaml_source(), "form")
        case_from_document(doc, vocab)
    except CaseFileError as exc:
        problems += field_problems(exc, vocab, sub)
    if problems:
        return page(app, request, values=sub.values, status=422, summary=problems)
    try:
        if sub.action == "yaml":
            return _yaml_download(service, doc)
        outcome, document = service.document(doc, ruleset)
    except EditionNotEncodedError as exc:  # said at the date and at the edition
        why = refused(exc, read=True)
        found = [("assessment_date", f"{why.title}: {p.message}") for p in exc.problems]
        found.append(("ruleset", "to assess under an encoded edition anyway, choose it here"))
        return page(app, request, values=sub.values, status=422, summary=found)
    except UserError as exc:  # out of scope: said at the field the scope reads
        why = refused(exc, read=True)
        at = vocab.scope.fact if isinstance(exc, OutOfScopeError) else None
        return page(app, request, values=sub.values, status=422,
                    summary=[(at, f"{why.title}: {p.message}") for p in exc.problems])
    if sub.action != "assess":
        try:
            made = service.render(outcome, sub.action)
        except ServiceError as exc:  # its document cannot be made: said at the top, kept
            if exc.cause is not None:  # logged by type and place, as the app does
                log.error("internal error %s at %s", type(exc.cause).__name__,
                          where(exc.cause))
            said = exc.problems[0].message if exc.problems else exc.detail
            return page(app, request, values=sub.values, status=exc.status,
                        summary=[(None, f"{exc.title}: {said}")])
        # audited once made, with the bytes sent, as the API's downloads are
        app.audited_report(request, outcome.report, "form", sub.action, made.content)
        return _download(made)
    app.audited_report(request, outcome.report, "form")
    return page(app, request, values=sub.values, outcome=outcome, document=document)


def _yaml_download(service, doc) -> Response:
    from riskassess.law.case import case_from_document
    from riskassess.serve.service import download_name
    from riskassess.teach.interview import to_yaml

    case = case_from_document(doc, service.vocabulary)
    text = to_yaml(case, written_by="riskassess serve")
    return _download(Answer(text.encode("utf-8"), "application/yaml; charset=utf-8",
                            download_name(case.case_id, "yaml").replace("assessment-", "case-")))


def _download(a: Answer) -> Response:
    return Response(a.content, media_type=a.media_type,
                    headers={"content-disposition": f'attachment; filename="{a.filename}"'})


def login(app, request: Request, failed: bool, expired: bool = False,
          wait: int = 0) -> Response:
    """The sign-in page: after a wrong token (`failed`), an expired form, or too many
    wrong tokens from this address (`wait` seconds before the next try: 429, a page a
    person reads rather than the API's problem document)."""
    from riskassess.render.templating import render as render_template

    csrf, new_cookie = app.csrf_pair(request)
    html = render_template("login.html.j2", version=__version__, csrf=csrf, failed=failed,
                           expired=expired, wait=wait)
    headers = {"www-authenticate": 'Bearer realm="riskassess"'}
    if wait:
        headers["retry-after"] = str(wait)
    response = Response(html.encode("utf-8"), status_code=429 if wait else 401,
                        media_type=HTML, headers=headers)
    if new_cookie:

        response.set_cookie(CSRF_COOKIE, new_cookie, httponly=True, samesite="strict", path="/")
    return response



def _examples() -> list[tuple[str, str]]:
    """(id, title) of the shipped teaching examples, in the order `examples list` gives."""
    from riskassess.law.ruleset import default_examples_dir

    return list(_examples_in(str(default_examples_dir())))


@lru_cache(maxsize=2)
def _examples_in(folder: str) -> tuple[tuple[str, str], ...]:
    from pathlib import Path

    from riskassess.law.scenarios import load_scenarios

    return tuple((sc.id, sc.meta.title) for sc in load_scenarios(Path(folder)))
