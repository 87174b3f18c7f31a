"""Races through the front door: many clients at once against the live server.

The server is gunicorn with production settings (2 workers × 8 threads) on the
test's database, SQLite or PostgreSQL. It runs on the real clock, so every slot
here lies about two weeks ahead of now. All requests of a race wait at one
barrier and go together; whatever the interleaving, the database must end with
at most one live booking per provider and time, and the server must never
answer 500.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from models import Booking, Provider, Service
from services.accounts.auth import issue_token
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories

pytestmark = pytest.mark.live

LONDON = ZoneInfo("Europe/London")
CUSTOMERS = 20


@dataclass(frozen=True)
class Call:
    path: str
    token: str
    body: dict


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict

    @property
    def error(self) -> str | None:
        return self.body.get("error")


def race(base: str, calls: list[Call]) -> list[Answer]:
    """POST every call from its own thread and connection, all released at once."""
    barrier = threading.Barrier(len(calls), timeout=60)

    def send(call: Call) -> Answer:
        with requests.Session() as session:
            barrier.wait()
            response = session.post(
                base + call.path,
                json=call.body,
                headers={"Authorization": f"Bearer {call.token}"},
                timeout=120,
            )
        try:
            body = response.json()
        except ValueError:
            body = {"error": "not_json", "message": response.text[:500]}
        return Answer(response.status_code, body)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, calls))


def weekdays_ahead(count: int) -> list[date]:
    """``count`` working days (Mon–Fri), starting two weeks from today in London."""
    day = datetime.now(UTC).astimezone(LONDON).date() + timedelta(days=14)
    found = []
    while len(found) < count:
        if day.weekday() < 5:
            found.append(day)
        day += timedelta(days=1)
    return found


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LONDON)


def live_bookings(provider: Provider | None = None, start: datetime | None = None):
    query = Booking.select().where(Booking.status != "cancelled")
    if provider is not None:
        query = query.where(Booking.provider == provider)
    if start is not None:
        query = query.where(Booking.start_at == start)
    return list(query.order_by(Booking.id))


def statuses(answers: list[Answer]) -> Counter:
    return Counter(a.status for a in answers)


@dataclass
class RaceClinic:
    ana: Provider
    tom: Provider
    solo: Service  # 60 minutes, Ana only
    either: Service  # 60 minutes, Ana or Tom
    customers: list
    tokens: list[str]


@pytest.fixture
def race_clinic(app) -> RaceClinic:
    """Two providers Mon–Fri 09–17 in London, and customers with API tokens."""
    org = factories.make_org("race")
    ana = factories.make_provider(org, "Ana Silva")
    tom = factories.make_provider(org, "Tom Reed")
    solo = factories.make_service(org, [ana], "Assessment", 60, max_days_ahead=365)
    either = factories.make_service(org, [ana, tom], "Treatment", 60, max_days_ahead=365)
    customers = [
        factories.make_user(f"racer{i}@example.com", f"Racer {i}") for i in range(CUSTOMERS)
    ]
    now = datetime.now(UTC)  # the live server checks tokens against the real clock
    tokens = [issue_token(customer, now)[0] for customer in customers]
    return RaceClinic(ana, tom, solo, either, customers, tokens)


def test_two_hundred_clients_race_for_one_slot(live_server, race_clinic):
    start = at(weekdays_ahead(1)[0], 10)
    calls = []
    for i in range(200):
        body = {"service": race_clinic.solo.id, "start": start.isoformat()}
        if i % 2:  # half name the provider, half ask for anyone: both paths race
            body["provider"] = race_clinic.ana.id
        calls.append(Call("/api/v1/bookings", race_clinic.tokens[i % CUSTOMERS], body))

    answers = race(live_server, calls)

    assert statuses(answers) == {201: 1, 409: 199}, [
        a for a in answers if a.status not in (201, 409)
    ]
    assert {a.error for a in answers if a.status == 409} == {"slot_taken"}
    (won,) = [a for a in answers if a.status == 201]
    rows = live_bookings(race_clinic.ana, start)
    assert [b.id for b in rows] == [won.body["id"]]
    assert len(live_bookings()) == 1


def test_overlapping_starts_never_both_win(live_server, race_clinic):
    """10:00 and 10:30 for an hour each, sent together on each of ten days."""
    days = weekdays_ahead(10)
    calls = [
        Call(
            "/api/v1/bookings",
            race_clinic.tokens[(2 * n + k) % CUSTOMERS],
            {
                "service": race_clinic.solo.id,
                "start": at(day, 10, minute).isoformat(),
                "provider": race_clinic.ana.id,
            },
        )
        for n, day in enumerate(days)
        for k, minute in enumerate((0, 30))
    ]

    answers = race(live_server, calls)

    assert set(statuses(answers)) <= {201, 409}, [a for a in answers if a.status not in (201, 409)]
    for n, day in enumerate(days):
        pair = answers[2 * n : 2 * n + 2]
        assert sorted(a.status for a in pair) == [201, 409], (day, pair)
        booked = [
            b for b in live_bookings(race_clinic.ana) if b.start_at.astimezone(LONDON).date() == day
        ]
        assert len(booked) == 1, (day, booked)
        assert booked[0].id == next(a.body["id"] for a in pair if a.status == 201)


def test_any_provider_race_fills_each_provider_once(live_server, race_clinic):
    days = weekdays_ahead(3)
    per_day = 16
    calls = [
        Call(
            "/api/v1/bookings",
            race_clinic.tokens[i % CUSTOMERS],
            {"service": race_clinic.either.id, "start": at(day, 11).isoformat()},
        )
        for day in days
        for i in range(per_day)
    ]

    answers = race(live_server, calls)

    assert statuses(answers) == {201: 2 * len(days), 409: (per_day - 2) * len(days)}, [
        a for a in answers if a.status not in (201, 409)
    ]
    for day in days:
        rows = live_bookings(start=at(day, 11))
        assert sorted(b.provider_id for b in rows) == sorted(
            [race_clinic.ana.id, race_clinic.tom.id]
        )


def test_two_reschedules_to_one_free_slot(live_server, race_clinic):
    """Two customers move their bookings to the same free time at the same moment."""
    days = weekdays_ahead(5)
    now = datetime.now(UTC)
    old = {}  # (day, who) -> booking id
    calls = []
    for day in days:
        for who, hour in ((0, 9), (1, 11)):
            made = bookings.book(
                customer_id=race_clinic.customers[who].id,
                service_id=race_clinic.solo.id,
                start=at(day, hour),
                provider_id=race_clinic.ana.id,
                now=now,
                dispatch=Dispatch(),
            )
            old[day, who] = made.id
            calls.append(
                Call(
                    f"/api/v1/bookings/{made.id}/reschedule",
                    race_clinic.tokens[who],
                    {"start": at(day, 14).isoformat()},
                )
            )

    answers = race(live_server, calls)

    assert set(statuses(answers)) <= {200, 409}, [a for a in answers if a.status not in (200, 409)]
    for n, day in enumerate(days):
        pair = answers[2 * n : 2 * n + 2]
        assert sorted(a.status for a in pair) == [200, 409], (day, pair)
        winner = next(who for who, a in enumerate(pair) if a.status == 200)
        loser = 1 - winner
        assert pair[loser].error == "slot_taken"
        assert Booking.get_by_id(old[day, loser]).status == "confirmed"
        assert Booking.get_by_id(old[day, winner]).status == "cancelled"
        moved = live_bookings(race_clinic.ana, at(day, 14))
        assert [b.id for b in moved] == [pair[winner].body["id"]]
        assert moved[0].rescheduled_from_id == old[day, winner]


def test_many_slots_each_contended_by_several_clients(live_server, race_clinic):
    """Forty slots, five clients for each, all at once: one winner per slot, the rest
    told it was taken. Contenders insert at the same moment, which is when PostgreSQL's
    exclusion constraint can make two inserts wait on each other (a deadlock)."""
    days = weekdays_ahead(5)
    slots = [
        (provider, at(day, hour))
        for day in days
        for hour in (9, 11, 13, 15)
        for provider in (race_clinic.ana, race_clinic.tom)
    ]
    contenders = 5
    calls = [
        Call(
            "/api/v1/bookings",
            race_clinic.tokens[(n * contenders + k) % CUSTOMERS],
            {"service": race_clinic.either.id, "start": start.isoformat(), "provider": provider.id},
        )
        for n, (provider, start) in enumerate(slots)
        for k in range(contenders)
    ]

    answers = race(live_server, calls)

    assert statuses(answers) == {201: len(slots), 409: len(slots) * (contenders - 1)}, [
        a for a in answers if a.status not in (201, 409)
    ]
    for n, (provider, start) in enumerate(slots):
        won = [
            a.body["id"] for a in answers[n * contenders : (n + 1) * contenders] if a.status == 201
        ]
        assert [b.id for b in live_bookings(provider, start)] == won
