"""A new business's set-up after signing up (views/workspace/setup.py): each step, its
422 keeping what was typed, skipping, resuming; the public listing rule; the invited
provider's hours prompt; the booking page address suggested from the name."""

from __future__ import annotations

from datetime import time

import pytest

from models import Organisation, Provider, Service, ServiceProvider, WeeklyHours
from tests import factories
from tests.integration.test_accounts import PARTIAL, body
from tests.integration.webpages import csrf_token, parse
from tests.integration.workspace import expect

SETUP = "/w/clinic/setup"
OWNER_ONLY = (302, 403, 403, 200, 403)
MATRIX = {
    # (method, route): (anonymous, customer, provider (Ana), owner, owner of another business)
    ("GET", SETUP): (302, 403, 403, 303, 403),
    ("GET", SETUP + "/contact"): OWNER_ONLY,
    ("POST", SETUP + "/contact"): (302, 403, 403, 303, 403),  # nothing sent: kept as it was
    ("GET", SETUP + "/provider"): OWNER_ONLY,
    ("POST", SETUP + "/provider"): (302, 403, 403, 303, 403),  # not seeing customers
    ("GET", SETUP + "/service"): OWNER_ONLY,
    ("POST", SETUP + "/service"): (302, 403, 403, 422, 403),  # no name, length or price
    ("GET", SETUP + "/hours"): OWNER_ONLY,
    # Every day closed would leave Ana's booking outside her hours (the owner sees none).
    ("POST", SETUP + "/hours"): (302, 403, 403, 422, 403),
    ("GET", SETUP + "/share"): OWNER_ONLY,
    ("POST", SETUP + "/done"): (302, 403, 403, 303, 403),
    ("GET", "/w/elsewhere/setup/contact"): (302, 403, 403, 403, 200),
    ("GET", "/w/nowhere/setup/contact"): (302, 404, 404, 404, 404),
}


@pytest.mark.parametrize("key", MATRIX)
def test_access_matrix(signed_in, world, key):
    method, route = key
    expect(signed_in, world, route, MATRIX[key], method=method)


# Helpers ----------------------------------------------------------------------------------


@pytest.fixture
def fresh(app, signed_in):
    """A business just signed up: its owner, signed in, and nothing else."""
    org = factories.make_org("fresh")
    owner = factories.make_owner(org, "founder@fresh.test")
    client = signed_in(owner)
    return {"org": org, "owner": owner, "client": client}


def post(client, path: str, data: dict | None = None, headers=None):
    page = path.split("?")[0].replace("/setup/done", "/setup/share")
    token = csrf_token(client.get(page))
    return client.post(path, data={"csrf_token": token, **(data or {})}, headers=headers)


def where_next(client) -> str:
    response = client.get("/w/fresh/setup")
    assert response.status_code == 303
    return response.headers["Location"]


def org() -> Organisation:
    return Organisation.get(Organisation.slug == "fresh")


WEEK = {
    **{f"{d}-open": "y" for d in ("mon", "tue", "wed", "thu")},
    **{f"{d}-0-start": "09:00" for d in ("mon", "tue", "wed", "thu")},
    **{f"{d}-0-end": "17:00" for d in ("mon", "tue", "wed", "thu")},
    "fri-open": "",
    "sat-open": "",
    "sun-open": "",
}


# The steps --------------------------------------------------------------------------------


def test_the_whole_set_up_step_by_step(fresh):
    client = fresh["client"]
    assert where_next(client) == "/w/fresh/setup/contact"

    page = parse(client.get("/w/fresh/setup/contact"))
    assert page.one("input", id="business_name").attrs["value"] == "Fresh"
    skip = page.one("p", class_="setup-skip").one("a", href="/w/fresh/setup/provider")
    assert skip.text == "Skip this step"
    response = post(
        client,
        "/w/fresh/setup/contact",
        {
            "business_name": "Fresh Physio",
            "address": "1 High St\nBristol",
            "phone": "0117 496 0000",
        },
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/w/fresh/setup/provider")
    saved = org()
    assert (saved.name, saved.address, saved.phone) == (
        "Fresh Physio",
        "1 High St\nBristol",
        "+441174960000",
    )
    assert where_next(client) == "/w/fresh/setup/provider"

    box = parse(client.get("/w/fresh/setup/provider")).one("input", id="sees_customers")
    assert "checked" in box.attrs  # yes, by default: one tap
    response = post(client, "/w/fresh/setup/provider", {"sees_customers": "y"})
    assert response.headers["Location"] == "/w/fresh/setup/service"
    (provider,) = Provider.select().where(Provider.organisation == saved)
    assert (provider.user_id, provider.name) == (fresh["owner"].id, "Olive Owner")
    assert where_next(client) == "/w/fresh/setup/service"

    page = parse(client.get("/w/fresh/setup/service?trade=physio&pick=1"))
    assert page.one("input", id="name").attrs["value"] == "Follow-up"
    assert page.one("input", id="duration").attrs["value"] == "30"
    assert page.one("input", id="price").attrs["value"] == "40"
    assert page.one("label", for_="price").text == "Price (GBP)"
    response = post(
        client,
        "/w/fresh/setup/service?trade=physio",
        {"name": "Initial assessment", "duration": "45", "price": "55"},
    )
    assert response.headers["Location"] == "/w/fresh/setup/hours"
    service = Service.get(Service.organisation == saved)
    assert (service.name, service.duration_minutes, service.price_cents) == (
        "Initial assessment",
        45,
        5500,
    )
    assert service.min_notice_minutes == 120  # the services' own default
    assert [sp.provider_id for sp in ServiceProvider.select()] == [provider.id]
    assert where_next(client) == "/w/fresh/setup/hours"

    page = parse(client.get("/w/fresh/setup/hours"))
    assert "checked" in page.one("input", id="mon-open").attrs
    assert "checked" not in page.one("input", id="sat-open").attrs
    assert page.one("input", id="fri-0-start").attrs["value"] == "09:00"
    assert page.one("input", id="fri-0-end").attrs["value"] == "17:00"
    response = post(client, "/w/fresh/setup/hours", WEEK)
    assert response.headers["Location"] == "/w/fresh/setup/share"
    rows = WeeklyHours.select().where(WeeklyHours.provider == provider)
    assert sorted(r.weekday for r in rows) == [0, 1, 2, 3]
    assert where_next(client) == "/w/fresh/setup/share"

    share = client.get("/w/fresh/setup/share")
    page = parse(share)
    assert page.one("input", id="booking-link").attrs["value"] == "http://127.0.0.1:5000/fresh"
    assert page.one("button", data_copy="booking-link")
    assert page.one("svg", role="img")  # the QR code, made on the server
    assert "You are ready to take bookings" in page.text
    assert org().setup_done_at is None
    dashboard = parse(client.get("/w/fresh/dashboard"))
    assert dashboard.one("section", class_="db-resume").one("a").attrs["href"] == "/w/fresh/setup"

    response = post(client, "/w/fresh/setup/done")
    assert response.headers["Location"] == "/w/fresh/dashboard"
    assert org().setup_done_at is not None
    assert parse(client.get("/w/fresh/dashboard")).find("section", class_="db-resume") is None


def test_bad_contact_details_are_refused_keeping_what_was_typed(fresh):
    typed = {"business_name": "Fresh Physio", "address": "1 High St", "phone": "12"}
    response = post(fresh["client"], "/w/fresh/setup/contact", typed)
    assert response.status_code == 422
    page = parse(response)
    assert "Enter a valid phone number" in page.one("div", class_="has-error").text
    assert page.one("input", id="business_name").attrs["value"] == "Fresh Physio"
    assert page.one("input", id="phone").attrs["value"] == "12"
    assert page.one("textarea", id="address").text == "1 High St"
    assert (org().name, org().address) == ("Fresh", "")


def test_htmx_gets_the_form_with_its_problems_in_place(fresh):
    response = post(fresh["client"], "/w/fresh/setup/contact", {"business_name": " "}, PARTIAL)
    assert response.status_code == 422
    assert body(response).lstrip().startswith("<form")
    assert "Enter your business's name." in body(response)


def test_a_bad_service_is_refused_keeping_what_was_typed(fresh):
    post(fresh["client"], "/w/fresh/setup/provider", {"sees_customers": "y"})
    typed = {"name": "Cut & finish", "duration": "47", "price": "forty"}
    response = post(fresh["client"], "/w/fresh/setup/service?trade=hair", typed)
    assert response.status_code == 422
    page = parse(response)
    assert page.one("input", id="name").attrs["value"] == "Cut & finish"
    assert page.one("input", id="duration").attrs["value"] == "47"
    assert page.one("input", id="price").attrs["value"] == "forty"
    assert "Use a multiple of 5 minutes" in page.text
    assert Service.select().count() == 0


def test_a_service_needs_somebody_to_offer_it(fresh):
    response = post(fresh["client"], "/w/fresh/setup/provider", {})  # "I see customers" off
    assert response.headers["Location"] == "/w/fresh/setup/service"
    assert Provider.select().count() == 0
    response = post(
        fresh["client"], "/w/fresh/setup/service", {"name": "Chat", "duration": "30", "price": "0"}
    )
    assert response.status_code == 422
    assert "add yourself as a provider first" in parse(response).text
    assert Service.select().count() == 0
    # The hours step has nobody to set hours for: it says so, and can be skipped.
    page = parse(fresh["client"].get("/w/fresh/setup/hours"))
    assert "Nobody sees customers yet" in page.text
    assert page.find("form", id="hours-form") is None
    assert page.one("p", class_="setup-skip").one("a").attrs["href"] == "/w/fresh/setup/share"


def test_bad_hours_are_refused_keeping_what_was_typed(fresh):
    post(fresh["client"], "/w/fresh/setup/provider", {"sees_customers": "y"})
    response = post(fresh["client"], "/w/fresh/setup/hours", WEEK | {"tue-0-end": "08:00"})
    assert response.status_code == 422
    page = parse(response)
    assert page.one("input", id="tue-0-end").attrs["value"] == "08:00"
    assert "The end must be after the start." in page.text
    assert WeeklyHours.select().count() == 0


def test_the_hours_form_adds_a_break_without_saving(fresh):
    post(fresh["client"], "/w/fresh/setup/provider", {"sees_customers": "y"})
    response = post(fresh["client"], "/w/fresh/setup/hours", WEEK | {"edit": "add-mon"})
    assert response.status_code == 200
    page = parse(response)
    assert page.one("input", id="mon-0-end").attrs["value"] == "13:00"
    assert page.one("input", id="mon-1-start").attrs["value"] == "14:00"
    assert WeeklyHours.select().count() == 0


def test_every_step_can_be_skipped_and_resumed(fresh):
    client = fresh["client"]
    links = {}
    for step, following in [
        ("contact", "provider"),
        ("provider", "service"),
        ("service", "hours"),
        ("hours", "share"),
    ]:
        page = parse(client.get(f"/w/fresh/setup/{step}"))
        links[step] = page.one("p", class_="setup-skip").one("a").attrs["href"]
        assert links[step] == f"/w/fresh/setup/{following}"
    assert parse(client.get("/w/fresh/setup/share")).find("p", class_="setup-skip") is None
    # Nothing done: it starts again at the beginning, until the owner says done.
    assert where_next(client) == "/w/fresh/setup/contact"
    card = parse(client.get("/w/fresh/dashboard")).one("section", class_="db-resume")
    assert "Continue setting up" in card.text


def test_businesses_from_before_count_as_set_up(world, signed_in):
    """Migration 0021 marks the businesses there were as set up; the clinic (made by the
    tests' factories) is marked here as the migration would."""
    Organisation.update(setup_done_at=Organisation.created_at).execute()
    page = parse(signed_in(world["owner"]).get("/w/clinic/dashboard"))
    assert page.find("section", class_="db-resume") is None


# Who is listed, and a business still setting up ----------------------------------------------


def test_only_businesses_taking_bookings_are_listed(app, client):
    ready = factories.make_org("ready")
    factories.make_service(ready, [factories.make_provider(ready)], "Cut", 30)
    also = factories.make_org("also-ready")
    factories.make_service(also, [factories.make_provider(also)], "Colour", 90)
    factories.make_org("empty")  # no service
    nobody = factories.make_org("nobody")
    factories.make_service(nobody, [], "Alone", 30)  # a service nobody offers
    gone = factories.make_org("gone")
    left = factories.make_provider(gone)
    factories.make_service(gone, [left], "Old", 30)
    Provider.update(active=False).where(Provider.id == left.id).execute()
    archived = factories.make_org("archived")
    factories.make_service(archived, [factories.make_provider(archived)], "Was", 30, active=False)

    page = parse(client.get("/"))
    listed = [a.attrs["href"] for a in page.one("ul", class_="list").find_all("a")]
    assert listed == ["/also-ready", "/ready"]  # by name
    entry = page.one("section", class_="home-business").one("a", href="/business/sign-up")
    assert entry.text == "Create your business"

    Service.update(active=False).where(Service.organisation == also).execute()
    response = client.get("/")  # only one left: straight to its booking page
    assert (response.status_code, response.headers["Location"]) == (302, "/ready")


def test_a_business_setting_up_says_it_takes_no_bookings_yet(app, client):
    factories.make_org("empty")
    page = parse(client.get("/empty"))
    assert "Empty is not taking bookings online yet." in page.text
    assert "Book online." not in page.text


def test_the_home_page_and_footer_invite_businesses(app, client, signed_in, world):
    page = parse(client.get("/privacy"))
    assert page.one("footer").one("a", href="/business/sign-up").text == "Create your business"
    signed = parse(signed_in(world["customer"]).get("/privacy"))
    assert signed.one("footer").find("a", href="/business/sign-up") is None


# An invited provider with no hours -----------------------------------------------------------


def test_a_provider_with_no_hours_is_asked_for_them(signed_in, world, clinic):
    nia = factories.make_user("nia@clinic.test", "Nia New")
    factories.make_provider(clinic["org"], "Nia New", user=nia, weekdays=[])
    page = parse(signed_in(nia).get("/w/clinic/dashboard"))
    card = page.one("section", class_="db-start")
    assert card.one("h2").text == "Set your working hours"
    assert card.one("a", class_="button").attrs["href"] == "/w/clinic/availability"
    # Ana has hours in this business under way: no card for her.
    page = parse(signed_in(world["provider"]).get("/w/clinic/dashboard"))
    assert page.find("section", class_="db-start") is None
    # Once Nia has hours, neither for her.
    WeeklyHours.create(
        provider=Provider.get(Provider.user == nia.id),
        weekday=0,
        start_time=time(9),
        end_time=time(12),
    )
    assert (
        parse(signed_in(nia).get("/w/clinic/dashboard")).find("section", class_="db-start") is None
    )


# The booking page's address, suggested from the name ---------------------------------------------


def suggested(client, name: str) -> str:
    response = client.get("/business/sign-up/address", query_string={"business_name": name})
    assert response.status_code == 200
    return response.get_json()["slug"]


def test_the_address_is_suggested_from_the_name_and_is_free(app, client):
    assert suggested(client, "City  Physio") == "city-physio"
    assert suggested(client, "Café Zoë & Co.") == "cafe-zoe-co"
    assert suggested(client, "Admin") == "admin-2"  # reserved for the site
    assert suggested(client, "Jo") == "jo-bookings"  # three characters at least
    assert suggested(client, "!!!") == ""
    assert len(suggested(client, "A" * 80)) == 40
    factories.make_org("city-physio")
    assert suggested(client, "City Physio") == "city-physio-2"
    factories.make_org("city-physio-2")
    factories.make_org("city-physio-centre")  # someone else's longer name is no matter
    assert suggested(client, "City Physio") == "city-physio-3"
    factories.make_org("a" * 40)
    assert suggested(client, "A" * 80) == "a" * 38 + "-2"


def test_a_blank_address_is_made_from_the_name(app, client):
    from models import PendingSignUp
    from tests.integration.test_accounts import submit
    from tests.integration.test_business_signup import GOOD

    factories.make_org("city-physio")
    response = submit(client, "/business/sign-up", GOOD | {"slug": ""})
    assert response.status_code == 303
    (pending,) = PendingSignUp.select()
    assert '"slug": "city-physio-2"' in pending.details


def test_who_joins_with_no_hours_lands_where_they_are_asked_for_them(world, clinic):
    from services.workspace.invitations import needs_hours

    nia = factories.make_user("nia@clinic.test", "Nia New")
    factories.make_provider(clinic["org"], "Nia New", user=nia, weekdays=[])
    assert needs_hours(clinic["org"], nia.id)
    assert not needs_hours(clinic["org"], clinic["ana_user"].id)  # has hours: the schedule
    assert not needs_hours(clinic["org"], clinic["owner"].id)  # sees no customers


def test_steps_already_done_say_so(fresh):
    client = fresh["client"]
    post(client, "/w/fresh/setup/provider", {"sees_customers": "y"})
    page = parse(client.get("/w/fresh/setup/provider"))
    assert "You see customers: you are on your booking page as Olive Owner." in page.text
    assert page.find("input", id="sees_customers") is None
    assert post(client, "/w/fresh/setup/provider", {"sees_customers": "y"}).status_code == 303
    assert Provider.select().count() == 1  # not twice

    post(client, "/w/fresh/setup/service", {"name": "Colour", "duration": "90", "price": "85"})
    page = parse(client.get("/w/fresh/setup/service"))
    assert "You already offer Colour." in page.text
    response = post(client, "/w/fresh/setup/service", {"name": "colour", "duration": "90"})
    assert response.status_code == 422  # the services' own rules: one "Colour" is enough
    assert "You already offer a service called “Colour”." in parse(response).text


@pytest.mark.parametrize(
    "query", ["?trade=hair&pick=9", "?trade=plumbing", "?trade=hair&pick=-1", "?pick=x"]
)
def test_odd_template_choices_show_the_form(fresh, query):
    response = fresh["client"].get("/w/fresh/setup/service" + query)
    assert response.status_code == 200
    name = parse(response).one("input", id="name").attrs.get("value", "")
    assert name in ("", "Cut & finish")


def test_an_impossible_edit_of_the_hours_is_refused(fresh):
    post(fresh["client"], "/w/fresh/setup/provider", {"sees_customers": "y"})
    response = post(fresh["client"], "/w/fresh/setup/hours", WEEK | {"edit": "remove-mon"})
    assert response.status_code == 422
    assert "That change is not possible here." in parse(response).text
    assert parse(response).one("input", id="mon-0-start").attrs["value"] == "09:00"  # kept
