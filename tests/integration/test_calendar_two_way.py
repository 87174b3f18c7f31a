"""Two-way calendar sync with a real Radicale (CalDAV), end to end through the API: a
booking made in Kairos appears in the provider's calendar, moves there when it is moved
and goes when it is cancelled; the provider's own events there become busy time that
the slots API no longer offers; a calendar server that is down loses nothing; Kairos
never touches events it did not make. Also: refused addresses, the "sync now" limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from models import BusyBlock, CalendarPush, ExternalCalendar
from services.calendar import outbox, two_way
from services.ratelimits import Limiter
from services.ratelimits.stores import DatabaseStore
from tests.conftest import api_client_for
from tests.radicale import PASSWORD, USER

MONDAY_10 = "2026-11-30T10:00:00+00:00"
TUESDAY_15 = "2026-12-01T15:00:00+00:00"
ALLOW = {"calendar_allow_hosts": ("127.0.0.1",)}  # Radicale runs on this machine


@pytest.fixture
def app_settings() -> dict:
    return ALLOW


@pytest.fixture
def ana_api(app, clinic, clock):
    return api_client_for(app, clinic["ana_user"], clock)


def connect(api, url: str) -> dict:
    answer = api.post(
        "/api/v1/me/calendars", json={"url": url, "username": USER, "password": PASSWORD}
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def worker(app, clock, calendar_ids) -> None:
    """What the worker does with the calendars a request handed it."""
    for calendar_id in sorted(set(calendar_ids)):
        two_way.push(calendar_id, app.config["SETTINGS"], clock())
    calendar_ids.clear()


def book(customer_api, clinic, start: str) -> dict:
    answer = customer_api.post(
        "/api/v1/bookings",
        json={"service": clinic["follow_up"].id, "start": start, "provider": clinic["ana"].id},
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def kairos_events(radicale, url: str) -> dict[str, str]:
    return {
        href.rsplit("/", 1)[-1]: text
        for href, text in radicale.events(url).items()
        if "kairos-" in href
    }


def put_own_event(url: str, name: str, start: str, end: str) -> None:
    """An event the provider made in their calendar app."""
    body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Phone//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{name}@phone\r\nDTSTAMP:20261120T100000Z\r\nDTSTART:{start}\r\n"
        f"DTEND:{end}\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    requests.put(
        f"{url}{name}.ics", data=body.encode(), auth=(USER, PASSWORD), timeout=5
    ).raise_for_status()


def test_a_booking_appears_moves_and_goes_in_the_providers_caldav_calendar(
    app, radicale, collection, ana_api, customer_api, clinic, clock, calendars_dispatched
):
    calendar = connect(ana_api, collection)
    assert calendar["kind"] == "caldav"
    assert calendar["status"] == "new"

    made = book(customer_api, clinic, MONDAY_10)
    assert calendars_dispatched == [calendar["id"]]
    worker(app, clock, calendars_dispatched)
    name = f"kairos-booking-{made['id']}.ics"
    (text,) = kairos_events(radicale, collection).values()
    assert list(kairos_events(radicale, collection)) == [name]
    assert "DTSTART;TZID=Europe/London:20261130T100000" in text
    assert "Follow-up (Kairos booking)" in text
    assert "Casey" not in text  # names only when the provider chose so
    assert "SEQUENCE:0" in text

    moved = customer_api.post(
        f"/api/v1/bookings/{made['id']}/reschedule", json={"start": TUESDAY_15}
    )
    assert moved.status_code == 200, moved.json
    worker(app, clock, calendars_dispatched)
    events = kairos_events(radicale, collection)
    assert list(events) == [name]  # the same event, moved: the UID of the first booking
    assert "DTSTART;TZID=Europe/London:20261201T150000" in events[name]
    assert "SEQUENCE:1" in events[name]

    assert customer_api.post(f"/api/v1/bookings/{moved.json['id']}/cancel").status_code == 200
    worker(app, clock, calendars_dispatched)
    assert kairos_events(radicale, collection) == {}
    assert CalendarPush.select().count() == 0


def test_connecting_writes_the_bookings_already_made_and_names_when_chosen(
    app, radicale, collection, ana_api, customer_api, clinic, clock, calendars_dispatched
):
    made = book(customer_api, clinic, MONDAY_10)
    answer = ana_api.post(
        "/api/v1/me/calendars",
        json={"url": collection, "username": USER, "password": PASSWORD, "show_names": True},
    )
    assert answer.status_code == 201

    synced = ana_api.post(f"/api/v1/me/calendars/{answer.json['id']}/sync")

    assert synced.status_code == 200
    assert synced.json["status"] == "ok"
    events = kairos_events(radicale, collection)
    assert list(events) == [f"kairos-booking-{made['id']}.ics"]
    assert "Follow-up — Casey Morgan" in events[f"kairos-booking-{made['id']}.ics"]


def test_the_providers_own_events_become_busy_time_and_are_never_touched(
    app, radicale, collection, ana_api, anonymous_api, customer_api, clinic, clock
):
    calendar = connect(ana_api, collection)
    put_own_event(collection, "dentist", "20261130T110000Z", "20261130T120000Z")
    book(customer_api, clinic, MONDAY_10)

    synced = ana_api.post(f"/api/v1/me/calendars/{calendar['id']}/sync")

    assert synced.json["status"] == "ok", synced.json
    blocks = [(b.start_at.hour, b.end_at.hour) for b in BusyBlock.select()]
    assert blocks == [(11, 12)]  # the dentist; Kairos's own booking is not busy time twice
    slots = anonymous_api.get(
        f"/api/v1/orgs/clinic/slots?service={clinic['follow_up'].id}"
        f"&date=2026-11-30&provider={clinic['ana'].id}"
    ).json["slots"]
    starts = [slot["start"] for slot in slots]
    assert "2026-11-30T11:00:00+00:00" not in starts
    assert "2026-11-30T11:30:00+00:00" not in starts
    assert "2026-11-30T12:00:00+00:00" in starts
    assert "dentist.ics" in {h.rsplit("/", 1)[-1] for h in radicale.events(collection)}

    # The dentist moves: the next (incremental) sync moves the busy time.
    token = ExternalCalendar.get_by_id(calendar["id"]).sync_token
    assert token
    put_own_event(collection, "dentist", "20261130T150000Z", "20261130T160000Z")
    clock.advance(minutes=20)
    ana_api.post(f"/api/v1/me/calendars/{calendar['id']}/sync")
    assert [(b.start_at.hour, b.end_at.hour) for b in BusyBlock.select()] == [(15, 16)]
    assert ExternalCalendar.get_by_id(calendar["id"]).sync_token != token


def test_radicale_down_then_up_loses_nothing(
    app, radicale, collection, ana_api, customer_api, clinic, clock, calendars_dispatched
):
    calendar = connect(ana_api, collection)
    radicale.stop()
    try:
        made = book(customer_api, clinic, MONDAY_10)
        worker(app, clock, calendars_dispatched)
        (waiting,) = CalendarPush.select()
        assert waiting.attempts == 1
        assert waiting.next_try_at == clock() + timedelta(minutes=1)
        listed = ana_api.get("/api/v1/me/calendars").json
        assert listed[0]["status"] == "error"
        assert "CalDAV" in listed[0]["last_error"]
        assert outbox.due_calendars(clock()) == []  # waiting for its next try
    finally:
        radicale.start()

    clock.advance(minutes=1)
    assert outbox.due_calendars(clock()) == [calendar["id"]]  # the minute's sweep
    worker(app, clock, outbox.due_calendars(clock()))

    assert list(kairos_events(radicale, collection)) == [f"kairos-booking-{made['id']}.ics"]
    assert CalendarPush.select().count() == 0


def test_a_change_made_while_a_write_is_under_way_is_not_lost(
    app, radicale, collection, ana_api, customer_api, clinic, clock
):
    calendar = connect(ana_api, collection)
    made = book(customer_api, clinic, MONDAY_10)
    (row,) = CalendarPush.select()
    outbox.queue([calendar["id"]], [made["id"]], clock())  # a change, after the row was read

    CalendarPush.delete().where(
        (CalendarPush.id == row.id) & (CalendarPush.changes == row.changes)
    ).execute()  # what the sender does once it has written what it read

    assert CalendarPush.select().count() == 1


def test_a_wrong_app_password_is_said_plainly(app, radicale, collection, ana_api):
    answer = ana_api.post(
        "/api/v1/me/calendars", json={"url": collection, "username": USER, "password": "nope"}
    )

    synced = ana_api.post(f"/api/v1/me/calendars/{answer.json['id']}/sync")

    assert synced.status_code == 200
    assert synced.json["status"] == "error"
    assert synced.json["last_error"] == "CalDAV: The username or app password was refused."


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"url": "http://10.0.0.5/cal/", "username": "a", "password": "b"}, ["url"]),
        ({"url": "file:///etc/passwd", "username": "a", "password": "b"}, ["url"]),
        (
            {"url": "http://127.0.0.1:1/c/", "username": "", "password": ""},
            ["password", "username"],
        ),
    ],
)
def test_a_refused_caldav_connection_is_422_and_fetches_nothing(ana_api, body, fields):
    answer = ana_api.post("/api/v1/me/calendars", json=body)

    assert answer.status_code == 422
    assert sorted(answer.json["fields"]) == fields
    assert ExternalCalendar.select().count() == 0


def test_sync_now_is_rate_limited(app, ana_api, radicale, collection):
    app.extensions["ratelimits"] = Limiter(DatabaseStore())
    calendar = connect(ana_api, collection)  # counts one
    answers = [ana_api.post(f"/api/v1/me/calendars/{calendar['id']}/sync") for _ in range(30)]

    assert [a.status_code for a in answers[:29]] == [200] * 29
    assert answers[29].status_code == 429


def test_names_chosen_later_rewrite_the_upcoming_events(
    app, radicale, collection, ana_api, customer_api, clinic, clock, calendars_dispatched
):
    calendar = connect(ana_api, collection)
    made = book(customer_api, clinic, MONDAY_10)
    worker(app, clock, calendars_dispatched)

    shown = ana_api.patch(f"/api/v1/me/calendars/{calendar['id']}", json={"show_names": True})
    two_way.push(calendar["id"], app.config["SETTINGS"], clock())

    assert shown.status_code == 200
    assert shown.json["show_names"] is True
    text = kairos_events(radicale, collection)[f"kairos-booking-{made['id']}.ics"]
    assert "Follow-up — Casey Morgan" in text
    assert ana_api.patch(f"/api/v1/me/calendars/{calendar['id']}", json={}).status_code == 422


def test_an_ics_calendar_has_no_names_to_show(ana_api, clock):
    from tests.standins.calendar_server import CalendarServer

    with CalendarServer() as server:
        added = ana_api.post(
            "/api/v1/me/calendars", json={"url": server.serve("/a.ics", b"BEGIN:VCALENDAR")}
        ).json
        answer = ana_api.patch(f"/api/v1/me/calendars/{added['id']}", json={"show_names": True})

    assert answer.status_code == 422
    assert list(answer.json["fields"]) == ["show_names"]


def test_a_caldav_address_that_turns_private_is_refused_at_every_connection(
    app, radicale, ana_api, clinic, clock
):
    """Checked when added, and again when connecting: a calendar whose name now points
    into our network (here "localhost", which is not among the allowed hosts) is not
    reached, and the provider is told why."""
    calendar = ExternalCalendar.create(
        provider=clinic["ana"],
        kind="caldav",
        url=radicale.calendar_url("private").replace("127.0.0.1", "localhost"),
        username=USER,
        secret=PASSWORD,
        next_try_at=clock(),
        created_at=clock(),
    )

    synced = ana_api.post(f"/api/v1/me/calendars/{calendar.id}/sync")

    assert synced.json["status"] == "error"
    assert "private network" in synced.json["last_error"]
