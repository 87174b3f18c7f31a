"""The business's customers as the staff see them: finding one, and their record.

A provider sees only the customers they have seen (access.Staff.customers), and of each
customer only the bookings with them; the owner sees every booking with the business.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from peewee import JOIN, Case, fn

from models import Booking, BookingStatus, Note, Provider, Service, User, db
from services import access, audit
from services.access import Staff
from services.booking.history import one_per_appointment
from services.errors import Invalid
from services.validation import BIDI_CONTROLS, phone_for_display

SEARCH_LIMIT = 20
PAGE_SIZE = 25
MAX_SHOWN = 1000  # "show more" stops here: past that, searching is the quicker way
NOTE_LIMIT = 4000
VISITED = (
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
)  # an appointment that happened (or is happening)
CSV_HEADER = ["Name", "Email", "Phone", "Visits", "No-shows", "Last visit", "Next visit"]
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def matching(staff: Staff, text: str):
    """The customers the staff member may see whose name, email or phone contains every
    word of ``text`` (any case; a phone matches on its digits), as a query of users."""
    query = staff.customers()
    for word in text.split():
        digits = "".join(c for c in word if c.isdigit())
        matches = User.name.contains(word) | User.email.contains(word)  # any case, % escaped
        if len(digits) >= 3:
            # "07700" typed the national way matches "+447700…": drop a leading 0.
            matches |= User.phone.contains(digits.removeprefix("0"))
        query = query.where(matches)
    return query.order_by(fn.LOWER(User.name), User.id)


def search(staff: Staff, text: str, limit: int = SEARCH_LIMIT) -> list[User]:
    """Customers the staff member may see whose name, email or phone contains ``text``
    (any case; a phone matches on its digits, so "07700 900" finds +447700900123).
    An empty search lists them by name."""
    return list(matching(staff, text).limit(limit))


@dataclass(frozen=True)
class Stats:
    """A customer's bookings within the staff member's reach, counted."""

    visits: int = 0
    no_shows: int = 0
    last_visit: datetime | None = None
    next_visit: datetime | None = None


@dataclass(frozen=True)
class Row:
    customer: User
    stats: Stats


@dataclass(frozen=True)
class Listing:
    rows: list[Row]
    total: int  # how many match, shown or not

    @property
    def more(self) -> bool:
        return len(self.rows) < self.total and len(self.rows) < MAX_SHOWN


@dataclass
class Record:
    customer: User
    stats: Stats
    upcoming: list[Booking]
    past: list[Booking]  # and cancelled ones, newest first
    notes: list[Note] = field(default_factory=list)


def in_reach(staff: Staff):
    """Bookings the staff member may look at: the business's, or only their own."""
    condition = Booking.organisation == staff.organisation
    if not staff.is_owner:
        condition &= Booking.provider == (staff.provider.id if staff.provider else 0)
    return condition


def stats_for(staff: Staff, customer_ids: list[int] | None, now: datetime) -> dict[int, Stats]:
    """Each customer's visits, no-shows, last and next visit, in one aggregate query
    (for every customer in reach when ``customer_ids`` is None)."""
    visited = (Booking.start_at < now) & Booking.status.in_(VISITED)
    coming = (Booking.start_at >= now) & (Booking.status == BookingStatus.CONFIRMED)
    query = Booking.select(
        Booking.customer,
        fn.SUM(Case(None, [(visited, 1)], 0)),
        fn.SUM(Case(None, [(Booking.status == BookingStatus.NO_SHOW, 1)], 0)),
        fn.MAX(Case(None, [(visited, Booking.start_at)])),
        fn.MIN(Case(None, [(coming, Booking.start_at)])),
    ).where(in_reach(staff) & Booking.customer.is_null(False))
    if customer_ids is not None:
        query = query.where(Booking.customer.in_(customer_ids))
    instant = Booking.start_at.python_value  # SQLite gives the stored text back
    return {
        customer: Stats(int(visits or 0), int(no_shows or 0), instant(last), instant(next_))
        for customer, visits, no_shows, last, next_ in query.group_by(Booking.customer).tuples()
    }


def listing(staff: Staff, text: str, now: datetime, shown: int = PAGE_SIZE) -> Listing:
    """The first ``shown`` customers matching ``text``, by name, with their figures."""
    shown = max(PAGE_SIZE, min(shown, MAX_SHOWN))
    found = matching(staff, text)
    customers = list(found.limit(shown))
    stats = stats_for(staff, [c.id for c in customers], now) if customers else {}
    rows = [Row(c, stats.get(c.id, Stats())) for c in customers]
    total = len(rows) if len(rows) < shown else found.order_by().count()
    return Listing(rows, total)


def record(staff: Staff, customer_id: int, now: datetime) -> Record:
    """A customer's record: contact details, bookings in reach and the staff's notes.
    NotFound for anyone the staff member may not see."""
    customer = access.customer_for(staff, customer_id)
    bookings = (
        Booking.select(Booking, Service, Provider)
        .join(Service)
        .switch(Booking)
        .join(Provider)
        .where(in_reach(staff) & (Booking.customer == customer.id))
        .order_by(Booking.start_at, Booking.id)
    )
    upcoming, past = [], []
    for booking in one_per_appointment(list(bookings)):  # a moved one once, where it is now
        is_coming = booking.status == BookingStatus.CONFIRMED and booking.end_at > now
        (upcoming if is_coming else past).append(booking)
    stats = stats_for(staff, [customer.id], now).get(customer.id, Stats())
    return Record(customer, stats, upcoming, past[::-1], notes_on(staff, customer.id))


def notes_on(staff: Staff, customer_id: int) -> list[Note]:
    """The business's notes about a customer, newest first, with their authors."""
    return list(
        Note.select(Note, User)
        .join(User, JOIN.LEFT_OUTER, on=Note.author)
        .where((Note.organisation == staff.organisation) & (Note.customer == customer_id))
        .order_by(Note.created_at.desc(), Note.id.desc())
    )


def clean_note(body: str | None) -> str:
    # NUL and the direction marks (validation.BIDI_CONTROLS) are dropped: a note is
    # free text, often pasted, and neither is meant.
    text = (body or "").replace("\r\n", "\n").replace("\x00", "").translate(BIDI_CONTROLS)
    text = text.strip()
    if not text:
        raise Invalid({"body": "Write the note first."})
    if len(text) > NOTE_LIMIT:
        raise Invalid(
            {"body": f"Keep a note to {NOTE_LIMIT:,} characters; this one has {len(text):,}."}
        )
    return text


def add_note(staff: Staff, customer_id: int, body: str | None, now: datetime) -> Note:
    """A note about a customer the staff member may see, signed by them."""
    customer = access.customer_for(staff, customer_id)
    text = clean_note(body)
    with db.atomic():
        audit.record(
            staff.organisation.id,
            staff.user_id,
            "customers.note_added",
            f"Added a note to customer #{customer.id}'s record.",
            now,
            subject=("customer", customer.id),
        )
        return Note.create(
            organisation=staff.organisation,
            customer=customer.id,
            author=staff.user_id,
            body=text,
            created_at=now,
        )


def safe_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: one that would start a formula gets a '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_rows(staff: Staff, text: str, now: datetime) -> Iterable[list[object]]:
    """The header, then a row per customer matching ``text``: what the CSV holds."""
    tz = ZoneInfo(staff.organisation.timezone)
    stats = stats_for(staff, None, now)
    audit.record(
        staff.organisation.id,
        staff.user_id,
        "customers.exported",
        f"Exported {matching(staff, text).count()} customers to a CSV file"
        + (", found by a search." if text else "."),
        now,
    )

    def when(instant: datetime | None) -> str:
        return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M") if instant else ""

    yield CSV_HEADER
    for customer in matching(staff, text).iterator():
        counted = stats.get(customer.id, Stats())
        yield [
            customer.name,
            customer.email or "",
            phone_for_display(customer.phone),
            counted.visits,
            counted.no_shows,
            when(counted.last_visit),
            when(counted.next_visit),
        ]


def to_csv(rows: Iterable[list[object]]) -> str:
    """RFC 4180 text (CRLF, quotes where needed), every cell safe to open in a spreadsheet.
    Starts with a byte order mark, so that Excel reads the names as UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
