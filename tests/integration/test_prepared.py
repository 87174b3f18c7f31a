"""Prepared queries give exactly what the Peewee query they were built from gives, and
refuse, when first compiled, samples that could be taken for the query's own values."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, date, datetime, time, timedelta

import pytest

import commands
import models
import services
import views
from models import (
    Booking,
    BusyBlock,
    DateOverride,
    ExternalCalendar,
    NotificationPrefs,
    Organisation,
    Payment,
    Prepared,
    PushSubscription,
    TimeOff,
    UnsafeSamples,
    db,
    is_sqlite,
)
from services.accounts import sessions
from services.accounts.auth import issue_token, token_digest
from services.booking import appointments as booking
from services.notifications.outbox import Dispatch
from tests import factories

_live_after = Prepared(
    lambda provider, after: (
        Booking.select()
        .where(
            (Booking.provider == provider)
            & (Booking.status != "cancelled")  # a constant parameter, kept as it is
            & (Booking.start_at > after)
        )
        .order_by(Booking.start_at)
    ),
    provider=-90001,
    after=datetime(1901, 1, 1, tzinfo=UTC),
)


def test_prepared_query_matches_the_plain_one(app, clinic, clock):
    starts = [datetime(2026, 11, 30, h, tzinfo=UTC) for h in (9, 11, 14)]
    Organisation.update(max_bookings_per_day=3).where(Organisation.id == clinic["org"].id).execute()
    made = [
        booking.book(
            customer_id=clinic["customer"].id,
            service_id=clinic["follow_up"].id,
            start=start,
            provider_id=clinic["tom"].id,
            now=clock(),
            dispatch=Dispatch(),
        )
        for start in starts
    ]
    booking.cancel(
        booking_id=made[2].id, actor_id=clinic["customer"].id, now=clock(), dispatch=Dispatch()
    )

    for after in (starts[0] - timedelta(minutes=1), starts[0], starts[1] + timedelta(hours=5)):
        plain = (
            Booking.select()
            .where(
                (Booking.provider == clinic["tom"].id)
                & (Booking.status != "cancelled")
                & (Booking.start_at > after)
            )
            .order_by(Booking.start_at)
        )
        prepared = _live_after(provider=clinic["tom"].id, after=after)
        assert [(b.id, b.start_at) for b in prepared] == [(b.id, b.start_at) for b in plain]
    assert [b.id for b in _live_after(provider=clinic["tom"].id, after=starts[0])] == [made[1].id]


# --- the guard -----------------------------------------------------------------------------


def _booked_of(provider, status):
    return Booking.select(Booking.id).where(
        (Booking.provider == provider) & (Booking.status == status)
    )


@pytest.mark.parametrize(
    ("prepared", "problem"),
    [
        # -5 is the sample and a constant: the constant would be filled in with the value.
        (
            Prepared(
                lambda provider: Booking.select(Booking.id).where(
                    (Booking.provider == provider) & (Booking.customer != -5)
                ),
                rows=True,
                provider=-5,
            ),
            "a constant of the query equals a sample",
        ),
        # A value the query works out from a sample is neither sample nor constant.
        (
            Prepared(
                lambda after: Booking.select().where(Booking.start_at > after + timedelta(1)),
                after=datetime(1901, 1, 1, tzinfo=UTC),
            ),
            "computed from a sample",
        ),
        # A sample the query never uses: the value given would be silently ignored.
        (
            Prepared(
                lambda provider, day: Booking.select().where(Booking.provider == provider),
                provider=-1,
                day=-2,
            ),
            "never reach the SQL",
        ),
        # Two samples alike: which one a parameter is can't be told.
        (
            Prepared(
                lambda provider, customer: Booking.select().where(
                    (Booking.provider == provider) & (Booking.customer == customer)
                ),
                provider=-1,
                customer=-1,
            ),
            "are equal",
        ),
    ],
)
def test_unsafe_samples_are_refused(app, prepared, problem):
    with pytest.raises(UnsafeSamples, match=problem):
        prepared(**prepared.samples)


# --- every prepared query of the app ---------------------------------------------------------


def all_prepared() -> dict[str, Prepared]:
    """Every Prepared query in the app's packages, as "module.name"."""
    found: dict[int, str] = {}
    queries = {}
    for package in (models, services, views, commands):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if isinstance(value, Prepared) and id(value) not in found:
                    found[id(value)] = f"{info.name}.{name}"
                    queries[found[id(value)]] = value
    return queries


MONDAY = date(2026, 11, 30)


def _at(hour: int, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(hour), UTC)


@pytest.fixture
def world(app, clinic, clock):
    """The clinic with something for each query to find: a booking, time off, a date
    override, choices, a device, an API token, a sign-in, a two-way calendar and a
    booking paid at the venue."""
    ana, tom = clinic["ana"], clinic["tom"]
    _unpaid, paid = (
        booking.book(
            customer_id=clinic["customer"].id,
            service_id=clinic["follow_up"].id,
            start=_at(hour),
            provider_id=tom.id,
            now=clock(),
            dispatch=Dispatch(),
        )
        for hour in (10, 11)
    )
    TimeOff.create(provider=ana, start_at=_at(9), end_at=_at(11), reason="dentist")
    imported = ExternalCalendar.create(
        provider=tom, url="https://calendar.example/c.ics", next_try_at=clock(), created_at=clock()
    )
    BusyBlock.create(calendar=imported, provider=tom, start_at=_at(14), end_at=_at(15))
    ExternalCalendar.create(  # two-way: what a booking's transaction queues changes for
        provider=tom,
        kind="caldav",
        url="https://dav.example/c/",
        next_try_at=clock(),
        created_at=clock(),
    )
    Payment.create(
        booking=paid.id,
        organisation=clinic["org"].id,
        kind="cash",
        amount_cents=500,
        currency="GBP",
        status="succeeded",
        paid_at=clock(),
    )
    DateOverride.create(
        provider=tom, day=MONDAY + timedelta(1), start_time=time(10), end_time=time(12)
    )
    NotificationPrefs.create(user=clinic["ana_user"], push=True)
    PushSubscription.create(
        user=clinic["customer"], endpoint="https://push.test/a", p256dh="k", auth="a"
    )
    token, _ = issue_token(clinic["customer"], clock())
    sign_in = factories.make_sign_in(clinic["customer"], clock())
    return dict(clinic, token=token, sign_in=sign_in, now=clock(), paid=paid)


CASES = {
    "services.access._active_providers": lambda w: {"org": w["org"].id},
    "services.access._roles": lambda w: {"user": w["owner"].id, "org": w["org"].id},
    "services.access._own_provider": lambda w: {"user": w["ana_user"].id, "org": w["org"].id},
    "services.booking.slots._providers": lambda w: {"service": w["follow_up"].id},
    "services.booking.slots._one_provider": lambda w: {
        "service": w["follow_up"].id,
        "provider": w["tom"].id,
    },
    "services.booking.slots._hours": lambda w: {
        "ids": (w["ana"].id, w["tom"].id),
        "first": MONDAY,
        "last": MONDAY + timedelta(6),
    },
    "services.booking.slots._away": lambda w: {
        "ids": (w["ana"].id, w["tom"].id),
        "start": _at(0),
        "end": _at(23),
    },
    "services.booking.slots._busy": lambda w: {
        "ids": (w["ana"].id, w["tom"].id),
        "start": _at(0),
        "end": _at(23),
    },
    "services.booking.appointments._lock_providers": lambda w: {"ids": (w["ana"].id, w["tom"].id)},
    "services.booking.appointments._provider_state": lambda w: {"ids": (w["ana"].id, w["tom"].id)},
    "services.booking.appointments._lock_customer": lambda w: {"customer": w["customer"].id},
    "services.booking.appointments._held": lambda w: {
        "org": w["org"].id,
        "customer": w["customer"].id,
        "since": w["now"],
        "now": w["now"],
        "day_start": _at(0),
        "day_end": _at(23),
    },
    "services.booking.catalogue._organisation": lambda w: {"slug": w["org"].slug},
    "services.booking.catalogue._service_with_providers": lambda w: {
        "org": w["org"].id,
        "service": w["follow_up"].id,
    },
    "services.booking.catalogue._offered_service": lambda w: {"service": w["follow_up"].id},
    "services.booking.catalogue._service_at": lambda w: {
        "slug": w["org"].slug,
        "service": w["follow_up"].id,
    },
    "services.notifications.outbox._with_choices": lambda w: {
        "ids": (w["customer"].id, w["ana_user"].id)
    },
    "services.payments.ledger._payments_of": lambda w: {"booking": w["paid"].id},
    "services.calendar.outbox._two_way_calendars": lambda w: {"providers": (w["tom"].id,)},
    "services.accounts.auth._token_user": lambda w: {
        "digest": token_digest(w["token"]),
        "now": w["now"],
    },
    "services.accounts.sessions._signed_in": lambda w: {
        "digest": sessions._digest(w["sign_in"]),
        "now": w["now"],
    },
}
POSTGRESQL_ONLY = {  # FOR NO KEY UPDATE
    "services.booking.appointments._lock_providers",
    "services.booking.appointments._lock_customer",
}


def test_every_prepared_query_is_checked_here():
    assert set(all_prepared()) == set(CASES)


def _plain(prepared: Prepared, values: dict) -> list:
    query = prepared.build(**values)
    if prepared.rows:
        return db.execute_sql(*query.sql()).fetchall()
    return [sorted(row.__data__.items()) for row in query]


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_prepared_query_compiles_safely_and_matches_the_plain_one(world, name):
    if name in POSTGRESQL_ONLY and is_sqlite():
        pytest.skip("PostgreSQL only")
    prepared = all_prepared()[name]
    prepared._compiled.clear()  # compiled, and so checked, on this database, here
    values = CASES[name](world)
    with db.atomic():  # for the row locks
        found = prepared(**values)
        plain = _plain(prepared, values)
    if not prepared.rows:
        found = [sorted(row.__data__.items()) for row in found]
    assert plain, "each case should find rows"
    assert sorted(map(repr, found)) == sorted(map(repr, plain))
