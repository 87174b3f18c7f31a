"""services.booking.appointments called directly: staff rights, history, prices, the
lost race."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest

from models import Booking, BookingEvent, Provider, Service, TimeOff, WeeklyHours
from services.booking import appointments as bookings
from services.booking.slots import providers_for
from services.errors import Invalid, NotChangeable, NotFound, OutsideCancellationWindow, SlotTaken
from services.notifications.outbox import Dispatch
from tests import factories
from tests.conftest import api_client_for

MONDAY_10 = datetime(2026, 11, 30, 10, tzinfo=UTC)
ONE_HOUR_BEFORE = MONDAY_10 - timedelta(hours=1)


def book(clinic, clock, service="assessment", start=MONDAY_10, provider=None, **kw) -> Booking:
    return bookings.book(
        customer_id=kw.pop("customer_id", clinic["customer"].id),
        service_id=clinic[service].id,
        start=start,
        now=clock(),
        provider_id=clinic[provider].id if provider else None,
        **kw,
        dispatch=Dispatch(),
    )


def events(booking_id: int) -> list[tuple[str, int | None, dict]]:
    rows = BookingEvent.select().where(BookingEvent.booking == booking_id).order_by(BookingEvent.id)
    return [(e.action, e.actor_id, json.loads(e.detail)) for e in rows]


@pytest.fixture
def rival(clinic):
    """Another customer of the clinic."""
    return factories.make_user("dana@example.com", "Dana Lee")


# --- who may cancel -----------------------------------------------------------------------


def test_customer_cannot_cancel_inside_the_window(clinic, clock):
    made = book(clinic, clock)

    with pytest.raises(OutsideCancellationWindow) as caught:
        bookings.cancel(
            booking_id=made.id,
            actor_id=clinic["customer"].id,
            now=ONE_HOUR_BEFORE,
            dispatch=Dispatch(),
        )

    assert caught.value.deadline == MONDAY_10 - timedelta(hours=24)
    assert caught.value.timezone == "Europe/London"
    assert Booking.get_by_id(made.id).status == "confirmed"


def test_owner_may_cancel_any_time(clinic, clock):
    made = book(clinic, clock)
    owner = clinic["owner"]

    cancelled = bookings.cancel(
        booking_id=made.id,
        actor_id=owner.id,
        now=ONE_HOUR_BEFORE,
        reason="Clinic closed",
        dispatch=Dispatch(),
    )

    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_by_id == owner.id
    assert cancelled.cancelled_at == ONE_HOUR_BEFORE
    assert cancelled.cancel_reason == "Clinic closed"


def test_owner_may_cancel_even_after_the_start(clinic, clock):
    made = book(clinic, clock)

    cancelled = bookings.cancel(
        booking_id=made.id,
        actor_id=clinic["owner"].id,
        now=MONDAY_10 + timedelta(minutes=5),
        dispatch=Dispatch(),
    )

    assert cancelled.status == "cancelled"


def test_the_bookings_provider_may_cancel_any_time(clinic, clock):
    made = book(clinic, clock)  # with Ana, the only one offering an assessment

    cancelled = bookings.cancel(
        booking_id=made.id, actor_id=clinic["ana_user"].id, now=ONE_HOUR_BEFORE, dispatch=Dispatch()
    )

    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_by_id == clinic["ana_user"].id


def test_another_provider_of_the_same_org_may_not(clinic, clock):
    made = book(clinic, clock)
    sam = factories.make_user("sam@clinic.test", "Sam Lowe")
    factories.make_provider(clinic["org"], "Sam Lowe", user=sam)

    with pytest.raises(NotFound):
        bookings.cancel(booking_id=made.id, actor_id=sam.id, now=clock(), dispatch=Dispatch())

    assert Booking.get_by_id(made.id).status == "confirmed"


def test_another_organisations_owner_may_not(clinic, clock):
    made = book(clinic, clock)
    elsewhere = factories.make_org("elsewhere")
    their_owner = factories.make_owner(elsewhere, "owner@elsewhere.test")

    with pytest.raises(NotFound):
        bookings.cancel(
            booking_id=made.id, actor_id=their_owner.id, now=clock(), dispatch=Dispatch()
        )
    with pytest.raises(NotFound):
        bookings.reschedule(
            booking_id=made.id,
            actor_id=their_owner.id,
            now=clock(),
            start=MONDAY_10 + timedelta(days=1),
            dispatch=Dispatch(),
        )

    assert Booking.get_by_id(made.id).status == "confirmed"
    assert Booking.select().count() == 1


def test_another_customer_may_not(clinic, clock, rival):
    made = book(clinic, clock)

    with pytest.raises(NotFound):
        bookings.cancel(booking_id=made.id, actor_id=rival.id, now=clock(), dispatch=Dispatch())


def test_missing_booking_is_not_found(clinic, clock):
    with pytest.raises(NotFound):
        bookings.cancel(
            booking_id=424242, actor_id=clinic["owner"].id, now=clock(), dispatch=Dispatch()
        )


def test_staff_may_reschedule_inside_the_window(clinic, clock):
    made = book(clinic, clock)

    moved = bookings.reschedule(
        booking_id=made.id,
        actor_id=clinic["owner"].id,
        now=ONE_HOUR_BEFORE,
        start=MONDAY_10 + timedelta(hours=4),
        dispatch=Dispatch(),
    )

    assert moved.start_at == MONDAY_10 + timedelta(hours=4)
    assert moved.customer_id == clinic["customer"].id  # still the customer's booking
    assert moved.rescheduled_from_id == made.id
    assert Booking.get_by_id(made.id).status == "cancelled"


@pytest.mark.parametrize("status", ["completed", "no_show", "cancelled"])
def test_finished_bookings_cannot_be_changed_even_by_staff(clinic, clock, status):
    made = book(clinic, clock)
    Booking.update(status=status).where(Booking.id == made.id).execute()

    with pytest.raises(NotChangeable) as caught:
        bookings.cancel(
            booking_id=made.id, actor_id=clinic["owner"].id, now=clock(), dispatch=Dispatch()
        )

    assert caught.value.message == f"This booking is {status.replace('_', ' ')}."
    with pytest.raises(NotChangeable):
        bookings.reschedule(
            booking_id=made.id,
            actor_id=clinic["customer"].id,
            now=clock(),
            start=MONDAY_10 + timedelta(days=1),
            dispatch=Dispatch(),
        )
    assert Booking.select().count() == 1


# --- history ------------------------------------------------------------------------------


def test_every_change_is_recorded_with_its_actor(clinic, clock):
    customer, owner, ana = clinic["customer"], clinic["owner"], clinic["ana"]
    made = book(clinic, clock)
    moved = bookings.reschedule(
        booking_id=made.id,
        actor_id=customer.id,
        now=clock(),
        start=MONDAY_10 + timedelta(days=1),
        dispatch=Dispatch(),
    )
    bookings.cancel(
        booking_id=moved.id, actor_id=owner.id, now=clock(), reason=" Ill ", dispatch=Dispatch()
    )

    assert events(made.id) == [
        ("booked", customer.id, {"provider": ana.id, "start": "2026-11-30T10:00:00+00:00"}),
        ("rescheduled", customer.id, {}),
    ]
    assert events(moved.id) == [
        (
            "booked",
            customer.id,
            {"provider": ana.id, "start": "2026-12-01T10:00:00+00:00", "rescheduled_from": made.id},
        ),
        ("cancelled", owner.id, {"reason": "Ill"}),
    ]


def test_booking_on_behalf_of_a_customer_records_the_staff_member(clinic, clock):
    made = book(clinic, clock, actor_id=clinic["owner"].id)

    assert made.customer_id == clinic["customer"].id
    assert events(made.id)[0][:2] == ("booked", clinic["owner"].id)


def test_history_and_booking_times_come_from_the_clock(clinic, clock):
    booked_at = clock.now
    made = book(clinic, clock)
    clock.advance(hours=1)
    moved_at = clock.now
    moved = bookings.reschedule(
        booking_id=made.id,
        actor_id=clinic["customer"].id,
        now=clock(),
        start=MONDAY_10 + timedelta(days=1),
        dispatch=Dispatch(),
    )
    clock.advance(hours=1)
    bookings.cancel(
        booking_id=moved.id, actor_id=clinic["customer"].id, now=clock(), dispatch=Dispatch()
    )

    history = [
        (e.booking_id, e.action, e.created_at)
        for e in BookingEvent.select().order_by(BookingEvent.id)
    ]
    assert history == [
        (made.id, "booked", booked_at),
        (made.id, "rescheduled", moved_at),
        (moved.id, "booked", moved_at),
        (moved.id, "cancelled", clock.now),
    ]
    old, new = Booking.get_by_id(made.id), Booking.get_by_id(moved.id)
    assert (old.created_at, old.cancelled_at) == (booked_at, moved_at)
    assert (new.created_at, new.cancelled_at) == (moved_at, clock.now)


def test_failures_record_nothing(clinic, clock, rival):
    made = book(clinic, clock)
    with pytest.raises(SlotTaken):
        book(clinic, clock, customer_id=rival.id)
    with pytest.raises(OutsideCancellationWindow):
        bookings.cancel(
            booking_id=made.id,
            actor_id=clinic["customer"].id,
            now=ONE_HOUR_BEFORE,
            dispatch=Dispatch(),
        )

    assert BookingEvent.select().count() == 1


# --- prices -------------------------------------------------------------------------------


def test_price_is_fixed_when_booked(clinic, clock, app):
    made = book(clinic, clock)
    Service.update(price_cents=9900).where(Service.id == clinic["assessment"].id).execute()
    later = book(clinic, clock, start=MONDAY_10 + timedelta(days=1))

    assert Booking.get_by_id(made.id).price_cents == 6500
    assert later.price_cents == 9900
    api = api_client_for(app, clinic["customer"], clock)
    shown = api.get(f"/api/v1/bookings/{made.id}").json
    listed = api.get("/api/v1/orgs/clinic/services").json
    assert shown["price"] == {"amount_cents": 6500, "currency": "GBP"}
    assert [s["price"]["amount_cents"] for s in listed if s["name"] == "Initial assessment"] == [
        9900
    ]


def test_reschedule_keeps_the_price_paid(clinic, clock):
    made = book(clinic, clock)
    Service.update(price_cents=100).where(Service.id == clinic["assessment"].id).execute()

    moved = bookings.reschedule(
        booking_id=made.id,
        actor_id=clinic["customer"].id,
        now=clock(),
        start=MONDAY_10 + timedelta(days=1),
        dispatch=Dispatch(),
    )

    assert (moved.price_cents, moved.currency) == (6500, "GBP")


# --- validation ---------------------------------------------------------------------------


def test_naive_start_is_invalid(clinic, clock):
    with pytest.raises(Invalid) as caught:
        book(clinic, clock, start=datetime(2026, 11, 30, 10))

    assert list(caught.value.fields) == ["start"]


def test_unknown_service_is_invalid(clinic, clock):
    with pytest.raises(Invalid) as caught:
        bookings.book(
            customer_id=clinic["customer"].id,
            service_id=424242,
            start=MONDAY_10,
            now=clock(),
            dispatch=Dispatch(),
        )

    assert list(caught.value.fields) == ["service"]


# --- the lost race: the engine said free, the database says taken -------------------------


@pytest.fixture
def engine_blind(monkeypatch, clinic):
    """Pretend the scheduling engine looked before a rival's booking was committed: it
    offers every provider of the service as free, so only the database can refuse."""

    def everyone(service, start, now, provider_id, ignore_booking=None):
        return providers_for(service, provider_id)

    monkeypatch.setattr(bookings, "_free_providers", everyone)


def test_lost_race_is_slot_taken_not_an_error(clinic, clock, rival, engine_blind):
    book(clinic, clock, customer_id=rival.id)

    with pytest.raises(SlotTaken) as caught:
        book(clinic, clock)

    assert caught.value.alternatives
    assert Booking.select().count() == 1
    assert BookingEvent.select().count() == 1


def test_lost_race_for_an_overlapping_start(clinic, clock, rival, engine_blind):
    book(clinic, clock, customer_id=rival.id)  # Ana 10:00–11:00

    with pytest.raises(SlotTaken):
        book(
            clinic,
            clock,
            service="follow_up",
            provider="ana",
            start=MONDAY_10 + timedelta(minutes=30),
        )

    assert Booking.select().count() == 1


def test_lost_race_through_the_api_is_409(app, clinic, clock, rival, engine_blind):
    book(clinic, clock, customer_id=rival.id)
    api = api_client_for(app, clinic["customer"], clock)

    response = api.post(
        "/api/v1/bookings",
        json={"service": clinic["assessment"].id, "start": "2026-11-30T10:00:00+00:00"},
    )

    assert response.status_code == 409
    assert response.json["error"] == "slot_taken"
    assert Booking.select().count() == 1


def test_lost_race_with_any_provider_falls_through_to_the_next(clinic, clock, rival, engine_blind):
    theirs = book(clinic, clock, service="follow_up", provider="ana", customer_id=rival.id)

    mine = book(clinic, clock, service="follow_up")

    assert theirs.provider_id == clinic["ana"].id
    assert mine.provider_id == clinic["tom"].id
    assert Booking.select().count() == 2


def test_lost_race_on_reschedule_changes_nothing(clinic, clock, rival, engine_blind):
    mine = book(clinic, clock)
    theirs = book(clinic, clock, customer_id=rival.id, start=MONDAY_10 + timedelta(hours=4))

    with pytest.raises(SlotTaken):
        bookings.reschedule(
            booking_id=mine.id,
            actor_id=clinic["customer"].id,
            now=clock(),
            start=MONDAY_10 + timedelta(hours=4),
            dispatch=Dispatch(),
        )

    assert [(b.id, b.status) for b in Booking.select().order_by(Booking.id)] == [
        (mine.id, "confirmed"),
        (theirs.id, "confirmed"),
    ]
    assert [e[0] for e in events(mine.id)] == ["booked"]
    assert Booking.get_by_id(mine.id).cancelled_at is None


def test_a_provider_deactivated_after_the_slot_was_offered_takes_no_booking(
    clinic, clock, monkeypatch
):
    # The provider was free when looked at; by the time the booking is written, the
    # owner has deactivated them. The write looks again under the provider's lock.
    offered = providers_for(clinic["assessment"], clinic["ana"].id)
    clinic["ana"].active = False
    clinic["ana"].save()
    monkeypatch.setattr(bookings, "_free_providers", lambda *a, **k: offered)

    with pytest.raises((SlotTaken, Invalid)):
        book(clinic, clock, provider="ana")
    assert Booking.select().count() == 0


def test_a_moved_walk_in_stays_a_walk_in(clinic, clock):
    walk_in = book(clinic, clock, source="walk_in", actor_id=clinic["owner"].id)
    moved = bookings.reschedule(
        booking_id=walk_in.id,
        actor_id=clinic["owner"].id,
        start=MONDAY_10 + timedelta(hours=1),
        now=clock(),
        dispatch=Dispatch(),
    )
    assert moved.source == "walk_in"


def test_hours_closed_after_the_slot_was_offered_take_no_booking(clinic, clock, monkeypatch):
    offered = providers_for(clinic["assessment"], clinic["ana"].id)
    # Ana's Monday hours go (a change in the availability page) before the write.
    WeeklyHours.delete().where(
        (WeeklyHours.provider == clinic["ana"]) & (WeeklyHours.weekday == 0)
    ).execute()
    monkeypatch.setattr(bookings, "_free_providers", lambda *a, **k: offered)

    with pytest.raises((SlotTaken, Invalid)):
        book(clinic, clock, provider="ana")
    assert Booking.select().count() == 0


def test_hours_version_moves_with_hours_and_time_off_not_with_bookings(clinic, clock):
    def version():
        return Provider.get_by_id(clinic["ana"].id).hours_version

    before = version()
    book(clinic, clock, provider="ana")
    assert version() == before  # a booking leaves the hours as they were

    TimeOff.create(
        provider=clinic["ana"], start_at=MONDAY_10, end_at=MONDAY_10 + timedelta(hours=1)
    )
    after_time_off = version()
    assert after_time_off != before
    WeeklyHours.update(end_time=time(16)).where(WeeklyHours.provider == clinic["ana"]).execute()
    assert version() != after_time_off
