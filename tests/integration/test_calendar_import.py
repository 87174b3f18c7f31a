"""Busy time imported from a provider's calendar, end to end: the API adds an ICS address
served by a local calendar server, a sync reads it, and the slots API stops offering the
times it makes busy. Also: 304 keeps the blocks, failures are recorded with backoff, and
addresses into private networks are refused, directly or through a redirect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from models import BusyBlock, ExternalCalendar, Provider
from services.calendar import imports
from tests.conftest import api_client_for
from tests.standins.calendar_server import CalendarServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "calendars"
THURSDAY_10 = "2026-11-26T10:00:00+00:00"  # the weekly fixture's event: 10:00–11:00 London


ALLOW = {"calendar_allow_hosts": ("127.0.0.1",)}  # the local calendar server


@pytest.fixture
def app_settings() -> dict:
    return ALLOW


@pytest.fixture
def server():
    with CalendarServer() as running:
        yield running


@pytest.fixture
def ana_api(app, clinic, clock):
    return api_client_for(app, clinic["ana_user"], clock)


def slot_starts(anonymous_api, clinic) -> list[str]:
    answer = anonymous_api.get(
        f"/api/v1/orgs/clinic/slots?service={clinic['follow_up'].id}"
        f"&date=2026-11-26&provider={clinic['ana'].id}"
    )
    assert answer.status_code == 200
    return [slot["start"] for slot in answer.json["slots"]]


def add(api, url: str) -> dict:
    answer = api.post("/api/v1/me/calendars", json={"url": url})
    assert answer.status_code == 201, answer.json
    return answer.json


def test_a_synced_event_takes_its_slot_away(server, ana_api, anonymous_api, clinic):
    url = server.serve("/weekly.ics", (FIXTURES / "weekly_dst.ics").read_bytes())
    assert THURSDAY_10 in slot_starts(anonymous_api, clinic)
    added = add(ana_api, url)
    assert added["kind"] == "ics"
    assert added["status"] == "new"
    assert server.asked == []

    synced = ana_api.post(f"/api/v1/me/calendars/{added['id']}/sync")

    assert synced.status_code == 200
    assert synced.json["status"] == "ok"
    assert synced.json["last_error"] is None
    assert synced.json["last_synced_at"] == "2026-11-25T12:00:00+00:00"
    starts = slot_starts(anonymous_api, clinic)
    assert THURSDAY_10 not in starts
    assert "2026-11-26T10:30:00+00:00" not in starts
    assert "2026-11-26T09:30:00+00:00" in starts
    assert "2026-11-26T11:00:00+00:00" in starts
    listed = ana_api.get("/api/v1/me/calendars").json
    assert [c["id"] for c in listed] == [added["id"]]


def test_a_sync_changes_the_providers_calendar_version(server, ana_api, clinic, clock):
    calendar = add(ana_api, server.serve("/weekly.ics", (FIXTURES / "weekly_dst.ics").read_bytes()))
    before = Provider.get_by_id(clinic["ana"].id)
    imports.sync(calendar["id"], clock(), ["127.0.0.1"])
    after = Provider.get_by_id(clinic["ana"].id)
    assert after.calendar_version != before.calendar_version
    assert after.hours_version != before.hours_version


def test_an_unchanged_calendar_answers_304_and_keeps_its_blocks(server, ana_api, clinic, clock):
    calendar = add(ana_api, server.serve("/weekly.ics", (FIXTURES / "weekly_dst.ics").read_bytes()))
    imports.sync(calendar["id"], clock(), ["127.0.0.1"])
    blocks = BusyBlock.select().count()
    assert blocks > 0
    clock.advance(minutes=15)

    again = ana_api.post(f"/api/v1/me/calendars/{calendar['id']}/sync").json

    assert [a.status for a in server.asked] == [200, 304]
    assert server.asked[-1].headers["If-None-Match"].startswith('"')
    assert again["status"] == "ok"
    assert again["last_synced_at"] == clock().isoformat()
    assert BusyBlock.select().count() == blocks


def test_a_failing_calendar_keeps_its_blocks_and_is_tried_later_and_later(
    server, ana_api, clinic, clock
):
    calendar = add(ana_api, server.serve("/cal.ics", (FIXTURES / "weekly_dst.ics").read_bytes()))
    imports.sync(calendar["id"], clock(), ["127.0.0.1"])
    blocks = BusyBlock.select().count()
    server.fail("/cal.ics", 500)
    waits = []
    for _ in range(8):
        got = ana_api.post(f"/api/v1/me/calendars/{calendar['id']}/sync").json
        assert got["status"] == "error"
        assert got["last_error"] == "The calendar server answered 500."
        stored = ExternalCalendar.get_by_id(calendar["id"])
        waits.append((stored.next_try_at - clock()) // timedelta(minutes=1))
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    assert BusyBlock.select().count() == blocks
    assert got["last_synced_at"] == "2026-11-25T12:00:00+00:00"  # the last success
    assert imports.due(clock()) == []
    assert imports.due(clock() + timedelta(hours=1)) != []


def test_a_private_address_is_refused_and_not_fetched(server, ana_api):
    for url in (
        f"http://localhost:{server.base_url.rsplit(':', 1)[1]}/weekly.ics",  # loopback
        "http://10.20.30.40/calendar.ics",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
    ):
        answer = ana_api.post("/api/v1/me/calendars", json={"url": url})
        assert answer.status_code == 422, url
        assert "url" in answer.json["fields"]
    assert server.asked == []
    assert ExternalCalendar.select().count() == 0


def test_a_redirect_into_a_private_network_is_refused(server, ana_api, clock):
    port = server.base_url.rsplit(":", 1)[1]
    url = server.redirect("/moved.ics", f"http://localhost:{port}/weekly.ics")
    server.serve("/weekly.ics", (FIXTURES / "weekly_dst.ics").read_bytes())
    calendar = add(ana_api, url)

    got = ana_api.post(f"/api/v1/me/calendars/{calendar['id']}/sync").json

    assert got["status"] == "error"
    assert "private network" in got["last_error"]
    assert [a.path for a in server.asked] == ["/moved.ics"]  # the target was never asked
    assert BusyBlock.select().count() == 0


def test_a_redirect_to_an_allowed_address_is_followed(server, ana_api):
    server.serve("/weekly.ics", (FIXTURES / "weekly_dst.ics").read_bytes())
    calendar = add(ana_api, server.redirect("/old.ics", "/weekly.ics"))
    got = ana_api.post(f"/api/v1/me/calendars/{calendar['id']}/sync").json
    assert got["status"] == "ok"
    assert [a.path for a in server.asked] == ["/old.ics", "/weekly.ics"]


def test_removing_a_calendar_frees_its_time(server, ana_api, anonymous_api, clinic):
    calendar = add(ana_api, server.serve("/weekly.ics", (FIXTURES / "weekly_dst.ics").read_bytes()))
    ana_api.post(f"/api/v1/me/calendars/{calendar['id']}/sync")
    assert THURSDAY_10 not in slot_starts(anonymous_api, clinic)

    assert ana_api.delete(f"/api/v1/me/calendars/{calendar['id']}").status_code == 204

    assert BusyBlock.select().count() == 0
    assert THURSDAY_10 in slot_starts(anonymous_api, clinic)


def test_a_customer_has_no_calendars_to_import(customer_api):
    answer = customer_api.post("/api/v1/me/calendars", json={"url": "https://example.com/c.ics"})
    assert answer.status_code == 403


def test_booking_an_imported_busy_time_is_refused(server, ana_api, customer_api, clinic):
    calendar = add(ana_api, server.serve("/weekly.ics", (FIXTURES / "weekly_dst.ics").read_bytes()))
    ana_api.post(f"/api/v1/me/calendars/{calendar['id']}/sync")
    answer = customer_api.post(
        "/api/v1/bookings",
        json={
            "service": clinic["follow_up"].id,
            "provider": clinic["ana"].id,
            "start": THURSDAY_10,
        },
    )
    assert answer.status_code == 422  # as for time off: not offered then
    assert answer.json["fields"]["start"] == "This service is not offered at that time."


def test_the_periodic_task_syncs_the_due_calendars(server, ana_api, clock, monkeypatch):
    import tasks

    monkeypatch.setattr(tasks, "settings", tasks.settings.with_overrides(**ALLOW))
    due = add(ana_api, server.serve("/due.ics", (FIXTURES / "weekly_dst.ics").read_bytes()))
    later = add(ana_api, server.serve("/later.ics", (FIXTURES / "exdate.ics").read_bytes()))
    far = datetime.now(UTC) + timedelta(days=1)
    ExternalCalendar.update(next_try_at=far).where(ExternalCalendar.id == later["id"]).execute()

    tasks.sync_calendars.call_local()

    assert [a.path for a in server.asked] == ["/due.ics"]
    assert ExternalCalendar.get_by_id(due["id"]).status == "ok"
    assert ExternalCalendar.get_by_id(later["id"]).status == "new"
