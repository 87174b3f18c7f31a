"""Versioned schema migrations (playhouse.migrations), run by `flask --app app db-upgrade`."""

from __future__ import annotations

from pathlib import Path

from peewee import Database
from playhouse.migrations import Runner

DIRECTORY = Path(__file__).resolve().parent


def upgrade(database: Database) -> list[str]:
    """Apply every pending migration in order; returns the names applied."""
    with database.connection_context():
        return Runner(database, str(DIRECTORY)).up()
