"""`riskassess serve`: the routes of the HTTP API and the web form, on Starlette.

Why Starlette rather than FastAPI: the request bodies are case files that must be read
by riskassess's own reader (positions, duplicate keys, size and depth limits) and
validated by the vocabulary's case model, with the CLI's located problems; and the
OpenAPI document is built from the vocabulary's own JSON Schemas. FastAPI's value is
doing both from type hints, which here would be a second reader and a second schema to
keep in step. Starlette gives the routing and the ASGI plumbing, and nothing else.

Everything a request could abuse is bounded: the Host header (against DNS rebinding), the
token, the security headers and the log line by the guard in front of the routes
(guard.py, which also holds the sessions, the Origin check and the CSRF token of form
posts); the body's size and the time a request may take, and the number of assessments at
once, by the routes (responses.py). No log line holds a request body, a query string or a
fact: only the client address, method, path, status and time. runner.py starts uvicorn.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from functools import cache, partial

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from riskassess.serve.audit import assessment_fields, pretty_report
from riskassess.serve.batch import batches
from riskassess.serve.guard import (
    SESSION_COOKIE,
    Guard,
    Settings,
    check_origin,
    client_of,
    csrf_ok,
    csrf_pair,
    end_session,
    principal,
    session_cookie,
    set_cookie,
    signed_in,
    where,
)
from riskassess.serve.responses import (
    Slots,
    Ticket,
    answer,
    in_thread,
    json_response,
    media_type,
    problem,
    query,
    read_body,
)
from riskassess.serve.service import (
    FORMATS,
    JSON_TYPES,
    YAML_TYPES,
    Answer,
    Service,
    ServiceError,
)

log = logging.getLogger("riskassess.serve")


@cache
def _static_file(name: str) -> tuple[bytes, str]:
    """A style sheet's bytes and strong ETag, read once (they change only with a release)."""
    from riskassess.render.templating import TEMPLATES

    data = (TEMPLATES / name).read_bytes()
    return data, f'"{hashlib.sha256(data).hexdigest()}"'


class App:
    """The routes, with the service and the settings they share."""

    def __init__(self, service: Service, settings: Settings):
        self.service, self.settings = service, settings
        self.slots = Slots(settings.max_concurrent, settings.max_queue)
        from riskassess.serve.openapi import document

        self.openapi = document(service)

    # -- the API

    async def assessments(self, request: Request) -> Response:
        deadline = time.monotonic() + self.settings.timeout
        params = query(request, ("format", "ruleset"))
        fmt = params.get("format", "json")
        if fmt not in FORMATS:
            raise ServiceError(400, "bad-parameter", "A parameter cannot be acted on",
                               f"format '{fmt[:40]}' is not one of {', '.join(FORMATS)}",
                               exit_code=2)
        ruleset = params.get("ruleset") or None
        kind = media_type(request, YAML_TYPES + JSON_TYPES)
        self.service.check_ruleset(ruleset)
        # the body first: a slow upload holds a connection, never an assessment's slot
        raw = await read_body(request, deadline)
        ticket = await self._ticket(deadline)
        try:
            done = await self._bounded(ticket, deadline, self._assess, raw, kind, fmt, ruleset)
        finally:
            ticket.drop()
        self.audited_answer(request, done, fmt, "api")
        return answer(done)

    def _assess(self, raw: bytes, kind: str, fmt: str, ruleset: str | None) -> Answer:
        doc = self.service.read(raw, kind)
        return self.service.assess(doc, fmt, ruleset)

    async def _ticket(self, deadline: float) -> Ticket:
        """An assessment's slot, waited for in turn (responses.Slots) until the deadline."""
        return await self.slots.take(deadline, self.settings.timeout)

    async def _bounded(self, ticket: Ticket, deadline: float, fn, *args):
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                return await in_thread(ticket, fn, *args)
        except TimeoutError:
            self.slots.refused("timeout")
            raise ServiceError(503, "timeout", "The assessment took too long",
                               f"no answer within {self.settings.timeout:g} s",
                               headers={"retry-after": "1"}) from None

    async def rulesets(self, request: Request) -> Response:
        query(request, ())
        return json_response(self.service.rulesets_index())

    async def ruleset(self, request: Request) -> Response:
        query(request, ())
        return json_response(self.service.ruleset(request.path_params["ruleset_id"]))

    async def rule(self, request: Request) -> Response:
        params = query(request, ("ruleset",))
        return json_response(self.service.rule(request.path_params["rule_id"],
                                               params.get("ruleset") or None))

    async def coi(self, request: Request) -> Response:
        params = query(request, ("ruleset",))
        return json_response(self.service.paragraph(request.path_params["paragraph_id"],
                                                    params.get("ruleset") or None))

    async def schema(self, request: Request) -> Response:
        query(request, ())
        which = request.path_params["which"]
        if which not in ("case", "report"):
            raise ServiceError(404, "not-found", "No such schema",
                               f"no schema '{which[:40]}' (there are: case, report)")
        return Response(self.service.schema(which), media_type="application/schema+json")

    async def health(self, request: Request) -> Response:
        query(request, ())
        return json_response(self.service.health())

    async def ready(self, request: Request) -> Response:
        """Whether to send this service more work: its rule sets are loaded and a new
        assessment would be taken or queued (503 otherwise), with what that reflects."""
        query(request, ())
        used, waiting = self.slots.state()
        state = {"rulesets": sorted(self.service.rulesets),
                 "slots": {"in_use": used, "limit": self.slots.n},
                 "queue": {"length": waiting, "limit": self.slots.queue}}
        if not self.service.rulesets:
            raise ServiceError(503, "not-ready", "Not ready", "no rule set is loaded",
                               headers={"retry-after": "1"}, extra=state)
        if self.slots.full():
            raise ServiceError(503, "not-ready", "Not ready",
                               "every assessment slot is in use and the queue is full",
                               headers={"retry-after": "1"}, extra=state)
        if self.settings.audit is not None and self.settings.audit.failing:
            raise ServiceError(503, "not-ready", "Not ready",
                               "the last line of the audit trail could not be written",
                               headers={"retry-after": "10"}, extra=state)
        return json_response({"status": "ready", **state})

    async def metrics_text(self, request: Request) -> Response:
        query(request, ())
        return Response(self.metrics.text(), media_type=self.metrics.media_type)

    async def openapi_json(self, request: Request) -> Response:
        query(request, ())
        return Response(self.openapi, media_type="application/json")

    # -- the form

    async def form(self, request: Request) -> Response:
        from riskassess.serve import pages

        params = query(request, ("example",))
        if not self._signed_in(request):
            return self._login_page(request)
        return pages.blank(self, request, params.get("example"))

    async def submit(self, request: Request) -> Response:
        from riskassess.serve import pages

        self._check_origin(request)
        if not self._signed_in(request):
            return self._login_page(request)
        deadline = time.monotonic() + self.settings.timeout
        media_type(request, ("application/x-www-form-urlencoded",))
        raw = await read_body(request, deadline)
        ticket = await self._ticket(deadline)
        try:
            return await self._bounded(ticket, deadline, pages.submitted, self, request, raw)
        finally:
            ticket.drop()

    async def _small_form(self, request: Request) -> dict[str, list[str]]:
        """The fields of a sign-in or sign-out post, from the service's own origin."""
        from riskassess.serve.form import FormError, parse_body

        self._check_origin(request)
        media_type(request, ("application/x-www-form-urlencoded",))
        raw = await read_body(request, time.monotonic() + self.settings.timeout)
        try:
            return parse_body(raw)
        except FormError as exc:
            raise ServiceError(400, "bad-request", "Bad request", str(exc)) from None

    async def login(self, request: Request) -> Response:
        form = await self._small_form(request)
        settings = self.settings
        if not settings.token_mode:
            return RedirectResponse("/", status_code=303)
        if not self.csrf_ok(request, (form.get("csrf") or [""])[0]):
            return self._login_page(request, expired=True)
        client = client_of(request.scope)
        wait = settings.limiter.wait(client)
        if wait:  # before the token is compared: a guess now would not be slowed down
            settings.refused_event(client, "sign-in", "rate-limited")
            return self._login_page(request, wait=wait)  # a page: a person reads it
        name = settings.keyring.match((form.get("token") or [""])[0])
        if name is None:
            settings.limiter.fail(client)
            settings.refused_event(client, "sign-in", "wrong token")
            return self._login_page(request, failed=True)
        value, max_age = session_cookie(request, settings, name)
        settings.event("sign-in", principal=name, client=client)
        out = RedirectResponse("/", status_code=303)
        set_cookie(out, request, SESSION_COOKIE, value, max_age=max_age)
        return out

    async def logout(self, request: Request) -> Response:
        """Sign out: the session ends (its cookie is refused from now on, a copy too) and
        the cookie is deleted. A post of the form, with its CSRF token."""
        form = await self._small_form(request)
        if not self.csrf_ok(request, (form.get("csrf") or [""])[0]):
            raise ServiceError(403, "forbidden-csrf", "The form had expired",
                               "the sign-out form had expired (or came from elsewhere): "
                               "reload the page and sign out again")
        name = end_session(request, self.settings)
        if name is not None:
            self.settings.event("sign-out", principal=name, client=client_of(request.scope))
        out = RedirectResponse("/", status_code=303)
        set_cookie(out, request, SESSION_COOKIE, "", max_age=0)
        return out

    # -- the audit trail

    def audited(self, request: Request, report_json: bytes, via: str,
                fmt: str = "json", sent: bytes | None = None) -> None:
        """Write an assessment to the audit log (when there is one): who, the case
        reference, the edition, the outcomes and the sha256 of `report_json` (the report
        as `riskassess evaluate --format json` prints it); for another format, the sha256
        of the bytes `sent` too. `via` says which endpoint (api, form, batch)."""
        if self.settings.audit is None:
            return
        ids = [q.id for q in self.service.vocabulary.questions]
        fields = assessment_fields(report_json, ids)
        if fmt != "json" and sent is not None:
            fields["format"], fields["sent_sha256"] = fmt, hashlib.sha256(sent).hexdigest()
        if not self.settings.event("assessment", principal=principal(request), via=via,
                                   **fields):
            raise ServiceError(503, "audit-unavailable", "The audit trail cannot be written",
                               "the assessment was made but is not given: its line in the "
                               "audit trail could not be written (the service's log says "
                               "why); try again later", headers={"retry-after": "10"})

    def audited_answer(self, request: Request, done: Answer, fmt: str, via: str) -> None:
        """`audited` for the API's answer in format `fmt`."""
        if self.settings.audit is None:
            return
        if fmt == "json":
            self.audited(request, done.content, via)
        else:
            self.audited_report(request, done.report, via, fmt, done.content)

    def audited_report(self, request: Request, report, via: str, fmt: str = "json",
                       sent: bytes | None = None) -> None:
        """`audited` for a report model (the form's; a batch's)."""
        if self.settings.audit is not None:
            self.audited(request, pretty_report(report.model_dump_json().encode()), via,
                         fmt, sent)

    async def static(self, request: Request) -> Response:
        """A style sheet, with a strong ETag (its bytes' sha256) and `no-cache`: a browser
        keeps it but asks each time whether it changed (it may, with a new release), and
        an unchanged one costs a 304 with no body."""
        name = request.path_params["name"]
        if name not in ("report.css", "form.css"):
            raise ServiceError(404, "not-found", "Not found", "no such file")
        data, etag = _static_file(name)
        headers = {"etag": etag, "cache-control": "no-cache"}
        given = request.headers.get("if-none-match", "")
        # weak comparison (RFC 9110 13.1.2): W/"x" matches "x"; * matches any
        if given.strip() == "*" or etag in (t.strip().removeprefix("W/")
                                            for t in given.split(",")):
            return Response(status_code=304, headers=headers)
        return Response(data, media_type="text/css; charset=utf-8", headers=headers)

    # -- sessions, CSRF and Origin (guard.py)

    def _signed_in(self, request: Request) -> bool:
        return signed_in(request, self.settings)

    def _login_page(self, request: Request, failed: bool = False,
                    expired: bool = False, wait: int = 0) -> Response:
        from riskassess.serve import pages

        return pages.login(self, request, failed, expired, wait)

    def csrf_pair(self, request: Request) -> tuple[str, str | None]:
        return csrf_pair(request, self.settings)

    def csrf_ok(self, request: Request, given: str) -> bool:
        return csrf_ok(request, self.settings, given)

    def _check_origin(self, request: Request) -> None:
        check_origin(request, self.settings)

    def starlette(self) -> Starlette:
        routes = [
            Route("/", self.form, methods=["GET"]),
            Route("/", self.submit, methods=["POST"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/login", lambda request: RedirectResponse("/", status_code=303),
                  methods=["GET"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/static/{name}", self.static, methods=["GET"]),
            Route("/favicon.ico", lambda request: Response(status_code=204), methods=["GET"]),
            Route("/healthz", self.health, methods=["GET"]),
            Route("/readyz", self.ready, methods=["GET"]),
            Route("/metrics", self.metrics_text, methods=["GET"]),
            Route("/openapi.json", self.openapi_json, methods=["GET"]),
            Route("/v1/assessments", self.assessments, methods=["POST"]),
            Route("/v1/batches", partial(batches, self), methods=["POST"]),
            Route("/v1/rulesets", self.rulesets, methods=["GET"]),
            Route("/v1/rulesets/{ruleset_id}", self.ruleset, methods=["GET"]),
            Route("/v1/rules/{rule_id}", self.rule, methods=["GET"]),
            Route("/v1/coi/{paragraph_id}", self.coi, methods=["GET"]),
            Route("/v1/schema/{which}", self.schema, methods=["GET"]),
        ]
        handlers = {ServiceError: _service_error, HTTPException: _http_error,
                    Exception: _internal_error}
        return Starlette(routes=routes, exception_handlers=handlers)


async def _service_error(request: Request, exc: ServiceError) -> Response:
    if exc.cause is not None:
        logged(exc.cause)
    return problem(exc)


def logged(cause: BaseException) -> None:
    """An internal error behind an answer, logged by its type and place, never its value."""
    log.error("internal error %s at %s", type(cause).__name__, where(cause))


async def _http_error(request: Request, exc: HTTPException) -> Response:
    titles = {404: ("not-found", "Not found", "no such endpoint; see /openapi.json"),
              405: ("method-not-allowed", "Method not allowed",
                    f"{request.method} is not allowed here")}
    kind, title, detail = titles.get(exc.status_code, ("http", "Request refused", exc.detail))
    headers = dict(exc.headers or {})
    return problem(ServiceError(exc.status_code, kind, title, detail, headers=headers))


async def _internal_error(request: Request, exc: Exception) -> Response:
    return problem(ServiceError(500, "internal", "Internal error",
                                "an internal error; the service's log names where it arose"))



def build(service: Service, settings: Settings):
    """The ASGI application: the app inside its guard, counted and timed (metrics.py)."""
    from riskassess.serve.metrics import Metrics

    app = App(service, settings)
    app.metrics = Metrics(app.slots, service)
    return app.metrics.middleware(Guard(app.starlette(), settings))
