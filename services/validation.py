"""Checking what people type, for every domain: names, email addresses, passwords and
phone numbers. Each check returns the cleaned value or raises Invalid naming the field."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from zoneinfo import available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from models import User
from services.errors import Invalid

MIN_PASSWORD, MAX_PASSWORD = 10, 1024
# The largest integer SQLite (and a PostgreSQL bigint) holds: larger ids overflow the driver.
LARGEST_INT = 2**63 - 1
DEFAULT_REGION = "GB"


def clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid({"name": "Enter your name."})
    if len(name) > 200:
        raise Invalid({"name": "Use at most 200 characters."})
    return name


@cache
def real_timezones() -> frozenset[str]:
    """The IANA zones a business or a device may be in. Not the files a system's zone
    database also holds that are no place: "localtime" (the server's own zone),
    "Factory" (no zone at all), "posixrules", nor the "posix/" and "right/" copies."""
    return frozenset(
        name
        for name in available_timezones()
        if name not in {"localtime", "Factory", "posixrules"}
        and not name.startswith(("posix/", "right/"))
    )


def clean_email(email: str | None, field: str = "email") -> str:
    email = (email or "").strip()
    if not email:
        raise Invalid({field: "Enter your email address."})
    try:
        valid = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid({field: f"Enter a valid email address. {exc}"}) from None
    return User.normalise_email(valid.normalized)


def clean_password(password: str | None, field: str = "password") -> str:
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise Invalid({field: f"Use at least {MIN_PASSWORD} characters."})
    if len(password) > MAX_PASSWORD:
        raise Invalid({field: f"Use at most {MAX_PASSWORD} characters."})
    return password


def clean_phone(phone: str | None, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164 (+447911123456), or None when none was given."""
    phone = (phone or "").strip()
    if not phone:
        return None
    problem = {"phone": "Enter a valid phone number, like 07911 123456 or +44 7911 123456."}
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        raise Invalid(problem) from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid(problem)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_for_display(e164: str | None) -> str:
    if not e164:
        return ""
    number = phonenumbers.parse(e164)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def check_all(*checks: Callable[[], object]) -> list[object]:
    """Run every check, so that one Invalid reports all the fields at once."""
    results, problems = [], {}
    for check in checks:
        try:
            results.append(check())
        except Invalid as exc:
            problems.update(exc.fields)
            results.append(None)
    if problems:
        raise Invalid(problems)
    return results
