"""The installable app in a real browser: the service worker takes control, pages fall
back to the offline page, "my appointments" stays readable offline for the person who
loaded it and nobody else, and the install offer appears where it should."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from config import ROOT
from services.booking import appointments as booking
from services.notifications.outbox import Dispatch
from tests.e2e.conftest import screenshot, sign_in

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SAVED_PAGES = """async () => {
  if (!(await caches.has("kairos-private"))) return [];
  const keys = await (await caches.open("kairos-private")).keys();
  return keys.map((r) => new URL(r.url).pathname).filter((p) => p.startsWith("/appointments"));
}"""


def wait_for_control(page) -> None:
    """The worker is active, and (after a reload) controls the page."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")


def serious_accessibility_violations(page) -> list[str]:
    page.evaluate(AXE.read_text())  # not a <script>: the CSP refuses those
    found = page.evaluate("axe.run().then((r) => r.violations)")
    return [v["id"] for v in found if v["impact"] in ("serious", "critical")]


def test_service_worker_controls_the_page_and_offline_shows_the_offline_page(
    screen, e2e_server, clinic
):
    screen.goto(f"{e2e_server}/clinic")
    wait_for_control(screen)

    screen.context.set_offline(True)
    try:
        response = screen.goto(f"{e2e_server}/clinic/a-page-never-visited")
        assert response.status == 200
        expect(screen.get_by_role("heading", name="You're offline", level=1)).to_be_visible()
        expect(screen.get_by_role("link", name="Try again")).to_be_visible()
        # Nothing to install while offline.
        expect(screen.get_by_role("complementary", name="Install the app")).to_be_hidden()
        # Styles came from the worker's static cache: the page looks like the app.
        brand = screen.evaluate("getComputedStyle(document.querySelector('.brand')).color")
        assert brand == "rgb(11, 110, 105)"
        # A public page loaded a moment ago was not kept either: pages are never cached.
        screen.goto(f"{e2e_server}/clinic")
        expect(screen.get_by_role("heading", name="You're offline", level=1)).to_be_visible()
        overflow = screen.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        screenshot(screen, "pwa-offline")
        assert serious_accessibility_violations(screen) == []
    finally:
        screen.context.set_offline(False)


def test_manifest_is_linked_and_fetchable(screen, e2e_server, clinic):
    screen.goto(f"{e2e_server}/clinic")
    href = screen.locator("link[rel=manifest]").get_attribute("href")
    response = screen.request.get(f"{e2e_server}{href}")
    assert response.ok
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    # A business's page links its own manifest (issue 15, item 4): installed from here,
    # the app is the business's.
    assert (manifest["name"], manifest["display"], manifest["scope"]) == (
        "Clinic — book",
        "standalone",
        "/",
    )
    assert manifest["start_url"] == "/clinic"
    for icon in manifest["icons"]:
        assert screen.request.get(f"{e2e_server}{icon['src']}").ok, icon["src"]

    # Chromium's own verdict, once the worker runs (test browsers are always incognito).
    wait_for_control(screen)
    devtools = screen.context.new_cdp_session(screen)
    assert devtools.send("Page.getAppManifest")["errors"] == []
    problems = devtools.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [p["errorId"] for p in problems if p["errorId"] != "in-incognito"] == []


def test_install_offer(screen, e2e_server, clinic):
    screen.goto(f"{e2e_server}/")
    offer = screen.get_by_role("complementary", name="Install the app")
    if screen.device_name.startswith(("iPhone", "iPad")):
        expect(offer).to_contain_text("Add to Home Screen")
        expect(offer.get_by_role("button", name="Install app")).to_be_hidden()
    else:
        # Chrome offers installation by an event; headless Chromium never sends it itself.
        expect(offer).to_be_hidden()
        screen.evaluate("""() => {
          const offered = new Event("beforeinstallprompt", { cancelable: true });
          offered.prompt = () => { window.promptShown = true; };
          offered.userChoice = Promise.resolve({ outcome: "dismissed" });
          window.dispatchEvent(offered);
        }""")
        expect(offer.get_by_role("button", name="Install app")).to_be_visible()
    expect(offer).to_be_visible()
    box = offer.get_by_role("button", name="Not now").bounding_box()
    assert box["height"] >= 44
    screenshot(screen, "pwa-install-offer")
    assert serious_accessibility_violations(screen) == []

    if not screen.device_name.startswith(("iPhone", "iPad")):
        offer.get_by_role("button", name="Install app").click()
        assert screen.evaluate("window.promptShown") is True
        expect(offer).to_be_hidden()
    else:
        offer.get_by_role("button", name="Not now").click()
        expect(offer).to_be_hidden()
        screen.reload()  # the dismissal is remembered
        expect(screen.get_by_role("heading", level=1)).to_be_visible()
        expect(offer).to_be_hidden()


@pytest.fixture
def site(e2e_server, clinic, clock):
    """Casey with a sports massage booked, Ana with nothing booked."""
    booking.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["massage"].id,
        start=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
        now=clock(),
        dispatch=Dispatch(),
    )
    return e2e_server


def saved_pages(page) -> list[str]:
    return page.evaluate(SAVED_PAGES)


def sign_out(page, base: str) -> None:
    """Sign out with the profile page's button (the page script forgets saved pages)."""
    page.goto(f"{base}/account/profile")
    # Nothing from before may still be in flight: a late response could carry the
    # signed-in session cookie back after the sign-out's.
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def hand_over(page, base: str, email: str, then: str) -> None:
    """Someone else signs in on the same phone, with no sign-out and no page in between
    that says nobody is signed in: their session cookie replaces the last one."""
    other = page.context.browser.new_context()
    try:
        sign_in(other.new_page(), base, email, then)
        cookies = other.cookies()
    finally:
        other.close()
    page.context.clear_cookies()
    page.context.add_cookies(cookies)
    page.goto(base + then)


def test_my_appointments_readable_offline_until_sign_out(screen, site):
    sign_in(screen, site, "casey@example.com")
    expect(screen.get_by_text("Sports massage")).to_be_visible()
    wait_for_control(screen)  # the reload loads /appointments through the worker
    screen.wait_for_function(f"({SAVED_PAGES})().then((p) => p.includes('/appointments'))")

    screen.context.set_offline(True)
    screen.goto(f"{site}/appointments")
    expect(screen.get_by_text("Sports massage")).to_be_visible()
    banner = screen.get_by_role("status")
    expect(banner).to_contain_text("You're offline — this is your last saved copy from")
    expect(banner).to_contain_text("It may be out of date")
    screenshot(screen, "pwa-saved-appointments")
    assert serious_accessibility_violations(screen) == []

    screen.goto(f"{site}/somewhere-else")
    expect(screen.get_by_role("heading", name="You're offline", level=1)).to_be_visible()
    expect(screen.get_by_role("link", name="See your appointments as last saved")).to_be_visible()

    screen.context.set_offline(False)
    screen.goto(f"{site}/appointments")
    sign_out(screen, site)
    assert saved_pages(screen) == []
    screen.context.set_offline(True)
    screen.goto(f"{site}/appointments")
    expect(screen.get_by_role("heading", name="You're offline", level=1)).to_be_visible()
    expect(screen.get_by_text("Sports massage")).to_have_count(0)
    screen.context.set_offline(False)


def test_saved_appointments_are_never_shown_to_the_next_person(screen, site):
    sign_in(screen, site, "casey@example.com")
    wait_for_control(screen)
    screen.wait_for_function(f"({SAVED_PAGES})().then((p) => p.length > 0)")

    # Someone else signs in on the same phone (no sign-out form involved) and opens
    # another page: Casey's saved pages go as soon as the server names the new person.
    hand_over(screen, site, "ana@clinic.test", "/clinic")
    screen.wait_for_function(f"({SAVED_PAGES})().then((p) => p.length === 0)")
    screen.context.set_offline(True)
    screen.goto(f"{site}/appointments")
    expect(screen.get_by_role("heading", name="You're offline", level=1)).to_be_visible()
    expect(screen.get_by_text("Sports massage")).to_have_count(0)

    # Ana's own list, once loaded, is what she sees offline.
    screen.context.set_offline(False)
    screen.goto(f"{site}/appointments")
    expect(screen.get_by_text("Nothing booked")).to_be_visible()
    screen.wait_for_function(f"({SAVED_PAGES})().then((p) => p.length > 0)")
    screen.context.set_offline(True)
    screen.goto(f"{site}/appointments")
    expect(screen.get_by_text("Nothing booked")).to_be_visible()
    expect(screen.get_by_text("Sports massage")).to_have_count(0)
    screen.context.set_offline(False)
