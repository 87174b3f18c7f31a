"""What two-way calendar sync costs a booking, and what the worker's calls cost, against
a real Radicale (CalDAV) and a local ICS server.

    .venv/bin/python -m bench.calendar_bench [--database-url postgresql://...] [--calls 40]

In-process (Flask test client) on a scratch database, Radicale on a free port. Each
figure is the median of --calls, as a ratio to the floor, all measured in rounds of the
same run: (floor) booking a service through the API for a provider with no calendars;
(a) the same for a provider with two two-way CalDAV calendars (the outbox rows written
in the booking's transaction), at the same start times; (b) the worker writing one new
booking to Radicale (``two_way.push`` of one due row: a PUT); (c) "sync now" through the
API with nothing changed (a sync-token REPORT, blocks left as they were); (d) a full read
of a calendar holding the provider's own events, some weekly (``two_way.sync`` after
clearing ``full_read_at``, every fourth round); (e) an ICS import answered 304
(``imports.sync`` with the ETag kept). Hand-offs to the queue go to lists, as in tests.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import requests
from flask.testing import FlaskClient

from app import create_app
from bench.harness import bearer, connected, scratch_database
from config import Settings
from models import BusyBlock, CalendarPush, ExternalCalendar, db
from services.accounts.auth import issue_token
from services.calendar import imports, two_way
from tests import factories
from tests.radicale import PASSWORD, USER, Radicale
from tests.server import TEST_ENCRYPTION_KEY
from tests.standins.calendar_server import CalendarServer

HORIZON_DAYS = 90  # how far ahead the services book, so how far the reads expand
OWN_EVENTS, WEEKLY = 200, 20  # the provider's own events in their calendar; weekly ones
OWN_FROM = timedelta(days=7)  # the bookings measured take the first days; own events after
LONDON = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\nBEGIN:STANDARD\r\nDTSTART:19701025T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\n"
    "TZNAME:GMT\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T010000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\n"
    "TZNAME:BST\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
)


@dataclass(frozen=True)
class Spent:
    """One call's time: on the wall clock, and on this process's CPU (not Radicale's)."""

    wall: float
    cpu: float


def timed(call: Callable[[], object]) -> Spent:
    began, began_cpu = time.perf_counter(), time.process_time()
    call()
    return Spent(time.perf_counter() - began, time.process_time() - began_cpu)


def median_ms(times: list[Spent], part: str = "wall") -> float:
    return statistics.median(getattr(spent, part) for spent in times) * 1e3


def own_event(number: int, day: datetime) -> str:
    """One event the provider made on their phone: a weekly one for the first WEEKLY."""
    local = day.strftime("%Y%m%d") + f"T{8 + number % 9:02d}{15 * (number % 4):02d}00"
    weekly = number < WEEKLY
    return (
        f"BEGIN:VEVENT\r\nUID:own-{number}@phone\r\nDTSTAMP:20261120T100000Z\r\n"
        + (f"DTSTART;TZID=Europe/London:{local}\r\n" if weekly else f"DTSTART:{local}Z\r\n")
        + "DURATION:PT45M\r\n"
        + ("RRULE:FREQ=WEEKLY\r\n" if weekly else "")
        + f"SUMMARY:Own event {number}\r\nEND:VEVENT\r\n"
    )


def fill_with_own_events(url: str, first_day: datetime) -> None:
    """OWN_EVENTS events of the provider's, spread over the booking horizon. One PUT of
    the whole calendar (Radicale splits it into an event per UID): one PUT each would
    take Radicale a quarter of a second apiece."""
    events = (
        own_event(n, first_day + timedelta(days=n % (HORIZON_DAYS - OWN_FROM.days)))
        for n in range(OWN_EVENTS)
    )
    body = (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Phone//EN\r\n{LONDON}"
        + "".join(events)
        + "END:VCALENDAR\r\n"
    )
    headers = {"Content-Type": "text/calendar; charset=utf-8"}
    requests.put(
        url, data=body.encode(), headers=headers, auth=(USER, PASSWORD), timeout=60
    ).raise_for_status()


def quarter_hours(first: datetime) -> Iterator[str]:
    """Start times 15 minutes apart (the day's hours end at 23:59: not the last quarter)."""
    moment = first
    while True:
        if (moment.hour, moment.minute) != (23, 45):
            yield moment.isoformat()
        moment += timedelta(minutes=15)


def seed(radicale: Radicale) -> dict:
    org = factories.make_org("bench")
    org.max_future_bookings, org.max_bookings_per_day = 100_000, 10_000
    org.save()
    allday = {"hours": [(clock_time(0), clock_time(23, 59))], "weekdays": range(7)}
    plain = factories.make_provider(org, "No Calendars", **allday)
    synced_user = factories.make_user("synced@example.com", "Synced Provider")
    synced = factories.make_provider(org, "Two Calendars", user=synced_user, **allday)
    importer = factories.make_provider(org, "Imports", **allday)
    now = datetime.now(UTC)
    return {
        "plain": factories.make_service(org, [plain], "Plain", 15, max_days_ahead=HORIZON_DAYS),
        "synced": factories.make_service(org, [synced], "Synced", 15, max_days_ahead=HORIZON_DAYS),
        "importer": importer,
        "customer_token": issue_token(factories.make_user("bench@example.com"), now)[0],
        "provider_token": issue_token(synced_user, now)[0],
        "collections": [radicale.make_calendar("work"), radicale.make_calendar("home")],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="a PostgreSQL server URL")
    parser.add_argument("--calls", type=int, default=40, help="calls per median")
    args = parser.parse_args()
    radicale = Radicale().start()
    try:
        with CalendarServer() as ics, scratch_database(args.database_url) as url:
            with connected(url):
                seeded = seed(radicale)
            figures, blocks = measure(start_run(url, seeded), ics, args.calls)
    finally:
        radicale.stop()
    report(figures, blocks, args)


@dataclass
class Run:
    """The app in this process, the people calling it and the worker's half."""

    settings: Settings
    seeded: dict
    client: FlaskClient
    starts: dict[str, Iterator[str]]
    today: datetime
    calendars: list[int] = field(default_factory=list)

    def book(self, kind: str) -> Spent:
        """POST /api/v1/bookings for the next free start of ``kind``'s provider."""
        body = {"service": self.seeded[kind].id, "start": next(self.starts[kind])}
        answers = []
        spent = timed(
            lambda: answers.append(
                self.client.post("/api/v1/bookings", json=body, headers=self.customer)
            )
        )
        assert answers[0].status_code == 201, answers[0].json
        return spent

    def sync_now(self, calendar_id: int) -> None:
        answer = self.client.post(f"/api/v1/me/calendars/{calendar_id}/sync", headers=self.provider)
        assert answer.status_code == 200, answer.json
        assert answer.json["status"] == "ok", answer.json

    def push(self, calendar_id: int, everything: bool = False) -> int:
        """As the worker's task does it: its own connection, the calendar's due rows."""
        with db.connection_context():
            return two_way.push(calendar_id, self.settings, datetime.now(UTC), everything)

    def sync(self, calendar_id: int) -> None:
        with db.connection_context():
            synced = two_way.sync(calendar_id, datetime.now(UTC), self.settings)
        assert synced.status == "ok", synced.last_error

    def sync_import(self, calendar_id: int) -> None:
        """The worker's sync of an ICS calendar (services/calendar/imports.py)."""
        hosts = self.settings.calendar_allow_hosts
        with db.connection_context():
            synced = imports.sync(calendar_id, datetime.now(UTC), hosts)
        assert synced.status == "ok", synced.last_error

    @property
    def customer(self) -> dict:
        return bearer(self.seeded["customer_token"])

    @property
    def provider(self) -> dict:
        return bearer(self.seeded["provider_token"])


def start_run(url: str, seeded: dict) -> Run:
    """The app, and the two CalDAV calendars connected through the API by their provider."""
    settings = Settings(
        database_url=url,
        secret_key="bench",
        env="production",
        encryption_keys=(TEST_ENCRYPTION_KEY,),
        rate_limit_scale=0,
        calendar_allow_hosts=("127.0.0.1",),
    )
    handed = []  # the queue's hand-offs, as in the tests: nothing runs behind our back
    app = create_app(settings, DISPATCH=handed.extend, CALENDAR_DISPATCH=handed.extend)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today + timedelta(days=2)
    starts = {"plain": quarter_hours(first), "synced": quarter_hours(first)}
    run = Run(settings, seeded, app.test_client(), starts, today)
    for collection in seeded["collections"]:
        body = {"url": collection, "username": USER, "password": PASSWORD}
        answer = run.client.post("/api/v1/me/calendars", json=body, headers=run.provider)
        assert answer.status_code == 201, answer.json
        run.calendars.append(answer.json["id"])
    return run


def measure(run: Run, ics: CalendarServer, calls: int) -> tuple[dict[str, list[Spent]], int]:
    """Rounds in which every figure takes its turn, so a machine that gets busier for a
    while slows them all alike; the full read (d) in every fourth round."""
    work, home = run.calendars
    fill_with_own_events(run.seeded["collections"][1], run.today + OWN_FROM)
    for calendar_id in run.calendars:  # the first sync: the own events become busy blocks
        run.sync(calendar_id)
    imported = ics_calendar(ics, run)
    figures = {name: [] for name in ("floor", "a", "b", "c", "d", "e")}
    written = []
    for round_ in range(calls):
        figures["floor"].append(run.book("plain"))
        figures["a"].append(run.book("synced"))  # queues it for work and home
        figures["b"].append(timed(lambda: written.append(run.push(work))))
        run.push(home)
        run.sync(home)  # past the event just written: nothing changed for (c)
        figures["c"].append(timed(lambda: run.sync_now(home)))
        figures["e"].append(timed(lambda: run.sync_import(imported)))
        if round_ % 4 == 0:
            with db.connection_context():
                ExternalCalendar.update(full_read_at=None).where(
                    ExternalCalendar.id == home
                ).execute()
            figures["d"].append(timed(lambda: run.sync(home)))
    assert written == [1] * calls  # (a)'s row, one PUT each
    assert [asked.status for asked in ics.asked] == [200] + [304] * calls, ics.asked[:3]
    with db.connection_context():
        assert not CalendarPush.select().exists()  # every booking was written
        blocks = BusyBlock.select().where(BusyBlock.calendar == home).count()
    return figures, blocks


def ics_calendar(ics: CalendarServer, run: Run) -> int:
    """An ICS address (50 events) imported once (200: blocks, and the ETag kept), so
    that its server answers every later sync 304."""
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:feed-{n}@elsewhere\r\nDTSTAMP:20261120T100000Z\r\n"
        f"DTSTART:{run.today + timedelta(days=n, hours=10):%Y%m%dT%H%M%SZ}\r\n"
        "DURATION:PT1H\r\nSUMMARY:Busy\r\nEND:VEVENT\r\n"
        for n in range(50)
    )
    text = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Elsewhere//EN\r\n{events}END:VCALENDAR\r\n"
    address = ics.serve("/busy.ics", text.encode())
    with db.connection_context():
        calendar = imports.add(
            run.seeded["importer"].id, address, datetime.now(UTC), run.settings.calendar_allow_hosts
        )
    run.sync_import(calendar.id)
    return calendar.id


FIGURES = (
    ("a", "(a)    booking, two CalDAV calendars       "),
    ("b", "(b)    worker: one booking PUT to Radicale "),
    ("c", "(c)    sync now, nothing changed           "),
    ("d", "(d)    full read of the own events         "),
    ("e", "(e)    ICS import answered 304             "),
)


def report(figures: dict[str, list[Spent]], blocks: int, args: argparse.Namespace) -> None:
    base = median_ms(figures["floor"])
    print(
        f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; "
        f"{args.calls} calls per figure ({len(figures['d'])} for (d)), medians;"
        " last column: CPU of this process (Radicale's own time is not in it)"
    )
    cpu = median_ms(figures["floor"], "cpu")
    print(f"floor  booking, provider without calendars  {base:7.2f} ms   1.00x  {cpu:7.2f} ms")
    for key, label in FIGURES:
        ms, cpu = median_ms(figures[key]), median_ms(figures[key], "cpu")
        print(f"{label} {ms:7.2f} ms  {ms / base:5.2f}x  {cpu:7.2f} ms")
    print(
        f"(d) reads {OWN_EVENTS} own events ({WEEKLY} weekly) and the {args.calls} bookings"
        f" Kairos wrote there, over {HORIZON_DAYS} days: {blocks} busy blocks"
    )


if __name__ == "__main__":
    main()
