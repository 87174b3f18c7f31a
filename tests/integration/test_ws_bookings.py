"""The booking panel's actions: completed, no-show, undo, cancel with a reason, notes, move."""

from datetime import UTC, datetime

import pytest

from models import Booking, BookingEvent, Note
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests.integration.webpages import csrf_token, parse
from tests.integration.workspace import MON_10

HTMX = {"HX-Request": "true"}


@pytest.fixture
def ana(signed_in, world):
    client = signed_in(world["provider"])
    client.token = csrf_token(client.get("/"))
    return client


def post(client, url, data, htmx=True):
    headers = (HTMX if htmx else {}) | {"X-CSRFToken": client.token}
    return client.post(url, data=data, headers=headers)


def booking_url(world, tail=""):
    return "/w/clinic/bookings/" + str(world["ana's booking"]) + tail


def status_of(world):
    return Booking.get_by_id(world["ana's booking"]).status


def test_marking_waits_for_the_day_and_no_show_for_the_start(ana, world, clock):
    response = post(ana, booking_url(world, "/status"), {"status": "completed"})
    assert response.status_code == 422
    assert (
        "completed from Monday 30 November on" in parse(response).one("p", class_="form-error").text
    )
    assert "Completed" not in parse(ana.get(booking_url(world))).text  # no button yet

    clock.now = datetime(2026, 11, 30, 9, 50, tzinfo=UTC)  # the day, before it starts
    early = post(ana, booking_url(world, "/status"), {"status": "no_show"})
    assert early.status_code == 422
    assert "no-show once it starts, at 10:00" in parse(early).one("p", class_="form-error").text
    buttons = [b.text for b in parse(ana.get(booking_url(world))).find_all("button")]
    assert "Completed" in buttons
    assert "No-show" not in buttons
    assert status_of(world) == "confirmed"

    seen_early = post(ana, booking_url(world, "/status"), {"status": "completed"})
    assert seen_early.status_code == 200
    assert status_of(world) == "completed"


def test_completed_then_undone(ana, world, clock):
    clock.now = MON_10
    response = post(ana, booking_url(world, "/status"), {"status": "completed"})

    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "schedule-changed"
    panel = parse(response)
    assert panel.find("html") is None  # the panel only
    assert "Marked completed." in panel.text
    assert status_of(world) == "completed"

    undone = post(ana, booking_url(world, "/status"), {"status": "confirmed"})
    assert undone.status_code == 200
    assert status_of(world) == "confirmed"
    actions = [
        e.action
        for e in BookingEvent.select().where(BookingEvent.booking == world["ana's booking"])
    ]
    assert actions == ["booked", "completed", "reopened"]


def test_no_show_without_javascript_redirects_back(ana, world, clock):
    clock.now = datetime(2026, 11, 30, 10, 20, tzinfo=UTC)
    response = post(ana, booking_url(world, "/status"), {"status": "no_show"}, htmx=False)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(booking_url(world))
    assert status_of(world) == "no_show"
    assert "Marked as a no-show." in parse(ana.get(booking_url(world))).text


def test_marking_twice_or_nonsense_is_refused(ana, world, clock):
    clock.now = MON_10
    post(ana, booking_url(world, "/status"), {"status": "no_show"})
    again = post(ana, booking_url(world, "/status"), {"status": "completed"})
    assert again.status_code == 409
    assert "already no show" in again.data.decode()
    assert post(ana, booking_url(world, "/status"), {"status": "paid"}).status_code == 422


def test_cancel_needs_a_reason_and_keeps_what_was_typed(ana, world):
    response = post(ana, booking_url(world, "/cancel"), {"reason": "   "})
    assert response.status_code == 422
    assert "Say why" in parse(response).one("p", class_="error").text
    assert status_of(world) == "confirmed"

    too_long = post(ana, booking_url(world, "/cancel"), {"reason": "x" * 501})
    assert too_long.status_code == 422
    assert parse(too_long).one("textarea", name="reason").text == "x" * 501


def test_staff_cancel_inside_the_customers_window(ana, world, clock):
    clock.now = datetime(2026, 11, 30, 9, tzinfo=UTC)  # an hour before: customers can't
    response = post(ana, booking_url(world, "/cancel"), {"reason": "Ana is ill today"})

    assert response.status_code == 200
    booking = Booking.get_by_id(world["ana's booking"])
    assert booking.status == "cancelled"
    assert booking.cancel_reason == "Ana is ill today"
    assert "Ana is ill today" in parse(response).text


def test_notes_are_kept_with_author_and_refused_when_empty(ana, world):
    empty = post(ana, booking_url(world, "/notes"), {"body": "  "})
    assert empty.status_code == 422
    assert "Write the note first." in empty.data.decode()

    response = post(
        ana, booking_url(world, "/notes"), {"body": "Left knee, not right.\nBring shorts."}
    )
    assert response.status_code == 200
    note = Note.get()
    assert (note.customer_id, note.booking_id, note.author_id) == (
        world["ana's customer"],
        world["ana's booking"],
        world["provider"].id,
    )
    notes = parse(response).one("ul", class_="ws-notes").text
    assert "Left knee, not right." in notes
    assert "Ana Silva" in notes


def test_a_note_too_long_keeps_the_text(ana, world):
    response = post(ana, booking_url(world, "/notes"), {"body": "y" * 4001})
    assert response.status_code == 422
    assert parse(response).one("textarea", name="body").text == "y" * 4001
    assert Note.select().count() == 0


def test_move_picker_and_confirm(ana, world):
    picker = parse(ana.get(booking_url(world, "/move")))
    slots = [a.attrs["href"] for a in picker.find_all("a", class_="slot")]
    assert slots
    assert all("/move/confirm?start=" in href for href in slots)

    start = "2026-11-30T11:00:00+00:00"
    confirm = ana.get(booking_url(world, "/move/confirm"), query_string={"start": start})
    assert confirm.status_code == 200
    assert "Move this booking?" in confirm.data.decode()
    moved = post(ana, booking_url(world, "/move/confirm"), {"start": start}, htmx=False)

    assert moved.status_code == 303
    new = Booking.get(Booking.rescheduled_from == world["ana's booking"])
    assert new.start_at == datetime(2026, 11, 30, 11, tzinfo=UTC)
    assert moved.headers["Location"].endswith(f"/w/clinic/bookings/{new.id}")
    assert status_of(world) == "cancelled"


def test_move_onto_a_taken_time_offers_others(ana, world, clinic, clock):
    taken = bookings.book(
        customer_id=world["tom's customer"],
        service_id=clinic["follow_up"].id,
        start=datetime(2026, 11, 30, 14, tzinfo=UTC),
        provider_id=clinic["ana"].id,
        now=clock(),
        dispatch=Dispatch(),
    )
    response = post(
        ana, booking_url(world, "/move/confirm"), {"start": taken.start_at.isoformat()}, htmx=False
    )
    assert response.status_code == 409
    assert parse(response).find_all("a", class_="slot")
    assert status_of(world) == "confirmed"


def test_a_cancelled_booking_offers_no_actions(ana, world, clock):
    bookings.cancel(
        booking_id=world["ana's booking"],
        actor_id=world["owner"].id,
        now=clock(),
        reason="x",
        dispatch=Dispatch(),
    )
    panel = parse(ana.get(booking_url(world)))
    assert panel.find("details", class_="ws-cancel") is None
    assert "Reschedule" not in panel.text
    assert post(ana, booking_url(world, "/cancel"), {"reason": "again"}).status_code == 409
