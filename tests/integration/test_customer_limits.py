"""Per-customer booking limits (issue 12, finding 9): one customer can't book a
provider's whole day, nor hold more upcoming appointments than the owner allows.

The clock stands at Wed 25 Nov 2026, 12:00 in London (GMT); defaults are 10 upcoming
and 2 a day. Staff booking for a customer and moving a booking are not limited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import Booking, BookingStatus, Organisation
from tests.integration.webpages import csrf_token, parse, text_of

MON = datetime(2026, 11, 30, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> str:
    """An instant ``day`` weekdays after Mon 30 Nov (0 = Monday), as ISO text."""
    moment = MON + timedelta(days=day + 2 * (day // 5), hours=hour, minutes=minute)
    return moment.isoformat()


def post_booking(api, service, start: str, provider=None):
    body = {"service": service.id, "start": start}
    if provider is not None:
        body["provider"] = provider.id
    return api.post("/api/v1/bookings", json=body)


def live_of(user) -> list[Booking]:
    return list(
        Booking.select()
        .where((Booking.customer == user.id) & (Booking.status == BookingStatus.CONFIRMED))
        .order_by(Booking.id)
    )


def set_limits(org, **limits) -> None:
    Organisation.update(**limits).where(Organisation.id == org.id).execute()


# --- the API -------------------------------------------------------------------------------


def test_a_third_booking_on_one_day_is_refused_with_what_to_do(customer_api, clinic):
    follow_up = clinic["follow_up"]
    assert post_booking(customer_api, follow_up, at(0, 9), clinic["ana"]).status_code == 201
    assert post_booking(customer_api, follow_up, at(0, 11), clinic["tom"]).status_code == 201

    response = post_booking(customer_api, follow_up, at(0, 15), clinic["tom"])

    assert response.status_code == 409
    assert response.json == {
        "error": "limit_reached",
        "limit": "per_day",
        "allowed": 2,
        "message": "You already have 2 appointments with Clinic on Mon 30 Nov, and 2 is the"
        " most you can book yourself for one day. Choose another day, or cancel one of those.",
    }
    assert len(live_of(clinic["customer"])) == 2
    # Another day is fine; and a cancelled booking no longer counts.
    assert post_booking(customer_api, follow_up, at(1, 15)).status_code == 201
    first = live_of(clinic["customer"])[0]
    assert customer_api.post(f"/api/v1/bookings/{first.id}/cancel").status_code == 200
    assert post_booking(customer_api, follow_up, at(0, 15), clinic["tom"]).status_code == 201


def test_upcoming_bookings_are_limited_to_ten_by_default(customer_api, clinic):
    for n in range(10):
        response = post_booking(customer_api, clinic["follow_up"], at(n // 2, 9 + 2 * (n % 2)))
        assert response.status_code == 201, response.json

    response = post_booking(customer_api, clinic["follow_up"], at(6, 10))

    assert response.status_code == 409
    assert response.json["error"] == "limit_reached"
    assert response.json["limit"] == "upcoming"
    assert response.json["allowed"] == 10
    assert response.json["message"] == (
        "You already have 10 upcoming appointments with Clinic, and 10 is the most you can"
        " book yourself. Cancel one to book another."
    )
    assert len(live_of(clinic["customer"])) == 10


def test_past_bookings_and_other_businesses_do_not_count(customer_api, clinic, clock, app):
    from tests import factories

    set_limits(clinic["org"], max_future_bookings=1)
    assert post_booking(customer_api, clinic["follow_up"], at(0, 9)).status_code == 201
    other = factories.make_org("elsewhere")
    elsa = factories.make_provider(other, "Elsa Where")
    cut = factories.make_service(other, [elsa], "Cut", 30)
    assert post_booking(customer_api, cut, at(0, 10)).status_code == 201  # not Clinic's
    assert post_booking(customer_api, clinic["follow_up"], at(1, 9)).status_code == 409
    clock.advance(days=5)  # Mon 30 Nov, 12:00: the 09:00 one is past
    set_limits(clinic["org"], max_bookings_per_day=5)
    assert post_booking(customer_api, clinic["follow_up"], at(1, 9)).status_code == 201


def test_moving_a_booking_is_not_limited(customer_api, clinic):
    follow_up = clinic["follow_up"]
    post_booking(customer_api, follow_up, at(0, 9))
    moved = post_booking(customer_api, follow_up, at(0, 11)).json

    response = customer_api.post(
        f"/api/v1/bookings/{moved['id']}/reschedule", json={"start": at(0, 14)}
    )

    assert response.status_code == 200, response.json
    assert len(live_of(clinic["customer"])) == 2


# --- the web journey -----------------------------------------------------------------------


def confirm(client, service, start: str, provider="any"):
    review = f"/clinic/book/{service.id}/review?provider={provider}&start={start}"
    token = csrf_token(client.get(review.replace("+", "%2B")))
    return client.post(
        f"/clinic/book/{service.id}/confirm",
        data={"csrf_token": token, "start": start, "provider": provider},
    )


def test_the_journey_shows_the_limit_in_place(signed_in, clinic):
    client = signed_in(clinic["customer"])
    follow_up = clinic["follow_up"]
    assert confirm(client, follow_up, at(0, 9)).status_code == 303
    assert confirm(client, follow_up, at(0, 11)).status_code == 303

    response = confirm(client, follow_up, at(0, 15))

    assert response.status_code == 409
    alert = parse(response).one("section", role="alert")
    assert alert.find("h1").text == "You can't book more for now"
    assert "You already have 2 appointments with Clinic on Mon 30 Nov" in text_of(response)
    links = {a.text: a.attrs["href"] for a in alert.find_all("a")}
    assert links["See your appointments"] == "/appointments"
    assert links["Choose another day"].startswith(f"/clinic/book/{follow_up.id}/when")
    assert len(live_of(clinic["customer"])) == 2


def test_the_journey_at_the_upcoming_limit(signed_in, clinic):
    set_limits(clinic["org"], max_future_bookings=1)
    client = signed_in(clinic["customer"])
    assert confirm(client, clinic["follow_up"], at(0, 9)).status_code == 303

    response = confirm(client, clinic["follow_up"], at(3, 9))

    assert response.status_code == 409
    assert (
        "You already have 1 upcoming appointment with Clinic, and 1 is the most you can book"
        " yourself. Cancel one to book another." in text_of(response)
    )
    assert "Choose another day" not in text_of(response)


def test_a_second_tap_at_the_limit_still_gives_back_the_first_booking(signed_in, clinic):
    set_limits(clinic["org"], max_future_bookings=1)
    client = signed_in(clinic["customer"])
    first = confirm(client, clinic["follow_up"], at(0, 9))
    again = confirm(client, clinic["follow_up"], at(0, 9))
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]


# --- staff are not limited -----------------------------------------------------------------


def test_staff_at_the_desk_may_book_beyond_the_limits(customer_api, signed_in, world, clinic):
    # world: Casey already has Mon 10:00 with Ana.
    assert post_booking(customer_api, clinic["follow_up"], at(0, 14), clinic["tom"]).status_code
    assert post_booking(customer_api, clinic["follow_up"], at(0, 15)).status_code == 409
    ana = signed_in(world["provider"])
    token = csrf_token(ana.get("/"))

    response = ana.post(
        "/w/clinic/bookings/new",
        data={
            "provider": world["ana"],
            "service": clinic["follow_up"].id,
            "start": at(0, 15),
            "source": "phone",
            "customer": clinic["customer"].id,
        },
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert len(live_of(clinic["customer"])) == 3


# --- the owner sets them -------------------------------------------------------------------

SETTINGS = "/w/clinic/settings"


def settings_form(client) -> dict:
    from tests.integration.test_ws_settings import GOOD

    return {"csrf_token": csrf_token(client.get(SETTINGS)), **GOOD}


def test_the_owner_sees_and_changes_the_limits(signed_in, world):
    client = signed_in(world["owner"])
    page = parse(client.get(SETTINGS))
    assert page.one("input", name="max_future_bookings").attrs["value"] == "10"
    assert page.one("input", name="max_bookings_per_day").attrs["value"] == "2"

    response = client.post(
        SETTINGS,
        data=settings_form(client) | {"max_future_bookings": " 4 ", "max_bookings_per_day": "3"},
    )

    assert response.status_code == 303
    org = Organisation.get(slug="clinic")
    assert (org.max_future_bookings, org.max_bookings_per_day) == (4, 3)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_future_bookings", "0", "Give a whole number from 1 to 1,000."),
        ("max_future_bookings", "", "Required. Give a whole number from 1 to 1,000."),
        ("max_future_bookings", "ten", "Give a whole number from 1 to 1,000."),
        ("max_future_bookings", "99999999999999999999", "Give a whole number from 1 to 1,000."),
        ("max_bookings_per_day", "-1", "Give a whole number from 1 to 100."),
        ("max_bookings_per_day", "2.5", "Give a whole number from 1 to 100."),
        ("max_bookings_per_day", "١", "Give a whole number from 1 to 100."),
    ],
)
def test_bad_limits_are_a_422_on_the_field_keeping_what_was_typed(
    signed_in, world, field, value, message
):
    client = signed_in(world["owner"])

    response = client.post(SETTINGS, data=settings_form(client) | {field: value})

    assert response.status_code == 422
    page = parse(response)
    assert page.one("p", id=f"{field}-error").text.endswith(message)
    shown = page.one("input", name=field)
    assert shown.attrs["aria-invalid"] == "true"
    assert shown.attrs.get("value", "") == value
    org = Organisation.get(slug="clinic")
    assert (org.name, org.max_future_bookings, org.max_bookings_per_day) == ("Clinic", 10, 2)


@pytest.mark.parametrize("column", ["max_future_bookings", "max_bookings_per_day"])
def test_the_database_refuses_a_limit_below_one(clinic, column):
    from peewee import IntegrityError

    from models import db

    with pytest.raises(IntegrityError), db.atomic():
        set_limits(clinic["org"], **{column: 0})
    assert getattr(Organisation.get_by_id(clinic["org"].id), column) >= 1
