"""The business's name heads its pages, and the phone's bottom navigation (issue 15, items
4 and 5), in a real browser: at 390 × 844 and 320 × 640 the bottom navigation shows and
leads around, the header is one line and nothing is wider than the screen; at 1180 × 820
the bottom navigation is gone and the header's links serve instead."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from models import Organisation
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.e2e.conftest import SCREENSHOTS, sign_in
from tests.e2e.test_booking_e2e import (
    check_page,
    open_month_with,
    pick_day_and_first_time,
    target_day,
)
from tests.e2e.test_pwa_e2e import wait_for_control
from tests.integration.test_ws_settings import png

PHONES = {"390x844": (390, 844), "320x640": (320, 640)}


@pytest.fixture
def sized(browser, request):
    """A touch page of the size given as the test's ``size`` parameter."""
    width, height = request.param
    mobile = width < 640
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=2,
        is_mobile=mobile,
        has_touch=mobile,
    )
    page = context.new_page()
    page.device_name = f"{width}x{height}"
    yield page
    context.close()


def shot(page, label: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"storefront-{label}-{page.device_name}.png"))


def header_is_one_line(page) -> None:
    """The header's height is one row of it (its tallest item), and nothing overflows."""
    heights = page.evaluate(
        """() => {
          const top = document.querySelector('header.top');
          const style = getComputedStyle(top);
          const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
          const inner = top.clientHeight - padding;
          const tallest = Math.max(...[...top.children].filter((e) => e.offsetParent)
            .map((e) => e.getBoundingClientRect().height));
          const middle = (box) => Math.round(box.top + box.height / 2);
          const tops = new Set([...top.querySelectorAll('a')].filter((e) => e.offsetParent)
            .map((e) => middle(e.getBoundingClientRect())));
          return [inner, tallest, tops.size];
        }"""
    )
    inner, tallest, rows = heights
    assert abs(inner - tallest) <= 1, heights
    assert rows == 1, heights  # every link's middle on one line
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def bottom_nav_link(page, name: str):
    return page.locator("nav.bottom-nav").get_by_role("link", name=name)


@pytest.mark.parametrize("sized", PHONES.values(), ids=PHONES.keys(), indirect=True)
def test_on_a_phone_the_business_heads_the_journey_and_the_bottom_nav_leads_back(
    sized, e2e_server, clinic
):
    page = sized
    sign_in(page, e2e_server, "casey@example.com")
    nav = page.locator("nav.bottom-nav")
    expect(nav).to_be_visible()
    expect(bottom_nav_link(page, "My appointments")).to_have_attribute("aria-current", "page")
    expect(page.locator("header.top").get_by_role("link", name="My appointments")).to_be_hidden()
    header_is_one_line(page)
    shot(page, "appointments")

    # "Book" knows no business yet: the only one is where the front page leads.
    bottom_nav_link(page, "Book").click()
    expect(page).to_have_url(f"{e2e_server}/clinic")
    expect(page.locator("header.top .brand")).to_have_text("Clinic")
    expect(bottom_nav_link(page, "Book")).to_have_attribute("aria-current", "page")
    header_is_one_line(page)

    page.locator("a.service", has_text="Follow-up").click()
    page.get_by_role("link", name=re.compile("Anyone available")).click()
    day = target_day()
    open_month_with(page, day)
    pick_day_and_first_time(page, day)
    expect(page.get_by_role("heading", name="Review and confirm")).to_be_visible()
    expect(page.locator("header.top .brand")).to_have_text("Clinic")
    expect(page.locator(".booked-with")).to_have_text("Booked with Kairos")
    header_is_one_line(page)
    check_page(page)
    shot(page, "review")

    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
    expect(page.locator("header.top .brand")).to_have_text("Clinic")
    header_is_one_line(page)
    # The bottom navigation covers nothing: the page's end scrolls clear of it.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    last = page.locator("footer.foot a").last.bounding_box()
    bar = nav.bounding_box()
    assert last["y"] + last["height"] <= bar["y"] + 1
    assert bar["height"] >= 44
    check_page(page)
    shot(page, "confirmed")

    bottom_nav_link(page, "Account").click()
    expect(page).to_have_url(re.compile(r"/account/profile$"))
    expect(bottom_nav_link(page, "Account")).to_have_attribute("aria-current", "page")
    bottom_nav_link(page, "Book").click()
    expect(page).to_have_url(f"{e2e_server}/clinic")


@pytest.mark.parametrize("sized", [(1180, 820)], ids=["1180x820"], indirect=True)
def test_on_a_tablet_the_header_serves_and_there_is_no_bottom_nav(sized, e2e_server, clinic):
    page = sized
    sign_in(page, e2e_server, "casey@example.com")
    expect(page.locator("nav.bottom-nav")).to_be_hidden()
    expect(page.locator("header.top").get_by_role("link", name="My appointments")).to_be_visible()
    page.goto(f"{e2e_server}/clinic")
    expect(page.locator("header.top .brand")).to_have_text("Clinic")
    header_is_one_line(page)
    shot(page, "organisation")


@pytest.mark.parametrize("sized", PHONES.values(), ids=PHONES.keys(), indirect=True)
def test_a_long_name_and_a_logo_keep_the_header_to_one_line(sized, e2e_server, clinic):
    page = sized
    Organisation.update(name="Riverside Physiotherapy and Sports Injury Clinic").where(
        Organisation.slug == "clinic"
    ).execute()
    factories.give_logo("clinic", png(300, 100))
    past = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=7)
    bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["follow_up"].id,
        start=past,
        provider_id=clinic["tom"].id,
        now=past - timedelta(days=3),
        dispatch=Dispatch(),
    )
    sign_in(page, e2e_server, "casey@example.com")
    again = page.get_by_role("link", name=re.compile("^Book again"))
    expect(again).to_have_attribute(
        "href", f"/clinic/book/{clinic['follow_up'].id}/when?provider={clinic['tom'].id}"
    )
    header_is_one_line(page)
    shot(page, "past")
    again.click()
    expect(page.get_by_role("heading", name="Pick a day and time")).to_be_visible()
    brand = page.locator("header.top .brand")
    expect(brand).to_contain_text("Riverside Physiotherapy")
    expect(brand.locator("img")).to_be_visible()
    # the logo itself arrived (not only its box): wait for it, a loaded machine is slow
    page.wait_for_function("document.querySelector('header.top .brand img').complete")
    assert page.evaluate("document.querySelector('header.top .brand img').naturalWidth") == 300
    header_is_one_line(page)
    shot(page, "long-name")
    page.goto(f"{e2e_server}/clinic")
    header_is_one_line(page)
    shot(page, "organisation-logo")


@pytest.mark.parametrize("sized", [PHONES["390x844"]], ids=["390x844"], indirect=True)
@pytest.mark.parametrize("side", [(192, 192), (300, 100)], ids=["square", "oblong"])
def test_installed_from_a_business_with_a_logo_the_app_is_the_business(
    sized, e2e_server, clinic, side
):
    factories.give_logo("clinic", png(*side))
    page = sized
    page.goto(f"{e2e_server}/clinic")
    expect(page.locator("link[rel=manifest]")).to_have_attribute(
        "href", "/clinic/manifest.webmanifest"
    )
    wait_for_control(page)
    devtools = page.context.new_cdp_session(page)
    shown = devtools.send("Page.getAppManifest")
    assert shown["errors"] == []
    assert json.loads(shown["data"])["name"] == "Clinic — book"
    problems = devtools.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [p["errorId"] for p in problems if p["errorId"] != "in-incognito"] == []
