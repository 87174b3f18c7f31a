"""Commands run from the shell (``flask --app app COMMAND``), not use cases: migrating
the database, backing it up and restoring it, loading the demo data, re-encrypting
stored secrets under a new key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask

import models
from commands import backup as backups
from commands.demo import DEMO_LOGINS, DEMO_PASSWORD
from commands.demo import seed_demo as seed
from commands.rotation import rotate_stored_secrets
from models import db


def register(app: Flask) -> None:
    """Add the commands to ``flask --app app``."""

    @app.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Apply pending schema migrations."""
        from migrations import upgrade

        applied = upgrade(db.obj)
        click.echo(f"migrations applied: {', '.join(applied) or 'none (up to date)'}")

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Create the demo organisation, staff, services and bookings (idempotent)."""

        with db.connection_context():
            created = seed(app.config["CLOCK"]())
        click.echo("demo data created" if created else "demo data already present")
        for email, role in DEMO_LOGINS.items():
            click.echo(f"  {email:<24} {DEMO_PASSWORD}   {role}")

    backup_file = click.Path(dir_okay=False, path_type=Path)

    @app.cli.command("backup")
    @click.argument("path", type=backup_file)
    def backup(path: Path) -> None:
        """Copy the database to PATH (pg_dump's custom format, or a SQLite file)."""
        with _one_line_errors("backup"):
            backups.backup(app.config["SETTINGS"].database_url, path)
        click.echo(f"backed up to {path} ({path.stat().st_size:,} bytes)")

    @app.cli.command("restore")
    @click.argument("path", type=backup_file)
    @click.option("--force", is_flag=True, help="Replace a database that has data.")
    def restore(path: Path, force: bool) -> None:
        """Replace the database with the backup at PATH, then apply pending migrations."""
        with _one_line_errors("restore"):
            url = app.config["SETTINGS"].database_url
            applied = backups.restore_and_upgrade(db.obj, url, path, force=force)
        click.echo(f"restored {path}; migrations applied: {', '.join(applied) or 'none'}")

    @app.cli.command("rotate-secrets")
    def rotate_secrets() -> None:
        """Re-encrypt every stored secret under the newest KAIROS_ENCRYPTION_KEYS key
        (see README, "Encryption keys")."""
        with db.connection_context():
            done = rotate_stored_secrets(models.ALL_MODELS)
        columns = ", ".join(done.columns) or "none yet"
        click.echo(f"encrypted columns: {columns}")
        click.echo(f"re-encrypted: {done.rotated}; already under the newest key: {done.current}")
        if done.unreadable:
            click.echo(
                f"{len(done.unreadable)} secrets no key can read (was a key dropped too"
                f" early?): {', '.join(done.unreadable)}",
                err=True,
            )
            raise click.exceptions.Exit(1)


@contextmanager
def _one_line_errors(command: str) -> Iterator[None]:
    try:
        yield
    except backups.BackupError as exc:
        click.echo(f"{command} failed: {exc}", err=True)
        raise click.exceptions.Exit(1) from None
