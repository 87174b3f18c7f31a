"""Time off from a free time on the schedule (issue 15, item 10): the form in the panel,
filled from the time tapped; the Availability page's rules (bad input is a 422 keeping
what was typed) and its question about bookings the time off would leave outside
working time (409, then keep or cancel them).

World (tests/integration/workspace.py): Ana works Mon–Fri 09–13 and 14–17 and has a
booking Mon 30 Nov 10:00–11:00; the clock is Wed 25 Nov 2026, 12:00 in London.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import Booking, TimeOff
from tests.integration.test_ws_availability import PARTIAL, body, error_near, input_value
from tests.integration.webpages import csrf_token, parse

NEW = "/w/clinic/time-off/new"


@pytest.fixture
def ana(signed_in, world):
    return signed_in(world["provider"])


def post(client, data: dict, headers=None):
    token = csrf_token(client.get("/w/clinic?date=2026-11-30"))
    return client.post(NEW, data={"csrf_token": token, **data}, headers=headers)


def typed(world, **fields) -> dict:
    return {
        "provider": str(world["ana"]),
        "start_date": "2026-11-30",
        "start_time": "14:00",
        "end_date": "2026-11-30",
        "end_time": "15:00",
        "reason": "Dentist",
    } | fields


def time_off() -> list[tuple[datetime, datetime, str]]:
    return [(t.start_at, t.end_at, t.reason) for t in TimeOff.select().order_by(TimeOff.start_at)]


def test_a_free_time_offers_a_booking_or_time_off(ana, world):
    page = parse(ana.get("/w/clinic?date=2026-11-30"))
    free = page.find("a", class_="ws-free")
    panel = parse(ana.get(free.attrs["href"], headers=PARTIAL))
    offers = panel.one("nav", class_="ws-slot-choice").find_all("a")
    assert [a.text for a in offers] == ["New booking", "Time off"]
    assert offers[0].attrs["aria-current"] == "page"

    form = ana.get(offers[1].attrs["href"], headers=PARTIAL)
    assert form.status_code == 200
    assert "Time off for Ana Silva" in body(form)
    assert "<html" not in body(form)  # the panel only, for htmx
    # From the time tapped (09:00, the first free one), for an hour.
    assert [input_value(form, n) for n in ("start_date", "start_time", "end_date", "end_time")] == [
        "2026-11-30",
        "09:00",
        "2026-11-30",
        "10:00",
    ]
    whole = ana.get(offers[1].attrs["href"])  # a page of its own without htmx
    assert "Back to the schedule" in body(whole)
    assert "<html" in body(whole)


def test_time_off_is_added_and_shown_on_the_grid(ana, world):
    response = post(ana, typed(world), PARTIAL)
    assert response.status_code == 200
    assert "Time off added." in body(response)
    assert "schedule-changed" in response.headers["HX-Trigger"]
    assert time_off() == [
        (datetime(2026, 11, 30, 14, tzinfo=UTC), datetime(2026, 11, 30, 15, tzinfo=UTC), "Dentist")
    ]
    grid = parse(ana.get("/w/clinic?date=2026-11-30")).find_all("section", class_="ws-column")[0]
    assert "Time off 14:00–15:00" in grid.one("div", class_="ws-off").text


def test_without_javascript_it_goes_back_to_the_day(ana, world):
    response = post(ana, typed(world))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/w/clinic?date=2026-11-30")
    assert len(time_off()) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"end_time": "13:00"}, "end_time", "The end must be after the start."),
        ({"start_time": "25:00"}, "start_time", "Give a time as HH:MM, like 09:30."),
        ({"start_date": "30/11/2026"}, "start_date", "Give a date as YYYY-MM-DD."),
        ({"start_date": "2026-11-02", "end_date": "2026-11-02"}, "end_date", "already over"),
        ({"reason": "x" * 201}, "reason", "Use at most 200 characters."),
    ],
)
def test_bad_input_is_a_422_keeping_what_was_typed(ana, world, fields, field, message):
    response = post(ana, typed(world, **fields), PARTIAL)
    assert response.status_code == 422
    assert message in error_near(response, f"to-{field}")
    assert input_value(response, "reason") == typed(world, **fields)["reason"]
    assert input_value(response, field) == typed(world, **fields)[field]
    assert time_off() == []


def test_an_unknown_or_foreign_provider_is_refused(ana, world):
    assert post(ana, typed(world, provider="x")).status_code == 422
    assert post(ana, typed(world, provider=str(world["tom"]))).status_code in (403, 404)
    assert time_off() == []


def test_a_conflict_with_a_booking_is_reported_as_on_the_availability_page(ana, world):
    over = typed(world, start_time="10:30", end_time="12:00", reason="Training")
    first = post(ana, over, PARTIAL)
    assert first.status_code == 409
    page = parse(first)
    assert "this change would leave 1 booking outside working time" in body(first)
    orphans = page.one("div", class_="av-orphans")
    assert [li.text.split()[0] for li in orphans.one("ul").find_all("li")] == ["Mon"]
    assert "Casey Morgan" in orphans.text
    assert input_value(first, "reason") == "Training"
    assert time_off() == []

    seen = orphans.one("input", name="seen").attrs["value"]
    cancel = over | {"decision": "cancel", "seen": seen, "message": ""}
    assert post(ana, cancel, PARTIAL).status_code == 422  # cancelling needs a message
    keep = over | {"decision": "keep", "seen": seen}
    kept = post(ana, keep, PARTIAL)
    assert kept.status_code == 200
    assert "Time off added. 1 booking kept outside working hours." in body(kept)
    assert len(time_off()) == 1
    assert Booking.get_by_id(world["ana's booking"]).status == "confirmed"
