"""A new business signs up: its organisation, its owner's account and membership."""

from __future__ import annotations

import re

import pytest

from models import Membership, Organisation, User
from tests import factories
from tests.integration.test_accounts import (
    PARTIAL,
    body,
    csrf_token,
    enter_code,
    link_path,
    mails,
    signed_in_user_id,
    submit,
    text_part,
    use_outbox,
)

PATH = "/business/sign-up"
GOOD = {
    "business_name": "City  Physio",
    "slug": "city-physio",
    "timezone": "America/New_York",
    "currency": "USD",
    "name": "Robin Hale",
    "email": "Robin@Example.COM",
    "password": "long enough pw",
    "phone": "",
}


@pytest.fixture
def outbox(app, tmp_path):
    return use_outbox(app, tmp_path)


def sign_up(client, outbox, data: dict, headers=None):
    """Fill in the form, then enter the code emailed to the owner: the code's answer."""
    asked = submit(client, PATH, data, headers=headers)
    assert (asked.headers.get("Location") or asked.headers["HX-Redirect"]) == CODE_PAGE
    return enter_code(client, outbox, data["email"].lower(), headers=headers)


CODE_PAGE = "/account/sign-up/code"


def _nothing_created() -> None:
    assert Organisation.select().count() == 0
    assert User.select().count() == 0
    assert Membership.select().count() == 0


def test_the_form_offers_named_time_zones_in_order_of_offset_and_the_currencies(client, app):
    # Issue 15 item 7: places and offsets ("London — GMT+0:00"), west to east, instead of
    # "Common time zones" then 600 identifiers in alphabetical order.
    page = body(client.get(PATH))
    assert "kairos/<slug>" in page
    los_angeles = page.index('value="America/Los_Angeles"')
    assert los_angeles < page.index('value="Europe/London"') < page.index('value="Asia/Kolkata"')
    assert '<option data-search="europe/london london britain (uk) gmt gmt+0:00" selected' in page
    assert ">London — GMT+0:00</option>" in page
    for code in ("GBP", "EUR", "USD", "DKK"):
        assert f'value="{code}"' in page


def test_sign_up_creates_organisation_owner_and_membership_and_signs_in(client, app, outbox):
    asked = submit(client, PATH, GOOD | {"phone": "07911 123456"})
    assert asked.headers["Location"] == CODE_PAGE
    _nothing_created()  # not until the code comes back
    assert "finish signing up your business" in body(client.get(CODE_PAGE))
    (message,) = mails(outbox)
    assert "finish signing up your business" in " ".join(text_part(message).split())
    response = enter_code(client, outbox, "robin@example.com")
    assert response.status_code == 303
    assert response.headers["Location"] == "/w/city-physio/setup"
    org = Organisation.get(Organisation.slug == "city-physio")
    assert (org.name, org.timezone, org.currency) == ("City Physio", "America/New_York", "USD")
    owner = User.get(User.email == "robin@example.com")
    assert (owner.name, owner.phone) == ("Robin Hale", "+447911123456")
    assert owner.password_hash.startswith("$argon2id$")
    (membership,) = Membership.select()
    assert (membership.user_id, membership.organisation_id, membership.role) == (
        owner.id,
        org.id,
        "owner",
    )
    assert signed_in_user_id(client) == str(owner.id)


def test_htmx_sign_up_redirects_the_whole_page(client, app, outbox):
    response = sign_up(client, outbox, GOOD, headers=PARTIAL)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/w/city-physio/setup"


def test_sign_in_starts_a_new_session(client, app, outbox):
    with client.session_transaction() as session:
        session["left_over"] = "from before"
    assert sign_up(client, outbox, GOOD).status_code == 303
    with client.session_transaction() as session:
        assert "left_over" not in session


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("business_name", "  ", "Enter your business's name."),
        ("slug", "City Physio!", "Use 3–40 lowercase letters, digits and hyphens"),
        ("slug", "ab", "Use 3–40 lowercase letters, digits and hyphens"),
        ("slug", "-physio", "Use 3–40 lowercase letters, digits and hyphens"),
        ("slug", "x" * 41, "Use 3–40 lowercase letters, digits and hyphens"),
        ("slug", "workspace", "“workspace” is reserved. Try another."),
        ("slug", "api", "“api” is reserved. Try another."),
        ("slug", "sw.js", "“sw.js” is reserved. Try another."),
        ("timezone", "Mars/Olympus_Mons", "Choose a time zone from the list."),
        ("timezone", "localtime", "Choose a time zone from the list."),  # the server's
        ("timezone", "Factory", "Choose a time zone from the list."),  # no zone at all
        ("currency", "XYZ", "Choose a currency from the list."),
        ("currency", "", "Choose a currency from the list."),
        ("name", "", "Enter your name."),
        ("email", "robin@", "Enter a valid email address."),
        ("password", "too short", "Use at least 10 characters."),
        ("phone", "12", "Enter a valid phone number"),
    ],
)
def test_bad_input_shows_the_problem_and_keeps_what_was_typed(client, app, field, value, message):
    response = submit(client, PATH, GOOD | {field: value})
    assert response.status_code == 422
    page = body(response)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert 'value="City  Physio"' in page or field == "business_name"
    if field not in ("email", "password"):
        assert 'value="Robin@Example.COM"' in page
    assert "long enough pw" not in page  # never the password
    assert "too short" not in page
    _nothing_created()


def test_every_problem_is_reported_at_once(client, app):
    bad = GOOD | {"slug": "admin", "currency": "XYZ", "password": "short"}
    page = body(submit(client, PATH, bad))
    for message in ("is reserved", "Choose a currency", "Use at least 10 characters."):
        assert message in page
    assert re.search(r'<option [^>]*selected value="America/New_York">', page)
    _nothing_created()


def test_htmx_gets_just_the_form_with_the_errors(client, app):
    response = submit(client, PATH, GOOD | {"slug": "a"}, headers=PARTIAL)
    assert response.status_code == 422
    page = body(response)
    assert page.lstrip().startswith("<form")
    assert "<html" not in page
    assert "Use 3–40 lowercase letters" in page


def test_a_slug_already_taken_is_refused(client, app):
    factories.make_org("city-physio")
    response = submit(client, PATH, GOOD)
    assert response.status_code == 422
    assert "Another business already uses this address." in body(response)
    assert Organisation.select().count() == 1
    assert User.select().count() == 0


def test_the_slug_is_compared_in_lower_case(client, app):
    factories.make_org("city-physio")
    response = submit(client, PATH, GOOD | {"slug": " City-Physio "})
    assert response.status_code == 422
    assert "Another business already uses this address." in body(response)


def test_an_email_with_an_account_is_asked_for_a_code_and_its_holder_gets_a_notice(
    client, app, outbox
):
    factories.make_user("robin@example.com", "Robin Hale")
    response = submit(client, PATH, GOOD | {"business_name": "Spam & Co"})
    assert response.status_code == 303
    assert response.headers["Location"] == CODE_PAGE  # as for an address with no account
    assert Organisation.select().count() == 0
    assert Membership.select().count() == 0
    assert signed_in_user_id(client) is None
    (message,) = mails(outbox)
    assert message["To"] == "robin@example.com"
    assert message["Subject"] == "You already have a Kairos account"
    assert "no business was created" in " ".join(text_part(message).split())
    assert "Spam" not in text_part(message)
    assert link_path(message).startswith("/account/magic/")


def test_a_taken_slug_is_said_but_not_a_taken_email(client, app, outbox):
    factories.make_org("city-physio")
    factories.make_user("robin@example.com", "Robin Hale")
    response = submit(client, PATH, GOOD)
    assert response.status_code == 422
    assert "Another business already uses this address." in body(response)
    assert 'id="email-error"' not in body(response)
    assert mails(outbox) == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password123", "This password is too easy to guess."),
        ("robin@example.com", "too close to your name or email address"),
        ("RobinHale2024", "too close to your name or email address"),
    ],
)
def test_a_weak_owner_password_is_refused(client, app, password, message):
    response = submit(client, PATH, GOOD | {"password": password})
    assert response.status_code == 422
    assert message in body(response)
    _nothing_created()


def test_demo_is_not_reserved_but_must_be_unique(client, app, outbox):
    assert sign_up(client, outbox, GOOD | {"slug": "demo"}).status_code == 303
    assert Organisation.get(Organisation.slug == "demo").name == "City Physio"
    client.post("/account/sign-out", data={"csrf_token": csrf_token(client, PATH)})
    assert signed_in_user_id(client) is None
    again = GOOD | {"slug": "demo", "email": "sam@example.com"}
    response = submit(client, PATH, again)
    assert response.status_code == 422
    assert "Another business already uses this address." in body(response)


def test_a_slug_taken_while_the_code_was_on_its_way(client, app, outbox):
    assert submit(client, PATH, GOOD).headers["Location"] == CODE_PAGE
    factories.make_org("city-physio")
    response = enter_code(client, outbox, "robin@example.com")
    assert response.status_code == 422
    assert "Another business took the address city-physio meanwhile." in body(response)
    assert User.select().count() == 0


def test_csrf_token_is_required(client, app):
    response = client.post(PATH, data=GOOD)
    assert response.status_code == 400
    _nothing_created()
