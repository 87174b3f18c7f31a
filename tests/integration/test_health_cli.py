"""GET /health, JSON errors under /api/, and the two CLI commands."""

from __future__ import annotations

import functools
import socket
from datetime import time

import pytest

import commands.demo
from app import create_app
from migrations import DIRECTORY as MIGRATIONS
from models import (
    Booking,
    BookingEvent,
    Membership,
    Organisation,
    Provider,
    Service,
    ServiceProvider,
    User,
    WeeklyHours,
    db,
)
from services.accounts.auth import hash_password
from tests.integration.conftest import app_on

DB_DOWN = {
    "error": "service_unavailable",
    "message": "The database is not answering. Try again shortly.",
}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nobody listens once the socket is closed


# --- /health ------------------------------------------------------------------------------


def test_health_is_ok_when_the_database_answers(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"status": "ok"}


@pytest.mark.usefixtures("restore_database")
@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:{port}/kairos",
        "sqlite:///{tmp}/no/such/directory/kairos.db",
    ],
    ids=["postgresql-closed-port", "sqlite-missing-directory"],
)
def test_ready_is_503_json_when_the_database_is_unreachable(tmp_path, url):
    app = app_on(url.format(port=closed_port(), tmp=tmp_path))

    response = app.test_client().get("/ready")

    assert response.status_code == 503
    assert response.mimetype == "application/json"


@pytest.mark.usefixtures("restore_database")
def test_health_answers_while_the_database_is_unreachable():
    app = app_on(f"postgresql://postgres@127.0.0.1:{closed_port()}/kairos")

    response = app.test_client().get("/health")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_ready_names_what_answers(client):
    response = client.get("/ready")

    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "not configured"}


def test_ready_names_redis_when_it_does_not_answer(app):
    settings = app.config["SETTINGS"]
    broken = create_app(
        settings.with_overrides(redis_url=f"redis://127.0.0.1:{closed_port()}/0"), TESTING=True
    )

    response = broken.test_client().get("/ready")

    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "database": "ok",
        "redis": "failed: ConnectionError",
    }


@pytest.mark.usefixtures("restore_database")
def test_api_is_503_json_when_the_database_is_unreachable():
    app = app_on(f"postgresql://postgres@127.0.0.1:{closed_port()}/kairos")
    client = app.test_client()

    for response in (
        client.get("/api/v1/orgs/clinic"),
        client.post("/api/v1/tokens", json={"email": "a@b.c", "password": "x"}),
    ):
        assert response.status_code == 503
        assert response.json == DB_DOWN


# --- errors under /api/ are JSON ----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nothing-here", "/api/v1/bookings/abc", "/api/v2/orgs", "/api/v1/orgs/clinic/nothing"],
)
def test_unknown_api_route_is_404_json(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.json["error"] == "not_found"
    assert isinstance(response.json["message"], str)
    assert response.json["message"]
    assert set(response.json) == {"error", "message"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", "/api/v1/bookings", {"GET", "POST"}),
        ("put", "/api/v1/tokens", {"POST"}),
        ("get", "/api/v1/tokens/current", {"DELETE"}),
        ("get", "/api/v1/bookings/1/cancel", {"POST"}),
        ("post", "/api/v1/orgs/clinic/slots", {"GET"}),
    ],
)
def test_wrong_method_is_405_json(client, method, path, allowed):
    response = getattr(client, method)(path)

    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.json["error"] == "method_not_allowed"
    assert response.json["message"]
    assert set(response.json) == {"error", "message"}
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_unexpected_error_is_500_json(app, client):
    def boom():
        raise RuntimeError("secret detail that must not leak")

    app.add_url_rule("/api/v1/boom", "boom", boom)

    response = client.get("/api/v1/boom")

    assert response.status_code == 500
    assert response.mimetype == "application/json"
    assert response.json["error"] == "internal_server_error"
    assert "secret detail" not in response.get_data(as_text=True)


def test_api_root_describes_itself(client):
    response = client.get("/api/v1")

    assert response.status_code == 200
    assert response.json["version"] == 1


def test_pages_outside_the_api_are_html(client):
    response = client.get("/no-such-organisation")

    assert response.status_code == 404
    assert response.mimetype == "text/html"


# --- flask db-upgrade ---------------------------------------------------------------------


def test_db_upgrade_twice_on_the_test_database(app):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["db-upgrade"])
    second = runner.invoke(args=["db-upgrade"])

    assert first.exit_code == second.exit_code == 0, first.output
    assert first.output == second.output == "migrations applied: none (up to date)\n"


@pytest.mark.usefixtures("restore_database")
def test_db_upgrade_on_an_empty_database_then_again(empty_database_url):
    expected = sorted(p.stem for p in MIGRATIONS.glob("[0-9]*.py"))
    app = app_on(empty_database_url)
    runner = app.test_cli_runner()

    first = runner.invoke(args=["db-upgrade"])
    second = runner.invoke(args=["db-upgrade"])

    assert first.exit_code == 0, first.output
    assert first.output == f"migrations applied: {', '.join(expected)}\n"
    assert second.exit_code == 0, second.output
    assert second.output == "migrations applied: none (up to date)\n"
    with db.connection_context():
        tables = set(db.get_tables())
    assert {"booking", "users", "organisation", "service", "api_token"} <= tables
    assert app.test_client().get("/health").json == {"status": "ok"}


# --- flask seed-demo ----------------------------------------------------------------------

_hash_once = functools.cache(hash_password)


@pytest.fixture(autouse=True)
def hash_each_password_once(monkeypatch):
    """argon2 is slow on purpose; seeding hashes the same demo password four times."""
    monkeypatch.setattr(commands.demo, "hash_password", _hash_once)


def counts() -> dict[str, int]:
    models = (
        Organisation,
        User,
        Membership,
        Provider,
        Service,
        ServiceProvider,
        WeeklyHours,
        Booking,
        BookingEvent,
    )
    return {m.__name__: m.select().count() for m in models}


def test_seed_demo_creates_harbor_physio(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert "demo data created" in result.output
    for email in (
        "owner@example.com",
        "provider@example.com",
        "tom@example.com",
        "customer@example.com",
    ):
        assert email in result.output
    assert "demo-pass-1234" in result.output

    org = Organisation.get(Organisation.slug == "demo")
    assert (org.name, org.timezone, org.currency) == ("Harbor Physio", "Europe/London", "GBP")
    with_password = User.select().where(User.password_hash.is_null(False))
    assert sorted(u.email for u in with_password) == [
        "customer@example.com",
        "owner@example.com",
        "provider@example.com",
        "tom@example.com",
    ]
    phone_customers = User.select().where(User.password_hash.is_null())
    assert [u.organisation_id for u in phone_customers] == [org.id] * 8  # the clinic's records
    roles = {
        (m.user.email, m.role) for m in Membership.select().where(Membership.organisation == org)
    }
    assert roles == {
        ("owner@example.com", "owner"),
        ("provider@example.com", "provider"),
        ("tom@example.com", "provider"),
    }
    providers = {p.name: p for p in Provider.select()}
    assert set(providers) == {"Dr. Ana Silva", "Tom Reed"}


def test_seed_demo_services(app):
    app.test_cli_runner().invoke(args=["seed-demo"])

    services = {
        s.name: (
            s.duration_minutes,
            s.price_cents,
            s.buffer_before_minutes,
            s.buffer_after_minutes,
            s.min_notice_minutes,
            s.max_days_ahead,
            s.cancellation_window_hours,
            s.active,
        )
        for s in Service.select()
    }
    assert services == {
        "Initial assessment": (60, 6500, 0, 0, 120, 180, 24, True),
        "Follow-up": (30, 4500, 0, 0, 120, 180, 24, True),
        "Sports massage": (45, 5500, 0, 10, 120, 180, 24, True),
    }


def test_seed_demo_hours_with_anas_lunch(app):
    app.test_cli_runner().invoke(args=["seed-demo"])

    def hours(name: str) -> set:
        provider = Provider.get(Provider.name == name)
        return {
            (h.weekday, h.start_time, h.end_time)
            for h in WeeklyHours.select().where(WeeklyHours.provider == provider)
        }

    weekdays = range(5)
    assert hours("Dr. Ana Silva") == {
        (d, start, end)
        for d in weekdays
        for start, end in [(time(9), time(13)), (time(14), time(17))]
    }
    assert hours("Tom Reed") == {(d, time(9), time(17)) for d in weekdays}


def test_seed_demo_works_through_the_api(app, client):
    app.test_cli_runner().invoke(args=["seed-demo"])

    token = client.post(
        "/api/v1/tokens", json={"email": "customer@example.com", "password": "demo-pass-1234"}
    )
    assert token.status_code == 201
    headers = {"Authorization": f"Bearer {token.json['token']}"}
    mine = client.get("/api/v1/bookings", headers=headers).json
    services = {s["name"]: s for s in client.get("/api/v1/orgs/demo/services").json}
    ana = Provider.get(Provider.name == "Dr. Ana Silva").id
    slots = client.get(
        f"/api/v1/orgs/demo/slots?service={services['Initial assessment']['id']}"
        f"&date=2026-12-07&provider={ana}"
    ).json["slots"]
    today = client.get(
        f"/api/v1/orgs/demo/slots?service={services['Follow-up']['id']}&date=2026-11-25"
    ).json["slots"]

    casey = User.get(User.email == "customer@example.com")
    assert len(mine) == Booking.select().where(Booking.customer == casey).count() >= 3
    assert all(b["status"] == "confirmed" for b in mine)
    assert [b["start"] for b in mine] == sorted(b["start"] for b in mine)
    assert services["Sports massage"]["price"] == {"amount_cents": 5500, "currency": "GBP"}
    assert [p["name"] for p in services["Initial assessment"]["providers"]] == ["Dr. Ana Silva"]
    starts = [s["start"][11:16] for s in slots]
    assert starts[0] == "09:00"
    assert starts[-1] == "16:00"
    assert "12:00" in starts
    assert not any("12:15" <= s < "14:00" for s in starts)  # lunch 13:00–14:00
    assert today[0]["start"] == "2026-11-25T14:00:00+00:00"  # two hours' notice


def test_seed_demo_books_a_handful(app):
    app.test_cli_runner().invoke(args=["seed-demo"])

    customer = User.get(User.email == "customer@example.com")
    caseys = list(Booking.select().where(Booking.customer == customer))
    assert len(caseys) == 6
    assert {b.status for b in caseys} == {"confirmed"}
    assert (
        BookingEvent.select().where(BookingEvent.action == "booked").count()
        == Booking.select().count()
    )


def test_seed_demo_fills_the_fortnight_for_the_workspace(app, clock):
    app.test_cli_runner().invoke(args=["seed-demo"])

    others = list(Booking.select().where(Booking.source == "phone"))
    over = [b for b in others if b.end_at <= clock()]
    ahead = [b for b in others if b.start_at > clock()]
    assert len(others) > 40
    assert over
    assert {b.status for b in over} == {"completed", "no_show"}  # Monday to this morning
    assert {b.status for b in ahead} == {"confirmed"}
    assert len({b.customer_id for b in others}) == 8


def test_seed_demo_twice_changes_nothing(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    before = counts()

    again = runner.invoke(args=["seed-demo"])

    assert again.exit_code == 0, again.output
    assert "demo data already present" in again.output
    assert counts() == before
    assert before["Organisation"] == 1


def test_seed_demo_payment_rules_ask_nothing_without_stripe_keys(app):
    from services.payments import checkout, policy

    app.test_cli_runner().invoke(args=["seed-demo"])

    rules = {s.name: policy.due_online(s) for s in Service.select()}
    assert {name: (due.kind, due.amount_cents) if due else None for name, due in rules.items()} == {
        "Initial assessment": ("deposit", 2000),
        "Follow-up": None,
        "Sports massage": ("full", 5500),
    }
    for service in Service.select():  # this app has no Stripe keys: nothing paid online
        assert checkout.due_for(service, online_by_customer=True) is None
    assert Booking.select().where(Booking.status == "pending_payment").count() == 0


@pytest.mark.stripe
def test_seed_demo_with_stripe_keys_asks_the_deposit_and_the_full_price(app, clock):
    from services.payments import checkout

    app.test_cli_runner().invoke(args=["seed-demo"])

    due = {s.name: checkout.due_for(s, online_by_customer=True) for s in Service.select()}
    assert due["Initial assessment"].amount_cents == 2000
    assert due["Sports massage"].amount_cents == 5500
    assert due["Follow-up"] is None
    assert Booking.select().where(Booking.status == "pending_payment").count() == 0
