"""Organisations: a new business signs up with its owner's account."""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime

from peewee import IntegrityError

from models import Membership, Organisation, User, db
from scheduling import zones
from services import mail as mailer
from services import validation
from services.accounts import signups
from services.accounts.account import ADDRESS_TAKEN_MEANWHILE, LinkBuilder, start_sign_up
from services.accounts.auth import hash_password
from services.errors import Invalid

log = logging.getLogger("kairos.organisations")

CURRENCIES = ("GBP", "EUR", "USD", "AUD", "CAD", "INR", "NZD", "CHF", "SEK", "NOK", "DKK")
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


def timezone_choices(now: datetime, keep: str | None = None) -> list[zones.ZoneChoice]:
    """The zones a business picks from, as "London — GMT+0:00" at ``now``, in order of
    offset; ``keep``, the zone it is in now, is among them even if it is a legacy alias."""
    return zones.zone_choices(now, keep)


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


def suggest_slug(business_name: str | None) -> str:
    """A free address for a business of this name: "City Physio" → city-physio, or
    city-physio-2 (-3 ...) when that is taken or reserved; empty for a name with no letter
    or digit to make one from. (Another sign-up may take it before this one finishes:
    finish_business_sign_up says so then.)"""
    base = _slug_base(business_name)
    if not base:
        return ""
    taken = {
        row.slug
        for row in Organisation.select(Organisation.slug).where(
            (Organisation.slug == base) | Organisation.slug.startswith(base + "-")
        )
    } | RESERVED_SLUGS
    number = 1
    while True:
        suffix = f"-{number}" if number > 1 else ""
        candidate = base[: 40 - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        number += 1


def _slug_base(name: str | None) -> str:
    # Accents go (Café → cafe); anything else that is not a letter or digit is a hyphen.
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].rstrip("-")
    if not base:
        return ""
    return base if len(base) >= 3 else f"{base}-bookings"


def clean_timezone(timezone: str | None, keep: str | None = None) -> str:
    """One of the zones in the list; or ``keep``, the zone a business is in now, which may
    be a legacy alias ("US/Eastern") chosen before the list left those out."""
    timezone = (timezone or "").strip()
    if timezone != keep and timezone not in zones.canonical_zones():
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
) -> int:
    """Check the form and email the owner a code; the organisation, its owner's account
    and membership are made when the code comes back (finish_business_sign_up). An email
    that already has an account gets its holder emailed (with a sign-in link, ``link``)
    instead, and the caller asks for a code all the same, rather than saying whether the
    address has an account. A taken slug is said now: booking pages are public; a blank
    one is made from the business's name (suggest_slug).
    Returns the sign-up's id."""
    if not (slug or "").strip():  # left blank: made from the name
        slug = suggest_slug(validation.one_line(business_name)) or None
    fields = validation.check_all(
        lambda: clean_business_name(business_name),
        lambda: _free_slug(slug),
        lambda: clean_timezone(timezone),
        lambda: clean_currency(currency),
        lambda: validation.clean_name(owner_name),
        lambda: validation.clean_email(email),
        lambda: validation.clean_password(password, about=(email, owner_name)),
        lambda: validation.clean_phone(phone, region),
    )
    business_name, slug, timezone, currency, owner_name, email, password, phone = fields
    details = {
        "business_name": business_name,
        "slug": slug,
        "timezone": timezone,
        "currency": currency,
        "name": owner_name,
        "phone": phone,
        "password_hash": hash_password(password),
    }
    return start_sign_up("business", email, details, now, link=link, mail=mail)


def _free_slug(slug: str | None) -> str:
    slug = clean_slug(slug)
    if Organisation.select().where(Organisation.slug == slug).exists():
        raise Invalid({"slug": SLUG_TAKEN})
    return slug


def finish_business_sign_up(pending_id: int, code: str, now: datetime) -> tuple[Organisation, User]:
    """The new organisation and its owner, once the emailed code is given back."""
    email, details = signups.verify(pending_id, code, now)
    try:
        with db.atomic():
            org = Organisation.create(
                slug=details["slug"],
                name=details["business_name"],
                timezone=details["timezone"],
                currency=details["currency"],
                created_at=now,
            )
            owner = User.create(
                name=details["name"],
                email=email,
                phone=details["phone"],
                password_hash=details["password_hash"],
                created_at=now,
            )
            Membership.create(user=owner, organisation=org, role="owner")
    except IntegrityError:  # the unique indexes on slug and email decide
        # Which one lost is read after the failed transaction rolled back.
        if Organisation.select().where(Organisation.slug == details["slug"]).exists():
            message = f"Another business took the address {details['slug']} meanwhile. "
            raise Invalid({"code": message + "Sign up again with another."}) from None
        raise Invalid({"code": ADDRESS_TAKEN_MEANWHILE}) from None
    log.info("organisation.created organisation_id=%s owner_id=%s", org.id, owner.id)
    return org, owner
