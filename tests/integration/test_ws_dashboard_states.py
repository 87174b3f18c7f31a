"""The dashboard after hours (the next day's first appointments) and for a new business
(its booking link with a QR code, and the set-up steps not done yet)."""

from __future__ import annotations

from datetime import UTC, datetime

from models import Invitation
from tests import factories
from tests.integration.test_ws_customers import add_booking
from tests.integration.webpages import parse


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def dashboard(client, slug: str = "clinic"):
    response = client.get(f"/w/{slug}/dashboard")
    assert response.status_code == 200
    return parse(response)


def ahead_of(page):
    return page.one("section", aria_labelledby="ahead-title")


def booking_links(section) -> list[str]:
    return [li.one("a").attrs["href"] for li in section.one("ol").find_all("li")]


# After hours ----------------------------------------------------------------------------


def test_after_hours_the_dashboard_shows_tomorrows_first_appointments(
    signed_in, world, clinic, clock
):
    casey, ana, tom = clinic["customer"], clinic["ana"], clinic["tom"]
    add_booking(clinic, ana, clinic["follow_up"], casey, utc(2026, 11, 25, 9))  # today, over
    later = add_booking(clinic, tom, clinic["massage"], casey, utc(2026, 11, 26, 11))
    first = add_booking(clinic, ana, clinic["assessment"], casey, utc(2026, 11, 26, 9))
    add_booking(clinic, ana, clinic["follow_up"], casey, utc(2026, 11, 26, 15), "cancelled")
    clock.advance(hours=6)  # Wed 25 Nov, 18:00: the business day is over

    page = dashboard(signed_in(world["owner"]))
    assert "Today’s appointment is over." in page.one("section", class_="db-today").text
    ahead = ahead_of(page)
    assert ahead.one("h2").text == "Tomorrow Thursday 26 November"
    assert "2 appointments:" in ahead.text
    assert booking_links(ahead) == [
        f"/w/clinic/bookings/{first.id}",
        f"/w/clinic/bookings/{later.id}",
    ]
    assert ahead.find_all("li")[0].text == "09:00 Casey Morgan Initial assessment · Ana Silva"
    button = ahead.one("a", class_="button")
    assert (button.text, button.attrs["href"]) == (
        "Open tomorrow’s schedule",
        "/w/clinic?date=2026-11-26",
    )

    # A provider sees only their own column's.
    mine = ahead_of(dashboard(signed_in(world["provider"])))
    assert booking_links(mine) == [f"/w/clinic/bookings/{first.id}"]


def test_a_quiet_day_looks_ahead_to_the_next_day_with_appointments(signed_in, world):
    # Wed 25 Nov: nothing today, nothing Thursday to Sunday; the world's two on Monday.
    page = dashboard(signed_in(world["owner"]))
    assert "No appointments today." in page.one("section", class_="db-today").text
    assert "Enjoy the quiet" not in page.text
    ahead = ahead_of(page)
    assert ahead.one("h2").text == "Monday 30 November"
    ids = [world["ana's booking"], world["tom's booking"]]
    assert booking_links(ahead) == [f"/w/clinic/bookings/{i}" for i in ids]
    assert ahead.one("a", class_="button").text == "Open Monday’s schedule"


def test_nothing_in_the_coming_week_says_so(signed_in, world, clock):
    clock.advance(days=6)  # Tue 1 Dec: the world's Monday bookings are past
    ahead = ahead_of(dashboard(signed_in(world["provider"])))
    assert ahead.text == "Coming up Nothing booked in the next 7 days for you."


def test_while_appointments_are_still_to_come_today_there_is_no_look_ahead(
    signed_in, world, clinic
):
    casey, ana = clinic["customer"], clinic["ana"]
    add_booking(clinic, ana, clinic["assessment"], casey, utc(2026, 11, 25, 15))
    add_booking(clinic, ana, clinic["assessment"], casey, utc(2026, 11, 26, 9))
    page = dashboard(signed_in(world["owner"]))
    assert page.find("section", aria_labelledby="ahead-title") is None


# A new business ---------------------------------------------------------------------------


def steps(page) -> list[tuple[str, str]]:
    found = page.one("section", class_="db-start").find("ol", class_="db-steps")
    return [(a.one("strong").text, a.attrs["href"]) for a in found.find_all("a")] if found else []


def test_a_new_business_sees_its_booking_link_and_what_to_do_next(signed_in, app, clock):
    org = factories.make_org("fresh")
    owner = signed_in(factories.make_owner(org, "founder@fresh.test"))

    page = dashboard(owner, "fresh")
    start = page.one("section", class_="db-start")
    link = start.one("input", id="booking-link")
    assert link.attrs["value"] == "http://127.0.0.1:5000/fresh"
    assert "readonly" in link.attrs
    assert start.one("button", data_copy="booking-link").text == "Copy"
    assert start.one("svg", role="img")  # the QR code, drawn on the server
    assert start.one("a", href="/fresh").text == "Open your booking page"
    assert steps(page) == [
        ("Add who sees customers", "/w/fresh/staff"),
        ("Set working hours", "/w/fresh/availability"),
        ("Add a service", "/w/fresh/services"),
    ]
    assert "Enjoy the quiet" not in page.text
    assert page.find("section", aria_labelledby="today-title") is None  # nothing, ever
    assert page.find("section", aria_labelledby="ahead-title") is None

    # An invitation sent counts as adding staff; hours set by a provider count too.
    Invitation.create(
        organisation=org,
        email="sam@fresh.test",
        name="Sam",
        token_hash="0" * 64,
        expires_at=utc(2026, 12, 2),
    )
    assert [title for title, _ in steps(dashboard(owner, "fresh"))] == [
        "Set working hours",
        "Add a service",
    ]
    provider = factories.make_provider(org, "Frida Fresh")
    assert steps(dashboard(owner, "fresh")) == [("Add a service", "/w/fresh/services")]

    service = factories.make_service(org, [provider], "Haircut", 30)
    page = dashboard(owner, "fresh")
    assert steps(page) == []
    assert "You are ready to take bookings" in page.one("section", class_="db-start").text

    fresh = {"org": org}
    add_booking(fresh, provider, service, factories.make_user("c@x.test"), utc(2026, 11, 20, 9))
    assert dashboard(owner, "fresh").find("section", class_="db-start") is None


def test_a_provider_of_a_new_business_is_asked_only_for_their_own_hours(signed_in, app):
    org = factories.make_org("fresh")
    factories.make_owner(org, "founder@fresh.test")
    sam = factories.make_user("sam@fresh.test", "Sam Fresh")
    factories.make_provider(org, "Sam Fresh", user=sam, weekdays=[])
    factories.make_provider(org, "Other One")  # someone else's hours don't count for Sam

    page = dashboard(signed_in(sam), "fresh")
    start = page.one("section", class_="db-start")
    assert start.one("h2").text == "Set your working hours"
    assert start.one("a", class_="button").attrs["href"] == "/w/fresh/availability"
    assert steps(page) == []  # the owner's list of steps is not theirs
    assert page.one("input", id="booking-link").attrs["value"].endswith("/fresh")


def test_a_business_under_way_has_no_set_up_card(signed_in, world):
    page = dashboard(signed_in(world["owner"]))
    assert page.find("section", class_="db-start") is None
