"""Never orphan a booking: a change that leaves future bookings outside working time is
not saved until the staff member keeps them or cancels them with a message. And DST:
hours are local wall-clock time, time off is converted to UTC across the clocks change.

World: Ana works Mon–Fri 09–13 and 14–17 and has a booking Mon 30 Nov 10:00–11:00
(Initial assessment, Casey Morgan); Tom works Mon–Fri 09–17 with Sam Lee at the same time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from models import Booking, DateOverride, TimeOff
from services.booking import appointments as bookings
from services.booking import slots as availability
from services.notifications.outbox import Dispatch
from tests.integration.test_ws_availability import (
    ANAS_WEEK,
    PAGE,
    PARTIAL,
    body,
    error_near,
    hours_of,
    hours_url,
    input_value,
    overrides_url,
    post,
    time_off_url,
    week,
)
from tests.integration.webpages import parse

NO_MONDAY = {key: rows for key, rows in ANAS_WEEK.items() if key != "mon"} | {
    "tue": [("08:00", "12:00")]
}


@pytest.fixture
def ana(signed_in, world):
    return signed_in(world["provider"])


@pytest.fixture
def owner(signed_in, world):
    return signed_in(world["owner"])


def status_of(booking_id: int) -> str:
    return Booking.get_by_id(booking_id).status


def listed(response) -> list[str]:
    """The bookings the orphan panel lists, as text."""
    panel = parse(response).find("div", class_="av-orphans")
    assert panel is not None, "no list of bookings"
    return [li.text for li in panel.one("ul").find_all("li")]


def seen(response) -> str:
    return parse(response).find("div", class_="av-orphans").one("input", name="seen").attrs["value"]


def book_ana(world, clock, start: datetime, service_id: int | None = None) -> int:
    return bookings.book(
        customer_id=world["ana's customer"],
        service_id=service_id or world["assessment"],
        start=start,
        now=clock(),
        provider_id=world["ana"],
        dispatch=Dispatch(),
    ).id


# Weekly hours -----------------------------------------------------------------------


def test_closing_a_day_with_a_booking_lists_it_and_saves_nothing(ana, world):
    response = post(ana, hours_url(world), week(NO_MONDAY))
    assert response.status_code == 409
    assert listed(response) == ["Mon 30 Nov 2026, 10:00–11:00 Casey Morgan · Initial assessment"]
    assert "Nothing saved yet: this change would leave 1 booking outside working time." in body(
        response
    )
    assert seen(response) == str(world["ana's booking"])
    assert input_value(response, "tue-0-start") == "08:00"  # what was typed is still there
    assert input_value(response, "mon-0-start") == ""
    decision = parse(response).find_all("input", name="decision")
    assert [d.attrs["value"] for d in decision] == ["keep", "cancel"]
    assert not any("checked" in d.attrs for d in decision)
    assert hours_of(world["ana"])[0] == [(time(9), time(13)), (time(14), time(17))]


def test_keep_saves_the_change_and_leaves_the_booking(ana, world):
    first = post(ana, hours_url(world), week(NO_MONDAY))
    response = post(
        ana, hours_url(world), week(NO_MONDAY) | {"decision": "keep", "seen": seen(first)}
    )
    assert response.status_code == 303
    assert 0 not in hours_of(world["ana"])
    assert hours_of(world["ana"])[1] == [(time(8), time(12))]
    assert status_of(world["ana's booking"]) == "confirmed"
    assert "1 booking kept outside working hours." in body(ana.get(response.headers["Location"]))


def test_cancel_needs_a_message_and_saves_nothing_without_one(ana, world):
    first = post(ana, hours_url(world), week(NO_MONDAY))
    typed = week(NO_MONDAY) | {"decision": "cancel", "seen": seen(first), "message": "  "}
    response = post(ana, hours_url(world), typed)
    assert response.status_code == 422
    assert "Write the message the customers will get" in error_near(response, "hours-message")
    assert listed(response)  # still shown, with the choice kept
    checked = parse(response).find("input", name="decision", checked="")
    assert checked is not None
    assert checked.attrs["value"] == "cancel"
    assert 0 in hours_of(world["ana"])
    assert status_of(world["ana's booking"]) == "confirmed"


def test_cancel_saves_the_change_and_cancels_with_the_message(ana, world, signed_in):
    first = post(ana, hours_url(world), week(NO_MONDAY))
    message = "Sorry, I no longer work on Mondays. Please book another day."
    typed = week(NO_MONDAY) | {"decision": "cancel", "seen": seen(first), "message": message}
    response = post(ana, hours_url(world), typed)
    assert response.status_code == 303
    assert 0 not in hours_of(world["ana"])
    cancelled = Booking.get_by_id(world["ana's booking"])
    assert cancelled.status == "cancelled"
    assert cancelled.cancel_reason == message
    assert cancelled.cancelled_by_id == world["provider"].id
    assert "1 booking cancelled, with your message." in body(ana.get(response.headers["Location"]))
    customer = signed_in(world["customer"])
    assert message in body(customer.get(f"/appointments/{cancelled.id}"))


def test_a_booking_made_meanwhile_is_shown_before_anything_is_saved(ana, world, clock):
    first = post(ana, hours_url(world), week(NO_MONDAY))
    later = book_ana(world, clock, datetime(2026, 12, 7, 9, tzinfo=UTC))  # another Monday
    typed = week(NO_MONDAY) | {"decision": "cancel", "seen": seen(first), "message": "Sorry"}
    response = post(ana, hours_url(world), typed)
    assert response.status_code == 409
    assert len(listed(response)) == 2
    assert "not the ones shown before" in body(response)
    assert parse(response).find("input", name="decision", checked="") is None
    assert input_value(response, "seen") == ",".join(map(str, (world["ana's booking"], later)))
    assert 0 in hours_of(world["ana"])
    assert status_of(later) == status_of(world["ana's booking"]) == "confirmed"


def test_the_owner_cancels_a_providers_bookings(owner, world):
    no_monday = week({key: [("09:00", "17:00")] for key in ("tue", "wed", "thu", "fri")})
    first = post(owner, hours_url(world, "tom"), no_monday)
    assert first.status_code == 409
    assert listed(first) == ["Mon 30 Nov 2026, 10:00–10:45 Sam Lee · Sports massage"]
    typed = no_monday | {"decision": "cancel", "seen": seen(first), "message": "Tom is away"}
    assert post(owner, hours_url(world, "tom"), typed).status_code == 303
    cancelled = Booking.get_by_id(world["tom's booking"])
    assert (cancelled.status, cancelled.cancelled_by_id) == ("cancelled", world["owner"].id)
    assert status_of(world["ana's booking"]) == "confirmed"


def test_past_bookings_and_bookings_still_inside_do_not_count(ana, world, clock):
    clock.now = datetime(2026, 11, 24, 8, tzinfo=UTC)
    earlier = book_ana(world, clock, datetime(2026, 11, 25, 9, tzinfo=UTC))  # today, over
    clock.now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    # Wednesday closed (its booking is in the past); Monday 10:00–11:00 still inside.
    days = {key: rows for key, rows in ANAS_WEEK.items() if key != "wed"}
    days["mon"] = [("10:00", "11:00")]
    response = post(ana, hours_url(world), week(days))
    assert response.status_code == 303
    assert status_of(earlier) == "confirmed"


def test_a_booking_already_outside_working_time_is_not_asked_about_again(ana, world):
    first = post(ana, hours_url(world), week(NO_MONDAY))
    kept = post(ana, hours_url(world), week(NO_MONDAY) | {"decision": "keep", "seen": seen(first)})
    assert kept.status_code == 303
    assert 0 not in hours_of(world["ana"])
    response = post(ana, hours_url(world), week(NO_MONDAY | {"wed": [("10:00", "12:00")]}))
    assert response.status_code == 303
    assert hours_of(world["ana"])[2] == [(time(10), time(12))]


def test_htmx_gets_the_form_with_the_bookings(ana, world):
    response = post(ana, hours_url(world), week(NO_MONDAY), PARTIAL)
    assert response.status_code == 409
    fragment = body(response)
    assert fragment.lstrip().startswith('<form id="hours-form"')
    assert "<html" not in fragment
    assert "Casey Morgan" in fragment


# Date overrides and time off --------------------------------------------------------


def test_closing_a_date_with_a_booking_asks_first(ana, world):
    data = {"day": "2026-11-30", "kind": "closed"}
    first = post(ana, overrides_url(world), data)
    assert first.status_code == 409
    assert listed(first) == ["Mon 30 Nov 2026, 10:00–11:00 Casey Morgan · Initial assessment"]
    assert input_value(first, "day") == "2026-11-30"
    assert DateOverride.select().count() == 0
    response = post(ana, overrides_url(world), data | {"decision": "keep", "seen": seen(first)})
    assert response.status_code == 303
    assert DateOverride.select().count() == 1
    assert status_of(world["ana's booking"]) == "confirmed"


def test_shorter_hours_on_a_date_ask_too(ana, world):
    data = {"day": "2026-11-30", "kind": "hours", "hours-0-start": "10:30", "hours-0-end": "17:00"}
    first = post(ana, overrides_url(world), data, PARTIAL)
    assert first.status_code == 409
    assert body(first).lstrip().startswith('<div id="overrides-panel"')
    assert len(listed(first)) == 1


def test_deleting_an_override_that_opened_a_day_asks_first(ana, world, clock, clinic):
    saturday = {
        "day": "2026-12-05",
        "kind": "hours",
        "hours-0-start": "10:00",
        "hours-0-end": "12:00",
    }
    assert post(ana, overrides_url(world), saturday).status_code == 303
    on_saturday = book_ana(
        world, clock, datetime(2026, 12, 5, 10, tzinfo=UTC), clinic["follow_up"].id
    )
    delete = f"{overrides_url(world)}/2026-12-05/delete"

    first = post(ana, delete, {})
    assert first.status_code == 409
    assert listed(first) == ["Sat 5 Dec 2026, 10:00–10:30 Casey Morgan · Follow-up"]
    assert DateOverride.select().count() == 1
    missing = post(ana, delete, {"decision": "cancel", "seen": seen(first)}, PARTIAL)
    assert missing.status_code == 422
    assert "Write the message" in error_near(missing, "delete-message")
    assert body(missing).lstrip().startswith('<div id="overrides-panel"')

    response = post(ana, delete, {"decision": "cancel", "seen": seen(first), "message": "Closed"})
    assert response.status_code == 303
    assert DateOverride.select().count() == 0
    assert Booking.get_by_id(on_saturday).cancel_reason == "Closed"


def test_time_off_over_a_booking_asks_first(ana, world):
    data = {
        "start_date": "2026-11-30",
        "start_time": "10:30",
        "end_date": "2026-11-30",
        "end_time": "12:00",
        "reason": "Training",
    }
    first = post(ana, time_off_url(world), data)
    assert first.status_code == 409
    assert len(listed(first)) == 1
    assert input_value(first, "reason") == "Training"
    assert TimeOff.select().count() == 0
    typed = data | {"decision": "cancel", "seen": seen(first), "message": "Training day"}
    assert post(ana, time_off_url(world), typed).status_code == 303
    assert TimeOff.select().count() == 1
    assert status_of(world["ana's booking"]) == "cancelled"


def test_time_off_that_only_touches_a_booking_does_not_ask(ana, world):
    data = {
        "start_date": "2026-11-30",
        "start_time": "11:00",
        "end_date": "2026-11-30",
        "end_time": "12:00",
    }
    assert post(ana, time_off_url(world), data).status_code == 303
    assert TimeOff.select().count() == 1


# DST (London: clocks forward Sun 28 Mar 2027 01:00 GMT, back Sun 31 Oct 2027 02:00 BST) --


def test_time_off_across_the_clocks_change_keeps_local_times(ana, world):
    data = {
        "start_date": "2027-03-26",
        "start_time": "09:00",
        "end_date": "2027-03-30",
        "end_time": "17:00",
    }
    assert post(ana, time_off_url(world), data).status_code == 303
    (row,) = TimeOff.select()
    assert row.start_at == datetime(2027, 3, 26, 9, tzinfo=UTC)  # GMT
    assert row.end_at == datetime(2027, 3, 30, 16, tzinfo=UTC)  # BST
    assert "Fri 26 Mar 2027, 09:00 – Tue 30 Mar 2027, 17:00" in body(ana.get(PAGE))


def test_whole_days_across_the_clocks_change(ana, world):
    data = {"start_date": "2027-03-27", "end_date": "2027-03-28", "all_day": "y"}
    assert post(ana, time_off_url(world), data).status_code == 303
    (row,) = TimeOff.select()
    assert row.start_at == datetime(2027, 3, 27, 0, tzinfo=UTC)
    assert row.end_at == datetime(2027, 3, 28, 23, tzinfo=UTC)  # midnight BST
    assert row.end_at - row.start_at == timedelta(hours=47)
    assert "Sat 27 Mar 2027 – Sun 28 Mar 2027" in body(ana.get(PAGE))


def test_a_time_skipped_by_the_clocks_is_refused(ana, world):
    data = {
        "start_date": "2027-03-28",
        "start_time": "01:30",
        "end_date": "2027-03-28",
        "end_time": "04:00",
    }
    response = post(ana, time_off_url(world), data)
    assert response.status_code == 422
    assert error_near(response, "start_time") == (
        "Error: 01:30 does not exist on Sun 28 Mar: the clocks go forward from 01:00 to 02:00."
        " Choose a time before 01:00 or from 02:00."
    )
    assert TimeOff.select().count() == 0


def test_a_repeated_time_keeps_all_of_what_was_typed(ana, world):
    data = {
        "start_date": "2027-10-31",
        "start_time": "01:30",
        "end_date": "2027-10-31",
        "end_time": "01:30",
    }
    assert post(ana, time_off_url(world), data).status_code == 303  # 01:30 BST to 01:30 GMT
    (row,) = TimeOff.select()
    assert (row.start_at, row.end_at) == (
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
    )


def test_weekly_hours_stay_at_nine_local_in_winter_and_summer(owner, world, clock, clinic):
    response = post(owner, hours_url(world, "tom"), week({"mon": [("09:00", "17:00")]}))
    assert response.status_code == 303
    slots = {
        day: availability.find_slots(
            clinic["follow_up"], day, day, clock(), provider_id=world["tom"]
        )
        for day in (date(2026, 12, 7), date(2027, 4, 12))  # Mondays in GMT and in BST
    }
    assert slots[date(2026, 12, 7)][0].start == datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert slots[date(2026, 12, 7)][-1].end == datetime(2026, 12, 7, 17, tzinfo=UTC)
    assert slots[date(2027, 4, 12)][0].start == datetime(2027, 4, 12, 8, tzinfo=UTC)
    assert slots[date(2027, 4, 12)][-1].end == datetime(2027, 4, 12, 16, tzinfo=UTC)


def test_orphans_are_judged_on_local_time_in_summer(ana, world, clock):
    nine_bst = book_ana(world, clock, datetime(2027, 4, 5, 8, tzinfo=UTC))  # 09:00–10:00 local
    later_start = ANAS_WEEK | {"mon": [("09:00", "12:00")]}
    assert post(ana, hours_url(world), week(later_start)).status_code == 303

    later_start["mon"] = [("09:30", "12:00")]
    response = post(ana, hours_url(world), week(later_start))
    assert response.status_code == 409
    assert listed(response) == ["Mon 5 Apr 2027, 09:00–10:00 Casey Morgan · Initial assessment"]
    assert status_of(nine_bst) == "confirmed"
