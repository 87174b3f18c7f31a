"""The schema itself refuses bad rows, whatever code (or person) writes them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from peewee import IntegrityError

from models import (
    Booking,
    DateOverride,
    Membership,
    Organisation,
    Service,
    TimeOff,
    User,
    WeeklyHours,
    db,
    is_sqlite,
)
from tests import factories

TEN = datetime(2026, 11, 30, 10, tzinfo=UTC)


def as_db_value(instant: datetime):
    return instant.strftime("%Y-%m-%d %H:%M:%S.%f") if is_sqlite() else instant


def insert_booking(
    clinic, start, minutes=60, *, provider="ana", status="confirmed", after=0, before=0, price=6500
):
    """A booking written with plain SQL, past every check the services make."""
    end = start + timedelta(minutes=minutes)
    values = {
        "organisation_id": clinic["org"].id,
        "service_id": clinic["assessment"].id,
        "provider_id": clinic[provider].id,
        "customer_id": clinic["customer"].id,
        "start_at": as_db_value(start),
        "end_at": as_db_value(end),
        "block_start": as_db_value(start - timedelta(minutes=before)),
        "block_end": as_db_value(end + timedelta(minutes=after)),
        "status": status,
        "price_cents": price,
        "currency": "GBP",
        "created_at": as_db_value(TEN - timedelta(days=5)),
        "cancel_reason": "",
    }
    marks = ", ".join([db.obj.param] * len(values))
    sql = f"INSERT INTO booking ({', '.join(values)}) VALUES ({marks})"
    with db.atomic():
        db.execute_sql(sql, list(values.values()))


def live_rows() -> int:
    return Booking.select().where(Booking.status != "cancelled").count()


@pytest.fixture
def postgresql_only(app):  # after the app has chosen this test's database
    if is_sqlite():
        pytest.skip("SQLite has no exclusion constraints: services take the write lock instead")


# --- the exclusion constraint on PostgreSQL -----------------------------------------------


def test_plain_sql_insert_works(clinic):
    insert_booking(clinic, TEN)

    assert live_rows() == 1


@pytest.mark.usefixtures("postgresql_only")
def test_overlapping_insert_is_refused_by_the_constraint(clinic):
    insert_booking(clinic, TEN)

    with pytest.raises(IntegrityError, match="booking_no_overlap"):
        insert_booking(clinic, TEN + timedelta(minutes=30))

    assert live_rows() == 1


@pytest.mark.usefixtures("postgresql_only")
@pytest.mark.parametrize(
    ("offset", "minutes"),
    [(0, 60), (-30, 60), (30, 15), (-60, 180), (59, 1)],
)
def test_every_kind_of_overlap_is_refused(clinic, offset, minutes):
    insert_booking(clinic, TEN)

    with pytest.raises(IntegrityError):
        insert_booking(clinic, TEN + timedelta(minutes=offset), minutes)

    assert live_rows() == 1


@pytest.mark.usefixtures("postgresql_only")
def test_buffers_count_as_busy(clinic):
    insert_booking(clinic, TEN, 45, provider="tom", after=10)  # Tom busy 10:00–10:55

    with pytest.raises(IntegrityError):
        insert_booking(clinic, TEN + timedelta(minutes=50), 30, provider="tom")
    with pytest.raises(IntegrityError):
        insert_booking(clinic, TEN - timedelta(minutes=30), 25, provider="tom", after=10)
    insert_booking(clinic, TEN + timedelta(minutes=55), 30, provider="tom")

    assert live_rows() == 2


@pytest.mark.usefixtures("postgresql_only")
def test_touching_bookings_are_allowed(clinic):
    insert_booking(clinic, TEN)
    insert_booking(clinic, TEN + timedelta(hours=1))
    insert_booking(clinic, TEN - timedelta(hours=1))

    assert live_rows() == 3


@pytest.mark.usefixtures("postgresql_only")
def test_another_provider_at_the_same_time_is_allowed(clinic):
    insert_booking(clinic, TEN, provider="ana")
    insert_booking(clinic, TEN, provider="tom")

    assert live_rows() == 2


@pytest.mark.usefixtures("postgresql_only")
def test_a_cancelled_booking_does_not_block(clinic):
    insert_booking(clinic, TEN)
    insert_booking(clinic, TEN, status="cancelled")
    insert_booking(clinic, TEN + timedelta(minutes=30), status="cancelled")

    assert Booking.select().count() == 3
    assert live_rows() == 1


@pytest.mark.usefixtures("postgresql_only")
@pytest.mark.parametrize("status", ["completed", "no_show"])
def test_completed_and_no_show_still_block(clinic, status):
    insert_booking(clinic, TEN, status=status)

    with pytest.raises(IntegrityError):
        insert_booking(clinic, TEN)


@pytest.mark.usefixtures("postgresql_only")
def test_reviving_a_cancelled_overlap_is_refused(clinic):
    insert_booking(clinic, TEN)
    insert_booking(clinic, TEN, status="cancelled")
    cancelled = Booking.get(Booking.status == "cancelled")

    with pytest.raises(IntegrityError), db.atomic():
        Booking.update(status="confirmed").where(Booking.id == cancelled.id).execute()

    assert Booking.get_by_id(cancelled.id).status == "cancelled"


@pytest.mark.usefixtures("postgresql_only")
def test_moving_a_booking_onto_another_is_refused(clinic):
    insert_booking(clinic, TEN)
    insert_booking(clinic, TEN + timedelta(hours=2))
    later = Booking.select().order_by(Booking.id.desc()).get()

    with pytest.raises(IntegrityError), db.atomic():
        Booking.update(
            start_at=TEN + timedelta(minutes=30),
            block_start=TEN + timedelta(minutes=30),
        ).where(Booking.id == later.id).execute()


def test_the_constraint_exists_only_on_postgresql(clinic):
    if is_sqlite():
        insert_booking(clinic, TEN)
        insert_booking(clinic, TEN)  # nothing in SQLite's schema stops this...
        assert live_rows() == 2  # ...which is why services take the write lock and re-check
    else:
        found = db.execute_sql(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
            ("booking_no_overlap",),
        ).fetchone()
        assert found is not None
        assert "EXCLUDE USING gist" in found[0]
        assert "status" in found[0]
        assert "cancelled" in found[0]


# --- CHECK constraints, on both databases -------------------------------------------------


def refused(create, **fields) -> None:
    with pytest.raises(IntegrityError), db.atomic():
        create(**fields)


def test_service_duration_must_be_positive(clinic):
    org = clinic["org"]
    refused(Service.create, organisation=org, name="Nothing", duration_minutes=0, price_cents=1)
    refused(Service.create, organisation=org, name="Less", duration_minutes=-15, price_cents=1)
    Service.create(organisation=org, name="Minute", duration_minutes=1, price_cents=0)


@pytest.mark.parametrize(
    "field",
    [
        "price_cents",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "min_notice_minutes",
        "max_days_ahead",
        "cancellation_window_hours",
    ],
)
def test_service_numbers_cannot_be_negative(clinic, field):
    fields = {
        "organisation": clinic["org"],
        "name": "Bad",
        "duration_minutes": 30,
        "price_cents": 100,
        field: -1,
    }

    refused(Service.create, **fields)

    assert Service.select().where(Service.name == "Bad").count() == 0


def test_booking_price_cannot_be_negative(clinic):
    with pytest.raises(IntegrityError):
        insert_booking(clinic, TEN, price=-1)

    assert Booking.select().count() == 0


@pytest.mark.parametrize("status", ["pending", "CONFIRMED", ""])
def test_booking_status_must_be_known(clinic, status):
    with pytest.raises(IntegrityError):
        insert_booking(clinic, TEN, status=status)

    assert Booking.select().count() == 0


def test_booking_times_must_be_in_order(clinic):
    base = {
        "organisation": clinic["org"],
        "service": clinic["assessment"],
        "provider": clinic["ana"],
        "customer": clinic["customer"],
        "price_cents": 100,
        "currency": "GBP",
    }
    hour = timedelta(hours=1)

    refused(Booking.create, **base, start_at=TEN, end_at=TEN, block_start=TEN, block_end=TEN)
    refused(
        Booking.create,
        **base,
        start_at=TEN,
        end_at=TEN - hour,
        block_start=TEN - hour,
        block_end=TEN,
    )
    refused(
        Booking.create,
        **base,
        start_at=TEN,
        end_at=TEN + hour,
        block_start=TEN,
        block_end=TEN + hour / 2,
    )
    refused(
        Booking.create,
        **base,
        start_at=TEN,
        end_at=TEN + hour,
        block_start=TEN + hour / 2,
        block_end=TEN + hour,
    )

    assert Booking.select().count() == 0


@pytest.mark.parametrize("email", ["Ann@example.com", "ANN@EXAMPLE.COM", "ann@Example.com"])
def test_email_must_be_stored_in_lower_case(app, email):
    refused(User.create, email=email, name="Ann")

    assert User.select().count() == 0


def test_email_is_unique(app):
    User.create(email="ann@example.com", name="Ann")

    refused(User.create, email="ann@example.com", name="Another Ann")


def test_membership_role_must_be_known(clinic):
    refused(Membership.create, user=clinic["customer"], organisation=clinic["org"], role="admin")


def test_membership_is_unique_per_role(clinic):
    refused(Membership.create, user=clinic["owner"], organisation=clinic["org"], role="owner")
    Membership.create(user=clinic["owner"], organisation=clinic["org"], role="provider")


def test_organisation_slug_is_unique_and_currency_three_letters(app):
    factories.make_org("clinic")
    refused(Organisation.create, slug="clinic", name="Again", timezone="UTC", currency="GBP")
    refused(Organisation.create, slug="euros", name="Euros", timezone="UTC", currency="EU")


def test_hours_must_make_sense(clinic):
    ana = clinic["ana"]
    refused(WeeklyHours.create, provider=ana, weekday=7, start_time=time(9), end_time=time(17))
    refused(WeeklyHours.create, provider=ana, weekday=0, start_time=time(17), end_time=time(9))
    refused(DateOverride.create, provider=ana, day=TEN.date(), start_time=time(9))
    refused(
        DateOverride.create, provider=ana, day=TEN.date(), start_time=time(12), end_time=time(12)
    )
    refused(TimeOff.create, provider=ana, start_at=TEN, end_at=TEN)
    DateOverride.create(provider=ana, day=TEN.date())  # closed all day is fine


def test_foreign_keys_are_enforced(clinic):
    with pytest.raises(IntegrityError), db.atomic():
        WeeklyHours.create(provider=424242, weekday=0, start_time=time(9), end_time=time(17))
