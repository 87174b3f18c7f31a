"""Notifications in process: which rows a change writes, what they say, and how the
outbox delivers them to a real SMTP server, a local push service and a Twilio stand-in.
(tests/integration/test_worker.py runs the same through a real Huey consumer.)"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from config import Settings
from models import Booking, Notification, NotificationPrefs, PushSubscription
from services.booking import appointments as bookings
from services.errors import Invalid
from services.mail import MailConfig
from services.notifications import delivery, push
from services.notifications import outbox as notify
from services.notifications.outbox import Dispatch
from services.notifications.sms import ConsoleSms, TwilioSms
from tests.standins.push_service import PushService
from tests.standins.twilio import TwilioStandIn

STANDIN = ("127.0.0.1",)  # PUSH_ALLOW_HOSTS for the local push service
START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday; London is on GMT


@pytest.fixture
def channels(tmp_path):
    settings = Settings(secret_key="x", base_url="https://kairos.example", env="testing")
    return delivery.Channels(
        mail=MailConfig(settings, tmp_path / "outbox"),
        sms=ConsoleSms(),
        vapid=push.vapid(settings, tmp_path),
        base_url="https://kairos.example",
    )


def sent_mail(channels) -> list[email.message.EmailMessage]:
    """The emails written to the outbox folder, in the order of their rows."""
    files = channels.mail.outbox.glob("*.eml")
    found = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    return sorted(found, key=lambda m: int(m["Message-ID"].split("-")[1].split(".")[0]))


def rows(**where) -> list[Notification]:
    query = Notification.select().order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(query)


def deliver_all(channels, now) -> dict[int, str | None]:
    return {n.id: delivery.deliver(n.id, channels, now) for n in rows(status="queued")}


def book(clinic, clock, start=START, actor=None, **kw) -> Booking:
    return bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["follow_up"].id,
        start=start,
        now=clock(),
        provider_id=clinic["ana"].id,
        actor_id=actor,
        dispatch=Dispatch(),
        **kw,
    )


def calendar_of(message) -> Calendar:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_content())


def event_of(message):
    return calendar_of(message).walk("VEVENT")[0]


# --- which rows ------------------------------------------------------------------------


def test_a_booking_tells_customer_and_provider_once_committed(client, clinic, clock, dispatched):
    from tests.conftest import api_client_for
    from tests.integration.test_api_bookings import booked

    api = api_client_for(client.application, clinic["customer"], clock)
    made = booked(api, clinic["follow_up"], "2026-11-27T10:00:00+00:00", clinic["ana"])
    written = rows(booking=made["id"])
    assert {(n.kind, n.channel, n.recipient_id) for n in written} == {
        ("confirmed", "email", clinic["customer"].id),
        ("staff_new", "email", clinic["ana_user"].id),
    }
    assert all(n.status == "queued" and n.attempts == 0 for n in written)
    # Handed to the worker after the request, and only those.
    assert dispatched == [n.id for n in written]


def test_a_refused_booking_writes_no_rows_and_enqueues_nothing(client, clinic, clock, dispatched):
    from tests.conftest import api_client_for
    from tests.integration.test_api_bookings import post_booking

    api = api_client_for(client.application, clinic["customer"], clock)
    late = post_booking(api, clinic["follow_up"], "2026-11-27T18:00:00+00:00", clinic["ana"])
    assert late.status_code == 422
    assert rows() == []
    assert dispatched == []


def test_each_request_hands_over_exactly_the_ids_it_wrote(app, clinic, clock, customer_api):
    from tests.integration.test_api_bookings import booked

    handed = []  # one list per request that wrote any
    app.config["DISPATCH"] = handed.append
    # Rows written outside any request (a script, a task) are nobody's to send on.
    book(clinic, clock, start=START + timedelta(hours=4))
    assert customer_api.get("/api/v1/bookings").status_code == 200
    assert handed == []
    made = booked(customer_api, clinic["follow_up"], "2026-11-27T10:00:00+00:00", clinic["ana"])
    assert customer_api.get("/api/v1/bookings").status_code == 200
    cancel = customer_api.post(f"/api/v1/bookings/{made['id']}/cancel", json={})
    assert cancel.status_code == 200
    assert customer_api.get("/api/v1/bookings").status_code == 200
    confirmed, cancelled = (
        [n.id for n in rows(booking=made["id"]) if n.kind in kinds]
        for kinds in (("confirmed", "staff_new"), ("cancelled", "staff_cancelled"))
    )
    assert len(confirmed) == len(cancelled) == 2
    assert handed == [confirmed, cancelled]


def test_a_rollback_takes_the_rows_with_it(app, clinic, clock):
    from models import db

    def book_then_fail():
        with db.atomic():
            book(clinic, clock)
            raise RuntimeError("after the booking, before the commit")

    with pytest.raises(RuntimeError):
        book_then_fail()
    assert Booking.select().count() == 0
    assert rows() == []


def test_the_provider_is_not_told_of_what_they_did_themselves(app, clinic, clock):
    made = book(clinic, clock, actor=clinic["ana_user"].id, source="phone")
    assert [(n.kind, n.recipient_id) for n in rows(booking=made.id)] == [
        ("confirmed", clinic["customer"].id)
    ]


def test_a_provider_chooses_what_they_hear(app, clinic, clock):
    NotificationPrefs.create(user=clinic["ana_user"], staff_email_new=False)
    made = book(clinic, clock)
    assert [n.kind for n in rows(booking=made.id)] == ["confirmed"]
    bookings.cancel(
        booking_id=made.id, actor_id=clinic["customer"].id, now=clock(), dispatch=Dispatch()
    )
    assert [n.kind for n in rows(booking=made.id)] == ["confirmed", "cancelled", "staff_cancelled"]


def test_push_and_sms_only_when_the_business_acts_and_the_customer_wants(app, clinic, clock):
    customer = clinic["customer"]
    customer.phone = "+447700900123"
    customer.save()
    NotificationPrefs.create(user=customer, sms=True)
    PushSubscription.create(user=customer, endpoint="https://push.test/a", p256dh="k", auth="a")
    mine = book(clinic, clock)  # the customer booked it: email only
    assert {n.channel for n in rows(booking=mine.id, recipient=customer.id)} == {"email"}
    bookings.cancel(
        booking_id=mine.id,
        actor_id=clinic["owner"].id,
        now=clock(),
        reason="Ana is ill",
        dispatch=Dispatch(),
    )
    cancelled = rows(booking=mine.id, kind="cancelled")
    assert sorted(n.channel for n in cancelled) == ["email", "push", "sms"]
    assert all(n.details["reason"] == "Ana is ill" for n in cancelled)


# --- email and its invitation ------------------------------------------------------------


def test_confirmation_email_carries_a_valid_invitation(app, clinic, clock, channels):
    made = book(clinic, clock)
    assert set(deliver_all(channels, clock()).values()) == {"sent"}
    to_customer, to_ana = sent_mail(channels)
    assert to_customer["To"] == "casey@example.com"
    assert to_customer["Subject"] == "Booked: Follow-up, Fri 27 Nov at 10:00"
    text = to_customer.get_body(("plain",)).get_content()
    assert f"https://kairos.example/appointments/{made.id}" in text
    assert "Free cancellation until Thu 26 Nov, 10:00." in text  # the 24 h window
    cal = calendar_of(to_customer)
    assert cal["METHOD"] == "REQUEST"
    event = cal.walk("VEVENT")[0]
    assert str(event["UID"]) == f"booking-{made.id}@kairos"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == START
    assert str(event["ORGANIZER"]) == "mailto:bookings@kairos.test"
    assert str(event["ATTENDEE"]) == "mailto:casey@example.com"
    assert any(p.get_filename() == "invite.ics" for p in to_customer.iter_attachments())
    (row,) = rows(kind="confirmed")
    assert to_customer["Message-ID"] == f"<notification-{row.id}.confirmed@kairos.test>"
    assert row.status == "sent"
    assert row.sent_at == clock()
    assert row.attempts == 1
    assert to_ana["Subject"] == "New booking: Casey Morgan, Fri 27 Nov at 10:00"
    ana_text = to_ana.get_body(("plain",)).get_content()
    assert f"https://kairos.example/w/clinic/bookings/{made.id}" in ana_text
    assert "text/calendar" not in {p.get_content_type() for p in to_ana.walk()}


def test_moving_and_cancelling_update_the_same_calendar_event(app, clinic, clock, channels):
    made = book(clinic, clock)
    moved = bookings.reschedule(
        booking_id=made.id,
        actor_id=clinic["customer"].id,
        start=START + timedelta(hours=1),
        now=clock(),
        dispatch=Dispatch(),
    )
    bookings.cancel(
        booking_id=moved.id,
        actor_id=clinic["owner"].id,
        now=clock(),
        reason="Flooded clinic",
        dispatch=Dispatch(),
    )
    deliver_all(channels, clock())
    to_casey = [m for m in sent_mail(channels) if m["To"] == "casey@example.com"]
    by_subject = {m["Subject"].split(":")[0]: m for m in to_casey}
    assert set(by_subject) == {"Booked", "Moved", "Cancelled"}
    uids = {str(event_of(m)["UID"]) for m in to_casey}
    assert uids == {f"booking-{made.id}@kairos"}
    assert [event_of(by_subject[k])["SEQUENCE"] for k in ("Booked", "Moved", "Cancelled")] == [
        0,
        1,
        2,
    ]
    assert calendar_of(by_subject["Moved"])["METHOD"] == "REQUEST"
    assert event_of(by_subject["Moved"]).decoded("DTSTART") == START + timedelta(hours=1)
    assert calendar_of(by_subject["Cancelled"])["METHOD"] == "CANCEL"
    assert event_of(by_subject["Cancelled"])["STATUS"] == "CANCELLED"
    text = by_subject["Cancelled"].get_body(("plain",)).get_content()
    assert "Clinic cancelled your Follow-up on Fri 27 Nov at 11:00." in text
    assert "Flooded clinic" in text
    moved_text = by_subject["Moved"].get_body(("plain",)).get_content()
    assert "You moved your Follow-up to Fri 27 Nov at 11:00" in moved_text
    assert "It was Fri 27 Nov at 10:00" in moved_text


def test_a_customer_elsewhere_sees_their_own_clock_too(app, clinic, clock, channels):
    customer = clinic["customer"]
    customer.timezone = "America/New_York"
    customer.save()
    book(clinic, clock)
    deliver_all(channels, clock())
    (to_casey,) = [m for m in sent_mail(channels) if m["To"] == "casey@example.com"]
    text = to_casey.get_body(("plain",)).get_content()
    assert "Fri 27 Nov at 10:00 London time (Fri 27 Nov at 05:00 in New York)" in text


def test_a_row_is_sent_once_however_often_it_is_delivered(app, clinic, clock, channels):
    book(clinic, clock)
    first = rows()[0]
    assert delivery.deliver(first.id, channels, clock()) == "sent"
    assert delivery.deliver(first.id, channels, clock()) is None
    assert len(sent_mail(channels)) == 1


def test_smtp_down_then_up(app, clinic, clock, tmp_path):
    from tests.standins.smtp import SmtpStandIn

    with SmtpStandIn() as server:
        settings = Settings(
            secret_key="x", smtp_host="127.0.0.1", smtp_port=server.port, env="testing"
        )
        live = delivery.Channels(
            mail=MailConfig(settings), sms=ConsoleSms(), base_url="https://kairos.example"
        )
        server.stop()
        made = book(clinic, clock)  # the booking stands, whatever the mail server does
        assert Booking.get_by_id(made.id).status == "confirmed"
        assert set(deliver_all(live, clock()).values()) == {"queued"}
        waiting = rows()[0]
        assert waiting.attempts == 1
        assert "Connection refused" in waiting.last_error
        assert waiting.due_at == clock() + timedelta(seconds=30)
        assert delivery.deliver(waiting.id, live, clock()) is None  # not due yet
        clock.advance(seconds=30)
        assert set(deliver_all(live, clock()).values()) == {"queued"}
        assert rows()[0].due_at == clock() + timedelta(seconds=60)  # twice as long
        server.start()
        clock.advance(seconds=60)
        assert set(deliver_all(live, clock()).values()) == {"sent"}
        assert len(server.wait_for(2)) == 2
        assert rows()[0].last_error == ""


def test_permanent_failures_are_recorded(app, clinic, clock, channels):
    made = book(clinic, clock)
    first = rows(booking=made.id)[0]
    for attempt in range(delivery.MAX_ATTEMPTS):
        Notification.update(status="queued", due_at=clock()).where(
            Notification.id == first.id
        ).execute()
        channels.mail = MailConfig(Settings(secret_key="x", smtp_host="127.0.0.1", smtp_port=9))
        status = delivery.deliver(first.id, channels, clock())
        assert status == ("failed" if attempt == delivery.MAX_ATTEMPTS - 1 else "queued")
    failed = Notification.get_by_id(first.id)
    assert failed.status == "failed"
    assert failed.attempts == delivery.MAX_ATTEMPTS


def test_the_sweep_requeues_what_a_dead_worker_left(app, clinic, clock, channels):
    book(clinic, clock)
    cut, lost = rows()
    Notification.update(status="sending", claimed_at=clock()).where(
        Notification.id == cut.id
    ).execute()
    assert delivery.waiting(clock() + timedelta(minutes=1), channels) == []
    later = clock() + timedelta(minutes=6)
    assert sorted(delivery.waiting(later, channels)) == sorted([cut.id, lost.id])
    assert {n.status for n in rows()} == {"queued"}
    assert delivery.waiting(later, channels) == []  # their new tasks get time first
    assert set(deliver_all(channels, later).values()) == {"sent"}


# --- reminders ----------------------------------------------------------------------------


def test_reminders_24h_and_2h_before_each_once(app, clinic, clock, channels):
    clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    made = book(clinic, clock)
    assert notify.create_reminders(clock()) == []
    clock.now = START - timedelta(hours=24)
    first = notify.create_reminders(clock())
    assert len(first) == 1
    assert notify.create_reminders(clock() + timedelta(minutes=1)) == []
    clock.now = START - timedelta(hours=2)
    second = notify.create_reminders(clock())
    assert len(second) == 1
    assert notify.create_reminders(clock() + timedelta(minutes=30)) == []
    minutes = [n.reminder_minutes for n in rows(booking=made.id, kind="reminder")]
    assert minutes == [1440, 120]
    assert set(deliver_all(channels, clock()).values()) == {"sent"}
    subjects = [m["Subject"] for m in sent_mail(channels) if m["Subject"].startswith("Reminder")]
    assert subjects == [
        "Reminder: Follow-up tomorrow, Fri 27 Nov at 10:00",
        "Reminder: Follow-up today, Fri 27 Nov at 10:00",
    ]


def test_a_worker_back_late_sends_only_the_nearest_reminder(app, clinic, clock):
    clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    made = book(clinic, clock)
    clock.now = START - timedelta(minutes=90)  # down since before the 24 h mark
    notify.create_reminders(clock())
    assert [n.reminder_minutes for n in rows(booking=made.id, kind="reminder")] == [120]


def test_no_reminder_for_a_booking_made_after_its_time(app, clinic, clock):
    clock.now = START - timedelta(hours=5)
    made = book(clinic, clock)
    notify.create_reminders(clock())
    (late,) = rows(booking=made.id, kind="reminder")
    assert late.status == "skipped"
    assert late.reminder_minutes == 1440
    clock.now = START - timedelta(hours=2)
    notify.create_reminders(clock())
    assert [n.status for n in rows(booking=made.id, kind="reminder")] == ["skipped", "queued"]


def test_cancelled_and_moved_bookings_get_no_stale_reminder(app, clinic, clock, channels):
    clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    cancelled = book(clinic, clock)
    moved = book(clinic, clock, start=START + timedelta(hours=2))
    bookings.cancel(
        booking_id=cancelled.id, actor_id=clinic["customer"].id, now=clock(), dispatch=Dispatch()
    )
    clock.now = START - timedelta(hours=22)  # both inside 24 h now
    notify.create_reminders(clock())
    assert rows(booking=cancelled.id, kind="reminder") == []
    queued = rows(booking=moved.id, kind="reminder")
    assert len(queued) == 1
    # Moved after its reminder was queued, before it went: the old one must not go.
    new = bookings.reschedule(
        booking_id=moved.id,
        actor_id=clinic["owner"].id,
        start=START + timedelta(days=3),
        now=clock(),
        dispatch=Dispatch(),
    )
    assert delivery.deliver(queued[0].id, channels, clock()) == "skipped"
    assert Notification.get_by_id(queued[0].id).last_error == "The booking is cancelled."
    notify.create_reminders(clock())
    assert rows(booking=new.id, kind="reminder") == []  # its new time is days away


def test_reminder_channels_follow_the_customer(app, clinic, clock):
    customer = clinic["customer"]
    customer.phone = "+447700900123"
    customer.save()
    NotificationPrefs.create(user=customer, email_reminders=False, sms=True, push=False)
    clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    made = book(clinic, clock)
    clock.now = START - timedelta(hours=24)
    notify.create_reminders(clock())
    assert [n.channel for n in rows(booking=made.id, kind="reminder")] == ["sms"]


def test_offsets_parse():
    assert notify.parse_offsets("24, 2") == [timedelta(hours=24), timedelta(hours=2)]
    assert notify.parse_offsets("90s,1h,30m") == [
        timedelta(hours=1),
        timedelta(minutes=30),
        timedelta(seconds=90),
    ]
    with pytest.raises(ValueError, match="Not a length"):
        notify.parse_offsets("tomorrow")


# --- push ------------------------------------------------------------------------------------


def test_push_arrives_encrypted_signed_and_a_gone_device_is_removed(app, clinic, clock, channels):
    channels.push_allow_hosts = STANDIN
    with PushService(application_server_key=channels.vapid.public_key) as service:
        phone = service.subscribe("phone")
        tablet = service.subscribe("tablet")
        for info in (phone, tablet):
            push.subscribe(clinic["customer"].id, info, "Phone", clock(), allow_hosts=STANDIN)
        made = book(clinic, clock)
        service.expire(tablet)
        bookings.cancel(
            booking_id=made.id,
            actor_id=clinic["owner"].id,
            now=clock(),
            reason="Ana is ill",
            dispatch=Dispatch(),
        )
        results = deliver_all(channels, clock())
        (delivery,) = service.wait_for(1)
        assert delivery.urgency == "high"
        assert delivery.topic == f"booking-{made.id}"
        assert delivery.ttl == 24 * 3600
        payload = delivery.json()
        assert payload["url"] == f"https://kairos.example/appointments/{made.id}"
        assert payload["title"].startswith("Cancelled: Follow-up")
        assert payload["body"] == "Clinic cancelled your Follow-up on Fri 27 Nov at 10:00."
        assert delivery.claims["sub"] == "mailto:bookings@kairos.test"
    pushes = rows(channel="push")
    assert sorted(results[n.id] for n in pushes) == ["failed", "sent"]
    gone = next(n for n in pushes if results[n.id] == "failed")
    assert Notification.get_by_id(gone.id).last_error == (
        "The push service answered 410: the device unsubscribed."
    )
    assert [d.endpoint for d in PushSubscription.select()] == [phone["endpoint"]]


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8080/push/abc",
        "http://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/push",
        "https://localhost/push",
        "http://fcm.googleapis.com/fcm/send/abc",  # a known service, but not over https
        "https://fcm.googleapis.com:8443/fcm/send/abc",
        "https://fcm.googleapis.com@127.0.0.1/fcm/send/abc",
        "https://127.0.0.1\\@fcm.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com.evil.test/fcm/send/abc",
    ],
)
def test_only_known_push_services_are_accepted_in_every_mode(app, clinic, clock, endpoint):
    info = {"endpoint": endpoint, "keys": {"p256dh": "k", "auth": "a"}}
    with pytest.raises(Invalid, match="not one Kairos can send to"):
        push.subscribe(clinic["customer"].id, info, "", clock())
    assert PushSubscription.select().count() == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://web.push.apple.com/QGuQyavXutnMH",
        "https://wns2-par02p.notify.windows.com/w/?token=abc",
    ],
)
def test_the_known_push_services_are_accepted(app, clinic, clock, endpoint):
    info = {"endpoint": endpoint, "keys": {"p256dh": "k", "auth": "a"}}
    assert push.subscribe(clinic["customer"].id, info, "", clock()).endpoint == endpoint


def test_push_allow_hosts_admits_a_local_push_service(app, clinic, clock):
    info = {"endpoint": "http://127.0.0.1:8080/push/abc", "keys": {"p256dh": "k", "auth": "a"}}
    assert push.subscribe(clinic["customer"].id, info, "", clock(), allow_hosts=STANDIN).id
    assert Settings.from_env({"PUSH_ALLOW_HOSTS": " 127.0.0.1, LocalHost "}).push_allow_hosts == (
        "127.0.0.1",
        "localhost",
    )
    assert Settings.from_env({}).push_allow_hosts == ()


def test_a_device_saved_with_an_internal_address_is_never_posted_to(app, clinic, clock, channels):
    """A row written before the check, or allowed by a setting since taken away."""
    with PushService(application_server_key=channels.vapid.public_key) as service:
        info = service.subscribe("phone")
        PushSubscription.create(
            user=clinic["customer"],
            endpoint=info["endpoint"],
            p256dh=info["keys"]["p256dh"],
            auth=info["keys"]["auth"],
        )
        made = book(clinic, clock)
        bookings.cancel(
            booking_id=made.id,
            actor_id=clinic["owner"].id,
            now=clock(),
            reason="Ana is ill",
            dispatch=Dispatch(),
        )
        (row,) = rows(channel="push")
        assert delivery.deliver(row.id, channels, clock()) == "failed"
        assert service.attempts == []
    failed = Notification.get_by_id(row.id)
    assert failed.last_error == "The device's address is not a known push service."


def test_a_push_service_redirect_is_not_followed(app, clinic, clock, channels):
    channels.push_allow_hosts = STANDIN
    key = channels.vapid.public_key
    with PushService(application_server_key=key) as service, PushService(key) as elsewhere:
        push.subscribe(
            clinic["customer"].id, service.subscribe("phone"), "", clock(), allow_hosts=STANDIN
        )
        made = book(clinic, clock)
        service.redirect_next(elsewhere.subscribe("inside")["endpoint"])
        bookings.cancel(
            booking_id=made.id,
            actor_id=clinic["owner"].id,
            now=clock(),
            reason="Ana is ill",
            dispatch=Dispatch(),
        )
        (row,) = rows(channel="push")
        assert delivery.deliver(row.id, channels, clock()) == "failed"
        assert service.attempts == [("phone", 307)]
        assert elsewhere.attempts == []
    assert Notification.get_by_id(row.id).last_error == "The push service answered 307."


# --- SMS -------------------------------------------------------------------------------------


def test_texts_go_through_twilio_with_the_stop_note(app, clinic, clock, channels):
    customer = clinic["customer"]
    customer.phone = "+447700900123"
    customer.save()
    NotificationPrefs.create(user=customer, sms=True)
    with TwilioStandIn() as twilio:
        channels.sms = TwilioSms(
            twilio.account_sid, twilio.auth_token, "+15005550006", twilio.base_url
        )
        made = book(clinic, clock)
        bookings.reschedule(
            booking_id=made.id,
            actor_id=clinic["owner"].id,
            start=START + timedelta(hours=1),
            now=clock(),
            dispatch=Dispatch(),
        )
        deliver_all(channels, clock())
        (text,) = twilio.wait_for(1)
        assert text.to == "+447700900123"
        assert text.body.startswith("Clinic: Moved: Follow-up, now Fri 27 Nov at 11:00.")
        assert "Reply STOP to opt out." in text.body
        twilio.unsubscribe("+447700900123")
        later = bookings.reschedule(
            booking_id=Booking.get(Booking.status == "confirmed").id,
            actor_id=clinic["owner"].id,
            start=START + timedelta(hours=2),
            now=clock(),
            dispatch=Dispatch(),
        )
        deliver_all(channels, clock())
    (refused,) = rows(booking=later.id, channel="sms")
    assert refused.status == "failed"
    assert refused.last_error == "Twilio answered 400 (error 21610)."  # not Twilio's text


def test_a_deleted_account_is_told_nothing_more_and_its_provider_hears(app, clinic, clock):
    from services.accounts import account as accounts

    customer = clinic["customer"]
    PushSubscription.create(user=customer, endpoint="https://push.test/a", p256dh="k", auth="a")
    made = book(clinic, clock)
    (confirmation,) = rows(booking=made.id, kind="confirmed")
    accounts.delete_account(customer, clock(), dispatch=Dispatch())
    assert Notification.get_by_id(confirmation.id).status == "skipped"
    (told,) = rows(booking=made.id, kind="staff_cancelled")
    assert told.recipient_id == clinic["ana_user"].id
    assert told.details["reason"] == accounts.ACCOUNT_DELETED
    assert rows(booking=made.id, kind="cancelled") == []
    assert PushSubscription.select().count() == 0


def test_the_same_key_twice_is_one_row(app, clinic, clock):
    made = book(clinic, clock)
    person = notify.recipients([clinic["customer"].id])[clinic["customer"].id]
    first, again = notify.BookingNotices(made, clock()), notify.BookingNotices(made, clock())
    for outbox_ in (first, again):
        outbox_.add(person, "email", "reminder", {}, reminder=60)
    assert len(first.write()) == 1
    assert again.write() == []
    assert len(rows(kind="reminder")) == 1


def test_a_reminder_delivered_after_the_start_is_not_sent(app, clinic, clock, channels):
    clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    made = book(clinic, clock)
    clock.now = START - timedelta(hours=2)
    (reminder,) = notify.create_reminders(clock())
    assert delivery.deliver(reminder, channels, START + timedelta(hours=3)) == "skipped"
    assert Notification.get_by_id(reminder).last_error == "The appointment had started."
    assert rows(booking=made.id, status="sent") == []
