"""Checking what people type, for every domain: names, email addresses, passwords and
phone numbers. Each check returns the cleaned value or raises Invalid naming the field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache
from zoneinfo import available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from zxcvbn import zxcvbn

from models import User
from services.errors import Invalid

MIN_PASSWORD, MAX_PASSWORD = 10, 1024
# The largest integer SQLite (and a PostgreSQL bigint) holds: larger ids overflow the driver.
LARGEST_INT = 2**63 - 1
DEFAULT_REGION = "GB"


# The invisible marks that only set the direction text is shown in (U+200E/F, the
# embeddings and overrides U+202A-E, the isolates U+2066-9). A name pasted from
# right-to-left text may carry one harmlessly; slipped into a name, an override turns
# the rest of a line around (a list of customers, an email's subject). Dropping them
# changes nothing a person sees of their own name, so they are stripped, not refused.
BIDI_CONTROLS = dict.fromkeys([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
CONTROL_IN_NAME = "Remove the invisible control characters from the name."


def one_line(text: str | None) -> str:
    """A line of text as it is kept: runs of whitespace (tabs and line breaks too) one
    space, no direction marks (BIDI_CONTROLS)."""
    return " ".join((text or "").translate(BIDI_CONTROLS).split())


def has_control_character(text: str) -> bool:
    """NUL and the other control characters no keyboard types into a name (what is
    left after ``one_line``, which has turned tabs and line breaks into spaces)."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def clean_name(name: str | None) -> str:
    # A control character is refused, not stripped: nobody types one, so it came from
    # a program, which should hear that its input was wrong.
    name = one_line(name)
    if not name:
        raise Invalid({"name": "Enter your name."})
    if has_control_character(name):
        raise Invalid({"name": CONTROL_IN_NAME})
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


IS_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE


def clean_phone(
    phone: str | None, region: str = DEFAULT_REGION, *, possible: bool = False
) -> str | None:
    """The number in E.164 (+447911123456), or None when none was given. With
    ``possible``, a number of a possible length for its country is enough, though its
    range is not in use (the UK's drama numbers, 07700 900xxx): signing in by a texted
    code lets the text service say whether it reaches anyone."""
    phone = (phone or "").strip()
    if not phone:
        return None
    problem = {"phone": "Enter a valid phone number, like 07911 123456 or +44 7911 123456."}
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        raise Invalid(problem) from None
    if possible:  # a whole number, not one that could be dialled locally only
        fits = phonenumbers.is_possible_number_with_reason(number) == IS_POSSIBLE
    else:
        fits = phonenumbers.is_valid_number(number)
    if not fits:
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
