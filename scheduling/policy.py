"""Business rules about changing a booking."""

from __future__ import annotations

from datetime import datetime, timedelta


def change_deadline(start: datetime, window: timedelta) -> datetime:
    """Until when a customer may cancel or move a booking that starts at ``start``."""
    return start - window


def customer_may_change(start: datetime, window: timedelta, now: datetime) -> bool:
    return now < change_deadline(start, window)
