"""Customers entered at the desk are the business's own records (issue 12, finding 1).

The probe: a new business signs up and books a walk-in with an existing person's email.
It must learn nothing about that person's account (no name, no phone, not even whether
there is one), and nothing may land in that account, until the person claims the
booking through the link in the confirmation sent to the address the business typed.

The clock stands at Wed 25 Nov 2026, 12:00 in London (tests/conftest.py).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from peewee import IntegrityError

from models import AccountToken, Booking, Notification, User, db
from services.mail import MailConfig
from services.notifications import delivery
from services.notifications.sms import ConsoleSms
from tests import factories
from tests.integration.test_accounts import (
    body,
    enter_code,
    link_path,
    mails,
    submit,
    text_part,
    use_outbox,
)
from tests.integration.test_business_signup import GOOD as NEW_BUSINESS
from tests.integration.webpages import csrf_token, parse

MON_14 = "2026-11-30T14:00:00+00:00"
MON_15 = "2026-11-30T15:00:00+00:00"
CASEY_PHONE = "+447700900123"


@pytest.fixture
def outbox(app, tmp_path):
    """Account emails (sign-in links) sent by the app."""
    return use_outbox(app, tmp_path)


@pytest.fixture
def channels(app, tmp_path):
    """The worker's way out, with the app's settings (its secret and base URL)."""
    settings = app.config["SETTINGS"]
    return delivery.Channels(
        mail=MailConfig(settings, tmp_path / "notices"),
        sms=ConsoleSms(),
        base_url=settings.base_url.rstrip("/"),
    )


@pytest.fixture
def casey(clinic):
    """An account holder of long standing, with a phone number in her profile."""
    casey = clinic["customer"]
    casey.phone = CASEY_PHONE
    casey.save()
    return casey


@pytest.fixture
def newcomer(app, clinic, outbox):
    """A business that just signed up through the front door, with a provider and a
    service set up (as its owner would in the workspace): its owner's signed-in client."""
    owner = app.test_client()
    form = NEW_BUSINESS | {
        "business_name": "Newcomer",
        "slug": "newcomer",
        "timezone": "Europe/London",
        "currency": "GBP",
    }
    assert submit(owner, "/business/sign-up", form).status_code == 303
    assert enter_code(owner, outbox, NEW_BUSINESS["email"].lower()).status_code == 303
    user = User.by_email(NEW_BUSINESS["email"])
    org = user.memberships.get().organisation
    provider = factories.make_provider(org, "Nia New", user=user)
    service = factories.make_service(org, [provider], "Haircut", 30)
    owner.org, owner.provider, owner.service = org, provider, service
    owner.token = csrf_token(owner.get("/"))
    return owner


def desk(staff, start=MON_14, **customer):
    """Book a new customer at the desk, without JavaScript: the 303, then the page."""
    data = {
        "provider": staff.provider.id,
        "service": staff.service.id,
        "start": start,
        "source": "phone",
        **customer,
    }
    slug = staff.org.slug
    response = staff.post(
        f"/w/{slug}/bookings/new", data=data, headers={"X-CSRFToken": staff.token}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return staff.get(response.headers["Location"])


def post(client, path: str, data: dict | None = None):
    """POST with the session's CSRF token, whatever the page at ``path`` shows."""
    token = csrf_token(client.get("/"))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def flash_of(page) -> str:
    return parse(page).one("p", class_="flash").text


def booked(org, start=MON_14) -> Booking:
    return Booking.get(
        (Booking.organisation == org) & (Booking.start_at == datetime.fromisoformat(start))
    )


def send_notices(channels, clock) -> None:
    """Deliver every queued notification, as the worker would."""
    for row in Notification.select().where(Notification.status == "queued"):
        delivery.deliver(row.id, channels, clock())


def email_to(channels, address: str):
    """The one email sent to ``address`` so far."""
    (message,) = [m for m in mails(channels.mail.outbox) if m["To"] == address]
    return message


def claim_link(channels, clock, address: str) -> str:
    """The link in the email to ``address``, once the notices are sent."""
    send_notices(channels, clock)
    return link_path(email_to(channels, address))


def staff_views(staff, slug: str | None = None) -> str:
    """Everything the business's staff can read about its customers: the list, each
    customer's page and the CSV export."""
    slug = slug or staff.org.slug
    listing = staff.get(f"/w/{slug}/customers")
    pages = [body(listing), staff.get(f"/w/{slug}/customers.csv").get_data(as_text=True)]
    for link in parse(listing).find_all("a"):
        href = link.attrs.get("href", "")
        if href.startswith(f"/w/{slug}/customers/"):
            pages.append(body(staff.get(href)))
    return "\n".join(pages)


def my_appointments(client) -> str:
    return body(client.get("/appointments"))


# The probe ----------------------------------------------------------------------------


def test_a_new_business_booking_an_accounts_email_learns_nothing_and_reaches_nobody(
    newcomer, casey, signed_in, customer_api, channels, clock
):
    page = desk(newcomer, new_name="C Morgan", new_email="Casey@Example.com")

    assert flash_of(page) == "Booked C Morgan for 14:00."
    made = booked(newcomer.org)
    record = User.get_by_id(made.customer_id)
    assert record.id != casey.id
    assert (record.organisation_id, record.email, record.name) == (
        newcomer.org.id,
        "casey@example.com",
        "C Morgan",
    )
    assert (record.password_hash, record.phone, record.claimed_by_id) == (None, None, None)
    seen = staff_views(newcomer)
    assert "C Morgan" in seen
    assert "casey@example.com" in seen
    for secret in ("Casey Morgan", "Casey", "7700", "900123"):
        assert secret not in seen
    # Nothing in Casey's account, on the web or the API.
    assert "Haircut" not in my_appointments(signed_in(casey))
    assert made.id not in [b["id"] for b in customer_api.get("/api/v1/bookings").get_json()]
    # Told: the address typed (the record), and never Casey's account.
    recipients = {n.recipient_id for n in Notification.select()}
    assert casey.id not in recipients
    assert record.id in recipients
    send_notices(channels, clock)
    message = email_to(channels, "casey@example.com")
    assert message["Subject"].startswith("Booked: Haircut")
    assert "Hello C Morgan," in text_part(message)


def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(newcomer, casey):
    with_account = desk(newcomer, MON_14, new_name="Pat Doe", new_email="casey@example.com")
    without = desk(newcomer, MON_15, new_name="Pat Doe", new_email="nobody@example.com")

    assert flash_of(with_account).replace("14:00", "15:00") == flash_of(without)
    csv = newcomer.get("/w/newcomer/customers.csv").get_data(as_text=True).splitlines()
    rows = sorted(line.replace("nobody@", "casey@") for line in csv[1:])
    assert rows[0].split(",")[:3] == rows[1].split(",")[:3] == ["Pat Doe", "casey@example.com", ""]
    first, second = booked(newcomer.org, MON_14), booked(newcomer.org, MON_15)
    assert User.get_by_id(first.customer_id).is_record
    assert User.get_by_id(second.customer_id).is_record


# Claiming through the emailed link ---------------------------------------------------


def test_the_confirmation_carries_a_link_that_adds_the_booking_when_signed_in(
    newcomer, casey, signed_in, customer_api, channels, clock
):
    desk(newcomer, new_name="C Morgan", new_email="casey@example.com")
    send_notices(channels, clock)
    message = email_to(channels, "casey@example.com")
    text = text_part(message)
    assert "Add it to your Kairos account: http://127.0.0.1:5000/account/claim/" in text
    assert "works for 30 days" in text
    link = link_path(message)

    client = signed_in(casey)
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    shown = parse(page)
    assert "Newcomer" in shown.one("p", class_="claim-from").text
    assert "Haircut" in shown.one("ul", class_="claim-list").text
    assert "casey@example.com" in shown.one("p", class_="claim-who").text
    assert "Haircut" not in my_appointments(client)  # opening the link is not enough

    response = submit(client, link, {})
    assert response.status_code == 303
    assert response.headers["Location"] == "/appointments"
    landed = client.get("/appointments")
    assert "Your booking with Newcomer is in your appointments now." in body(landed)
    assert "Haircut" in body(landed)
    made = booked(newcomer.org)
    assert made.id in [b["id"] for b in customer_api.get("/api/v1/bookings").get_json()]
    assert client.get(f"/appointments/{made.id}").status_code == 200
    assert User.get_by_id(made.customer_id).claimed_by_id == casey.id
    # The business still sees only its record.
    seen = staff_views(newcomer)
    assert "C Morgan" in seen
    assert "Casey Morgan" not in seen
    assert "900123" not in seen
    # The link is used up: again, it just leads to the appointments.
    again = client.get(link)
    assert (again.status_code, again.headers["Location"]) == (303, "/appointments")


def test_signed_out_the_link_signs_in_and_comes_back_to_add_it(
    newcomer, casey, client, channels, clock
):
    desk(newcomer, new_name="C Morgan", new_email="casey@example.com")
    link = claim_link(channels, clock, "casey@example.com")

    page = parse(client.get(link))
    sign_in = page.find("form", action="/account/sign-in")
    assert sign_in.one("input", name="email").attrs["value"] == "casey@example.com"
    assert sign_in.one("input", name="next").attrs["value"] == link
    response = submit(
        client,
        "/account/sign-in",
        {"email": "casey@example.com", "password": factories.PASSWORD, "next": link},
        page=link,
    )
    assert (response.status_code, response.headers["Location"]) == (303, link)
    assert "Add to my account" in body(client.get(link))
    assert submit(client, link, {}).status_code == 303
    assert User.get_by_id(booked(newcomer.org).customer_id).claimed_by_id == casey.id
    assert "Haircut" in my_appointments(client)


def test_signing_up_from_the_link_then_adding_it(newcomer, client, channels, clock, outbox):
    desk(newcomer, new_name="Rowan Fresh", new_email="rowan@example.com", new_phone="07911 123456")
    link = claim_link(channels, clock, "rowan@example.com")

    page = parse(client.get(link))
    sign_up = page.find("form", action="/account/sign-up")
    assert sign_up.one("input", name="name").attrs["value"] == "Rowan Fresh"
    assert sign_up.one("input", name="email").attrs["value"] == "rowan@example.com"
    assert sign_up.one("input", name="phone").attrs.get("value", "") == ""  # theirs to give
    response = submit(
        client,
        "/account/sign-up",
        {
            "name": "Rowan Fresh",
            "email": "rowan@example.com",
            "password": "a long new passphrase",
            "next": link,
        },
        page=link,
    )
    assert response.headers["Location"] == "/account/sign-up/code"
    response = enter_code(client, outbox, "rowan@example.com")
    assert (response.status_code, response.headers["Location"]) == (303, link)
    assert submit(client, link, {}).status_code == 303

    account = User.by_email("rowan@example.com")
    record = User.get_by_id(booked(newcomer.org).customer_id)
    assert account.id != record.id
    assert not account.is_record
    assert record.claimed_by_id == account.id
    assert "Haircut" in my_appointments(client)


def test_any_account_holding_the_link_may_add_it_and_only_one_does(
    newcomer, casey, signed_in, channels, clock
):
    """The link proves control of the inbox the business typed; whoever holds it decides
    which account the booking goes to (the page says which one is signed in). After
    that, the link leads nobody else anywhere."""
    desk(newcomer, new_name="C Morgan", new_email="casey@example.com")
    link = claim_link(channels, clock, "casey@example.com")
    dana = signed_in(factories.make_user("dana@example.com", "Dana Lee"))

    assert "dana@example.com" in parse(dana.get(link)).one("p", class_="claim-who").text
    assert submit(dana, link, {}).status_code == 303
    assert "Haircut" in my_appointments(dana)

    taken = signed_in(casey).get(link)
    assert taken.status_code == 409
    assert "Already in a Kairos account" in body(taken)
    assert "Haircut" not in my_appointments(signed_in(casey))
    assert post(signed_in(casey), link).status_code == 409  # nor by posting


def test_a_link_that_does_not_work_is_a_clear_page(
    newcomer, casey, client, signed_in, channels, clock
):
    desk(newcomer, new_name="C Morgan", new_email="casey@example.com")
    link = claim_link(channels, clock, "casey@example.com")
    from services.accounts import claims  # here: the rest of the file runs on older code

    signed = claims._serializer("test-secret").dumps  # ours, but not a claim's shape
    broken = [
        "/account/claim/nonsense",
        link[:-3],  # cut short
        link[:-1] + ("A" if link[-1] != "A" else "B"),  # altered
        "/account/claim/" + "x" * 5000,
        "/account/claim/" + claims._serializer("another key").dumps([1, 0, ""]),
        "/account/claim/" + signed("a string"),
        "/account/claim/" + signed([1, 2]),
        "/account/claim/" + signed(["1", 0, ""]),
        "/account/claim/" + signed([2**70, 0, ""]),
    ]
    for path in broken:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "This link doesn't work" in body(response)
        assert post(signed_in(casey), path).status_code == 404

    clock.advance(days=30)
    expired = client.get(link)
    assert expired.status_code == 410
    assert "This link has expired" in body(expired)
    assert "from Newcomer" in body(expired)
    assert post(signed_in(casey), link).status_code == 410
    assert booked(newcomer.org).customer.claimed_by_id is None


def test_a_link_to_another_address_stops_working_when_the_address_changes(
    newcomer, client, channels, clock
):
    desk(newcomer, new_name="Typo Tess", new_email="tess@exmaple.com")
    link = claim_link(channels, clock, "tess@exmaple.com")
    record = booked(newcomer.org).customer
    User.update(email="tess@example.com").where(User.id == record.id).execute()
    assert client.get(link).status_code == 404


def test_a_garbage_claim_is_refused_by_the_service_too(casey, clock):
    from services.accounts import claims

    with pytest.raises(claims.ClaimLinkInvalid):
        claims.claim("garbage", casey, clock(), "test-secret")


# Within one business, and across two ----------------------------------------------------


def test_the_same_email_again_is_the_businesss_same_record(newcomer):
    desk(newcomer, MON_14, new_name="Joanna Smith", new_email="jo@example.com")
    page = desk(newcomer, MON_15, new_name="Jo Smith", new_email="JO@example.com")

    assert flash_of(page) == "Booked Joanna Smith for 15:00."  # the business's own name for her
    first, second = booked(newcomer.org, MON_14), booked(newcomer.org, MON_15)
    assert first.customer_id == second.customer_id
    assert User.select().where(User.email == "jo@example.com").count() == 1


def test_two_businesses_keep_their_own_records_of_one_email(
    newcomer, world, clinic, signed_in, channels, clock
):
    ana = signed_in(world["provider"])
    ana.org, ana.provider, ana.service = clinic["org"], clinic["ana"], clinic["follow_up"]
    ana.token = csrf_token(ana.get("/"))
    desk(ana, new_name="Pat at the clinic", new_email="pat@example.com")
    desk(newcomer, new_name="Pat at the newcomer", new_email="pat@example.com")

    at_clinic, at_newcomer = booked(clinic["org"]), booked(newcomer.org)
    assert at_clinic.customer_id != at_newcomer.customer_id
    assert "Pat at the newcomer" not in staff_views(signed_in(world["owner"]), "clinic")
    assert "Pat at the clinic" not in staff_views(newcomer)

    # Claiming the newcomer's booking adds that one only.
    send_notices(channels, clock)
    (to_newcomers,) = [
        m
        for m in mails(channels.mail.outbox)
        if m["To"] == "pat@example.com" and "Haircut" in m["Subject"]
    ]
    pat = signed_in(factories.make_user("pat@example.com", "Pat Account"))
    assert submit(pat, link_path(to_newcomers), {}).status_code == 303
    shown = my_appointments(pat)
    assert "Haircut" in shown
    assert "Follow-up" not in shown
    assert User.get_by_id(at_clinic.customer_id).claimed_by_id is None


def test_after_claiming_the_businesss_next_bookings_go_straight_to_the_account(
    newcomer, casey, signed_in, channels, clock
):
    desk(newcomer, MON_14, new_name="C Morgan", new_email="casey@example.com")
    link = claim_link(channels, clock, "casey@example.com")
    client = signed_in(casey)
    submit(client, link, {})

    desk(newcomer, MON_15, new_name="C Morgan", new_email="casey@example.com")

    later = booked(newcomer.org, MON_15)
    assert later.customer_id == booked(newcomer.org, MON_14).customer_id  # the same record
    assert f"/appointments/{later.id}" in my_appointments(client)
    send_notices(channels, clock)
    (confirmation,) = [
        m for m in mails(channels.mail.outbox) if "15:00" in m["Subject"] or "3:00" in m["Subject"]
    ]
    assert "See your booking: http://127.0.0.1:5000/appointments/" in text_part(confirmation)
    assert "/account/claim/" not in text_part(confirmation)


def test_the_claimer_cancels_as_the_customer(newcomer, casey, signed_in, channels, clock):
    desk(newcomer, new_name="C Morgan", new_email="casey@example.com")
    link = claim_link(channels, clock, "casey@example.com")
    client = signed_in(casey)
    submit(client, link, {})
    made = booked(newcomer.org)

    response = submit(
        client, f"/appointments/{made.id}/cancel", {}, page=f"/appointments/{made.id}/cancel"
    )

    assert response.status_code == 303
    assert Booking.get_by_id(made.id).status == "cancelled"
    told = Notification.get((Notification.booking == made.id) & (Notification.kind == "cancelled"))
    assert told.details["by"] == "customer"
    assert told.recipient_id == made.customer_id  # the record's own address


def test_closing_the_account_leaves_the_business_its_record(
    newcomer, casey, signed_in, channels, clock
):
    desk(newcomer, new_name="C Morgan", new_email="casey@example.com")
    link = claim_link(channels, clock, "casey@example.com")
    client = signed_in(casey)
    submit(client, link, {})

    response = submit(client, "/account/delete", {"password": factories.PASSWORD})

    assert response.status_code == 303
    made = booked(newcomer.org)
    assert made.status == "confirmed"  # the business booked it; it still stands
    assert User.get_by_id(made.customer_id).claimed_by_id is None


# A record is never an account ------------------------------------------------------------


def test_a_record_never_signs_in_nor_blocks_an_account(newcomer, client, outbox):
    desk(newcomer, new_name="Rec Ord", new_email="rec@example.com")
    record = booked(newcomer.org).customer

    assert User.by_email("rec@example.com") is None
    assert not record.is_active
    sent_before = len(mails(outbox))  # the newcomer's own sign-up code
    submit(client, "/account/magic", {"email": "rec@example.com"})
    submit(client, "/account/reset", {"email": "rec@example.com"})
    # No link: no account has this address (it is only told so, for a sign-in link).
    sent = [m["Subject"] for m in mails(outbox)[sent_before:]]
    assert sent == ["No Kairos account uses this address"]
    assert AccountToken.select().count() == 0

    response = submit(
        client,
        "/account/sign-up",
        {"name": "Rec Ord", "email": "rec@example.com", "password": "a long new passphrase"},
    )
    assert response.status_code == 303
    assert enter_code(client, outbox, "rec@example.com").status_code == 303  # a code, not
    assert "You already have a Kairos account" not in [m["Subject"] for m in mails(outbox)]
    account = User.by_email("rec@example.com")
    assert account.id != record.id
    assert not account.is_record
    assert booked(newcomer.org).customer_id == record.id  # and nothing moved into it


def test_the_schema_keeps_records_and_accounts_apart(app, clinic, world):
    """The database is the last line: a record has no password, is unique by email
    within its business only, and only a record is ever claimed."""
    clinic_id, elsewhere = clinic["org"].id, world["other owner"].memberships.get().organisation_id

    def refused(**fields) -> bool:
        try:
            with db.atomic():
                User.create(name="X", **fields)
        except IntegrityError:
            return True
        return False

    assert not refused(email="casey@example.com", organisation=clinic_id)  # an account's email
    assert not refused(email="casey@example.com", organisation=elsewhere)  # another business
    assert refused(email="casey@example.com", organisation=clinic_id)  # the same business twice
    assert refused(email="casey@example.com")  # two accounts
    assert refused(email="pw@example.com", organisation=clinic_id, password_hash="x")
    assert refused(email="acc@example.com", claimed_by=clinic["customer"].id)  # an account
    assert not refused(email=None, organisation=clinic_id)  # walk-ins without email:
    assert not refused(email=None, organisation=clinic_id)  # as many as come in
