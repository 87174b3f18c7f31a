"""An organisation's settings: name, time zone, currency, booking page intro and logo,
reminders, how much one customer may book themselves, for how long customers'
details on past bookings are kept (services/privacy/retention.py), and how customers
reach the business (services/contact.py).

The logo is kept in the database and served from the booking page's own address. Only
PNG, JPEG and WebP are accepted, recognised by their first bytes, never by the file's
name or the type the browser claims: an SVG can carry script, and anything else is not
an image a browser should be handed as one.
"""

from __future__ import annotations

import hashlib
import logging
import re
import struct
from dataclasses import dataclass
from datetime import datetime

from models import Organisation, db
from services import audit, contact
from services.accounts import business as organisations
from services.errors import Invalid, NotFound
from services.privacy import retention
from services.validation import check_all

log = logging.getLogger("kairos.org_settings")

MAX_LOGO_BYTES = 256 * 1024
INTRO_LIMIT = 1000
MAX_LOGO_SIDE = 10_000  # pixels: more is no logo, and would not fit a header anyway
LOGO_RULE = "Choose a PNG, JPEG or WebP image."
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Image:
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class LogoFile:
    data: bytes
    content_type: str
    etag: str


@dataclass(frozen=True)
class LogoShown:
    """How a page shows the logo: its versioned address's version and its size there."""

    version: str
    width: int
    height: int


def update_settings(
    org: Organisation,
    *,
    name: str | None,
    timezone: str | None,
    currency: str | None,
    booking_intro: str | None,
    logo: bytes | None = None,
    remove_logo: bool = False,
    reminder_hours: str | None = None,
    max_future_bookings: str | int | None = None,
    max_bookings_per_day: str | int | None = None,
    retention_months: str | int | None = None,
    contact_details: dict[str, str | None] | None = None,
    actor_id: int,
    now: datetime,
) -> Organisation:
    """Save every setting at once, or nothing, and what changed in the audit log.
    ``logo`` is a newly uploaded file's bytes (None: keep the logo, unless
    ``remove_logo``). A new time zone keeps weekly hours at the same local times and
    bookings at the same instants; a new currency applies to bookings made from now on
    (each booking keeps the currency it was made in). A limit given as None is kept;
    new limits apply to bookings made from now on. So is a retention period given as
    None; a shorter one applies at the next daily run. ``contact_details``: the
    address, phone, email, website and directions (services/contact.py); None keeps them."""
    checked = check_all(
        lambda: organisations.clean_business_name(_CONTROL.sub("", name or "")),
        lambda: organisations.clean_timezone(timezone, keep=org.timezone),
        lambda: organisations.clean_currency(currency),
        lambda: clean_intro(booking_intro),
        lambda: None if logo is None else check_logo(logo),
        lambda: None if reminder_hours is None else clean_reminder_hours(reminder_hours),
        lambda: clean_limit(max_future_bookings, "max_future_bookings", MOST_AHEAD),
        lambda: clean_limit(max_bookings_per_day, "max_bookings_per_day", MOST_A_DAY),
        lambda: clean_limit(retention_months, "retention_months", retention.MOST_MONTHS),
        # A phone number is read as written in the business's country: the new one's.
        lambda: None if contact_details is None else contact.clean(contact_details, timezone),
    )
    name, timezone, currency, intro, image, reminders, most_ahead, most_a_day, months = checked[:9]
    reachable = checked[9]
    fields = {
        Organisation.name: name,
        Organisation.timezone: timezone,
        Organisation.currency: currency,
        Organisation.booking_intro: intro,
    }
    if reminders is not None:
        fields[Organisation.reminder_hours] = reminders
    if most_ahead is not None:
        fields[Organisation.max_future_bookings] = most_ahead
    if most_a_day is not None:
        fields[Organisation.max_bookings_per_day] = most_a_day
    if months is not None:
        fields[Organisation.retention_months] = months
    if reachable is not None:
        fields |= {getattr(Organisation, column): value for column, value in reachable.items()}
    if image is not None:
        fields |= {
            Organisation.logo: logo,
            Organisation.logo_type: image.content_type,
            Organisation.logo_version: etag_of(logo),
            Organisation.logo_width: image.width,
            Organisation.logo_height: image.height,
        }
    elif remove_logo:
        fields |= {
            Organisation.logo: None,
            Organisation.logo_type: None,
            Organisation.logo_version: None,
            Organisation.logo_width: None,
            Organisation.logo_height: None,
        }
    with db.atomic():
        Organisation.update(fields).where(Organisation.id == org.id).execute()
        _audit(org, fields, image, remove_logo, actor_id, now)
    log.info(
        "organisation.settings organisation_id=%s logo=%s",
        org.id,
        "new" if image else "removed" if remove_logo else "kept",
    )
    return Organisation.get_by_id(org.id)


LABELS = {
    "name": "Name",
    "timezone": "Time zone",
    "currency": "Currency",
    "booking_intro": "Booking page introduction",
    "reminder_hours": "Reminders (hours before)",
    "max_future_bookings": "Upcoming appointments per customer",
    "max_bookings_per_day": "Appointments per customer per day",
    "retention_months": "Months customers' details are kept",
    "address": "Address",
    "phone": "Phone",
    "email": "Email",
    "website": "Website",
    "directions": "How to find you",
}


def _audit(org, fields, image: Image | None, remove_logo: bool, actor_id, now) -> None:
    """An entry for the settings that changed, and one for a new or removed logo."""
    changes = audit.diff(org, fields, LABELS)
    if changes:
        what = ", ".join(label[0].lower() + label[1:] for label in changes)
        detail = {"changes": changes}
        audit.record(org.id, actor_id, "settings.changed", f"Changed {what}.", now, detail=detail)
    if image is not None:
        size = {"type": image.content_type, "width": image.width, "height": image.height}
        audit.record(org.id, actor_id, "settings.logo", "Uploaded a new logo.", now, detail=size)
    elif remove_logo and org.logo_type:
        audit.record(org.id, actor_id, "settings.logo", "Removed the logo.", now)


REMINDER_RULE = (
    "Give up to three numbers of hours between 1 and 168, like “24, 2”, or leave it empty."
)


def clean_reminder_hours(text: str) -> str:
    """'24, 2' → '24,2'; empty for no reminders."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        hours = sorted({float(p) for p in parts}, reverse=True)
    except ValueError:
        raise Invalid({"reminder_hours": REMINDER_RULE}) from None
    if len(hours) > 3 or any(not 1 <= h <= 168 for h in hours):
        raise Invalid({"reminder_hours": REMINDER_RULE})
    return ",".join(f"{h:g}" for h in hours)


MOST_AHEAD = 1000  # upcoming bookings one customer may hold: more is no limit at all
MOST_A_DAY = 100


def clean_limit(value: str | int | None, field: str, most: int) -> int | None:
    """A per-customer limit: a whole number from 1 to ``most`` (None: keep the current)."""
    if value is None:
        return None
    text = str(value).strip()
    rule = f"Give a whole number from 1 to {most:,}."
    if not text:
        raise Invalid({field: "Required. " + rule})
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= most:
        raise Invalid({field: rule})
    return int(text)


def clean_intro(text: str | None) -> str:
    """Plain text; line breaks are kept (the page shows them), other control
    characters are dropped."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    if len(text) > INTRO_LIMIT:
        raise Invalid(
            {"booking_intro": f"Use at most {INTRO_LIMIT:,} characters (this has {len(text):,})."}
        )
    return text


def check_logo(data: bytes) -> Image:
    """What the file really is, from its contents; Invalid for anything but a PNG, JPEG
    or WebP image of at most 256 KB whose size can be read."""
    if not data:
        raise Invalid({"logo": "That file is empty. " + LOGO_RULE})
    if len(data) > MAX_LOGO_BYTES:
        raise Invalid(
            {"logo": f"That file is {len(data) / 1024:,.0f} KB: use an image of at most 256 KB."}
        )
    image = read_image(data)
    if image is None:
        raise Invalid({"logo": "That file is not an image we can use. " + LOGO_RULE})
    if not (0 < image.width <= MAX_LOGO_SIDE and 0 < image.height <= MAX_LOGO_SIDE):
        raise Invalid({"logo": "That image's size can't be read. " + LOGO_RULE})
    return image


def read_image(data: bytes) -> Image | None:
    """The type and pixel size of a PNG, JPEG or WebP image, read from its header."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return Image("image/png", width, height)
        if data.startswith(b"\xff\xd8\xff"):
            return _jpeg(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
    except (struct.error, IndexError):
        return None  # cut short
    return None


def _jpeg(data: bytes) -> Image | None:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        # Start-of-frame markers carry the size; C4, C8 and CC are other tables.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return Image("image/jpeg", width, height)
        at += 2 + length
    return None


def _webp(data: bytes) -> Image | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return Image("image/webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and data[20] == 0x2F:
        (bits,) = struct.unpack("<I", data[21:25])
        return Image("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return Image("image/webp", width, height)
    return None


def etag_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def public_logo(slug: str) -> LogoFile:
    """The logo of the business at ``slug``; NotFound when it has none."""
    found = (
        Organisation.select(Organisation.logo, Organisation.logo_type)
        .where(Organisation.slug == slug)
        .first()
    )
    if found is None or not found.logo or not found.logo_type:
        raise NotFound("No logo here.")
    data = bytes(found.logo)
    return LogoFile(data, found.logo_type, etag_of(data))


def logo_shown(org: Organisation, box: tuple[int, int] = (240, 64)) -> LogoShown | None:
    """The version and display size of ``org``'s logo fitted into ``box`` (width,
    height) without enlarging it, so that the page reserves its space before it loads.
    Read from the columns kept beside the image (0022): the image itself stays unread."""
    if not (org.logo_version and org.logo_width and org.logo_height):
        return None
    scale = min(box[0] / org.logo_width, box[1] / org.logo_height, 1)
    width = max(1, round(org.logo_width * scale))
    height = max(1, round(org.logo_height * scale))
    return LogoShown(org.logo_version, width, height)
