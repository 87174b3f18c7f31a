"""Staff: the access matrix, the staff page, inviting, resending and revoking.

The helpers here (``make_invitation``, ``with_invitations``, ``post``) are shared with the
other test_ws_staff_*.py files: invitations made directly, with tokens the tests know.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from models import Invitation, Membership, Provider, User
from services.workspace import invitations
from tests import factories
from tests.integration.test_accounts import PARTIAL, body, link_path, mails, text_part, use_outbox
from tests.integration.webpages import csrf_token, parse
from tests.integration.workspace import expect

STAFF = "/w/clinic/staff"


def make_invitation(org, email: str, token: str, now, name: str = "Nia New", **fields):
    return Invitation.create(
        organisation=org,
        email=email,
        name=name,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        created_at=now,
        expires_at=now + invitations.INVITATION_LIFETIME,
        **fields,
    )


def with_invitations(world, clinic, clock) -> dict:
    """The world with open invitations whose tokens are known: to a new person, to the
    clinic's customer (who has an account), and from the other business."""
    other = Provider.get_by_id(world["other provider"]).organisation
    return world | {
        "invitation": make_invitation(clinic["org"], "nia@example.com", "nia-token", clock()).id,
        "casey's invitation": make_invitation(
            clinic["org"], "casey@example.com", "casey-token", clock(), name="Casey Morgan"
        ).id,
        "other invitation": make_invitation(other, "olga@example.com", "olga-token", clock()).id,
    }


@pytest.fixture
def outbox(app, tmp_path):
    return use_outbox(app, tmp_path)


@pytest.fixture
def invited(world, clinic, clock, outbox):
    return with_invitations(world, clinic, clock)


def post(client, path: str, data: dict | None = None, page: str = STAFF, headers=None):
    """POST with the CSRF token from ``page`` (same session)."""
    token = csrf_token(client.get(page))
    return client.post(path, data={"csrf_token": token, **(data or {})}, headers=headers)


# The access matrix -------------------------------------------------------------------

OWNER_ONLY = (302, 403, 403, 200, 403)
MATRIX = {
    # (method, route): (anonymous, customer, provider (Ana), owner, owner of another business)
    ("GET", STAFF): OWNER_ONLY,
    ("POST", STAFF): (302, 403, 403, 422, 403),  # an empty invitation
    ("GET", "/w/elsewhere/staff"): (302, 403, 403, 403, 200),
    ("GET", "/w/nowhere/staff"): (302, 404, 404, 404, 404),
    ("GET", STAFF + "/{tom}/deactivate"): OWNER_ONLY,
    ("POST", STAFF + "/{tom}/deactivate"): (302, 403, 403, 422, 403),  # no decisions
    ("GET", STAFF + "/{other provider}/deactivate"): (302, 403, 403, 404, 403),
    ("POST", STAFF + "/{other provider}/deactivate"): (302, 403, 403, 404, 403),
    ("GET", STAFF + "/999999/deactivate"): (302, 403, 403, 404, 403),
    ("GET", "/w/elsewhere/staff/{tom}/deactivate"): (302, 403, 403, 403, 404),
    ("POST", STAFF + "/{tom}/reactivate"): (302, 403, 403, 303, 403),
    ("POST", STAFF + "/{other provider}/reactivate"): (302, 403, 403, 404, 403),
    ("POST", STAFF + "/add-me"): (302, 403, 403, 303, 403),
    ("POST", STAFF + "/invitations/{invitation}/resend"): (302, 403, 403, 303, 403),
    ("POST", STAFF + "/invitations/{invitation}/revoke"): (302, 403, 403, 303, 403),
    ("POST", STAFF + "/invitations/{other invitation}/resend"): (302, 403, 403, 404, 403),
    ("POST", STAFF + "/invitations/{other invitation}/revoke"): (302, 403, 403, 404, 403),
    ("POST", STAFF + "/invitations/999999/revoke"): (302, 403, 403, 404, 403),
    # The link works for whoever holds it: what each visitor can do is on the page.
    ("GET", "/w/clinic/join/nia-token"): (200, 200, 200, 200, 200),
    ("GET", "/w/clinic/join/casey-token"): (200, 200, 200, 200, 200),
    ("GET", "/w/clinic/join/not-a-token"): (410, 410, 410, 410, 410),
    ("GET", "/w/elsewhere/join/nia-token"): (410, 410, 410, 410, 410),  # another org's link
    ("GET", "/w/nowhere/join/nia-token"): (404, 404, 404, 404, 404),
    # Posting: an empty sign-up form (anonymous); not the invited person (the others).
    ("POST", "/w/clinic/join/nia-token"): (422, 403, 403, 403, 403),
    # Casey joins (asked in this order); the link is used up for everyone after.
    ("POST", "/w/clinic/join/casey-token"): (403, 303, 410, 410, 410),
    ("POST", "/w/clinic/join/not-a-token"): (410, 410, 410, 410, 410),
}


@pytest.mark.parametrize(("method", "route"), MATRIX)
def test_access_matrix(signed_in, invited, method, route):
    expect(signed_in, invited, route, MATRIX[method, route], method=method)


def test_the_staff_tab_shows_for_the_owner_only(signed_in, world):
    owner_page = signed_in(world["owner"]).get(STAFF)
    assert 'aria-current="page">Staff<' in owner_page.get_data(as_text=True)
    ana_page = signed_in(world["provider"]).get("/w/clinic").get_data(as_text=True)
    assert f'href="{STAFF}"' not in ana_page


# The staff page ----------------------------------------------------------------------


def _section(response, heading_id: str):
    return parse(response).one("section", aria_labelledby=heading_id)


def test_staff_page_lists_providers_invitations_and_deactivated(signed_in, invited, clinic, clock):
    Provider.update(active=False).where(Provider.id == clinic["tom"].id).execute()
    clock.advance(days=8)  # the invitations from the fixture have expired
    make_invitation(clinic["org"], "fresh@example.com", "fresh-token", clock(), name="Fay Fresh")
    response = signed_in(invited["owner"]).get(STAFF)
    assert response.status_code == 200

    active = _section(response, "staff-active").text
    assert "Ana Silva ana@clinic.test Offers Follow-up, Initial assessment" in active
    assert "Tom Reed" not in active
    inactive = _section(response, "staff-inactive").text
    assert "Tom Reed tom@clinic.test Reactivate" in inactive
    pending = _section(response, "staff-pending")
    assert "olga@" not in pending.text  # another business's
    rows = [li.text for li in pending.find_all("li")]
    assert rows[0].startswith("Fay Fresh fresh@example.com Sent Thu 3 Dec, 12:00")
    assert "Expires Thu 10 Dec, 12:00" in rows[0]
    assert any("nia@example.com" in r and "Expired" in r for r in rows[1:])


def test_invitation_times_are_in_the_organisations_time_zone(signed_in, world, clinic, clock):
    clinic["org"].timezone = "Asia/Kolkata"
    clinic["org"].save()
    make_invitation(clinic["org"], "fresh@example.com", "fresh-token", clock())
    pending = _section(signed_in(world["owner"]).get(STAFF), "staff-pending").text
    assert "Sent Wed 25 Nov, 17:30" in pending  # 12:00 UTC is 17:30 in India


def test_the_owner_can_add_themself_as_a_provider(signed_in, world, clinic):
    client = signed_in(world["owner"])
    assert "Add me as a provider" in body(client.get(STAFF))

    response = post(client, STAFF + "/add-me")

    assert response.status_code == 303
    provider = Provider.get(Provider.user == world["owner"].id)
    assert (provider.organisation_id, provider.name, provider.active) == (
        clinic["org"].id,
        "Olive Owner",
        True,
    )
    roles = {m.role for m in Membership.select().where(Membership.user == world["owner"].id)}
    assert roles == {"owner", "provider"}
    page = body(client.get(STAFF))
    assert "Add me as a provider" not in page
    assert "Olive Owner" in _section(client.get(STAFF), "staff-active").text
    assert post(client, STAFF + "/add-me").status_code == 409  # not twice
    assert Provider.select().where(Provider.user == world["owner"].id).count() == 1


# Inviting ----------------------------------------------------------------------------


def test_inviting_emails_a_single_use_link_and_lists_the_invitation(
    signed_in, world, outbox, clock
):
    client = signed_in(world["owner"])

    response = post(client, STAFF, {"name": " Nia  New ", "email": "Nia@Example.COM"})

    assert response.status_code == 303
    assert response.headers["Location"] == STAFF
    invitation = Invitation.get(Invitation.email == "nia@example.com")
    assert (invitation.name, invitation.invited_by_id) == ("Nia New", world["owner"].id)
    assert invitation.expires_at == clock() + timedelta(days=7)
    (message,) = mails(outbox)
    assert message["To"] == "nia@example.com"
    assert message["Subject"] == "Join Clinic on Kairos"
    text = text_part(message)
    assert "Olive Owner invites you to join Clinic" in text
    assert "until Wednesday 2 December 2026, 12:00 London time (GMT):" in text
    path = link_path(message)
    assert path.startswith("/w/clinic/join/")
    assert "http://127.0.0.1:5000/w/clinic/join/" in text  # absolute, from the base URL
    token = path.rsplit("/", 1)[1]
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()  # only the hash
    assert token not in invitation.token_hash
    assert path in message.get_body(("html",)).get_content()
    page = client.get(STAFF)
    assert "Invitation sent to nia@example.com." in body(page)
    assert "Nia New nia@example.com" in _section(page, "staff-pending").text


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "  ", "email": "nia@example.com"}, "name", "Enter their name."),
        ({"name": "Nia", "email": ""}, "email", "Enter their email."),
        ({"name": "Nia", "email": "nia@"}, "email", "Enter a valid email address."),
        ({"name": "Nia", "email": "x" * 300 + "@example.com"}, "email", "Enter a valid email"),
        ({"name": "N" * 201, "email": "nia@example.com"}, "name", "Use at most 200 characters."),
    ],
)
def test_bad_invitations_are_refused_keeping_what_was_typed(
    signed_in, world, outbox, data, field, message
):
    response = post(signed_in(world["owner"]), STAFF, data)

    assert response.status_code == 422
    form = parse(response).one("form", class_="staff-invite")
    error = form.one("p", class_="error", id=f"invite-{field}-error")
    assert message in error.text
    for name, value in data.items():
        assert form.one("input", name=name).attrs.get("value", "") == value
    assert Invitation.select().count() == 0
    assert mails(outbox) == []


def _email(user, address: str) -> None:
    # The fixtures' .test addresses are reserved names, which an invitation refuses.
    User.update(email=address).where(User.id == user.id).execute()


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("provider", "ana@example.com is already on your staff."),
        ("tom", "ana@example.com is already on your staff."),
        ("owner", "That's you: use “I also see customers” to see customers yourself."),
    ],
)
def test_staff_are_not_invited_again(signed_in, world, outbox, who, message):
    user = User.get(User.email == "tom@clinic.test") if who == "tom" else world[who]
    _email(user, "ana@example.com")
    data = {"name": "Someone", "email": "ANA@example.com"}
    response = post(signed_in(world["owner"]), STAFF, data)
    assert response.status_code == 422
    assert message in body(response)
    assert Invitation.select().count() == 0


def test_an_owner_who_sees_customers_is_already_staff(signed_in, world, outbox):
    _email(world["owner"], "olive@example.com")
    client = signed_in(world["owner"])
    post(client, STAFF + "/add-me")
    response = post(client, STAFF, {"name": "Me", "email": "olive@example.com"})
    assert response.status_code == 422
    assert "olive@example.com is already on your staff." in body(response)


def test_a_deactivated_provider_is_reactivated_not_invited(signed_in, world, outbox):
    _email(world["provider"], "ana@example.com")
    Provider.update(active=False).where(Provider.id == world["ana"]).execute()
    Membership.delete().where(Membership.user == world["provider"].id).execute()
    response = post(signed_in(world["owner"]), STAFF, {"name": "Ana", "email": "ana@example.com"})
    assert response.status_code == 422
    assert "reactivate them under Deactivated providers" in body(response)


def test_a_second_invitation_to_a_waiting_address_offers_resend(signed_in, invited, outbox):
    client = signed_in(invited["owner"])
    response = post(client, STAFF, {"name": "Nia", "email": "nia@example.com"})
    assert response.status_code == 422
    assert "use Resend under Pending invitations" in body(response)
    assert Invitation.select().where(Invitation.email == "nia@example.com").count() == 1


def test_an_expired_invitation_is_replaced_by_a_new_one(signed_in, invited, outbox, clock):
    clock.advance(days=7, seconds=1)
    client = signed_in(invited["owner"])
    assert post(client, STAFF, {"name": "Nia", "email": "nia@example.com"}).status_code == 303
    old = Invitation.get_by_id(invited["invitation"])
    assert old.revoked_at == clock()
    rows = _section(client.get(STAFF), "staff-pending").find_all("li")
    assert len([li for li in rows if "nia@example.com" in li.text]) == 1


def test_htmx_invitation_errors_swap_just_the_form(signed_in, world, outbox):
    response = post(signed_in(world["owner"]), STAFF, {"name": "", "email": ""}, headers=PARTIAL)
    assert response.status_code == 422
    page = body(response)
    assert page.lstrip().startswith("<form")
    assert "Enter their name." in page
    assert "<nav" not in page


def test_htmx_invitation_redirects_the_whole_page(signed_in, world, outbox):
    data = {"name": "Nia", "email": "nia@example.com"}
    response = post(signed_in(world["owner"]), STAFF, data, headers=PARTIAL)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == STAFF


# Resending and revoking --------------------------------------------------------------


def test_resend_sends_a_new_link_and_kills_the_old_one(app, invited, outbox, clock, signed_in):
    clock.advance(days=6)
    client = signed_in(invited["owner"])

    response = post(client, f"{STAFF}/invitations/{invited['invitation']}/resend")

    assert response.status_code == 303
    assert "The old link no longer works." in body(client.get(STAFF))
    (message,) = mails(outbox)
    new_link = link_path(message)
    assert new_link != "/w/clinic/join/nia-token"
    invitation = Invitation.get_by_id(invited["invitation"])
    assert invitation.expires_at == clock() + timedelta(days=7)
    assert invitation.created_at == clock()
    anonymous = app.test_client()
    assert anonymous.get("/w/clinic/join/nia-token").status_code == 410
    clock.advance(days=3)  # past the first link's week, inside the new one
    assert anonymous.get(new_link).status_code == 200


def test_revoke_kills_the_link_and_removes_it_from_the_list(app, invited, outbox, clock, signed_in):
    client = signed_in(invited["owner"])

    response = post(client, f"{STAFF}/invitations/{invited['invitation']}/revoke")

    assert response.status_code == 303
    page = client.get(STAFF)
    assert "The invitation to nia@example.com was withdrawn." in body(page)
    assert "nia@example.com" not in _section(page, "staff-pending").text
    assert Invitation.get_by_id(invited["invitation"]).revoked_at == clock()
    gone = app.test_client().get("/w/clinic/join/nia-token")
    assert gone.status_code == 410
    assert "ask the business's owner to send you a new invitation" in body(gone)
    # Twice is harmless; resending a withdrawn invitation is refused.
    assert post(client, f"{STAFF}/invitations/{invited['invitation']}/revoke").status_code == 303
    assert post(client, f"{STAFF}/invitations/{invited['invitation']}/resend").status_code == 409
    assert mails(outbox) == []


def test_an_accepted_invitation_cannot_be_resent_or_revoked(signed_in, invited, outbox, clock):
    Invitation.update(accepted_at=clock()).where(Invitation.id == invited["invitation"]).execute()
    client = signed_in(invited["owner"])
    for action in ("resend", "revoke"):
        response = post(client, f"{STAFF}/invitations/{invited['invitation']}/{action}")
        assert response.status_code == 409
        assert "has already accepted" in body(response)
    assert Invitation.get_by_id(invited["invitation"]).revoked_at is None
    assert mails(outbox) == []


def test_reactivating_restores_the_provider_and_their_membership(signed_in, world):
    Provider.update(active=False).where(Provider.id == world["ana"]).execute()
    Membership.delete().where(Membership.user == world["provider"].id).execute()
    assert signed_in(world["provider"]).get("/w/clinic").status_code == 403
    client = signed_in(world["owner"])

    response = post(client, f"{STAFF}/{world['ana']}/reactivate")

    assert response.status_code == 303
    assert Provider.get_by_id(world["ana"]).active
    assert "Ana Silva is active again." in body(client.get(STAFF))
    assert signed_in(world["provider"]).get("/w/clinic").status_code == 200


def test_a_provider_without_an_account_is_reactivated_without_membership(signed_in, clinic):
    client = signed_in(clinic["owner"])
    lone = factories.make_provider(clinic["org"], "Lou Lone")
    Provider.update(active=False).where(Provider.id == lone.id).execute()
    assert post(client, f"{STAFF}/{lone.id}/reactivate").status_code == 303
    assert Provider.get_by_id(lone.id).active
    assert "No sign-in" in _section(client.get(STAFF), "staff-active").text
