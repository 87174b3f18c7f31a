"""The owner's services: list, new and edit forms, archive and restore, and who may."""

from __future__ import annotations

import html

import pytest

from models import Booking, Organisation, Provider, Service, ServiceProvider
from tests.conftest import api_client_for
from tests.integration.webpages import csrf_token, parse
from tests.integration.workspace import MON_10, expect

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
NEW = "/w/clinic/services/new"


def good(world, **changes) -> dict:
    """A complete, acceptable new-service form (offered by Ana and Tom)."""
    data = {
        "name": "Deep  tissue massage",
        "category": "Massage",
        "description": "Firm pressure.\nBring loose clothes.",
        "duration": "50",
        "price": "45.50",
        "buffer_before": "5",
        "buffer_after": "10",
        "min_notice": "120",
        "max_days_ahead": "60",
        "cancellation_window": "12",
        "providers": [str(world["ana"]), str(world["tom"])],
    }
    return data | changes


MATRIX = {
    # (method, route, form): (anonymous, customer, provider (Ana), owner, other owner)
    ("GET", "/w/clinic/services", None): (302, 403, 403, 200, 403),
    ("GET", NEW, None): (302, 403, 403, 200, 403),
    ("POST", NEW, "good"): (302, 403, 403, 303, 403),
    ("GET", "/w/clinic/services/{assessment}", None): (302, 403, 403, 200, 403),
    ("POST", "/w/clinic/services/{assessment}", "good"): (302, 403, 403, 303, 403),
    ("POST", "/w/clinic/services/{assessment}/archive", None): (302, 403, 403, 303, 403),
    ("POST", "/w/clinic/services/{assessment}/restore", None): (302, 403, 403, 303, 403),
    # Another business's service, or none at all: not found, for every verb.
    ("GET", "/w/clinic/services/{other service}", None): (302, 403, 403, 404, 403),
    ("POST", "/w/clinic/services/{other service}", "good"): (302, 403, 403, 404, 403),
    ("POST", "/w/clinic/services/{other service}/archive", None): (302, 403, 403, 404, 403),
    ("POST", "/w/clinic/services/{other service}/restore", None): (302, 403, 403, 404, 403),
    ("GET", "/w/clinic/services/999999", None): (302, 403, 403, 404, 403),
    # An id no database holds matches no route: not found, before anyone is asked.
    ("GET", "/w/clinic/services/99999999999999999999999", None): (404, 404, 404, 404, 404),
    ("GET", "/w/elsewhere/services", None): (302, 403, 403, 403, 200),
    ("GET", "/w/elsewhere/services/{assessment}", None): (302, 403, 403, 403, 404),
}


@pytest.mark.parametrize(("method", "route", "form"), MATRIX)
def test_access_matrix(signed_in, world, method, route, form):
    data = good(world) if form == "good" else None
    expect(signed_in, world, route, MATRIX[method, route, form], method=method, data=data)


def test_another_business_keeps_its_service_when_the_owner_tries_to_archive_it(signed_in, world):
    owner = signed_in(world["owner"])
    token = csrf_token(owner.get("/w/clinic/services"))
    response = owner.post(
        f"/w/clinic/services/{world['other service']}/archive", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 404
    assert Service.get_by_id(world["other service"]).active


# Helpers -----------------------------------------------------------------------------


def post(client, path: str, data: dict | None = None, *, headers=None, page: str | None = None):
    token = csrf_token(client.get(page or path))
    return client.post(path, data={"csrf_token": token, **(data or {})}, headers=headers)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def offered_by(service_id: int) -> set[int]:
    return {
        link.provider_id
        for link in ServiceProvider.select().where(ServiceProvider.service == service_id)
    }


# The list ----------------------------------------------------------------------------


def test_list_groups_by_category_with_duration_price_and_who_offers_it(signed_in, world):
    Service.update(active=False).where(Service.id == world["assessment"]).execute()
    page = parse(signed_in(world["owner"]).get("/w/clinic/services"))

    groups = page.find_all("section", class_="svc-group")
    assert [g.find("h2").text for g in groups] == ["Without a category", "Massage", "Archived"]
    follow_up = groups[0].one("li", class_="svc-item")
    assert "Follow-up" in follow_up.text
    assert "30 min" in follow_up.text
    assert "£45" in follow_up.text
    assert "With Ana Silva, Tom Reed" in follow_up.text
    massage = groups[1].one("li", class_="svc-item").text
    assert "Sports massage" in massage
    assert "10 min buffer after" in massage
    assert "With Tom Reed" in massage
    archived = groups[2].one("li", class_="svc-item")
    assert "Initial assessment" in archived.text
    assert archived.one("button").text == "Restore Initial assessment"
    assert page.one("a", aria_current="page").text == "Services"


def test_a_service_nobody_offers_says_so(signed_in, world):
    ServiceProvider.delete().where(ServiceProvider.service == world["assessment"]).execute()
    page = text(signed_in(world["owner"]).get("/w/clinic/services"))
    assert "Nobody offers it" in page


# Creating ----------------------------------------------------------------------------


def test_new_service_form_offers_active_providers_and_existing_categories(signed_in, world):
    Provider.update(active=False).where(Provider.id == world["tom"]).execute()
    pia = Provider.create(organisation=Organisation.get(slug="clinic"), name="Pia Park")
    page = parse(signed_in(world["owner"]).get(NEW))
    boxes = page.find_all("input", type="checkbox", name="providers")
    assert [b.attrs["value"] for b in boxes] == [str(world["ana"]), str(pia.id)]
    assert not [b for b in boxes if "checked" in b.attrs]  # the owner chooses
    assert [o.attrs["value"] for o in page.one("datalist").find_all("option")] == ["Massage"]
    assert page.one("label", for_="price").text == "Price (GBP)"
    assert page.one("input", name="max_days_ahead").attrs["value"] == "90"
    form = page.one("form", class_="svc-form")
    assert form.attrs["hx-post"] == NEW


def test_with_one_provider_the_new_form_ticks_them(signed_in, world):
    Provider.update(active=False).where(Provider.id == world["tom"]).execute()
    Provider.update(active=False).where(Provider.id == world["ana"]).execute()
    solo = Provider.create(organisation=Organisation.get(slug="clinic"), name="Solo")
    page = parse(signed_in(world["owner"]).get(NEW))
    (box,) = page.find_all("input", type="checkbox", name="providers")
    assert box.attrs["value"] == str(solo.id)
    assert "checked" in box.attrs


def test_creating_a_service_saves_it_and_puts_it_on_the_booking_page(signed_in, world):
    client = signed_in(world["owner"])
    response = post(client, NEW, good(world))
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/clinic/services"
    made = Service.get(Service.name == "Deep tissue massage")
    assert (made.category, made.description) == ("Massage", "Firm pressure.\nBring loose clothes.")
    assert (made.duration_minutes, made.price_cents) == (50, 4550)
    assert (made.buffer_before_minutes, made.buffer_after_minutes) == (5, 10)
    assert (made.min_notice_minutes, made.max_days_ahead) == (120, 60)
    assert (made.cancellation_window_hours, made.active) == (12, True)
    assert offered_by(made.id) == {world["ana"], world["tom"]}
    assert "is on your booking page" in text(client.get("/w/clinic/services"))
    public = text(client.get("/clinic"))
    assert "Deep tissue massage" in public
    assert "£45.50" in public


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("45", 4500), ("45.5", 4550), ("45.05", 4505), (" 0 ", 0), (".5", 50), ("99999.99", 9999999)],
)
def test_prices_are_typed_in_currency_units_and_kept_in_cents(signed_in, world, typed, cents):
    response = post(signed_in(world["owner"]), NEW, good(world, price=typed))
    assert response.status_code == 303
    assert Service.get(Service.name == "Deep tissue massage").price_cents == cents


def test_htmx_create_redirects_the_whole_page(signed_in, world):
    response = post(signed_in(world["owner"]), NEW, good(world), headers=PARTIAL)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/w/clinic/services"


def test_a_category_typed_in_another_case_joins_the_existing_one(signed_in, world):
    post(signed_in(world["owner"]), NEW, good(world, category="  massage "))
    assert Service.get(Service.name == "Deep tissue massage").category == "Massage"


BAD = [
    ("name", "   ", "Enter the service's name."),
    ("name", "follow-UP", "You already offer a service called “Follow-up”."),
    ("name", "x" * 201, "Use at most 200 characters"),
    ("description", "x" * 2001, "Use at most 2,000 characters"),
    ("duration", "", "Enter a number of minutes, 5–720."),
    ("duration", "0", "Use 5–720 minutes."),
    ("duration", "725", "Use 5–720 minutes."),
    ("duration", "42", "Use a multiple of 5 minutes"),
    ("duration", "1.5", "Enter a whole number of minutes"),
    ("price", "", "Enter a price (0 if it's free)."),
    ("price", "-5", "The price can't be negative."),
    ("price", "45.505", "Use at most 2 decimal places"),
    ("price", "forty", "Type the price as a number, like 45 or 45.50."),
    ("price", "45,5,0", "Type the price as a number"),
    ("price", "1e3", "Type the price as a number"),
    ("price", ".", "Type the price as a number"),
    ("price", "100000", "Use at most 99999.99."),
    ("buffer_before", "241", "Use 0–240 minutes."),
    ("buffer_after", "-10", "it can't be negative"),
    ("min_notice", "10081", "Use 0–10,080 minutes."),
    ("max_days_ahead", "0", "Use 1–730 days."),
    ("max_days_ahead", "", "Enter a number of days, 1–730."),
    ("cancellation_window", "721", "Use 0–720 hours."),
    ("cancellation_window", "١٢", "Enter a whole number of hours"),  # Arabic-Indic digits
    ("providers", [], "Choose at least one person who offers this service."),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD, ids=[f"{f}={v!r}" for f, v, _ in BAD])
def test_bad_input_shows_the_problem_and_keeps_what_was_typed(
    signed_in, world, field, value, message
):
    response = post(signed_in(world["owner"]), NEW, good(world, **{field: value}))
    assert response.status_code == 422
    page = parse(response)
    problem = page.one("p", class_="error")
    assert message in problem.text
    if field != "providers":
        assert page.one(None, id=field).attrs["aria-invalid"] == "true"
    if field != "name":
        assert page.one("input", name="name").attrs["value"] == "Deep  tissue massage"
    if field != "price":
        assert page.one("input", name="price").attrs["value"] == "45.50"
    if field != "providers":
        ticked = page.find_all("input", name="providers", checked="")
        assert {b.attrs["value"] for b in ticked} == {str(world["ana"]), str(world["tom"])}
    typed = "".join(page.one("textarea").parts)
    assert "Firm pressure.\nBring loose clothes." in typed or field == "description"
    assert not Service.select().where(Service.name.contains("tissue")).exists()


def test_notice_must_be_shorter_than_how_far_ahead_people_can_book(signed_in, world):
    response = post(
        signed_in(world["owner"]), NEW, good(world, min_notice="1440", max_days_ahead="1")
    )
    assert response.status_code == 422
    assert "Make the minimum notice shorter" in text(response)


def test_every_problem_is_reported_at_once(signed_in, world):
    bad = good(world, name="", duration="7", price="-1", providers=[])
    page = text(post(signed_in(world["owner"]), NEW, bad))
    for message in (
        "Enter the service's name.",
        "Use a multiple of 5",
        "can't be negative",
        "Choose at least one person",
    ):
        assert message in page


def test_another_businesss_provider_cannot_be_ticked(signed_in, world):
    bad = good(world, providers=[str(world["ana"]), str(world["other provider"])])
    response = post(signed_in(world["owner"]), NEW, bad)
    assert response.status_code == 422
    assert "Choose people from the list." in text(response)
    assert not Service.select().where(Service.name.contains("tissue")).exists()


def test_htmx_gets_just_the_form_with_the_errors(signed_in, world):
    response = post(signed_in(world["owner"]), NEW, good(world, duration="x"), headers=PARTIAL)
    assert response.status_code == 422
    page = text(response)
    assert page.lstrip().startswith("<form")
    assert "<html" not in page
    assert "Enter a whole number of minutes" in page


def test_a_form_without_its_csrf_token_is_refused(signed_in, world):
    client = signed_in(world["owner"])
    response = client.post(NEW, data=good(world))
    assert response.status_code in (400, 422)
    assert not Service.select().where(Service.name.contains("tissue")).exists()


# Editing -----------------------------------------------------------------------------


def test_edit_form_shows_the_service_as_saved(signed_in, world):
    page = parse(signed_in(world["owner"]).get(f"/w/clinic/services/{world['assessment']}"))
    assert page.one("input", name="name").attrs["value"] == "Initial assessment"
    assert page.one("input", name="price").attrs["value"] == "65"
    assert page.one("input", name="duration").attrs["value"] == "60"
    assert page.one("input", name="cancellation_window").attrs["value"] == "24"
    ticked = page.find_all("input", name="providers", checked="")
    assert [b.attrs["value"] for b in ticked] == [str(world["ana"])]
    assert page.one("button", type="submit", class_="wide").text.startswith("Save changes")
    assert "Archive “Initial assessment”" in page.text


def test_editing_saves_the_changes_and_who_offers_it(signed_in, world):
    path = f"/w/clinic/services/{world['assessment']}"
    changes = good(world, name="Assessment", price="70", providers=[str(world["tom"])])
    response = post(signed_in(world["owner"]), path, changes)
    assert response.status_code == 303
    saved = Service.get_by_id(world["assessment"])
    assert (saved.name, saved.price_cents, saved.duration_minutes) == ("Assessment", 7000, 50)
    assert offered_by(saved.id) == {world["tom"]}
    # The booking already made keeps its price and its provider.
    kept = Booking.get_by_id(world["ana's booking"])
    assert (kept.price_cents, kept.provider_id, kept.status) == (6500, world["ana"], "confirmed")


def test_a_service_may_keep_its_own_name(signed_in, world):
    path = f"/w/clinic/services/{world['assessment']}"
    response = post(signed_in(world["owner"]), path, good(world, name="Initial Assessment"))
    assert response.status_code == 303
    assert Service.get_by_id(world["assessment"]).name == "Initial Assessment"


def test_editing_keeps_a_deactivated_providers_link(signed_in, world):
    Provider.update(active=False).where(Provider.id == world["tom"]).execute()
    follow_up = Service.get(Service.name == "Follow-up")
    path = f"/w/clinic/services/{follow_up.id}"
    response = post(signed_in(world["owner"]), path, good(world, providers=[str(world["ana"])]))
    assert response.status_code == 303
    assert offered_by(follow_up.id) == {world["ana"], world["tom"]}


def test_bad_edit_keeps_what_was_typed_and_changes_nothing(signed_in, world):
    path = f"/w/clinic/services/{world['assessment']}"
    response = post(signed_in(world["owner"]), path, good(world, price="12.345"))
    assert response.status_code == 422
    page = parse(response)
    assert page.one("input", name="price").attrs["value"] == "12.345"
    assert page.one("input", name="name").attrs["value"] == "Deep  tissue massage"
    assert Service.get_by_id(world["assessment"]).price_cents == 6500


# Archiving and restoring -------------------------------------------------------------


def test_archiving_takes_it_off_the_booking_page_and_keeps_its_bookings(
    app, world, clock, signed_in
):
    client = signed_in(world["owner"])
    service_id = world["assessment"]
    assert "Initial assessment" in text(client.get("/clinic"))
    response = post(client, f"/w/clinic/services/{service_id}/archive", page="/w/clinic/services")
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/clinic/services"
    assert not Service.get_by_id(service_id).active
    assert "Archived “Initial assessment”" in text(client.get("/w/clinic/services"))
    assert "Initial assessment" not in text(client.get("/clinic"))
    assert client.get(f"/clinic/book/{service_id}").status_code == 404
    assert Booking.get_by_id(world["ana's booking"]).status == "confirmed"

    customer = api_client_for(app, world["customer"], clock)
    booking = {"service": service_id, "start": "2026-12-01T10:00:00+00:00"}
    refused = customer.post("/api/v1/bookings", json=booking)
    assert refused.status_code == 422
    assert refused.json["fields"] == {"service": "No such service."}


def test_booking_an_archived_service_through_the_booking_page_is_refused(signed_in, world):
    service_id = world["assessment"]
    Service.update(active=False).where(Service.id == service_id).execute()
    customer = signed_in(world["customer"])
    token = csrf_token(customer.get("/"))
    response = customer.post(
        f"/clinic/book/{service_id}/confirm",
        data={"csrf_token": token, "start": "2026-12-01T10:00:00+00:00"},
    )
    assert response.status_code == 404
    assert Booking.select().where(Booking.service == service_id).count() == 1  # the old one


def test_restoring_puts_it_back_and_it_can_be_booked_again(app, world, clock, signed_in):
    client = signed_in(world["owner"])
    service_id = world["assessment"]
    post(client, f"/w/clinic/services/{service_id}/archive", page="/w/clinic/services")
    assert not Service.get_by_id(service_id).active
    response = post(client, f"/w/clinic/services/{service_id}/restore", page="/w/clinic/services")
    assert response.status_code == 303
    assert Service.get_by_id(service_id).active
    assert "Initial assessment" in text(client.get("/clinic"))
    customer = api_client_for(app, world["customer"], clock)
    booking = {"service": service_id, "start": "2026-12-01T10:00:00+00:00"}
    assert customer.post("/api/v1/bookings", json=booking).status_code == 201


def test_htmx_archive_swaps_the_list_and_says_what_happened(signed_in, world):
    client = signed_in(world["owner"])
    path = f"/w/clinic/services/{world['assessment']}/archive"
    response = post(client, path, headers=PARTIAL, page="/w/clinic/services")
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body
    page = parse(response)
    status = page.one("div", id="svc-status")
    assert status.attrs["hx-swap-oob"] == "innerHTML"
    assert "Archived “Initial assessment”" in status.text
    archived = page.find_all("section", class_="svc-archived")
    assert len(archived) == 1
    assert "Restore Initial assessment" in archived[0].text


def test_the_list_page_has_a_steady_live_region_for_those_messages(signed_in, world):
    page = parse(signed_in(world["owner"]).get("/w/clinic/services"))
    assert page.one("div", id="svc-status").attrs["role"] == "status"
    form = page.find("form", class_="svc-action")
    assert form.attrs["hx-target"] == "#services"


def test_restoring_a_service_nobody_offers_any_more_is_refused(signed_in, world):
    client = signed_in(world["owner"])
    service_id = world["assessment"]
    Service.update(active=False).where(Service.id == service_id).execute()
    Provider.update(active=False).where(Provider.id == world["ana"]).execute()
    path = f"/w/clinic/services/{service_id}/restore"

    response = post(client, path, headers=PARTIAL, page="/w/clinic/services")
    assert response.status_code == 422
    assert "Nobody offers “Initial assessment” now" in text(response)
    response = post(client, path, page="/w/clinic/services")
    assert response.status_code == 303
    assert "Nobody offers “Initial assessment” now" in text(client.get("/w/clinic/services"))
    assert not Service.get_by_id(service_id).active


def test_an_archived_service_may_be_edited_without_anyone_offering_it(signed_in, world):
    service_id = world["assessment"]
    Service.update(active=False).where(Service.id == service_id).execute()
    path = f"/w/clinic/services/{service_id}"
    page = parse(signed_in(world["owner"]).get(path))
    assert "Restore “Initial assessment”" in page.text
    response = post(signed_in(world["owner"]), path, good(world, providers=[]))
    assert response.status_code == 303
    saved = Service.get_by_id(service_id)
    assert (saved.name, saved.active) == ("Deep tissue massage", False)
    assert offered_by(service_id) == set()


def test_restoring_refuses_a_name_now_used_by_another_service(signed_in, world):
    client = signed_in(world["owner"])
    service_id = world["assessment"]
    Service.update(active=False).where(Service.id == service_id).execute()
    post(client, NEW, good(world, name="Initial assessment"))
    assert Service.select().where(Service.name == "Initial assessment").count() == 2
    response = post(client, f"/w/clinic/services/{service_id}/restore", page="/w/clinic/services")
    assert response.status_code == 303
    assert "You already offer a service called" in text(client.get("/w/clinic/services"))
    assert not Service.get_by_id(service_id).active


def test_booked_time_stays_after_the_service_changes(signed_in, world):
    """Archiving and editing never move or cancel a booking."""
    path = f"/w/clinic/services/{world['assessment']}"
    client = signed_in(world["owner"])
    assert post(client, path, good(world, duration="90")).status_code == 303
    assert Service.get_by_id(world["assessment"]).duration_minutes == 90
    assert post(client, f"{path}/archive", page="/w/clinic/services").status_code == 303
    assert not Service.get_by_id(world["assessment"]).active
    kept = Booking.get_by_id(world["ana's booking"])
    assert (kept.start_at, kept.status) == (MON_10, "confirmed")


def test_a_price_with_a_decimal_comma_is_read_as_typed(signed_in, world):
    """Issue 15: "45,50" is 45.50, as staff in much of Europe type it."""
    answer = post(signed_in(world["owner"]), NEW, good(world, price="45,50"))

    assert answer.status_code == 303
    assert Service.get(Service.name.contains("tissue")).price_cents == 4550


def test_a_new_service_starts_with_two_hours_notice(signed_in, world):
    """Issue 15: a sensible minimum notice by default, so nobody books the next minute."""
    page = parse(signed_in(world["owner"]).get(NEW))

    assert page.one("input", name="min_notice").attrs["value"] == "120"
