"""Small helpers shared by the views: the clock, and reading request input."""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app

from services.errors import Invalid


def now() -> datetime:
    """The current instant, from the app's clock (tests freeze it)."""
    return current_app.config["CLOCK"]()


def parse_int(value: object, field: str, message: str) -> int:
    if isinstance(value, bool):
        raise Invalid({field: message})
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid({field: message}) from None


def parse_date(value: str | None, field: str = "date") -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise Invalid({field: "Give a date as YYYY-MM-DD."}) from None


def parse_instant(value: object, field: str = "start") -> datetime:
    """An ISO 8601 time that says its UTC offset."""
    if not isinstance(value, str):
        raise Invalid({field: "Give a time in ISO 8601, with its UTC offset."})
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid({field: "Give a time in ISO 8601, with its UTC offset."}) from None
    if instant.tzinfo is None:
        raise Invalid({field: "Give the time with its UTC offset, e.g. 2026-12-01T10:00:00+00:00."})
    return instant
