"""Booking as a new customer with a name and email, no password (issue 15, item 1): the
review page's form makes a passwordless account and the booking together, signs this
browser in for the session, and the confirmation email's button signs in. An address
with an account books nothing and gets a sign-in link back to the same review page.

The clock stands at Wed 25 Nov 2026, 12:00 in London; see tests/conftest.py.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import pytest

from models import Booking, Notification, User
from services.notifications import delivery
from services.notifications.delivery import Channels
from services.ratelimits import LIMITS
from tests import factories
from tests.integration.test_accounts import (
    body,
    link_path,
    mails,
    signed_in_user_id,
    text_part,
    use_outbox,
)
from tests.integration.test_journey import review_url
from tests.integration.test_ratelimits import limits, store  # noqa: F401 (fixtures)
from tests.integration.webpages import csrf_token, parse

MON_10 = datetime(2026, 11, 30, 10, tzinfo=UTC)
SKY = {"name": "Sky Porter", "email": "Sky@Example.com", "phone": ""}


@pytest.fixture
def outbox(app, tmp_path):
    return use_outbox(app, tmp_path)


def book_as_guest(client, service, start=MON_10, provider="any", *, ip="127.0.0.1", **typed):
    """Open the review page signed out, fill in the details and press Confirm."""
    token = csrf_token(client.get(review_url(service, start, provider)))
    data = {"csrf_token": token, "start": start.isoformat(), "provider": provider}
    return client.post(
        f"/clinic/book/{service.id}/confirm",
        data=data | SKY | typed,
        environ_base={"REMOTE_ADDR": ip},
    )


def accounts_named(email: str) -> list[User]:
    return list(User.select().where(User.email == email))


def test_the_review_page_asks_a_newcomer_only_for_name_email_and_phone(client, clinic):
    page = parse(client.get(review_url(clinic["follow_up"], MON_10)))

    form = page.one("form", action=f"/clinic/book/{clinic['follow_up'].id}/confirm")
    names = {i.attrs.get("name") for i in form.find_all("input")}
    assert {"name", "email", "phone", "start", "provider"} <= names
    assert "password" not in names
    assert form.one("button").text.strip() == "Confirm booking"
    assert form.find("a", href="/privacy") is not None
    # Signing in is the second choice, folded away: one visible "Email" field.
    sign_in = page.one("details", class_="sign-in-inline")
    assert "Already have an account? Sign in" in sign_in.one("summary").text
    assert sign_in.one("form").attrs["action"] == "/account/sign-in"


def test_a_new_customer_books_with_name_and_email_and_gets_a_passwordless_account(
    client, clinic, dispatched
):
    response = book_as_guest(client, clinic["follow_up"], phone="07400 123456")

    (user,) = accounts_named("sky@example.com")
    assert (user.name, user.phone, user.password_hash) == ("Sky Porter", "+447400123456", None)
    assert user.organisation_id is None  # an account, not a business's record
    (booking,) = Booking.select().where(Booking.customer == user.id)
    assert booking.start_at == MON_10
    assert response.status_code == 303
    assert response.headers["Location"] == f"/appointments/{booking.id}/confirmed"
    assert dispatched  # the confirmation is on its way
    # This browser is signed in for the session only: no remember cookie.
    assert signed_in_user_id(client) == str(user.id)
    assert client.get_cookie("remember_token") is None
    assert "You're booked" in body(client.get(response.headers["Location"]))


def test_an_address_with_an_account_books_nothing_and_gets_a_sign_in_link(client, clinic, outbox):
    casey = clinic["customer"]
    service = clinic["follow_up"]

    response = book_as_guest(client, service, email="Casey@Example.com", name="Not Casey")

    assert response.status_code == 303
    assert "/sign-in-sent?" in response.headers["Location"]
    assert Booking.select().count() == 0
    assert signed_in_user_id(client) is None
    page = body(client.get(response.headers["Location"]))
    assert "You already have an account" in page
    assert "Nothing is booked yet" in page
    assert User.get_by_id(casey.id).name == "Casey Morgan"  # nothing typed was kept on it

    (message,) = mails(outbox)
    assert message["To"] == "casey@example.com"
    assert "Not Casey" not in text_part(message)
    link = link_path(message)
    review = review_url(service, MON_10).replace("%2B", "+")
    other = client.application.test_client()  # opened on another device: same link works
    token = csrf_token(other.get(link))
    signed = other.post(link, data={"csrf_token": token})
    assert signed.status_code == 303
    back = signed.headers["Location"]
    assert back.startswith(f"/clinic/book/{service.id}/review?")
    assert "start=2026-11-30T10" in back.replace("%3A", ":")
    assert signed_in_user_id(other) == str(casey.id)
    assert "Booking as Casey Morgan" in body(other.get(back))
    assert review  # the selection is the one the link returns to


def test_the_holders_page_and_mail_are_the_same_whatever_the_typed_name(client, clinic, outbox):
    one = book_as_guest(client, clinic["follow_up"], email="casey@example.com", name="A")
    two = book_as_guest(
        client.application.test_client(), clinic["follow_up"], email="casey@example.com"
    )
    assert one.headers["Location"] == two.headers["Location"]


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"name": ""}, "name", "Enter your name."),
        ({"email": "not-an-email"}, "email", "An email address must have an @-sign."),
        ({"phone": "12"}, "phone", None),
    ],
)
def test_bad_details_are_a_422_that_keeps_what_was_typed(client, clinic, typed, field, message):
    response = book_as_guest(client, clinic["follow_up"], **({"phone": "07400 123456"} | typed))

    assert response.status_code == 422
    page = parse(response)
    error = page.one("p", id=f"guest-{field}-error")
    if message:
        assert message in error.text
    form = page.one("form", class_="guest-form")
    values = {i.attrs.get("name"): i.attrs.get("value", "") for i in form.find_all("input")}
    expected = SKY | {"phone": "07400 123456"} | typed
    for name in ("name", "email", "phone"):
        assert values[name] == expected[name]
    assert accounts_named("sky@example.com") == []
    assert Booking.select().count() == 0


def test_a_time_taken_meanwhile_is_a_409_that_writes_nothing_and_keeps_the_details(
    client, clinic, signed_in
):
    service = clinic["massage"]  # Tom only
    rival = signed_in(factories.make_user("dana@example.com", "Dana Lee"))
    token = csrf_token(client.get(review_url(service, MON_10)))
    from tests.integration.test_journey import confirm

    assert confirm(rival, service, MON_10).status_code == 303  # Dana gets there first
    data = {"csrf_token": token, "start": MON_10.isoformat(), "provider": "any"}
    response = client.post(f"/clinic/book/{service.id}/confirm", data=data | SKY)

    assert response.status_code == 409
    page = parse(response)
    assert "Sorry, that time was just taken" in page.text
    alternatives = page.find_all("a", class_="slot")
    assert alternatives
    assert accounts_named("sky@example.com") == []  # no account half-made
    assert Booking.select().count() == 1
    assert signed_in_user_id(client) is None
    # The details come back on the review page of the time picked instead.
    again = parse(client.get(alternatives[0].attrs["href"]))
    form = again.one("form", class_="guest-form")
    values = {i.attrs.get("name"): i.attrs.get("value", "") for i in form.find_all("input")}
    assert (values["name"], values["email"]) == ("Sky Porter", "Sky@Example.com")


def test_two_newcomers_with_one_address_at_once_make_one_account(app, clinic, outbox):
    """Real concurrency: two browsers book different times with one new address."""
    service = clinic["follow_up"]
    clients = [app.test_client(), app.test_client()]
    tokens = [csrf_token(c.get(review_url(service, MON_10))) for c in clients]
    starts = [MON_10, MON_10.replace(hour=11)]
    answers = [None, None]
    go = threading.Barrier(2)

    def run(i: int) -> None:
        data = {"csrf_token": tokens[i], "start": starts[i].isoformat(), "provider": "any"}
        go.wait()
        answers[i] = clients[i].post(f"/clinic/book/{service.id}/confirm", data=data | SKY)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(accounts_named("sky@example.com")) == 1
    assert Booking.select().count() == 1
    locations = sorted(a.headers["Location"] for a in answers)
    assert any("/confirmed" in loc for loc in locations)
    assert any("/sign-in-sent" in loc for loc in locations)


def test_guest_bookings_are_rate_limited_per_network_address(app, clinic, limits):  # noqa: F811
    service = clinic["follow_up"]
    allowed = LIMITS["sign_up_per_ip"].count
    for n in range(allowed):
        start = MON_10.replace(hour=9 + n // 2, minute=30 * (n % 2))
        fresh = app.test_client()
        answer = book_as_guest(fresh, service, start, email=f"sky{n}@example.com")
        assert answer.status_code == 303, n

    refused = book_as_guest(app.test_client(), service, MON_10.replace(day=1, month=12))

    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert "Too many" in body(refused)
    assert 'value="Sky Porter"' in body(refused)  # what was typed is kept
    assert accounts_named("sky@example.com") == []
    # From another network, it goes through.
    other = book_as_guest(
        app.test_client(), service, MON_10.replace(day=1, month=12), ip="10.0.0.9"
    )
    assert other.status_code == 303


def test_the_confirmation_email_signs_in_and_opens_the_appointment(app, clinic, tmp_path):
    client = app.test_client()
    book_as_guest(client, clinic["follow_up"])
    (user,) = accounts_named("sky@example.com")
    booking = Booking.get(Booking.customer == user.id)

    text = text_part(deliver_confirmation(app, user, tmp_path / "mail"))

    assert "no password needed" in text
    link = re.search(r"https://kairos\.example(/account/magic/\S+)", text).group(1)
    assert f"next=%2Fappointments%2F{booking.id}" in link
    browser = app.test_client()  # another device, later
    token = csrf_token(browser.get(link))
    signed = browser.post(link, data={"csrf_token": token})
    assert signed.headers["Location"] == f"/appointments/{booking.id}"
    assert signed_in_user_id(browser) == str(user.id)
    assert "Follow-up" in body(browser.get(f"/appointments/{booking.id}"))


def deliver_confirmation(app, user, folder):
    """What the worker does with the confirmation email to ``user``; the message sent."""
    row = Notification.get(
        (Notification.recipient == user.id)
        & (Notification.kind == "confirmed")
        & (Notification.channel == "email")
    )
    channels = Channels.from_settings(app.config["SETTINGS"], outbox=folder)
    channels.base_url = "https://kairos.example"
    delivery.deliver(row.id, channels, app.config["CLOCK"]())
    (message,) = mails(folder)
    return message


def test_an_account_with_a_password_gets_no_sign_in_link_in_its_email(
    app, client, clinic, signed_in, tmp_path
):
    from tests.integration.test_journey import confirm

    casey = signed_in(clinic["customer"], client)
    confirm(casey, clinic["follow_up"], MON_10)
    booking = Booking.get()

    text = text_part(deliver_confirmation(app, clinic["customer"], tmp_path / "mail"))

    assert f"https://kairos.example/appointments/{booking.id}" in text
    assert "/account/magic/" not in text


def test_a_passwordless_account_adds_a_password_once_it_has_opened_an_emailed_link(
    app, clinic, outbox
):
    client = app.test_client()
    book_as_guest(client, clinic["follow_up"])
    (user,) = accounts_named("sky@example.com")

    # Signed in by booking: the address is not proven yet, so no password can be added.
    profile = body(client.get("/account/profile"))
    assert "first sign in with the link in your confirmation email" in profile
    token = csrf_token(client.get("/account/profile"))
    refused = client.post(
        "/account/profile/password", data={"csrf_token": token, "new_password": "a long enough pw"}
    )
    assert refused.status_code == 422
    assert User.get_by_id(user.id).password_hash is None

    # Through an emailed sign-in link, it can: no old password asked for.
    browser = app.test_client()
    token = csrf_token(browser.get("/account/magic"))
    browser.post("/account/magic", data={"csrf_token": token, "email": "sky@example.com"})
    link = link_path(mails(outbox)[-1])
    browser.post(link, data={"csrf_token": csrf_token(browser.get(link))})
    # Whoever proved the address takes over: the browser that booked is signed out (it
    # could have been a stranger's, who typed this address).
    assert signed_in_user_id(client) is None
    page = parse(browser.get("/account/profile"))
    form = page.one("form", action="/account/profile/password")
    assert form.find("input", name="current_password") is None
    token = csrf_token(browser.get("/account/profile"))
    added = browser.post(
        "/account/profile/password", data={"csrf_token": token, "new_password": "a long enough pw"}
    )
    assert added.status_code == 303
    assert User.get_by_id(user.id).password_hash
    assert signed_in_user_id(browser) == str(user.id)
    # Now it signs in with it, and changing it asks for the current one.
    fresh = app.test_client()
    token = csrf_token(fresh.get("/account/sign-in"))
    fresh.post(
        "/account/sign-in",
        data={"csrf_token": token, "email": "sky@example.com", "password": "a long enough pw"},
    )
    assert signed_in_user_id(fresh) == str(user.id)
    form = parse(fresh.get("/account/profile")).one("form", action="/account/profile/password")
    assert form.find("input", name="current_password") is not None


def test_a_sign_in_link_for_an_unknown_address_tells_that_address_how_to_go_on(
    client, clinic, outbox
):
    review = review_url(clinic["follow_up"], MON_10).replace("%2B", "+")
    token = csrf_token(client.get("/account/magic"))
    asked = client.post(
        "/account/magic", data={"csrf_token": token, "email": "new@example.com", "next": review}
    )
    known = client.post("/account/magic", data={"csrf_token": token, "email": "casey@example.com"})

    # The page says the same either way; each address gets one email.
    assert asked.headers["Location"] == known.headers["Location"] == "/account/check-email"
    sent = {m["To"]: m for m in mails(outbox)}
    assert set(sent) == {"new@example.com", "casey@example.com"}
    newcomer = sent["new@example.com"]
    assert newcomer["Subject"] == "No Kairos account uses this address"
    assert "You don't need an account to book" in text_part(newcomer)
    assert link_path(newcomer) == review  # back to the booking they were making
    assert accounts_named("new@example.com") == []


@pytest.mark.stripe
def test_a_payment_hold_that_cannot_open_releases_the_time_and_signs_in_to_try_again(
    app, client, paid
):
    """Stripe down: the time is let go. The hold is opened after the commit (never with
    a transaction open over the call to Stripe), so the new account stays, and this
    browser is signed in to it: trying again is one tap, not an emailed link."""
    from services.payments import gateway

    settings = app.config["SETTINGS"]
    gateway.configure(settings.with_overrides(stripe_api_base="http://127.0.0.1:9"))
    try:
        response = book_as_guest(client, paid["massage"])
    finally:
        gateway.configure(settings)

    (user,) = accounts_named("sky@example.com")
    assert [b.status for b in Booking.select()] == ["expired"]  # released, not held
    assert signed_in_user_id(client) == str(user.id)
    assert response.status_code == 303  # back to the same review page, signed in
    review = client.get(response.headers["Location"])
    assert "Booking as Sky Porter" in body(review)  # the Confirm button
    assert "Card payments are not available right now" in body(review)

    # Stripe answers again: one tap books it.
    retried = client.post(
        f"/clinic/book/{paid['massage'].id}/confirm",
        data={"csrf_token": csrf_token(review), "start": MON_10.isoformat(), "provider": "any"},
    )
    held = Booking.get(Booking.status == "pending_payment")
    assert held.customer_id == user.id
    assert retried.headers["Location"] == f"/appointments/{held.id}/pay"


@pytest.mark.stripe
def test_a_paid_service_booked_as_a_guest_goes_on_to_payment(client, paid):
    response = book_as_guest(client, paid["massage"])

    (user,) = accounts_named("sky@example.com")
    booking = Booking.get(Booking.customer == user.id)
    assert booking.status == "pending_payment"
    assert response.headers["Location"] == f"/appointments/{booking.id}/pay"
    assert signed_in_user_id(client) == str(user.id)
    assert client.get(response.headers["Location"]).status_code == 200


def test_a_passwordless_account_is_deleted_after_opening_an_emailed_link(app, clinic, outbox):
    client = app.test_client()
    book_as_guest(client, clinic["follow_up"])
    (user,) = accounts_named("sky@example.com")

    token = csrf_token(client.get("/account/delete"))
    refused = client.post("/account/delete", data={"csrf_token": token})
    assert refused.status_code == 422
    assert "first sign in with the link in your confirmation email" in body(refused)
    assert User.get_by_id(user.id).email == "sky@example.com"

    token = csrf_token(client.get("/account/magic"))
    client.post("/account/magic", data={"csrf_token": token, "email": "sky@example.com"})
    link = link_path(mails(outbox)[-1])
    client.post(link, data={"csrf_token": csrf_token(client.get(link))})
    token = csrf_token(client.get("/account/delete"))
    deleted = client.post("/account/delete", data={"csrf_token": token})

    assert deleted.status_code == 303
    assert User.get_by_id(user.id).email != "sky@example.com"
    assert Booking.get(Booking.customer == user.id).status == "cancelled"
