"""The audit log: what the staff and owners of a business did, for the owner to read
(services/workspace/audit.py, the Audit page).

Services write an entry with one call to ``record``, inside the transaction of the
change itself, so an entry exists exactly when the change does. An entry names the
person (their name as it was then), the kind of action, what it was done to, a short
sentence, and a small JSON detail of what changed. It never holds a password, token or
other secret, nor what customers typed about themselves: customers are referred to by
their booking or record, so that erasing a person does not need to edit the log, which
the database keeps append-only (migration 0011).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from models import AuditEntry, User

# The kinds of action the page filters by, and each action's kind (its prefix).
KINDS = {
    "settings": "Settings",
    "staff": "Staff",
    "services": "Services",
    "hours": "Hours and time off",
    "bookings": "Bookings",
    "customers": "Customers",
}
ACTIONS = frozenset(
    {
        "settings.changed",
        "settings.logo",
        "settings.payments_connected",
        "settings.payments_replaced",
        "settings.payments_disconnected",
        "settings.calendar_feed_renewed",
        "settings.calendar_feed_names",
        "staff.invited",
        "staff.invitation_resent",
        "staff.invitation_withdrawn",
        "staff.joined",
        "staff.provider_added",
        "staff.deactivated",
        "staff.reactivated",
        "services.created",
        "services.edited",
        "services.archived",
        "services.restored",
        "hours.weekly",
        "hours.date_set",
        "hours.date_cleared",
        "hours.time_off_added",
        "hours.time_off_removed",
        "bookings.booked",
        "bookings.cancelled",
        "bookings.moved",
        "bookings.marked",
        "bookings.note_added",
        "bookings.payment_recorded",
        "customers.note_added",
        "customers.exported",
    }
)
SUMMARY_LIMIT, DETAIL_LIMIT, TEXT_LIMIT = 500, 4000, 200
# Keys a detail may never have, however it was built.
_SECRET_WORDS = ("password", "secret", "token", "api_key", "private")

_address: ContextVar[str | None] = ContextVar("audit_address", default=None)


@contextmanager
def requested_from(address: str | None) -> Iterator[None]:
    """Entries recorded inside this block say the request came from ``address`` (the
    workspace sets it around each request; elsewhere entries have none)."""
    reset = _address.set(address[:45] if address else None)
    try:
        yield
    finally:
        _address.reset(reset)


def record(
    organisation_id: int,
    actor_id: int,
    action: str,
    summary: str,
    now: datetime,
    *,
    subject: tuple[str, int | None] | None = None,
    detail: dict | None = None,
) -> AuditEntry:
    """Add an entry to ``organisation_id``'s log: ``actor_id`` did ``action`` (one of
    ACTIONS) to ``subject`` (a kind of record and its id), as ``summary`` says. Call it
    inside the transaction of the change."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    name = User.select(User.name).where(User.id == actor_id).scalar()
    kind, subject_id = subject or ("", None)
    return AuditEntry.create(
        organisation=organisation_id,
        actor=actor_id,
        actor_name=name or "Unknown",
        action=action,
        subject_type=kind,
        subject_id=subject_id,
        summary=_clip(" ".join(summary.split()), SUMMARY_LIMIT),
        detail=_small(detail or {}),
        ip=_address.get(),
        created_at=now,
    )


def kind_of(action: str) -> str:
    return action.partition(".")[0]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _small(detail: dict) -> str:
    """The detail as JSON: long texts clipped, and never more than DETAIL_LIMIT."""

    def tidy(value: object, key: str = "") -> object:
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise ValueError(f"audit detail {key!r}: never log secrets")
        if isinstance(value, dict):
            return {str(k): tidy(v, str(k)) for k, v in value.items() if v is not None}
        if isinstance(value, list | tuple):
            return [tidy(v) for v in value]
        if isinstance(value, str):
            return _clip(value, TEXT_LIMIT)
        if value is None or isinstance(value, bool | int | float):
            return value
        return _clip(str(value), TEXT_LIMIT)

    text = json.dumps(tidy(detail), ensure_ascii=False)  # in the order the change lists them
    return text if len(text) <= DETAIL_LIMIT else json.dumps({"clipped": True})


def diff(before: object, after: dict, labels: dict[str, str]) -> dict[str, list]:
    """What an update changes, for a detail's "changes": {label: [before, after]} for
    each field in ``labels`` (by name) whose value in ``after`` (keyed by field or by
    name) differs from ``before``'s attribute."""
    found = {}
    for key, value in after.items():
        name = getattr(key, "name", key)
        if name in labels and getattr(before, name) != value:
            found[labels[name]] = [getattr(before, name), value]
    return found
