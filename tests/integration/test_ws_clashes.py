"""A busy time that arrives from a provider's own calendar over a booking already made:
the schedule flags the booking, and its panel says which times clash.

The world: Ana's assessment Mon 30 Nov 10:00–11:00 (London, UTC in winter) and Tom's
massage 10:00–10:45 (kept busy to 10:55 by its buffer).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from models import BusyBlock, ExternalCalendar
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.integration.webpages import parse

DAY = "/w/clinic?date=2026-11-30"
WEEK = "/w/clinic/week?date=2026-11-30"
FLAG = "Clashes with your calendar"


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 30, hour, minute, tzinfo=UTC)


@pytest.fixture
def calendars(world, clock) -> dict:
    """A calendar each for Ana and Tom (nothing read from them yet)."""
    return {
        who: ExternalCalendar.create(
            provider=world[who],
            url=f"https://calendar.example/{who}/secret-token.ics",
            next_try_at=clock(),
            created_at=clock(),
        )
        for who in ("ana", "tom")
    }


def busy(calendars, who: str, start: datetime, end: datetime) -> BusyBlock:
    calendar = calendars[who]
    return BusyBlock.create(
        calendar=calendar, provider=calendar.provider_id, start_at=start, end_at=end
    )


def flagged(client, url: str = DAY) -> dict[int, str]:
    """The bookings on the schedule at ``url`` that carry a clash mark: id → the mark's
    accessible text."""
    page = parse(client.get(url))
    return {
        int(a.attrs["data-booking"]): mark.text.strip()
        for a in page.find_all("a", class_="ws-booking")
        if (mark := a.find(class_="ws-clash-label"))
    }


def panel_text(client, booking_id: int) -> str:
    return parse(client.get(f"/w/clinic/bookings/{booking_id}")).text


def test_a_busy_time_over_a_booking_flags_it_on_the_day_and_week(signed_in, world, calendars):
    busy(calendars, "ana", at(10, 30), at(11, 15))
    ana = signed_in(world["provider"])

    assert flagged(ana) == {world["ana's booking"]: FLAG}
    assert flagged(ana, WEEK) == {world["ana's booking"]: FLAG}
    # The owner sees it on Ana's column, named as hers.
    assert flagged(signed_in(world["owner"])) == {
        world["ana's booking"]: "Clashes with Ana Silva's calendar"
    }
    # The busy time still shows (as busy, never with a title) and takes no bookings.
    page = ana.get(DAY).get_data(as_text=True)
    assert "Busy (from your calendar) 10:30–11:15" in page
    assert "Book Ana Silva at 11:00" not in page


def test_the_panel_says_which_times_clash(signed_in, world, calendars):
    busy(calendars, "ana", at(10, 30), at(11, 15))
    busy(calendars, "ana", at(9), at(9, 30))  # earlier, no clash: not listed
    ana = signed_in(world["provider"])

    text = " ".join(panel_text(ana, world["ana's booking"]).split())
    assert (
        "Your calendar (calendar.example) has something from 10:30 to 11:15"
        " — move or cancel one of them." in text
    )
    assert "09:00 to 09:30" not in text
    assert "secret-token" not in text  # the address is a secret: only its host shows
    owner_text = " ".join(panel_text(signed_in(world["owner"]), world["ana's booking"]).split())
    assert "Ana Silva's calendar has something from 10:30 to 11:15" in owner_text
    assert "calendar.example" not in owner_text  # her calendars are hers


def test_a_busy_time_spanning_days_gives_its_days(signed_in, world, calendars):
    # All of Sunday and Monday: the days are given as well as the times.
    busy(calendars, "ana", at(0) - timedelta(days=1), at(0) + timedelta(days=1))
    text = " ".join(panel_text(signed_in(world["provider"]), world["ana's booking"]).split())
    assert "has something from Sun 29 Nov 00:00 to Tue 1 Dec 00:00" in text


def test_touching_end_to_start_is_no_clash(signed_in, world, calendars):
    busy(calendars, "ana", at(11), at(12))  # from the end of Ana's booking
    busy(calendars, "ana", at(9), at(10))  # up to its start
    busy(calendars, "tom", at(10, 45), at(10, 55))  # in Tom's buffer, after his massage
    ana, owner = signed_in(world["provider"]), signed_in(world["owner"])

    assert flagged(ana) == {}
    assert flagged(owner) == {}
    assert "has something" not in panel_text(ana, world["ana's booking"])


def test_a_cancelled_booking_is_not_flagged(signed_in, world, calendars, clock):
    busy(calendars, "ana", at(10, 30), at(11, 15))
    bookings.cancel(
        booking_id=world["ana's booking"],
        actor_id=world["owner"].id,
        now=clock(),
        dispatch=Dispatch(),
    )
    ana = signed_in(world["provider"])

    assert flagged(ana) == {}
    page = parse(ana.get(DAY))
    assert "1 cancelled" in page.one("details", class_="ws-cancelled").text
    assert page.find(class_="ws-clash") is None
    assert "has something" not in panel_text(ana, world["ana's booking"])


def test_another_providers_busy_time_does_not_flag(signed_in, world, calendars):
    busy(calendars, "tom", at(10), at(11))  # over both bookings' times, in Tom's calendar
    owner = signed_in(world["owner"])

    assert flagged(owner) == {world["tom's booking"]: "Clashes with Tom Reed's calendar"}
    assert "has something" not in panel_text(owner, world["ana's booking"])
    text = " ".join(panel_text(owner, world["tom's booking"]).split())
    assert "Tom Reed's calendar has something from 10:00 to 11:00" in text


def test_the_schedule_finds_clashes_without_a_query_per_booking(
    signed_in, world, calendars, clinic, clock, caplog
):
    owner = signed_in(world["owner"])

    def queries(url: str) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            assert owner.get(url).status_code == 200
        return sum(1 for r in caplog.records if r.name == "peewee")

    before = {url: queries(url) for url in (DAY, WEEK)}
    for hour in (14, 15, 16):  # three more of Ana's bookings, each under a busy time
        customer = factories.make_user(f"more{hour}@example.com", f"More {hour}")
        bookings.book(
            customer_id=customer.id,
            service_id=clinic["follow_up"].id,
            start=at(hour),
            provider_id=clinic["ana"].id,
            now=clock(),
            dispatch=Dispatch(),
        )
        busy(calendars, "ana", at(hour, 15), at(hour, 20))
    busy(calendars, "ana", at(10, 30), at(11, 15))
    busy(calendars, "tom", at(10), at(11))

    assert len(flagged(owner)) == 5
    assert {url: queries(url) for url in (DAY, WEEK)} == before


def test_an_open_schedule_shows_the_clash_at_its_next_poll(signed_in, world, calendars):
    ana = signed_in(world["provider"])
    first = ana.get(DAY, headers={"HX-Request": "true"})
    unchanged = {"HX-Request": "true", "If-None-Match": first.headers["ETag"]}
    assert ana.get(DAY, headers=unchanged).status_code == 304

    busy(calendars, "ana", at(10, 30), at(11, 15))  # the calendar is read meanwhile
    polled = ana.get(DAY, headers=unchanged)
    assert polled.status_code == 200
    assert parse(polled).one("a", class_="ws-clashing").attrs["data-booking"] == str(
        world["ana's booking"]
    )
