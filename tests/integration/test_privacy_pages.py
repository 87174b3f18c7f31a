"""The privacy page and where it is linked from, and the owner's retention setting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Organisation
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.integration.test_ws_settings import GOOD
from tests.integration.webpages import csrf_token, parse
from tests.integration.workspace import MON_10

SETTINGS = "/w/clinic/settings"


# The privacy page ---------------------------------------------------------------------


def test_anyone_can_read_it(client, clinic):
    response = client.get("/privacy")

    assert response.status_code == 200
    page = parse(response)
    assert page.one("h1").text == "Your privacy"
    headings = [h.text for h in page.find_all("h2")]
    assert headings == [
        "What we keep, and why",
        "Who sees it",
        "How long",
        "Download it or delete it",
        "Cookies",
        "Contact",
    ]
    text = page.text
    assert "24 months unless it chooses otherwise (from 1 to 120 months)" in text
    assert "No other business sees anything about you" in text
    assert "no analytics, no advertising, no trackers" in text
    assert "GET /api/v1/me/export" in text
    assert page.one("a", href="mailto:bookings@kairos.test").text == "bookings@kairos.test"
    assert "The businesses you have booked with" not in text


def test_signed_in_it_says_how_long_each_of_your_businesses_keeps_your_details(
    signed_in, world, clinic, clock
):
    other = Organisation.get(slug="elsewhere")
    Organisation.update(retention_months=1).where(Organisation.id == other.id).execute()
    bookings.book(
        customer_id=clinic["customer"].id,
        service_id=world["other service"],
        start=MON_10 + timedelta(hours=2),
        now=clock(),
        dispatch=Dispatch(),
    )

    response = signed_in(clinic["customer"]).get("/privacy")

    periods = [li.text for li in parse(response).one("ul", class_="prose-periods").find_all("li")]
    assert periods == ["Clinic: 24 months", "Elsewhere: 1 month"]
    assert response.headers["Cache-Control"] == "no-store"  # it is about them


@pytest.mark.parametrize(
    "path", ["/", "/clinic", "/account/sign-in", "/account/sign-up", "/business/sign-up"]
)
def test_every_page_links_to_it_in_its_footer(client, clinic, path):
    # A second business taking bookings, so that "/" lists them instead of redirecting.
    second = factories.make_org("second")
    factories.make_service(second, [factories.make_provider(second)])

    page = parse(client.get(path))

    assert page.one("footer").find_all("a")[0].attrs["href"] == "/privacy"


@pytest.mark.parametrize("path", ["/account/sign-up", "/business/sign-up"])
def test_the_sign_up_forms_link_to_it(client, clinic, path):
    form = parse(client.get(path)).one("form", method="post")

    assert form.find("a", href="/privacy") is not None


def test_the_review_pages_details_form_links_to_it(client, clinic):
    from tests.integration.test_journey import review_url

    response = client.get(review_url(clinic["follow_up"], MON_10))
    form = parse(response).one("form", class_="guest-form")

    assert form.find("a", href="/privacy") is not None


def test_no_business_can_take_its_address(client, clinic):
    from services.accounts.business import RESERVED_SLUGS

    assert "privacy" in RESERVED_SLUGS


# The retention setting ----------------------------------------------------------------


def settings_form(client, **changes: str) -> dict:
    return {"csrf_token": csrf_token(client.get(SETTINGS)), **GOOD, **changes}


def test_the_owner_sees_and_changes_how_long_details_are_kept(signed_in, world):
    client = signed_in(world["owner"])
    page = parse(client.get(SETTINGS))
    field = page.one("input", name="retention_months")
    assert field.attrs["value"] == "24"
    assert field.attrs["inputmode"] == "numeric"
    assert "Keep customers' details on past bookings for (months)" in page.text
    assert page.find("a", href="/privacy") is not None

    response = client.post(SETTINGS, data=settings_form(client, retention_months=" 36 "))

    assert response.status_code == 303
    assert Organisation.get(slug="clinic").retention_months == 36
    assert Organisation.get(slug="elsewhere").retention_months == 24


def test_leaving_the_field_out_keeps_the_period(signed_in, world):
    Organisation.update(retention_months=6).where(Organisation.slug == "clinic").execute()
    client = signed_in(world["owner"])

    assert client.post(SETTINGS, data=settings_form(client)).status_code == 303

    assert Organisation.get(slug="clinic").retention_months == 6


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Give a whole number from 1 to 120."),
        ("121", "Give a whole number from 1 to 120."),
        ("", "Required. Give a whole number from 1 to 120."),
        ("two years", "Give a whole number from 1 to 120."),
        ("12.5", "Give a whole number from 1 to 120."),
        ("99999999999999999999999", "Give a whole number from 1 to 120."),
    ],
)
def test_a_bad_period_is_a_422_on_the_field_keeping_what_was_typed(
    signed_in, world, value, message
):
    client = signed_in(world["owner"])

    response = client.post(SETTINGS, data=settings_form(client, retention_months=value))

    assert response.status_code == 422
    page = parse(response)
    assert page.one("p", id="retention_months-error").text.endswith(message)
    shown = page.one("input", name="retention_months")
    assert shown.attrs["aria-invalid"] == "true"
    assert shown.attrs.get("value", "") == value
    assert page.one("input", name="business_name").attrs["value"] == GOOD["business_name"]
    org = Organisation.get(slug="clinic")
    assert (org.name, org.retention_months) == ("Clinic", 24)


def test_only_the_owner_may_change_it(signed_in, world):
    ana = signed_in(world["provider"])

    response = ana.post(
        SETTINGS,
        data={**GOOD, "retention_months": "1"},
        headers={"X-CSRFToken": csrf_token(ana.get("/"))},
    )

    assert response.status_code == 403
    assert Organisation.get(slug="clinic").retention_months == 24
