"""Private calendar feeds (issue 14, "Out of Kairos"): the feed read back with icalendar,
its ETag and 304, a new address killing the old one, a provider's feed against the
business's, and who may have which."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from models import Booking, BookingStatus, CalendarFeed, User
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests.conftest import api_client_for
from tests.integration.webpages import csrf_token
from tests.integration.workspace import expect

MATRIX = {
    # route: (anonymous, customer, provider (Ana), owner (no column of their own), other owner)
    "/w/clinic/calendar-feed": (302, 403, 200, 200, 403),
    "/w/elsewhere/calendar-feed": (302, 403, 403, 403, 200),
    "/w/nowhere/calendar-feed": (302, 404, 404, 404, 404),
}

POSTS = {
    # (route, form): as above. A provider has their own feed, an owner the business's.
    ("/w/clinic/calendar-feed/names", "scope=provider&show=y"): (302, 403, 303, 403, 403),
    ("/w/clinic/calendar-feed/names", "scope=business&show=y"): (302, 403, 403, 303, 403),
    ("/w/clinic/calendar-feed/new", "scope=provider"): (302, 403, 303, 403, 403),
    ("/w/clinic/calendar-feed/new", "scope=business"): (302, 403, 403, 303, 403),
    ("/w/clinic/calendar-feed/new", "scope=everyone"): (302, 403, 422, 422, 403),
}


@pytest.mark.parametrize("route", MATRIX)
def test_access_matrix(signed_in, world, route):
    expect(signed_in, world, route, MATRIX[route])


@pytest.mark.parametrize(("route", "form"), POSTS)
def test_posts(signed_in, world, route, form):
    data = dict(pair.split("=", 1) for pair in form.split("&"))
    expect(signed_in, world, route, POSTS[route, form], method="POST", data=data)


def feed_url(app, user, clock) -> str:
    """The user's feed address, as the API hands it out (a path, for the test client)."""
    response = api_client_for(app, user, clock).get("/api/v1/me/calendar-feed")
    assert response.status_code == 200, response.get_data(as_text=True)
    url = response.get_json()["url"]
    assert url.startswith("http")
    assert url.endswith(".ics")
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def book_ana(clinic, clock, start: datetime) -> Booking:
    """A follow-up with Ana for Casey at ``start``."""
    return bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["follow_up"].id,
        provider_id=clinic["ana"].id,
        start=start,
        now=clock(),
        dispatch=Dispatch(),
    )


def uid_of(booking_id: int) -> str:
    return f"booking-{booking_id}@kairos"


def read(client, path: str) -> Calendar:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def events(cal: Calendar) -> dict[str, dict]:
    """The feed's events by UID: summary, status, sequence and start."""
    return {
        str(e["uid"]): {
            "summary": str(e["summary"]),
            "status": str(e["status"]),
            "sequence": int(e["sequence"]),
            "start": e.decoded("dtstart"),
        }
        for e in cal.walk("VEVENT")
    }


def test_a_providers_feed_reads_back_with_her_bookings_only(app, world, clinic, clock):
    path = feed_url(app, clinic["ana_user"], clock)
    cal = read(app.test_client(), path)
    found = events(cal)
    assert found == {
        uid_of(world["ana's booking"]): {
            "summary": "Initial assessment (booked)",
            "status": "CONFIRMED",
            "sequence": 0,
            "start": datetime(2026, 11, 30, 10, tzinfo=UTC),
        }
    }  # Tom's booking at the same time is not hers
    zones = [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")]
    assert zones == ["Europe/London"]
    start = cal.walk("VEVENT")[0]["dtstart"]
    assert start.params["TZID"] == "Europe/London"


def test_a_move_keeps_the_uid_with_a_higher_sequence(app, world, clinic, clock):
    path = feed_url(app, clinic["ana_user"], clock)
    moved = bookings.reschedule(
        booking_id=world["ana's booking"],
        actor_id=clinic["customer"].id,
        start=datetime(2026, 12, 1, 10, tzinfo=UTC),
        now=clock(),
        dispatch=Dispatch(),
    )
    found = events(read(app.test_client(), path))
    uid = uid_of(world["ana's booking"])
    assert moved.id != world["ana's booking"]
    assert list(found) == [uid]
    assert found[uid]["sequence"] == 1
    assert found[uid]["start"] == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert found[uid]["status"] == "CONFIRMED"


def test_customer_names_only_when_chosen_and_never_contacts(app, signed_in, world, clinic, clock):
    User.update(phone="+447700900123").where(User.id == clinic["customer"].id).execute()
    path = feed_url(app, clinic["ana_user"], clock)
    shown = app.test_client().get(path)
    before = shown.get_data(as_text=True)
    assert "Casey" not in before
    ana = signed_in(clinic["ana_user"])
    token = csrf_token(ana.get("/w/clinic/calendar-feed"))
    sent = ana.post(
        "/w/clinic/calendar-feed/names",
        data={"scope": "provider", "show": "y", "csrf_token": token},
    )
    assert sent.status_code == 303
    again = app.test_client().get(path, headers={"If-None-Match": shown.headers["ETag"]})
    assert again.status_code == 200  # the settings are part of the ETag
    body = again.get_data(as_text=True)
    summaries = [v["summary"] for v in events(Calendar.from_ical(body)).values()]
    assert summaries == ["Initial assessment — Casey Morgan"]
    for secret in ("casey@example.com", "7700900123", "@example.com"):
        assert secret not in body


def test_etag_and_304_until_something_changes(app, world, clinic, clock):
    client = app.test_client()
    path = feed_url(app, clinic["ana_user"], clock)
    first = client.get(path)
    tag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    assert "private" in first.headers["Cache-Control"]
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == tag
    book_ana(clinic, clock, datetime(2026, 12, 2, 11, tzinfo=UTC))
    changed = client.get(path, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag
    assert len(events(Calendar.from_ical(changed.data))) == 2


def test_a_new_address_kills_the_old_one(app, signed_in, world, clinic, clock):
    client = app.test_client()
    old = feed_url(app, clinic["ana_user"], clock)
    assert client.get(old).status_code == 200
    ana = signed_in(clinic["ana_user"])
    clock.advance(minutes=1)
    sent = ana.post(
        "/w/clinic/calendar-feed/new",
        data={"scope": "provider", "csrf_token": csrf_token(ana.get("/w/clinic/calendar-feed"))},
    )
    assert sent.status_code == 303
    assert client.get(old).status_code == 404
    new = feed_url(app, clinic["ana_user"], clock)
    assert new != old
    assert client.get(new).status_code == 200
    page = ana.get("/w/clinic/calendar-feed").get_data(as_text=True)
    assert new in page
    assert old not in page
    assert "webcal://" in page
    assert "<svg" in page


def test_an_unknown_token_is_not_found(client, world):
    assert client.get("/cal/" + "x" * 43 + ".ics").status_code == 404
    assert client.get("/cal/.ics").status_code == 404


def test_the_business_feed_has_every_provider(app, signed_in, world, clinic, clock):
    owner = signed_in(clinic["owner"])
    page = owner.get("/w/clinic/calendar-feed").get_data(as_text=True)
    feed = CalendarFeed.get(CalendarFeed.scope == "business")
    assert feed.provider_id is None
    path = next(
        "/cal/" + part.split(".ics")[0] + ".ics"
        for part in page.split("/cal/")[1:]
        if part.split(".ics")[0].replace("-", "").replace("_", "").isalnum()
    )
    summaries = sorted(v["summary"] for v in events(read(app.test_client(), path)).values())
    assert summaries == [
        "Initial assessment (booked) · Ana Silva",
        "Sports massage (booked) · Tom Reed",
    ]


def test_holds_are_tentative_expired_ones_left_out_cancelled_ones_cancelled(
    app, world, clinic, clock
):
    path = feed_url(app, clinic["ana_user"], clock)
    hold = book_ana(clinic, clock, datetime(2026, 12, 2, 11, tzinfo=UTC))
    expired = book_ana(clinic, clock, datetime(2026, 12, 2, 14, tzinfo=UTC))
    Booking.update(status=BookingStatus.PENDING_PAYMENT).where(Booking.id == hold.id).execute()
    Booking.update(status=BookingStatus.EXPIRED).where(Booking.id == expired.id).execute()
    bookings.cancel(
        booking_id=world["ana's booking"],
        actor_id=clinic["customer"].id,
        now=clock(),
        dispatch=Dispatch(),
    )
    found = events(read(app.test_client(), path))
    assert {uid: e["status"] for uid, e in found.items()} == {
        uid_of(world["ana's booking"]): "CANCELLED",
        uid_of(hold.id): "TENTATIVE",
    }
    clock.advance(days=15)  # cancelled a fortnight ago: gone from the feed
    later = events(read(app.test_client(), path))
    assert uid_of(world["ana's booking"]) not in later


def test_only_providers_have_a_feed_through_the_api(app, world, clinic, clock):
    for person in (clinic["customer"], clinic["owner"]):
        response = api_client_for(app, person, clock).get("/api/v1/me/calendar-feed")
        assert response.status_code == 403
    assert CalendarFeed.select().count() == 0
    first = feed_url(app, clinic["ana_user"], clock)
    assert feed_url(app, clinic["ana_user"], clock) == first  # the same feed each time
    assert CalendarFeed.select().count() == 1
