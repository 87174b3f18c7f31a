"""Joining from the emailed link: as a new user, signed in, signed in as somebody else,
and links that are expired, used, withdrawn or replaced; one membership, however often
the button is pressed."""

from __future__ import annotations

import threading

import pytest

from models import Invitation, Membership, Provider, User, db
from services.workspace import invitations
from tests import factories
from tests.integration.test_accounts import (
    PARTIAL,
    body,
    link_path,
    mails,
    signed_in_user_id,
    use_outbox,
)
from tests.integration.test_ws_staff import STAFF, post, with_invitations
from tests.integration.webpages import parse, query

NIA = "/w/clinic/join/nia-token"
CASEY = "/w/clinic/join/casey-token"
NEW = {"name": "Nia  New", "password": "a long enough password", "phone": "07911 123456"}


@pytest.fixture
def outbox(app, tmp_path):
    return use_outbox(app, tmp_path)


@pytest.fixture
def invited(world, clinic, clock, outbox):
    return with_invitations(world, clinic, clock)


def _providers(user_id: int) -> list[tuple[int, bool]]:
    return [
        (p.organisation_id, p.active) for p in Provider.select().where(Provider.user == user_id)
    ]


def _roles(user_id: int, org_id: int) -> set[str]:
    return {
        m.role
        for m in Membership.select().where(
            (Membership.user == user_id) & (Membership.organisation == org_id)
        )
    }


# A new person -------------------------------------------------------------------------


def test_the_whole_flow_invite_email_sign_up_and_join(app, world, clinic, outbox, clock, signed_in):
    owner = signed_in(world["owner"])
    post(owner, STAFF, {"name": "Nia New", "email": "nia@example.com"})
    (message,) = mails(outbox)
    link = link_path(message)
    visitor = app.test_client()

    page = visitor.get(link)

    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    form = parse(page).one("form", class_="account-form")
    assert form.one("input", name="name").attrs["value"] == "Nia New"
    shown = form.one("input", id="invited-email")
    assert (shown.attrs["value"], "readonly" in shown.attrs, "name" in shown.attrs) == (
        "nia@example.com",
        True,
        False,
    )
    response = post(visitor, link, NEW, page=link)

    assert response.status_code == 303
    assert response.headers["Location"] == "/w/clinic/dashboard"  # asking for hours
    user = User.get(User.email == "nia@example.com")
    assert (user.name, user.phone) == ("Nia New", "+447911123456")
    assert user.password_hash.startswith("$argon2id$")
    assert signed_in_user_id(visitor) == str(user.id)
    assert _providers(user.id) == [(clinic["org"].id, True)]
    assert Provider.get(Provider.user == user.id).name == "Nia New"
    assert _roles(user.id, clinic["org"].id) == {"provider"}
    invitation = Invitation.get(Invitation.email == "nia@example.com")
    assert (invitation.accepted_at, invitation.accepted_by_id) == (clock(), user.id)
    landing = visitor.get("/w/clinic/dashboard")
    assert landing.status_code == 200
    assert "Welcome to Clinic." in body(landing)
    assert "Set your working hours" in body(landing)  # nobody can book them without
    # The owner sees them among the providers, and no longer as pending.
    staff_page = parse(owner.get(STAFF))
    assert "nia@example.com" in staff_page.one("section", aria_labelledby="staff-active").text
    assert "nia@" not in staff_page.one("section", aria_labelledby="staff-pending").text
    # The link is used up.
    assert app.test_client().get(link).status_code == 410


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": " "}, "name", "Enter your name."),
        ({"password": "short"}, "password", "Use at least 10 characters."),
        ({"password": "password123"}, "password", "This password is too easy to guess."),
        ({"password": "nia@example.com"}, "password", "too close to your name or email"),
        ({"password": "Nia New 2024"}, "password", "too close to your name or email"),
        ({"phone": "12"}, "phone", "Enter a valid phone number"),
    ],
)
def test_sign_up_errors_keep_what_was_typed_and_the_link(app, invited, data, field, message):
    visitor = app.test_client()
    response = post(visitor, NIA, NEW | data, page=NIA)
    assert response.status_code == 422
    form = parse(response).one("form", class_="account-form")
    assert message in form.one("p", class_="error", id=f"{field}-error").text
    assert form.one("input", name="name").attrs["value"] == (NEW | data)["name"]
    assert form.one("input", name="phone").attrs["value"] == (NEW | data)["phone"]
    assert form.one("input", name="password").attrs.get("value", "") == ""  # never sent back
    assert User.get_or_none(User.email == "nia@example.com") is None
    assert Invitation.get_by_id(invited["invitation"]).accepted_at is None
    assert visitor.get(NIA).status_code == 200


def test_htmx_sign_up_errors_swap_the_form_and_success_redirects(app, invited):
    visitor = app.test_client()
    bad = post(visitor, NIA, NEW | {"password": "x"}, page=NIA, headers=PARTIAL)
    assert bad.status_code == 422
    assert body(bad).lstrip().startswith("<form")
    good = post(visitor, NIA, NEW, page=NIA, headers=PARTIAL)
    assert (good.status_code, good.headers["HX-Redirect"]) == (200, "/w/clinic/dashboard")


def test_an_account_made_meanwhile_means_signing_in(app, invited):
    visitor = app.test_client()
    token_page = visitor.get(NIA)
    factories.make_user("nia@example.com", "Nia Elsewhere")  # e.g. signed up in another tab
    response = post(visitor, NIA, NEW, page=NIA)
    assert response.status_code == 403
    assert "Sign in to accept" in body(response)
    assert token_page.status_code == 200
    assert Membership.select().where(Membership.role == "provider").count() == 2  # Ana, Tom
    # With htmx the sign-up form can't become a sign-in prompt in place: load the page.
    swapped = post(visitor, NIA, NEW, page=NIA, headers=PARTIAL)
    assert (swapped.status_code, swapped.headers["HX-Redirect"]) == (200, NIA)


# Somebody with an account -------------------------------------------------------------


def test_an_existing_account_is_asked_to_sign_in_and_comes_back(app, invited):
    visitor = app.test_client()
    page = visitor.get(CASEY)
    assert page.status_code == 200
    sign_in = parse(page).find("a", class_="button").attrs["href"]
    assert sign_in.startswith("/account/sign-in")
    assert query(sign_in)["next"] == CASEY
    assert "There is already a Kairos account for casey@example.com" in body(page)
    assert post(visitor, CASEY, page=CASEY).status_code == 403
    assert _providers(invited["customer"].id) == []


def test_signing_in_through_the_link_then_joining(app, invited, clinic, signed_in):
    visitor = app.test_client()
    data = {"email": "casey@example.com", "password": factories.PASSWORD, "next": CASEY}
    signed_in = post(visitor, "/account/sign-in", data, page="/account/sign-in")
    assert signed_in.headers["Location"] == CASEY
    page = visitor.get(CASEY)
    assert parse(page).one("section", class_="staff-join").one("button").text == "Join Clinic"

    response = post(visitor, CASEY, page=CASEY)

    assert (response.status_code, response.headers["Location"]) == (303, "/w/clinic/dashboard")
    casey = invited["customer"]
    assert _providers(casey.id) == [(clinic["org"].id, True)]
    assert _roles(casey.id, clinic["org"].id) == {"provider"}
    assert Provider.get(Provider.user == casey.id).name == "Casey Morgan"
    assert visitor.get("/w/clinic").status_code == 200
    assert visitor.get("/appointments").status_code == 200  # still a customer too


def test_pressing_join_twice_makes_one_membership(signed_in, invited):
    client = signed_in(invited["customer"])
    assert post(client, CASEY, page=CASEY).status_code == 303
    again = post(client, CASEY, page="/")
    assert again.status_code == 410
    assert len(_providers(invited["customer"].id)) == 1
    assert Membership.select().where(Membership.user == invited["customer"].id).count() == 1


def test_signed_in_as_somebody_else_offers_to_switch(signed_in, invited):
    client = signed_in(invited["provider"])  # Ana opens Casey's link
    page = client.get(CASEY)
    assert "You are signed in as ana@clinic.test, but this invitation is for casey" in body(page)
    assert post(client, CASEY, page=CASEY).status_code == 403
    assert _providers(invited["customer"].id) == []

    before = client.get_cookie("session").value
    switched = post(client, CASEY, {"action": "switch"}, page=CASEY)

    assert (switched.status_code, switched.headers["Location"]) == (303, CASEY)
    assert signed_in_user_id(client) is None
    assert "Sign in to accept" in body(client.get(CASEY))
    # Ana's sign-in ended for good: her cookie from before, replayed, signs nobody in.
    replayed = client.application.test_client()
    replayed.set_cookie("session", before)
    assert "Sign in to accept" in body(replayed.get(CASEY))


def test_a_provider_at_another_business_is_told_why_not(signed_in, invited, clinic):
    elsewhere = Provider.get_by_id(invited["other provider"]).organisation
    factories.make_provider(elsewhere, "Casey at Elsewhere", user=invited["customer"])
    client = signed_in(invited["customer"])

    page = client.get(CASEY)
    assert page.status_code == 200
    assert "already sees customers at Elsewhere" in body(page)
    assert "Join Clinic</button>" not in body(page)
    response = post(client, CASEY, page=CASEY)

    assert response.status_code == 409
    assert "one business at a time" in body(response)
    assert Invitation.get_by_id(invited["casey's invitation"]).accepted_at is None
    assert _roles(invited["customer"].id, clinic["org"].id) == set()


def test_somebody_let_go_elsewhere_can_join(signed_in, invited, clinic):
    elsewhere = Provider.get_by_id(invited["other provider"]).organisation
    old = factories.make_provider(elsewhere, "Casey at Elsewhere", user=invited["customer"])
    Provider.update(active=False).where(Provider.id == old.id).execute()
    Membership.delete().where(Membership.user == invited["customer"].id).execute()

    assert post(signed_in(invited["customer"]), CASEY, page=CASEY).status_code == 303

    assert _providers(invited["customer"].id) == [(clinic["org"].id, True)]
    assert Provider.get_by_id(old.id).user_id is None  # Elsewhere keeps the name and history


def test_a_returning_provider_gets_their_old_column_back(signed_in, invited, clinic):
    ana = invited["provider"]
    User.update(email="casey-old@example.com").where(User.id == invited["customer"].id).execute()
    User.update(email="casey@example.com").where(User.id == ana.id).execute()
    Provider.update(active=False).where(Provider.id == invited["ana"]).execute()
    Membership.delete().where(Membership.user == ana.id).execute()

    assert post(signed_in(ana), CASEY, page=CASEY).status_code == 303

    assert Provider.get_by_id(invited["ana"]).active
    assert _providers(ana.id) == [(clinic["org"].id, True)]


# Links that don't work ----------------------------------------------------------------


def test_an_expired_link_is_gone_with_a_friendly_page(app, invited, clock, signed_in):
    clock.advance(days=7)
    for client in (app.test_client(), signed_in(invited["customer"])):
        response = client.get(CASEY)
        assert response.status_code == 410
        assert "ask the business's owner to send you a new invitation" in body(response)
        assert response.headers["Cache-Control"] == "no-store"
    assert post(signed_in(invited["customer"]), CASEY, page="/").status_code == 410
    assert _providers(invited["customer"].id) == []


def test_a_link_that_expires_while_the_form_is_open(app, invited, clock):
    visitor = app.test_client()
    visitor.get(NIA)
    clock.advance(days=7)
    response = post(visitor, NIA, NEW, page="/")
    assert response.status_code == 410
    assert User.get_or_none(User.email == "nia@example.com") is None


def test_a_revoked_link_is_gone(app, invited, clinic, clock):
    invitations.revoke(clinic["org"], invited["invitation"], clinic["owner"].id, clock())
    assert app.test_client().get(NIA).status_code == 410
    assert post(app.test_client(), NIA, NEW, page="/").status_code == 410


def test_htmx_on_a_dead_link_loads_the_whole_page(app, invited, clock):
    clock.advance(days=8)
    response = post(app.test_client(), NIA, NEW, page="/", headers=PARTIAL)
    assert (response.status_code, response.headers["HX-Redirect"]) == (200, NIA)


# At the same moment -------------------------------------------------------------------


def test_simultaneous_accepts_make_exactly_one_membership(app, invited, clock, monkeypatch):
    org = Provider.get_by_id(invited["ana"]).organisation
    casey = invited["customer"]
    threads_count = 6
    barrier, results = threading.Barrier(threads_count), []
    real_lookup = invitations.invitation_by_token

    def everyone_sees_it_open(*args):
        # Every request finds the invitation open before any of them claims it: only
        # the conditional UPDATE can stop the others now.
        found = real_lookup(*args)
        barrier.wait()
        return found

    monkeypatch.setattr(invitations, "invitation_by_token", everyone_sees_it_open)

    def accept() -> None:
        try:
            with app.app_context():
                invitations.accept(org.slug, "casey-token", casey, clock())
            results.append("joined")
        except invitations.InvitationInvalid:
            results.append("used")
        except Exception as exc:  # anything else is reported by the assertion below
            results.append(repr(exc))
        finally:
            if not db.is_closed():
                db.close()

    threads = [threading.Thread(target=accept) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results) == ["joined"] + ["used"] * (threads_count - 1)
    assert len(_providers(casey.id)) == 1
    assert _roles(casey.id, org.id) == {"provider"}
