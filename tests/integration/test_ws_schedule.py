"""The schedule's day and week views, and their live updates (ETag polling)."""

from datetime import UTC, datetime, timedelta

from models import TimeOff
from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.integration.webpages import parse
from tests.integration.workspace import MON_10

HTMX = {"HX-Request": "true"}


def test_day_shows_hours_bookings_time_off_and_bookable_gaps(signed_in, world, clinic):
    TimeOff.create(
        provider=clinic["ana"],
        start_at=datetime(2026, 11, 30, 15, tzinfo=UTC),
        end_at=datetime(2026, 11, 30, 16, tzinfo=UTC),
        reason="Dentist",
    )
    page = parse(signed_in(world["owner"]).get("/w/clinic?date=2026-11-30"))
    ana, tom = page.find_all("section", class_="ws-column")

    assert "10:00 Casey Morgan" in ana.one("a", class_="ws-booking").text
    assert "Time off 15:00–16:00" in ana.one("div", class_="ws-off").text
    free = [a.text for a in ana.find_all("a", class_="ws-free")]
    # Ana works 9–13 and 14–17; 10–11 is booked, 15–16 is time off.
    assert free == [
        f"+ {t}"
        for t in (
            "09:00",
            "09:30",
            "11:00",
            "11:30",
            "12:00",
            "12:30",
            "14:00",
            "14:30",
            "16:00",
            "16:30",
        )
    ]
    # Tom's massage at 10:00 runs 45 min plus a 10-minute buffer: 10:00–10:55 is taken.
    tom_free = [a.text.removeprefix("+ ") for a in tom.find_all("a", class_="ws-free")]
    assert "10:00" not in tom_free
    assert "10:30" not in tom_free
    assert "11:00" in tom_free
    link = ana.find("a", class_="ws-free")
    assert link.attrs["href"].startswith(f"/w/clinic/bookings/new?provider={world['ana']}&start=")


def test_cancelled_bookings_leave_the_grid_but_are_listed(signed_in, world, clock):
    bookings.cancel(
        booking_id=world["ana's booking"],
        actor_id=world["owner"].id,
        now=clock(),
        dispatch=Dispatch(),
    )
    page = parse(signed_in(world["provider"]).get("/w/clinic?date=2026-11-30"))

    assert page.find("a", class_="ws-booking") is None
    assert "1 cancelled" in page.one("details", class_="ws-cancelled").text
    assert "+ 10:00" in [a.text for a in page.find_all("a", class_="ws-free")]


def test_today_has_a_now_line_and_no_gaps_in_the_past(signed_in, world, clock):
    clock.now = datetime(2026, 11, 30, 11, 40, tzinfo=UTC)
    page = parse(signed_in(world["provider"]).get("/w/clinic"))

    assert "Now, 11:40" in page.one("div", class_="ws-now").text
    free = [a.text for a in page.find_all("a", class_="ws-free")]
    assert free[0] == "+ 11:30"  # the half hour under way can still take a walk-in


def test_week_shows_seven_days_of_one_provider(signed_in, world):
    owner = signed_in(world["owner"])
    page = parse(owner.get(f"/w/clinic/week?date=2026-12-02&provider={world['tom']}"))

    titles = [h.text for h in page.find_all("h3", class_="ws-col-title")]
    assert titles == ["Mon 30", "Tue 1", "Wed 2", "Thu 3", "Fri 4", "Sat 5", "Sun 6"]
    assert "Sports massage" in page.one("a", class_="ws-booking").text
    mon, *_, sun = page.find_all("section", class_="ws-column")
    assert mon.find_all("a", class_="ws-free")
    assert not sun.find_all("a", class_="ws-free")


def test_provider_week_is_their_own(signed_in, world):
    page = parse(signed_in(world["provider"]).get("/w/clinic/week?date=2026-11-30"))
    assert "Initial assessment" in page.one("a", class_="ws-booking").text
    assert page.find("select", id="who") is None  # nobody else to choose


def _poll(client, url):
    first = client.get(url, headers=HTMX)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    return tag, client.get(url, headers=HTMX | {"If-None-Match": tag})


def test_polling_answers_304_until_someone_books(signed_in, world, clinic, clock):
    ana = signed_in(world["provider"])
    tag, again = _poll(ana, "/w/clinic?date=2026-11-30")
    assert again.status_code == 304
    assert again.data == b""

    bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["follow_up"].id,
        start=MON_10 + timedelta(hours=4),
        provider_id=clinic["ana"].id,
        now=clock(),
        dispatch=Dispatch(),
    )
    changed = ana.get("/w/clinic?date=2026-11-30", headers=HTMX | {"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag
    fragment = parse(changed)
    assert fragment.find("html") is None  # just the schedule
    assert len(fragment.find_all("a", class_="ws-booking")) == 2


def test_polling_notices_cancellations_and_time_off(signed_in, world, clinic, clock):
    ana = signed_in(world["provider"])
    tag, _ = _poll(ana, "/w/clinic/week?date=2026-11-30")
    bookings.cancel(
        booking_id=world["ana's booking"],
        actor_id=world["owner"].id,
        now=clock(),
        dispatch=Dispatch(),
    )
    assert (
        ana.get("/w/clinic/week?date=2026-11-30", headers=HTMX | {"If-None-Match": tag}).status_code
        == 200
    )

    tag, _ = _poll(ana, "/w/clinic/week?date=2026-11-30")
    TimeOff.create(provider=clinic["ana"], start_at=MON_10, end_at=MON_10 + timedelta(hours=1))
    assert (
        ana.get("/w/clinic/week?date=2026-11-30", headers=HTMX | {"If-None-Match": tag}).status_code
        == 200
    )


def test_polling_redraws_once_a_minute_for_the_now_line(signed_in, world, clock):
    ana = signed_in(world["provider"])
    tag, _ = _poll(ana, "/w/clinic")
    clock.advance(seconds=30)
    assert ana.get("/w/clinic", headers=HTMX | {"If-None-Match": tag}).status_code in (200, 304)
    clock.advance(minutes=1)
    assert ana.get("/w/clinic", headers=HTMX | {"If-None-Match": tag}).status_code == 200


def test_a_full_page_load_never_gets_304(signed_in, world):
    ana = signed_in(world["provider"])
    tag, _ = _poll(ana, "/w/clinic")
    page = ana.get("/w/clinic", headers={"If-None-Match": tag})
    assert page.status_code == 200
    assert b"<html" in page.data
    assert "ETag" not in page.headers


def test_each_staff_member_gets_their_own_tag(signed_in, world):
    owner_tag, _ = _poll(signed_in(world["owner"]), "/w/clinic")
    ana_tag, _ = _poll(signed_in(world["provider"]), "/w/clinic")
    assert owner_tag != ana_tag


def test_bad_dates_are_a_clear_422(signed_in, world):
    response = signed_in(world["owner"]).get("/w/clinic?date=30-11-2026")
    assert response.status_code == 422
    assert "YYYY-MM-DD" in response.data.decode()


def test_a_new_business_without_providers_gets_an_empty_schedule_not_an_error(signed_in, clock):
    org = factories.make_org("fresh")
    owner = factories.make_owner(org, "new@fresh.test")
    client = signed_in(owner)
    for url in ("/w/fresh", "/w/fresh/week"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "add yourself as a provider" in parse(response).one("div", class_="ws-empty").text
    assert client.get("/w/fresh", headers=HTMX).status_code == 200
