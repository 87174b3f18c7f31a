"""How customers reach a business: its address, phone number, email address, website
and a short "how to find us" (migration 0020).

Checked here when the owner types them (services/workspace/settings.py), and shown
from here wherever a customer needs them: the booking page, an appointment's pages,
the emails about it, and its calendar events' LOCATION. The map is a plain link to
OpenStreetMap's search: no script and no embedded map from anyone else.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import urlencode

from models import Organisation
from services.addresses import web_address
from services.errors import Invalid
from services.validation import (
    DEFAULT_REGION,
    check_all,
    clean_email,
    clean_phone,
    one_line,
    phone_for_display,
)

ADDRESS_LIMIT = 300  # as the CHECKs of 0020
ADDRESS_LINES = 6
DIRECTIONS_LIMIT = 500
WEBSITE_LIMIT = 300
MAP_SEARCH = "https://www.openstreetmap.org/search?"


@dataclass(frozen=True)
class Contact:
    """A business's ways to be reached, ready to show; an empty one is falsy."""

    name: str
    address_lines: tuple[str, ...] = ()
    phone: str = ""  # as read out: +44 117 496 0000
    tel: str = ""  # tel:+441174960000
    email: str = ""
    website: str = ""
    website_label: str = ""  # www.example.com, without the scheme
    directions: str = ""
    map_url: str = ""

    def __bool__(self) -> bool:
        return bool(
            self.address_lines or self.phone or self.email or self.website or self.directions
        )

    @property
    def address(self) -> str:
        """The address on one line, as a calendar's LOCATION or an email's fact."""
        return ", ".join(self.address_lines)


def contact_of(org: Organisation) -> Contact:
    """``org``'s contact details as pages and emails show them."""
    lines = tuple(line for line in (org.address or "").split("\n") if line.strip())
    website = org.website or ""
    return Contact(
        name=org.name,
        address_lines=lines,
        phone=phone_for_display(org.phone),
        tel=f"tel:{org.phone}" if org.phone else "",
        email=org.email or "",
        website=website,
        website_label=website.split("://", 1)[-1].rstrip("/"),
        directions=org.directions or "",
        map_url=MAP_SEARCH + urlencode({"query": ", ".join(lines)}) if lines else "",
    )


def location(org: Organisation) -> str:
    """Where an appointment is, for a calendar event: the business's name, and its
    address when it has one."""
    address = contact_of(org).address
    return f"{org.name}, {address}" if address else org.name


# Checking what the owner typed ------------------------------------------------------------


@cache
def _zone_countries() -> dict[str, str]:
    """Time zone → the country it is in, from the time zone database's zone.tab."""
    table = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text("utf-8")
    rows = (line.split("\t") for line in table.splitlines() if not line.startswith("#"))
    return {row[2]: row[0] for row in rows if len(row) >= 3}


def region_of(timezone: str | None) -> str:
    """The country a business's phone numbers are written for, from its time zone
    (Europe/London: GB, America/New_York: US); DEFAULT_REGION for a zone in no one
    country (UTC)."""
    return _zone_countries().get(timezone or "", DEFAULT_REGION)


def _control_free(text: str) -> str:
    """Without control characters but line breaks (a tab is a space)."""
    text = text.replace("\t", " ")
    return "".join(c for c in text if c == "\n" or unicodedata.category(c) != "Cc")


def clean_address(text: str | None) -> str:
    """Up to six lines, each one line of text (spaces and direction marks tidied), the
    empty ones dropped."""
    text = _control_free((text or "").replace("\r\n", "\n").replace("\r", "\n"))
    lines = [one_line(line) for line in text.split("\n")]
    lines = [line for line in lines if line]
    address = "\n".join(lines)
    if len(lines) > ADDRESS_LINES:
        raise Invalid({"address": f"Use at most {ADDRESS_LINES} lines."})
    if len(address) > ADDRESS_LIMIT:
        raise Invalid(
            {"address": f"Use at most {ADDRESS_LIMIT} characters (this has {len(address):,})."}
        )
    return address


def clean_website(text: str | None) -> str:
    """An http or https address; "www.example.com" is taken as https://www.example.com."""
    text = (text or "").strip()
    if not text:
        return ""
    if "://" not in text:
        text = "https://" + text
    if len(text) > WEBSITE_LIMIT:
        raise Invalid({"website": f"Use at most {WEBSITE_LIMIT} characters."})
    address = web_address(text)
    if address is None or "." not in address.host:
        raise Invalid({"website": "Enter your website's address, like https://www.example.com."})
    return address.url.geturl()  # the scheme in lower case, as the CHECK of 0020 wants


def clean_directions(text: str | None) -> str:
    directions = one_line(_control_free(text or ""))
    if len(directions) > DIRECTIONS_LIMIT:
        raise Invalid(
            {
                "directions": f"Use at most {DIRECTIONS_LIMIT} characters"
                f" (this has {len(directions):,})."
            }
        )
    return directions


def clean_business_phone(text: str | None, timezone: str | None) -> str:
    """E.164, from an international number or one written as in the business's own
    country; empty when none was given."""
    return clean_phone(text, region_of(timezone)) or ""


def clean_business_email(text: str | None) -> str:
    return clean_email(text) if (text or "").strip() else ""


FIELDS = ("address", "phone", "email", "website", "directions")


def clean(details: dict[str, str | None], timezone: str | None) -> dict[str, str]:
    """The contact details as kept, by column (FIELDS), every one checked at once; a
    phone number may be written as in the country of ``timezone``."""
    values = check_all(
        lambda: clean_address(details.get("address")),
        lambda: clean_business_phone(details.get("phone"), timezone),
        lambda: clean_business_email(details.get("email")),
        lambda: clean_website(details.get("website")),
        lambda: clean_directions(details.get("directions")),
    )
    return dict(zip(FIELDS, values, strict=True))
