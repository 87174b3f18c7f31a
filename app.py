"""The application factory: blueprints, the database connection and the notifications
to send per request, the CLI."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import partial

from flask import Flask, g

import commands
from config import ROOT, Settings
from models import db, open_database, release_connection
from services import crypto
from services.booking import slot_cache
from services.notifications.outbox import Dispatch
from services.observability import logs
from services.payments import gateway as payments_gateway
from views import observability


def create_app(settings: Settings | None = None, **config: object) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SETTINGS=settings,
        CLOCK=lambda: datetime.now(UTC),
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.https_only,
        SESSION_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_DURATION=timedelta(days=30),
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.https_only,
        REMEMBER_COOKIE_HTTPONLY=True,
        # The largest thing anyone sends is a logo (512 KB at most): refuse more with
        # 413 before reading it.
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.config.update(config)
    app.json.sort_keys = False
    observability.init_app(app)  # logs, request ids, latency: before the other hooks

    db.initialize(open_database(settings.database_url))
    crypto.configure(settings.encryption_keys)  # secrets at rest (models.EncryptedTextField)
    payments_gateway.configure(settings)  # Stripe: the environment's keys, where it is
    slot_cache.configure(  # computed slots shared in Redis, when there is one
        settings.redis_url, settings.slot_cache_prefix, settings.slot_cache_seconds
    )

    @app.before_request
    def open_connection() -> None:
        # What the request's services write to the outbox, for the worker (see below).
        g.dispatch = Dispatch()
        # The connection is taken from the pool by the first query (peewee connects on
        # first use), so a request that asks the database nothing costs it nothing.

    @app.teardown_request
    def close_connection(_exc: BaseException | None) -> None:
        release_connection()
        dispatch = g.pop("dispatch", None)
        if dispatch is not None and (dispatch.ids or dispatch.calendars):
            _dispatch(app, dispatch)

    from views import (
        account,
        api,
        appointments,
        booking,
        business,
        calendar,
        claims,
        errors,
        health,
        identity,
        limits,
        metrics,
        notifications,
        payments,
        privacy,
        public,
        pwa,
        security,
        sessions,
        storefront,
        support,
        web,
        workspace,
    )

    app.url_map.converters["id"] = support.IdConverter  # before the blueprints' routes
    app.jinja_env.globals["absolute_url"] = support.absolute_url
    web.init_app(app)
    security.init_app(app)  # headers on every response
    limits.init_app(app)  # rate limits: their counters, the 429 answer
    blueprints = (
        health.bp,
        metrics.bp,
        api.bp,
        pwa.bp,
        storefront.bp,
        account.bp,
        claims.bp,
        sessions.bp,
        *identity.BLUEPRINTS,
        notifications.bp,
        payments.bp,
        payments.webhook,
        appointments.bp,
        calendar.bp,
        workspace.bp,
        business.bp,
        booking.bp,
        privacy.bp,
        privacy.api,
        public.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    web.csrf.exempt(api.bp)  # the API authenticates with bearer tokens, not cookies
    web.csrf.exempt(payments.webhook)  # Stripe signs its requests (services/payments)
    errors.register(app)
    commands.register(app)
    return app


def _dispatch(app: Flask, dispatch: Dispatch) -> None:
    """Hand the worker what this request's services wrote to their outboxes, now that
    its transactions are over (they add ids only once theirs has committed): the
    notifications to send, and the two-way calendars with appointments to write
    (services/calendar/outbox.py). If the queue cannot be reached, the minute's sweeps
    catch up. Tests replace the queues with the ``DISPATCH`` and ``CALENDAR_DISPATCH``
    settings."""
    handed = (
        ("notifications", "DISPATCH", "enqueue", dispatch.ids),
        ("calendars", "CALENDAR_DISPATCH", "push_calendar_changes", sorted(dispatch.calendars)),
    )
    for what, setting, task, ids in handed:
        if not ids:
            continue
        try:
            enqueue = app.config.get(setting)
            if enqueue is None:
                import tasks  # not before it is needed: it opens the queue

                enqueue = partial(getattr(tasks, task), request_id=logs.request_id())
            enqueue(ids)
        except Exception:  # the response is already decided; the sweep will catch up
            logging.getLogger("kairos").exception("%s.enqueue_failed ids=%s", what, ids)
