"""Demo data: Harbor Physio, its staff, services and a few bookings. Safe to run twice."""

from __future__ import annotations

import contextlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from models import (
    Membership,
    Organisation,
    Provider,
    Service,
    ServiceProvider,
    User,
    WeeklyHours,
    db,
)
from services import booking
from services.auth import hash_password
from services.errors import DomainError

DEMO_PASSWORD = "demo-pass-1234"
DEMO_LOGINS = {
    "owner@example.com": "owner",
    "provider@example.com": "provider (Dr. Ana Silva)",
    "tom@example.com": "provider (Tom Reed)",
    "customer@example.com": "customer",
}
_SERVICES = [
    # name, category, minutes, pence, buffer after, description
    (
        "Initial assessment",
        "Physiotherapy",
        60,
        6500,
        0,
        "A full assessment of your injury or pain, and a plan to treat it.",
    ),
    (
        "Follow-up",
        "Physiotherapy",
        30,
        4500,
        0,
        "Treatment and exercises, continuing a plan we have started.",
    ),
    ("Sports massage", "Massage", 45, 5500, 10, "Deep tissue massage for recovery and mobility."),
]


def seed_demo(now: datetime) -> bool:
    """Create the demo organisation; False when it was already there."""
    if Organisation.get_or_none(slug="demo"):
        return False
    with db.atomic():
        org = Organisation.create(
            slug="demo", name="Harbor Physio", timezone="Europe/London", currency="GBP"
        )
        users = {
            email: User.create(email=email, name=name, password_hash=hash_password(DEMO_PASSWORD))
            for email, name in [
                ("owner@example.com", "Olivia Harbor"),
                ("provider@example.com", "Dr. Ana Silva"),
                ("tom@example.com", "Tom Reed"),
                ("customer@example.com", "Casey Morgan"),
            ]
        }
        Membership.create(user=users["owner@example.com"], organisation=org, role="owner")
        ana = _provider(org, users["provider@example.com"], lunch=True)
        tom = _provider(org, users["tom@example.com"], lunch=False)
        services = [
            Service.create(
                organisation=org,
                name=name,
                category=category,
                description=text,
                duration_minutes=minutes,
                price_cents=pence,
                buffer_after_minutes=buffer,
                min_notice_minutes=120,
                max_days_ahead=180,
                cancellation_window_hours=24,
            )
            for name, category, minutes, pence, buffer, text in _SERVICES
        ]
        for service in services:
            ServiceProvider.create(service=service, provider=ana)
        for service in services[1:]:
            ServiceProvider.create(service=service, provider=tom)
    _bookings(org, services, users["customer@example.com"], now)
    return True


def _provider(org: Organisation, user: User, *, lunch: bool) -> Provider:
    Membership.create(user=user, organisation=org, role="provider")
    provider = Provider.create(organisation=org, user=user, name=user.name)
    hours = [(time(9), time(13)), (time(14), time(17))] if lunch else [(time(9), time(17))]
    for weekday in range(5):
        for start, end in hours:
            WeeklyHours.create(provider=provider, weekday=weekday, start_time=start, end_time=end)
    return provider


def _bookings(org: Organisation, services: list[Service], customer: User, now: datetime) -> None:
    """A few appointments over the coming working days, booked the way a customer would."""
    tz = ZoneInfo(org.timezone)
    day = now.astimezone(tz).date()
    plan = [(services[0], time(10)), (services[1], time(11, 30)), (services[2], time(15))]
    booked = 0
    while booked < 6:
        day += timedelta(days=1)
        if day.weekday() >= 5:
            continue
        service, at = plan[booked % len(plan)]
        start = datetime.combine(day, at, tz)
        with contextlib.suppress(DomainError):
            booking.book(customer_id=customer.id, service_id=service.id, start=start, now=now)
        booked += 1
