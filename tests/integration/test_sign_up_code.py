"""The code emailed at sign-up: tries, expiry, a new code, and what the page says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import PendingSignUp, User
from services.accounts import signups
from tests.integration.test_accounts import (
    GOOD,
    PARTIAL,
    body,
    code_for,
    enter_code,
    mails,
    signed_in_user_id,
    submit,
    use_outbox,
)

CODE_PAGE = "/account/sign-up/code"


@pytest.fixture
def outbox(app, tmp_path):
    return use_outbox(app, tmp_path)


def start(client):
    response = submit(client, "/account/sign-up", GOOD)
    assert response.headers["Location"] == CODE_PAGE
    return "robin@example.com"


def enter(client, code: str, headers=None):
    return submit(client, CODE_PAGE, {"code": code}, headers=headers, page="/account/sign-in")


def wrong_code(outbox, address: str) -> str:
    return f"{(int(code_for(outbox, address)) + 1) % 10**6:06d}"


def test_five_wrong_tries_use_the_code_up(client, app, outbox):
    address = start(client)
    bad = wrong_code(outbox, address)
    said = [body(enter(client, bad)) for _ in range(5)]
    assert "That code is not right. 4 tries left." in said[0]
    assert "That code is not right. 1 try left." in said[3]
    assert "That code is not right. Ask for a new code." in said[4]
    response = enter_code(client, outbox, address)  # the right one, too late
    assert response.status_code == 422
    assert "This code has expired. Ask for a new one, or start again." in body(response)
    assert User.select().count() == 0
    assert signed_in_user_id(client) is None


def test_a_new_code_replaces_the_old_one(client, app, outbox):
    address = start(client)
    old = code_for(outbox, address)
    response = submit(client, "/account/sign-up/code/resend", {}, page=CODE_PAGE)
    assert response.status_code == 303
    assert response.headers["Location"] == CODE_PAGE
    assert "We've sent a new code." in body(client.get(CODE_PAGE))
    assert len(mails(outbox)) == 2
    new = code_for(outbox, address)
    if new != old:  # one in a million they are the same
        assert enter(client, old).status_code == 422
    assert enter(client, new).status_code == 303
    assert User.get(User.email == address).name == "Robin Hale"


def test_at_most_five_codes_per_sign_up(client, app, outbox):
    start(client)
    for _ in range(6):
        submit(client, "/account/sign-up/code/resend", {}, page=CODE_PAGE)
    assert len(mails(outbox)) == signups.MAX_SENDS


def test_a_code_expires_after_half_an_hour(client, app, outbox, clock):
    address = start(client)
    clock.advance(minutes=31)
    page = client.get(CODE_PAGE)
    assert "This sign-up has expired" in body(page)
    assert 'href="/account/sign-up"' in body(page)
    response = enter_code(client, outbox, address)
    assert response.status_code == 422
    assert "This code has expired" in body(response)
    assert User.select().count() == 0


def test_spaces_in_the_code_are_fine_and_htmx_gets_the_form_back(client, app, outbox):
    address = start(client)
    response = enter(client, "12", headers=PARTIAL)
    assert response.status_code == 422
    assert "Enter the 6-digit code from the email. 4 tries left." in body(response)
    assert "<html" not in body(response)
    code = code_for(outbox, address)
    response = enter(client, f" {code[:3]} {code[3:]} ", headers=PARTIAL)
    assert response.headers["HX-Redirect"] == "/appointments"


def test_the_code_page_without_a_sign_up(client, app):
    page = client.get(CODE_PAGE)
    assert page.status_code == 200
    assert "This sign-up has expired" in body(page)


def test_an_address_taken_between_the_code_and_its_use(client, app, outbox):
    address = start(client)
    first_code = code_for(outbox, address)
    other = app.test_client()  # the same person signs up again on another device
    submit(other, "/account/sign-up", GOOD)
    assert enter_code(other, outbox, address).status_code == 303
    response = enter(client, first_code)
    assert response.status_code == 422
    assert "This address has an account now. Sign in instead." in body(response)
    assert User.select().where(User.email == address).count() == 1


def test_sign_ups_are_forgotten_a_day_after_they_expire(client, app, outbox, clock):
    start(client)
    assert signups.purge(clock() + signups.LIFETIME + timedelta(hours=23)) == 0
    assert signups.purge(clock() + signups.LIFETIME + timedelta(days=1, minutes=1)) == 1
    assert PendingSignUp.select().count() == 0
