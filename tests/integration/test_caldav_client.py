"""services/calendar/caldav.py against a real Radicale: Kairos's events written, moved
and removed, the provider's own events read and never touched, changes read
incrementally with the sync token, and errors said plainly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from services.calendar import caldav
from tests.radicale import PASSWORD, USER

START, END = datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)


def event(uid: str, start: str, summary: str = "Booked") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kairos//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261201T100000Z\r\nDTSTART:{start}\r\n"
        f"DURATION:PT1H\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


@pytest.fixture
def calendar(collection) -> caldav.Calendar:
    return caldav.Calendar(collection, USER, PASSWORD)


def test_kairos_writes_moves_and_removes_its_own_event(radicale, calendar):
    caldav.put_event(calendar, "booking-7", event("booking-7@kairos", "20261207T100000Z"))
    caldav.put_event(calendar, "booking-7", event("booking-7@kairos", "20261208T140000Z"))

    (text,) = radicale.events(calendar.url).values()
    assert "DTSTART:20261208T140000Z" in text

    caldav.delete_event(calendar, "booking-7")
    caldav.delete_event(calendar, "booking-7")  # gone already: fine
    assert radicale.events(calendar.url) == {}


def test_changes_come_incrementally_with_the_sync_token(calendar):
    mine = calendar.href("dentist.ics")
    requests.put(
        mine,
        data=event("dentist@phone", "20261209T090000Z", "Dentist"),
        auth=(USER, PASSWORD),
        timeout=5,
    ).raise_for_status()
    caldav.put_event(calendar, "booking-8", event("booking-8@kairos", "20261210T100000Z"))

    first = caldav.changes(calendar, None, START, END)
    nothing = caldav.changes(calendar, first.token, START, END)
    requests.delete(mine, auth=(USER, PASSWORD), timeout=5).raise_for_status()
    after = caldav.changes(calendar, nothing.token, START, END)

    assert first.complete
    assert first.token
    assert sorted(h.rsplit("/", 1)[-1] for h in first.events) == [
        "dentist.ics",
        "kairos-booking-8.ics",
    ]
    assert [caldav.is_own(h) for h in sorted(first.events)] == [False, True]
    assert (nothing.events, nothing.gone, nothing.complete) == ({}, [], False)
    assert [h.rsplit("/", 1)[-1] for h in after.gone] == ["dentist.ics"]


def test_a_token_the_server_forgot_reads_everything_again(calendar):
    caldav.put_event(calendar, "booking-9", event("booking-9@kairos", "20261211T100000Z"))

    again = caldav.changes(calendar, "http://radicale.org/ns/sync/unknown", START, END)

    assert again.complete
    assert len(again.events) == 1


def test_a_wrong_password_and_a_server_down_are_errors_not_crashes(radicale, calendar):
    wrong = caldav.Calendar(calendar.url, USER, "not-it")
    with pytest.raises(caldav.CalDavError) as refused:
        caldav.put_event(wrong, "x", event("x@kairos", "20261212T100000Z"))
    assert refused.value.status == 401

    radicale.stop()
    try:
        with pytest.raises(caldav.CalDavError, match="PUT failed"):
            caldav.put_event(calendar, "y", event("y@kairos", "20261212T100000Z"))
    finally:
        radicale.start()
    caldav.put_event(calendar, "y", event("y@kairos", "20261212T100000Z"))  # back up
