"""A new business set up from nothing, on iPad landscape and portrait: the owner signs
up, adds themself as a provider, invites a provider, adds a service and sets weekly
hours; the invited provider joins from the emailed link, sets their hours, blocks time
off and sees it on their schedule.

The server runs on the real clock, so dates are worked out from now in London. Each run
uses its own booking page address and email addresses, and reads (then removes) only
its own mail from instance/outbox/.
"""

from __future__ import annotations

import email
import email.policy
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from config import INSTANCE
from tests.e2e.conftest import enter_emailed_code, screenshot

pytestmark = pytest.mark.parametrize(
    "device", ["iPad (gen 7) landscape", "iPad (gen 7)"], indirect=True
)
LONDON = ZoneInfo("Europe/London")
OUTBOX = INSTANCE / "outbox"
BUSINESS = "Harbour Physio"
OWNER = "Olivia Grant"
PROVIDER = "Sam Patel"
SERVICE = "Initial consultation"
PASSWORD = "a long enough passphrase"
WORKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def next_weekday_after_today() -> date:
    day = datetime.now(UTC).astimezone(LONDON).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def shown_day(day: date) -> str:
    """A date as the availability page lists it: "Tue 3 Jun 2025"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def invitation_link_for(address: str) -> str:
    """The path of the join link in the newest invitation to ``address``, removing its mail."""
    ours = []
    for path in sorted(OUTBOX.glob("*-invitation-*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            ours.append(message)
            path.unlink()
    assert ours, f"no invitation email to {address}"
    text = ours[-1].get_body(("plain",)).get_content()
    return urlsplit(re.search(r"https?://\S+", text).group(0)).path


def open_tab(page, name: str) -> None:
    page.get_by_role("navigation", name=re.compile("workspace$")).get_by_role(
        "link", name=name, exact=True
    ).click()
    expect(page.get_by_role("heading", level=1, name=re.compile(f"^{name}"))).to_be_visible()


def sign_up_business(page, base: str, slug: str, owner_email: str) -> None:
    page.goto(f"{base}/business/sign-up")
    page.get_by_label("Business name").fill(BUSINESS)
    page.get_by_label("Booking page address").fill(slug)
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_label("Currency").select_option("GBP")
    page.get_by_label("Your name").fill(OWNER)
    page.get_by_label("Your email").fill(owner_email)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Create my business").click()
    enter_emailed_code(page, owner_email)
    # The set-up's first step (test_setup_e2e.py walks it; these tests go their own way).
    expect(page).to_have_url(f"{base}/w/{slug}/setup/contact")
    expect(page.get_by_text(f"Welcome to Kairos, {BUSINESS}.")).to_be_visible()


def add_me_and_invite(page, base: str, slug: str, invitee_email: str) -> None:
    # Straight to Staff: the schedule the owner lands on fails while nobody works here
    # (see test_a_new_business_lands_on_its_empty_schedule).
    page.goto(f"{base}/w/{slug}/staff")
    expect(page.get_by_role("heading", level=1, name="Staff")).to_be_visible()
    page.get_by_role("button", name="Add me as a provider").click()
    expect(page.get_by_text("You are a provider now")).to_be_visible()
    providers = page.get_by_role("region", name="Providers")
    expect(providers.get_by_role("listitem")).to_have_count(1)
    expect(providers.get_by_role("listitem")).to_contain_text(f"{OWNER} You")
    expect(page.get_by_role("button", name="Add me as a provider")).to_have_count(0)

    page.get_by_label("Name", exact=True).fill(PROVIDER)
    page.get_by_label("Email", exact=True).fill(invitee_email)
    # Nothing of the page still in flight: a late response carrying the session cookie
    # from before the invitation would drop its "sent" message (seen once in CI).
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invitation sent to {invitee_email}.")).to_be_visible()
    pending = page.get_by_role("region", name="Pending invitations").get_by_role("listitem")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text(PROVIDER)
    expect(pending).to_contain_text(invitee_email)
    screenshot(page, "workspace-owner-staff")


def add_service(page, base: str, slug: str) -> None:
    open_tab(page, "Services")
    page.get_by_role("link", name="New service").click()
    page.get_by_label("Name", exact=True).fill(SERVICE)
    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_label("Price (GBP)").fill("50")
    page.get_by_role("checkbox", name=OWNER).check()
    page.get_by_role("button", name="Add service").click()
    expect(page.get_by_text(f"“{SERVICE}” is on your booking page.")).to_be_visible()
    listed = page.locator(".svc-item", has_text=SERVICE)
    expect(listed).to_contain_text("45 min")
    expect(listed).to_contain_text("£50")
    expect(listed).to_contain_text(f"With {OWNER}")
    screenshot(page, "workspace-owner-services")

    page.goto(f"{base}/{slug}")
    expect(page.get_by_role("heading", level=1, name=BUSINESS)).to_be_visible()
    offered = page.get_by_role("link", name=re.compile(SERVICE))
    expect(offered).to_be_visible()
    expect(offered).to_contain_text("£50")
    expect(offered).to_contain_text("45 min")
    page.goto(f"{base}/w/{slug}")


def set_weekday_hours(page, who: str) -> None:
    """Monday to Friday 09:00–17:00 for whoever the Availability tab shows first."""
    open_tab(page, "Availability")
    expect(page.locator(".av-who")).to_have_text(who)
    for day in WORKDAYS:
        page.get_by_role("switch", name=f"Open on {day}").check()  # a new business: all closed
        page.get_by_label(f"{day}, interval 1, from").fill("09:00")
        page.get_by_label(f"{day}, interval 1, to").fill("17:00")
    page.get_by_role("button", name="Save weekly hours").click()
    expect(page.locator("#hours-status")).to_have_text("Weekly hours saved.")
    week = page.locator("#hours-form")
    for day in WORKDAYS:
        expect(week.get_by_label(f"{day}, interval 1, from")).to_have_value("09:00")
        expect(week.get_by_label(f"{day}, interval 1, to")).to_have_value("17:00")
        expect(week.get_by_role("group", name=day, exact=True)).not_to_contain_text(
            "Closed", use_inner_text=True
        )
    for day in ["Saturday", "Sunday"]:
        expect(week.get_by_role("group", name=day, exact=True)).to_contain_text(
            "Closed", use_inner_text=True
        )


def sign_out(page, base: str) -> None:
    page.goto(f"{base}/account/profile")
    # Nothing from before may still be in flight: a late response could carry the
    # session cookie from before the sign-out back, and with it lose the message.
    page.wait_for_load_state("networkidle")
    before = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    # Such a cookie signs nobody in any more: its sign-in has ended (issue 12, finding 4).
    page.context.add_cookies(before)
    page.goto(f"{base}/account/profile")
    expect(page).to_have_url(re.compile(r"/account/sign-in\?next="))


def join_from_the_invitation(page, base: str, slug: str, invitee_email: str) -> None:
    page.goto(base + invitation_link_for(invitee_email))
    expect(page.get_by_role("heading", name=f"Join {BUSINESS}")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value(PROVIDER)
    expect(page.get_by_label("Email", exact=True)).to_have_value(invitee_email)
    page.get_by_label("Choose a password").fill(PASSWORD)
    screenshot(page, "workspace-owner-join")
    page.get_by_role("button", name="Create account and join").click()
    # No hours yet: the dashboard asks for them first.
    expect(page).to_have_url(f"{base}/w/{slug}/dashboard")
    expect(page.get_by_text(f"Welcome to {BUSINESS}.")).to_be_visible()
    prompt = page.locator("section.db-start")
    expect(prompt.get_by_role("heading", name="Set your working hours")).to_be_visible()
    expect(prompt.get_by_role("link", name="Set my hours")).to_have_attribute(
        "href", f"/w/{slug}/availability"
    )
    screenshot(page, "workspace-provider-hours-prompt")
    page.goto(f"{base}/w/{slug}")
    expect(page.locator(".ws-column")).to_have_count(1)
    expect(page.locator(".ws-col-title")).to_have_text(PROVIDER)
    tabs = page.get_by_role("navigation", name=re.compile("workspace$"))
    expect(tabs.get_by_role("link", name="Staff")).to_have_count(0)  # owners only
    expect(tabs.get_by_role("link", name="Services")).to_have_count(0)


def block_time_off(page, day: date) -> None:
    page.get_by_label("Starts on").fill(day.isoformat())
    page.get_by_label("Start time").fill("12:00")
    page.get_by_label("Ends on").fill(day.isoformat())
    page.get_by_label("End time").fill("14:00")
    page.get_by_label("Reason (optional)").fill("Dentist")
    page.get_by_role("button", name="Add time off").click()
    expect(page.locator("#time-off-status")).to_have_text("Time off added.")
    listed = page.get_by_role("list", name="Upcoming time off").get_by_role("listitem")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(f"{shown_day(day)}, 12:00–14:00")
    expect(listed).to_contain_text("Dentist")
    screenshot(page, "workspace-owner-time-off")


def test_an_owner_sets_up_a_business_and_an_invited_provider_takes_time_off(
    screen, e2e_server, app
):
    run = secrets.token_hex(4)
    slug, owner_email = f"harbour-{run}", f"olivia-{run}@example.com"
    invitee_email = f"sam-{run}@example.com"

    sign_up_business(screen, e2e_server, slug, owner_email)
    add_me_and_invite(screen, e2e_server, slug, invitee_email)
    add_service(screen, e2e_server, slug)
    set_weekday_hours(screen, OWNER)
    screenshot(screen, "workspace-owner-hours")
    sign_out(screen, e2e_server)

    join_from_the_invitation(screen, e2e_server, slug, invitee_email)
    set_weekday_hours(screen, PROVIDER)
    day = next_weekday_after_today()
    block_time_off(screen, day)

    screen.goto(f"{e2e_server}/w/{slug}?date={day.isoformat()}")
    title = f"{day:%A} {day.day} {day:%B %Y}"
    expect(screen.get_by_role("heading", level=2, name=title, exact=True)).to_be_visible()
    column = screen.locator(".ws-column")
    expect(column).to_have_count(1)
    expect(column.locator(".ws-off")).to_have_count(1)
    expect(column.locator(".ws-off")).to_have_text("Time off 12:00–14:00")
    expect(column.locator(".ws-off")).to_be_visible()
    # Working time either side of the time off is still bookable, none inside it.
    expect(column.get_by_role("link", name=f"Book {PROVIDER} at 11:30")).to_be_visible()
    expect(column.get_by_role("link", name=f"Book {PROVIDER} at 12:30")).to_have_count(0)
    expect(column.get_by_role("link", name=f"Book {PROVIDER} at 14:00")).to_be_visible()
    screenshot(screen, "workspace-owner-schedule-time-off")


def test_a_new_business_lands_on_its_empty_schedule(screen, e2e_server, app):
    run = secrets.token_hex(4)
    sign_up_business(screen, e2e_server, f"harbour-{run}", f"olivia-{run}@example.com")
    screen.goto(f"{e2e_server}/w/harbour-{run}")  # the schedule, set-up skipped
    screenshot(screen, "workspace-owner-landing")
    expect(screen.get_by_text("There is no schedule to show here yet")).to_be_visible()
    tabs = screen.get_by_role("navigation", name=re.compile("workspace$"))
    expect(tabs.get_by_role("link", name="Staff")).to_be_visible()
