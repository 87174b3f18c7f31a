"""Adding a business's booking to your account, in a real browser at phone and tablet
sizes: the emailed link opened signed out, signing in right there, one tap to add it,
and a link that does not work.

The server runs on the real clock, with SECRET_KEY "live-test" (tests/server.py): the
test signs the link as the worker would.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from playwright.sync_api import expect

from models import User
from services.accounts import claims
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.e2e.conftest import screenshot
from tests.e2e.test_accounts_e2e import check_page

SERVER_SECRET = "live-test"


def business_with_a_record(app) -> User:
    """A studio open around the clock, and its record of Casey with a haircut in three
    days (booked at the desk: the record is the studio's, not an account)."""
    org = factories.make_org("studio", timezone="Europe/London")
    org.name = "Studio Nine"
    org.save()
    staff = factories.make_user("nia@studio.test", "Nia Stylist")
    provider = factories.make_provider(
        org, "Nia Stylist", user=staff, hours=[(time(0), time(23, 59))], weekdays=range(7)
    )
    service = factories.make_service(org, [provider], "Haircut", 45)
    record = User.create(organisation=org.id, name="Casey M", email="casey@example.com")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now.replace(minute=0) + timedelta(days=3)
    bookings.book(
        customer_id=record.id,
        service_id=service.id,
        start=start,
        now=now,
        provider_id=provider.id,
        actor_id=staff.id,
        source="phone",
        dispatch=Dispatch(),
    )
    return record


def test_the_link_signs_in_then_adds_the_booking(screen, e2e_server, app):
    record = business_with_a_record(app)
    factories.make_user("casey@example.com", "Casey Morgan")
    link = claims.link_for(record, datetime.now(UTC), secret=SERVER_SECRET, base_url=e2e_server)

    screen.goto(link)
    expect(screen.get_by_role("heading", name="Add your booking to Kairos")).to_be_visible()
    expect(screen.get_by_text("Studio Nine booked this for Casey M.")).to_be_visible()
    expect(screen.locator(".claim-list")).to_contain_text("Haircut")
    expect(screen.locator("#sign-in-email")).to_have_value("casey@example.com")
    check_page(screen)
    screenshot(screen, "claim-signed-out")

    screen.locator("#sign-in-password").fill(factories.PASSWORD)
    screen.get_by_role("button", name="Sign in").click()
    expect(screen).to_have_url(link)
    add = screen.get_by_role("button", name="Add to my account")
    expect(add).to_be_visible()
    expect(screen.locator(".claim-who")).to_contain_text("casey@example.com")
    check_page(screen)
    screenshot(screen, "claim-signed-in")

    add.click()
    expect(screen).to_have_url(f"{e2e_server}/appointments")
    expect(
        screen.get_by_text("Your booking with Studio Nine is in your appointments now.")
    ).to_be_visible()
    expect(screen.locator(".appt", has_text="Haircut")).to_be_visible()
    screenshot(screen, "claim-added")


def test_a_link_that_does_not_work_says_so(screen, e2e_server, app):
    screen.goto(f"{e2e_server}/account/claim/not-a-real-link")
    expect(screen.get_by_role("heading", name="This link doesn't work")).to_be_visible()
    check_page(screen)
    screenshot(screen, "claim-invalid")
