"""Customer accounts: signing up, emailed links, the profile, and leaving.

Functions that email a link (services.accounts.links) take ``link``, which turns a
token into the absolute URL for the email (the views know their routes and the site's
base URL), and ``mail``, where mail goes (services.mail).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from peewee import IntegrityError

from models import (
    ApiToken,
    Booking,
    BookingEvent,
    BookingStatus,
    IdempotencyKey,
    Identity,
    Membership,
    Passkey,
    Provider,
    User,
    db,
    is_sqlite,
)
from services import access
from services import mail as mailer
from services.accounts import claims, links, sessions, signups
from services.accounts.auth import authenticate, hash_password
from services.calendar import outbox as calendar_outbox
from services.errors import Forbidden, Invalid, InvalidCredentials
from services.notifications import outbox as notify
from services.notifications.outbox import Dispatch
from services.payments import checkout, refunds
from services.validation import (
    DEFAULT_REGION,
    check_all,
    clean_email,
    clean_name,
    clean_password,
    clean_phone,
)

log = logging.getLogger("kairos.accounts")

DELETED_DOMAIN = "deleted.invalid"
DELETED_NAME = "Deleted customer"
ACCOUNT_DELETED = "account deleted"

LinkBuilder = Callable[[str], str]


# Signing up and in ------------------------------------------------------------------


def sign_up(
    name: str,
    email: str,
    password: str,
    phone: str | None = None,
    region: str = DEFAULT_REGION,
    *,
    now: datetime,
    link: LinkBuilder,
    mail: mailer.MailConfig | None = None,
) -> int:
    """Check the form and email a code to ``email``; the account is made when the code
    comes back (finish_sign_up). When the address already has an account, its holder
    gets a sign-in link (``link`` builds it) instead. Either way the caller asks for the
    code, so the answer does not tell a stranger whether the address has an account.
    Returns the sign-up's id."""
    name, email, password, phone = check_all(
        lambda: clean_name(name),
        lambda: clean_email(email),
        lambda: clean_password(password, about=(email, name)),
        lambda: clean_phone(phone, region),
    )
    details = {"name": name, "phone": phone, "password_hash": hash_password(password)}
    return start_sign_up("customer", email, details, now, link=link, mail=mail)


def start_sign_up(
    kind: str,
    email: str,
    details: dict,
    now: datetime,
    *,
    link: LinkBuilder,
    mail: mailer.MailConfig | None,
) -> int:
    """Email the code for a checked sign-up of ``kind`` (see services/accounts/signups.py),
    or the holder's sign-in link when the address has an account."""
    return signups.start(
        kind,
        email,
        details,
        now,
        holder=User.by_email(email) is not None,
        tell_holder=_holder_teller(now, link, mail),
        mail=mail,
    )


def _holder_teller(now: datetime, link: LinkBuilder, mail: mailer.MailConfig | None):
    """What a sign-up does instead of sending a code, when the address has an account."""

    def tell(email: str, kind: str) -> None:
        tell_holder(
            email, "business" if kind == "business" else "sign_up", now, link=link, mail=mail
        )

    return tell


def resend_sign_up_code(
    pending_id: int, now: datetime, *, link: LinkBuilder, mail: mailer.MailConfig | None = None
) -> None:
    """A new code for a customer's or a business's sign-up (or the holder's email again)."""
    signups.resend(pending_id, now, tell_holder=_holder_teller(now, link, mail), mail=mail)


def finish_sign_up(pending_id: int, code: str, now: datetime) -> User:
    """The new account, once the code emailed by sign_up is given back."""
    email, details = signups.verify(pending_id, code, now)
    try:
        with db.atomic():
            user = User.create(
                name=details["name"],
                email=email,
                phone=details["phone"],
                password_hash=details["password_hash"],
                created_at=now,
            )
    except IntegrityError:  # the address got an account meanwhile (the code proves it is theirs)
        raise Invalid({"code": ADDRESS_TAKEN_MEANWHILE}) from None
    log.info("account.created user_id=%s", user.id)
    return user


ADDRESS_TAKEN_MEANWHILE = "This address has an account now. Sign in instead."


# What an account holder is told when someone tries to use their address (signing up, a
# business signing up, another account's email change), instead of telling that someone.
HOLDER_SUBJECTS = {
    "sign_up": "You already have a Kairos account",
    "business": "You already have a Kairos account",
    "email_change": "This address already has a Kairos account",
}


def tell_holder(
    email: str,
    attempt: str,
    now: datetime,
    *,
    link: LinkBuilder | None = None,
    mail: mailer.MailConfig | None = None,
) -> None:
    """Email the holder of ``email`` that someone tried to use it (``attempt``, a key of
    HOLDER_SUBJECTS); with ``link``, the email carries a one-time sign-in link. Nothing
    the other person typed goes into the email."""
    user = _active_user(email)
    if user is None:  # the account went meanwhile, or the address is a deleted one's
        log.info("account.holder_told attempt=%s user_id=none", attempt)
        return
    mailer.send(
        user.email,
        HOLDER_SUBJECTS[attempt],
        "account_exists",
        config=mail,
        now=now,
        name=user.name,
        attempt=attempt,
        link=link(links.issue(user, "magic", now)) if link else None,
        valid_for="1 hour",
    )
    log.info("account.holder_told attempt=%s user_id=%s", attempt, user.id)


def verify_password(user: User, password: str | None, field: str = "password") -> None:
    """Raise Invalid on ``field`` unless ``password`` is the user's current password."""
    try:
        authenticate(user.email, password or "")
    except InvalidCredentials:
        raise Invalid({field: "That is not your current password."}) from None


# Emailed links ----------------------------------------------------------------------


def _active_user(email: str | None) -> User | None:
    """The user with this email, unless there is none or the account was deleted."""
    user = User.by_email(email or "")
    if user is None or user.email.endswith("@" + DELETED_DOMAIN):
        return None
    return user


@dataclass(frozen=True)
class LinkMail:
    """A password reset or sign-in link someone asked for, as the worker gets it: plain
    values only. ``link`` is the link's URL with TOKEN_SLOT where the token goes. The
    token is made from ``nonce`` and the secret key, so that sending twice (a retry, a
    task run twice) sends the same link, and the queue never holds a usable token."""

    purpose: str  # "reset" or "magic"
    email: str
    link: str
    nonce: str


TOKEN_SLOT = "TOKEN-SLOT"  # where the token goes in LinkMail.link
LINK_SUBJECTS = {"reset": "Reset your Kairos password", "magic": "Your Kairos sign-in link"}


def ask_for_link(purpose: str, email: str, link: LinkBuilder) -> LinkMail:
    """What to hand the worker when someone asks for a link by email. Nothing is looked
    up: the request takes as long whether or not the address has an account (the
    worker finds out, and sends nothing if it has none). Callers say the same either way."""
    if purpose not in LINK_SUBJECTS:
        raise ValueError(purpose)
    return LinkMail(purpose, email or "", link(TOKEN_SLOT), secrets.token_urlsafe(32))


def link_token(secret: str, nonce: str) -> str:
    digest = hmac.new(secret.encode(), f"account-link:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def send_link(
    job: LinkMail, now: datetime, *, secret: str, mail: mailer.MailConfig | None = None
) -> None:
    """Email the link asked for, if there is such an account (the worker's half of
    ask_for_link). Run twice, it sends the same link again, unless that was used."""
    user = _active_user(job.email)
    if user is None:
        if job.purpose == "magic":
            _tell_no_account(job, now, mail)
        log.info("account.link_requested purpose=%s user_id=none", job.purpose)
        return
    token = link_token(secret, job.nonce)
    try:
        with db.atomic():
            links.issue(user, job.purpose, now, token=token)
    except IntegrityError:  # issued by an earlier run of this same job
        if not links.is_valid(token, job.purpose, now):
            return  # used already, or expired: nothing to send
    mailer.send(
        user.email,
        LINK_SUBJECTS[job.purpose],
        {"reset": "reset", "magic": "magic_link"}[job.purpose],
        config=mail,
        now=now,
        name=user.name,
        link=job.link.replace(TOKEN_SLOT, token, 1),  # the path's slot, never one in ?next=
        valid_for="1 hour",
    )
    log.info("account.link_requested purpose=%s user_id=%s", job.purpose, user.id)


SIGN_UP_PATH = "/account/sign-up"  # views/account.py
BOOKING_PATH = re.compile(r"/[a-z0-9-]+/book/\d+/review\?")  # views/booking.py


def _tell_no_account(job: LinkMail, now: datetime, mail: mailer.MailConfig | None) -> None:
    """Someone asked for a sign-in link for an address with no account: the address is
    told so (as signing up with an address tells its holder), with a way on: back to
    the booking they were making (no account needed), else to signing up. The page
    that asked says the same either way."""
    parts = urlsplit(job.link)
    base = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    asked = parse_qs(parts.query).get("next", [""])[0]
    booking = bool(BOOKING_PATH.match(asked))
    onward = (
        asked if booking else SIGN_UP_PATH + (f"?{urlencode({'next': asked})}" if asked else "")
    )
    mailer.send(
        job.email,
        "No Kairos account uses this address",
        "no_account",
        config=mail,
        now=now,
        link=base + onward,
        booking=booking,
    )


# The sign-in link in a booking's emails to an account without a password: long enough
# to come back to the booking in the days after it was made; it still works only once.
BOOKING_LINK_LIFETIME = timedelta(days=7)
MAGIC_PATH = "/account/magic/"  # views/account.py


def booking_sign_in_link(
    user: User, key: str, page: str, now: datetime, *, secret: str, base_url: str
) -> str | None:
    """A sign-in link that opens ``page`` (a path), for an email to ``user`` when that
    account signs in by emailed links only (made by booking with a name and email);
    None for any other. ``key`` names the email: every try of it carries the same link."""
    if user.is_record or user.password_hash or _active_user(user.email) is None:
        return None
    token = link_token(secret, f"booking-email:{key}")
    try:
        with db.atomic():
            links.issue(user, "magic", now, token=token, lifetime=BOOKING_LINK_LIFETIME)
    except IntegrityError:  # issued by an earlier try of the same email
        pass
    return f"{base_url}{MAGIC_PATH}{token}?{urlencode({'next': page})}"


def link_is_valid(token: str, purpose: str, now: datetime) -> bool:
    return links.is_valid(token, purpose, now)


def link_holder(token: str, purpose: str, now: datetime) -> User | None:
    """Whose link this is, if it would work now."""
    return links.holder(token, purpose, now)


def reset_password(token: str, new_password: str, now: datetime) -> User:
    holder = links.holder(token, "reset", now)
    if holder is None:
        raise links.LinkInvalid()
    # Before the link is used up.
    new_password = clean_password(new_password, about=(holder.email, holder.name))
    with db.atomic():
        row = links.consume(token, "reset", now)
        User.update(password_hash=hash_password(new_password), password_set_at=now).where(
            User.id == row.user_id
        ).execute()
        links.retire(row.user_id, ("reset", "magic"), now)
        # Whoever knew the old password (or held a cookie or token) is out, everywhere.
        sessions.end_everything(row.user_id, now, "password_reset")
    log.info("account.password_reset user_id=%s", row.user_id)
    return User.get_by_id(row.user_id)


def sign_in_with_magic_link(token: str, now: datetime) -> User:
    with db.atomic():
        row = links.consume(token, "magic", now)
        user = User.get_by_id(row.user_id)
        if not user.password_hash:
            # An account made by booking with a name and email: the browser that booked
            # never proved it holds the address (anyone can type one). Whoever proves it
            # takes over: every other sign-in ends, so a stranger who booked with
            # someone's address sees nothing of what its holder books later.
            sessions.end_everything(user.id, now, "address_proven")
    log.info("account.magic_sign_in user_id=%s", row.user_id)
    return user


# The profile ------------------------------------------------------------------------


def update_profile(user: User, name: str, phone: str | None, region: str = DEFAULT_REGION) -> User:
    name, phone = check_all(lambda: clean_name(name), lambda: clean_phone(phone, region))
    User.update(name=name, phone=phone).where(User.id == user.id).execute()
    log.info("account.profile_updated user_id=%s", user.id)
    return User.get_by_id(user.id)


def request_email_change(
    user: User,
    new_email: str,
    now: datetime,
    *,
    link: LinkBuilder,
    mail: mailer.MailConfig | None = None,
) -> str:
    """Email a confirmation link to the new address; the email changes when it is opened.
    If another account has that address, its holder is told instead, and the caller says
    the same as when it is free ("we've emailed a link")."""
    new_email = clean_email(new_email, "new_email")
    if new_email == user.email:
        raise Invalid({"new_email": "That is already your email address."})
    if User.by_email(new_email):
        tell_holder(new_email, "email_change", now, mail=mail)
        return new_email
    token = links.issue(user, "email_change", now, new_email=new_email)
    mailer.send(
        new_email,
        "Confirm your new email address",
        "email_change",
        config=mail,
        now=now,
        name=user.name,
        new_email=new_email,
        link=link(token),
        valid_for="1 hour",
    )
    log.info("account.email_change_requested user_id=%s", user.id)
    return new_email


def confirm_email_change(token: str, now: datetime) -> User:
    try:
        with db.atomic():
            row = links.consume(token, "email_change", now)
            User.update(email=row.new_email).where(User.id == row.user_id).execute()
            links.retire(row.user_id, ("reset", "magic", "email_change"), now)
    except IntegrityError:  # someone signed up with that address since the link was sent
        raise Invalid({"email": "Another account uses this email address now."}) from None
    log.info("account.email_changed user_id=%s", row.user_id)
    return User.get_by_id(row.user_id)


def change_password(
    user: User, current: str, new: str, now: datetime, *, this_sign_in: str | None = None
) -> sessions.SignInKey | None:
    """A new password ends every sign-in and API token of the user but the one making
    the change (``this_sign_in``, its key), which goes on under the new key returned."""
    check_all(
        lambda: verify_password(user, current, "current_password"),
        lambda: clean_password(new, "new_password", about=(user.email, user.name)),
    )
    password_hash = hash_password(new)  # slow on purpose: before the transaction
    with db.atomic():
        User.update(password_hash=password_hash, password_set_at=now).where(
            User.id == user.id
        ).execute()
        kept = sessions.end_everything(user.id, now, "password_changed", keep=this_sign_in)
    log.info("account.password_changed user_id=%s", user.id)
    return kept


def add_password(
    user: User, new: str, now: datetime, *, this_sign_in: str | None = None
) -> sessions.SignInKey | None:
    """A first password for an account that has none (made by booking with a name and
    email). The caller has made sure that whoever asks proved they hold the address (an
    emailed link), since there is no old password to ask for. Like change_password, it
    ends every other sign-in of the user."""
    new = clean_password(new, "new_password", about=(user.email, user.name))
    password_hash = hash_password(new)  # slow on purpose: before the transaction
    with db.atomic():
        added = (
            User.update(password_hash=password_hash, password_set_at=now)
            .where((User.id == user.id) & User.password_hash.is_null())
            .execute()
        )
        if not added:  # one was added meanwhile (another tab): that one stands
            raise Invalid({"new_password": "Your account has a password now. Reload the page."})
        kept = sessions.end_everything(user.id, now, "password_changed", keep=this_sign_in)
    log.info("account.password_added user_id=%s", user.id)
    return kept


# Leaving ----------------------------------------------------------------------------


def upcoming_bookings(user: User, now: datetime) -> int:
    """How many confirmed bookings the user has from ``now`` on."""
    return _future_bookings(user.id, now).count()


def _future_bookings(user_id: int, now: datetime):
    return Booking.select(
        Booking.id,
        Booking.organisation,
        Booking.provider,
        Booking.customer,
        Booking.service,
        Booking.start_at,
        Booking.status,
    ).where(
        (Booking.customer == user_id)
        & Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.PENDING_PAYMENT))
        & (Booking.start_at > now)
    )


def delete_account(user: User, now: datetime, *, dispatch: Dispatch) -> int:
    """Cancel the user's future bookings and remove their personal data; the bookings
    stay, anonymised, for the business's records. Returns how many were cancelled; their
    providers' notices go into ``dispatch`` once that is committed."""
    if (
        Membership.select().where(Membership.user == user.id).exists()
        or Provider.select().where(Provider.user == user.id).exists()
    ):
        raise Forbidden("Staff accounts are closed by the business owner, not here.")
    with db.atomic("IMMEDIATE") if is_sqlite() else db.atomic():
        cancelled, told, calendars = _cancel_future_bookings(user.id, now)
        anonymise(user.id)
    dispatch.add(told)
    dispatch.add_calendars(calendars)
    for booking_id in cancelled:  # what they paid goes back by the policy, once committed
        refunds.send_pending(booking_id)
        checkout.cancel_intent(booking_id, now, dispatch)
    log.info("account.deleted user_id=%s cancelled=%s", user.id, len(cancelled))
    return len(cancelled)


def anonymise(user_id: int) -> None:
    """Remove a person's personal data: name, email and phone, the means to sign in,
    devices and choices. The row stays, so that the bookings that point at it stay for
    the business's records. The one rule for this, used by deleting an account and by a
    business's retention (services/privacy/retention.py); call it in a transaction."""
    User.update(
        email=f"deleted-{user_id}@{DELETED_DOMAIN}",
        name=DELETED_NAME,
        phone=None,
        password_hash=None,
        password_set_at=None,
    ).where(User.id == user_id).execute()
    links.forget(user_id)
    sessions.forget(user_id)  # every device is signed out
    notify.forget(user_id)
    claims.release(user_id)  # businesses' records it claimed are theirs alone again
    for model in (ApiToken, IdempotencyKey, Identity, Passkey):
        model.delete().where(model.user == user_id).execute()


def anonymised():
    """Which users ``anonymise`` has been through, as a query condition."""
    return User.email.endswith("@" + DELETED_DOMAIN)


def _cancel_future_bookings(user_id: int, now: datetime) -> tuple[list[int], list[int], list[int]]:
    """Whatever the cancellation window says: the customer is gone. The bookings'
    ids, the ids of the notices written about them, and the providers' two-way
    calendars to take them out of."""
    query = _future_bookings(user_id, now)
    if not is_sqlite():
        query = query.for_update()  # SQLite holds the write lock already
    bookings = list(query)
    ids = [row.id for row in bookings]
    if not ids:
        return [], [], []
    Booking.update(
        status=BookingStatus.CANCELLED,
        cancelled_at=now,
        cancelled_by=user_id,
        cancel_reason=ACCOUNT_DELETED,
    ).where(Booking.id.in_(ids)).execute()
    detail = json.dumps({"reason": ACCOUNT_DELETED})
    event = {"actor": user_id, "action": "cancelled", "detail": detail, "created_at": now}
    BookingEvent.insert_many([{"booking": i, **event} for i in ids]).execute()
    told, calendars = [], []
    for booking in bookings:  # their providers hear of it; the customer is gone
        if booking.status == BookingStatus.PENDING_PAYMENT:
            continue  # never confirmed: nobody heard of it
        refunds.plan_on_cancel(
            booking,
            by_business=False,
            inside_window=access.inside_window(booking, now),
            actor_id=user_id,
            now=now,
        )
        told += notify.booking_cancelled(
            booking, user_id, now, ACCOUNT_DELETED, tell_customer=False
        )
        calendars += calendar_outbox.booking_changed(booking, now)
    return ids, told, calendars
