"""What each person chooses to receive, and the time zone they read times in."""

from __future__ import annotations

from models import Membership, NotificationPrefs, User, db
from services.errors import Invalid
from services.validation import real_timezones

CUSTOMER_CHOICES = ("email_reminders", "push", "sms")
STAFF_CHOICES = tuple(
    f"staff_{channel}_{kind}"
    for channel in ("email", "push")
    for kind in ("new", "cancelled", "rescheduled")
)
ALL_CHOICES = CUSTOMER_CHOICES + STAFF_CHOICES


def is_staff(user_id: int) -> bool:
    return Membership.select().where(Membership.user == user_id).exists()


def save(user: User, choices: dict[str, bool]) -> NotificationPrefs:
    """Keep the choices given (others stay as they were). Texts need a phone number."""
    if choices.get("sms") and not user.phone:
        raise Invalid({"sms": "Add your mobile number under “Your details” to get texts."})
    allowed = CUSTOMER_CHOICES + (STAFF_CHOICES if is_staff(user.id) else ())
    with db.atomic():
        prefs = NotificationPrefs.of(user.id)
        for name in allowed:
            if name in choices:
                setattr(prefs, name, bool(choices[name]))
        prefs.save()
    return prefs


def set_timezone(user: User, name: str | None) -> None:
    """Remember the zone the person's device is in, if it is a real one."""
    if not name or name == user.timezone or name not in _zones():
        return
    User.update(timezone=name).where(User.id == user.id).execute()
    user.timezone = name


def _zones() -> frozenset[str]:
    return real_timezones()
