"""A business's identity on its own pages (issue 15, item 4): its name and logo head its
booking journey, its emails, its install card and its manifest; Kairos is a footer line.
And the way back to booking on a phone (item 5): the bottom navigation's "Book" and
"Book again" on past appointments.

The clock stands at Wed 25 Nov 2026, 12:00 in London (GMT); see tests/conftest.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from models import Organisation, ServiceProvider
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.integration.test_notifications import channels, deliver_all, sent_mail
from tests.integration.test_ws_settings import GOOD, png, submit
from tests.integration.webpages import parse

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
LAST_WEEK = datetime(2026, 11, 20, 12, tzinfo=UTC)
MON_23_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)  # past by now
MON_30_9 = datetime(2026, 11, 30, 9, tzinfo=UTC)  # ahead
__all__ = ["channels"]  # a fixture of the notification tests, used here too


def book(clinic, start, *, service="follow_up", provider="ana", now=NOW):
    return bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic[service].id,
        start=start,
        provider_id=clinic[provider].id,
        now=now,
        dispatch=Dispatch(),
    )


def header(page):
    return page.one("header", class_="top")


def bottom_nav(page):
    return page.one("nav", class_="bottom-nav")


# --- the header, footer, install card and manifest link --------------------------------


def journey_pages(clinic) -> list[str]:
    follow_up = clinic["follow_up"].id
    ana = clinic["ana"].id
    return [
        "/clinic",
        f"/clinic/book/{follow_up}",
        f"/clinic/book/{follow_up}/when?provider={ana}",
        f"/clinic/book/{follow_up}/review?provider={ana}&start=2026-11-30T09:00:00Z",
    ]


def test_the_business_heads_every_page_of_its_booking_journey(client, clinic, signed_in):
    signed_in(clinic["customer"], client)
    made = book(clinic, MON_30_9)
    pages = [
        *journey_pages(clinic),
        f"/appointments/{made.id}/confirmed",
        f"/appointments/{made.id}",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        page = parse(response)
        brand = header(page).one("a", class_="brand")
        assert brand.text == "Clinic", path
        assert brand.attrs["href"] == "/clinic"
        assert "Kairos" not in header(page).text
        assert page.one("p", class_="booked-with").text == "Booked with Kairos"
        manifest = page.one("link", rel="manifest")
        assert manifest.attrs["href"] == "/clinic/manifest.webmanifest", path
        apple = page.one("meta", name="apple-mobile-web-app-title")
        assert apple.attrs["content"] == "Clinic"
        install = page.one("p", data_pwa_install_text="")
        assert install.text.startswith("Add Clinic to your home screen")


def test_kairos_pages_and_the_workspace_keep_the_kairos_header(client, world, signed_in):
    owner = signed_in(world["owner"])
    for who, path in ((client, "/account/sign-in"), (owner, "/w/clinic?date=2026-11-25")):
        page = parse(who.get(path))
        assert header(page).one("a", class_="brand").text == "Kairos"
        assert page.find("p", class_="booked-with") is None
        assert page.one("link", rel="manifest").attrs["href"] == "/manifest.webmanifest"


def test_the_logo_heads_the_pages_at_its_versioned_address(client, clinic, world, signed_in):
    image = png(400, 100)
    assert submit(signed_in(world["owner"]), GOOD, logo=(image, "logo.png")).status_code == 303
    org = Organisation.get(Organisation.slug == "clinic")
    assert (org.logo_width, org.logo_height) == (400, 100)
    page = parse(client.get(f"/clinic/book/{clinic['follow_up'].id}"))
    img = header(page).one("a", class_="brand").one("img")
    assert img.attrs["src"] == f"/clinic/logo?v={org.logo_version}"
    assert (img.attrs["width"], img.attrs["height"]) == ("160", "40")  # fitted, not stretched
    assert img.attrs["alt"] == ""  # the name beside it says who
    served = client.get(img.attrs["src"])
    assert served.data == image
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=31536000" in served.headers["Cache-Control"]
    assert "immutable" in served.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("size", "status"), [(256 * 1024, 303), (256 * 1024 + 1, 422)], ids=["256KB", "over"]
)
def test_a_logo_may_be_256_kb_and_no_more(signed_in, world, size, status):
    image = png(40, 20)
    image += b"\x00" * (size - len(image))  # trailing bytes after IEND: still a PNG
    response = submit(signed_in(world["owner"]), GOOD, logo=(image, "logo.png"))
    assert response.status_code == status
    if status == 422:
        assert "use an image of at most 256 KB" in response.get_data(as_text=True)
        assert Organisation.get(Organisation.slug == "clinic").logo is None


def test_removing_the_logo_forgets_its_version_and_size(signed_in, world):
    factories.give_logo("clinic", png(50, 50))
    assert submit(signed_in(world["owner"]), GOOD | {"remove_logo": "y"}).status_code == 303
    org = Organisation.get(Organisation.slug == "clinic")
    assert (org.logo, org.logo_version, org.logo_width, org.logo_height) == (None,) * 4


# --- the per-business manifest ---------------------------------------------------------


def manifest_of(client, slug: str = "clinic") -> dict:
    response = client.get(f"/{slug}/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    assert response.headers["Cache-Control"] == "no-cache"  # a new name or logo shows at once
    assert "Set-Cookie" not in response.headers
    etag = response.headers["ETag"]
    assert (
        client.get(f"/{slug}/manifest.webmanifest", headers={"If-None-Match": etag}).status_code
        == 304
    )
    return json.loads(response.data)


def test_a_business_manifest_names_the_business_and_opens_on_its_page(client, clinic):
    shown = manifest_of(client)
    assert shown["name"] == "Clinic — book"
    assert shown["short_name"] == "Clinic"
    assert (shown["id"], shown["start_url"], shown["scope"]) == ("/clinic", "/clinic", "/")
    assert [icon["src"] for icon in shown["icons"]] == [
        "/static/icons/icon-192.png",
        "/static/icons/icon-512.png",
        "/static/icons/maskable-192.png",
        "/static/icons/maskable-512.png",
    ]
    assert shown["display"] == "standalone"
    # The site's own manifest is still Kairos.
    assert json.loads(client.get("/manifest.webmanifest").data)["name"] == "Kairos"
    assert client.get("/nowhere/manifest.webmanifest").status_code == 404


def test_a_business_manifest_uses_its_logo_and_a_short_name(client, clinic):
    Organisation.update(name="Riverside Physiotherapy").where(
        Organisation.slug == "clinic"
    ).execute()
    factories.give_logo("clinic", png(512, 512))
    org = Organisation.get(Organisation.slug == "clinic")
    shown = manifest_of(client)
    assert shown["name"] == "Riverside Physiotherapy — book"
    assert len(shown["short_name"]) <= 12
    assert shown["icons"] == [
        {
            "src": f"/clinic/logo?v={org.logo_version}",
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "any",
        }
    ]


# --- emails ----------------------------------------------------------------------------


def test_booking_emails_are_headed_by_the_business_and_its_logo(app, clinic, clock, channels):
    factories.give_logo("clinic", png(300, 100))
    org = Organisation.get(Organisation.slug == "clinic")
    book(clinic, MON_30_9, now=clock())
    assert set(deliver_all(channels, clock()).values()) == {"sent"}
    to_customer = sent_mail(channels)[0]
    html = to_customer.get_body(("html",)).get_content()
    body = parse(html)
    head = body.find_all("p")[0]  # the first thing in the email
    assert head.text == "Clinic"
    logo = head.one("img")
    assert logo.attrs["src"] == f"https://kairos.example/clinic/logo?v={org.logo_version}"
    assert (logo.attrs["width"], logo.attrs["height"]) == ("168", "56")
    assert ">Kairos<" not in html  # no Kairos heading
    assert "Booked with Kairos." in html  # a line at the foot


# --- the bottom navigation's "Book" ----------------------------------------------------


def book_link(client) -> str:
    return bottom_nav(parse(client.get("/privacy"))).find_all("a")[0].attrs["href"]


def test_book_leads_home_until_a_business_is_known(client, clinic):
    assert book_link(client) == "/"
    client.get("/clinic")
    assert book_link(client) == "/clinic"


def test_book_leads_to_the_business_last_booked_with(client, clinic, world, signed_in):
    book(clinic, MON_30_9)
    signed_in(clinic["customer"], client)
    assert book_link(client) == "/clinic"
    bookings.book(
        customer_id=clinic["customer"].id,
        service_id=world["other service"],
        start=MON_30_9,
        provider_id=world["other provider"],
        now=NOW,
        dispatch=Dispatch(),
    )
    assert book_link(signed_in(clinic["customer"])) == "/elsewhere"  # a new session


def test_the_bottom_nav_marks_where_you_are_and_is_not_in_the_workspace(client, world, signed_in):
    customer = signed_in(world["customer"])
    nav = bottom_nav(parse(customer.get("/appointments")))
    links = [(a.text, a.attrs.get("aria-current")) for a in nav.find_all("a")]
    assert links == [("Book", None), ("My appointments", "page"), ("Account", None)]
    nav = bottom_nav(parse(customer.get("/clinic")))
    assert nav.find_all("a")[0].attrs.get("aria-current") == "page"
    owner = signed_in(world["owner"])
    assert parse(owner.get("/w/clinic?date=2026-11-25")).find("nav", class_="bottom-nav") is None


# --- "Book again" ----------------------------------------------------------------------


def again_links(client, booking) -> tuple[str, str]:
    """Where "Book again" leads from the list's card and from the booking's page."""
    listed = parse(client.get("/appointments"))
    (card,) = listed.find_all("a", class_="appt-again")
    page = parse(client.get(f"/appointments/{booking.id}"))
    (button,) = [a for a in page.find_all("a") if a.text == "Book again"]
    return card.attrs["href"], button.attrs["href"]


def test_book_again_goes_to_the_time_picker_for_the_same_service_and_provider(
    client, clinic, signed_in
):
    signed_in(clinic["customer"], client)
    book(clinic, MON_30_9)  # upcoming: no "Book again"
    past = book(clinic, MON_23_10, provider="tom", now=LAST_WEEK)
    when = f"/clinic/book/{clinic['follow_up'].id}/when?provider={clinic['tom'].id}"
    assert again_links(client, past) == (when, when)
    assert client.get(when).status_code == 200


def test_book_again_goes_to_the_business_when_the_pair_is_no_longer_offered(
    client, clinic, signed_in
):
    signed_in(clinic["customer"], client)
    past = book(clinic, MON_23_10, provider="tom", now=LAST_WEEK)
    ServiceProvider.delete().where(ServiceProvider.provider == clinic["tom"].id).execute()
    assert again_links(client, past) == ("/clinic", "/clinic")
