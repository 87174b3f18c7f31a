"""Time zones as people say them (issue 15, item 7): "London time (GMT)" on the pages
customers and staff read, and a list of places by offset ("London — GMT+0:00") where a
business picks its zone, in the workspace settings and when it signs up."""

from __future__ import annotations

from datetime import UTC, datetime

from models import Organisation
from tests.integration.test_accounts import body
from tests.integration.test_accounts import submit as submit_to
from tests.integration.test_business_signup import GOOD as SIGN_UP
from tests.integration.test_journey import review_url, when_url
from tests.integration.test_ws_settings import GOOD, PATH, submit
from tests.integration.test_ws_staff import make_invitation
from tests.integration.webpages import parse

MINUS = "\u2212"


def options(page, name: str = "timezone") -> list[tuple[str, str]]:
    return [(o.attrs["value"], o.text) for o in page.one("select", name=name).find_all("option")]


def chosen(page) -> list[str]:
    return [
        o.attrs["value"]
        for o in page.one("select", name="timezone").find_all("option", selected="")
    ]


# Where a business picks its zone ------------------------------------------------------


def test_settings_lists_places_by_offset_with_a_search_box_for_javascript(signed_in, world):
    page = parse(signed_in(world["owner"]).get(PATH))

    listed = options(page)
    labels = [label for _, label in listed]
    zones = [zone for zone, _ in listed]
    assert ("Europe/London", "London — GMT+0:00") in listed
    assert ("America/New_York", f"New York — GMT{MINUS}5:00") in listed
    assert ("Asia/Kolkata", "Kolkata — GMT+5:30") in listed
    assert ("Australia/Lord_Howe", "Lord Howe — GMT+11:00") in listed  # its summer
    assert labels[0].endswith(f"GMT{MINUS}11:00")
    assert labels[-1].endswith("GMT+14:00")
    assert zones.index("America/New_York") < zones.index("Europe/London")
    assert zones.index("Europe/London") < zones.index("Asia/Kolkata")
    assert not {"US/Eastern", "GB", "Etc/GMT+5", "Asia/Calcutta"} & set(zones)
    assert 350 < len(zones) < 450  # not 600 identifiers
    assert chosen(page) == ["Europe/London"]
    assert not page.find_all("optgroup")
    # The search box is there for JavaScript to show; without it, the select alone.
    search = page.one("div", class_="zone-search")
    assert "hidden" in search.attrs
    assert search.one("input", type="search").attrs["aria-controls"] == "timezone"
    assert page.one("script", src="/static/js/zones.js") is not None
    kolkata = page.one("option", value="Asia/Kolkata")
    assert "india" in kolkata.attrs["data-search"]


def test_a_legacy_zone_the_business_has_stays_listed_and_can_be_kept(signed_in, world):
    Organisation.update(timezone="US/Eastern").where(Organisation.slug == "clinic").execute()
    owner = signed_in(world["owner"])

    page = parse(owner.get(PATH))
    assert chosen(page) == ["US/Eastern"]
    assert page.one("option", value="US/Eastern").text == f"Eastern — GMT{MINUS}5:00"

    assert submit(owner, GOOD | {"timezone": "US/Eastern"}).status_code == 303
    assert Organisation.get(slug="clinic").timezone == "US/Eastern"
    assert submit(owner, GOOD | {"timezone": "America/New_York"}).status_code == 303
    assert Organisation.get(slug="clinic").timezone == "America/New_York"
    assert "US/Eastern" not in dict(options(parse(owner.get(PATH))))  # gone once left


def test_a_zone_not_in_the_list_is_a_422_that_keeps_what_was_sent(signed_in, world):
    owner = signed_in(world["owner"])

    for sent in ("US/Eastern", "Mars/Olympus_Mons"):
        response = submit(owner, GOOD | {"timezone": sent})
        assert response.status_code == 422
        page = parse(response)
        assert page.one("p", id="timezone-error").text == "Error: Choose a time zone from the list."
        assert chosen(page) == [sent]  # shown as sent, not silently another zone
        assert page.one("input", name="business_name").attrs["value"] == "Clinic  North"
        assert Organisation.get(slug="clinic").timezone == "Europe/London"


def test_sign_up_lists_the_same_places_and_refuses_a_legacy_zone(client, app):
    page = parse(client.get("/business/sign-up"))
    assert ("Europe/London", "London — GMT+0:00") in options(page)
    assert chosen(page) == ["Europe/London"]
    assert page.one("script", src="/static/js/zones.js") is not None

    response = submit_to(client, "/business/sign-up", SIGN_UP | {"timezone": "GB"})
    assert response.status_code == 422
    page = parse(response)
    assert page.one("p", id="timezone-error").text == "Error: Choose a time zone from the list."
    assert chosen(page) == ["GB"]
    assert page.one("input", name="slug").attrs["value"] == "city-physio"


# Where customers read it ----------------------------------------------------------------


def test_customers_read_the_zone_as_a_place_and_its_abbreviation(client, clinic):
    service = clinic["assessment"]

    assert "Times are London time (GMT)." in body(client.get("/clinic"))

    picker = parse(client.get(when_url(service, month="2026-11", day="2026-11-30")))
    note = picker.one("p", class_="tz-note")
    assert note.text == "Times are London time (GMT)."
    assert note.attrs["data-org-tz"] == "Europe/London"

    summer = parse(client.get(review_url(service, datetime(2027, 4, 6, 8, tzinfo=UTC))))
    when = summer.one("dl", class_="facts").find_all("dd")[1]
    assert when.text == "Tue 6 Apr, 09:00–10:00 London time (BST)"


def test_staff_read_it_too(signed_in, world):
    page = body(signed_in(world["owner"]).get("/w/clinic?date=2026-11-30"))
    assert "Times are London time (GMT)." in page
    summer = body(signed_in(world["owner"]).get("/w/clinic?date=2027-07-05"))
    assert "Times are London time (BST)." in summer


def test_an_invitation_says_until_when_in_the_businesss_time(client, world, clinic, clock):
    make_invitation(clinic["org"], "fresh@example.com", "fresh-token", clock())
    page = body(client.get("/w/clinic/join/fresh-token"))
    assert "works once, until Wed 2 Dec at 12:00 London time (GMT)." in page
