"""My appointments through the front door: the lists, a booking's page, cancelling and
moving it within the window, and never anyone else's booking.

The clock stands at Wed 25 Nov 2026, 12:00 in London (GMT); see tests/conftest.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from models import Booking, BookingEvent
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.integration.webpages import (
    csrf_token,
    form_fields,
    parse,
    path_of,
    query,
    sign_in_url,
    text_of,
)

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)  # the frozen clock's start
MON_9 = datetime(2026, 11, 30, 9, tzinfo=UTC)  # free changes until Sun 29 Nov, 09:00
FRI_10 = datetime(2026, 11, 27, 10, tzinfo=UTC)  # free changes until Thu 26 Nov, 10:00
PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}


@pytest.fixture
def customer(client, clinic, signed_in):
    """The test client, signed in as Casey."""
    signed_in(clinic["customer"], client)
    return clinic["customer"]


@pytest.fixture
def rival(clinic):
    return factories.make_user("dana@example.com", "Dana Lee")


def book(clinic, user, start, service="assessment", provider="ana", now=None) -> Booking:
    return bookings.book(
        customer_id=user.id,
        service_id=clinic[service].id,
        start=start,
        provider_id=clinic[provider].id,
        now=now or NOW,
        dispatch=Dispatch(),
    )


def reload(booking: Booking) -> Booking:
    return Booking.get_by_id(booking.id)


def actions(booking: Booking) -> list[tuple[str, int | None, dict]]:
    rows = BookingEvent.select().where(BookingEvent.booking == booking.id).order_by(BookingEvent.id)
    return [(e.action, e.actor_id, json.loads(e.detail)) for e in rows]


def bookings_of(user) -> list[Booking]:
    return list(Booking.select().where(Booking.customer == user.id).order_by(Booking.id))


def slot_times(page) -> list[str]:
    return [a.text for a in page.one("section", class_="slots").find_all("a", class_="slot")]


# --- the lists and a booking's page ----------------------------------------------------


def test_my_appointments_lists_upcoming_first_then_past_and_cancelled(
    client, clinic, customer, rival
):
    later = book(clinic, customer, MON_9)
    sooner = book(clinic, customer, datetime(2026, 11, 26, 10, tzinfo=UTC), "follow_up", "tom")
    past = book(
        clinic,
        customer,
        datetime(2026, 11, 23, 10, tzinfo=UTC),
        now=datetime(2026, 11, 20, 12, tzinfo=UTC),
    )
    dropped = book(clinic, customer, FRI_10, "massage", "tom")
    bookings.cancel(booking_id=dropped.id, actor_id=customer.id, now=NOW, dispatch=Dispatch())
    book(clinic, rival, datetime(2026, 11, 26, 14, tzinfo=UTC))  # not Casey's

    response = client.get("/appointments")

    assert response.status_code == 200
    page = parse(response)
    upcoming = page.one("section", aria_labelledby="upcoming-title")
    cards = [(a.attrs["href"], a.text) for a in upcoming.find_all("a", class_="appt")]
    assert cards == [
        (f"/appointments/{sooner.id}", "Thu 26 Nov 10:00 Follow-up Tom Reed · Clinic"),
        (f"/appointments/{later.id}", "Mon 30 Nov 09:00 Initial assessment Ana Silva · Clinic"),
    ]
    earlier = page.one("section", aria_labelledby="past-title")
    assert earlier.find("h2").text == "Past and cancelled"
    cards = [(a.attrs["href"], a.text) for a in earlier.find_all("a", class_="appt")]
    assert cards == [
        (f"/appointments/{dropped.id}", "Fri 27 Nov 10:00 Sports massage Tom Reed · Clinic"
                                        " cancelled"),
        (f"/appointments/{past.id}", "Mon 23 Nov 10:00 Initial assessment Ana Silva · Clinic"),
    ]  # fmt: skip
    assert "Dana" not in page.text
    assert "14:00" not in page.text


def test_my_appointments_when_there_are_none(client, clinic, customer):
    page = parse(client.get("/appointments"))

    assert "Nothing booked." in page.one("section", aria_labelledby="upcoming-title").text
    assert page.find("section", aria_labelledby="past-title") is None


def test_booking_page_shows_status_service_provider_time_price_and_policy(client, clinic, customer):
    made = book(clinic, customer, MON_9)

    response = client.get(f"/appointments/{made.id}")

    assert response.status_code == 200
    page = parse(response)
    assert page.one("h1").text == "Initial assessment"
    facts = dict(
        zip(
            [dt.text for dt in page.find_all("dt")],
            [dd.text for dd in page.find_all("dd")],
            strict=True,
        )
    )
    assert facts == {
        "Status": "Confirmed",
        "Service": "Initial assessment · 60 min",
        "When": "Mon 30 Nov 2026, 09:00–10:00 London time (GMT)",
        "With": "Ana Silva, Clinic",
        "Price": "£65",
    }
    assert page.one("p", class_="policy").text == "Free cancellation until Sun 29 Nov, 09:00."
    assert page.one("a", href=f"/appointments/{made.id}/move").text == "Move"
    assert page.one("a", href=f"/appointments/{made.id}/cancel").text == "Cancel"
    assert page.one("a", href=f"/appointments/{made.id}/calendar.ics") is not None


def test_booking_page_shows_london_summer_time(client, clinic, customer):
    made = book(clinic, customer, datetime(2027, 4, 6, 8, tzinfo=UTC))  # 09:00 BST

    page = parse(client.get(f"/appointments/{made.id}"))

    assert "Tue 6 Apr 2027, 09:00–10:00 London time (BST)" in page.one("dl", class_="facts").text
    assert page.one("p", class_="policy").text == "Free cancellation until Mon 5 Apr, 09:00."


def _urls(booking_id: int) -> list[tuple[str, str]]:
    base = f"/appointments/{booking_id}"
    return [
        ("GET", base),
        ("GET", f"{base}/confirmed"),
        ("GET", f"{base}/calendar.ics"),
        ("GET", f"{base}/cancel"),
        ("POST", f"{base}/cancel"),
        ("GET", f"{base}/move"),
        ("GET", f"{base}/move/confirm?start=2026-11-30T10:00:00%2B00:00"),
        ("POST", f"{base}/move/confirm"),
    ]


def test_someone_elses_booking_is_not_found_anywhere(client, clinic, customer, rival):
    theirs = book(clinic, rival, MON_9)
    token = csrf_token(client.get("/appointments"))

    for method, url in [*_urls(theirs.id), *_urls(999999)]:
        data = {"csrf_token": token, "reason": "mine now", "start": "2026-11-30T10:00:00+00:00"}
        response = client.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 404, (method, url)
        assert response.mimetype == "text/html"
        assert "Ana Silva" not in text_of(response)

    assert reload(theirs).status == "confirmed"
    assert reload(theirs).start_at == MON_9
    assert [a for a, _, _ in actions(theirs)] == ["booked"]
    assert bookings_of(customer) == []


def test_a_huge_booking_id_is_not_found(client, clinic, customer):
    assert client.get(f"/appointments/{2**70}").status_code == 404


@pytest.mark.parametrize("path", ["", "/{id}", "/{id}/calendar.ics", "/{id}/cancel", "/{id}/move"])
def test_not_signed_in_goes_to_sign_in(app, client, clinic, path):
    made = book(clinic, clinic["customer"], MON_9)
    url = "/appointments" + path.format(id=made.id)

    response = client.get(url)

    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == sign_in_url(app)
    assert query(response.headers["Location"])["next"] == url


def test_signed_out_cancel_post_changes_nothing(app, client, clinic):
    made = book(clinic, clinic["customer"], MON_9)
    token = csrf_token(client.get("/clinic"))

    response = client.post(f"/appointments/{made.id}/cancel", data={"csrf_token": token})

    assert response.status_code == 302
    assert reload(made).status == "confirmed"


# --- cancel --------------------------------------------------------------------------


def test_cancel_page_offers_the_form(client, clinic, customer):
    made = book(clinic, customer, MON_9)

    response = client.get(f"/appointments/{made.id}/cancel")

    assert response.status_code == 200
    page = parse(response)
    assert page.one("h1").text == "Cancel this appointment?"
    assert "Mon 30 Nov 2026, 09:00–10:00" in page.one("dl", class_="facts").text
    form = page.one("form", method="post")
    assert form.find("textarea", name="reason") is not None
    assert form.one("label", for_="reason").text == "Reason (optional)"
    assert form.find("button").text == "Yes, cancel it"


def test_cancel_with_a_reason(client, clinic, customer, clock):
    made = book(clinic, customer, MON_9)
    token = csrf_token(client.get(f"/appointments/{made.id}/cancel"))

    response = client.post(
        f"/appointments/{made.id}/cancel", data={"csrf_token": token, "reason": "Feeling better"}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/appointments/{made.id}"
    cancelled = reload(made)
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "Feeling better")
    assert cancelled.cancelled_by_id == customer.id
    assert cancelled.cancelled_at == clock.now
    assert actions(made)[-1] == ("cancelled", customer.id, {"reason": "Feeling better"})

    page = parse(client.get(response.headers["Location"]))
    assert "Your appointment is cancelled." in page.one(class_="flashes").text
    assert "Status Cancelled" in page.one("dl", class_="facts").text
    assert page.one("p", class_="policy").text == "Cancelled: “Feeling better”."
    assert page.find("a", href=f"/appointments/{made.id}/cancel") is None
    assert page.find("a", href=f"/appointments/{made.id}/move") is None
    # Book again: the same service with the same provider, straight to the times.
    again = next(a.attrs["href"] for a in page.find_all("a") if a.text == "Book again")
    assert again == f"/clinic/book/{clinic['assessment'].id}/when?provider={made.provider_id}"


def test_cancel_without_a_reason(client, clinic, customer):
    made = book(clinic, customer, MON_9)
    token = csrf_token(client.get(f"/appointments/{made.id}/cancel"))

    response = client.post(f"/appointments/{made.id}/cancel", data={"csrf_token": token})

    assert response.status_code == 303
    assert reload(made).status == "cancelled"
    assert parse(client.get(f"/appointments/{made.id}")).one("p", class_="policy").text == (
        "Cancelled."
    )


def test_cancel_without_the_csrf_token_is_refused(client, clinic, customer):
    made = book(clinic, customer, MON_9)

    response = client.post(f"/appointments/{made.id}/cancel", data={"reason": "x"})

    assert response.status_code == 400
    assert reload(made).status == "confirmed"


def test_cancel_twice_is_a_409_and_says_why(client, clinic, customer):
    made = book(clinic, customer, MON_9)
    token = csrf_token(client.get(f"/appointments/{made.id}/cancel"))
    client.post(f"/appointments/{made.id}/cancel", data={"csrf_token": token})
    assert Booking.get_by_id(made.id).status == "cancelled"

    again = client.post(f"/appointments/{made.id}/cancel", data={"csrf_token": token})
    page = parse(client.get(f"/appointments/{made.id}/cancel"))

    assert again.status_code == 409
    assert "This booking is cancelled." in parse(again).one(role="alert").text
    assert page.find("form", method="post") is None
    assert "Online changes were possible" not in page.text  # it is cancelled, not too late
    assert "This appointment is cancelled, so it can't be changed." in page.text
    assert [a for a, _, _ in actions(made)] == ["booked", "cancelled"]


@pytest.fixture
def too_late(clinic, customer, clock) -> Booking:
    """Casey's Monday 09:00, and the clock past the last moment to change it online."""
    made = book(clinic, customer, MON_9)
    clock.now = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
    return made


def test_outside_the_window_no_buttons_and_an_explanation(client, too_late):
    page = parse(client.get(f"/appointments/{too_late.id}"))

    assert page.find("a", href=f"/appointments/{too_late.id}/cancel") is None
    assert page.find("a", href=f"/appointments/{too_late.id}/move") is None
    assert page.one("p", class_="policy").text == "Changes within 24 hours: please contact Clinic."
    cancel_page = parse(client.get(f"/appointments/{too_late.id}/cancel"))
    assert cancel_page.find("form", method="post") is None
    assert "Online changes were possible until Sun 29 Nov, 09:00." in cancel_page.text
    move_page = parse(client.get(f"/appointments/{too_late.id}/move"))
    assert move_page.find("section", class_="slots") is None
    assert "Online changes were possible until Sun 29 Nov, 09:00." in move_page.text


def test_cancel_outside_the_window_is_a_409_and_changes_nothing(client, too_late):
    token = csrf_token(client.get("/appointments"))

    response = client.post(
        f"/appointments/{too_late.id}/cancel", data={"csrf_token": token, "reason": "late"}
    )

    assert response.status_code == 409
    assert parse(response).one(role="alert").text == (
        "Online changes were possible until Sun 29 Nov 2026, 09:00 London time (GMT)."
        " Please contact us directly."
    )
    assert reload(too_late).status == "confirmed"
    assert [a for a, _, _ in actions(too_late)] == ["booked"]


def test_move_outside_the_window_is_a_409_and_changes_nothing(client, customer, too_late):
    token = csrf_token(client.get("/appointments"))
    later = (MON_9 + timedelta(hours=2)).isoformat()

    response = client.post(
        f"/appointments/{too_late.id}/move/confirm", data={"csrf_token": token, "start": later}
    )

    assert response.status_code == 409
    assert "Online changes were possible until Sun 29 Nov 2026, 09:00" in text_of(response)
    assert parse(response).find("form", method="post") is None
    assert reload(too_late).start_at == MON_9
    assert reload(too_late).status == "confirmed"
    assert len(bookings_of(customer)) == 1


# --- move ----------------------------------------------------------------------------


def test_move_picker_counts_the_bookings_own_time_as_free(client, clinic, customer):
    made = book(clinic, customer, FRI_10)  # Ana, 10:00–11:00

    response = client.get(f"/appointments/{made.id}/move?month=2026-11&day=2026-11-27")
    booking_picker = parse(
        client.get(f"/clinic/book/{clinic['assessment'].id}/when?provider={clinic['ana'].id}"
                   "&month=2026-11&day=2026-11-27")
    )  # fmt: skip

    assert response.status_code == 200
    page = parse(response)
    assert page.one("h1").text == "Pick a new time"
    assert "Now: Fri 27 Nov, 10:00 with Ana Silva." in page.text
    assert page.one("h2", id="slots-title").text == "Friday 27 November"
    times = slot_times(page)
    assert {"09:15", "09:45", "10:30", "10:45"} <= set(times)
    assert "10:00" not in times  # where it is now: not a move
    assert not {"09:15", "10:30"} & set(slot_times(booking_picker))  # for others it is busy
    half_past = page.one("a", class_="slot", data_start="2026-11-27T10:30:00+00:00")
    assert path_of(half_past.attrs["href"]) == f"/appointments/{made.id}/move/confirm"
    assert query(half_past.attrs["href"]) == {"start": "2026-11-27T10:30:00+00:00"}
    following = page.one("a", aria_label="Next month")
    assert path_of(following.attrs["href"]) == f"/appointments/{made.id}/move"


def test_move_picker_htmx_partial_is_only_the_picker(client, clinic, customer):
    made = book(clinic, customer, FRI_10)

    response = client.get(f"/appointments/{made.id}/move?month=2026-12", headers=PARTIAL)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert not [tag for tag in ("<html", "<body", "<h1") if tag in html]
    assert parse(response).one("h2", id="month-title").text == "December 2026"
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("args", ["month=2026-13", "day=30-11-2026", "month=9999-12"])
def test_move_picker_bad_input(client, clinic, customer, args):
    made = book(clinic, customer, FRI_10)

    response = client.get(f"/appointments/{made.id}/move?{args}")

    assert response.status_code == 422


def test_move_confirm_shows_from_and_to(client, clinic, customer):
    made = book(clinic, customer, FRI_10)

    response = client.get(f"/appointments/{made.id}/move/confirm?start=2026-11-27T10:30:00%2B00:00")

    assert response.status_code == 200
    page = parse(response)
    assert page.one("h1").text == "Move your appointment?"
    facts = dict(
        zip(
            [dt.text for dt in page.find_all("dt")],
            [dd.text for dd in page.find_all("dd")],
            strict=True,
        )
    )
    assert facts == {
        "From": "Fri 27 Nov, 10:00",
        "To": "Fri 27 Nov, 10:30 London time (GMT)",
        "With": "Ana Silva",
    }
    form = page.one("form", method="post")
    assert form_fields(form)["start"] == "2026-11-27T10:30:00+00:00"
    assert form.find("button").text == "Move it"


def test_move_takes_the_new_time_and_releases_the_old(client, clinic, customer, clock):
    made = book(clinic, customer, FRI_10)
    url = f"/appointments/{made.id}/move/confirm"
    token = csrf_token(client.get(f"{url}?start=2026-11-27T10:30:00%2B00:00"))

    response = client.post(url, data={"csrf_token": token, "start": "2026-11-27T10:30:00+00:00"})

    old, new = bookings_of(customer)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/appointments/{new.id}"
    assert (old.status, old.cancel_reason) == ("cancelled", "rescheduled")
    assert (new.status, new.start_at) == ("confirmed", FRI_10 + timedelta(minutes=30))
    assert new.rescheduled_from_id == old.id
    assert new.provider_id == clinic["ana"].id
    assert new.price_cents == old.price_cents
    assert [a for a, _, _ in actions(old)] == ["booked", "rescheduled"]

    page = parse(client.get(response.headers["Location"]))
    assert "Your appointment has been moved." in page.one(class_="flashes").text
    assert "Fri 27 Nov 2026, 10:30–11:30" in page.one("dl", class_="facts").text
    assert "Confirmed" in page.one("dl", class_="facts").text
    # One appointment that moved: its old page opens it where it is now.
    assert client.get(f"/appointments/{old.id}").headers["Location"] == f"/appointments/{new.id}"


def test_move_onto_a_taken_time_offers_alternatives_and_changes_nothing(
    client, clinic, customer, rival
):
    made = book(clinic, customer, FRI_10)
    url = f"/appointments/{made.id}/move/confirm"
    token = csrf_token(client.get(f"{url}?start=2026-11-27T14:00:00%2B00:00"))
    book(clinic, rival, datetime(2026, 11, 27, 14, tzinfo=UTC))  # meanwhile

    response = client.post(url, data={"csrf_token": token, "start": "2026-11-27T14:00:00+00:00"})

    assert response.status_code == 409
    alert = parse(response).one("section", role="alert")
    assert alert.find("h1").text == "Sorry, that time was just taken"
    assert "Your appointment has not changed." in alert.text
    offered = [(a.text, a.attrs["href"]) for a in alert.find_all("a", class_="slot")]
    assert [text for text, _ in offered] == [
        "Fri 27 Nov, 12:00",
        "Fri 27 Nov, 15:00",
        "Fri 27 Nov, 15:15",
        "Fri 27 Nov, 15:30",
        "Fri 27 Nov, 15:45",
    ]
    assert path_of(offered[1][1]) == url
    assert query(offered[1][1]) == {"start": "2026-11-27T15:00:00+00:00"}
    assert bookings_of(customer) == [made]
    assert (reload(made).status, reload(made).start_at) == ("confirmed", FRI_10)
    assert [a for a, _, _ in actions(made)] == ["booked"]


def test_move_to_a_time_never_offered_is_a_422(client, clinic, customer):
    made = book(clinic, customer, FRI_10)
    url = f"/appointments/{made.id}/move/confirm"
    token = csrf_token(client.get("/appointments"))

    response = client.post(url, data={"csrf_token": token, "start": "2026-11-28T10:00:00+00:00"})

    assert response.status_code == 422
    assert bookings_of(customer) == [made]
    assert reload(made).status == "confirmed"


def test_move_without_the_csrf_token_is_refused(client, clinic, customer):
    made = book(clinic, customer, FRI_10)

    response = client.post(
        f"/appointments/{made.id}/move/confirm", data={"start": "2026-11-27T10:30:00+00:00"}
    )

    assert response.status_code == 400
    assert bookings_of(customer) == [made]


def test_move_picker_opens_on_the_appointments_own_day(client, clinic, customer):
    made = book(clinic, customer, MON_9)  # tomorrow and Friday are free too: not where we open

    page = parse(client.get(f"/appointments/{made.id}/move"))

    assert page.one("h2", id="slots-title").text == "Monday 30 November"
    assert "09:00" not in slot_times(page)  # where it is now is not a move
    assert "09:15" in slot_times(page) or "10:00" in slot_times(page)
