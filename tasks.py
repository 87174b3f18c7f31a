"""The Huey instance and background tasks. Tasks take ids, reload what they need, and
can run twice without doing the work twice."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from functools import cache

from huey import RedisHuey, SqliteHuey, crontab

from config import INSTANCE, Settings
from models import db, open_database
from services import crypto
from services.observability import logs
from services.payments import gateway as payments_gateway

settings = Settings.from_env()
log = logging.getLogger("kairos.tasks")

if settings.huey_url.startswith("redis"):
    huey = RedisHuey("kairos", url=settings.huey_url)
elif settings.huey_url.startswith("sqlite:///"):  # a queue file of its own (tests)
    huey = SqliteHuey("kairos", filename=settings.huey_url.removeprefix("sqlite:///"))
else:
    INSTANCE.mkdir(exist_ok=True)
    huey = SqliteHuey("kairos", filename=str(INSTANCE / "huey.db"))

BATCH = 50  # notifications per task


@huey.on_startup()
def configure_logging() -> None:
    """The web app's log format (LOG_FORMAT); the consumer's own text handler on "huey"
    goes, so its lines are formatted as ours too."""
    logs.configure(settings.log_format, adopt=("huey",))


@huey.on_startup()
def open_db() -> None:
    if db.obj is None:
        db.initialize(open_database(settings.database_url))
    crypto.configure(settings.encryption_keys)  # the worker reads secrets at rest too
    payments_gateway.configure(settings)  # and talks to Stripe


@huey.periodic_task(crontab(minute="17"))
def purge_expired_credentials() -> None:
    """Forget API tokens and sign-ins long expired or ended, Idempotency-Keys older than
    a day, emailed sign-in links that can no longer be used, sign-ups whose code
    expired and codes texted to phones a day after they expired."""
    from services import ratelimits
    from services.accounts import auth, sessions, signups
    from services.accounts import links as account_links
    from services.booking import idempotency
    from services.identity import phone

    moment = datetime.now(UTC)
    with db.connection_context():
        tokens = auth.purge_tokens(moment)
        sign_ins = sessions.purge(moment)
        keys = idempotency.purge(moment)
        links = account_links.purge(moment)
        sign_ups = signups.purge(moment)
        phone_codes = phone.purge(moment)
        counters = ratelimits.purge(moment.timestamp())
    log.info(
        "purged tokens=%s sign_ins=%s idempotency_keys=%s account_links=%s sign_ups=%s "
        "phone_codes=%s rate_limit_counters=%s",
        tokens,
        sign_ins,
        keys,
        links,
        sign_ups,
        phone_codes,
        counters,
    )


@huey.periodic_task(crontab(hour="3", minute="41"))
def forget_past_customers() -> None:
    """Daily: each business's retention setting, applied (services/privacy/retention.py:
    what it removes, and why a second run changes nothing)."""
    from services.privacy import retention

    open_db()  # also when called outside the consumer
    with db.connection_context():
        done = retention.apply_all(datetime.now(UTC))
    log.info("retention %s", done)


@huey.task(retries=3, retry_delay=60)
def send_account_link(purpose: str, email: str, link: str, nonce: str) -> None:
    """A password reset or sign-in link someone asked for on the web: emailed if the
    address has an account (services/accounts/account.py send_link). A retry sends the
    same link; one already used is not sent again."""
    from services.accounts import account
    from services.mail import MailConfig

    open_db()  # also when called outside the consumer
    job = account.LinkMail(purpose, email, link, nonce)
    with db.connection_context():
        account.send_link(
            job, datetime.now(UTC), secret=settings.secret_key, mail=MailConfig(settings)
        )


@huey.periodic_task(crontab(minute="*"))
def release_payment_holds() -> None:
    """Every minute: holds whose time ran out are released and their intents cancelled;
    refunds Stripe did not answer for are asked again (services/payments)."""
    from services.notifications.outbox import Dispatch
    from services.payments import checkout, refunds

    open_db()  # also when called outside the consumer
    dispatch = Dispatch()
    moment = datetime.now(UTC)
    with db.connection_context():
        done = checkout.expire_due(moment, dispatch)
        retried = refunds.retry_pending(moment)
    if any(done.values()) or retried:
        log.info("payment holds %s refunds_retried=%s", done, retried)
    enqueue(dispatch.ids)


@huey.periodic_task(crontab(minute="*/5"))
def sync_calendars() -> None:
    """Every 5 minutes: the providers' calendars whose next try has come (each one every
    15 minutes, a failing one later each time) are read again, and two-way ones get
    what waits for them (services/calendar/imports.py, two_way.py)."""
    from services.calendar import imports, two_way
    from services.errors import NotFound

    open_db()  # also when called outside the consumer
    states = []
    with db.connection_context():
        due = imports.due(datetime.now(UTC))
        for calendar_id in due:
            try:
                synced = two_way.sync(calendar_id, datetime.now(UTC), settings)
            except NotFound:  # removed meanwhile
                continue
            states.append(synced.status)
    if due:
        log.info("calendars synced=%s failed=%s", states.count("ok"), states.count("error"))


@huey.task()
def push_calendar_changes(calendar_ids: list[int], request_id: str | None = None) -> None:
    """Write the appointments a request just changed to these two-way calendars.
    ``request_id``: the request's, for this task's log lines."""
    from services.calendar import two_way

    open_db()  # also when called outside the consumer
    with logs.carrying(request_id), db.connection_context():
        for calendar_id in calendar_ids:
            two_way.push(calendar_id, settings, datetime.now(UTC))


@huey.periodic_task(crontab(minute="*"))
def push_calendars() -> None:
    """Every minute: appointments still to be written to two-way calendars whose next
    try has come (a calendar server that was down gets them once it is back)."""
    from services.calendar import outbox as calendar_outbox

    open_db()  # also when called outside the consumer
    with db.connection_context():
        due = calendar_outbox.due_calendars(datetime.now(UTC))
    if due:
        push_calendar_changes.call_local(due)
        log.info("calendar pushes calendars=%s", len(due))


@cache
def channels():
    from services.notifications.delivery import Channels

    return Channels.from_settings(settings)


def enqueue(ids: list[int], request_id: str | None = None) -> None:
    """Hand notifications to the worker: called once their transaction has committed.
    ``request_id``: the request that wrote them, for the worker's log lines."""
    for start in range(0, len(ids), BATCH):
        deliver(ids[start : start + BATCH], request_id=request_id)


@huey.task()
def deliver(ids: list[int], request_id: str | None = None) -> None:
    """Send these notifications; each one that must wait for a retry is scheduled again."""
    from services.notifications import delivery

    open_db()  # also when called outside the consumer
    outcomes: Counter[str] = Counter()
    with logs.carrying(request_id), db.connection_context():
        for notification_id in ids:
            now = datetime.now(UTC)
            status = delivery.deliver(notification_id, channels(), now)
            outcomes[status or "not_ours"] += 1
            if status == "queued":
                due = delivery.due_at(notification_id)
                retry = {"request_id": request_id}
                deliver.schedule(([notification_id],), retry, eta=due)
        log.info("outbox.delivered notifications=%s outcomes=%s", len(ids), dict(outcomes))


@huey.periodic_task(crontab(minute="*"))
def sweep() -> None:
    """Every minute: queue the reminders that fell due, and enqueue again what a dead
    worker or a lost queue left waiting."""
    from services.notifications import delivery
    from services.notifications import outbox as notify

    open_db()  # also when called outside the consumer (cron, a shell)
    now = datetime.now(UTC)
    offsets = notify.parse_offsets(settings.reminder_offsets) if settings.reminder_offsets else None
    with db.connection_context():
        reminders = notify.create_reminders(now, offsets)  # each committed as written
        lost = delivery.waiting(now, channels())
    if reminders or lost:
        log.info("sweep reminders=%s requeued=%s", len(reminders), len(lost))
    enqueue(reminders + lost)
