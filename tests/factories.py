"""Building blocks for tests: organisations, people, services and hours, made directly."""

from __future__ import annotations

from datetime import time
from functools import cache

from models import Membership, Organisation, Provider, Service, ServiceProvider, User, WeeklyHours
from services.accounts import sessions
from services.accounts.auth import hash_password

PASSWORD = "correct horse battery"


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per test run


def make_org(slug: str = "clinic", timezone: str = "Europe/London", currency: str = "GBP"):
    return Organisation.create(slug=slug, name=slug.title(), timezone=timezone, currency=currency)


def make_user(email: str, name: str = "Test Person") -> User:
    return User.create(email=email.lower(), name=name, password_hash=password_hash())


def make_provider(org, name: str = "Pat Provider", *, user=None, hours=None, weekdays=range(5)):
    """A provider working ``hours`` (default 09:00–17:00) on ``weekdays`` (default Mon–Fri)."""
    if user is not None:
        Membership.create(user=user, organisation=org, role="provider")
    provider = Provider.create(organisation=org, name=name, user=user)
    for weekday in weekdays:
        for start, end in hours or [(time(9), time(17))]:
            WeeklyHours.create(provider=provider, weekday=weekday, start_time=start, end_time=end)
    return provider


def make_service(org, providers, name: str = "Consultation", minutes: int = 60, **fields):
    fields.setdefault("price_cents", 5000)
    fields.setdefault("max_days_ahead", 180)
    fields.setdefault("cancellation_window_hours", 24)
    service = Service.create(organisation=org, name=name, duration_minutes=minutes, **fields)
    for provider in providers:
        ServiceProvider.create(service=service, provider=provider)
    return service


def make_owner(org, email: str = "owner@clinic.test") -> User:
    user = make_user(email, "Olive Owner")
    Membership.create(user=user, organisation=org, role="owner")
    return user


def make_sign_in(user, now, user_agent: str = "") -> str:
    """A sign-in for ``user`` kept (as with "Keep me signed in", so that tests moving the
    clock on by days stay signed in); its key, for a session's ``_user_id``."""
    started = sessions.start(user.id, remember=True, user_agent=user_agent, address=None, now=now)
    return started.key


def give_logo(slug: str, data: bytes, content_type: str = "image/png") -> None:
    """The business at ``slug`` has ``data`` as its logo, as if its owner had uploaded it
    (the version and size kept beside it, migration 0022)."""
    from services.workspace.settings import etag_of, read_image

    image = read_image(data)
    Organisation.update(
        logo=data,
        logo_type=content_type,
        logo_version=etag_of(data),
        logo_width=image.width if image else None,
        logo_height=image.height if image else None,
    ).where(Organisation.slug == slug).execute()
