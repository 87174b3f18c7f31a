"""The notification outbox: what delivery and the every-minute sweep cost.

(a) Delivery: --messages confirmation emails sent through ``delivery.deliver`` (claim the
    row, load the booking, compose the text, HTML and calendar invitation, send by SMTP,
    mark it sent) to a local aiosmtpd server. Floor: the same number of ready-made
    messages sent with smtplib, one connection each, as mail.send does.
(b) The sweep with --bookings confirmed bookings in the coming week and nothing due:
    ``create_reminders`` and ``waiting`` together, as every worker runs it each minute.
    Floor: ``SELECT count(*) FROM booking`` on the same connection (one look at them all).
(c) The sweep that finds --due reminders to create: the cost per reminder.
SQLite by default; --database-url postgresql://... for a scratch PostgreSQL database.
"""

from __future__ import annotations

import argparse
import smtplib
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller

from bench.harness import connected, scratch_database
from config import Settings
from models import Booking, Notification, Organisation, Provider, Service, User, WeeklyHours, db
from services.mail import MailConfig, render
from services.notifications import delivery
from services.notifications import messages as messages_module
from services.notifications import outbox as notify
from services.notifications.sms import ConsoleSms
from tests.server import free_port


class Sink:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        return "250 OK"


def seed(bookings: int, now: datetime) -> tuple[Organisation, User]:
    """One organisation, enough providers working every day, a customer, ``bookings``
    confirmed bookings spread over the coming week (none inside the reminder offsets
    the sweep is run with)."""
    org = Organisation.create(slug="bench", name="Bench", timezone="Europe/London", currency="GBP")
    customer = User.create(email="c@bench.test", name="Casey")
    providers = []
    for i in range(max(1, bookings // 100)):
        provider = Provider.create(organisation=org, name=f"P{i}")
        for weekday in range(7):
            WeeklyHours.create(
                provider=provider,
                weekday=weekday,
                start_time=clock_time(0, 0),
                end_time=clock_time(23, 59),
            )
        providers.append(provider)
    service = Service.create(organisation=org, name="Visit", duration_minutes=30, price_cents=0)
    tz = ZoneInfo(org.timezone)
    start = datetime.combine(now.astimezone(tz).date() + timedelta(days=2), clock_time(0), tz)
    rows = []
    for i in range(bookings):
        at = start + timedelta(minutes=30 * (i // len(providers)))
        rows.append(
            {
                "organisation": org.id,
                "service": service.id,
                "provider": providers[i % len(providers)].id,
                "customer": customer.id,
                "start_at": at,
                "end_at": at + timedelta(minutes=30),
                "block_start": at,
                "block_end": at + timedelta(minutes=30),
                "price_cents": 0,
                "currency": "GBP",
                "created_at": now - timedelta(days=3),
            }
        )
    with db.atomic():
        for chunk in range(0, len(rows), 500):
            Booking.insert_many(rows[chunk : chunk + 500]).execute()
    return org, customer


def best_ms(fn, turns: int = 5) -> float:
    times = []
    for _ in range(turns):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times) * 1e3


def deliveries(messages: int, now: datetime) -> tuple[float, float]:
    """(messages/s through the outbox, messages/s with plain smtplib)."""
    controller = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = Settings(
            secret_key="bench", smtp_host="127.0.0.1", smtp_port=controller.port, env="production"
        )
        with tempfile.TemporaryDirectory() as folder:
            channels = delivery.Channels(
                mail=MailConfig(settings, Path(folder)),
                sms=ConsoleSms(),
                base_url="https://kairos.example",
            )
            org = Organisation.get(slug="bench")
            booking = Booking.select().where(Booking.organisation == org).first()
            ids = []
            for i in range(messages):
                row = notify.BookingNotices(booking, now)
                person = notify.Person(booking.customer_id, "c@bench.test", None, None)
                row.add(person, "email", "confirmed", {"by": "customer", "n": i})
                row.rows[0]["dedup_key"] += f":{i}"
                ids += row.write()
            began = time.perf_counter()
            for notification_id in ids:
                assert delivery.deliver(notification_id, channels, now) == "sent"
            through_outbox = messages / (time.perf_counter() - began)
        ready = messages_module.compose(
            Notification.get_by_id(ids[0]),
            delivery._booking(booking.id),
            User.get_by_id(booking.customer_id),
            base_url="https://kairos.example",
            sender=settings.mail_from,
        )
        message = render(
            "c@bench.test",
            ready.subject,
            "booking_notice",
            settings.mail_from,
            name="Casey",
            message=ready,
            calendar=(ready.ics, ready.ics_method),
        )
        began = time.perf_counter()
        for _ in range(messages):
            with smtplib.SMTP("127.0.0.1", controller.port, timeout=15) as client:
                client.send_message(message)
        floor = messages / (time.perf_counter() - began)
    finally:
        controller.stop()
    return through_outbox, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="a PostgreSQL server; SQLite if empty")
    parser.add_argument("--bookings", type=int, default=5000, help="upcoming bookings")
    parser.add_argument("--due", type=int, default=200, help="reminders the last sweep creates")
    parser.add_argument("--messages", type=int, default=200, help="emails delivered")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    with scratch_database(args.database_url or None) as url, connected(url):
        seed(args.bookings, now)
        offsets = [timedelta(hours=24), timedelta(hours=2)]  # nothing is within 24 h
        channels = delivery.Channels(mail=MailConfig(Settings(secret_key="b")), sms=ConsoleSms())
        floor = best_ms(lambda: db.execute_sql("SELECT count(*) FROM booking").fetchall())

        def sweep():
            notify.create_reminders(now, offsets)
            delivery.waiting(now, channels)

        idle = best_ms(sweep)
        # Make --due of them fall inside 24 h, then time the sweep that creates them.
        day = timedelta(days=1)
        for booking in Booking.select().order_by(Booking.start_at).limit(args.due):
            Booking.update(
                start_at=booking.start_at - day,
                end_at=booking.end_at - day,
                block_start=booking.block_start - day,
                block_end=booking.block_end - day,
            ).where(Booking.id == booking.id).execute()
        began = time.perf_counter()
        created = notify.create_reminders(now + timedelta(hours=1), offsets)
        busy = (time.perf_counter() - began) * 1e3
        per_message, smtp_floor = deliveries(args.messages, now)
        kind = "PostgreSQL" if args.database_url else "SQLite"
        print(f"outbox_bench on {kind}: {args.bookings} upcoming bookings")
        print(f"  floor: count(*) of the bookings    {floor:8.3f} ms")
        print(f"  sweep, nothing due                 {idle:8.3f} ms  ({idle / floor:,.0f}× floor)")
        print(
            f"  sweep creating {len(created):4d} reminders     {busy:8.1f} ms"
            f"  ({busy / max(len(created), 1):.2f} ms each)"
        )
        print(f"  SMTP floor (smtplib, ready-made)   {smtp_floor:8.0f} messages/s")
        print(
            f"  delivery.deliver                     {per_message:8.0f} messages/s"
            f"  ({per_message / smtp_floor:.0%} of the floor)"
        )


if __name__ == "__main__":
    main()
