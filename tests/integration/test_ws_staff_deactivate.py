"""Deactivating a provider: each future booking moved to a free colleague or cancelled
with a message first; nothing half done when a colleague is taken meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import Booking, Membership, Provider
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from services.workspace import deactivation
from tests import factories
from tests.integration.test_accounts import PARTIAL, body
from tests.integration.test_ws_staff import STAFF, post
from tests.integration.webpages import parse

MON_14 = datetime(2026, 11, 30, 14, tzinfo=UTC)
TUE_10 = datetime(2026, 12, 1, 10, tzinfo=UTC)
MESSAGE = "Ana has left the clinic. Sorry! Please book again with Tom."


@pytest.fixture
def leaving(world, clinic, clock):
    """Ana's future bookings: the assessment nobody else offers (Mon 10:00), a follow-up
    Tom could take (Mon 14:00), and one while Tom is busy (Tue 10:00)."""
    casey = clinic["customer"].id

    def book(service, start, provider):
        return bookings.book(
            customer_id=casey,
            service_id=service.id,
            start=start,
            now=clock(),
            provider_id=provider,
            dispatch=Dispatch(),
        ).id

    toms_tuesday = book(clinic["massage"], TUE_10, world["tom"])
    return world | {
        "url": f"{STAFF}/{world['ana']}/deactivate",
        "assessment": world["ana's booking"],
        "movable": book(clinic["follow_up"], MON_14, world["ana"]),
        "stuck": book(clinic["follow_up"], TUE_10, world["ana"]),
        "tom's tuesday": toms_tuesday,
    }


def _status(booking_id: int) -> tuple[str, int]:
    booking = Booking.get_by_id(booking_id)
    return booking.status, booking.provider_id


def _untouched(w) -> None:
    for key in ("assessment", "movable", "stuck"):
        assert _status(w[key]) == ("confirmed", w["ana"]), key
    assert Provider.get_by_id(w["ana"]).active


def _fieldset(response, booking_id: int):
    return next(
        f
        for f in parse(response).find_all("fieldset")
        if f.find("input", name=f"decision-{booking_id}")
    )


def _choices(fieldset) -> list[str]:
    return [label.text for label in fieldset.find_all("label")]


def test_the_page_lists_future_bookings_with_who_could_take_each(signed_in, leaving):
    response = signed_in(leaving["owner"]).get(leaving["url"])

    assert response.status_code == 200
    page = body(response)
    assert "Nobody else offers Initial assessment." in page
    legends = [f.one("legend").text for f in parse(response).find_all("fieldset")]
    assert legends == [
        "Mon 30 Nov, 10:00–11:00 Initial assessment · Casey Morgan",
        "Mon 30 Nov, 14:00–14:30 Follow-up · Casey Morgan",
        "Tue 1 Dec, 10:00–10:30 Follow-up · Casey Morgan",
    ]
    assert _choices(_fieldset(response, leaving["assessment"])) == ["Cancel it"]
    assert _choices(_fieldset(response, leaving["movable"])) == ["Move to Tom Reed", "Cancel it"]
    stuck = _fieldset(response, leaving["stuck"])
    assert _choices(stuck) == ["Cancel it"]
    assert "Nobody else who offers Follow-up is free then." in stuck.text


def test_past_and_cancelled_bookings_are_not_listed(signed_in, leaving, clock):
    bookings.cancel(
        booking_id=leaving["stuck"], actor_id=leaving["owner"].id, now=clock(), dispatch=Dispatch()
    )
    clock.advance(days=5, hours=2)  # Mon 30 Nov 14:00: the 10:00 and 14:00 have started
    response = signed_in(leaving["owner"]).get(leaving["url"])
    assert parse(response).find_all("fieldset") == []
    assert "Ana Silva has no upcoming bookings." in body(response)


def test_every_booking_needs_a_decision(signed_in, leaving):
    client = signed_in(leaving["owner"])
    data = {f"decision-{leaving['movable']}": str(leaving["tom"])}

    response = post(client, leaving["url"], data, page=leaving["url"])

    assert response.status_code == 422
    for key in ("assessment", "stuck"):
        error = _fieldset(response, leaving[key]).one("p", class_="error")
        assert "Choose what happens to this booking." in error.text
    kept = _fieldset(response, leaving["movable"]).one("input", value=str(leaving["tom"]))
    assert "checked" in kept.attrs
    _untouched(leaving)


def test_cancelling_needs_a_message_and_keeps_the_choices(signed_in, leaving):
    client = signed_in(leaving["owner"])
    data = {
        f"decision-{leaving['assessment']}": "cancel",
        f"decision-{leaving['movable']}": str(leaving["tom"]),
        f"decision-{leaving['stuck']}": "cancel",
        "message": "   ",
    }
    response = post(client, leaving["url"], data, page=leaving["url"])

    assert response.status_code == 422
    assert (
        "Write a short message for the customers"
        in parse(response).one("p", id="message-error").text
    )
    for key, value in (("assessment", "cancel"), ("movable", str(leaving["tom"]))):
        assert "checked" in _fieldset(response, leaving[key]).one("input", value=value).attrs
    too_long = post(client, leaving["url"], data | {"message": "x" * 501}, page=leaving["url"])
    assert too_long.status_code == 422
    assert "Use at most 500 characters." in body(too_long)
    assert "x" * 501 in body(too_long)  # what was typed stays
    _untouched(leaving)


def test_deactivating_moves_and_cancels_then_lets_the_provider_go(signed_in, leaving, clock):
    client = signed_in(leaving["owner"])
    data = {
        f"decision-{leaving['assessment']}": "cancel",
        f"decision-{leaving['movable']}": str(leaving["tom"]),
        f"decision-{leaving['stuck']}": "cancel",
        "message": f"  {MESSAGE} ",
    }

    response = post(client, leaving["url"], data, page=leaving["url"])

    assert (response.status_code, response.headers["Location"]) == (303, STAFF)
    for key in ("assessment", "stuck"):
        booking = Booking.get_by_id(leaving[key])
        assert (booking.status, booking.cancel_reason, booking.cancelled_at) == (
            "cancelled",
            MESSAGE,
            clock(),
        )
    moved = Booking.get(Booking.rescheduled_from == leaving["movable"])
    assert (moved.provider_id, moved.start_at, moved.status) == (
        leaving["tom"],
        MON_14,
        "confirmed",
    )
    assert moved.customer_id == leaving["customer"].id
    assert Booking.get_by_id(leaving["movable"]).status == "cancelled"
    assert not Provider.get_by_id(leaving["ana"]).active
    ana = leaving["provider"]
    assert Membership.select().where(Membership.user == ana.id).count() == 0
    page = client.get(STAFF)
    assert "Ana Silva is deactivated." in body(page)
    assert "Ana Silva" in parse(page).one("section", aria_labelledby="staff-inactive").text
    assert "Ana Silva" not in parse(page).one("section", aria_labelledby="staff-active").text
    ana_client = signed_in(ana)
    assert ana_client.get("/w/clinic").status_code == 403
    assert ana_client.get("/appointments").status_code == 200  # still a customer account
    schedule = body(client.get("/w/clinic?date=2026-11-30"))
    assert "Ana Silva" not in schedule


def test_a_colleague_taken_since_the_page_was_drawn_is_a_conflict(
    signed_in, leaving, clinic, clock
):
    client = signed_in(leaving["owner"])
    client.get(leaving["url"])
    pat = factories.make_user("pat@example.com", "Pat Quick")
    bookings.book(
        customer_id=pat.id,
        service_id=clinic["follow_up"].id,
        start=MON_14,
        now=clock(),
        provider_id=leaving["tom"],
        dispatch=Dispatch(),
    )
    data = {
        f"decision-{leaving['assessment']}": "cancel",
        f"decision-{leaving['movable']}": str(leaving["tom"]),
        f"decision-{leaving['stuck']}": "cancel",
        "message": MESSAGE,
    }

    response = post(client, leaving["url"], data, page=leaving["url"])

    assert response.status_code == 409
    fieldset = _fieldset(response, leaving["movable"])
    assert "can't take it any more" in fieldset.one("p", class_="error").text
    assert _choices(fieldset) == ["Cancel it"]
    _untouched(leaving)  # nothing done: the owner decides again with what is true now


def test_a_move_that_fails_at_the_last_moment_leaves_that_booking_alone(
    signed_in, leaving, clock, monkeypatch
):
    real = bookings.reschedule
    pat = factories.make_user("pat@example.com", "Pat Quick")
    follow_up = Booking.get_by_id(leaving["movable"]).service_id

    def taken_first(**kwargs):
        # Another customer books Tom just before the move reaches the database.
        bookings.book(
            customer_id=pat.id,
            service_id=follow_up,
            start=MON_14,
            now=clock(),
            provider_id=leaving["tom"],
            dispatch=Dispatch(),
        )
        return real(**kwargs)

    monkeypatch.setattr(deactivation.bookings, "reschedule", taken_first)
    client = signed_in(leaving["owner"])
    data = {
        f"decision-{leaving['assessment']}": "cancel",
        f"decision-{leaving['movable']}": str(leaving["tom"]),
        f"decision-{leaving['stuck']}": "cancel",
        "message": MESSAGE,
    }

    response = post(client, leaving["url"], data, page=leaving["url"])

    assert response.status_code == 409
    error = _fieldset(response, leaving["movable"]).one("p", class_="error").text
    assert "Tom Reed is no longer free then" in error
    assert _status(leaving["movable"]) == ("confirmed", leaving["ana"])
    assert Booking.select().where(Booking.rescheduled_from == leaving["movable"]).count() == 0
    assert _status(leaving["assessment"])[0] == "cancelled"  # the other decisions stand
    assert [f.one("legend").text[:16] for f in parse(response).find_all("fieldset")] == [
        "Mon 30 Nov, 14:0"
    ]
    assert Provider.get_by_id(leaving["ana"]).active

    monkeypatch.setattr(deactivation.bookings, "reschedule", real)
    again = post(
        client,
        leaving["url"],
        {f"decision-{leaving['movable']}": "cancel", "message": MESSAGE},
        page=leaving["url"],
    )
    assert again.status_code == 303
    assert not Provider.get_by_id(leaving["ana"]).active


def test_a_booking_made_while_deciding_stops_the_deactivation(
    signed_in, leaving, clock, monkeypatch
):
    real = bookings.cancel
    follow_up = Booking.get_by_id(leaving["movable"]).service_id
    late = []

    def and_a_new_booking(**kwargs):
        if not late:
            late.append(
                bookings.book(
                    customer_id=leaving["customer"].id,
                    service_id=follow_up,
                    start=datetime(2026, 12, 2, 9, tzinfo=UTC),
                    now=clock(),
                    provider_id=leaving["ana"],
                    dispatch=Dispatch(),
                ).id
            )
        return real(**kwargs)

    monkeypatch.setattr(deactivation.bookings, "cancel", and_a_new_booking)
    data = {f"decision-{leaving[k]}": "cancel" for k in ("assessment", "movable", "stuck")}
    client = signed_in(leaving["owner"])

    response = post(client, leaving["url"], data | {"message": MESSAGE}, page=leaving["url"])

    assert response.status_code == 409
    assert "Booked while you were deciding" in _fieldset(response, late[0]).text
    assert Provider.get_by_id(leaving["ana"]).active
    assert _status(late[0]) == ("confirmed", leaving["ana"])


def test_choosing_someone_who_does_not_offer_the_service_is_refused(signed_in, leaving):
    data = {
        f"decision-{leaving['assessment']}": str(leaving["tom"]),  # Tom doesn't assess
        f"decision-{leaving['movable']}": str(leaving["other provider"]),  # another business
        f"decision-{leaving['stuck']}": "cancel",
        "message": MESSAGE,
    }
    response = post(signed_in(leaving["owner"]), leaving["url"], data, page=leaving["url"])
    assert response.status_code == 409
    for key in ("assessment", "movable"):
        assert "can't take it" in _fieldset(response, leaving[key]).one("p", class_="error").text
    _untouched(leaving)


def test_a_provider_without_bookings_is_deactivated_straight_away(signed_in, clinic):
    lone = factories.make_provider(clinic["org"], "Lou Lone")
    url = f"{STAFF}/{lone.id}/deactivate"
    client = signed_in(clinic["owner"])
    assert "Lou Lone has no upcoming bookings." in body(client.get(url))
    assert "Nobody else offers" not in body(client.get(url))
    assert post(client, url, page=url).status_code == 303
    assert not Provider.get_by_id(lone.id).active
    assert client.get(url).headers["Location"] == STAFF  # already done


def test_tom_leaving_warns_that_nobody_would_offer_massage(signed_in, world):
    response = signed_in(world["owner"]).get(f"{STAFF}/{world['tom']}/deactivate")
    assert "Nobody else offers Sports massage." in body(response)
    assert "Follow-up" not in parse(response).one("div", class_="staff-orphaned").text


def test_the_owner_can_stop_seeing_customers_and_stays_owner(signed_in, world):
    client = signed_in(world["owner"])
    post(client, STAFF + "/add-me")
    mine = Provider.get(Provider.user == world["owner"].id)
    url = f"{STAFF}/{mine.id}/deactivate"
    assert post(client, url, page=url).status_code == 303
    assert not Provider.get_by_id(mine.id).active
    assert {m.role for m in world["owner"].memberships} == {"owner"}
    assert client.get(STAFF).status_code == 200


def test_htmx_errors_swap_just_the_form(signed_in, leaving):
    response = post(
        signed_in(leaving["owner"]), leaving["url"], {}, page=leaving["url"], headers=PARTIAL
    )
    assert response.status_code == 422
    assert body(response).lstrip().startswith("<form")
    assert 'id="deactivate-form"' in body(response)
