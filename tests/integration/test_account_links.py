"""Emailed links: password reset, magic sign-in, email change. Each arrives in the
outbox, works once, and expires after an hour (the `clock` fixture moves time)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from models import AccountToken, User, db
from services.accounts import account as accounts
from services.accounts.auth import authenticate
from services.accounts.links import LinkInvalid
from services.mail import MailConfig
from tests import factories
from tests.integration.test_accounts import (
    NEW_PASSWORD,
    REVIEW,
    body,
    csrf_token,
    link_path,
    mails,
    post_sign_in,
    signed_in_user_id,
    submit,
    text_part,
    use_outbox,
    without_tokens,
)

CHECK_EMAIL = "/account/check-email"


@pytest.fixture
def casey(clinic):
    return clinic["customer"]


@pytest.fixture(autouse=True)
def outbox(app, tmp_path):
    return use_outbox(app, tmp_path)


def ask_for_reset(client, address: str, **extra):
    return submit(client, "/account/reset", {"email": address, **extra})


# Password reset ---------------------------------------------------------------------


def test_password_reset_through_the_emailed_link(client, casey, outbox):
    response = ask_for_reset(client, "Casey@Example.com")
    assert response.status_code == 303
    assert response.headers["Location"] == CHECK_EMAIL
    (message,) = mails(outbox)
    assert message["To"] == "casey@example.com"
    assert message["Subject"] == "Reset your Kairos password"
    assert "within 1 hour" in text_part(message)
    link = link_path(message)
    assert link.startswith("/account/reset/")

    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Choose a new password" in body(page)
    # A password manager learns whose password it is.
    assert 'value="casey@example.com" autocomplete="username"' in body(page)

    response = submit(client, link, {"password": NEW_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/account/sign-in")
    assert "casey" not in response.headers["Location"]  # the email never rides in the URL
    sign_in = body(client.get(response.headers["Location"]))
    assert 'value="casey@example.com"' in sign_in  # filled in: only the new password to type
    assert 'value="casey@example.com"' not in body(client.get("/account/sign-in"))  # once
    assert post_sign_in(client, "casey@example.com").status_code == 422  # the old one is gone
    assert post_sign_in(client, "casey@example.com", NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password123", "This password is too easy to guess."),
        ("qwertyuiop", "This password is too easy to guess."),
        ("casey@example.com", "too close to your name or email address"),
        ("CaseyMorgan1990", "too close to your name or email address"),
    ],
)
def test_a_reset_refuses_a_weak_password_and_keeps_the_link(
    client, casey, outbox, password, message
):
    ask_for_reset(client, "casey@example.com")
    link = link_path(mails(outbox)[0])
    response = submit(client, link, {"password": password})
    assert response.status_code == 422
    assert message in body(response)
    assert "Add another word or two" in body(response)
    assert post_sign_in(client, "casey@example.com").status_code == 303  # unchanged
    assert submit(client, link, {"password": NEW_PASSWORD}, page=link).status_code == 303


def test_unknown_emails_get_the_same_answer_and_no_mail(client, casey, outbox):
    known = ask_for_reset(client, "casey@example.com")
    unknown = ask_for_reset(client, "nobody@example.com")
    malformed = ask_for_reset(client, "not an email")
    assert known.status_code == unknown.status_code == malformed.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == CHECK_EMAIL
    assert len(mails(outbox)) == 1
    assert "If an account uses the address you gave" in body(client.get(CHECK_EMAIL))


def test_asking_for_a_reset_needs_an_email(client, casey, outbox):
    response = ask_for_reset(client, "")
    assert response.status_code == 422
    assert "Enter your email address." in body(response)


def test_a_reset_link_works_once(client, casey, outbox, clock):
    ask_for_reset(client, "casey@example.com")
    link = link_path(mails(outbox)[0])
    assert submit(client, link, {"password": NEW_PASSWORD}).status_code == 303
    assert authenticate("casey@example.com", NEW_PASSWORD).id == casey.id
    again = client.get(link)
    assert again.status_code == 410
    assert "doesn't work any more" in body(again)
    token = link.rsplit("/", 1)[1]
    with pytest.raises(LinkInvalid):
        accounts.reset_password(token, "yet another passphrase", clock())


def test_a_short_new_password_is_refused_without_using_up_the_link(client, casey, outbox):
    ask_for_reset(client, "casey@example.com")
    link = link_path(mails(outbox)[0])
    response = submit(client, link, {"password": "short"})
    assert response.status_code == 422
    assert "Use at least 10 characters." in body(response)
    assert 'value="short"' not in body(response)
    assert submit(client, link, {"password": NEW_PASSWORD}).status_code == 303
    assert authenticate("casey@example.com", NEW_PASSWORD).id == casey.id


def test_a_reset_link_expires_after_an_hour(client, casey, outbox, clock):
    ask_for_reset(client, "casey@example.com")
    link = link_path(mails(outbox)[0])
    clock.advance(minutes=59)
    assert client.get(link).status_code == 200
    clock.advance(minutes=1)
    assert client.get(link).status_code == 410
    token = csrf_token(client, "/account/sign-in")
    response = client.post(link, data={"csrf_token": token, "password": NEW_PASSWORD})
    assert response.status_code == 410
    assert post_sign_in(client, "casey@example.com").status_code == 303  # the password is unchanged


def test_a_new_password_retires_the_other_reset_links(client, casey, outbox):
    ask_for_reset(client, "casey@example.com")
    ask_for_reset(client, "casey@example.com")
    first, second = (link_path(m) for m in mails(outbox))
    assert submit(client, second, {"password": NEW_PASSWORD}).status_code == 303
    assert authenticate("casey@example.com", NEW_PASSWORD).id == casey.id
    assert client.get(first).status_code == 410


def test_the_reset_carries_next_through_the_email(client, casey, outbox):
    ask_for_reset(client, "casey@example.com", next=REVIEW)
    link = link_path(mails(outbox)[0])
    response = submit(client, link, {"password": NEW_PASSWORD}, page=link)
    assert response.status_code == 303
    response = post_sign_in(client, "casey@example.com", NEW_PASSWORD, next=REVIEW)
    assert response.headers["Location"] == REVIEW


def test_a_made_up_token_is_refused(client, casey):
    assert client.get("/account/reset/made-up").status_code == 410
    assert AccountToken.select().count() == 0


def test_only_the_hash_of_a_token_is_stored(client, casey, outbox):
    ask_for_reset(client, "casey@example.com")
    token = link_path(mails(outbox)[0]).rsplit("/", 1)[1]
    row = AccountToken.get()
    assert token not in (row.token_hash, row.new_email)
    assert len(row.token_hash) == 64


# Magic sign-in ----------------------------------------------------------------------


def test_sign_in_with_an_emailed_link(client, casey, outbox):
    response = submit(client, "/account/magic", {"email": "casey@example.com", "next": REVIEW})
    assert response.headers["Location"] == CHECK_EMAIL
    (message,) = mails(outbox)
    assert message["Subject"] == "Your Kairos sign-in link"
    link = link_path(message)

    # Opening the link (or a mail scanner fetching it) does not sign in or use it up.
    for _ in range(2):
        landing = client.get(link)
        assert landing.status_code == 200
        assert "Sign me in" in body(landing)
    assert signed_in_user_id(client) is None

    response = submit(client, link, {}, page=link)
    assert response.status_code == 303
    assert response.headers["Location"] == REVIEW
    assert signed_in_user_id(client) == str(casey.id)

    other = client.application.test_client()
    assert other.get(link).status_code == 410
    assert submit(other, link, {}, page="/account/sign-in").status_code == 410
    assert signed_in_user_id(other) is None


def test_a_magic_link_for_an_unknown_email_sends_no_link_but_says_how_to_go_on(
    client, casey, outbox
):
    """Issue 15, item 1: a newcomer is not left waiting for a link that never comes. The
    address is told it has no account (as signing up tells a holder that it has one);
    the page says the same as for an account."""
    response = submit(client, "/account/magic", {"email": "nobody@example.com"})
    assert response.headers["Location"] == CHECK_EMAIL
    (message,) = mails(outbox)
    assert message["To"] == "nobody@example.com"
    assert message["Subject"] == "No Kairos account uses this address"
    assert link_path(message) == "/account/sign-up"
    assert AccountToken.select().count() == 0


def test_a_magic_link_expires_after_an_hour(client, casey, outbox, clock):
    submit(client, "/account/magic", {"email": "casey@example.com"})
    link = link_path(mails(outbox)[0])
    token = csrf_token(client, link)
    clock.advance(hours=1)
    assert client.post(link, data={"csrf_token": token}).status_code == 410
    assert signed_in_user_id(client) is None


def test_asking_for_a_magic_link_needs_an_email(client, casey):
    response = submit(client, "/account/magic", {"email": ""})
    assert response.status_code == 422
    assert "Enter your email address." in body(response)


def test_two_clicks_at_once_sign_in_only_once(app, casey, clock):
    """Real concurrency: eight threads race to use one link; exactly one wins."""
    job = accounts.ask_for_link("magic", "casey@example.com", lambda token: f"/x/{token}")
    accounts.send_link(
        job,
        clock(),
        secret="test-secret",
        mail=MailConfig(app.config["SETTINGS"], Path(app.config["MAIL_OUTBOX"])),
    )
    token = accounts.link_token("test-secret", job.nonce)
    start, results = threading.Barrier(8), []

    def click():
        start.wait()
        try:
            with db.connection_context():  # each thread its own connection
                results.append(accounts.sign_in_with_magic_link(token, clock()).id)
        except LinkInvalid:
            results.append(None)

    threads = [threading.Thread(target=click) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [casey.id] + [None] * 7


# Email change -----------------------------------------------------------------------


def test_changing_email_needs_the_new_address_confirmed(client, casey, outbox, signed_in):
    signed_in(casey, client)
    response = submit(
        client,
        "/account/profile/email",
        {"new_email": "Casey.New@Example.com", "email_password": factories.PASSWORD},
        page="/account/profile",
    )
    assert response.status_code == 303
    assert "casey.new@example.com" in body(client.get("/account/profile"))
    assert User.get_by_id(casey.id).email == "casey@example.com"  # not yet

    (message,) = mails(outbox)
    assert message["To"] == "casey.new@example.com"
    link = link_path(message)
    assert client.get(link).status_code == 200
    assert User.get_by_id(casey.id).email == "casey@example.com"  # opening is not enough

    response = submit(client, link, {}, page=link)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/profile"
    assert User.get_by_id(casey.id).email == "casey.new@example.com"
    assert client.get(link).status_code == 410


@pytest.mark.parametrize(
    ("new_email", "password", "field", "message"),
    [
        ("", factories.PASSWORD, "new_email", "Enter your email address."),
        ("casey@", factories.PASSWORD, "new_email", "Enter a valid email address."),
        ("CASEY@example.com", factories.PASSWORD, "new_email", "already your email"),
        ("new@example.com", "wrong password", "email_password", "not your current password"),
        ("new@example.com", "", "email_password", "Enter your current password."),
    ],
)
def test_email_change_problems(
    client, casey, outbox, new_email, password, field, message, signed_in
):
    signed_in(casey, client)
    response = submit(
        client,
        "/account/profile/email",
        {"new_email": new_email, "email_password": password},
        page="/account/profile",
    )
    assert response.status_code == 422
    page = body(response)
    assert f'id="{field}-error"' in page
    assert message in page
    assert f'value="{new_email}"' in page
    assert "wrong password" not in page
    assert mails(outbox) == []


def test_an_address_taken_by_another_account_gets_the_same_answer_and_a_notice(
    app, casey, outbox, signed_in
):
    """The requester is told "we've emailed a link" either way; a taken address's holder
    is told someone asked, and nothing changes."""
    factories.make_user("dana@example.com", "Dana Lee")
    answers = []
    for address in ("Dana@example.com", "erin@example.com"):
        client = signed_in(casey, app.test_client())
        response = submit(
            client,
            "/account/profile/email",
            {"new_email": address, "email_password": factories.PASSWORD},
            page="/account/profile",
        )
        page = body(client.get(response.headers["Location"]))
        answers.append((response.status_code, response.headers["Location"], page))
    (taken, free) = answers
    assert taken[:2] == free[:2] == (303, "/account/profile")
    assert "We've emailed a link to dana@example.com." in taken[2]
    assert "We've emailed a link to erin@example.com." in free[2]
    assert without_tokens(taken[2]).replace("dana@", "erin@") == without_tokens(free[2])

    notice, confirmation = mails(outbox)
    assert notice["To"] == "dana@example.com"
    assert notice["Subject"] == "This address already has a Kairos account"
    assert "Hello Dana Lee," in text_part(notice)
    assert "nothing has changed" in text_part(notice)
    assert "http" not in text_part(notice)  # no link: nothing for Dana to do
    assert confirmation["To"] == "erin@example.com"
    assert User.get_by_id(casey.id).email == "casey@example.com"
    assert AccountToken.select().where(AccountToken.new_email == "dana@example.com").count() == 0


def test_an_address_taken_before_confirming_is_refused_then(client, casey, outbox, signed_in):
    signed_in(casey, client)
    submit(
        client,
        "/account/profile/email",
        {"new_email": "dana@example.com", "email_password": factories.PASSWORD},
        page="/account/profile",
    )
    link = link_path(mails(outbox)[0])
    factories.make_user("dana@example.com", "Dana Lee")
    response = submit(client, link, {}, page=link)
    assert response.status_code == 409
    assert "Another account uses this email address now." in body(response)
    assert User.get_by_id(casey.id).email == "casey@example.com"
