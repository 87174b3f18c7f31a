"""Fixtures: the app on each database, a frozen clock, API clients, a live server.

Every test that uses ``app`` runs on SQLite and, when TEST_DATABASE_URL is set, on
PostgreSQL too. Each backend's database is created and migrated once per test
process; tables are emptied before every test.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from flask import current_app
from flask.testing import FlaskClient

from app import create_app
from config import Settings
from migrations import upgrade
from models import ALL_MODELS, AuditEntry, db, is_sqlite, open_database
from services.accounts.auth import issue_token
from tests import factories
from tests.compiled import TEMPLATE_CODE, reuse_url_builders
from tests.server import TEST_ENCRYPTION_KEY, gunicorn

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", *(["postgresql"] if TEST_DATABASE_URL else [])]

reuse_url_builders()  # tests/compiled.py


def _server_url(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


class Databases:
    """The migrated databases of this test process, one of each kind, made when first
    asked for and dropped when the session ends.

    ``database_url`` is parametrized (SQLite, PostgreSQL) at session scope, and pytest
    sets such a fixture up again whenever the parameter changes: with ``--dist
    loadscope`` a worker runs each module's SQLite tests, then its PostgreSQL ones, so
    that happens about twice per module. Here it only costs a dictionary look-up; each
    database is migrated once, and DROP DATABASE (a PostgreSQL checkpoint, seconds)
    runs once per worker, at the end, not once per module."""

    def __init__(self, tmp_path_factory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.urls: dict[str, str] = {}
        self.drops: list[str] = []

    def url(self, kind: str) -> str:
        if kind not in self.urls:
            self.urls[kind] = self._migrated(kind)
        return self.urls[kind]

    def _migrated(self, kind: str) -> str:
        if kind == "sqlite":
            url = f"sqlite:///{self.tmp_path_factory.mktemp('sqlite') / 'kairos.db'}"
            upgrade(open_database(url))
            return url
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        name = f"kairos_test_{worker}_{secrets.token_hex(4)}"
        with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        self.drops.append(name)
        url = _server_url(TEST_DATABASE_URL, name)
        upgrade(open_database(url))
        return url

    def drop(self) -> None:
        if not self.drops:
            return
        with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
            for name in self.drops:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    made = Databases(tmp_path_factory)
    yield made
    made.drop()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, databases):
    """A migrated database of each kind, private to this test process."""
    return databases.url(request.param)


@dataclass
class Clock:
    """A clock that stands still until a test moves it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    # Wednesday 25 November 2026, 12:00 in London (GMT, so also 12:00 UTC).
    return Clock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))


def _empty_tables() -> None:
    if is_sqlite():
        for model in reversed(ALL_MODELS):
            if model is not AuditEntry:  # append-only: its rows go with their organisation
                model.delete().execute()
    else:
        db.execute_sql(EMPTY_POSTGRESQL)


# What TRUNCATE ... RESTART IDENTITY CASCADE of every table did, at a fraction of the cost:
# TRUNCATE makes new files for each table and index (0.1-1 s for the lot, before every
# test), DELETE of a few rows takes milliseconds. With the triggers off (the role), the
# append-only tables let go of their rows and the order of the foreign keys is no matter.
EMPTY_POSTGRESQL = """
DO $$
DECLARE
    name regclass;
BEGIN
    SET LOCAL session_replication_role = replica;
    FOR name IN
        SELECT oid FROM pg_class
        WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace
          AND relname <> 'schema_migration'
    LOOP
        EXECUTE 'DELETE FROM ' || name;
    END LOOP;
    PERFORM setval(d.objid, 1, false)
    FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE d.deptype IN ('a', 'i') AND t.relnamespace = 'public'::regnamespace
      AND t.relname <> 'schema_migration';
END $$
"""


@pytest.fixture
def dispatched() -> list[int]:
    """The notification ids the app handed to the worker, in order (no worker runs)."""
    return []


@pytest.fixture
def calendars_dispatched() -> list[int]:
    """The two-way calendars the app handed to the worker to write to (no worker runs)."""
    return []


def send_link_at_once(job) -> None:
    """The ACCOUNT_MAIL queue of tests: the worker's half of an emailed link, done within
    the request, so a test finds the mail in its outbox (or SMTP server) right away.
    (tests/integration/test_ratelimits_mail.py checks the real queue and worker.)"""
    from services.accounts.account import send_link
    from views.support import mail_config, now

    send_link(job, now(), secret=current_app.config["SECRET_KEY"], mail=mail_config())


@pytest.fixture
def app_settings(request) -> dict:
    """Settings the ``app`` fixture's app gets besides the defaults: with the ``stripe``
    mark, localstripe is its Stripe (the environment's keys, as the demo has them)."""
    if request.node.get_closest_marker("stripe") is None:
        return {}
    from tests import localstripe as ls

    stand_in = request.getfixturevalue("stripe_local")
    return {
        "stripe_secret_key": ls.SECRET_KEY,
        "stripe_publishable_key": ls.PUBLISHABLE_KEY,
        "stripe_webhook_secret": ls.WEBHOOK_SECRET,
        "stripe_api_base": stand_in.base_url,
        "stripe_js_url": stand_in.js_url,
    }


@pytest.fixture(scope="session")
def stripe_local():
    """localstripe, one per test process (tests/localstripe.py)."""
    from tests.localstripe import localstripe

    with localstripe() as running:
        yield running


@pytest.fixture
def app(database_url, clock, dispatched, calendars_dispatched, app_settings):
    """The app on the test's database, with every table empty: rate-limit counters too
    (they are in the database unless a test gives the app a Redis limiter)."""
    settings = Settings(
        database_url=database_url,
        secret_key="test-secret",
        env="testing",
        encryption_keys=(TEST_ENCRYPTION_KEY,),
        **app_settings,
    )
    app = create_app(
        settings,
        TESTING=True,
        CLOCK=clock,
        DISPATCH=dispatched.extend,
        CALENDAR_DISPATCH=calendars_dispatched.extend,
        ACCOUNT_MAIL=send_link_at_once,
    )
    app.jinja_env.bytecode_cache = TEMPLATE_CODE  # tests/compiled.py
    with db.connection_context():
        _empty_tables()
    db.connect(reuse_if_open=True)  # the test's own connection, for factories and checks
    yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def production_database(database_url):
    """For the slowest whole-system tests: PostgreSQL when it is available, else SQLite."""
    if TEST_DATABASE_URL and database_url.startswith("sqlite"):
        pytest.skip("runs on PostgreSQL, the production database, when it is available")
    return database_url


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def signed_in(app, clock):
    """``signed_in(user)``: a test client signed in as ``user`` (anonymous for None),
    with a sign-in of its own in flask-login's session keys; ``signed_in(user, client)``
    signs in that client. Tests of signing in itself post the sign-in form instead."""

    def sign_in(user, client: FlaskClient | None = None) -> FlaskClient:
        client = client or app.test_client()
        if user is not None:
            key = factories.make_sign_in(user, clock())
            with client.session_transaction() as session:
                session["_user_id"], session["_fresh"] = key, True
        return client

    return sign_in


class ApiClient:
    """The Flask test client, sending a bearer token and JSON."""

    def __init__(self, client, token: str | None = None) -> None:
        self.client, self.token = client, token

    def _headers(self, headers: dict | None) -> dict:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return merged | (headers or {})

    def get(self, path: str, **kw):
        return self.client.get(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, json=None, **kw):
        return self.client.post(
            path, json=json, headers=self._headers(kw.pop("headers", None)), **kw
        )

    def patch(self, path: str, json=None, **kw):
        return self.client.patch(
            path, json=json, headers=self._headers(kw.pop("headers", None)), **kw
        )

    def delete(self, path: str, **kw):
        return self.client.delete(path, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def clinic(app):
    """A London clinic: two providers Mon–Fri 09–17 (Ana with lunch 13–14), three services."""
    from datetime import time as t

    org = factories.make_org("clinic")
    owner = factories.make_owner(org)
    ana_user = factories.make_user("ana@clinic.test", "Ana Silva")
    ana = factories.make_provider(
        org, "Ana Silva", user=ana_user, hours=[(t(9), t(13)), (t(14), t(17))]
    )
    tom = factories.make_provider(org, "Tom Reed")
    assessment = factories.make_service(org, [ana], "Initial assessment", 60, price_cents=6500)
    follow_up = factories.make_service(org, [ana, tom], "Follow-up", 30, price_cents=4500)
    massage = factories.make_service(
        org,
        [tom],
        "Sports massage",
        45,
        price_cents=5500,
        buffer_after_minutes=10,
        category="Massage",
    )
    customer = factories.make_user("casey@example.com", "Casey Morgan")
    return {
        "org": org,
        "owner": owner,
        "ana": ana,
        "ana_user": ana_user,
        "tom": tom,
        "assessment": assessment,
        "follow_up": follow_up,
        "massage": massage,
        "customer": customer,
    }


def api_client_for(app, user, clock) -> ApiClient:
    token, _ = issue_token(user, clock())
    return ApiClient(app.test_client(), token)


@pytest.fixture
def customer_api(app, clinic, clock) -> ApiClient:
    return api_client_for(app, clinic["customer"], clock)


@pytest.fixture
def anonymous_api(app) -> ApiClient:
    return ApiClient(app.test_client())


@pytest.fixture
def live_server(app, database_url):
    """The app under gunicorn (2 workers × 8 threads, as in production) on a free port,
    on the same database as the test. It uses the real clock."""
    with gunicorn(database_url) as base:
        yield base


@pytest.fixture
def stripe_inbox(stripe_local):
    """localstripe's webhooks for this test, caught to be handed to the app's client."""
    from tests.localstripe import WebhookInbox

    with WebhookInbox() as caught:
        stripe_local.send_webhooks_to(f"{caught.base_url}/stripe/webhook")
        yield caught


@pytest.fixture
def paid(clinic):
    """The clinic with the demo's payment rules: a £20 deposit for the assessment, the
    massage paid in full, the follow-up paid at the venue."""
    clinic["assessment"].payment_mode, clinic["assessment"].deposit_cents = "deposit", 2000
    clinic["assessment"].save()
    clinic["massage"].payment_mode = "full"
    clinic["massage"].save()
    return clinic


@pytest.fixture
def other_api(app, clinic, clock) -> ApiClient:
    """Another customer's API client (Dana)."""
    return api_client_for(app, factories.make_user("dana@example.com", "Dana Lee"), clock)
