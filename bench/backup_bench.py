"""`flask backup` and `flask restore` (commands/backup.py), timed on the demo database and
on one with many more bookings, against a floor.

    .venv/bin/python -m bench.backup_bench [--database-url postgresql://...] [--sqlite]
                                           [--bookings 50000] [--rounds 3]

The floor is the least any backup of the same database costs: on PostgreSQL a plain
``pg_dump --format=custom`` to /dev/null, on SQLite a copy of the database file. Backup
(written beside the target, fsynced, renamed) and restore (into an empty, migrated scratch
database, then the migrations' check) are printed in seconds, since they are the RPO/RTO
figures the README quotes, and as ratios to that floor. Each figure is the best of
``--rounds``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from peewee import SQL, Value

from bench.harness import connected, scratch_database
from commands import backup as backups
from commands.demo import seed_demo
from models import Booking, Notification, Organisation, Provider, Service, User, db, open_database

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
BATCH = 1000


def add_bookings(count: int, now: datetime) -> None:
    """``count`` half-hour bookings of the demo's first provider, back to back from a year
    on (so no two overlap), each with its confirmation in the outbox."""
    org = Organisation.get(slug="demo")
    provider = Provider.select().where(Provider.organisation == org).order_by(Provider.id).get()
    service = Service.select().where(Service.organisation == org).order_by(Service.id).get()
    customer = User.select().order_by(User.id).get()
    first = Booking.select().count()
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=365)
    for batch in range(0, count, BATCH):
        rows = []
        for n in range(batch, min(batch + BATCH, count)):
            begins = start + timedelta(minutes=30 * n)
            ends = begins + timedelta(minutes=30)
            rows.append(
                {
                    "organisation": org.id,
                    "service": service.id,
                    "provider": provider.id,
                    "customer": customer.id,
                    "start_at": begins,
                    "end_at": ends,
                    "block_start": begins,
                    "block_end": ends,
                    "price_cents": 4500,
                    "currency": "GBP",
                    "created_at": now,
                }
            )
        with db.atomic():
            Booking.insert_many(rows).execute()
    # The outbox rows in one INSERT ... SELECT: one confirmation per new booking.
    new = Booking.select(
        Booking.organisation,
        Booking.id,
        Booking.customer,
        Value("email"),
        Value("confirmed"),
        SQL("'bench-confirmed-' || id"),
        Value("queued"),
        Value(0),
        Value(""),
        Value("{}"),
        Booking.created_at,
        Booking.created_at,
    ).where(Booking.id > first)
    fields = [
        Notification.organisation,
        Notification.booking,
        Notification.recipient,
        Notification.channel,
        Notification.kind,
        Notification.dedup_key,
        Notification.status,
        Notification.attempts,
        Notification.last_error,
        Notification.detail,
        Notification.created_at,
        Notification.due_at,
    ]
    with db.atomic():
        Notification.insert_from(new, fields).execute()


def best(run: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def floor(url: str, folder: Path) -> Callable[[], object]:
    if backups.is_sqlite_url(url):
        source, copy = backups.sqlite_file(url), folder / "copy.db"
        return lambda: shutil.copyfile(source, copy)
    address, env = backups.libpq_address(url)
    command = ["pg_dump", "-Fc", "--no-sync", "--file=/dev/null", f"--dbname={address}"]
    return lambda: subprocess.run(command, check=True, env=os.environ | env)


def measure(label: str, url: str, server: str | None, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="kairos-backup-bench-") as folder:
        path = Path(folder) / "kairos.backup"
        floor_s = best(floor(url, Path(folder)), rounds)
        backup_s = best(lambda: backups.backup(url, path), rounds)
        with scratch_database(server) as target:
            database = open_database(target)
            restore_s = best(
                lambda: backups.restore_and_upgrade(database, target, path, force=True), rounds
            )
            database.close()
        size = path.stat().st_size
    print(
        f"{label:<36} floor {floor_s:7.3f} s   backup {backup_s:7.3f} s"
        f" ({backup_s / floor_s:4.1f}× floor, {size / 1e6:6.1f} MB)"
        f"   restore + migrations {restore_s:7.3f} s ({restore_s / floor_s:4.1f}× floor)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=DEFAULT_SERVER,
        help=f"PostgreSQL server to make scratch databases on (default {DEFAULT_SERVER})",
    )
    parser.add_argument("--sqlite", action="store_true", help="use SQLite instead")
    parser.add_argument("--bookings", type=int, default=50_000, help="for the larger database")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = None if args.sqlite else args.database_url

    with scratch_database(server) as url:
        now = datetime.now(UTC)
        with connected(url):
            seed_demo(now)
            demo_bookings = Booking.select().count()
        kind = "sqlite" if args.sqlite else "postgresql"
        floor_name = "copying the file" if args.sqlite else "pg_dump -Fc > /dev/null"
        print(f"database: {kind} (scratch)   floor: {floor_name}   best of {args.rounds}")
        measure(f"demo ({demo_bookings} bookings)", url, server, args.rounds)
        with connected(url):
            add_bookings(args.bookings, now)
            total = Booking.select().count()
            outbox = Notification.select().count()
        measure(f"{total:,} bookings, {outbox:,} outbox rows", url, server, args.rounds)


if __name__ == "__main__":
    main()
