"""Booking history is append-only, enforced by the database itself."""

from datetime import UTC, datetime

import pytest
from peewee import IntegrityError

from models import BookingEvent
from services.booking import appointments as booking
from services.notifications.outbox import Dispatch


def test_history_rows_cannot_be_edited(app, clinic, clock):
    made = booking.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["follow_up"].id,
        start=datetime(2026, 11, 30, 10, tzinfo=UTC),
        now=clock(),
        dispatch=Dispatch(),
    )
    event = BookingEvent.get(BookingEvent.booking == made.id)
    assert event.action == "booked"
    with pytest.raises(IntegrityError, match="append-only"):
        BookingEvent.update(action="cancelled").where(BookingEvent.id == event.id).execute()
    assert BookingEvent.get_by_id(event.id).action == "booked"
