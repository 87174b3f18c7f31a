"""Account → Sign-in methods (issue 17): every way the account signs in, when it was
added and last used, and the last one cannot be removed, even by two removals at once."""

from __future__ import annotations

import pytest

from models import Identity, Passkey, User
from services.identity import methods
from tests import factories
from tests.integration.test_accounts import csrf_token
from tests.integration.test_sessions import CASEY, devices_of, signed_in_device
from tests.integration.webpages import parse

PAGE = "/account/sign-in-methods"


@pytest.fixture
def casey(clinic):
    return clinic["customer"]


@pytest.fixture
def phone(app, casey):
    return signed_in_device(devices_of(app))


def listed(response) -> list[str]:
    items = parse(response).one("ul", class_="sign-in-methods").find_all("li")
    return [" ".join(item.text.split()) for item in items]


def removes(response) -> list:
    return [b for b in parse(response).find_all("button") if b.text.strip() == "Remove"]


def give(user, clock, provider="google", subject="g-1", email="casey@gmail.test") -> Identity:
    return Identity.create(
        user=user, provider=provider, subject=subject, email=email, created_at=clock.now
    )


def test_the_page_lists_password_link_identities_and_passkeys(phone, casey, clock):
    give(casey, clock)
    give(casey, clock, "phone", "+447700900123", None)
    Passkey.create(
        user=casey,
        credential_id=b"\x01" * 16,
        public_key=b"k",
        name="Pixel 8",
        created_at=clock.now,
    )
    response = phone.get(PAGE)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password, link, google, number, passkey = listed(response)
    assert password.startswith("Password")
    assert "Last used Wed 25 Nov" in password
    assert link.startswith(f"Email link {CASEY}")
    assert google.startswith("Google casey@gmail.test Added")
    assert "Not used yet" in google
    assert number.startswith("Phone number +44 7700 900123")
    assert passkey.startswith("Passkey Pixel 8")
    assert len(removes(response)) == 4  # not the email link


def test_the_password_says_when_it_was_set(app, phone, casey, clock):
    assert "Added" in listed(phone.get(PAGE))[0]  # with the account (made by the factory)
    clock.advance(days=2)
    phone = signed_in_device(devices_of(app))  # the first sign-in has run out meanwhile
    token = csrf_token(phone, "/account/profile")
    changed = phone.post(
        "/account/profile/password",
        data={
            "csrf_token": token,
            "current_password": factories.PASSWORD,
            "new_password": "another long passphrase",
        },
    )
    assert changed.status_code == 303
    assert "Added Fri 27 Nov" in listed(phone.get(PAGE))[0]


def test_the_profile_links_to_it(phone):
    assert PAGE in phone.get("/account/profile").get_data(as_text=True)


def test_removing_a_method(phone, casey, clock):
    google = give(casey, clock)
    token = csrf_token(phone, PAGE)
    response = phone.post(f"{PAGE}/identities/{google.id}/remove", data={"csrf_token": token})
    assert response.status_code == 303
    assert not Identity.select().where(Identity.user == casey.id).exists()
    assert "Google (casey@gmail.test) is removed" in phone.get(PAGE).get_data(as_text=True)


def test_someone_elses_method_is_not_found(phone, app, clock):
    other = User.create(email="other@example.test", name="Other")
    theirs = give(other, clock, subject="g-2", email="other@gmail.test")
    token = csrf_token(phone, PAGE)
    response = phone.post(f"{PAGE}/identities/{theirs.id}/remove", data={"csrf_token": token})
    assert response.status_code == 404
    assert Identity.get_by_id(theirs.id)


def test_the_last_method_stays(app, clock):
    # An account with a Google identity only: no password, no email.
    only = User.create(email=None, name="Only Google")
    google = give(only, clock, subject="g-3", email=None)
    assert [m.kind for m in methods.methods_of(only)] == ["google"]
    with pytest.raises(methods.LastMethod):
        methods.remove(only.id, "identity", google.id)
    assert Identity.get_by_id(google.id)


def test_the_last_method_has_no_remove_button_and_a_forged_post_gets_409(app, phone, casey):
    token = csrf_token(phone, PAGE)
    # Password and email link: the password may go, as the link remains.
    assert phone.post(f"{PAGE}/password/remove", data={"csrf_token": token}).status_code == 303
    assert User.get_by_id(casey.id).password_hash is None
    page = phone.get(PAGE)
    assert [entry.split()[0] for entry in listed(page)] == ["Email"]
    assert not removes(page)
    assert "only way in" in page.get_data(as_text=True)


def test_two_removals_at_once_leave_one(app, clock):
    user = User.create(email=None, name="Two Ways")
    first = give(user, clock, subject="g-4", email=None)
    second = give(user, clock, "facebook", "f-4", None)
    methods.remove(user.id, "identity", first.id)
    with pytest.raises(methods.LastMethod):
        methods.remove(user.id, "identity", second.id)
    assert Identity.select().where(Identity.user == user.id).count() == 1


def test_signed_out_people_are_sent_to_sign_in(app):
    response = app.test_client().get(PAGE)
    assert response.status_code in (302, 303)
    assert "/account/sign-in" in response.headers["Location"]
