"""Signing in with a code texted to a phone (issue 17), through the pages, with Twilio a
local stand-in that records each text (tests/standins/twilio.py): the number, the code
(6 digits, 10 minutes, once, 5 tries, stored hashed), a new number's name, adding a
number to an account, the limits, Twilio's refusals, and the same answer for every
number."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from models import Identity, NotificationPrefs, PhoneCode, SignIn, User
from services.ratelimits import LIMITS
from tests.integration.test_accounts import mails, use_outbox
from tests.integration.webpages import csrf_token, parse, text_of
from tests.standins.twilio import TwilioStandIn

NUMBER = "+447911123456"
SHOWN = "+44 7911 123456"
START = "/sign-in/phone"
CODE = "/sign-in/phone/code"
NAME = "/sign-in/phone/name"
ADD = "/account/sign-in-methods/phone"


@pytest.fixture
def twilio():
    with TwilioStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def app_settings(twilio) -> dict:
    return {
        "twilio_sid": twilio.account_sid,
        "twilio_token": twilio.auth_token,
        "twilio_from": "+15005550006",
        "twilio_api_url": twilio.base_url,
        "base_url": "https://kairos.test",
    }


def code_in(text) -> str:
    return re.match(r"(\d{6}) is your Kairos code", text.body)[1]


def last_code(twilio, to: str = NUMBER) -> str:
    return code_in([m for m in twilio.messages if m.to == to][-1])


def ask(client, number: str = "07911 123456", next_: str = "", path: str = START):
    page = client.get(path + (f"?next={next_}" if next_ else ""))
    assert page.status_code == 200, page.status_code
    form = {"csrf_token": csrf_token(page), "phone": number, "next": next_}
    return client.post(path, data=form)


def enter(client, code: str):
    page = client.get(CODE)
    return client.post(CODE, data={"csrf_token": csrf_token(page), "code": code})


def give_number(user, clock, number: str = NUMBER) -> Identity:
    return Identity.create(user=user, provider="phone", subject=number, created_at=clock.now)


@pytest.fixture
def outbox(app, tmp_path):
    folder = use_outbox(app, tmp_path)
    return lambda: mails(folder)


@pytest.fixture
def casey(clinic):
    return clinic["customer"]


# The pages ----------------------------------------------------------------------------


def test_the_sign_in_page_offers_a_texted_code_only_when_texts_can_be_sent(app, client):
    page = parse(client.get("/account/sign-in?next=/appointments"))
    button = page.one("a", class_="sign-in-phone")
    assert button.text == "Text me a code"
    assert button.attrs["href"] == f"{START}?next=/appointments"
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], twilio_sid="")
    assert parse(client.get("/account/sign-in")).find("a", class_="sign-in-phone") is None
    assert client.get(START).status_code == 404


def test_a_number_in_the_local_format_is_texted_a_six_digit_code_kept_only_hashed(
    client, twilio, clock
):
    page = parse(client.get(START))
    field = page.one("input", name="phone")
    assert (field.attrs["type"], field.attrs["autocomplete"]) == ("tel", "tel")
    answer = ask(client, "07911 123456")
    assert answer.status_code == 303
    assert answer.headers["Location"] == CODE
    (text,) = twilio.messages
    assert (text.to, text.from_) == (NUMBER, "+15005550006")
    code = code_in(text)
    assert text.body.endswith(f"\n\n@kairos.test #{code}")  # WebOTP: the phone offers it
    row = PhoneCode.get(PhoneCode.phone == NUMBER)
    assert code not in (row.code_hash, row.salt)
    assert len(row.code_hash) == 64
    assert row.expires_at == clock.now.replace(minute=10)
    shown = client.get(CODE)
    assert shown.headers["Cache-Control"] == "no-store"
    assert f"We texted a code to {SHOWN}" in text_of(shown)
    box = parse(shown).one("input", name="code")
    assert box.attrs["autocomplete"] == "one-time-code"
    assert box.attrs["inputmode"] == "numeric"
    assert "code-input" in box.classes
    assert parse(shown).one("a", href=START).text == "Use a different number"


def test_a_bad_number_is_a_422_on_its_field_keeping_what_was_typed(client, twilio):
    answer = ask(client, "0770 09")
    assert answer.status_code == 422
    field = parse(answer).one("input", name="phone")
    assert field.attrs["value"] == "0770 09"
    assert field.attrs["aria-invalid"] == "true"
    assert "Enter a valid phone number" in text_of(answer)
    assert twilio.messages == []


def test_with_htmx_a_bad_number_swaps_the_form_and_a_good_one_redirects(client, twilio):
    token = csrf_token(client.get(START))
    headers = {"HX-Request": "true", "HX-Request-Type": "partial"}
    bad = client.post(START, data={"csrf_token": token, "phone": "12"}, headers=headers)
    assert bad.status_code == 422
    assert bad.get_data(as_text=True).lstrip().startswith("<form")
    assert "HX-Request" in bad.headers["Vary"]
    good = client.post(START, data={"csrf_token": token, "phone": "07911 123456"}, headers=headers)
    assert good.headers["HX-Redirect"] == CODE


def test_a_known_number_signs_in_to_its_account_keeping_next(client, twilio, casey, clock):
    identity = give_number(casey, clock)
    assert ask(client, next_="/appointments").status_code == 303
    clock.advance(minutes=9)
    answer = enter(client, last_code(twilio))
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/appointments"
    assert client.get("/account/profile").status_code == 200
    assert SignIn.get(SignIn.user == casey.id).method == "phone"
    assert Identity.get_by_id(identity.id).last_used_at == clock.now


def test_staff_signing_in_by_phone_land_in_their_workspace(client, twilio, clinic, clock):
    give_number(clinic["owner"], clock)
    ask(client)
    answer = enter(client, last_code(twilio))
    assert answer.headers["Location"].startswith("/w/clinic")


def test_a_new_number_asks_a_name_then_makes_a_customer_account(client, twilio, clock):
    ask(client, next_="/clinic")
    answer = enter(client, last_code(twilio))
    assert answer.headers["Location"] == NAME
    page = client.get(NAME)
    assert "What's your name?" in text_of(page)
    assert SHOWN in text_of(page)
    # Someone with an account already is shown the way to add the number to it.
    assert "/account/sign-in?next=/account/sign-in-methods/phone" in page.get_data(as_text=True)
    empty = client.post(NAME, data={"csrf_token": csrf_token(page), "name": " "})
    assert empty.status_code == 422
    assert "Enter your name." in text_of(empty)
    made = client.post(NAME, data={"csrf_token": csrf_token(page), "name": "Robin Vale"})
    assert made.status_code == 303
    assert made.headers["Location"] == "/clinic"
    user = User.get(User.name == "Robin Vale")
    assert (user.email, user.phone, user.password_hash) == (None, NUMBER, None)
    identity = Identity.get(Identity.user == user.id)
    assert (identity.provider, identity.subject) == ("phone", NUMBER)
    assert NotificationPrefs.of(user.id).sms  # booking news comes by text
    assert SignIn.get(SignIn.user == user.id).method == "phone"
    assert client.get(NAME).headers["Location"].startswith(START)  # the flow is over


def test_two_tabs_naming_one_new_number_make_one_account(app, twilio):
    tabs = [app.test_client(), app.test_client()]
    for tab in tabs:
        ask(tab)
        assert enter(tab, last_code(twilio)).headers["Location"] == NAME
    for tab, name in zip(tabs, ("Robin Vale", "Robin V."), strict=True):
        page = tab.get(NAME)
        made = tab.post(NAME, data={"csrf_token": csrf_token(page), "name": name})
        assert made.status_code == 303
    (user,) = User.select().where(User.phone == NUMBER)
    assert user.name == "Robin Vale"
    assert SignIn.select().where(SignIn.user == user.id).count() == 2


def test_the_name_page_needs_a_number_proven_lately(client, twilio, clock):
    assert client.get(NAME).headers["Location"] == START
    ask(client)
    assert client.get(NAME).headers["Location"] == START  # not proven yet
    enter(client, last_code(twilio))
    clock.advance(minutes=31)
    assert client.get(NAME).status_code == 303


def test_a_new_account_with_a_taken_email_is_made_without_it_and_says_the_same(
    app, twilio, casey, outbox
):
    answers = []
    for number, email in (("07911 123456", casey.email), ("07911 123457", "robin@example.com")):
        client = app.test_client()
        ask(client, number)
        enter(client, last_code(twilio, "+44" + number[1:].replace(" ", "")))
        page = client.get(NAME)
        form = {"csrf_token": csrf_token(page), "name": "Robin Vale", "email": email}
        made = client.post(NAME, data=form, follow_redirects=True)
        answers.append(text_of(made).replace(email, "<email>"))
    assert answers[0] == answers[1]
    assert "We've emailed a link to <email>" in answers[0]
    first, second = User.select().where(User.name == "Robin Vale").order_by(User.id)
    assert first.email is None
    assert second.email is None
    subjects = {m["To"]: m["Subject"] for m in outbox()}
    assert subjects[casey.email] == "This address already has a Kairos account"
    assert subjects["robin@example.com"] == "Confirm your new email address"


# The same answer for every number ------------------------------------------------------


def test_the_same_page_and_status_whether_or_not_the_number_has_an_account(
    app, twilio, casey, clock
):
    give_number(casey, clock)
    seen = []
    for number in ("07911 123456", "07911 123457"):
        client = app.test_client()
        answer = ask(client, number)
        page = client.get(CODE)
        body = re.sub(r'value="[^"]+"|"X-CSRFToken": "[^"]+"', "", page.get_data(as_text=True))
        seen.append((answer.status_code, answer.headers["Location"], body.replace(number[7:], "")))
    assert seen[0][:2] == seen[1][:2] == (303, CODE)
    assert seen[0][2] == seen[1][2]
    assert len(twilio.messages) == 2


# The code: wrong, expired, used, tried five times ------------------------------------


def test_a_wrong_code_is_a_422_saying_how_many_tries_are_left(client, twilio):
    ask(client)
    right = last_code(twilio)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        answer = enter(client, wrong)
        assert answer.status_code == 422
        assert f"That code isn't right. {left} {'try' if left == 1 else 'tries'} left." in (
            text_of(answer)
        )
        assert parse(answer).one("input", name="code").attrs["value"] == wrong
    last = enter(client, wrong)
    assert "can't be tried again: send a new code" in text_of(last)
    assert "Send a new code" in [b.text for b in parse(last).find_all("button", class_="primary")]
    dead = enter(client, right)  # five tries: the code is dead, even the right one
    assert dead.status_code == 422
    assert "This code has expired or has been used up" in text_of(dead)
    assert SignIn.select().count() == 0


def test_a_code_works_for_ten_minutes(client, twilio, casey, clock):
    give_number(casey, clock)
    ask(client)
    clock.advance(minutes=10)
    answer = enter(client, last_code(twilio))
    assert answer.status_code == 422
    assert "expired" in text_of(answer)
    assert "Send a new code" in [b.text for b in parse(answer).find_all("button", class_="primary")]


def test_a_code_works_once(app, client, twilio, casey, clock):
    give_number(casey, clock)
    ask(client)
    code = last_code(twilio)
    other = app.test_client()
    with other.session_transaction() as session:  # the same number's flow, elsewhere
        session["phone_flow"] = {"phone": NUMBER, "next": "", "user": None}
    assert enter(client, code).status_code == 303
    assert enter(other, code).status_code == 422


def test_a_new_code_replaces_the_old_one(client, twilio, casey, clock):
    give_number(casey, clock)
    ask(client)
    old = last_code(twilio)
    page = client.get(CODE)
    sent = client.post(f"{CODE}/resend", data={"csrf_token": csrf_token(page)})
    assert (sent.status_code, sent.headers["Location"]) == (303, CODE)
    new = last_code(twilio)
    assert len(twilio.messages) == 2
    if new != old:
        assert enter(client, old).status_code == 422
    assert enter(client, new).status_code == 303


# Limits ------------------------------------------------------------------------------


def test_texts_to_one_number_are_limited(client, twilio):
    allowed = LIMITS["texts_per_number"].count
    ask(client)
    page = client.get(CODE)
    for _ in range(allowed - 1):
        assert client.post(f"{CODE}/resend", data={"csrf_token": csrf_token(page)}).status_code
    refused = client.post(f"{CODE}/resend", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 429
    assert "Too many codes asked for. Try again in" in text_of(refused)
    assert int(refused.headers["Retry-After"]) > 0
    again = ask(client, "+44 7911 123456")  # however it is written
    assert again.status_code == 429
    assert parse(again).one("input", name="phone").attrs["value"] == "+44 7911 123456"
    assert len(twilio.messages) == allowed


def test_texts_from_one_address_are_limited_whatever_the_number(client, twilio):
    allowed = LIMITS["texts_per_ip"].count
    for n in range(allowed):
        assert ask(client, f"07911 123{n:03d}").status_code == 303
    assert ask(client, "07911 124999").status_code == 429
    assert len(twilio.messages) == allowed


def test_wrong_codes_for_one_number_are_limited_across_codes(client, twilio):
    allowed = LIMITS["phone_codes_per_number"].count
    wrong = 0
    while wrong < allowed:
        ask(client)
        right = last_code(twilio)
        for _ in range(min(4, allowed - wrong)):
            assert enter(client, f"{(int(right) + 1) % 10**6:06d}").status_code == 422
            wrong += 1
    refused = enter(client, last_code(twilio))
    assert refused.status_code == 429
    assert "Too many tries." in text_of(refused)


# Twilio's refusals ---------------------------------------------------------------------


def test_a_number_that_replied_stop_is_a_422_on_the_number_in_plain_words(client, twilio):
    twilio.unsubscribe(NUMBER)
    answer = ask(client)
    assert answer.status_code == 422
    assert "asked us to stop texting it (it replied STOP)" in text_of(answer)
    assert parse(answer).one("input", name="phone").attrs["aria-invalid"] == "true"
    assert "21610" not in text_of(answer)


def test_a_number_twilio_cannot_text_is_a_422_on_the_number(client, twilio):
    twilio.refuse_number(NUMBER)
    answer = ask(client)
    assert answer.status_code == 422
    assert "We can't send texts to this number." in text_of(answer)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_twilio_busy_or_down_is_a_503_to_try_again(client, twilio, status):
    twilio.fail_next(status)
    answer = ask(client)
    assert answer.status_code == 503
    assert "We couldn't send a text just now. Try again" in text_of(answer)
    assert answer.headers["Retry-After"] == "60"
    assert ask(client).status_code == 303  # and when it is back, it goes


# Adding a number to an account -------------------------------------------------------


def test_sign_in_methods_adds_a_number_once_it_is_proven(signed_in, twilio, casey, clock):
    client = signed_in(casey)
    methods = parse(client.get("/account/sign-in-methods"))
    assert methods.one("a", href=ADD).text == "Add a phone number"
    answer = ask(client, path=ADD)
    assert answer.headers["Location"] == CODE
    assert "add the number to your account" in text_of(client.get(CODE))
    done = enter(client, last_code(twilio))
    assert done.headers["Location"] == "/account/sign-in-methods"
    identity = Identity.get(Identity.user == casey.id)
    assert (identity.provider, identity.subject) == ("phone", NUMBER)
    assert User.get_by_id(casey.id).phone == NUMBER
    assert f"{SHOWN} now signs you in." in text_of(client.get("/account/sign-in-methods"))


def test_a_number_another_account_proved_is_refused_plainly(
    signed_in, twilio, casey, clinic, clock
):
    give_number(clinic["owner"], clock)
    client = signed_in(casey)
    ask(client, path=ADD)
    answer = enter(client, last_code(twilio))
    assert answer.status_code == 409
    assert "already signs in to another Kairos account" in text_of(answer)
    assert Identity.get(Identity.subject == NUMBER).user_id == clinic["owner"].id


def test_a_number_being_added_belongs_to_that_sign_in_only(app, signed_in, twilio, casey):
    client = signed_in(casey)
    ask(client, path=ADD)
    client.post("/account/sign-out", data={"csrf_token": csrf_token(client.get(ADD))})
    assert client.get(CODE).headers["Location"].startswith(START)


# An account with no email --------------------------------------------------------------


@pytest.fixture
def robin(client, twilio):
    """A customer who signed up by phone, with no email, signed in on ``client``."""
    ask(client)
    enter(client, last_code(twilio))
    page = client.get(NAME)
    client.post(NAME, data={"csrf_token": csrf_token(page), "name": "Robin Vale"})
    return User.get(User.name == "Robin Vale")


def test_an_account_without_email_has_a_profile_and_its_data(client, robin):
    profile = client.get("/account/profile")
    assert profile.status_code == 200
    assert f"Signed in as {SHOWN}" in text_of(profile)
    assert "None" not in text_of(profile)
    assert client.get("/appointments").status_code == 200
    assert client.get("/account/my-data.json").status_code == 200
    assert client.get("/account/my-bookings.ics").status_code == 200
    assert client.get("/account/sign-in-methods").status_code == 200


def test_an_account_without_email_adds_one_by_a_link(client, robin, outbox):
    page = client.get("/account/profile")
    assert parse(page).find("input", name="email_password") is None
    sent = client.post(
        "/account/profile/email",
        data={"csrf_token": csrf_token(page), "new_email": "robin@example.com"},
    )
    assert sent.status_code == 303
    (mail,) = outbox()
    assert mail["To"] == "robin@example.com"


def test_an_account_without_email_is_deleted_with_its_number(client, robin, twilio, clock):
    page = client.get("/account/delete")
    deleted = client.post("/account/delete", data={"csrf_token": csrf_token(page)})
    assert deleted.status_code == 303
    assert Identity.select().where(Identity.user == robin.id).count() == 0
    assert User.get_by_id(robin.id).phone is None
    fresh = ask(client)  # the number is free: a new account, not the deleted one
    assert fresh.status_code == 303
    assert enter(client, last_code(twilio)).headers["Location"] == NAME


def test_deleting_it_asks_for_a_fresh_texted_code(app, robin, twilio, signed_in):
    client = signed_in(robin)  # signed in, but not by a code in this session
    page = client.get("/account/delete")
    again = parse(page).one("a", href="/sign-in/phone?next=/account/delete")
    assert again.text == "sign in again with a texted code"
    refused = client.post("/account/delete", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 422
    assert "first sign in again with a code texted to your phone" in text_of(refused)
    ask(client, next_="/account/delete")
    assert enter(client, last_code(twilio)).headers["Location"] == "/account/delete"
    page = client.get("/account/delete")
    deleted = client.post("/account/delete", data={"csrf_token": csrf_token(page)})
    assert deleted.status_code == 303


def test_booking_as_a_customer_without_email_confirms_by_text(
    app, client, robin, clinic, clock, dispatched, twilio, tmp_path
):
    from models import Notification
    from services.notifications.delivery import Channels, deliver

    service = clinic["follow_up"]
    review = f"/clinic/book/{service.id}/review?start=2026-11-30T10:00:00%2B00:00"
    page = client.get(review)
    assert f"Booking as Robin Vale ({SHOWN})" in text_of(page)
    booked = client.post(
        f"/clinic/book/{service.id}/confirm",
        data={"csrf_token": csrf_token(page), "start": "2026-11-30T10:00:00+00:00"},
    )
    assert booked.status_code == 303, text_of(booked)
    confirmed = client.get(booked.headers["Location"])
    assert confirmed.status_code == 200
    assert "None" not in text_of(confirmed)
    notifications = text_of(client.get("/account/notifications"))
    assert f"come by text to {SHOWN}" in notifications
    (row,) = Notification.select().where(Notification.recipient == robin.id)
    assert row.channel == "sms"
    channels = Channels.from_settings(app.config["SETTINGS"], outbox=tmp_path)
    assert deliver(row.id, channels, clock.now) == "sent"
    text = twilio.messages[-1]
    assert text.to == NUMBER
    assert text.body.startswith("Clinic: Booked: Follow-up, Mon 30 Nov at 10:00.")


def test_codes_are_forgotten_a_day_after_they_expire(client, twilio, clock):
    from datetime import timedelta

    from services.identity import phone

    ask(client)
    expires = PhoneCode.get(PhoneCode.phone == NUMBER).expires_at
    assert phone.purge(expires + timedelta(hours=23)) == 0
    assert phone.purge(expires + timedelta(days=1, minutes=1)) == 1
    assert not PhoneCode.select().exists()
