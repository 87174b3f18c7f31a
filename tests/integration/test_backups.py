"""`flask --app app backup PATH` and `restore PATH` (commands/backup.py): a backup restored
into a fresh database has every row; restore asks before replacing data; a failed backup
leaves nothing behind; errors are one line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playhouse.migrations import Runner

from commands import backup as backups
from config import ROOT
from migrations import DIRECTORY as MIGRATIONS
from models import ALL_MODELS, Booking, Notification, User, db, open_database
from services.booking import appointments
from services.notifications.outbox import Dispatch
from tests import factories
from tests.conftest import _server_url
from tests.integration.conftest import app_on

MONDAY_10 = datetime(2026, 11, 30, 10, tzinfo=UTC)
REFUSED = "restore failed: the database already has data: restore --force replaces it\n"


def sorted_migrations() -> list[str]:
    return sorted(p.stem for p in MIGRATIONS.glob("[0-9]*.py"))


def book(clinic, clock, start: datetime) -> Booking:
    """A booking by the clinic's customer, with its confirmation in the outbox."""
    return appointments.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["assessment"].id,
        start=start,
        now=clock(),
        dispatch=Dispatch(),
    )


def every_row() -> dict[str, list[tuple]]:
    """The whole content of the database: each table's rows in key order."""
    return {
        model._meta.table_name: list(
            model.select().order_by(*model._meta.get_primary_keys()).tuples()
        )
        for model in ALL_MODELS
    }


@pytest.fixture
def booked(clinic, clock) -> dict[str, list[tuple]]:
    """Two bookings of the clinic's customer (an account), their outbox rows: the rows."""
    book(clinic, clock, MONDAY_10)
    book(clinic, clock, MONDAY_10 + timedelta(days=1))
    rows = every_row()
    assert len(rows["booking"]) == 2
    assert len(rows["notification"]) >= 2  # the confirmations, queued for the worker
    assert clinic["customer"].id in {row[0] for row in rows["users"]}
    return rows


def test_restored_into_a_fresh_database_every_row_is_there(
    app, booked, tmp_path, restore_database, empty_database_url
):
    backup = tmp_path / "kairos.backup"

    made = app.test_cli_runner().invoke(args=["backup", str(backup)])
    assert made.exit_code == 0, made.output
    assert made.output == f"backed up to {backup} ({backup.stat().st_size:,} bytes)\n"

    fresh = app_on(empty_database_url)  # nothing in it, not even the tables
    restored = fresh.test_cli_runner().invoke(args=["restore", str(backup)])

    assert restored.exit_code == 0, restored.output
    assert restored.output == f"restored {backup}; migrations applied: none\n"
    assert every_row() == booked
    # The sequences came along too: the next account does not take a restored id.
    assert factories.make_user("new@example.com").id > max(row[0] for row in booked["users"])


def test_restore_refuses_a_database_with_data_unless_forced(app, booked, clinic, clock, tmp_path):
    backup = tmp_path / "kairos.backup"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    book(clinic, clock, MONDAY_10 + timedelta(days=2))  # made after the backup

    refused = runner.invoke(args=["restore", str(backup)])

    assert refused.exit_code == 1
    assert refused.output == REFUSED
    assert Booking.select().count() == 3

    forced = runner.invoke(args=["restore", "--force", str(backup)])

    assert forced.exit_code == 0, forced.output
    assert every_row() == booked


def test_an_older_backup_comes_up_to_date(app, tmp_path, empty_database_url):
    newest = sorted_migrations()[-1]
    older = open_database(empty_database_url)
    with older.connection_context():
        Runner(older, str(MIGRATIONS)).up(target=sorted_migrations()[-2])
    backup = tmp_path / "older.backup"
    backups.backup(empty_database_url, backup)
    older.close()

    restored = app.test_cli_runner().invoke(args=["restore", str(backup)])

    assert restored.exit_code == 0, restored.output
    assert restored.output == f"restored {backup}; migrations applied: {newest}\n"
    assert factories.make_org("after-restore").id  # the newest schema, in use


def broken_source(database_url: str, folder: Path) -> tuple[str, str]:
    """A database URL a backup fails on, and what its error says."""
    if database_url.startswith("sqlite"):
        garbage = folder / "not-a-database.db"
        garbage.write_bytes(b"\x01" * 8192)
        return f"sqlite:///{garbage}", "file is not a database"
    broken = _server_url(database_url, "kairos_h_backup_no_such_database")
    with_password = broken.replace("postgres@", "postgres:s3cret-word@")
    return with_password, 'database "kairos_h_backup_no_such_database" does not exist'


def test_a_failed_backup_leaves_the_last_good_one_and_nothing_else(database_url, tmp_path):
    backups_folder = tmp_path / "backups"
    backups_folder.mkdir()
    last_night = backups_folder / "kairos.backup"
    last_night.write_bytes(b"last night's backup")
    url, reason = broken_source(database_url, tmp_path)

    with pytest.raises(backups.BackupError) as failed:
        backups.backup(url, last_night)

    message = str(failed.value)
    assert reason in message
    assert "\n" not in message
    assert "s3cret-word" not in message
    assert list(backups_folder.iterdir()) == [last_night]
    assert last_night.read_bytes() == b"last night's backup"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["backup", "{tmp}/no/such/folder/kairos.backup"], "no folder {tmp}/no/such/folder"),
        (["restore", "{tmp}/missing.backup"], "cannot read {tmp}/missing.backup"),
        (["restore", "{tmp}/notes.txt"], "{tmp}/notes.txt is not a "),
    ],
    ids=["folder-missing", "file-missing", "not-a-backup"],
)
def test_errors_are_one_line(app, tmp_path, command, expected):
    (tmp_path / "notes.txt").write_text("not a backup\n")
    args = [part.format(tmp=tmp_path) for part in command]

    result = app.test_cli_runner().invoke(args=args)

    assert result.exit_code == 1
    assert result.output.startswith(f"{command[0]} failed: {expected.format(tmp=tmp_path)}")
    assert result.output.count("\n") == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_without_pg_dump_the_error_says_what_to_install(app, database_url, tmp_path, monkeypatch):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite backs up without PostgreSQL's client programs")
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH where no pg_dump is

    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "kairos.backup")])

    assert result.exit_code == 1
    assert result.output == (
        "backup failed: pg_dump not found: install PostgreSQL's client programs"
        " (postgresql-client-15)\n"
    )
    assert list(tmp_path.iterdir()) == []


def flask_command(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"DATABASE_URL": database_url, "SECRET_KEY": "backup-test"}
    flask = Path(sys.executable).with_name("flask")
    return subprocess.run(
        [str(flask), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_flask_command_backs_up_a_database_in_use(
    app, booked, database_url, tmp_path, restore_database, empty_database_url
):
    backup = tmp_path / "kairos.backup"
    db.close()  # the test's connection: the data is committed; SQLite's WAL stays

    done = flask_command(database_url, "backup", str(backup))
    missing = flask_command(database_url, "backup", str(tmp_path / "no" / "kairos.backup"))

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"backed up to {backup}")
    assert missing.returncode == 1
    assert (
        missing.stderr == f"backup failed: no folder {tmp_path / 'no'} to write the backup into\n"
    )
    fresh = app_on(empty_database_url)
    with fresh.app_context():
        backups.restore_and_upgrade(db.obj, empty_database_url, backup, force=False)
    assert every_row() == booked
    assert User.select().count() == len(booked["users"])
    assert Notification.select().count() == len(booked["notification"])
