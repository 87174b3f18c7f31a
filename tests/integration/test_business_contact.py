"""How customers reach a business (issue 15): the owner's "Contact and address"
settings, and the address, phone, email, website and map link where a customer needs
them: the booking page, the appointment's pages, the emails and the calendar events."""

from __future__ import annotations

import importlib
import urllib.parse
from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from models import AuditEntry, Organisation, db
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests.integration.test_calendar_feed import feed_url
from tests.integration.test_notifications import channels, deliver_all, sent_mail  # noqa: F401
from tests.integration.test_ws_settings import GOOD, PARTIAL, PATH, submit, text
from tests.integration.webpages import csrf_token, parse

CONTACT = {
    "address": " 12 Harbour Street\r\n\r\nBristol   BS1 4RN \r\n",
    "phone": "0117 496 0000",
    "email": "Hello@HarborPhysio.example.com",
    "website": "www.harborphysio.example.com",
    "directions": "Blue door next to the café;\r\nfirst floor.",
}
KEPT = {
    "address": "12 Harbour Street\nBristol BS1 4RN",
    "phone": "+441174960000",
    "email": "hello@harborphysio.example.com",
    "website": "https://www.harborphysio.example.com",
    "directions": "Blue door next to the café; first floor.",
}
# The settings form, the business staying in London (a phone number is read as written there).
FORM = GOOD | {"timezone": "Europe/London"}
MAP = "https://www.openstreetmap.org/search?query=12+Harbour+Street%2C+Bristol+BS1+4RN"
THU_10 = datetime(2026, 11, 26, 10, tzinfo=UTC)  # 22 hours after the clock: too late to change
FRI_10 = datetime(2026, 11, 27, 10, tzinfo=UTC)


def clinic_org() -> Organisation:
    return Organisation.get(slug="clinic")


def give_contact(**fields) -> None:
    Organisation.update(fields or KEPT).where(Organisation.slug == "clinic").execute()


def contact_of_row() -> dict[str, str]:
    org = clinic_org()
    return {name: getattr(org, name) for name in KEPT}


# The settings --------------------------------------------------------------------------


def test_the_owner_saves_the_contact_details_tidied_and_audited(signed_in, world):
    client = signed_in(world["owner"])
    response = submit(client, FORM | CONTACT)
    assert response.status_code == 303
    assert contact_of_row() == KEPT

    page = parse(client.get(PATH))
    section = page.one("fieldset", id="contact")
    assert section.one("legend").text == "Contact and address"
    assert page.one("textarea", name="address").text == "12 Harbour Street Bristol BS1 4RN"
    assert "12 Harbour Street\nBristol BS1 4RN</textarea>" in text(client.get(PATH))
    phone = page.one("input", name="phone")
    assert (phone.attrs["value"], phone.attrs["type"]) == ("+44 117 496 0000", "tel")
    assert page.one("input", name="email").attrs["type"] == "email"
    assert page.one("input", name="website").attrs["value"] == KEPT["website"]
    assert page.one("textarea", name="directions").text.strip() == KEPT["directions"]

    entry = AuditEntry.get(AuditEntry.action == "settings.changed")
    changes = entry.details["changes"]
    assert changes["Phone"] == ["", "+441174960000"]
    assert changes["Website"] == ["", "https://www.harborphysio.example.com"]
    assert {"Address", "Email", "How to find you"} <= set(changes)
    assert "address, phone, email, website, how to find you" in entry.summary

    # Saving the form again as shown changes nothing; emptying a field removes it.
    assert submit(client, FORM | KEPT).status_code == 303
    assert AuditEntry.select().where(AuditEntry.action == "settings.changed").count() == 1
    assert submit(client, FORM | KEPT | {"phone": " ", "website": ""}).status_code == 303
    assert (clinic_org().phone, clinic_org().website) == ("", "")


def test_a_phone_number_is_read_as_written_in_the_business_s_country(signed_in, world):
    client = signed_in(world["owner"])  # GOOD moves the business to New York
    response = submit(client, GOOD | {"phone": "(212) 736-5000"})
    assert response.status_code == 303
    assert clinic_org().phone == "+12127365000"
    # The same digits are no number in the UK, where the business was.
    london = GOOD | {"timezone": "Europe/London", "phone": "(212) 736-5000"}
    assert submit(client, london).status_code == 422


BAD = [
    ("phone", "12345", "Enter a valid phone number"),
    ("phone", "+44 117 496", "Enter a valid phone number"),
    ("email", "hello@", "Enter a valid email address."),
    ("website", "javascript:alert(1)", "Enter your website's address"),
    ("website", "ftp://files.example.com", "Enter your website's address"),
    ("website", "https://localhost", "Enter your website's address"),
    ("website", "https://example.com/" + "x" * 300, "Use at most 300 characters."),
    ("address", "1\n2\n3\n4\n5\n6\n7", "Use at most 6 lines."),
    ("address", "x" * 301, "Use at most 300 characters (this has 301)."),
    ("directions", "x" * 501, "Use at most 500 characters (this has 501)."),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD)
def test_bad_contact_details_are_a_422_that_keeps_what_was_typed(
    signed_in, world, field, value, message
):
    response = submit(signed_in(world["owner"]), FORM | CONTACT | {field: value})
    assert response.status_code == 422
    page = parse(response)
    assert message in page.one(None, id=f"{field}-error").text
    assert page.one(None, id=field).attrs["aria-invalid"] == "true"
    typed = page.one(None, id=field)
    shown = typed.text if typed.tag == "textarea" else typed.attrs["value"]
    assert shown == " ".join(value.split())  # (the parser collapses white space)
    if field != "phone":
        assert page.one("input", name="phone").attrs["value"] == CONTACT["phone"]
    assert page.one("input", name="business_name").attrs["value"] == "Clinic  North"
    assert contact_of_row() == dict.fromkeys(KEPT, "")  # nothing saved
    assert clinic_org().name == "Clinic"


def test_htmx_gets_the_form_with_the_contact_problem(signed_in, world):
    response = submit(
        signed_in(world["owner"]), GOOD | {"website": "ftp://x.example"}, headers=PARTIAL
    )
    assert response.status_code == 422
    body = text(response)
    assert body.lstrip().startswith("<form")
    assert "Enter your website's address, like https://www.example.com." in body


@pytest.mark.parametrize("who", ["provider", "customer", "other owner"])
def test_only_the_owner_changes_the_contact_details(signed_in, world, who):
    client = signed_in(world[who])
    token = csrf_token(client.get("/"))
    response = client.post(PATH, data=FORM | CONTACT, headers={"X-CSRFToken": token})
    assert response.status_code == 403
    assert contact_of_row() == dict.fromkeys(KEPT, "")


# The pages -----------------------------------------------------------------------------


def contact_links(page) -> dict[str, str]:
    card = page.one("section", class_="contact-card")
    return {a.one("span", class_="contact-kind").text: a.attrs["href"] for a in card.find_all("a")}


def test_the_booking_page_shows_how_to_reach_the_business(client, clinic):
    assert parse(client.get("/clinic")).find("section", class_="contact-card") is None
    give_contact()
    page = parse(client.get("/clinic"))
    card = page.one("section", class_="contact-card")
    assert "12 Harbour Street" in card.text
    assert "Bristol BS1 4RN" in card.text
    assert "Blue door next to the café; first floor." in card.text
    assert contact_links(page) == {
        "Call": "tel:+441174960000",
        "Email": "mailto:hello@harborphysio.example.com",
        "Website": "https://www.harborphysio.example.com",
        "Map": MAP,
    }
    assert "+44 117 496 0000" in card.text
    assert "www.harborphysio.example.com" in card.text
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(MAP).query)
    assert query == {"query": ["12 Harbour Street, Bristol BS1 4RN"]}
    assert page.find("iframe") is None


def test_only_what_was_given_is_shown(client, clinic):
    give_contact(phone="+441174960000")
    page = parse(client.get("/clinic"))
    assert contact_links(page) == {"Call": "tel:+441174960000"}
    assert "Map" not in page.one("section", class_="contact-card").text
    give_contact(phone="", directions="Behind the station.")
    card = parse(client.get("/clinic")).one("section", class_="contact-card")
    assert "Behind the station." in card.text
    assert card.find_all("a") == []


def book(clinic, start) -> int:
    made = bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["assessment"].id,
        provider_id=clinic["ana"].id,
        start=start,
        now=datetime(2026, 11, 25, 12, tzinfo=UTC),
        dispatch=Dispatch(),
    )
    return made.id


def test_the_confirmation_names_the_ways_to_reach_them_when_it_is_too_late(signed_in, clinic):
    give_contact()
    booking_id = book(clinic, THU_10)
    client = signed_in(clinic["customer"])
    page_path = f"/appointments/{booking_id}/confirmed"
    page = parse(client.get(page_path))
    policy = page.one("p", class_="policy")
    # (the parser's space before the full stop)
    assert policy.text == "Changes within 24 hours: call us on +44 117 496 0000 ."
    assert "+44 117 496 0000</a>.</p>" in client.get(page_path).get_data(True)
    hrefs = [a.attrs["href"] for a in policy.find_all("a")]
    assert hrefs == ["tel:+441174960000"]
    assert page.one("section", class_="contact-card").one("h2").text == "Getting there"
    assert contact_links(page)["Map"] == MAP

    detail = parse(client.get(f"/appointments/{booking_id}"))
    assert "call us on +44 117 496 0000" in detail.one("p", class_="policy").text
    assert contact_links(detail)["Call"] == "tel:+441174960000"
    cancel = parse(client.get(f"/appointments/{booking_id}/cancel"))
    assert "To change it now, please call Clinic on +44 117 496 0000" in cancel.text


def test_the_appointment_pages_without_contact_details(signed_in, clinic):
    booking_id = book(clinic, THU_10)
    client = signed_in(clinic["customer"])
    for path in (f"/appointments/{booking_id}/confirmed", f"/appointments/{booking_id}"):
        page = parse(client.get(path))
        assert page.find("section", class_="contact-card") is None
        assert "please contact Clinic." in page.one("p", class_="policy").text
        assert page.find("a", href="tel:") is None


# The emails ----------------------------------------------------------------------------


def test_confirmation_reminder_and_cancellation_emails_carry_the_contact(
    app,
    clinic,
    clock,
    channels,  # noqa: F811
):
    give_contact()
    booking_id = book(clinic, FRI_10)
    bookings.cancel(
        booking_id=booking_id, actor_id=clinic["customer"].id, now=clock(), dispatch=Dispatch()
    )
    deliver_all(channels, clock())
    to_casey = [m for m in sent_mail(channels) if m["To"] == "casey@example.com"]
    assert [m["Subject"].split(":")[0] for m in to_casey] == ["Booked", "Cancelled"]
    for message in to_casey:
        plain = message.get_body(("plain",)).get_content()
        assert "Contact Clinic\n12 Harbour Street\nBristol BS1 4RN\n" in plain
        assert "Phone:   +44 117 496 0000" in plain
        assert "Email:   hello@harborphysio.example.com" in plain
        assert "Website: https://www.harborphysio.example.com" in plain
        assert f"Map:     {MAP}" in plain
        assert "Where:    Clinic, 12 Harbour Street, Bristol BS1 4RN" in plain
        html = parse(message.get_body(("html",)).get_content())
        hrefs = {a.attrs["href"] for a in html.find_all("a")}
        assert {
            "tel:+441174960000",
            "mailto:hello@harborphysio.example.com",
            "https://www.harborphysio.example.com",
            MAP,
        } <= hrefs
    to_ana = [m for m in sent_mail(channels) if m["To"] == "ana@clinic.test"]
    assert to_ana
    assert all("Contact Clinic" not in m.get_body(("plain",)).get_content() for m in to_ana)


def test_a_reminder_carries_the_contact_and_none_without_details(app, clinic, clock, channels):  # noqa: F811
    from services.notifications import outbox as notify

    give_contact(phone="+441174960000")
    book(clinic, FRI_10)
    clock.now = datetime(2026, 11, 26, 10, tzinfo=UTC)
    assert len(notify.create_reminders(clock())) == 1
    deliver_all(channels, clock())
    reminder = next(m for m in sent_mail(channels) if m["Subject"].startswith("Reminder"))
    plain = reminder.get_body(("plain",)).get_content()
    assert "Contact Clinic\nPhone:   +44 117 496 0000\n" in plain
    assert "Email:" not in plain
    assert "Map:" not in plain
    assert "Website:" not in plain
    confirmation = next(m for m in sent_mail(channels) if m["Subject"].startswith("Booked"))
    assert "Contact Clinic" in confirmation.get_body(("plain",)).get_content()


def test_no_contact_block_in_emails_of_a_business_without_details(
    app,
    clinic,
    clock,
    channels,  # noqa: F811
):
    book(clinic, FRI_10)
    deliver_all(channels, clock())
    confirmation = next(m for m in sent_mail(channels) if m["To"] == "casey@example.com")
    assert "Contact Clinic" not in confirmation.get_body(("plain",)).get_content()
    assert "Contact Clinic" not in confirmation.get_body(("html",)).get_content()
    assert "Where:    Clinic\n" in confirmation.get_body(("plain",)).get_content()


# The calendar events ---------------------------------------------------------------------


def location_in(ics: bytes) -> str:
    return str(Calendar.from_ical(ics).walk("VEVENT")[0]["LOCATION"])


def test_an_appointment_s_calendar_event_is_at_the_address(signed_in, clinic):
    booking_id = book(clinic, FRI_10)
    client = signed_in(clinic["customer"])
    assert location_in(client.get(f"/appointments/{booking_id}/calendar.ics").data) == "Clinic"
    give_contact()
    ics = client.get(f"/appointments/{booking_id}/calendar.ics").data
    assert location_in(ics) == "Clinic, 12 Harbour Street, Bristol BS1 4RN"
    page = parse(client.get(f"/appointments/{booking_id}"))
    google = next(a for a in page.find_all("a") if "calendar.google.com" in a.attrs["href"])
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(google.attrs["href"]).query)
    assert query["location"] == ["Clinic, 12 Harbour Street, Bristol BS1 4RN"]


def test_the_email_invitation_is_at_the_address(app, clinic, clock, channels):  # noqa: F811
    give_contact()
    book(clinic, FRI_10)
    deliver_all(channels, clock())
    confirmation = next(m for m in sent_mail(channels) if m["To"] == "casey@example.com")
    (part,) = [p for p in confirmation.walk() if p.get_content_type() == "text/calendar"]
    assert location_in(part.get_content().encode()) == (
        "Clinic, 12 Harbour Street, Bristol BS1 4RN"
    )


def test_a_providers_feed_is_at_the_address_and_changes_with_it(app, world, clinic, clock):
    client = app.test_client()
    path = feed_url(app, clinic["ana_user"], clock)
    first = client.get(path)
    assert location_in(first.data) == "Clinic"
    give_contact()
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200  # the address is part of what the ETag stands for
    assert location_in(again.data) == "Clinic, 12 Harbour Street, Bristol BS1 4RN"


# The migration ---------------------------------------------------------------------------


def test_migration_0020_goes_down_and_up_again(app):
    migration = importlib.import_module("migrations.0020_business_contact")
    with db.connection_context():
        before = {c.name for c in db.get_columns("organisation")}
        assert set(KEPT) <= before
        migration.down(None, db)
        assert not set(KEPT) & {c.name for c in db.get_columns("organisation")}
        migration.up(None, db)
        assert {c.name for c in db.get_columns("organisation")} == before


def test_the_database_refuses_a_website_that_is_not_http(app, clinic):
    from peewee import IntegrityError

    with pytest.raises(IntegrityError), db.atomic():
        give_contact(website="javascript:alert(1)")


def test_the_demo_business_can_be_reached(app):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    org = Organisation.get(slug="demo")
    assert org.address == "12 Harbour Street\nBristol BS1 4RN"
    assert org.phone == "+441174960000"
    assert org.email.endswith(".example.com")
    assert org.website.startswith("https://")
    page = parse(app.test_client().get("/demo"))
    assert contact_links(page)["Call"] == "tel:+441174960000"


def test_a_website_typed_in_capitals_is_kept_as_the_database_wants(signed_in, world):
    client = signed_in(world["owner"])
    response = submit(client, FORM | {"website": "HTTPS://WWW.Harbor.example.com/Book"})
    assert response.status_code == 303
    assert clinic_org().website == "https://WWW.Harbor.example.com/Book"
