"""POST /api/v1/bookings (with Idempotency-Key), GET /api/v1/bookings[/<id>]."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import Booking, IdempotencyKey, Service
from tests import factories
from tests.conftest import api_client_for

MONDAY_10 = "2026-11-30T10:00:00+00:00"
NOT_FOUND = {"error": "not_found", "message": "No such booking."}


@pytest.fixture
def other_api(app, clinic, clock):
    """A second customer."""
    return api_client_for(app, factories.make_user("dana@example.com", "Dana Lee"), clock)


@pytest.fixture
def third_api(app, clinic, clock):
    return api_client_for(app, factories.make_user("eli@example.com", "Eli Park"), clock)


def post_booking(api, service, start: str, provider=None, **kw):
    body = {"service": service.id, "start": start}
    if provider is not None:
        body["provider"] = provider.id
    return api.post("/api/v1/bookings", json=body, **kw)


def booked(api, service, start: str, provider=None) -> dict:
    response = post_booking(api, service, start, provider)
    assert response.status_code == 201, response.json
    return response.json


# --- creating -----------------------------------------------------------------------------


def test_booking_shape(customer_api, clinic):
    service, ana = clinic["assessment"], clinic["ana"]

    response = post_booking(customer_api, service, MONDAY_10, ana)

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.json == {
        "id": response.json["id"],
        "status": "confirmed",
        "service": {"id": service.id, "name": "Initial assessment", "duration_minutes": 60},
        "provider": {"id": ana.id, "name": "Ana Silva"},
        "start": "2026-11-30T10:00:00+00:00",
        "end": "2026-11-30T11:00:00+00:00",
        "timezone": "Europe/London",
        "price": {"amount_cents": 6500, "currency": "GBP"},
        "can_cancel_until": "2026-11-29T10:00:00+00:00",
        "cancel_reason": None,
        "rescheduled_from": None,
        "hold_expires_at": None,
        "payment": None,  # nothing is paid online here: see test_payments_api.py
    }
    assert isinstance(response.json["id"], int)


def test_booking_is_stored_in_utc_with_its_blocked_time(customer_api, clinic):
    made = booked(customer_api, clinic["massage"], MONDAY_10)

    row = Booking.get_by_id(made["id"])
    assert row.customer_id == clinic["customer"].id
    assert row.provider_id == clinic["tom"].id
    assert row.organisation_id == clinic["org"].id
    assert row.status == "confirmed"
    assert row.start_at == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert row.end_at == datetime(2026, 11, 30, 10, 45, tzinfo=UTC)
    assert row.block_start == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert row.block_end == datetime(2026, 11, 30, 10, 55, tzinfo=UTC)
    assert (row.price_cents, row.currency) == (5500, "GBP")


def test_summer_booking_carries_the_summer_offset(customer_api, clinic):
    made = booked(customer_api, clinic["assessment"], "2027-04-05T10:00:00+01:00")

    assert made["start"] == "2027-04-05T10:00:00+01:00"
    assert made["end"] == "2027-04-05T11:00:00+01:00"
    assert made["can_cancel_until"] == "2027-04-04T10:00:00+01:00"
    assert Booking.get_by_id(made["id"]).start_at == datetime(2027, 4, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "start", ["2026-11-30T05:00:00-05:00", "2026-11-30T10:00:00Z", "2026-11-30T15:30:00+05:30"]
)
def test_start_may_be_given_in_any_offset(customer_api, clinic, start):
    made = booked(customer_api, clinic["assessment"], start)

    assert made["start"] == MONDAY_10


def test_new_york_booking_shows_new_york_time(app, clock):
    org = factories.make_org("nyc", timezone="America/New_York", currency="USD")
    service = factories.make_service(
        org, [factories.make_provider(org)], "Consult", 60, price_cents=12000
    )
    api = api_client_for(app, factories.make_user("ny@example.com"), clock)

    made = booked(api, service, "2026-11-30T09:00:00-05:00")

    assert made["start"] == "2026-11-30T09:00:00-05:00"
    assert made["timezone"] == "America/New_York"
    assert made["price"] == {"amount_cents": 12000, "currency": "USD"}
    assert made["can_cancel_until"] == "2026-11-29T09:00:00-05:00"


def test_booked_slot_is_gone_from_the_slots(customer_api, anonymous_api, clinic):
    booked(customer_api, clinic["assessment"], MONDAY_10)

    after = anonymous_api.get(
        f"/api/v1/orgs/clinic/slots?service={clinic['assessment'].id}&date=2026-11-30"
    )

    found = [s["start"] for s in after.json["slots"]]
    assert "2026-11-30T09:00:00+00:00" in found
    assert "2026-11-30T11:00:00+00:00" in found
    for taken in ("09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45"):
        assert f"2026-11-30T{taken}:00+00:00" not in found


def test_slot_taken_offers_the_nearest_free_slots(customer_api, other_api, clinic):
    service, ana = clinic["assessment"], clinic["ana"]
    booked(customer_api, service, MONDAY_10, ana)

    response = post_booking(other_api, service, MONDAY_10, ana)

    assert response.status_code == 409
    assert response.json["error"] == "slot_taken"
    assert response.json["message"] == "That time was just taken. Please pick another."
    assert response.json["alternatives"] == [
        {
            "start": f"2026-11-30T{hm}:00+00:00",
            "end": (
                datetime.fromisoformat(f"2026-11-30T{hm}:00+00:00") + timedelta(hours=1)
            ).isoformat(),
            "provider": ana.id,
        }
        for hm in ("09:00", "11:00", "11:15", "11:30", "11:45")
    ]
    assert Booking.select().count() == 1


def test_slot_taken_by_an_overlapping_booking(customer_api, other_api, clinic):
    booked(customer_api, clinic["assessment"], MONDAY_10)

    # 10:30 is a slot on an empty day, but Ana is busy until 11:00.
    response = post_booking(
        other_api, clinic["follow_up"], "2026-11-30T10:30:00+00:00", clinic["ana"]
    )

    assert response.status_code == 409
    assert response.json["error"] == "slot_taken"
    alternatives = [a["start"] for a in response.json["alternatives"]]
    assert alternatives
    assert "2026-11-30T10:30:00+00:00" not in alternatives
    assert "2026-11-30T11:00:00+00:00" in alternatives
    assert "2026-11-30T09:30:00+00:00" in alternatives
    assert alternatives == sorted(alternatives)


def test_provider_omitted_assigns_a_free_one(customer_api, other_api, clinic):
    booked(customer_api, clinic["assessment"], MONDAY_10)  # Ana is busy 10:00–11:00

    made = booked(other_api, clinic["follow_up"], MONDAY_10)

    assert made["provider"] == {"id": clinic["tom"].id, "name": "Tom Reed"}


def test_provider_omitted_at_lunch_gets_tom(customer_api, clinic):
    made = booked(customer_api, clinic["follow_up"], "2026-11-30T13:00:00+00:00")

    assert made["provider"]["id"] == clinic["tom"].id


def test_any_provider_twice_then_full(customer_api, other_api, third_api, clinic):
    service = clinic["follow_up"]

    first = booked(customer_api, service, MONDAY_10)
    second = booked(other_api, service, MONDAY_10)
    third = post_booking(third_api, service, MONDAY_10)

    assert {first["provider"]["id"], second["provider"]["id"]} == {
        clinic["ana"].id,
        clinic["tom"].id,
    }
    assert third.status_code == 409
    assert third.json["error"] == "slot_taken"
    alternatives = [a["start"] for a in third.json["alternatives"]]
    assert alternatives
    assert MONDAY_10 not in alternatives
    assert "2026-11-30T09:30:00+00:00" in alternatives
    assert "2026-11-30T10:30:00+00:00" in alternatives
    assert Booking.select().count() == 2


def test_the_same_customer_cannot_double_book_one_provider(customer_api, clinic):
    booked(customer_api, clinic["follow_up"], MONDAY_10, clinic["tom"])

    again = post_booking(customer_api, clinic["follow_up"], MONDAY_10, clinic["tom"])

    assert again.status_code == 409
    assert Booking.select().count() == 1


def fields_of(response) -> list[str]:
    assert response.status_code == 422, response.json
    assert response.json["error"] == "invalid"
    assert isinstance(response.json["message"], str)
    return list(response.json["fields"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"service": 999999, "start": MONDAY_10}, "service"),
        ({"service": "abc", "start": MONDAY_10}, "service"),
        ({"service": True, "start": MONDAY_10}, "service"),
        ({"start": MONDAY_10}, "service"),
        ({"service": "ASSESSMENT", "start": "2026-11-30T09:07:00+00:00"}, "start"),
        ({"service": "ASSESSMENT", "start": "2026-11-25T11:00:00+00:00"}, "start"),
        ({"service": "ASSESSMENT", "start": "2026-11-25T12:00:00+00:00"}, "start"),
        ({"service": "ASSESSMENT", "start": "2026-11-30T10:00:00"}, "start"),
        ({"service": "ASSESSMENT", "start": "next monday at ten"}, "start"),
        ({"service": "ASSESSMENT", "start": "2026-11-31T10:00:00+00:00"}, "start"),
        ({"service": "ASSESSMENT", "start": 1764496800}, "start"),
        ({"service": "ASSESSMENT"}, "start"),
        ({"service": "ASSESSMENT", "start": "2026-11-28T10:00:00+00:00"}, "start"),
        ({"service": "ASSESSMENT", "start": "2026-11-30T13:00:00+00:00"}, "start"),
        ({"service": "ASSESSMENT", "start": "2026-11-30T16:30:00+00:00"}, "start"),
        ({"service": "ASSESSMENT", "start": "2027-05-25T10:00:00+01:00"}, "start"),
        ({"service": "ASSESSMENT", "start": MONDAY_10, "provider": "TOM"}, "provider"),
        ({"service": "ASSESSMENT", "start": MONDAY_10, "provider": "abc"}, "provider"),
        ({"service": "ASSESSMENT", "start": MONDAY_10, "provider": 999999}, "provider"),
    ],
)
def test_bad_input_is_422_and_books_nothing(customer_api, clinic, body, field):
    ids = {"ASSESSMENT": clinic["assessment"].id, "TOM": clinic["tom"].id}
    body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}

    response = customer_api.post("/api/v1/bookings", json=body)

    assert fields_of(response) == [field]
    assert Booking.select().count() == 0


def test_inactive_service_cannot_be_booked(customer_api, clinic):
    Service.update(active=False).where(Service.id == clinic["assessment"].id).execute()

    response = post_booking(customer_api, clinic["assessment"], MONDAY_10)

    assert fields_of(response) == ["service"]


def test_min_notice_start_is_not_a_slot(customer_api, clinic):
    soon = factories.make_service(
        clinic["org"], [clinic["tom"]], "Quick check", 30, min_notice_minutes=120
    )

    too_soon = post_booking(customer_api, soon, "2026-11-25T13:45:00+00:00")
    in_time = post_booking(customer_api, soon, "2026-11-25T14:00:00+00:00")

    assert fields_of(too_soon) == ["start"]
    assert in_time.status_code == 201


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("service=1", "application/x-www-form-urlencoded"),
        ("[1, 2]", "application/json"),
        ("{", "application/json"),
    ],
)
def test_body_must_be_a_json_object(customer_api, clinic, data, content_type):
    response = customer_api.client.post(
        "/api/v1/bookings",
        data=data,
        content_type=content_type,
        headers={"Authorization": f"Bearer {customer_api.token}"},
    )

    assert fields_of(response) == ["body"]


# --- Idempotency-Key ----------------------------------------------------------------------


def test_same_key_same_body_replays_and_books_once(customer_api, clinic):
    headers = {"Idempotency-Key": "k-1"}

    first = post_booking(customer_api, clinic["follow_up"], MONDAY_10, headers=headers)
    second = post_booking(customer_api, clinic["follow_up"], MONDAY_10, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.get_data() == first.get_data()
    assert second.json == first.json
    assert second.mimetype == "application/json"
    assert Booking.select().count() == 1


def test_replay_survives_later_changes(customer_api, clinic):
    headers = {"Idempotency-Key": "k-1"}
    first = post_booking(customer_api, clinic["follow_up"], MONDAY_10, headers=headers)
    customer_api.post(f"/api/v1/bookings/{first.json['id']}/cancel")
    assert Booking.get_by_id(first.json["id"]).status == "cancelled"

    again = post_booking(customer_api, clinic["follow_up"], MONDAY_10, headers=headers)

    assert again.status_code == 201
    assert again.json == first.json  # the first answer, not a new booking
    assert Booking.select().count() == 1


def test_without_a_key_a_retry_is_a_new_request(customer_api, clinic):
    post_booking(customer_api, clinic["follow_up"], MONDAY_10)

    retry = post_booking(customer_api, clinic["follow_up"], MONDAY_10)

    assert retry.status_code == 201  # the other provider was free
    assert Booking.select().count() == 2


def test_same_key_different_body_is_a_conflict(customer_api, clinic):
    headers = {"Idempotency-Key": "k-1"}
    post_booking(customer_api, clinic["follow_up"], MONDAY_10, headers=headers)

    other = post_booking(
        customer_api, clinic["follow_up"], "2026-11-30T11:00:00+00:00", headers=headers
    )

    assert other.status_code == 409
    assert other.json["error"] == "idempotency_conflict"
    assert isinstance(other.json["message"], str)
    assert Booking.select().count() == 1


def test_different_users_may_use_the_same_key(customer_api, other_api, clinic):
    headers = {"Idempotency-Key": "shared"}

    mine = post_booking(customer_api, clinic["follow_up"], MONDAY_10, headers=headers)
    theirs = post_booking(other_api, clinic["follow_up"], MONDAY_10, headers=headers)

    assert mine.status_code == theirs.status_code == 201
    assert mine.json["id"] != theirs.json["id"]
    assert Booking.select().count() == 2
    assert IdempotencyKey.select().where(IdempotencyKey.key == "shared").count() == 2


def test_a_failed_422_does_not_poison_the_key(customer_api, clinic):
    headers = {"Idempotency-Key": "k-1"}

    bad = post_booking(
        customer_api, clinic["follow_up"], "2026-11-30T09:07:00+00:00", headers=headers
    )
    good = post_booking(customer_api, clinic["follow_up"], MONDAY_10, headers=headers)

    assert bad.status_code == 422
    assert good.status_code == 201
    assert Booking.select().count() == 1


def test_a_failed_409_does_not_poison_the_key(customer_api, other_api, clinic):
    service, tom = clinic["follow_up"], clinic["tom"]
    theirs = booked(other_api, service, MONDAY_10, tom)
    headers = {"Idempotency-Key": "k-1"}

    taken = post_booking(customer_api, service, MONDAY_10, tom, headers=headers)
    other_api.post(f"/api/v1/bookings/{theirs['id']}/cancel")
    retried = post_booking(customer_api, service, MONDAY_10, tom, headers=headers)
    replayed = post_booking(customer_api, service, MONDAY_10, tom, headers=headers)

    assert taken.status_code == 409
    assert retried.status_code == 201
    assert replayed.get_data() == retried.get_data()
    assert Booking.select().where(Booking.status == "confirmed").count() == 1


# --- reading ------------------------------------------------------------------------------


def test_list_shows_only_my_bookings_upcoming_first_then_past(
    customer_api, other_api, clinic, clock
):
    service = clinic["follow_up"]
    wed = booked(customer_api, service, "2026-12-02T11:00:00+00:00")
    mon = booked(customer_api, service, MONDAY_10)
    thu = booked(customer_api, service, "2026-12-03T14:00:00+00:00")
    tue = booked(customer_api, service, "2026-12-01T09:00:00+00:00")
    booked(other_api, service, "2026-12-01T15:00:00+00:00")

    before = customer_api.get("/api/v1/bookings")
    clock.now = datetime(2026, 12, 2, 8, tzinfo=UTC)
    after = customer_api.get("/api/v1/bookings")

    assert before.status_code == 200
    assert [b["id"] for b in before.json] == [mon["id"], tue["id"], wed["id"], thu["id"]]
    assert [b["id"] for b in after.json] == [wed["id"], thu["id"], tue["id"], mon["id"]]
    assert after.json[0] == wed


def test_list_is_empty_for_a_new_customer(other_api, clinic):
    response = other_api.get("/api/v1/bookings")

    assert response.status_code == 200
    assert response.json == []


def test_show_my_booking(customer_api, clinic):
    made = booked(customer_api, clinic["massage"], MONDAY_10)

    response = customer_api.get(f"/api/v1/bookings/{made['id']}")

    assert response.status_code == 200
    assert response.json == made


def test_someone_elses_booking_is_404_like_a_missing_one(customer_api, other_api, clinic):
    theirs = booked(other_api, clinic["massage"], MONDAY_10)

    foreign = customer_api.get(f"/api/v1/bookings/{theirs['id']}")
    missing = customer_api.get("/api/v1/bookings/999999")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json == missing.json == NOT_FOUND


def test_staff_do_not_see_customers_bookings_through_the_customer_api(
    app, customer_api, clinic, clock
):
    made = booked(customer_api, clinic["assessment"], MONDAY_10)
    owner_api = api_client_for(app, clinic["owner"], clock)

    assert owner_api.get(f"/api/v1/bookings/{made['id']}").status_code == 404
    assert owner_api.get("/api/v1/bookings").json == []


# --- input at the edges: never a 500 ------------------------------------------------------

HUGE = 99999999999999999999  # beyond any database integer


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"service": SERVICE.5, "start": "2026-11-30T10:00:00+00:00"}', "service"),
        ('{"service": SERVICE.0, "start": "2026-11-30T10:00:00+00:00"}', "service"),
        ('{"service": Infinity, "start": "2026-11-30T10:00:00+00:00"}', "service"),
        ('{"service": NaN, "start": "2026-11-30T10:00:00+00:00"}', "service"),
        ('{"service": HUGE, "start": "2026-11-30T10:00:00+00:00"}', "service"),
        (
            '{"service": SERVICE, "start": "2026-11-30T10:00:00+00:00", "provider": HUGE}',
            "provider",
        ),
        (
            '{"service": SERVICE, "start": "2026-11-30T10:00:00+00:00", "provider": 1e400}',
            "provider",
        ),
        ('{"service": SERVICE, "start": "9999-12-31T23:59:00+00:00"}', "start"),
        ('{"service": SERVICE, "start": "9999-12-31T23:59:00-12:00"}', "start"),
    ],
)
def test_numbers_and_times_out_of_range_are_422(customer_api, clinic, raw, field):
    raw = raw.replace("SERVICE", str(clinic["follow_up"].id)).replace("HUGE", str(HUGE))

    response = customer_api.client.post(
        "/api/v1/bookings",
        data=raw,
        content_type="application/json",
        headers={"Authorization": f"Bearer {customer_api.token}"},
    )

    assert fields_of(response) == [field]
    assert Booking.select().count() == 0


@pytest.mark.parametrize("action", ["", "/cancel", "/reschedule"])
def test_huge_booking_id_is_404(customer_api, clinic, action):
    path = f"/api/v1/bookings/{HUGE}{action}"
    if action:
        response = customer_api.post(path, json={"start": MONDAY_10})
    else:
        response = customer_api.get(path)

    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_an_overlong_idempotency_key_is_bad_input(customer_api, clinic):
    headers = {"Idempotency-Key": "k" * 201}
    response = post_booking(customer_api, clinic["follow_up"], MONDAY_10, headers=headers)

    assert response.status_code == 422
    assert response.json["fields"] == {"Idempotency-Key": "Use a key of 1 to 200 characters."}
    assert Booking.select().count() == 0
