"""One place where domain errors and HTTP errors become responses."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from flask import Flask, jsonify, render_template, request
from peewee import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from services.errors import (
    DeviceTaken,
    DomainError,
    Forbidden,
    IdempotencyConflict,
    Invalid,
    InvalidCredentials,
    LimitReached,
    NotChangeable,
    NotFound,
    OutsideCancellationWindow,
    PaymentDeclined,
    PaymentUnavailable,
    SlotTaken,
)

log = logging.getLogger("kairos.errors")

STATUS = {
    Invalid: 422,
    NotFound: 404,
    Forbidden: 403,
    InvalidCredentials: 401,
    SlotTaken: 409,
    # 409, not 422: the request is well formed, it conflicts with the bookings the
    # customer already holds, and the same request succeeds once they cancel one.
    LimitReached: 409,
    OutsideCancellationWindow: 409,
    NotChangeable: 409,
    IdempotencyConflict: 409,
    DeviceTaken: 409,
    PaymentDeclined: 402,
    PaymentUnavailable: 503,
}


def status_for(error: DomainError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)


def error_body(error: DomainError) -> dict:
    from views.api_json import slot_json  # avoid an import cycle with the API views

    body = {"error": error.code, "message": error.message}
    if isinstance(error, Invalid):
        body["fields"] = error.fields
    if isinstance(error, SlotTaken):
        tz = ZoneInfo(error.timezone)
        body["alternatives"] = [slot_json(slot, tz) for slot in error.alternatives]
    if isinstance(error, LimitReached):
        body["limit"], body["allowed"] = error.limit, error.allowed
    if isinstance(error, OutsideCancellationWindow):
        body["deadline"] = error.deadline.astimezone(ZoneInfo(error.timezone)).isoformat()
    return body


def _wants_json() -> bool:
    # A client that sent JSON (the API, static/js/push.js) reads its error as JSON.
    return (
        request.path.startswith("/api/") or request.path in ("/health", "/ready") or request.is_json
    )


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if _wants_json():
            return jsonify(error_body(error)), status_for(error)
        return _page(status_for(error), error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _wants_json():
            body = {
                "error": (error.name or "error").lower().replace(" ", "_"),
                "message": error.description,
            }
            response = jsonify(body)
            response.status_code = error.code or 500
            for name, value in error.get_headers():
                if name.lower() not in ("content-type", "content-length"):
                    response.headers[name] = value
            return response
        return _page(error.code or 500, error.description)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_down(error: Exception):
        log.error("database unavailable on %s %s: %s", request.method, request.path, error)
        return http_error(ServiceUnavailable("The database is not answering. Try again shortly."))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return http_error(InternalServerError())


def _page(status: int, message: str):
    return render_template("error.html", status=status, message=message), status
