"""Prepared queries give exactly what the Peewee query they were built from gives."""

from datetime import UTC, datetime, timedelta

from models import Booking, Prepared
from services.booking import appointments as booking
from services.notifications.outbox import Dispatch

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
