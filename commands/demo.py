"""Demo data: Harbor Physio, its staff, services, customers and a fortnight of bookings
(this week's past ones completed, or now and then a no-show). Safe to run twice."""

from __future__ import annotations

import contextlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from models import (
    Booking,
    BookingStatus,
    Membership,
    Notification,
    Organisation,
    Provider,
    Service,
    ServiceProvider,
    User,
    WeeklyHours,
    db,
)
from services.accounts.auth import hash_password
from services.booking import appointments as booking
from services.booking.appointments import record_event
from services.errors import DomainError
from services.notifications.outbox import Dispatch

DEMO_PASSWORD = "demo-pass-1234"
DEMO_LOGINS = {
    "owner@example.com": "owner",
    "provider@example.com": "provider (Dr. Ana Silva)",
    "tom@example.com": "provider (Tom Reed)",
    "customer@example.com": "customer",
}
# Customers the clinic booked by phone: the clinic's own records of them (no account).
_CLIENTS = [
    ("Jordan Blake", "jordan.blake@example.com", "+447911123401"),
    ("Priya Natarajan", "priya.n@example.com", "+447911123402"),
    ("Sam O'Connor", None, "+447911123403"),
    ("Mei Chen", "mei.chen@example.com", None),
    ("Lucas Ferreira", "lucas.f@example.com", "+447911123405"),
    ("Amara Okafor", "amara.okafor@example.com", "+447911123406"),
    ("Ben Hughes", None, "+447911123407"),
    ("Sofia Rossi", "sofia.rossi@example.com", "+447911123408"),
]
# Each provider's usual day: (hour, minute, index into their services).
_DAY_PLAN = {
    "Dr. Ana Silva": [(9, 0, 0), (11, 0, 1), (14, 30, 1), (15, 30, 0)],
    "Tom Reed": [(9, 30, 1), (13, 0, 1), (14, 0, 1), (16, 0, 0)],
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


# How customers reach it (0020): a drama-range phone number and example domains.
DEMO_CONTACT = {
    "address": "12 Harbour Street\nBristol BS1 4RN",
    "phone": "+441174960000",
    "email": "hello@harborphysio.example.com",
    "website": "https://www.harborphysio.example.com",
    "directions": "Blue door next to the harbour café; we're on the first floor, with a lift.",
}


def seed_demo(now: datetime) -> bool:
    """Create the demo organisation; False when it was already there."""
    if Organisation.get_or_none(slug="demo"):
        return False
    with db.atomic():
        org = Organisation.create(
            slug="demo",
            name="Harbor Physio",
            timezone="Europe/London",
            currency="GBP",
            **DEMO_CONTACT,
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
    clients = [User.create(name=n, email=e, phone=p, organisation=org) for n, e, p in _CLIENTS]
    _fortnight(org, {ana: services, tom: services[1:]}, clients, users["owner@example.com"], now)
    # The demo's history is made up: nobody is told about it (its bookings' Dispatch is
    # never handed to the worker, and the rows go).
    Notification.delete().where(Notification.organisation == org).execute()
    _payment_rules(services)
    return True


def _payment_rules(services: list[Service]) -> None:
    """A £20 deposit for the assessment, the massage paid in full, the follow-up paid
    at the venue. Set after the made-up history, which was never paid online; they ask
    for money only where Stripe keys are configured (services/payments/gateway.py)."""
    assessment, _follow_up, massage = services
    Service.update(payment_mode="deposit", deposit_cents=2000).where(
        Service.id == assessment.id
    ).execute()
    Service.update(payment_mode="full").where(Service.id == massage.id).execute()


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
            booking.book(
                customer_id=customer.id,
                service_id=service.id,
                start=start,
                now=now,
                dispatch=Dispatch(),  # never sent: see seed_demo
            )
        booked += 1


def _fortnight(org, offers: dict, clients: list[User], owner: User, now: datetime) -> None:
    """This week and next, weekdays: most of each provider's usual day booked by the
    clinic's customers. What is already over is marked completed, or a no-show."""
    tz = ZoneInfo(org.timezone)
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    turn = 0
    for offset in range(12):
        day = monday + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for provider, services in offers.items():
            for hour, minute, which in _DAY_PLAN[provider.name]:
                turn += 1
                if turn % 4 == 0:
                    continue  # leave some gaps
                start = datetime.combine(day, time(hour, minute), tz)
                client = clients[(turn - turn // 4) % len(clients)]  # each in turn
                _book_and_mark(services[which], provider, client, start, owner, now, turn)


def _book_and_mark(service, provider, client, start, owner, now, turn) -> None:
    # Booked a day ahead, as if on the phone; the engine checks against that moment.
    booked_at = min(now, start - timedelta(days=1))
    with contextlib.suppress(DomainError):
        made = booking.book(
            customer_id=client.id,
            service_id=service.id,
            start=start,
            now=booked_at,
            provider_id=provider.id,
            actor_id=owner.id,
            source="phone",
            dispatch=Dispatch(),  # never sent: see seed_demo
        )
        if made.end_at <= now:
            status = BookingStatus.NO_SHOW if turn % 7 == 0 else BookingStatus.COMPLETED
            Booking.update(status=status).where(Booking.id == made.id).execute()
            record_event(made.id, owner.id, status, made.end_at)
