"""What each notification says: its email, its push notification and its text message.

Written from the booking as it is now and the row's details, in the organisation's
time zone (and the customer's too, when theirs is another), with a link back into the
app. The same row always gives the same message, so a retry sends what the first try
would have.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from models import Booking, Notification, Organisation, User
from scheduling import change_deadline, customer_may_change
from scheduling.zones import place
from services.accounts.claims import LIFETIME as CLAIM_LIFETIME
from services.booking.calendar_links import invite, lineage
from services.contact import Contact, contact_of, location
from services.formats import day_label, local_time, money, when
from services.workspace.settings import logo_shown

STAFF_KINDS = ("staff_new", "staff_rescheduled", "staff_cancelled")


@dataclass(frozen=True)
class Letterhead:
    """What heads an email about a booking: the business, not Kairos. The logo is an
    absolute address (BASE_URL), with its size fitted to the email's header."""

    name: str
    logo_url: str = ""
    logo_width: int = 0
    logo_height: int = 0


@dataclass(frozen=True)
class Message:
    subject: str  # also the push notification's title
    lines: list[str]  # the body, paragraph by paragraph
    link: str  # the email's button
    button: str
    page: str = ""  # the booking in the app: where a push notification opens
    facts: list[tuple[str, str]] = field(default_factory=list)  # label, value
    footer: str = ""
    ics: bytes | None = None  # an iTIP invitation (REQUEST or CANCEL)
    ics_method: str = ""
    sender: str = ""  # the organisation's name, for texts
    topic: str = ""  # push: a newer message about the same booking replaces this one
    urgency: str = "normal"
    ttl: int = 24 * 3600  # push: how long the push service keeps trying, in seconds
    contact: Contact | None = None  # how a customer reaches the business (emails)
    letterhead: Letterhead | None = None  # the business heading the email

    @property
    def short(self) -> str:
        """One line for a push notification or a text message."""
        return " ".join(self.lines[:1])


# What a business's record of a customer is emailed about: its button adds the booking
# to a Kairos account (services/accounts/claims.py) until one has claimed the record.
CLAIMABLE_KINDS = ("confirmed", "rescheduled", "reminder")
CLAIM_BUTTON = "Add it to your Kairos account"


def compose(
    n: Notification,
    booking: Booking,
    recipient: User,
    *,
    base_url: str,
    sender: str,
    claim_link: str | None = None,
) -> Message:
    """The message ``n`` stands for. ``booking`` comes with service, provider and
    organisation; ``sender`` is the From address, the invitation's organiser;
    ``claim_link``, for a record nobody has claimed, is the email's button."""
    message = _compose(n, booking, recipient, base_url, sender)
    contact = None
    if n.kind in STAFF_KINDS:
        page = f"{base_url}/w/{booking.organisation.slug}/bookings/{booking.id}"
    else:
        page = f"{base_url}/appointments/{booking.id}"
        contact = contact_of(booking.organisation)
    if claim_link and n.kind in CLAIMABLE_KINDS:
        add = (
            "Add it to your Kairos account to see it, move it or cancel it online"
            f" (you can create one on the way). The button works for {CLAIM_LIFETIME.days} days."
        )
        message = replace(
            message, lines=[*message.lines, add], link=claim_link, button=CLAIM_BUTTON
        )
    return replace(
        message,
        sender=booking.organisation.name,
        page=page,
        contact=contact,
        letterhead=letterhead(booking.organisation, base_url),
    )


def letterhead(org: Organisation, base_url: str) -> Letterhead:
    logo = logo_shown(org, (200, 56))
    if logo is None:
        return Letterhead(org.name)
    url = f"{base_url}/{org.slug}/logo?v={logo.version}"
    return Letterhead(org.name, url, logo.width, logo.height)


def _cancellation(booking: Booking, booked_at: datetime) -> str:
    """The cancellation policy as the pages put it (templates/partials/_cancellation.html),
    as it stood when the booking was made (so a retry says the same)."""
    org, hours = booking.organisation, booking.service.cancellation_window_hours
    window = timedelta(hours=hours)
    if customer_may_change(booking.start_at, window, booked_at):
        deadline = change_deadline(booking.start_at, window)
        return (
            f"Free cancellation until {day_label(deadline, org.timezone)},"
            f" {local_time(deadline, org.timezone)}"
        )
    c = contact_of(org)
    how = (
        f"call us on {c.phone}"
        if c.phone
        else f"email us at {c.email}"
        if c.email
        else f"please contact {org.name}"
    )
    return f"Changes within {hours} hour{'' if hours == 1 else 's'}: {how}"


def _compose(n, booking, recipient, base_url, sender) -> Message:
    org = booking.organisation
    tz = org.timezone
    detail = n.details
    customer = booking.customer if booking.customer_id else None
    customer_name = customer.name if customer else "A customer"
    start = when(booking.start_at, tz)
    chain = lineage(booking)
    topic = f"booking-{chain[0]}"
    facts = [
        ("What", booking.service.name),
        ("With", booking.provider.name),
        ("When", _when_for(booking, recipient, staff=n.kind in STAFF_KINDS)),
        ("Where", location(org)),
    ]
    if n.kind in STAFF_KINDS:
        link = f"{base_url}/w/{org.slug}/bookings/{booking.id}"
        facts.insert(0, ("Customer", customer_name))
        return _staff(n, booking, detail, customer_name, start, facts, link, topic)

    link = f"{base_url}/appointments/{booking.id}"
    price = money(booking.price_cents, booking.currency)
    facts.append(("Price", price))
    footer = f"You received this email because of your booking with {org.name}."
    if n.kind in ("confirmed", "rescheduled"):
        if n.kind == "confirmed":
            by = "" if detail.get("by") == "customer" else f"{org.name} booked it for you. "
            subject = f"Booked: {booking.service.name}, {start}"
            lines = [
                f"Your {booking.service.name} with {booking.provider.name} is booked for {start}.",
                f"{by}{_cancellation(booking, n.created_at)}.",
            ]
        else:
            was = when(datetime.fromisoformat(detail["from"]), tz)
            who = "You moved" if detail.get("by") == "customer" else f"{org.name} moved"
            subject = f"Moved: {booking.service.name}, now {start}"
            lines = [
                f"{who} your {booking.service.name} to {start}.",
                f"It was {was}; that time no longer holds.",
            ]
        business_moved = n.kind == "rescheduled" and detail.get("by") != "customer"
        return Message(
            subject=subject,
            lines=lines,
            link=link,
            button="See your booking",
            facts=facts,
            footer=footer,
            ics=invite(booking, link, sender, "REQUEST", sequence=len(chain) - 1),
            ics_method="REQUEST",
            topic=topic,
            urgency="high" if business_moved else "normal",
        )
    if n.kind == "payment_refunded":
        amount = money(detail.get("amount_cents", 0), booking.currency)
        return Message(
            subject=f"Refunded: {amount} for {booking.service.name}",
            lines=[
                f"Your payment of {amount} for {booking.service.name} on {start} arrived after"
                " the time we held for it had run out, so the booking could not be made.",
                f"We have refunded the {amount} in full; your bank shows it within a few days.",
            ],
            link=f"{base_url}/{org.slug}",
            button=f"Book with {org.name}",
            facts=facts,
            footer=footer,
            topic=topic,
            urgency="high",
        )
    if n.kind == "cancelled":
        reason = detail.get("reason", "")
        if detail.get("by") == "customer":
            lines = [f"You cancelled your {booking.service.name} on {start}."]
        else:
            lines = [f"{org.name} cancelled your {booking.service.name} on {start}."]
            if reason:
                lines.append(f"Their message: “{reason}”")
        if detail.get("refund_cents"):
            lines.append(
                f"{money(detail['refund_cents'], booking.currency)} is being refunded to your card."
            )
        if detail.get("kept_cents"):
            lines.append(
                f"{money(detail['kept_cents'], booking.currency)} of what you paid is kept,"
                " as the cancellation came inside the cancellation window."
            )
        lines.append("You can book another time whenever it suits you.")
        return Message(
            subject=f"Cancelled: {booking.service.name}, {start}",
            lines=lines,
            link=f"{base_url}/{org.slug}",
            button=f"Book with {org.name}",
            facts=facts,
            footer=footer,
            ics=invite(booking, link, sender, "CANCEL", sequence=len(chain)),
            ics_method="CANCEL",
            topic=topic,
            urgency="high",
        )
    # A reminder: it is only worth anything until the appointment starts.
    left = booking.start_at - n.created_at
    days = (local_date(booking.start_at, tz) - local_date(n.created_at, tz)).days
    soon = {0: " today", 1: " tomorrow"}.get(days, "")
    return Message(
        subject=f"Reminder: {booking.service.name}{soon}, {start}",
        lines=[
            f"A reminder: your {booking.service.name} with {booking.provider.name} is {start}.",
            "If you can't come, please cancel or move it so someone else can have the time.",
        ],
        link=link,
        button="See or change your booking",
        facts=facts,
        footer=footer,
        topic=topic,
        urgency="high" if left <= timedelta(hours=3) else "normal",
        ttl=max(60, int(left.total_seconds())),
    )


def _staff(n, booking, detail, customer_name, start, facts, link, topic) -> Message:
    service = booking.service.name
    tz = booking.organisation.timezone
    footer = "You receive these as a provider; choose which in your profile."
    if n.kind == "staff_new":
        how = {"walk_in": " (walk-in)", "phone": " (by phone)"}.get(booking.source, "")
        moved = " It was moved to you from a colleague." if "from" in detail else ""
        return Message(
            subject=f"New booking: {customer_name}, {start}",
            lines=[f"{customer_name} booked {service}{how} for {start}.{moved}"],
            link=link,
            button="Open in the schedule",
            facts=facts,
            footer=footer,
            topic=topic,
        )
    if n.kind == "staff_rescheduled":
        was = when(datetime.fromisoformat(detail["from"]), tz)
        return Message(
            subject=f"Moved: {customer_name}, now {start}",
            lines=[f"{customer_name}'s {service} moved from {was} to {start}."],
            link=link,
            button="Open in the schedule",
            facts=facts,
            footer=footer,
            topic=topic,
        )
    if detail.get("by") == "customer":
        lines = [f"{customer_name} cancelled {service} on {start}."]
    else:
        lines = [f"{customer_name}'s {service} on {start} was cancelled."]
    if detail.get("reason"):
        lines.append(f"Reason: {detail['reason']}")
    lines.append("The time is free again.")
    return Message(
        subject=f"Cancelled: {customer_name}, {start}",
        lines=lines,
        link=link,
        button="Open in the schedule",
        facts=facts,
        footer=footer,
        topic=topic,
        urgency="high",
    )


def _when_for(booking: Booking, recipient: User, *, staff: bool) -> str:
    """On the organisation's clock; a customer elsewhere gets their own clock too."""
    org_tz = booking.organisation.timezone
    text = when(booking.start_at, org_tz)
    theirs = None if staff else recipient.timezone
    if theirs and theirs != org_tz:
        text = f"{text} {place(org_tz)} time ({when(booking.start_at, theirs)} in {place(theirs)})"
    return text


def sms_text(message: Message) -> str:
    """Short, with the link, and how to stop: carriers expect the opt-out in the text."""
    return f"{message.sender}: {message.subject}. {message.link} Reply STOP to opt out."


def local_date(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()
