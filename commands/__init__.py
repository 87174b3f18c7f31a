"""Commands run from the shell (``flask --app app COMMAND``), not use cases: migrating
the database and loading the demo data."""

from __future__ import annotations

import click
from flask import Flask

from commands.demo import DEMO_LOGINS, DEMO_PASSWORD
from commands.demo import seed_demo as seed
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
