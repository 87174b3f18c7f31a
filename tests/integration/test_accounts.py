"""Signing up, in and out through the front door: validation, sessions, cookies, `next`.

The helpers at the top (CSRF token, posting a form, reading the outbox) are shared by
the other test_account_*.py files.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import render_template_string

from models import User
from services.accounts import sessions
from tests import factories

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
NEW_PASSWORD = "a new long passphrase"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


# Helpers ----------------------------------------------------------------------------


def without_tokens(page: str) -> str:
    """``page`` without its CSRF tokens, which differ from session to session."""
    return re.sub(r'name="csrf_token" value="[^"]*"|"X-CSRFToken": "[^"]*"', "", page)


def csrf_token(client, page: str) -> str:
    """The CSRF token of the form on ``page``, as a browser would find it."""
    found = _TOKEN.search(client.get(page).get_data(as_text=True))
    assert found, f"no CSRF token on {page}"
    return found.group(1)


def submit(client, path: str, data: dict, *, page: str | None = None, headers=None):
    """POST ``data`` to ``path`` with the token from the form page (``path`` by default)."""
    token = csrf_token(client, page or path)
    return client.post(path, data={"csrf_token": token, **data}, headers=headers)


def post_sign_in(client, email_: str, password: str = factories.PASSWORD, **extra):
    return submit(client, "/account/sign-in", {"email": email_, "password": password, **extra})


def body(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def signed_in_user_id(client) -> str | None:
    """The id of the user the client's session signs in (as a string), or None."""
    with client.session_transaction() as session:
        key = session.get("_user_id")
    user = sessions.signed_in_user(key, client.application.config["CLOCK"]())
    return str(user.id) if user else None


def use_outbox(app, tmp_path) -> Path:
    """Send the app's mail to a folder of this test's own."""
    folder = tmp_path / "outbox"
    app.config["MAIL_OUTBOX"] = str(folder)
    return folder


@pytest.fixture
def outbox(app, tmp_path) -> Path:
    return use_outbox(app, tmp_path)


def mails(outbox: Path) -> list[EmailMessage]:
    """The emails in ``outbox``, oldest first (the names sort by the frozen clock only)."""
    files = sorted(outbox.glob("*.eml"), key=lambda f: (f.stat().st_mtime_ns, f.name))
    files = files if outbox.exists() else []
    return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]


def text_part(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def link_path(message: EmailMessage) -> str:
    """The path (and query) of the one link in the email's text."""
    (url,) = set(re.findall(r"https?://\S+", text_part(message)))
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def code_for(outbox: Path, address: str) -> str:
    """The code in the newest sign-up email to ``address``."""
    sent = [m for m in mails(outbox) if m["To"] == address and "Kairos code" in m["Subject"]]
    assert sent, f"no code sent to {address}"
    return re.search(r"\b(\d{6})\b", text_part(sent[-1])).group(1)


def enter_code(client, outbox: Path, address: str, headers=None):
    """Enter the code emailed to ``address`` on the page that asks for it."""
    code = code_for(outbox, address)
    return submit(
        client, "/account/sign-up/code", {"code": code}, headers=headers, page="/account/sign-in"
    )


def sign_up(client, outbox: Path, data: dict):
    """Sign up with ``data`` and enter the emailed code: the answer to the code."""
    asked = submit(client, "/account/sign-up", data)
    assert asked.headers["Location"] == "/account/sign-up/code", body(asked)
    return enter_code(client, outbox, data["email"].strip().lower())


@pytest.fixture
def casey(clinic):
    return clinic["customer"]


# Sign up ----------------------------------------------------------------------------

GOOD = {"name": "Robin Hale", "email": "Robin@Example.COM", "password": "long enough pw"}


def test_sign_up_emails_a_code_and_the_code_creates_the_account(client, app, outbox):
    response = submit(client, "/account/sign-up", GOOD | {"phone": "07911 123456"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/sign-up/code"
    assert User.select().count() == 0  # not until the code comes back
    page = body(client.get("/account/sign-up/code"))
    assert "We've sent a 6-digit code to <strong>robin@example.com</strong>" in page
    assert 'autocomplete="one-time-code"' in page
    (message,) = mails(outbox)
    assert message["To"] == "robin@example.com"
    assert re.fullmatch(r"\d{6} is your Kairos code", message["Subject"])
    assert "Hello Robin Hale," in text_part(message)
    assert GOOD["password"] not in message.as_string()

    response = enter_code(client, outbox, "robin@example.com")
    assert response.status_code == 303
    assert response.headers["Location"] == "/appointments"
    user = User.get(User.email == "robin@example.com")
    assert (user.name, user.phone) == ("Robin Hale", "+447911123456")
    assert user.password_hash.startswith("$argon2id$")
    assert signed_in_user_id(client) == str(user.id)
    assert "Welcome, Robin Hale." in body(client.get("/account/profile"))


def test_sign_up_phone_is_optional_and_other_countries_work(client, app, outbox):
    assert sign_up(client, outbox, GOOD).status_code == 303
    assert User.get(User.email == "robin@example.com").phone is None
    client.post("/account/sign-out", data={"csrf_token": csrf_token(client, "/account/profile")})
    assert signed_in_user_id(client) is None
    other = GOOD | {"email": "sam@example.com", "phone": "+1 415 555 2671"}
    assert sign_up(client, outbox, other).status_code == 303
    assert User.get(User.email == "sam@example.com").phone == "+14155552671"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "   ", "Enter your name."),
        ("email", "", "Enter your email address."),
        ("email", "robin@", "Enter a valid email address."),
        ("email", "Robin <robin@example.com>", "Enter a valid email address."),
        ("password", "short", "Use at least 10 characters."),
        ("phone", "12345", "Enter a valid phone number"),
        ("phone", "call me", "Enter a valid phone number"),
    ],
)
def test_sign_up_shows_each_problem_next_to_its_field(client, app, field, value, message):
    typed = GOOD | {"phone": "07911 123456", field: value}
    response = submit(client, "/account/sign-up", typed)
    assert response.status_code == 422
    page = body(response)
    error = re.search(rf'<p class="error" id="sign-up-{field}-error">(.*?)</p>', page, re.S)
    assert error
    assert message in error.group(1)
    tag = re.search(rf'<input[^>]*id="sign-up-{field}"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in tag
    assert f"sign-up-{field}-error" in re.search(r'aria-describedby="([^"]+)"', tag).group(1)
    for kept in ("name", "email", "phone"):  # what was typed is still there
        if kept != field:
            assert f'value="{typed[kept]}"' in page
    assert typed["password"] not in page if field != "password" else value not in page
    assert User.select().count() == 0


def test_sign_up_reports_all_problems_at_once(client, app):
    response = submit(
        client, "/account/sign-up", {"name": "", "email": "x", "password": "", "phone": "1"}
    )
    assert response.status_code == 422
    for field in ("name", "email", "password", "phone"):
        assert f'id="sign-up-{field}-error"' in body(response)


def test_sign_up_with_a_taken_email_asks_for_a_code_all_the_same_and_tells_the_holder(
    client, app, casey, outbox
):
    """The answer is the one a new address gets (the page asking for the code), so a
    stranger learns nothing; the holder gets a sign-in link instead, keeping ``next``,
    and no code can finish that sign-up."""
    taken = submit(
        client, "/account/sign-up", GOOD | {"email": "CASEY@example.com", "next": REVIEW}
    )
    fresh = app.test_client()
    new = submit(fresh, "/account/sign-up", GOOD | {"email": "casey2@example.com"})
    assert taken.status_code == new.status_code == 303
    assert taken.headers["Location"] == new.headers["Location"] == "/account/sign-up/code"
    pages = [body(c.get("/account/sign-up/code")) for c in (client, fresh)]
    pages[1] = pages[1].replace("casey2@example.com", "casey@example.com")
    assert without_tokens(pages[0]) == without_tokens(pages[1])
    assert User.select().where(User.email == "casey@example.com").count() == 1
    assert User.get_by_id(casey.id).name == casey.name  # nothing typed was kept
    assert signed_in_user_id(client) is None

    message = next(m for m in mails(outbox) if m["To"] == "casey@example.com")
    assert message["Subject"] == "You already have a Kairos account"
    text = text_part(message)
    assert "Hello Casey Morgan," in text
    assert "Robin Hale" not in text  # nothing the stranger typed goes to the holder
    assert message.get_body(("html",)).get_content().count("Sign in") >= 1

    # Guessing the code: the same answers as a wrong code for a new address.
    wrong = [submit(c, "/account/sign-up/code", {"code": "123456"}) for c in (client, fresh)]
    assert [r.status_code for r in wrong] == [422, 422]
    assert "That code is not right. 4 tries left." in body(wrong[0])
    assert without_tokens(body(wrong[0])) == without_tokens(
        body(wrong[1]).replace("casey2@example.com", "casey@example.com")
    )

    link = link_path(message)
    assert link.startswith("/account/magic/")
    response = submit(client, link, {}, page=link)
    assert response.status_code == 303
    assert response.headers["Location"] == REVIEW
    assert signed_in_user_id(client) == str(casey.id)


def test_htmx_sign_up_redirects_to_the_code_page(client, casey, outbox):
    for address in ("casey@example.com", "new@example.com"):
        response = submit(client, "/account/sign-up", GOOD | {"email": address}, headers=PARTIAL)
        assert response.status_code == 200
        assert response.headers["HX-Redirect"] == "/account/sign-up/code"
    assert len(mails(outbox)) == 2


WEAK = [
    ("password123", "This password is too easy to guess."),
    ("qwertyuiop", "This password is too easy to guess."),
    ("robin@example.com", "too close to your name or email address"),
    ("Robin Hale 1990", "too close to your name or email address"),
    ("hale-robin-2024", "too close to your name or email address"),
]


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_sign_up_refuses_common_passwords_and_ones_made_of_the_name_or_email(
    client, app, password, message
):
    response = submit(client, "/account/sign-up", GOOD | {"password": password})
    assert response.status_code == 422
    page = body(response)
    assert 'id="sign-up-password-error"' in page
    assert message in page
    assert "Add another word or two; avoid names, dates and common phrases." in page
    assert User.select().count() == 0


# Sign in and out --------------------------------------------------------------------


def test_sign_in_then_sign_out(client, casey):
    response = post_sign_in(client, "Casey@Example.com ")
    assert response.status_code == 303
    assert response.headers["Location"] == "/appointments"
    assert signed_in_user_id(client) == str(casey.id)
    assert client.get("/account/profile").status_code == 200

    token = csrf_token(client, "/account/profile")
    response = client.post("/account/sign-out", data={"csrf_token": token})
    assert response.status_code == 303
    assert signed_in_user_id(client) is None
    assert client.get("/account/profile").status_code == 302  # to the sign-in page


def test_sign_in_errors_do_not_say_whether_the_email_exists(client, casey):
    wrong_password = post_sign_in(client, "casey@example.com", "not the password")
    unknown_email = post_sign_in(client, "nobody@example.com", "not the password")
    assert wrong_password.status_code == unknown_email.status_code == 422
    for response, typed in ((wrong_password, "casey@example.com"), (unknown_email, "nobody@")):
        page = body(response)
        assert "Email or password is not right." in page
        assert f'value="{typed}' in page  # the email is kept
        assert "not the password" not in page  # the password never comes back
    strip = re.compile(r'value="[^"]*"|"X-CSRFToken": "[^"]*"')
    assert strip.sub("", body(wrong_password)) == strip.sub("", body(unknown_email))
    assert signed_in_user_id(client) is None


def test_sign_in_asks_for_missing_fields(client, casey):
    response = post_sign_in(client, "", "")
    assert response.status_code == 422
    assert "Enter your email address." in body(response)
    assert "Enter your password." in body(response)


def test_a_deleted_account_cannot_sign_in(client, casey):
    User.update(password_hash=None).where(User.id == casey.id).execute()
    assert post_sign_in(client, "casey@example.com").status_code == 422


def test_signing_in_starts_a_new_session(client, casey):
    with client.session_transaction() as session:
        session["left_over"] = "from before"
    post_sign_in(client, "casey@example.com")
    with client.session_transaction() as session:
        assert "left_over" not in session
    assert signed_in_user_id(client) == str(casey.id)


def test_remember_me_sets_a_lasting_cookie(client, casey):
    response = post_sign_in(client, "casey@example.com", remember="y")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "remember_token=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie  # outside development
    assert "Expires=" in cookie
    session_cookie = next(c for c in response.headers.getlist("Set-Cookie") if "session=" in c)
    assert {"HttpOnly", "Secure", "SameSite=Lax"} <= set(
        p.strip() for p in session_cookie.split(";")
    )

    # The session is gone (the browser closed): the remember cookie signs Casey back in.
    client.delete_cookie("session")
    assert client.get("/account/profile").status_code == 200


def test_without_remember_me_there_is_no_remember_cookie(client, casey):
    response = post_sign_in(client, "casey@example.com")
    assert not any("remember_token=" in c for c in response.headers.getlist("Set-Cookie"))


def test_signing_out_forgets_the_remember_cookie(client, casey):
    post_sign_in(client, "casey@example.com", remember="y")
    response = client.post(
        "/account/sign-out", data={"csrf_token": csrf_token(client, "/account/profile")}
    )
    assert any(c.startswith("remember_token=;") for c in response.headers.getlist("Set-Cookie"))
    client.delete_cookie("session")
    assert client.get("/account/profile").status_code == 302


def test_a_signed_in_visitor_to_the_sign_in_page_goes_on(client, casey):
    post_sign_in(client, "casey@example.com")
    response = client.get("/account/sign-in?next=/clinic")
    assert response.status_code == 303
    assert response.headers["Location"] == "/clinic"


# Coming back to where you were ------------------------------------------------------

REVIEW = "/clinic/book/3/review?start=2026-11-30T09:00:00%2B00:00&provider=1"


def test_sign_in_carries_next_and_returns_to_the_exact_selection(client, casey):
    page = body(client.get("/account/sign-in", query_string={"next": REVIEW}))
    assert f'<input type="hidden" name="next" value="{REVIEW}">' in page
    response = post_sign_in(client, "casey@example.com", next=REVIEW)
    assert response.headers["Location"] == REVIEW


def test_a_failed_sign_in_keeps_next(client, casey):
    response = post_sign_in(client, "casey@example.com", "wrong password", next=REVIEW)
    assert response.status_code == 422
    assert f'name="next" value="{REVIEW}"' in body(response)
    assert post_sign_in(client, "casey@example.com", next=REVIEW).headers["Location"] == REVIEW


def test_sign_up_carries_next(client, app, outbox):
    page = body(client.get("/account/sign-up", query_string={"next": REVIEW}))
    assert f'name="next" value="{REVIEW}"' in page
    response = sign_up(client, outbox, GOOD | {"next": REVIEW})
    assert response.headers["Location"] == REVIEW


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/steal",
        "//evil.example/steal",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "evil.example",
    ],
)
def test_next_never_leads_off_the_site(client, casey, target):
    response = post_sign_in(client, "casey@example.com", next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/appointments"


# htmx -------------------------------------------------------------------------------


def test_htmx_gets_the_form_back_in_place_with_its_errors(client, casey):
    response = submit(
        client,
        "/account/sign-in",
        {"email": "casey@example.com", "password": "nope nope", "next": REVIEW},
        headers=PARTIAL,
    )
    assert response.status_code == 422
    fragment = body(response).strip()
    assert fragment.startswith("<form")
    assert "<html" not in fragment
    assert "Email or password is not right." in fragment
    assert f'name="next" value="{REVIEW}"' in fragment
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_sign_in_redirects_the_whole_page(client, casey):
    response = submit(
        client,
        "/account/sign-in",
        {"email": "casey@example.com", "password": factories.PASSWORD, "next": REVIEW},
        headers=PARTIAL,
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == REVIEW


# The partials for other pages -------------------------------------------------------


def test_the_partials_render_on_any_page_without_a_form(app):
    page = (
        """{% include "partials/_sign_in_form.html" %}{% include "partials/_sign_up_form.html" %}"""
    )
    with app.test_request_context(REVIEW):
        rendered = html.unescape(render_template_string(page))
        elsewhere = render_template_string(page, next="/elsewhere", form=object())
    assert 'action="/account/sign-in"' in rendered
    assert 'action="/account/sign-up"' in rendered
    assert rendered.count(f'name="next" value="{REVIEW}"') == 2  # back to this very page
    assert rendered.count('name="csrf_token"') == 2
    ids = re.findall(r'\sid="([^"]+)"', rendered)
    assert len(ids) == len(set(ids)), "two forms on one page must not share an id"
    assert elsewhere.count('name="next" value="/elsewhere"') == 2


def test_the_partial_posts_back_to_the_page_it_was_on(client, casey, app):
    with app.test_request_context(REVIEW):
        token_page = render_template_string('{% include "partials/_sign_in_form.html" %}')
    next_value = html.unescape(re.search(r'name="next" value="([^"]+)"', token_page).group(1))
    assert post_sign_in(client, "casey@example.com", next=next_value).headers["Location"] == REVIEW


# CSRF -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/account/sign-in",
        "/account/sign-up",
        "/account/sign-out",
        "/account/reset",
        "/account/reset/some-token",
        "/account/magic",
        "/account/magic/some-token",
        "/account/email/some-token",
        "/account/profile",
        "/account/profile/email",
        "/account/profile/password",
        "/account/delete",
    ],
)
def test_every_form_needs_its_csrf_token(client, casey, path):
    client.get("/account/sign-in")  # a session exists, as in a browser
    response = client.post(path, data={"email": "casey@example.com", "password": "x"})
    assert response.status_code == 400
    assert signed_in_user_id(client) is None


def test_a_token_from_another_session_is_refused(client, app, casey):
    stolen = csrf_token(app.test_client(), "/account/sign-in")
    client.get("/account/sign-in")
    response = client.post(
        "/account/sign-in",
        data={"csrf_token": stolen, "email": "casey@example.com", "password": factories.PASSWORD},
    )
    assert response.status_code == 400
