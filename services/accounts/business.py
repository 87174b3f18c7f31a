"""Organisations: a new business signs up with its owner's account."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from peewee import IntegrityError

from models import Membership, Organisation, User, db
from services import mail as mailer
from services import validation
from services.accounts.account import LinkBuilder, tell_holder
from services.accounts.auth import hash_password
from services.errors import Invalid

log = logging.getLogger("kairos.organisations")

CURRENCIES = ("GBP", "EUR", "USD", "AUD", "CAD", "INR", "NZD", "CHF", "SEK", "NOK", "DKK")
COMMON_TIMEZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
)
# First path segments the site itself uses, or may use: a business cannot take them.
RESERVED_SLUGS = frozenset(
    {
        "account",
        "admin",
        "api",
        "appointments",
        "business",
        "health",
        "manifest.webmanifest",
        "offline",
        "privacy",
        "static",
        "sw.js",
        "w",
        "workspace",
        "www",
    }
)
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]")
SLUG_RULE = "Use 3–40 lowercase letters, digits and hyphens, not starting or ending with a hyphen."
SLUG_TAKEN = "Another business already uses this address. Try another."


def all_timezones() -> frozenset[str]:
    return validation.real_timezones()


def timezone_choices() -> tuple[list[str], list[str]]:
    """The common zones, then every zone in alphabetical order."""
    return list(COMMON_TIMEZONES), sorted(all_timezones())


def clean_business_name(name: str | None) -> str:
    # As a person's name (validation.clean_name): direction marks stripped, control
    # characters refused.
    name = validation.one_line(name)
    if not name:
        raise Invalid({"business_name": "Enter your business's name."})
    if validation.has_control_character(name):
        raise Invalid({"business_name": validation.CONTROL_IN_NAME})
    if len(name) > 200:
        raise Invalid({"business_name": "Use at most 200 characters."})
    return name


def clean_slug(slug: str | None) -> str:
    slug = (slug or "").strip().lower()
    if not slug:
        raise Invalid({"slug": "Choose an address for your booking page."})
    if slug in RESERVED_SLUGS:
        raise Invalid({"slug": f"“{slug}” is reserved. Try another."})
    if not _SLUG.fullmatch(slug):
        raise Invalid({"slug": SLUG_RULE})
    return slug


def clean_timezone(timezone: str | None) -> str:
    timezone = (timezone or "").strip()
    if timezone not in all_timezones():
        raise Invalid({"timezone": "Choose a time zone from the list."})
    return timezone


def clean_currency(currency: str | None) -> str:
    currency = (currency or "").strip().upper()
    if currency not in CURRENCIES:
        raise Invalid({"currency": "Choose a currency from the list."})
    return currency


def sign_up_business(
    *,
    business_name: str,
    slug: str,
    timezone: str,
    currency: str,
    owner_name: str,
    email: str,
    password: str,
    phone: str | None,
    now: datetime,
    region: str = validation.DEFAULT_REGION,
    link: LinkBuilder,
    mail: mailer.MailConfig | None = None,
) -> tuple[Organisation, User] | None:
    """Create the organisation, its owner's account and the owner's membership, all or
    nothing. An email that already has an account gets nothing created: its holder is
    emailed (with a sign-in link, ``link``) and None returned, for the caller to say
    "check your email" rather than whether the address has an account."""
    fields = validation.check_all(
        lambda: clean_business_name(business_name),
        lambda: clean_slug(slug),
        lambda: clean_timezone(timezone),
        lambda: clean_currency(currency),
        lambda: validation.clean_name(owner_name),
        lambda: validation.clean_email(email),
        lambda: validation.clean_password(password, about=(email, owner_name)),
        lambda: validation.clean_phone(phone, region),
    )
    business_name, slug, timezone, currency, owner_name, email, password, phone = fields
    try:
        with db.atomic():
            org = Organisation.create(
                slug=slug, name=business_name, timezone=timezone, currency=currency, created_at=now
            )
            owner = User.create(
                name=owner_name,
                email=email,
                phone=phone,
                password_hash=hash_password(password),
                created_at=now,
            )
            Membership.create(user=owner, organisation=org, role="owner")
    except IntegrityError:  # the unique indexes on slug and email decide
        # Which one lost is read after the failed transaction rolled back. A taken slug
        # is said (booking pages are public); a taken email is not.
        if Organisation.select().where(Organisation.slug == slug).exists():
            raise Invalid({"slug": SLUG_TAKEN}) from None
        if not User.by_email(email):  # gone meanwhile: it was not the email either
            raise Invalid({"slug": SLUG_TAKEN}) from None
        tell_holder(email, "business", now, link=link, mail=mail)
        return None
    log.info("organisation.created organisation_id=%s owner_id=%s", org.id, owner.id)
    return org, owner
