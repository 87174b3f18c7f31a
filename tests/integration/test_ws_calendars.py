"""The workspace's Calendars page: its access matrix, and adding, syncing and removing
a calendar from it (the engine itself: test_calendar_import.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from models import BusyBlock, ExternalCalendar
from tests.integration.webpages import csrf_token
from tests.integration.workspace import expect
from tests.standins.calendar_server import CalendarServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "calendars"
PAGE = "/w/clinic/calendars"
PRIVATE = {"url": "http://10.0.0.1/c.ics"}

GET = {
    # route: (anonymous, customer, provider (Ana), owner (keeps no schedule), other owner)
    PAGE: (302, 403, 200, 403, 403),
    "/w/elsewhere/calendars": (302, 403, 403, 403, 403),
    # back from a consent nobody asked for in this session: refused, nothing connected
    "/calendar/connected/google": (302, 400, 400, 400, 400),
}

POST = {
    # route: (data, expected)
    PAGE: (PRIVATE, (302, 403, 422, 403, 403)),
    "/w/clinic/calendars/{ana's calendar}/delete": ({}, (302, 403, 303, 403, 403)),
    "/w/clinic/calendars/{tom's calendar}/delete": ({}, (302, 403, 404, 403, 403)),
    "/w/clinic/calendars/{tom's calendar}/sync": ({}, (302, 403, 404, 403, 403)),
    "/w/clinic/calendars/caldav": ({}, (302, 403, 422, 403, 403)),
    # Google is not configured here: not offered, so not found
    "/w/clinic/calendars/connect/google": ({}, (302, 403, 404, 403, 403)),
    "/w/clinic/calendars/{ana's calendar}/reconnect": ({}, (302, 403, 404, 403, 403)),
    "/w/clinic/calendars/{tom's calendar}/reconnect": ({}, (302, 403, 404, 403, 403)),
    # an ICS calendar has nothing written to it, so no names to show
    "/w/clinic/calendars/{ana's calendar}/names": ({"show": "1"}, (302, 403, 422, 403, 403)),
    "/w/clinic/calendars/{tom's calendar}/names": ({"show": "1"}, (302, 403, 404, 403, 403)),
}


@pytest.fixture
def places(world, clock):
    """The world, with a calendar each for Ana and Tom (not yet read)."""
    found = dict(world)
    for who in ("ana", "tom"):
        found[f"{who}'s calendar"] = ExternalCalendar.create(
            provider=world[who],
            url="https://calendar.example/secret.ics",
            next_try_at=clock(),
            created_at=clock(),
        ).id
    return found


@pytest.mark.parametrize("route", GET)
def test_get(signed_in, places, route):
    expect(signed_in, places, route, GET[route])


@pytest.mark.parametrize("route", POST)
def test_post(signed_in, places, route):
    data, expected = POST[route]
    expect(signed_in, places, route, expected, method="POST", data=data)


@pytest.fixture
def app_settings() -> dict:
    return {"calendar_allow_hosts": ("127.0.0.1",)}


def post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client.get(PAGE)), **data})


def test_a_provider_adds_syncs_and_removes_a_calendar(signed_in, clinic):
    ana = signed_in(clinic["ana_user"])
    with CalendarServer() as server:
        url = server.serve("/mine.ics", (FIXTURES / "weekly_dst.ics").read_bytes())
        assert post(ana, PAGE, {"url": url}).status_code == 303
        (calendar,) = ExternalCalendar.select()
        page = ana.get(PAGE).get_data(as_text=True)
        assert "127.0.0.1" in page
        assert "Not synced yet" in page

        assert post(ana, f"{PAGE}/{calendar.id}/sync", {}).status_code == 303
        page = ana.get(PAGE).get_data(as_text=True)
        assert "Calendar synced." in page
        assert "Last synced Wed 25 Nov, 12:00" in page
        assert BusyBlock.select().count() > 0

        server.fail("/mine.ics", 404)
        post(ana, f"{PAGE}/{calendar.id}/sync", {})
        assert "The calendar server answered 404." in ana.get(PAGE).get_data(as_text=True)

    assert post(ana, f"{PAGE}/{calendar.id}/delete", {}).status_code == 303
    assert ExternalCalendar.select().count() == 0
    assert BusyBlock.select().count() == 0


def test_a_refused_address_is_shown_on_the_form_as_typed(signed_in, clinic):
    ana = signed_in(clinic["ana_user"])
    answer = post(ana, PAGE, PRIVATE)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "private network" in page
    assert 'value="http://10.0.0.1/c.ics"' in page
    assert ExternalCalendar.select().count() == 0


def test_imported_busy_time_shows_on_the_schedule_and_is_not_bookable(signed_in, places):
    ana = signed_in(places["provider"])
    day = "/w/clinic?date=2026-11-30"
    assert "Busy (from your calendar)" not in ana.get(day).get_data(as_text=True)
    BusyBlock.create(
        calendar=places["ana's calendar"],
        provider=places["ana"],
        start_at=datetime(2026, 11, 30, 15, tzinfo=UTC),
        end_at=datetime(2026, 11, 30, 16, tzinfo=UTC),
    )
    page = ana.get(day).get_data(as_text=True)
    assert "Busy (from your calendar) 15:00–16:00" in page
    assert "Book Ana Silva at 15:00" not in page
    assert "Book Ana Silva at 16:00" in page
    assert "Time off 15:00" not in page
