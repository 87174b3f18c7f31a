"""A moved appointment is one appointment (issue 15, item 6): listed once, its history
reads "Moved from …", and old links open it where it is now; and the plain-English
cancellation line (item 8) on the review, confirmation and appointment pages.

The clock stands at Wed 25 Nov 2026, 12:00 in London (GMT); see tests/conftest.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import Booking, Organisation
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.integration.test_journey import review_url
from tests.integration.test_notifications import channels, deliver_all, sent_mail  # noqa: F401
from tests.integration.webpages import csrf_token, parse, path_of, query

FRI_10 = datetime(2026, 11, 27, 10, tzinfo=UTC)  # changeable until Thu 26 Nov, 10:00
MON_9 = datetime(2026, 11, 30, 9, tzinfo=UTC)
TUE_1_DEC_10 = datetime(2026, 12, 1, 10, tzinfo=UTC)
THU_10 = datetime(2026, 11, 26, 10, tzinfo=UTC)  # 22 hours away: inside the 24-hour window


@pytest.fixture
def customer(client, clinic, signed_in):
    signed_in(clinic["customer"], client)
    return clinic["customer"]


def book(clinic, user, start, service="assessment", provider="ana") -> Booking:
    return bookings.book(
        customer_id=user.id,
        service_id=clinic[service].id,
        start=start,
        provider_id=clinic[provider].id,
        now=datetime(2026, 11, 25, 12, tzinfo=UTC),
        dispatch=Dispatch(),
    )


def move(booking: Booking, start: datetime, actor_id: int, clock) -> Booking:
    return bookings.reschedule(
        booking_id=booking.id, actor_id=actor_id, start=start, now=clock(), dispatch=Dispatch()
    )


def cards(page, section: str) -> list[tuple[str, str]]:
    found = page.find("section", aria_labelledby=section)
    if found is None:
        return []
    return [(a.attrs["href"], a.text) for a in found.find_all("a", class_="appt")]


def history(page) -> list[str]:
    return [li.one("strong").text for li in page.one("ol", class_="history").find_all("li")]


# --- one appointment in the list ------------------------------------------------------


def test_a_moved_appointment_is_listed_once_with_where_it_moved_from(
    client, clinic, customer, clock
):
    made = book(clinic, customer, TUE_1_DEC_10)
    clock.advance(hours=1)
    moved = move(made, datetime(2026, 12, 2, 11, tzinfo=UTC), customer.id, clock)

    page = parse(client.get("/appointments"))

    assert cards(page, "upcoming-title") == [
        (
            f"/appointments/{moved.id}",
            "Wed 2 Dec 11:00 Initial assessment Ana Silva · Clinic Moved from Tue 1 Dec, 10:00",
        )
    ]
    assert cards(page, "past-title") == []  # not also a cancelled one
    assert "cancelled" not in page.one("main").text.lower()


def test_moved_twice_and_staff_moved_are_still_one_appointment(client, clinic, customer, clock):
    made = book(clinic, customer, TUE_1_DEC_10)
    other = book(clinic, customer, FRI_10, "massage", "tom")
    bookings.cancel(booking_id=other.id, actor_id=customer.id, now=clock(), dispatch=Dispatch())
    once = move(made, datetime(2026, 12, 2, 11, tzinfo=UTC), customer.id, clock)
    twice = move(once, datetime(2026, 12, 3, 14, tzinfo=UTC), clinic["owner"].id, clock)

    page = parse(client.get("/appointments"))

    assert [href for href, _ in cards(page, "upcoming-title")] == [f"/appointments/{twice.id}"]
    assert "Moved from Wed 2 Dec, 11:00" in cards(page, "upcoming-title")[0][1]
    # A real cancellation is still listed as one.
    assert cards(page, "past-title") == [
        (
            f"/appointments/{other.id}",
            "Fri 27 Nov 10:00 Sports massage Tom Reed · Clinic cancelled",
        )
    ]


# --- its history ----------------------------------------------------------------------


def test_the_history_reads_moved_from_not_cancelled_and_booked(client, clinic, customer, clock):
    made = book(clinic, customer, TUE_1_DEC_10)
    clock.advance(hours=2, minutes=5)
    once = move(made, datetime(2026, 12, 2, 11, tzinfo=UTC), customer.id, clock)
    clock.advance(days=1)
    twice = move(once, datetime(2026, 12, 3, 14, tzinfo=UTC), clinic["owner"].id, clock)

    page = parse(client.get(f"/appointments/{twice.id}"))

    assert page.one("h2", id="history-title").text == "History"
    lines = [li.text for li in page.one("ol", class_="history").find_all("li")]
    assert lines == [
        "Booked Wed 25 Nov, 12:00",
        "Moved from Tue 1 Dec, 10:00 Wed 25 Nov, 14:05",
        "Moved from Wed 2 Dec, 11:00 Thu 26 Nov, 14:05",
    ]
    assert "Status Confirmed" in page.one("dl", class_="facts").text


def test_the_history_is_on_the_businesss_clock(client, clinic, customer, clock):
    made = book(clinic, customer, datetime(2027, 4, 6, 8, tzinfo=UTC))  # 09:00 BST
    moved = move(made, datetime(2027, 4, 7, 8, tzinfo=UTC), customer.id, clock)

    page = parse(client.get(f"/appointments/{moved.id}"))

    assert history(page) == ["Booked", "Moved from Tue 6 Apr, 09:00"]


def test_a_cancelled_appointments_history_says_cancelled(client, clinic, customer, clock):
    made = book(clinic, customer, TUE_1_DEC_10)
    moved = move(made, datetime(2026, 12, 2, 11, tzinfo=UTC), customer.id, clock)
    bookings.cancel(booking_id=moved.id, actor_id=customer.id, now=clock(), dispatch=Dispatch())

    page = parse(client.get(f"/appointments/{moved.id}"))

    assert history(page) == ["Booked", "Moved from Tue 1 Dec, 10:00", "Cancelled"]
    assert page.one("p", class_="policy").text == "Cancelled."


# --- old links --------------------------------------------------------------------------


def test_old_links_open_the_appointment_where_it_is_now(client, clinic, customer, clock):
    made = book(clinic, customer, TUE_1_DEC_10)
    once = move(made, datetime(2026, 12, 2, 11, tzinfo=UTC), customer.id, clock)
    now = move(once, datetime(2026, 12, 3, 14, tzinfo=UTC), customer.id, clock)
    start = "2026-12-03T15:00:00+00:00"

    for old in (made, once):
        for path, args in [
            ("", {}),
            ("/confirmed", {}),
            ("/cancel", {}),
            ("/move", {"month": "2026-12"}),
            ("/move/confirm", {"start": start}),
        ]:
            response = client.get(f"/appointments/{old.id}{path}", query_string=args)
            assert response.status_code == 303, (old.id, path)
            location = response.headers["Location"]
            assert path_of(location) == f"/appointments/{now.id}{path}"
            assert query(location) == args

    page = parse(client.get(f"/appointments/{made.id}", follow_redirects=True))
    assert "Thu 3 Dec 2026, 14:00–15:00" in page.one("dl", class_="facts").text
    assert "Status Confirmed" in page.one("dl", class_="facts").text
    ics = client.get(f"/appointments/{made.id}/calendar.ics")  # as before: the time now
    assert ics.status_code == 200
    assert b"DTSTART;TZID=Europe/London:20261203T140000" in ics.data


def test_a_form_sent_for_the_old_booking_changes_nothing(client, clinic, customer, clock):
    made = book(clinic, customer, TUE_1_DEC_10)
    moved = move(made, datetime(2026, 12, 2, 11, tzinfo=UTC), customer.id, clock)
    token = csrf_token(client.get("/appointments"))

    response = client.post(f"/appointments/{made.id}/cancel", data={"csrf_token": token})

    assert response.status_code == 409
    assert Booking.get_by_id(moved.id).status == "confirmed"


def test_someone_elses_old_booking_is_still_not_found(client, clinic, customer, clock):
    dana = factories.make_user("dana@example.com", "Dana Lee")
    theirs = book(clinic, dana, TUE_1_DEC_10)
    moved = move(theirs, datetime(2026, 12, 2, 11, tzinfo=UTC), dana.id, clock)

    for booking in (theirs, moved):
        for path in ("", "/confirmed", "/cancel", "/move", "/calendar.ics"):
            response = client.get(f"/appointments/{booking.id}{path}")
            assert response.status_code == 404, (booking.id, path)
            assert "Location" not in response.headers
            assert "Ana Silva" not in response.get_data(as_text=True)


# --- the cancellation line ----------------------------------------------------------------


def give_phone(phone: str = "+441174960000", email: str = "") -> None:
    Organisation.update(phone=phone, email=email).where(Organisation.slug == "clinic").execute()


def policy_html(page_html: str) -> str:
    start = page_html.index('<p class="policy">')
    return page_html[start : page_html.index("</p>", start) + 4]


@pytest.mark.parametrize(
    ("phone", "email", "line"),
    [
        (
            "+441174960000",
            "hello@clinic.example.com",
            'Changes within 24 hours: call us on <a href="tel:+441174960000">+44 117 496 0000</a>.',
        ),
        (
            "",
            "hello@clinic.example.com",
            "Changes within 24 hours: email us at"
            ' <a href="mailto:hello@clinic.example.com">hello@clinic.example.com</a>.',
        ),
        ("", "", "Changes within 24 hours: please contact Clinic."),
    ],
)
def test_inside_the_window_the_line_says_how_to_reach_them(
    client, clinic, customer, phone, email, line
):
    give_phone(phone, email)
    made = book(clinic, customer, THU_10)

    detail = client.get(f"/appointments/{made.id}").get_data(as_text=True)
    confirmed = client.get(f"/appointments/{made.id}/confirmed").get_data(as_text=True)

    assert policy_html(detail) == f'<p class="policy">{line}</p>'
    assert policy_html(confirmed) == f'<p class="policy">{line}</p>'
    review = parse(client.get(review_url(clinic["assessment"], THU_10, clinic["ana"].id)))
    terms = dict(
        zip([dt.text for dt in review.find_all("dt")], review.find_all("dd"), strict=True)
    )["Cancellation"]
    assert terms.text == parse(line.removesuffix(".")).text
    if phone:
        assert terms.one("a").attrs["href"] == "tel:+441174960000"


@pytest.mark.parametrize("phone", ["+441174960000", ""])
def test_outside_the_window_the_line_says_until_when_it_is_free(client, clinic, customer, phone):
    give_phone(phone)
    made = book(clinic, customer, MON_9)

    detail = parse(client.get(f"/appointments/{made.id}"))
    confirmed = parse(client.get(f"/appointments/{made.id}/confirmed"))
    review = parse(client.get(review_url(clinic["assessment"], MON_9, clinic["ana"].id)))

    line = "Free cancellation until Sun 29 Nov, 09:00"
    assert detail.one("p", class_="policy").text == line + "."
    assert confirmed.one("p", class_="policy").text == line + "."
    assert f"Cancellation {line}" in review.one("dl", class_="facts").text
    assert "tel:" not in str([a.attrs for a in detail.one("p", class_="policy").find_all("a")])


def test_a_one_hour_window_reads_one_hour(client, clinic, customer, clock):
    give_phone("", "")
    service = clinic["follow_up"]
    service.cancellation_window_hours = 1
    service.save()
    start = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)

    review = parse(client.get(review_url(service, start, clinic["ana"].id)))

    assert "Cancellation Changes within 1 hour: please contact Clinic" in review.text


@pytest.mark.parametrize(
    ("start", "phone", "line"),
    [
        (MON_9, "+441174960000", "Free cancellation until Sun 29 Nov, 09:00."),
        (THU_10, "+441174960000", "Changes within 24 hours: call us on +44 117 496 0000."),
        (THU_10, "", "Changes within 24 hours: please contact Clinic."),
    ],
)
def test_the_confirmation_email_says_the_same(
    app,
    clinic,
    clock,
    channels,  # noqa: F811
    start,
    phone,
    line,
):
    give_phone(phone)
    book(clinic, clinic["customer"], start)
    clock.advance(hours=12)  # sent late (a retry): as it stood when booked

    deliver_all(channels, clock())

    (to_casey,) = [m for m in sent_mail(channels) if m["To"] == "casey@example.com"]
    assert line in to_casey.get_body(("plain",)).get_content()
    assert line in to_casey.get_body(("html",)).get_content()


# --- the workspace's customer record ------------------------------------------------------


def test_the_customer_record_shows_a_moved_booking_once(client, clinic, signed_in, clock):
    casey = clinic["customer"]
    made = book(clinic, casey, TUE_1_DEC_10)
    moved = move(made, datetime(2026, 12, 2, 11, tzinfo=UTC), clinic["owner"].id, clock)
    owner = signed_in(clinic["owner"])

    page = parse(owner.get(f"/w/clinic/customers/{casey.id}"))

    upcoming = page.one("section", aria_labelledby="upcoming-title")
    assert [a.attrs["href"] for a in upcoming.find_all("a")] == [f"/w/clinic/bookings/{moved.id}"]
    assert "Moved from Tue 1 Dec, 10:00" in upcoming.text
    past = page.one("section", aria_labelledby="past-title")
    assert past.find("a") is None
    assert "No earlier bookings." in past.text


def test_a_staff_members_old_link_opens_the_booking_where_it_is_now(
    client, clinic, signed_in, clock
):
    made = book(clinic, clinic["customer"], TUE_1_DEC_10)
    moved = move(made, datetime(2026, 12, 2, 11, tzinfo=UTC), clinic["owner"].id, clock)
    again = move(moved, datetime(2026, 12, 3, 11, tzinfo=UTC), clinic["owner"].id, clock)
    owner = signed_in(clinic["owner"])

    for old in (made, moved):  # e.g. the "moved" email's link to the booking before
        response = owner.get(f"/w/clinic/bookings/{old.id}")
        assert response.status_code == 302
        assert response.headers["Location"] == f"/w/clinic/bookings/{again.id}"
    assert owner.get(f"/w/clinic/bookings/{again.id}").status_code == 200
