"""The CalDAV server of the calendar-sync tests works as a calendar app expects: a
calendar made, an event put and read back, a wrong password refused, a sync token given."""

from __future__ import annotations

import pytest
import requests

from tests.radicale import PASSWORD, USER, Radicale

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Kairos tests//EN
BEGIN:VEVENT
UID:kairos-test-1@kairos.test
DTSTAMP:20261201T100000Z
DTSTART:20261207T100000Z
DTEND:20261207T110000Z
SUMMARY:Dentist
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture(scope="module")
def radicale():
    server = Radicale().start()
    yield server
    server.stop()


def test_a_calendar_takes_an_event_and_gives_it_back(radicale):
    calendar = radicale.make_calendar("work")

    put = requests.put(
        f"{calendar}kairos-test-1.ics",
        data=EVENT,
        headers={"Content-Type": "text/calendar"},
        auth=(USER, PASSWORD),
        timeout=5,
    )
    refused = requests.put(f"{calendar}other.ics", data=EVENT, auth=(USER, "wrong"), timeout=5)

    assert put.status_code == 201
    assert refused.status_code == 401
    (text,) = radicale.events(calendar).values()
    assert "SUMMARY:Dentist" in text


def test_it_answers_a_sync_collection_report_with_a_token(radicale):
    calendar = radicale.make_calendar("sync")
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level>'
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    )

    response = requests.request(
        "REPORT",
        calendar,
        data=body,
        headers={"Content-Type": "application/xml"},
        auth=(USER, PASSWORD),
        timeout=5,
    )

    assert response.status_code == 207
    assert b"sync-token" in response.content
