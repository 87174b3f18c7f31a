"""Backing the database up to a file and restoring it (``flask --app app backup PATH``,
``flask --app app restore PATH``).

PostgreSQL goes through pg_dump's custom format and pg_restore; SQLite through its
online backup API, in both directions, so a running app's connections and WAL are
handled. A backup is written beside PATH and renamed into place, so a failed one never
leaves a truncated file where a good one was. Every failure is a BackupError with a
one-line message.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from peewee import Database, PeeweeException

from migrations import upgrade

POSTGRESQL_MAGIC = b"PGDMP"  # the first bytes of a pg_dump custom-format archive
SQLITE_MAGIC = b"SQLite format 3\x00"
CLIENT_MISSING = "{} not found: install PostgreSQL's client programs (postgresql-client-15)"


class BackupError(Exception):
    """A backup or restore that could not be done; the message is one line."""


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


# --- backup -------------------------------------------------------------------------------


def backup(url: str, path: Path) -> None:
    """Copy the database at ``url`` to ``path``, atomically."""
    folder = path.parent
    if not folder.is_dir():
        raise BackupError(f"no folder {folder} to write the backup into")
    with _replacing(path) as partial:
        if is_sqlite_url(url):
            _sqlite_copy(_open_sqlite(sqlite_file(url), read_only=True), partial)
            _sqlite_single_file(partial)
        else:
            _run_postgresql("pg_dump", url, ["--format=custom", f"--file={partial}"])


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path``, renamed to it when the block succeeds and
    deleted when it fails."""
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    except OSError as exc:
        raise BackupError(f"cannot write in {path.parent}: {exc.strerror}") from exc
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
        with partial.open("rb") as written:
            os.fsync(written.fileno())  # on disk before the rename makes it the backup
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


# --- restore ------------------------------------------------------------------------------


def restore_and_upgrade(database: Database, url: str, path: Path, *, force: bool) -> list[str]:
    """Replace ``database`` (at ``url``) with the backup at ``path``, unless it has data
    and ``force`` is not given, then bring its schema up to date: the migrations
    applied."""
    _check_backup_file(path, SQLITE_MAGIC if is_sqlite_url(url) else POSTGRESQL_MAGIC)
    if not force and has_data(database):
        raise BackupError("the database already has data: restore --force replaces it")
    _restore(url, path)
    return upgrade(database)


def _restore(url: str, path: Path) -> None:
    if is_sqlite_url(url):
        target = sqlite_file(url)
        if not target.parent.is_dir():
            raise BackupError(f"no folder {target.parent} for the database")
        _sqlite_copy(_open_sqlite(path, read_only=True), target)
    else:
        _restore_postgresql(url, path)


# Every table of the database, dropped first: pg_restore --clean drops only what the
# backup has, and cannot drop an older backup's tables while newer ones (added by later
# migrations) hold foreign keys to them.
DROP_TABLES = """
DO $$ DECLARE t record; BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', t.tablename);
  END LOOP;
END $$;
"""


def _restore_postgresql(url: str, path: Path) -> None:
    """pg_restore's script (it drops what the backup has, then makes it), written out
    whole first, then run by psql in one transaction after DROP_TABLES: all of it
    happens, or none, also when the backup turns out to be cut short."""
    programs = {name: shutil.which(name) for name in ("pg_restore", "psql")}
    for name, found in programs.items():
        if found is None:
            raise BackupError(CLIENT_MISSING.format(name))
    address, env = libpq_address(url)
    env = os.environ | env
    with tempfile.TemporaryDirectory(prefix="kairos-restore-") as folder:
        script = Path(folder) / "restore.sql"
        make_script = [programs["pg_restore"], "--clean", "--if-exists", "--no-owner"]
        wrote = subprocess.run(
            [*make_script, f"--file={script}", str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if wrote.returncode != 0:
            raise BackupError(condensed(wrote.stderr, "pg_restore") or "pg_restore failed")
        run_script = [programs["psql"], "--no-psqlrc", "--quiet", "--single-transaction"]
        run_script += ["--set=ON_ERROR_STOP=1", f"--dbname={address}", "--command", DROP_TABLES]
        applied = subprocess.run(
            [*run_script, f"--file={script}"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if applied.returncode != 0:
        raise BackupError(condensed(applied.stderr, "psql") or "psql failed")


def _check_backup_file(path: Path, magic: bytes) -> None:
    try:
        with path.open("rb") as backup_file:
            start = backup_file.read(len(magic))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from exc
    if start != magic:
        kind = "SQLite" if magic == SQLITE_MAGIC else "PostgreSQL (pg_dump --format=custom)"
        raise BackupError(f"{path} is not a {kind} backup")


def has_data(database: Database) -> bool:
    """Whether any table but the migrations' own has a row."""
    try:
        with database.connection_context():
            for table in database.get_tables():
                if table == "schema_migration":
                    continue
                quoted = table.replace('"', '""')
                if database.execute_sql(f'SELECT 1 FROM "{quoted}" LIMIT 1').fetchone():
                    return True
    except PeeweeException as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackupError(f"cannot read the database: {first_line}") from exc
    return False


# --- SQLite -------------------------------------------------------------------------------


def sqlite_file(url: str) -> Path:
    # sqlite:///relative.db or sqlite:////absolute/path.db, as playhouse.db_url reads them
    return Path(unquote(urlsplit(url).path[1:]))


def _open_sqlite(path: Path, *, read_only: bool) -> sqlite3.Connection:
    mode = "ro" if read_only else "rwc"
    try:
        return sqlite3.connect(f"file:{path}?mode={mode}", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open SQLite database {path}: {exc}") from exc


def _sqlite_copy(source: sqlite3.Connection, target_path: Path) -> None:
    target = _open_sqlite(target_path, read_only=False)
    try:
        target.execute("PRAGMA busy_timeout = 10000")  # the app may be writing just now
        source.backup(target)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite: {exc}") from exc
    finally:
        target.close()
        source.close()


def _sqlite_single_file(path: Path) -> None:
    """The backup in rollback-journal mode: opening it later leaves no -wal and -shm
    files beside it. (The app puts a restored database back in WAL mode as it connects.)"""
    backup_file = _open_sqlite(path, read_only=False)
    try:
        backup_file.execute("PRAGMA journal_mode = DELETE")
    finally:
        backup_file.close()


# --- PostgreSQL ---------------------------------------------------------------------------


def libpq_address(url: str) -> tuple[str, dict[str, str]]:
    """The URL libpq takes (no password, no Peewee pool suffix) and the environment
    that carries the password, so it is never on a command line or in a message."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    env = {}
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(scheme=scheme, netloc=f"{user}{host}{port}")), env


def _run_postgresql(program: str, url: str, options: list[str], *files: str) -> None:
    found = shutil.which(program)
    if found is None:
        raise BackupError(CLIENT_MISSING.format(program))
    address, env = libpq_address(url)
    command = [found, *options, f"--dbname={address}", *files]
    done = subprocess.run(command, env=os.environ | env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(condensed(done.stderr, program) or f"{program} failed")


def condensed(stderr: str, program: str) -> str:
    """pg_dump's or pg_restore's error text on one line, without repeated prefixes."""
    lines = []
    for line in stderr.splitlines():
        line = line.strip()
        for prefix in (f"{program}: error: ", f"{program}: detail: ", f"{program}: "):
            line = line.removeprefix(prefix)
        if line and line not in lines:
            lines.append(line)
    return f"{program}: {' '.join(lines)}" if lines else ""
