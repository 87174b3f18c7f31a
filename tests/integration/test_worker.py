"""Notifications through the real machinery: the app under gunicorn enqueues, a real Huey
consumer process delivers, a real SMTP server receives.

Each test starts what it needs: an SMTP stand-in, the live server and the consumer (with
the same settings), on the test's database, SQLite or PostgreSQL. Both run on the real
clock, so bookings are made in slots a few days ahead, found through the slots endpoint.
The consumer runs without its periodic tasks: the tests run the sweep themselves, in a
process of its own, exactly as the worker would, so nothing happens at a minute's turn.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
import requests
from huey import RedisHuey, SqliteHuey

from config import ROOT
from models import Booking, CalendarPush, Notification, Organisation
from services.accounts.auth import issue_token
from services.calendar import two_way
from tests.radicale import PASSWORD as RADICALE_PASSWORD
from tests.radicale import USER as RADICALE_USER
from tests.radicale import Radicale
from tests.server import TEST_ENCRYPTION_KEY, gunicorn
from tests.standins.smtp import SmtpStandIn

pytestmark = [pytest.mark.live, pytest.mark.xdist_group("huey-worker")]

LONDON = ZoneInfo("Europe/London")
MAIL_FROM = "Kairos <bookings@kairos.test>"
DONE = ("sent", "failed", "skipped")
T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
    """The first true value of ``condition()``, asked every 50 ms; AssertionError after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or condition}")
        time.sleep(0.05)


def wait_for_clock(moment: datetime) -> None:
    """Until the real clock has passed ``moment`` (the server and worker run on it)."""
    wait_until(lambda: datetime.now(UTC) > moment, timeout=30, what=f"the clock at {moment}")


class Consumer:
    """``huey_consumer tasks.huey`` as the Procfile runs it (2 threads), polling fast."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen | None = None

    def start(self, **overrides: str) -> None:
        assert self.proc is None, "the consumer is running already"
        cmd = [
            sys.executable, "-m", "huey.bin.huey_consumer", "tasks.huey",
            "--workers", "2", "--worker-type", "thread",
            "--delay", "0.1", "--max-delay", "0.5", "--no-periodic",
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env | overrides, stdout=out, stderr=subprocess.STDOUT
            )

    def stop(self) -> None:
        """SIGINT: a graceful shutdown, the running tasks finish first."""
        self._end(signal.SIGINT)

    def kill(self) -> None:
        """SIGKILL: gone at once, mid-send or not."""
        self._end(signal.SIGKILL)

    def _end(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Live:
    """Everything one test runs against, and the clinic it books in."""

    base: str
    env: dict[str, str]
    queue: str  # the Huey queue (HUEY_URL) the server and the consumer share
    smtp: SmtpStandIn
    consumer: Consumer
    clinic: dict
    token: str

    def free_slots(self, service, count: int) -> list[str]:
        """``count`` start times for ``service`` with Ana that do not overlap, from three
        days ahead (outside the cancellation window)."""
        first = datetime.now(UTC).astimezone(LONDON).date() + timedelta(days=3)
        response = requests.get(
            f"{self.base}/api/v1/orgs/clinic/slots",
            params={
                "service": service.id,
                "provider": self.clinic["ana"].id,
                "date": first.isoformat(),
                "days": 7,
            },
            timeout=10,
        )
        assert response.status_code == 200, response.text
        starts, free_from = [], None
        for slot in response.json()["slots"]:
            start = datetime.fromisoformat(slot["start"])
            if free_from is None or start >= free_from:
                starts.append(slot["start"])
                free_from = datetime.fromisoformat(slot["end"])
        assert len(starts) >= count, starts
        return starts[:count]

    def book(self, service, start: str) -> dict:
        began = time.monotonic()
        response = self._post(
            "/api/v1/bookings",
            {"service": service.id, "start": start, "provider": self.clinic["ana"].id},
        )
        assert response.status_code == 201, response.text
        # The request only enqueues: whatever the worker or the mail server is doing.
        assert time.monotonic() - began < 3
        return response.json()

    def cancel(self, booking_id: int) -> None:
        response = self._post(f"/api/v1/bookings/{booking_id}/cancel", {"reason": "Away"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"

    def _post(self, path: str, body: dict) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return requests.post(self.base + path, json=body, headers=headers, timeout=10)

    def sweep(self, times: int = 1, **overrides: str) -> None:
        """Runs of the periodic sweep, each in a process of its own and all at once, as
        the worker runs it (its startup hook opens the database, then the task)."""
        code = "import tasks; tasks.open_db(); tasks.sweep.call_local()"
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", code],
                cwd=ROOT,
                env=self.env | overrides,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(times)
        ]
        for run in runs:
            _, errors = run.communicate(timeout=30)
            assert run.returncode == 0, errors


# A Redis database of the tests' own for the queue (the production shape's queue); the
# worker tests run one at a time (their xdist group), so one number serves them all.
REDIS_QUEUE = "redis://127.0.0.1:6379/13"


def open_queue(url: str):
    if url.startswith("redis"):
        return RedisHuey("kairos", url=url)
    return SqliteHuey("kairos", filename=url.removeprefix("sqlite:///"))


@pytest.fixture(params=["sqlite"])
def queue_url(request, tmp_path) -> Iterator[str]:
    """The Huey queue: a file of the test's own, or (``redis``) Redis as in production,
    emptied before and after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'huey.db'}"  # an absolute path: four slashes
        return
    queue = open_queue(REDIS_QUEUE)
    queue.storage.flush_all()
    try:
        yield REDIS_QUEUE
    finally:
        queue.storage.flush_all()


@pytest.fixture
def live(production_database, app, clinic, database_url, queue_url, tmp_path) -> Iterator[Live]:
    smtp = SmtpStandIn()
    queue = queue_url
    env = os.environ | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "live-test",
        "KAIROS_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
        "KAIROS_ENV": "testing",
        "HUEY_URL": queue,
        "MAIL_FROM": MAIL_FROM,
        "OUTBOX_RETRY_SECONDS": "1",
        "CALENDAR_ALLOW_HOSTS": "127.0.0.1",  # Radicale, for calendar sync
        **smtp.env(),
    }
    consumer = Consumer(env, tmp_path / "consumer.log")
    token, _ = issue_token(clinic["customer"], datetime.now(UTC))  # the server's real clock
    # One customer books many times here: lift the per-customer limits.
    Organisation.update(max_future_bookings=100, max_bookings_per_day=100).where(
        Organisation.id == clinic["org"].id
    ).execute()
    with smtp, gunicorn(database_url, workers=1, threads=4, env=env) as base:
        try:
            yield Live(base, env, queue, smtp, consumer, clinic, token)
        finally:
            consumer.kill()


# --- reading the outbox -------------------------------------------------------------------


def rows(**where: object) -> list[Notification]:
    query = Notification.select().order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(query)


def all_done() -> list[Notification]:
    """Every row, once none is queued or sending any more; [] until then."""
    found = rows()
    return found if found and all(n.status in DONE for n in found) else []


def ids_in_queue(url: str) -> set[int]:
    """The notification ids the Huey queue still holds tasks for (read, not taken)."""
    queue = open_queue(url)
    try:
        messages = [queue.serializer.deserialize(data) for data in queue.storage.enqueued_items()]
        return {i for message in messages for i in message.args[0]}
    finally:
        if isinstance(queue, SqliteHuey):  # Redis keeps its connection pool
            queue.storage.close()


def message_id(n: Notification) -> str:
    return f"<notification-{n.id}.{n.kind}@kairos.test>"


def calendar_methods(message) -> list[str]:
    return [
        part.get_param("method")
        for part in message.walk()
        if part.get_content_type() == "text/calendar"
    ]


# --- the tests ----------------------------------------------------------------------------


def test_booking_emails_arrive_once(live):
    live.consumer.start()
    (start,) = live.free_slots(live.clinic["assessment"], 1)

    made = live.book(live.clinic["assessment"], start)

    live.smtp.wait_for(2, timeout=10)
    sent = wait_until(all_done, what="both rows finished")
    assert sorted((n.kind, n.channel, n.status) for n in sent) == [
        ("confirmed", "email", "sent"),
        ("staff_new", "email", "sent"),
    ]
    assert {n.booking_id for n in sent} == {made["id"]}
    by_kind = {n.kind: n for n in sent}
    inbox = live.smtp.received()
    assert sorted(live.smtp.message_ids()) == sorted(message_id(n) for n in sent)
    assert sorted(r for rs in live.smtp.recipients for r in rs) == [
        "ana@clinic.test",
        "casey@example.com",
    ]
    (confirmation,) = [m for m in inbox if m["Message-ID"] == message_id(by_kind["confirmed"])]
    assert confirmation["To"].addresses[0].addr_spec == "casey@example.com"
    assert confirmation["Subject"].startswith("Booked: Initial assessment")
    assert calendar_methods(confirmation) == ["REQUEST"]
    calendar = next(p for p in confirmation.walk() if p.get_content_type() == "text/calendar")
    assert "METHOD:REQUEST" in calendar.get_content()
    (staff,) = [m for m in inbox if m["Message-ID"] == message_id(by_kind["staff_new"])]
    assert staff["To"].addresses[0].addr_spec == "ana@clinic.test"
    assert staff["Subject"].startswith("New booking: Casey Morgan")


def test_bookings_reach_the_providers_caldav_calendar_through_the_worker(live):
    radicale = Radicale().start()
    try:
        url = radicale.make_calendar("ana")
        two_way.add_caldav(
            live.clinic["ana"].id, url, RADICALE_USER, RADICALE_PASSWORD, datetime.now(UTC),
            ("127.0.0.1",),
        )  # fmt: skip
        live.consumer.start()
        (start,) = live.free_slots(live.clinic["follow_up"], 1)

        made = live.book(live.clinic["follow_up"], start)
        name = f"kairos-booking-{made['id']}.ics"

        def written() -> list[str]:
            return [h.rsplit("/", 1)[-1] for h in radicale.events(url)]

        wait_until(lambda: written() == [name], what="the booking in Radicale")
        wait_until(lambda: not CalendarPush.select().exists(), what="the outbox row gone")
        live.cancel(made["id"])
        wait_until(lambda: written() == [], what="the booking gone from Radicale")
    finally:
        radicale.stop()


def test_mail_server_down_then_up(live):
    (start,) = live.free_slots(live.clinic["follow_up"], 1)
    live.smtp.stop()
    live.consumer.start()

    made = live.book(live.clinic["follow_up"], start)

    def waiting_to_retry() -> list[Notification]:
        found = rows(booking=made["id"])
        ready = len(found) == 2 and all(
            n.status == "queued" and n.attempts >= 1 and n.last_error for n in found
        )
        return found if ready else []

    waiting = wait_until(waiting_to_retry, what="both rows back in the queue after a failure")
    assert all("ConnectionRefusedError" in n.last_error for n in waiting), waiting
    assert live.smtp.received() == []

    live.smtp.start()

    live.smtp.wait_for(2, timeout=15)
    sent = wait_until(all_done, what="both rows finished")
    assert [n.status for n in sent] == ["sent", "sent"]
    assert all(n.attempts >= 2 and n.last_error == "" for n in sent)
    assert sorted(live.smtp.message_ids()) == sorted(message_id(n) for n in sent)


def reminder_offset(booking_id: int, lead: float = 2.0) -> tuple[str, datetime]:
    """REMINDER_OFFSETS making the booking's reminder fall due ``lead`` seconds after it
    was made; and that moment."""
    booking = Booking.get_by_id(booking_id)
    offset = (booking.start_at - booking.created_at).total_seconds() - lead
    return f"{offset:.3f}s", booking.start_at - timedelta(seconds=offset)


def reminders_in(live: Live) -> list[str]:
    return [m["Message-ID"] for m in live.smtp.received() if m["Subject"].startswith("Reminder")]


def test_reminder_goes_once_whoever_runs_when(live):
    (start,) = live.free_slots(live.clinic["assessment"], 1)
    made = live.book(live.clinic["assessment"], start)
    offsets, due = reminder_offset(made["id"])
    wait_for_clock(due)

    live.sweep(times=2, REMINDER_OFFSETS=offsets)  # two at the same moment

    (reminder,) = rows(kind="reminder")
    assert (reminder.booking_id, reminder.channel, reminder.status) == (
        made["id"],
        "email",
        "queued",
    )
    assert live.smtp.received() == []  # nobody delivers while the consumer is down

    live.consumer.start()
    live.smtp.wait_for(3, timeout=10)
    wait_until(all_done, what="the confirmation, the provider's email and the reminder")
    assert reminders_in(live) == [message_id(reminder)]

    live.consumer.stop()
    live.consumer.start()
    live.sweep(REMINDER_OFFSETS=offsets)
    live.sweep(REMINDER_OFFSETS=offsets)
    time.sleep(2)  # a second reminder would be enqueued by now; give it time to arrive

    assert [n.id for n in rows(kind="reminder")] == [reminder.id]
    assert reminders_in(live) == [message_id(reminder)]
    assert len(live.smtp.received()) == 3


def test_cancelled_booking_gets_no_reminder(live):
    """A: cancelled before its reminder is due; C: its reminder queued, then cancelled."""
    early, late = live.free_slots(live.clinic["assessment"], 2)
    a = live.book(live.clinic["assessment"], early)
    c = live.book(live.clinic["assessment"], late)
    # Due just after C was made; A starts earlier, so its reminder (were it still
    # confirmed) would be due already: recorded as too late, but recorded.
    offsets, due = reminder_offset(c["id"])
    live.cancel(a["id"])
    wait_for_clock(due)

    live.sweep(REMINDER_OFFSETS=offsets)

    (reminder,) = rows(kind="reminder")
    assert (reminder.booking_id, reminder.status) == (c["id"], "queued")

    live.cancel(c["id"])
    live.sweep(REMINDER_OFFSETS=offsets)
    assert [n.id for n in rows(kind="reminder")] == [reminder.id]
    live.consumer.start()

    done = wait_until(all_done, timeout=15, what="every row finished")
    assert Counter((n.kind, n.status) for n in done) == {
        ("confirmed", "sent"): 2,
        ("staff_new", "sent"): 2,
        ("cancelled", "sent"): 2,
        ("staff_cancelled", "sent"): 2,
        ("reminder", "skipped"): 1,
    }
    assert Notification.get_by_id(reminder.id).last_error == "The booking is cancelled."
    live.smtp.wait_for(8, timeout=5)
    assert reminders_in(live) == []
    assert len(live.smtp.received()) == 8


@pytest.mark.parametrize("queue_url", ["sqlite", "redis"], indirect=True)
def test_killed_mid_batch_every_row_goes_duplicates_only_from_the_cut(live):
    """The worker killed mid-send loses nothing, on the SQLite queue and on Redis (the
    production shape's): rows it held are sent after the restart, and only a row that
    was on the wire at the kill can arrive twice."""
    count = 14  # two emails each, one task per booking
    live.smtp.delay = 1.0  # wide enough a window to kill in, on a busy machine too
    for start in live.free_slots(live.clinic["follow_up"], count):
        live.book(live.clinic["follow_up"], start)
    assert len(rows(status="queued")) == 2 * count

    live.consumer.start()
    # Each thread is then on the first row of its task: that row is being sent (the
    # server has it, the worker has not heard "250" yet), the other row waits on it.
    live.smtp.wait_for(2, timeout=15)
    live.consumer.kill()
    killed_at = datetime.now(UTC)
    cut = {n.id for n in rows(status="sending")}
    stranded = {n.id for n in rows(status="queued")} - ids_in_queue(live.queue)
    assert cut, "no row was being sent at the kill"
    assert stranded, "no task died with the worker"
    assert len(live.smtp.received()) < 2 * count

    live.smtp.delay = 0.05
    live.consumer.start(OUTBOX_LEASE_SECONDS="1", OUTBOX_STALE_SECONDS="1")
    wait_for_clock(killed_at + timedelta(seconds=1.2))
    live.sweep(OUTBOX_LEASE_SECONDS="1", OUTBOX_STALE_SECONDS="1")

    done = wait_until(all_done, timeout=30, what="every row finished after the restart")
    assert {n.status for n in done} == {"sent"}
    arrived = Counter(live.smtp.message_ids())
    wanted = {message_id(n): n.id for n in done}
    assert set(arrived) == set(wanted)  # every row's email, and nothing else
    twice = {wanted[mid] for mid, times in arrived.items() if times > 1}
    assert twice <= cut, (twice, cut)
    assert max(arrived.values()) <= 2
    assert len(twice) <= 2  # at most one in flight per worker thread
