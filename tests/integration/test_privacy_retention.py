"""A business's retention setting: past bookings' personal data forgotten after it, by
the daily task, on both databases; newer bookings and account holders' accounts kept.

The clock stands at Wed 25 Nov 2026, 12:00 in London; the clinic keeps customers'
details for 24 months (the default), so the cutoff is Mon 25 Nov 2024, 12:00 UTC.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from peewee import IntegrityError

from config import ROOT
from models import Booking, BookingEvent, Note, Notification, Organisation, User, db
from services import access
from services.accounts.account import DELETED_NAME
from services.accounts.auth import authenticate
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from services.privacy import retention
from services.privacy.retention import Forgotten
from services.workspace import bookings as desk_bookings
from services.workspace import customers, desk
from tests import factories
from tests.server import TEST_ENCRYPTION_KEY

OLD_MON = datetime(2024, 3, 4, 10, tzinfo=UTC)  # long past the cutoff
OLD_TUE = datetime(2024, 3, 5, 10, tzinfo=UTC)
BEFORE_CUTOFF = datetime(2024, 11, 25, 10, tzinfo=UTC)  # ends 11:00, an hour before it
AFTER_CUTOFF = datetime(2024, 11, 26, 10, tzinfo=UTC)
RECENT = datetime(2025, 6, 2, 9, tzinfo=UTC)  # 10:00 in London (BST)
CUTOFF = datetime(2024, 11, 25, 12, tzinfo=UTC)
AFTERNOON = timedelta(hours=5)  # walk-ins at 15:00, clear of the customers' own bookings


def book(clinic, user, start: datetime, service: str = "follow_up") -> Booking:
    """``user``'s own booking, made the day before ``start``."""
    return bookings.book(
        customer_id=user.id,
        service_id=clinic[service].id,
        start=start,
        now=start - timedelta(days=1),
        dispatch=Dispatch(),
    )


def desk_booking(staff, clinic, start: datetime, **customer) -> Booking:
    """A walk-in the staff booked with Tom; ``name=...`` for a new customer, else
    ``customer_id=``."""
    new = desk.NewCustomer(**customer) if "name" in customer else None
    return desk.book_for(
        staff,
        provider_id=clinic["tom"].id,
        service_id=clinic["follow_up"].id,
        start=start,
        source="walk_in",
        now=start - timedelta(hours=1),
        customer_id=customer.get("customer_id"),
        new_customer=new,
        dispatch=Dispatch(),
    )


def note(staff, booking: Booking, body: str) -> None:
    desk_bookings.add_note(staff, booking.id, body, booking.start_at)


def cancel(clinic, booking: Booking, reason: str) -> None:
    bookings.cancel(
        booking_id=booking.id,
        actor_id=clinic["owner"].id,
        reason=reason,
        now=booking.start_at - timedelta(hours=2),
        dispatch=Dispatch(),
    )


@pytest.fixture
def staff(clinic):
    return access.staff_of(clinic["owner"].id, "clinic")


@pytest.fixture
def past(clinic, staff):
    """Casey (an account) with an old booking, cancelled with a reason, and one that
    ended just before the cutoff; Rita, a walk-in the staff entered, seen once long ago;
    Ned, a walk-in seen long ago and again recently. Notes on every booking, messages
    sent about each."""
    casey = clinic["customer"]
    found = {
        "casey": casey,
        "casey old": book(clinic, casey, OLD_MON),
        "casey cancelled": book(clinic, casey, OLD_TUE),
        "casey edge": book(clinic, casey, BEFORE_CUTOFF),
        "rita old": desk_booking(
            staff,
            clinic,
            OLD_MON + AFTERNOON,
            name="Rita Record",
            email="rita@example.com",
            phone="07911 123456",
        ),
        "ned old": desk_booking(
            staff, clinic, OLD_TUE + AFTERNOON, name="Ned Newer", phone="07911 123457"
        ),
    }
    found["rita"] = found["rita old"].customer
    found["ned"] = found["ned old"].customer
    found["ned recent"] = desk_booking(staff, clinic, RECENT, customer_id=found["ned"].id)
    cancel(clinic, found["casey cancelled"], "Flu, feeling awful")
    for key in ("casey old", "casey cancelled", "casey edge", "rita old", "ned old", "ned recent"):
        note(staff, found[key], f"Note on {key}")
    Notification.update(status="sent").execute()
    return found


def rows(model, **where) -> list:
    query = model.select()
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return list(query)


def snapshot() -> dict:
    """Every row retention could touch, as plain values."""
    return {
        model.__name__: sorted(model.select().tuples())
        for model in (User, Booking, BookingEvent, Note, Notification)
    }


def test_old_bookings_lose_notes_reasons_history_and_messages(clinic, past, clock):
    kept = Booking.get_by_id(past["casey cancelled"].id)

    done = retention.apply(clinic["org"], clock())

    for key in ("casey old", "casey cancelled", "casey edge", "rita old", "ned old"):
        booking_id = past[key].id
        assert rows(Note, booking=booking_id) == [], key
        assert rows(BookingEvent, booking=booking_id) == [], key
        assert rows(Notification, booking=booking_id) == [], key
    after = Booking.get_by_id(past["casey cancelled"].id)
    assert after.cancel_reason == ""
    # The row stays for the business's figures.
    for field in ("start_at", "end_at", "service_id", "provider_id", "status", "price_cents"):
        assert getattr(after, field) == getattr(kept, field)
    assert after.customer_id == past["casey"].id
    assert Booking.select().count() == 6
    assert done.notes == 5
    assert done.reasons == 1
    assert done.customers == 1


def test_a_booking_newer_than_the_cutoff_is_untouched(clinic, past, staff, clock):
    newer = book(clinic, past["casey"], AFTER_CUTOFF)
    note(staff, newer, "Note on the newer one")
    cancel(clinic, newer, "Moving house")
    Notification.update(status="sent").execute()
    before = {
        model.__name__: sorted(
            model.select().where(model.booking.in_([newer.id, past["ned recent"].id])).tuples()
        )
        for model in (Note, BookingEvent, Notification)
    }

    retention.apply(clinic["org"], clock())

    after = {
        model.__name__: sorted(
            model.select().where(model.booking.in_([newer.id, past["ned recent"].id])).tuples()
        )
        for model in (Note, BookingEvent, Notification)
    }
    assert after == before
    assert all(after.values())
    assert Booking.get_by_id(newer.id).cancel_reason == "Moving house"


def test_a_record_seen_only_before_the_cutoff_is_anonymised(clinic, past, clock):
    retention.apply(clinic["org"], clock())

    rita = User.get_by_id(past["rita"].id)
    assert rita.name == DELETED_NAME
    assert rita.email == f"deleted-{rita.id}@deleted.invalid"
    assert rita.phone is None
    assert Booking.get_by_id(past["rita old"].id).customer_id == rita.id


def test_a_record_seen_since_keeps_their_details(clinic, past, clock):
    retention.apply(clinic["org"], clock())

    ned = User.get_by_id(past["ned"].id)
    assert ned.name == "Ned Newer"
    assert ned.phone == "+447911123457"
    assert [n.body for n in rows(Note, booking=past["ned recent"].id)] == ["Note on ned recent"]


def test_an_account_holders_account_is_theirs(clinic, past, clock):
    retention.apply(clinic["org"], clock())

    casey = User.get_by_id(past["casey"].id)
    assert (casey.name, casey.email) == ("Casey Morgan", "casey@example.com")
    assert authenticate("casey@example.com", factories.PASSWORD).id == casey.id


def test_another_business_s_record_of_the_same_person_is_not_this_one_s_to_forget(
    clinic, past, clock
):
    """Each business keeps its own record of a walk-in; one business's retention
    anonymises only its own."""
    other = factories.make_org("elsewhere")
    provider = factories.make_provider(other, "Elsa Where")
    service = factories.make_service(other, [provider], "Cut", 30)
    theirs = User.create(
        name="Rita Record", email="rita@example.com", phone="+447911123456", organisation=other
    )
    bookings.book(
        customer_id=theirs.id,
        service_id=service.id,
        start=OLD_TUE,
        now=OLD_TUE - timedelta(days=1),
        dispatch=Dispatch(),
    )

    retention.apply(clinic["org"], clock())

    assert User.get_by_id(past["rita"].id).name == DELETED_NAME  # the clinic's record
    assert User.get_by_id(theirs.id).name == "Rita Record"  # the other business's


def test_notes_about_the_customer_go_when_they_are_old_and_the_customer_is_gone(
    clinic, past, staff, clock
):
    customers.add_note(staff, past["rita"].id, "Rita: old note", OLD_MON)
    customers.add_note(staff, past["ned"].id, "Ned: old note", OLD_MON)
    customers.add_note(staff, past["casey"].id, "Casey: recent note", clock() - timedelta(days=3))

    retention.apply(clinic["org"], clock())

    left = {n.body for n in Note.select().where(Note.booking.is_null())}
    assert left == {"Ned: old note", "Casey: recent note"}


def test_a_second_run_changes_nothing(clinic, past, clock):
    first = retention.apply(clinic["org"], clock())
    once = snapshot()

    again = retention.apply(clinic["org"], clock())

    assert first
    assert again == Forgotten()
    assert not again
    assert snapshot() == once


def test_the_organisations_own_period(clinic, past, clock):
    Organisation.update(retention_months=36).where(Organisation.id == clinic["org"].id).execute()

    done = retention.apply(Organisation.get_by_id(clinic["org"].id), clock())

    assert done == Forgotten()
    assert User.get_by_id(past["rita"].id).name == "Rita Record"
    assert len(rows(Note)) == 6

    Organisation.update(retention_months=1).where(Organisation.id == clinic["org"].id).execute()
    retention.apply(Organisation.get_by_id(clinic["org"].id), clock())

    assert rows(Note) == []  # even Ned's visit in June 2025 is older than a month
    assert User.get_by_id(past["ned"].id).name == DELETED_NAME


def test_every_organisation_by_its_own_setting(clinic, past, clock):
    other = factories.make_org("elsewhere")
    Organisation.update(retention_months=120).where(Organisation.id == other.id).execute()
    provider = factories.make_provider(other, "Elsa Where")
    service = factories.make_service(other, [provider], "Cut", 30)
    theirs = bookings.book(
        customer_id=past["casey"].id,
        service_id=service.id,
        start=OLD_MON,
        now=OLD_MON - timedelta(days=1),
        dispatch=Dispatch(),
    )

    done = retention.apply_all(clock())

    assert done.notes == 5
    assert rows(BookingEvent, booking=theirs.id) != []


def test_in_batches(clinic, staff, clock, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    made = [
        desk_booking(staff, clinic, OLD_MON + timedelta(days=7 * week), name=f"Walk-in {week}")
        for week in range(5)
    ]
    for booking in made:
        note(staff, booking, "A note")

    done = retention.apply(clinic["org"], clock())

    assert (done.notes, done.customers) == (5, 5)
    assert {u.name for u in User.select().where(User.id.in_([b.customer_id for b in made]))} == {
        DELETED_NAME
    }


def test_months_before():
    assert retention.months_before(datetime(2026, 11, 25, 12, tzinfo=UTC), 24) == CUTOFF
    assert retention.months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert retention.months_before(datetime(2028, 3, 31, tzinfo=UTC), 1) == datetime(
        2028, 2, 29, tzinfo=UTC
    )
    assert retention.months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(
        2024, 12, 15, tzinfo=UTC
    )


def test_the_database_keeps_the_period_in_range(clinic):
    assert Organisation.get_by_id(clinic["org"].id).retention_months == 24
    for months in (0, 121):
        with pytest.raises(IntegrityError), db.atomic():
            Organisation.update(retention_months=months).where(
                Organisation.id == clinic["org"].id
            ).execute()


def test_the_daily_task_applies_it(clinic, database_url, tmp_path):
    """tasks.forget_past_customers as the worker runs it, in a process of its own, on
    the real clock: a walk-in seen three years ago is anonymised, their note goes."""
    long_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3 * 365)
    rita = User.create(
        name="Rita Record",
        email="rita@example.com",
        phone="+447911123456",
        organisation=clinic["org"],
    )
    old = Booking.create(
        organisation=clinic["org"],
        service=clinic["follow_up"],
        provider=clinic["tom"],
        customer=rita,
        start_at=long_ago,
        end_at=long_ago + timedelta(minutes=30),
        block_start=long_ago,
        block_end=long_ago + timedelta(minutes=30),
        price_cents=4500,
        currency="GBP",
        created_at=long_ago,
    )
    Note.create(
        organisation=clinic["org"], customer=rita, booking=old, body="Old", created_at=long_ago
    )
    env = os.environ | {
        "DATABASE_URL": database_url,
        "KAIROS_ENV": "testing",
        "SECRET_KEY": "task-test",
        "KAIROS_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
        "HUEY_URL": f"sqlite:///{tmp_path / 'huey.db'}",
    }
    code = (
        "import tasks\n"
        "from datetime import datetime\n"
        "task = tasks.forget_past_customers.task_class()\n"
        "assert task.validate_datetime(datetime(2026, 12, 4, 3, 41))\n"
        "assert not task.validate_datetime(datetime(2026, 12, 4, 4, 41))\n"
        "tasks.forget_past_customers.call_local()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert run.returncode == 0, run.stderr
    assert User.get_by_id(rita.id).name == DELETED_NAME
    assert rows(Note) == []
    assert Booking.get_by_id(old.id).price_cents == 4500
