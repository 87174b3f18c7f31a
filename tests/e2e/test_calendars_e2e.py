"""A provider's Calendars page on a phone and a tablet: reached from Availability, a
calendar that failed shows its error and next try, a private address is refused on the
form with what was typed kept (an address, and a CalDAV connection without its app
password), and imported busy time shows on the schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from models import BusyBlock, ExternalCalendar
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_booking_e2e import check_page

pytestmark = pytest.mark.parametrize(
    "device", ["iPhone 13", "iPad (gen 7) landscape"], indirect=True
)


def test_managing_calendars(screen, e2e_server, clinic):
    now = datetime.now(UTC)
    calendar = ExternalCalendar.create(
        provider=clinic["ana"],
        url="https://calendar.google.com/calendar/ical/ana%40example.com/private-abc/basic.ics",
        status="error",
        last_synced_at=now - timedelta(hours=2),
        last_error="The calendar server answered 404.",
        failures=3,
        next_try_at=now + timedelta(minutes=4),
        created_at=now - timedelta(days=1),
    )
    tomorrow = (now + timedelta(days=1)).replace(hour=11, minute=0, second=0, microsecond=0)
    BusyBlock.create(
        calendar=calendar,
        provider=clinic["ana"],
        start_at=tomorrow,
        end_at=tomorrow + timedelta(hours=1),
    )
    sign_in(screen, e2e_server, "ana@clinic.test", "/w/clinic/availability")
    screen.get_by_role("link", name="Busy time from your own calendar").click()

    expect(screen.get_by_role("heading", level=1, name="Your calendars")).to_be_visible()
    expect(screen.locator(".cal-item")).to_contain_text("calendar.google.com")
    expect(screen.locator(".cal-item")).to_contain_text("The calendar server answered 404.")
    check_page(screen)
    screenshot(screen, "calendars")

    screen.get_by_text("Any other calendar, by its secret address").click()
    screen.get_by_label("Secret address in iCal format").fill("http://10.0.0.1/mine.ics")
    screen.get_by_role("button", name="Add calendar").click()
    expect(screen.locator(".error").last).to_contain_text("private network")
    expect(screen.get_by_label("Secret address in iCal format")).to_have_value(
        "http://10.0.0.1/mine.ics"
    )
    screenshot(screen, "calendars-refused")

    screen.get_by_text("iCloud, Fastmail, Nextcloud (CalDAV)").click()
    screen.get_by_label("Calendar address (CalDAV)").fill(
        "https://caldav.icloud.com/123/calendars/work/"
    )
    screen.get_by_label("Username").fill("ana@icloud.com")
    screen.get_by_role("button", name="Connect calendar").click()
    expect(screen.get_by_text("Give an app password made for Kairos")).to_be_visible()
    expect(screen.get_by_label("Username")).to_have_value("ana@icloud.com")
    expect(screen.get_by_label("Calendar address (CalDAV)")).to_have_value(
        "https://caldav.icloud.com/123/calendars/work/"
    )
    screenshot(screen, "calendars-caldav-refused")

    local_day = tomorrow.astimezone(ZoneInfo(clinic["org"].timezone)).date()
    screen.goto(f"{e2e_server}/w/clinic?date={local_day.isoformat()}")
    expect(screen.get_by_text("Busy (from your calendar)").first).to_be_visible()
    screenshot(screen, "calendars-schedule")
