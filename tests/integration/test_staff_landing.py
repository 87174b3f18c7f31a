"""Where people land after signing in (services/accounts/landing.py): staff on their
business's schedule for today, customers on their appointments, anybody on the page
they asked for; and the workspace's header, which leads around the business."""

from __future__ import annotations

import pytest

from models import Membership, Organisation
from tests import factories
from tests.integration.test_accounts import link_path, mails, post_sign_in, submit, use_outbox
from tests.integration.webpages import parse


@pytest.fixture
def outbox(app, tmp_path):
    return use_outbox(app, tmp_path)


WHO = {  # the clinic's people by their email, and where each lands
    "ana@clinic.test": "/w/clinic",  # a provider
    "owner@clinic.test": "/w/clinic",
    "casey@example.com": "/appointments",  # a customer
}


@pytest.mark.parametrize("address", WHO)
def test_signing_in_with_a_password_lands_where_the_person_works(client, clinic, address):
    response = post_sign_in(client, address)
    assert response.status_code == 303
    assert response.headers["Location"] == WHO[address]
    assert client.get(WHO[address]).status_code == 200


@pytest.mark.parametrize("address", WHO)
def test_a_page_asked_for_comes_first(client, clinic, address):
    response = post_sign_in(client, address, next="/account/profile")
    assert response.headers["Location"] == "/account/profile"


@pytest.mark.parametrize("address", WHO)
def test_signing_in_with_an_emailed_link_lands_the_same(client, clinic, outbox, address):
    submit(client, "/account/magic", {"email": address})
    link = link_path(mails(outbox)[-1])
    response = submit(client, link, {}, page=link)
    assert response.status_code == 303
    assert response.headers["Location"] == WHO[address]


def test_an_emailed_link_keeps_the_page_asked_for(client, clinic, outbox):
    submit(client, "/account/magic", {"email": "ana@clinic.test", "next": "/appointments"})
    link = link_path(mails(outbox)[-1])
    assert submit(client, link, {}, page=link).headers["Location"] == "/appointments"


def test_a_signed_in_staff_member_visiting_sign_in_goes_to_the_workspace(client, clinic):
    post_sign_in(client, "owner@clinic.test")
    assert client.get("/account/sign-in").headers["Location"] == "/w/clinic"
    assert client.get("/account/sign-in?next=/clinic").headers["Location"] == "/clinic"


def test_staff_of_several_businesses_land_on_the_first_by_name(client, clinic):
    # "Clinic" was made first; "Aardvark Dental" comes first by name.
    dental = Organisation.create(
        slug="zz-dental", name="Aardvark Dental", timezone="Europe/London", currency="GBP"
    )
    Membership.create(user=clinic["ana_user"], organisation=dental, role="owner")
    response = post_sign_in(client, "ana@clinic.test")
    assert response.headers["Location"] == "/w/zz-dental"
    # The customer pages' header leads to the same workspace.
    header = parse(client.get("/appointments")).one("header", class_="top")
    assert header.one("a", href="/w/zz-dental").text == "Schedule"


def test_a_customer_who_becomes_staff_lands_on_the_workspace_next_time(client, clinic):
    casey = clinic["customer"]
    assert post_sign_in(client, "casey@example.com").headers["Location"] == "/appointments"
    factories.make_provider(clinic["org"], "Casey Morgan", user=casey)
    other = client.application.test_client()
    assert post_sign_in(other, "casey@example.com").headers["Location"] == "/w/clinic"


# The header -------------------------------------------------------------------------


def header_links(response) -> dict[str, str]:
    nav = parse(response).one("header", class_="top").one("nav")
    return {a.text: a.attrs["href"] for a in nav.find_all("a")}


@pytest.mark.parametrize("who", ["owner", "ana_user"])
def test_the_workspace_header_leads_around_the_business(signed_in, clinic, who):
    client = signed_in(clinic[who])
    for page in ("/w/clinic", "/w/clinic/dashboard", "/w/clinic/customers"):
        response = client.get(page)
        assert response.status_code == 200
        assert header_links(response) == {
            "Schedule": "/w/clinic",
            "Booking page": "/clinic",
            "Account": "/account/profile",
        }
        nav = parse(response).one("header", class_="top").one("nav")
        assert nav.attrs["aria-label"] == "Clinic"


def test_outside_the_workspace_staff_keep_the_account_header(signed_in, clinic):
    links = header_links(signed_in(clinic["owner"]).get("/account/profile"))
    assert links == {
        "Schedule": "/w/clinic",
        "My appointments": "/appointments",
        "Account": "/account/profile",
    }


@pytest.mark.parametrize("who", ["owner", "customer"])
def test_account_leads_to_my_appointments(signed_in, clinic, who):
    page = parse(signed_in(clinic[who]).get("/account/profile"))
    section = page.one("section", aria_labelledby="appointments-heading")
    assert section.one("a", href="/appointments").text == "My appointments"
