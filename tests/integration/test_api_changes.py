"""POST /api/v1/bookings/<id>/cancel and /reschedule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import Booking, BookingEvent
from tests import factories
from tests.conftest import api_client_for

MONDAY_10 = "2026-11-30T10:00:00+00:00"
NOT_FOUND = {"error": "not_found", "message": "No such booking."}


@pytest.fixture
def other_api(app, clinic, clock):
    return api_client_for(app, factories.make_user("dana@example.com", "Dana Lee"), clock)


def booked(api, service, start: str, provider=None) -> dict:
    body = {"service": service.id, "start": start}
    if provider is not None:
        body["provider"] = provider.id
    response = api.post("/api/v1/bookings", json=body)
    assert response.status_code == 201, response.json
    return response.json


def cancel(api, booking: dict, **body):
    return api.post(f"/api/v1/bookings/{booking['id']}/cancel", json=body or None)


def reschedule(api, booking: dict, start: str, provider=None):
    body = {"start": start}
    if provider is not None:
        body["provider"] = provider.id
    return api.post(f"/api/v1/bookings/{booking['id']}/reschedule", json=body)


def slot_starts(api, service, day: str, provider=None) -> list[str]:
    url = f"/api/v1/orgs/clinic/slots?service={service.id}&date={day}"
    if provider is not None:
        url += f"&provider={provider.id}"
    return [s["start"] for s in api.get(url).json["slots"]]


def booking_rows() -> list[tuple[int, str]]:
    return [(b.id, b.status) for b in Booking.select().order_by(Booking.id)]


# --- cancel -------------------------------------------------------------------------------


def test_cancel_with_a_reason(customer_api, clinic, clock):
    made = booked(customer_api, clinic["assessment"], MONDAY_10)

    response = cancel(customer_api, made, reason="  Feeling better  ")

    assert response.status_code == 200
    assert response.json == made | {"status": "cancelled", "cancel_reason": "Feeling better"}
    row = Booking.get_by_id(made["id"])
    assert row.status == "cancelled"
    assert row.cancelled_by_id == clinic["customer"].id
    assert row.cancelled_at == clock.now
    assert customer_api.get(f"/api/v1/bookings/{made['id']}").json["status"] == "cancelled"


@pytest.mark.parametrize("body", [None, {}, {"reason": None}, {"reason": ""}])
def test_cancel_without_a_reason(customer_api, clinic, body):
    made = booked(customer_api, clinic["assessment"], MONDAY_10)

    response = customer_api.post(f"/api/v1/bookings/{made['id']}/cancel", json=body)

    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert response.json["cancel_reason"] is None


def test_cancel_with_a_reason_that_is_not_text_is_422(customer_api, clinic):
    made = booked(customer_api, clinic["assessment"], MONDAY_10)

    response = cancel(customer_api, made, reason=["no"])

    assert response.status_code == 422
    assert list(response.json["fields"]) == ["reason"]
    assert Booking.get_by_id(made["id"]).status == "confirmed"


def test_cancel_someone_elses_booking_is_404(customer_api, other_api, clinic):
    theirs = booked(other_api, clinic["assessment"], MONDAY_10)

    response = cancel(customer_api, theirs)
    missing = customer_api.post("/api/v1/bookings/999999/cancel")

    assert response.status_code == missing.status_code == 404
    assert response.json == missing.json == NOT_FOUND
    assert Booking.get_by_id(theirs["id"]).status == "confirmed"


def test_cancel_until_the_deadline_then_not(customer_api, clinic, clock):
    first = booked(customer_api, clinic["assessment"], MONDAY_10)
    second = booked(customer_api, clinic["assessment"], "2026-11-30T11:00:00+00:00")

    clock.now = datetime(2026, 11, 29, 9, 59, tzinfo=UTC)
    in_time = cancel(customer_api, first)
    clock.now = datetime(2026, 11, 29, 11, tzinfo=UTC)  # exactly 24 hours before: too late
    too_late = cancel(customer_api, second)

    assert in_time.status_code == 200
    assert too_late.status_code == 409
    assert too_late.json["error"] == "outside_cancellation_window"
    assert too_late.json["deadline"] == "2026-11-29T11:00:00+00:00"
    assert too_late.json["message"] == (
        "Online changes were possible until Sun 29 Nov 2026, 11:00 London time (GMT)."
        " Please contact us directly."
    )
    assert Booking.get_by_id(second["id"]).status == "confirmed"


def test_deadline_carries_the_summer_offset(app, customer_api, clinic, clock):
    made = booked(customer_api, clinic["assessment"], "2027-04-05T10:00:00+01:00")
    clock.now = datetime(2027, 4, 5, 7, tzinfo=UTC)
    later_api = api_client_for(app, clinic["customer"], clock)  # the first token has expired

    response = cancel(later_api, made)

    assert response.status_code == 409
    assert response.json["deadline"] == "2027-04-04T10:00:00+01:00"
    assert made["can_cancel_until"] == response.json["deadline"]


def test_cancel_after_the_start_is_outside_the_window(customer_api, clinic, clock):
    made = booked(customer_api, clinic["assessment"], MONDAY_10)
    clock.now = datetime(2026, 12, 1, tzinfo=UTC)

    response = cancel(customer_api, made)

    assert response.status_code == 409
    assert response.json["error"] == "outside_cancellation_window"


def test_service_with_a_shorter_window(customer_api, clinic, clock):
    quick = factories.make_service(
        clinic["org"], [clinic["tom"]], "Quick", 30, cancellation_window_hours=2
    )
    made = booked(customer_api, quick, MONDAY_10)
    clock.now = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)

    assert made["can_cancel_until"] == "2026-11-30T08:00:00+00:00"
    assert cancel(customer_api, made).status_code == 200


def test_cancelling_twice_is_409(customer_api, clinic):
    made = booked(customer_api, clinic["assessment"], MONDAY_10)
    cancel(customer_api, made)

    again = cancel(customer_api, made)

    assert again.status_code == 409
    assert again.json["error"] == "not_changeable"
    assert again.json["message"] == "This booking is cancelled."
    assert (
        BookingEvent.select()
        .where((BookingEvent.booking == made["id"]) & (BookingEvent.action == "cancelled"))
        .count()
        == 1
    )


def test_a_cancelled_slot_is_free_again(customer_api, other_api, anonymous_api, clinic):
    service, ana = clinic["assessment"], clinic["ana"]
    made = booked(customer_api, service, MONDAY_10)
    assert MONDAY_10 not in slot_starts(anonymous_api, service, "2026-11-30")

    cancel(customer_api, made)

    assert MONDAY_10 in slot_starts(anonymous_api, service, "2026-11-30")
    theirs = booked(other_api, service, MONDAY_10, ana)
    assert theirs["provider"]["id"] == ana.id
    assert booking_rows() == [(made["id"], "cancelled"), (theirs["id"], "confirmed")]


# --- reschedule ---------------------------------------------------------------------------


def test_reschedule_returns_the_new_booking(customer_api, clinic, clock):
    old = booked(customer_api, clinic["assessment"], MONDAY_10)

    response = reschedule(customer_api, old, "2026-12-01T14:00:00+00:00")

    assert response.status_code == 200
    new = response.json
    assert new["id"] != old["id"]
    assert new == old | {
        "id": new["id"],
        "start": "2026-12-01T14:00:00+00:00",
        "end": "2026-12-01T15:00:00+00:00",
        "can_cancel_until": "2026-11-30T14:00:00+00:00",
        "rescheduled_from": old["id"],
    }
    was = customer_api.get(f"/api/v1/bookings/{old['id']}").json
    assert was["status"] == "cancelled"
    assert was["cancel_reason"] == "rescheduled"
    assert booking_rows() == [(old["id"], "cancelled"), (new["id"], "confirmed")]
    assert [b["id"] for b in customer_api.get("/api/v1/bookings").json] == [old["id"], new["id"]]


def test_reschedule_frees_the_old_time_and_takes_the_new(customer_api, anonymous_api, clinic):
    service = clinic["assessment"]
    old = booked(customer_api, service, MONDAY_10)

    reschedule(customer_api, old, "2026-11-30T15:00:00+00:00")

    free = slot_starts(anonymous_api, service, "2026-11-30")
    assert MONDAY_10 in free
    assert "2026-11-30T15:00:00+00:00" not in free


def test_reschedule_onto_an_overlapping_time_of_itself(customer_api, clinic):
    old = booked(customer_api, clinic["assessment"], MONDAY_10)

    moved = reschedule(customer_api, old, "2026-11-30T10:30:00+00:00")

    assert moved.status_code == 200, moved.json
    assert moved.json["start"] == "2026-11-30T10:30:00+00:00"
    assert moved.json["end"] == "2026-11-30T11:30:00+00:00"
    assert booking_rows() == [(old["id"], "cancelled"), (moved.json["id"], "confirmed")]


def test_reschedule_to_another_provider(customer_api, clinic):
    old = booked(customer_api, clinic["follow_up"], MONDAY_10, clinic["ana"])

    moved = reschedule(customer_api, old, MONDAY_10, clinic["tom"])

    assert moved.status_code == 200
    assert moved.json["provider"] == {"id": clinic["tom"].id, "name": "Tom Reed"}
    assert moved.json["start"] == MONDAY_10


def test_reschedule_onto_a_taken_slot_changes_nothing(customer_api, other_api, clinic):
    service = clinic["assessment"]
    mine = booked(customer_api, service, MONDAY_10)
    booked(other_api, service, "2026-11-30T14:00:00+00:00")
    before = booking_rows()
    events = BookingEvent.select().count()

    response = reschedule(customer_api, mine, "2026-11-30T14:30:00+00:00")

    assert response.status_code == 409
    assert response.json["error"] == "slot_taken"
    assert response.json["alternatives"]
    assert "2026-11-30T14:30:00+00:00" not in [a["start"] for a in response.json["alternatives"]]
    assert booking_rows() == before
    assert BookingEvent.select().count() == events
    assert customer_api.get(f"/api/v1/bookings/{mine['id']}").json == mine


def test_reschedule_to_a_time_that_is_not_a_slot_is_422(customer_api, clinic):
    mine = booked(customer_api, clinic["assessment"], MONDAY_10)

    for start in (
        "2026-11-30T10:07:00+00:00",
        "2026-11-28T10:00:00+00:00",
        "2026-11-25T11:00:00+00:00",
        "2026-11-30T10:00:00",
        "soon",
    ):
        response = reschedule(customer_api, mine, start)
        assert response.status_code == 422, start
        assert list(response.json["fields"]) == ["start"]
    wrong_provider = reschedule(customer_api, mine, MONDAY_10, clinic["tom"])
    assert wrong_provider.status_code == 422
    assert list(wrong_provider.json["fields"]) == ["provider"]
    assert booking_rows() == [(mine["id"], "confirmed")]


def test_reschedule_outside_the_window_is_409(customer_api, clinic, clock):
    mine = booked(customer_api, clinic["assessment"], MONDAY_10)
    clock.now = datetime(2026, 11, 29, 12, tzinfo=UTC)

    response = reschedule(customer_api, mine, "2026-12-01T10:00:00+00:00")

    assert response.status_code == 409
    assert response.json["error"] == "outside_cancellation_window"
    assert response.json["deadline"] == "2026-11-29T10:00:00+00:00"
    assert booking_rows() == [(mine["id"], "confirmed")]


def test_reschedule_someone_elses_booking_is_404(customer_api, other_api, clinic):
    theirs = booked(other_api, clinic["assessment"], MONDAY_10)

    response = reschedule(customer_api, theirs, "2026-12-01T10:00:00+00:00")

    assert response.status_code == 404
    assert response.json == NOT_FOUND
    assert booking_rows() == [(theirs["id"], "confirmed")]


def test_reschedule_a_cancelled_booking_is_409(customer_api, clinic):
    mine = booked(customer_api, clinic["assessment"], MONDAY_10)
    cancel(customer_api, mine)

    response = reschedule(customer_api, mine, "2026-12-01T10:00:00+00:00")

    assert response.status_code == 409
    assert response.json["error"] == "not_changeable"
    assert len(booking_rows()) == 1


def test_reschedule_the_old_one_again_is_409(customer_api, clinic):
    old = booked(customer_api, clinic["assessment"], MONDAY_10)
    reschedule(customer_api, old, "2026-12-01T10:00:00+00:00")

    again = reschedule(customer_api, old, "2026-12-02T10:00:00+00:00")

    assert again.status_code == 409
    assert len(booking_rows()) == 2


@pytest.mark.parametrize("body", [None, {}, {"provider": 1}])
def test_reschedule_needs_a_start(customer_api, clinic, body):
    mine = booked(customer_api, clinic["assessment"], MONDAY_10)

    response = customer_api.post(f"/api/v1/bookings/{mine['id']}/reschedule", json=body)

    assert response.status_code == 422
    assert response.json["error"] == "invalid"
    assert len(booking_rows()) == 1


def test_rescheduled_booking_keeps_its_price(customer_api, clinic):
    old = booked(customer_api, clinic["assessment"], MONDAY_10)
    clinic["assessment"].price_cents = 9900
    clinic["assessment"].save()

    moved = reschedule(customer_api, old, "2026-12-01T10:00:00+00:00").json

    assert moved["price"] == {"amount_cents": 6500, "currency": "GBP"}
