"""Booking from the schedule for a walk-in or a phone call: existing or new customers,
the same rules and double-booking protection as customers' own bookings."""

from datetime import UTC, datetime

import pytest

from models import Booking, User
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests.integration.webpages import csrf_token, parse

HTMX = {"HX-Request": "true"}
AT_14 = "2026-11-30T14:00:00+00:00"


@pytest.fixture
def ana(signed_in, world):
    client = signed_in(world["provider"])
    client.token = csrf_token(client.get("/"))
    return client


def post(client, data, htmx=True):
    headers = (HTMX if htmx else {}) | {"X-CSRFToken": client.token}
    return client.post("/w/clinic/bookings/new", data=data, headers=headers)


def form(world, clinic, **fields):
    return {
        "provider": world["ana"],
        "service": clinic["follow_up"].id,
        "start": AT_14,
        "source": "phone",
        **fields,
    }


def test_the_form_offers_the_providers_services_and_free_times(ana, world, clinic):
    page = parse(
        ana.get("/w/clinic/bookings/new", query_string={"provider": world["ana"], "start": AT_14})
    )
    services = [o.text for o in page.one("select", name="service").find_all("option")]
    assert [s.split(" · ")[0] for s in services] == ["Follow-up", "Initial assessment"]
    times = page.one("select", name="start")
    assert times.one("option", selected="").text == "14:00"
    assert "10:00" not in [o.text for o in times.find_all("option")]  # Ana's booking


def test_book_an_existing_customer_found_by_search(ana, world, clinic):
    found = parse(
        ana.get("/w/clinic/bookings/new/customers", query_string={"q": "casey"}, headers=HTMX)
    )
    choice = found.one("input", name="customer")
    assert choice.attrs["value"] == str(world["ana's customer"])

    response = post(ana, form(world, clinic, customer=choice.attrs["value"]))

    assert response.status_code == 201
    assert response.headers["HX-Trigger"] == "schedule-changed"
    made = Booking.get(Booking.start_at == datetime(2026, 11, 30, 14, tzinfo=UTC))
    assert (made.customer_id, made.provider_id, made.source) == (
        world["ana's customer"],
        world["ana"],
        "phone",
    )
    assert "Booked Casey Morgan for 14:00." in parse(response).text


def test_a_walk_in_without_email_becomes_a_customer(ana, world, clinic):
    response = post(
        ana,
        form(world, clinic, source="walk_in", new_name="Wally Walker", new_phone="07911 123456"),
    )

    assert response.status_code == 201
    made = Booking.get(Booking.source == "walk_in")
    customer = User.get_by_id(made.customer_id)
    assert (customer.name, customer.email, customer.phone, customer.password_hash) == (
        "Wally Walker",
        None,
        "+447911123456",
        None,
    )
    assert customer.organisation_id == clinic["org"].id  # the clinic's record
    # Found again next time, by phone digits typed the national way.
    found = parse(ana.get("/w/clinic/bookings/new/customers", query_string={"q": "07911 123"}))
    assert "Wally Walker" in found.text


def test_a_new_customer_with_an_accounts_email_is_the_businesss_own_record(ana, world, clinic):
    """Sam has an account (and booked Tom online): the desk neither finds nor shows it.
    tests/integration/test_customer_records.py has the whole story."""
    response = post(ana, form(world, clinic, new_name="Someone", new_email="Sam@Example.com"))
    assert "Booked Someone for 14:00." in parse(response).text
    made = Booking.get(Booking.start_at == datetime(2026, 11, 30, 14, tzinfo=UTC))
    assert made.customer_id != world["tom's customer"]
    record = User.get_by_id(made.customer_id)
    assert (record.name, record.email, record.organisation_id) == (
        "Someone",
        "sam@example.com",
        clinic["org"].id,
    )
    assert User.get_by_id(world["tom's customer"]).name == "Sam Lee"  # untouched


def test_without_javascript_it_redirects_to_the_booking(ana, world, clinic):
    response = post(ana, form(world, clinic, new_name="Nora Script"), htmx=False)
    made = Booking.get(Booking.start_at == datetime(2026, 11, 30, 14, tzinfo=UTC))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/w/clinic/bookings/{made.id}")


def test_no_customer_is_a_422_that_keeps_the_form(ana, world, clinic):
    response = post(ana, form(world, clinic, q="zzz"))
    assert response.status_code == 422
    page = parse(response)
    customer = page.one("fieldset", class_="ws-customer")
    assert customer.attrs["aria-describedby"] == "nb-customer-error"
    assert "Choose a customer, or add a new one." in page.one("p", id="nb-customer-error").text
    assert page.one("input", name="q").attrs["value"] == "zzz"
    assert Booking.select().count() == 3


def test_bad_new_customer_details_are_shown_on_their_fields(ana, world, clinic):
    response = post(
        ana, form(world, clinic, new_name="Al", new_email="not-an-email", new_phone="12")
    )
    assert response.status_code == 422
    page = parse(response)
    email, phone = page.one("input", name="new_email"), page.one("input", name="new_phone")
    for typed in (email, phone):
        assert typed.attrs["aria-invalid"] == "true"
        assert page.one("p", id=typed.attrs["aria-describedby"]).classes == {"error"}
    assert email.attrs["value"] == "not-an-email"
    assert phone.attrs["value"] == "12"
    assert page.one("input", name="new_name").attrs["value"] == "Al"
    assert page.one("details", class_="ws-new-customer").attrs.get("open") == ""
    assert User.select().where(User.name == "Al").count() == 0


def test_a_time_taken_meanwhile_is_409_and_creates_nobody(ana, world, clinic, clock):
    bookings.book(
        customer_id=world["tom's customer"],
        service_id=clinic["follow_up"].id,
        start=datetime(2026, 11, 30, 14, tzinfo=UTC),
        provider_id=world["ana"],
        now=clock(),
        dispatch=Dispatch(),
    )
    response = post(ana, form(world, clinic, new_name="Late Larry"))

    assert response.status_code == 409
    page = parse(response)
    times = page.one("select", name="start")
    assert "That time was just taken" in page.one("p", id=times.attrs["aria-describedby"]).text
    assert "14:00" not in [o.text for o in times.find_all("option")]
    assert page.one("input", name="new_name").attrs["value"] == "Late Larry"
    assert User.select().where(User.name == "Late Larry").count() == 0


def test_the_customers_rules_apply(ana, world, clinic):
    closed = post(ana, form(world, clinic, start="2026-11-30T13:15:00+00:00", new_name="Lunch Lou"))
    assert closed.status_code == 422  # Ana's lunch break
    past = post(ana, form(world, clinic, start="2026-11-20T14:00:00+00:00", new_name="Past Pat"))
    assert past.status_code == 422
    other = post(ana, form(world, clinic, service=clinic["massage"].id, new_name="Max"))
    assert other.status_code == 422
    assert "Choose a service" in other.data.decode()
    assert User.select().where(User.name.in_(["Lunch Lou", "Past Pat", "Max"])).count() == 0


def test_a_provider_cannot_book_for_another(ana, world, clinic):
    response = post(ana, form(world, clinic, provider=world["tom"], new_name="Tina"))
    assert response.status_code == 404


def test_search_only_finds_customers_the_provider_has_seen(ana, world, signed_in):
    found = parse(ana.get("/w/clinic/bookings/new/customers", query_string={"q": "sam"}))
    assert "Sam Lee" not in found.text
    assert "No customer matches" in found.text
    owner = signed_in(world["owner"])
    assert "Sam Lee" in parse(owner.get("/w/clinic/bookings/new/customers?q=sam")).text


def test_search_without_javascript_keeps_what_was_typed(ana, world, clinic):
    asked = form(world, clinic, q="casey", new_name="Half Typed", source="walk_in")
    page = parse(ana.get("/w/clinic/bookings/new", query_string=asked))
    assert page.one("input", name="q").attrs["value"] == "casey"
    assert page.one("input", name="customer").attrs["value"] == str(world["ana's customer"])
    assert page.one("input", name="new_name").attrs["value"] == "Half Typed"
    assert "checked" in page.one("input", name="source", value="walk_in").attrs
    service = page.one("select", name="service").one("option", selected="")
    assert service.attrs["value"] == str(clinic["follow_up"].id)
