"""Each request's id and timing: log lines carry the id (services/observability/logs.py),
the answer sends it back in X-Request-ID, and its time goes to the latency histogram
(services/observability/metrics.py)."""

from __future__ import annotations

from time import perf_counter

from flask import Flask, g, request

from services.observability import logs, metrics

UNTIMED = {"metrics.metrics"}  # the scrape itself is not a request of the app's


def init_app(app: Flask) -> None:
    """Call before any other hook is registered: the id is set first (so every other
    hook's lines carry it) and forgotten last, and the timing covers the others'."""
    logs.configure(app.config["SETTINGS"].log_format)

    @app.before_request
    def start_request() -> None:
        g.request_started = perf_counter()
        rid = logs.sane_request_id(request.headers.get("X-Request-ID"))
        g.request_id_token = logs.start(rid)

    @app.after_request
    def finish_request(response):
        rid = logs.request_id()
        if rid:
            response.headers["X-Request-ID"] = rid
        started = g.get("request_started")
        if started is not None and request.endpoint not in UNTIMED:
            seconds = perf_counter() - started
            metrics.request_finished(
                request.endpoint, request.method, response.status_code, seconds
            )
        return response

    @app.teardown_request
    def forget_request_id(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.stop(token)
