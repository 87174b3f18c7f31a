"""Google Calendar and Microsoft 365 two-way sync through the workspace, against local
stand-ins that speak their wire formats: the provider connects with OAuth consent (and
comes back to the calendars page), bookings are written and removed, the owner's own
events become busy time, read incrementally, and a revoked consent shows "connect
again", which a second consent mends without losing what waited."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest

from models import BusyBlock, CalendarPush, ExternalCalendar
from services.calendar import google, two_way
from tests.conftest import api_client_for
from tests.integration.webpages import csrf_token
from tests.standins._oauth import consent
from tests.standins.google_calendar import GoogleCalendar
from tests.standins.ms_graph import DEFAULT_CALENDAR, MsGraph

PAGE = "/w/clinic/calendars"
MONDAY_10 = "2026-11-30T10:00:00+00:00"


@pytest.fixture
def google_server():
    with GoogleCalendar() as standin:
        yield standin


@pytest.fixture
def graph_server():
    with MsGraph() as standin:
        yield standin


@pytest.fixture
def app_settings(google_server, graph_server) -> dict:
    return {
        "google_api_base": google_server.base_url,
        "google_oauth_base": google_server.base_url,
        "google_client_id": google_server.client_id,
        "google_client_secret": google_server.client_secret,
        "ms_graph_base": graph_server.base_url,
        "ms_login_base": graph_server.base_url,
        "ms_client_id": graph_server.client_id,
        "ms_client_secret": graph_server.client_secret,
    }


@pytest.fixture
def ana(signed_in, clinic):
    return signed_in(clinic["ana_user"])


def connect(client, path: str = f"{PAGE}/connect/google"):
    """Press "Connect …", agree on the consent page, come back: the answer to that."""
    asked = client.post(path, data={"csrf_token": csrf_token(client.get(PAGE))})
    assert asked.status_code == 303, asked.get_data(as_text=True)
    back = consent(asked.headers["Location"])
    kind = path.rsplit("/", 1)[-1] if "/connect/" in path else None
    kind = kind or ExternalCalendar.get().kind
    return client.get(f"/calendar/connected/{kind}", query_string=back)


def book(app, clinic, clock, start: str = MONDAY_10) -> int:
    customer = api_client_for(app, clinic["customer"], clock)
    answer = customer.post(
        "/api/v1/bookings",
        json={"service": clinic["follow_up"].id, "start": start, "provider": clinic["ana"].id},
    )
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def worker(app, clock, calendar_ids) -> None:
    for calendar_id in sorted(set(calendar_ids)):
        two_way.push(calendar_id, app.config["SETTINGS"], clock())
    calendar_ids.clear()


def test_google_consent_connects_the_primary_calendar(ana, google_server):
    came_back = connect(ana)

    assert came_back.status_code == 303
    assert came_back.headers["Location"] == PAGE
    (calendar,) = ExternalCalendar.select()
    assert (calendar.kind, calendar.remote_id, calendar.name) == (
        "google",
        "primary",
        "Google Calendar",
    )
    assert calendar.secret
    assert calendar.access_token
    stored = ExternalCalendar._meta.database.execute_sql(
        "SELECT secret FROM external_calendar"
    ).fetchone()[0]
    assert stored != calendar.secret  # encrypted at rest
    page = ana.get(PAGE).get_data(as_text=True)
    assert "Google Calendar connected" in page
    assert "Bookings written there" in page


def test_a_refused_consent_or_a_forged_state_connects_nothing(ana, google_server):
    ana.post(f"{PAGE}/connect/google", data={"csrf_token": csrf_token(ana.get(PAGE))})
    forged = ana.get("/calendar/connected/google", query_string={"code": "x", "state": "other"})
    assert forged.status_code == 400

    asked = ana.post(f"{PAGE}/connect/google", data={"csrf_token": csrf_token(ana.get(PAGE))})
    state = dict(parse_qsl(urlsplit(asked.headers["Location"]).query))["state"]
    denied = ana.get(
        "/calendar/connected/google", query_string={"error": "access_denied", "state": state}
    )
    assert denied.status_code == 303
    assert "the permission was not given" in ana.get(PAGE).get_data(as_text=True)
    assert ExternalCalendar.select().count() == 0


def test_bookings_go_to_google_and_its_events_come_back_incrementally(
    app, ana, google_server, clinic, clock, calendars_dispatched
):
    connect(ana)
    calendar = ExternalCalendar.get()
    made = book(app, clinic, clock)
    assert calendars_dispatched == [calendar.id]
    worker(app, clock, calendars_dispatched)
    (written,) = google_server.live_events("primary").values()
    assert written["id"] == google.event_id(f"booking-{made}@kairos")
    assert written["start"]["dateTime"].startswith("2026-11-30T10:00:00")

    google_server.add_event(
        "primary",
        id="gym",
        summary="Gym",
        start={"dateTime": "2026-12-01T07:00:00Z"},
        end={"dateTime": "2026-12-01T08:00:00Z"},
    )
    synced = two_way.sync(calendar.id, clock(), app.config["SETTINGS"])
    assert synced.status == "ok"
    assert [(b.uid, b.start_at.hour) for b in BusyBlock.select()] == [("gym", 7)]
    first_token = synced.sync_token

    google_server.change_event(
        "primary",
        "gym",
        start={"dateTime": "2026-12-01T18:00:00Z"},
        end={"dateTime": "2026-12-01T19:00:00Z"},
    )
    clock.advance(minutes=20)
    again = two_way.sync(calendar.id, clock(), app.config["SETTINGS"])
    assert again.sync_token != first_token
    assert [(b.uid, b.start_at.hour) for b in BusyBlock.select()] == [("gym", 18)]

    customer = api_client_for(app, clinic["customer"], clock)
    assert customer.post(f"/api/v1/bookings/{made}/cancel").status_code == 200
    worker(app, clock, calendars_dispatched)
    assert google_server.live_events("primary") == {
        "gym": google_server.live_events("primary")["gym"]
    }


def test_a_revoked_google_consent_asks_to_connect_again_and_loses_nothing(
    app, ana, google_server, clinic, clock, calendars_dispatched
):
    connect(ana)
    calendar = ExternalCalendar.get()
    google_server.revoke(calendar.secret)
    google_server.expire_access_tokens()
    ExternalCalendar.update(access_expires_at=clock()).where(
        ExternalCalendar.id == calendar.id
    ).execute()

    book(app, clinic, clock)
    worker(app, clock, calendars_dispatched)

    stuck = ExternalCalendar.get_by_id(calendar.id)
    assert stuck.reconnect
    assert CalendarPush.select().count() == 1  # still waiting
    listed = api_client_for(app, clinic["ana_user"], clock).get("/api/v1/me/calendars").json
    assert listed[0]["status"] == "reconnect"
    page = ana.get(PAGE)
    assert page.status_code == 200
    assert "Connect it again" in page.get_data(as_text=True)
    assert two_way.sync(calendar.id, clock(), app.config["SETTINGS"]).reconnect  # not tried

    mended = connect(ana, f"{PAGE}/{calendar.id}/reconnect")
    assert mended.status_code == 303
    assert ExternalCalendar.select().count() == 1
    assert not ExternalCalendar.get_by_id(calendar.id).reconnect
    synced = two_way.sync(calendar.id, clock(), app.config["SETTINGS"])
    assert synced.status == "ok"
    assert len(google_server.live_events("primary")) == 1
    assert CalendarPush.select().count() == 0


def test_outlook_consent_writes_bookings_and_reads_busy_time(
    app, ana, graph_server, clinic, clock, calendars_dispatched
):
    came_back = connect(ana, f"{PAGE}/connect/microsoft")
    assert came_back.status_code == 303
    calendar = ExternalCalendar.get()
    assert (calendar.kind, calendar.remote_id) == ("microsoft", DEFAULT_CALENDAR)
    made = book(app, clinic, clock)
    worker(app, clock, calendars_dispatched)
    (written,) = graph_server.live_events(DEFAULT_CALENDAR).values()
    assert written["subject"] == "Follow-up (Kairos booking)"

    graph_server.add_event(
        DEFAULT_CALENDAR,
        "Physio course",
        datetime(2026, 12, 2, 9, tzinfo=UTC),
        datetime(2026, 12, 2, 12, tzinfo=UTC),
    )
    synced = two_way.sync(calendar.id, clock(), app.config["SETTINGS"])

    assert synced.status == "ok", synced.last_error
    assert [(b.start_at.hour, b.end_at.hour) for b in BusyBlock.select()] == [(9, 12)]
    customer = api_client_for(app, clinic["customer"], clock)
    assert customer.post(f"/api/v1/bookings/{made}/cancel").status_code == 200
    worker(app, clock, calendars_dispatched)
    assert [e["subject"] for e in graph_server.live_events(DEFAULT_CALENDAR).values()] == [
        "Physio course"
    ]


def test_services_without_a_client_id_are_not_offered(app, ana):
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(google_client_id="")

    page = ana.get(PAGE).get_data(as_text=True)
    refused = ana.post(f"{PAGE}/connect/google", data={"csrf_token": csrf_token(ana.get(PAGE))})

    assert "Connect Google Calendar" not in page
    assert "Connect Outlook" in page
    assert refused.status_code == 404


def test_the_provider_chooses_names_for_a_connected_calendar_on_the_page(
    app, ana, google_server, clinic, clock, calendars_dispatched
):
    connect(ana)
    calendar = ExternalCalendar.get()
    book(app, clinic, clock)
    worker(app, clock, calendars_dispatched)

    chose = ana.post(
        f"{PAGE}/{calendar.id}/names", data={"csrf_token": csrf_token(ana.get(PAGE)), "show": "1"}
    )
    two_way.push(calendar.id, app.config["SETTINGS"], clock())

    assert chose.status_code == 303
    (written,) = google_server.live_events("primary").values()
    assert written["summary"] == "Follow-up — Casey Morgan"
    page = ana.get(PAGE).get_data(as_text=True)
    assert "with customers' names" in page
    assert "Hide names" in page
