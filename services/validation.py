"""Checking what people type, for every domain: names, email addresses, passwords and
phone numbers. Each check returns the cleaned value or raises Invalid naming the field."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from zxcvbn import zxcvbn

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


def clean_email(email: str | None, field: str = "email") -> str:
    email = (email or "").strip()
    if not email:
        raise Invalid({field: "Enter your email address."})
    try:
        valid = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid({field: f"Enter a valid email address. {exc}"}) from None
    return User.normalise_email(valid.normalized)


def clean_password(
    password: str | None, field: str = "password", *, about: Iterable[str | None] = ()
) -> str:
    """``about`` is what else the person typed or is known by (their email address,
    their name): a password equal to it, or built from it, is refused."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise Invalid({field: f"Use at least {MIN_PASSWORD} characters."})
    if len(password) > MAX_PASSWORD:
        raise Invalid({field: f"Use at most {MAX_PASSWORD} characters."})
    if problem := password_weakness(password, about):
        raise Invalid({field: problem})
    return password


# zxcvbn (Dropbox's estimator, with its own lists of common passwords, names and words,
# and keyboard patterns) scores 0-4; 3 is about 10^8 guesses, the usual bar. It reads
# only the first 72 characters, its own limit: its time grows fast with length, and the
# first 72 characters of a good password are already good.
STRONG_ENOUGH = 3
JUDGED_LENGTH = 72
PASSWORD_ADVICE = "Add another word or two; avoid names, dates and common phrases."


def personal_words(about: Iterable[str | None]) -> list[str]:
    """The lower-case words a password should not be made of: each of ``about`` whole,
    run together, and its parts (an email address's local part and domain labels, a
    name's words), longest first."""
    words = set()
    for value in about:
        value = " ".join((value or "").lower().split())
        local, at, domain = value.rpartition("@")
        if at:  # an email address: not its top-level domain (com, org), common to many
            words |= {value, local, domain}
            value = local + " " + domain.rpartition(".")[0]
        parts = [part for part in re.split(r"\W+", value) if part]
        words |= {value, "".join(parts), *parts}
    return sorted((w for w in words if len(w) >= 3), key=len, reverse=True)


def password_weakness(password: str, about: Iterable[str | None] = ()) -> str | None:
    """Why ``password`` is too easy to guess, in words for the person choosing it; None
    if it is not. Nothing leaves the process: the lists come with zxcvbn."""
    judged = password[:JUDGED_LENGTH]
    words = personal_words(about)
    rest = judged.lower()
    for word in words:
        rest = rest.replace(word, "")
    # What is left once the person's own words are taken out must be strong on its own.
    if rest != judged.lower() and (not rest.strip() or _score(rest, words) < STRONG_ENOUGH):
        return f"This is too close to your name or email address. {PASSWORD_ADVICE}"
    if _score(judged, words) < STRONG_ENOUGH:
        return f"This password is too easy to guess. {PASSWORD_ADVICE}"
    return None


def _score(password: str, words: list[str]) -> int:
    return zxcvbn(password, user_inputs=words, max_length=JUDGED_LENGTH)["score"]


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
