"""The service's metrics, in Prometheus's text format (`GET /metrics`), by prometheus_client.

What is counted: requests by route template (`/v1/rules/{rule_id}`, never the path a client
sent, nor its query, so that no id of a case or a rule becomes a label), method and status;
their latency; the assessment slots in use and the requests waiting for one
(responses.Slots); the requests the slots refused, by kind (busy, queue-full, timeout); and
the documents a renderer failed to make, by format and kind (service.render).

The registry is the application's own, not prometheus_client's global one, so that two
applications in one process (the tests) or several workers never share counts; each worker
process answers for itself. The gauges and the refusal and failure counts are read from the
slots and the service when /metrics is read, so nothing is counted twice. Requests answered
by uvicorn itself, before the application (its connection cap's 503), are not seen here: its
log says "Exceeded concurrency limit".

prometheus_client is imported only here, and this module only by the service's app.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _text
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from riskassess.serve.responses import REFUSALS

NO_ROUTE = "(none)"  # the label of a request no route matched (a 404): never its path
# seconds: a JSON assessment takes a few milliseconds, a PDF about a second; the timeout 30
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The application's registry: the request counters and a collector of the state."""

    media_type = CONTENT_TYPE_LATEST  # the text format generate_latest writes

    def __init__(self, slots, service):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "riskassess_http_requests", "Requests answered, by route template, method and "
            "status", ("route", "method", "status"), registry=self.registry)
        self.latency = Histogram(
            "riskassess_http_request_duration_seconds", "Time from a request's arrival to "
            "the end of its answer, by route template", ("route",), buckets=BUCKETS,
            registry=self.registry)
        self.registry.register(_State(slots, service))

    def text(self) -> bytes:
        return _text(self.registry)

    def middleware(self, app):
        """An ASGI middleware around `app` that counts and times every HTTP request."""
        async def observed(scope, receive, send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            start = time.perf_counter()
            status = ["none"]  # the client went before an answer started

            async def send_status(message) -> None:
                if message["type"] == "http.response.start":
                    status[0] = str(message["status"])
                await send(message)

            try:
                await app(scope, receive, send_status)
            finally:
                route = scope.get("route")  # set by Starlette's router when a route matched
                template = getattr(route, "path", None) or NO_ROUTE
                self.requests.labels(template, _method(scope), status[0]).inc()
                self.latency.labels(template).observe(time.perf_counter() - start)

        return observed


def _method(scope) -> str:
    method = scope.get("method", "")
    known = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    return method if method in known else "other"  # a client cannot make up labels


class _State:
    """The slots, the queue, the refusals and the renderer failures, read at each scrape."""

    def __init__(self, slots, service):
        self.slots, self.service = slots, service

    def collect(self):
        used, waiting = self.slots.state()
        for name, help_, value in (
                ("riskassess_slots_in_use", "Assessment slots in use", used),
                ("riskassess_slots", "Assessment slots (--max-concurrent)", self.slots.n),
                ("riskassess_queue_length", "Assessments waiting for a slot", waiting),
                ("riskassess_queue_limit", "Assessments that may wait (--max-queue)",
                 self.slots.queue)):
            yield GaugeMetricFamily(name, help_, value=value)
        refusals = CounterMetricFamily(
            "riskassess_refusals", "Assessments refused with 503, by kind: busy (no slot "
            "and no queue), queue-full, timeout (no slot, or no answer, by the deadline)",
            labels=("kind",))
        with self.slots.lock:
            counts = dict(self.slots.refusals)
        for kind in REFUSALS:
            refusals.add_metric((kind,), counts.get(kind, 0))
        yield refusals
        failures = CounterMetricFamily(
            "riskassess_renderer_failures", "Documents a renderer could not make, by format "
            "and kind: document-not-made (422, the renderer said why), renderer-failed (500)",
            labels=("format", "kind"))
        with self.service.lock_counts:
            made = dict(self.service.render_failures)
        for (fmt, kind), n in sorted(made.items()):
            failures.add_metric((fmt, kind), n)
        yield failures
