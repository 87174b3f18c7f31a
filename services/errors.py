"""Domain errors. Views map them to HTTP status codes in one place (views/errors.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from scheduling import Slot
from scheduling.zones import zone_label


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class InvalidCredentials(DomainError):
    code = "invalid_credentials"


class Invalid(DomainError):
    """Bad input; ``fields`` maps each offending field to what is wrong with it."""

    code = "invalid"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in fields.items()))
        self.fields = fields


class StartPassed(Invalid):
    """The time asked for is already in the past; ``alternatives`` are the nearest free slots."""

    def __init__(self, alternatives: Sequence[Slot] = (), timezone: str = "UTC") -> None:
        super().__init__({"start": "That time has already passed."})
        self.alternatives = list(alternatives)
        self.timezone = timezone


class SlotTaken(DomainError):
    """Someone else got the time first. ``alternatives`` are the nearest free slots."""

    code = "slot_taken"

    def __init__(self, alternatives: Sequence[Slot] = (), timezone: str = "UTC") -> None:
        super().__init__("That time was just taken. Please pick another.")
        self.alternatives = list(alternatives)
        self.timezone = timezone


class LimitReached(DomainError):
    """The customer already holds as many bookings as the organisation allows them to
    make themselves: ``limit`` is "upcoming" (in total) or "per_day", ``allowed`` how
    many. The request is fine; the state of their bookings is not (a 409)."""

    code = "limit_reached"

    def __init__(self, message: str, *, limit: str, allowed: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.allowed = allowed


class OutsideCancellationWindow(DomainError):
    code = "outside_cancellation_window"

    def __init__(self, deadline: datetime, timezone: str) -> None:
        local = deadline.astimezone(ZoneInfo(timezone))
        super().__init__(
            f"Online changes were possible until {local:%a %d %b %Y, %H:%M}"
            f" {zone_label(timezone, deadline)}."
            " Please contact us directly."
        )
        self.deadline = deadline
        self.timezone = timezone


class NotChangeable(DomainError):
    """The booking is cancelled, completed or a no-show."""

    code = "not_changeable"


class DeviceTaken(DomainError):
    """The push device is another person's: it stays theirs until they remove it."""

    code = "device_taken"


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"


class PaymentUnavailable(DomainError):
    """Online payment cannot be started or checked now (the payment provider is not
    answering); nothing was booked, or the hold stays as it was."""

    code = "payment_unavailable"


class PaymentDeclined(DomainError):
    """The card was declined or its authentication failed: the provider's message. The
    hold stays, so the customer can try another card."""

    code = "payment_declined"
