"""The profile: details, password, and deleting the account (future bookings cancelled,
personal data gone, the business's history kept)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from models import ApiToken, Booking, BookingEvent, User
from services.accounts.auth import issue_token
from services.booking import appointments as booking
from services.notifications.outbox import Dispatch
from tests import factories
from tests.integration.test_accounts import (
    NEW_PASSWORD,
    PARTIAL,
    body,
    csrf_token,
    post_sign_in,
    signed_in_user_id,
    submit,
)

PROFILE = "/account/profile"
THU_10 = datetime(2026, 11, 26, 10, tzinfo=UTC)  # 22 hours ahead: inside the 24 h window
MON_10 = datetime(2026, 11, 30, 10, tzinfo=UTC)
LAST_WED_10 = datetime(2026, 11, 18, 10, tzinfo=UTC)


@pytest.fixture
def casey(client, clinic, signed_in):
    """Casey, signed in on the test client."""
    signed_in(clinic["customer"], client)
    return clinic["customer"]


def test_the_profile_needs_a_signed_in_user(client, clinic):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-in?next=%2Faccount%2Fprofile"


def test_the_profile_shows_the_details(client, casey):
    User.update(phone="+447911123456").where(User.id == casey.id).execute()
    page = body(client.get(PROFILE))
    assert 'value="Casey Morgan"' in page
    assert 'value="+44 7911 123456"' in page
    assert "casey@example.com" in page
    assert client.get(PROFILE).headers["Cache-Control"] == "no-store"


def test_updating_name_and_phone(client, casey):
    response = submit(client, PROFILE, {"name": "  Casey  Jo Morgan ", "phone": "07400 123456"})
    assert response.status_code == 303
    assert response.headers["Location"] == PROFILE
    user = User.get_by_id(casey.id)
    assert (user.name, user.phone) == ("Casey Jo Morgan", "+447400123456")
    assert "Your details are saved." in body(client.get(PROFILE))

    submit(client, PROFILE, {"name": "Casey Morgan", "phone": ""})
    assert User.get_by_id(casey.id).phone is None


@pytest.mark.parametrize(
    ("name", "phone", "field", "message"),
    [
        ("", "07400 123456", "name", "Enter your name."),
        ("x" * 201, "", "name", "Use at most 200 characters."),
        ("Casey", "0740", "phone", "Enter a valid phone number"),
    ],
)
def test_profile_problems_are_shown_with_what_was_typed(client, casey, name, phone, field, message):
    response = submit(client, PROFILE, {"name": name, "phone": phone})
    assert response.status_code == 422
    page = body(response)
    assert f'id="{field}-error"' in page
    assert message in page
    assert f'value="{phone}"' in page
    assert User.get_by_id(casey.id).name == "Casey Morgan"


def test_htmx_swaps_only_the_form_that_was_sent(client, casey):
    response = submit(client, PROFILE, {"name": "", "phone": ""}, headers=PARTIAL)
    assert response.status_code == 422
    fragment = body(response).strip()
    assert fragment.startswith("<form")
    assert 'action="/account/profile"' in fragment
    assert "current_password" not in fragment


# Changing the password --------------------------------------------------------------


def change_password(client, current: str, new: str):
    return submit(
        client,
        "/account/profile/password",
        {"current_password": current, "new_password": new},
        page=PROFILE,
    )


def test_changing_the_password(client, casey):
    response = change_password(client, factories.PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303
    token = csrf_token(client, PROFILE)
    client.post("/account/sign-out", data={"csrf_token": token})
    assert signed_in_user_id(client) is None
    assert post_sign_in(client, "casey@example.com").status_code == 422
    assert post_sign_in(client, "casey@example.com", NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "field", "message"),
    [
        ("wrong password", NEW_PASSWORD, "current_password", "not your current password"),
        ("", NEW_PASSWORD, "current_password", "Enter your current password."),
        (factories.PASSWORD, "short", "new_password", "Use at least 10 characters."),
        (factories.PASSWORD, "password123", "new_password", "too easy to guess"),
        (factories.PASSWORD, "qwertyuiop", "new_password", "too easy to guess"),
        (factories.PASSWORD, "CASEY@example.com", "new_password", "your name or email"),
        (factories.PASSWORD, "Casey Morgan 1985", "new_password", "your name or email"),
    ],
)
def test_password_change_problems(client, casey, current, new, field, message):
    response = change_password(client, current, new)
    assert response.status_code == 422
    page = body(response)
    assert f'id="{field}-error"' in page
    assert message in page
    for typed in (current, new):
        if typed:
            assert f'value="{typed}"' not in page  # passwords never come back
    fresh = client.application.test_client()
    assert post_sign_in(fresh, "casey@example.com").status_code == 303  # unchanged


# Deleting the account ---------------------------------------------------------------


@pytest.fixture
def bookings(app, casey, clinic, clock):
    """Casey's bookings: one last week (done), one tomorrow (inside the cancellation
    window), one next Monday; and someone else's next Monday."""
    clock.now -= timedelta(days=10)
    past = booking.book(
        customer_id=casey.id,
        service_id=clinic["follow_up"].id,
        start=LAST_WED_10,
        now=clock(),
        dispatch=Dispatch(),
    )
    clock.now += timedelta(days=10)
    soon = booking.book(
        customer_id=casey.id,
        service_id=clinic["follow_up"].id,
        start=THU_10,
        now=clock(),
        dispatch=Dispatch(),
    )
    later = booking.book(
        customer_id=casey.id,
        service_id=clinic["massage"].id,
        start=MON_10,
        now=clock(),
        dispatch=Dispatch(),
    )
    dana = factories.make_user("dana@example.com", "Dana Lee")
    others = booking.book(
        customer_id=dana.id,
        service_id=clinic["assessment"].id,
        start=MON_10,
        now=clock(),
        dispatch=Dispatch(),
    )
    return {"past": past, "soon": soon, "later": later, "others": others}


def delete(client, password: str):
    return submit(client, "/account/delete", {"password": password})


def test_the_delete_page_says_what_will_happen(client, casey, bookings):
    page = body(client.get("/account/delete"))
    assert "Your 2 upcoming appointments will be cancelled." in page
    assert "can't be undone" in page


def test_deleting_the_account(client, app, casey, bookings, clock):
    issue_token(casey, clock())
    response = delete(client, factories.PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert signed_in_user_id(client) is None
    assert client.get(PROFILE).status_code == 302

    user = User.get_by_id(casey.id)  # the row stays, for the business's records
    assert user.email == f"deleted-{casey.id}@deleted.invalid"
    assert (user.name, user.phone, user.password_hash) == ("Deleted customer", None, None)
    assert ApiToken.select().where(ApiToken.user == casey.id).count() == 0

    for key in ("soon", "later"):  # cancelled, whatever the cancellation window says
        row = Booking.get_by_id(bookings[key].id)
        assert (row.status, row.cancel_reason) == ("cancelled", "account deleted")
        assert row.cancelled_at == clock()
        assert row.customer_id == casey.id
        event = BookingEvent.get(
            (BookingEvent.booking == row.id) & (BookingEvent.action == "cancelled")
        )
        assert json.loads(event.detail) == {"reason": "account deleted"}
    assert Booking.get_by_id(bookings["past"].id).status == "confirmed"  # history kept
    assert Booking.get_by_id(bookings["others"].id).status == "confirmed"
    assert BookingEvent.select().where(BookingEvent.action == "booked").count() == 4

    # Nobody can sign in as the deleted account, or ask for links to it.
    assert post_sign_in(client, "casey@example.com").status_code == 422
    assert post_sign_in(client, user.email, "").status_code == 422


@pytest.mark.parametrize(
    ("password", "message"),
    [("", "Enter your password to confirm."), ("wrong password", "not your current password")],
)
def test_deleting_needs_the_password(client, casey, bookings, password, message):
    response = delete(client, password)
    assert response.status_code == 422
    assert message in body(response)
    assert User.get_by_id(casey.id).email == "casey@example.com"
    assert Booking.get_by_id(bookings["later"].id).status == "confirmed"


def test_staff_accounts_are_not_deleted_here(client, clinic, signed_in):
    signed_in(clinic["ana_user"], client)
    response = delete(client, factories.PASSWORD)
    assert response.status_code == 422
    assert "Staff accounts are closed by the business owner" in body(response)
    assert User.get_by_id(clinic["ana_user"].id).email == "ana@clinic.test"
