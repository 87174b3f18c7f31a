"""The public pages render on phones and tablets, with the app's data."""

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot


def test_organisation_page_lists_services(screen, e2e_server, clinic):
    screen.goto(f"{e2e_server}/clinic")
    expect(screen.get_by_role("heading", name="Clinic", level=1)).to_be_visible()
    expect(screen.get_by_text("Initial assessment")).to_be_visible()
    expect(screen.get_by_text("Sports massage")).to_be_visible()
    massage = screen.get_by_role("link", name="Sports massage")
    expect(massage).to_contain_text("£55")
    expect(massage).to_contain_text("45 min")
    expect(massage).to_have_attribute("href", "/clinic/book/3")
    # Nothing wider than the screen: no sideways scrolling on a phone.
    overflow = screen.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(screen, "organisation")


def test_unknown_page_is_a_styled_404(screen, e2e_server, clinic):
    response = screen.goto(f"{e2e_server}/no-such-place")
    assert response.status == 404
    expect(screen.get_by_role("heading", name="We couldn't find that page")).to_be_visible()
