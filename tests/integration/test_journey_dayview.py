"""Choosing a day in the picker (issue 15, items 2 and 8), through the front door: day
links open at the day's times (#slots-title) with and without htmx, "Next available" leads
to the soonest free time from any month, and the service cards name who gives them.

The clock stands at Wed 25 Nov 2026, 12:00 in London (GMT); see tests/conftest.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from services.booking import appointments as bookings
from services.notifications.outbox import Dispatch
from tests import factories
from tests.integration.webpages import parse, path_of, query

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
WED_14 = datetime(2026, 11, 25, 14, tzinfo=UTC)


def when_url(service, provider="any", **args) -> str:
    query_ = "&".join(f"{k}={v}" for k, v in {"provider": provider, **args}.items())
    return f"/clinic/book/{service.id}/when?{query_}"


def shortcut(page):
    return page.one("a", class_="soonest-link")


def opens_at_the_times(link) -> None:
    """Without JavaScript the link opens the page at the day's times; htmx asks for the same
    URL without the fragment, and app.js shows the times (data-show-times)."""
    assert urlsplit(link.attrs["href"]).fragment == "slots-title"
    assert link.attrs["href"] == link.attrs["hx-get"] + "#slots-title"
    assert "data-show-times" in link.attrs


def test_day_links_open_at_the_days_times_whose_heading_takes_focus(client, clinic):
    page = parse(client.get(when_url(clinic["assessment"], clinic["ana"].id)))

    days = page.find_all("a", class_="day")
    assert len(days) == 4
    for link in days:
        opens_at_the_times(link)
    heading = page.one("h2", id="slots-title")
    assert (heading.text, heading.attrs["tabindex"]) == ("Wednesday 25 November", "-1")
    # Following a day link without JavaScript: that day's times, under the same heading.
    thursday = parse(client.get(days[1].attrs["href"]))
    assert thursday.one("h2", id="slots-title").text == "Thursday 26 November"


def test_next_available_from_a_later_month_leads_to_the_soonest_time(client, clinic):
    ana = clinic["ana"].id

    page = parse(client.get(when_url(clinic["assessment"], ana, month="2027-02")))

    assert page.one("h2", id="month-title").text == "February 2027"
    link = shortcut(page)
    # Today at noon Ana's first free hour is 14:00 (see test_journey.py).
    assert link.text == "Next available Wed 25 Nov at 14:00 ›"
    assert link.one(data_start=WED_14.isoformat()).text == "Wed 25 Nov at 14:00"
    opens_at_the_times(link)
    assert query(link.attrs["href"]) == {
        "month": "2026-11",
        "day": "2026-11-25",
        "provider": str(ana),
    }
    assert link.attrs["hx-target"] == "#picker"
    assert link.attrs["hx-push-url"] == "true"

    swapped = parse(client.get(link.attrs["hx-get"], headers=PARTIAL))
    assert swapped.one("h2", id="slots-title").text == "Wednesday 25 November"
    assert swapped.find("a", class_="slot").attrs["data-start"] == WED_14.isoformat()


def test_next_available_is_in_the_htmx_partial_and_on_the_soonest_day_too(client, clinic):
    ana = clinic["ana"].id

    swapped = parse(
        client.get(when_url(clinic["assessment"], ana, day="2026-11-26"), headers=PARTIAL)
    )
    opening = parse(client.get(when_url(clinic["assessment"], ana)))

    assert shortcut(swapped).text == "Next available Wed 25 Nov at 14:00 ›"
    assert shortcut(opening).text == "Next available Wed 25 Nov at 14:00 ›"


def test_next_available_looks_past_a_month_with_nothing_left(client, clinic, clock):
    clock.now = datetime(2026, 11, 30, 17, tzinfo=UTC)  # Monday evening, the last weekday

    page = parse(client.get(when_url(clinic["assessment"], clinic["ana"].id, month="2026-11")))

    assert page.one("h2", id="slots-title").text == "No free times this month"
    assert shortcut(page).text == "Next available Tue 1 Dec at 09:00 ›"
    assert query(shortcut(page).attrs["href"])["day"] == "2026-12-01"


def test_next_available_is_left_out_when_nothing_is_free(client, clinic):
    nobody = factories.make_provider(clinic["org"], "Nia Away", weekdays=[])
    closed = factories.make_service(clinic["org"], [nobody], "Closed for now", 30)

    page = parse(client.get(when_url(closed, nobody.id)))

    assert page.find("a", class_="soonest-link") is None
    assert page.one("h2", id="slots-title").text == "No free times this month"


def test_moving_a_booking_next_available_is_not_where_it_is_now(client, clinic, signed_in):
    signed_in(clinic["customer"], client)
    clinic["assessment"].cancellation_window_hours = 0  # movable until it starts
    clinic["assessment"].save()
    made = bookings.book(
        customer_id=clinic["customer"].id,
        service_id=clinic["assessment"].id,
        start=WED_14,
        provider_id=clinic["ana"].id,
        now=datetime(2026, 11, 25, 12, tzinfo=UTC),
        dispatch=Dispatch(),
    )

    page = parse(client.get(f"/appointments/{made.id}/move?month=2026-12"))

    link = shortcut(page)
    assert link.text == "Next available Wed 25 Nov at 14:15 ›"  # its own time counts as free
    assert path_of(link.attrs["href"]) == f"/appointments/{made.id}/move"
    opens_at_the_times(link)


def test_change_time_on_the_review_opens_at_the_days_times(client, clinic):
    start = "2026-11-26T10:00:00%2B00:00"
    page = parse(
        client.get(f"/clinic/book/{clinic['assessment'].id}/review?provider=any&start={start}")
    )

    change = next(a for a in page.find_all("a") if a.text == "Change time")
    assert urlsplit(change.attrs["href"]).fragment == "slots-title"
    assert query(change.attrs["href"])["day"] == "2026-11-26"


@pytest.mark.parametrize(
    ("team", "said"),
    [
        (["Ana Silva"], "with Ana Silva"),
        (["Ana Silva", "Tom Reed"], "with Ana Silva or Tom Reed"),
        (["Ana Silva", "Ida Moss", "Tom Reed"], "with 3 providers"),
        (["Ana Silva", "Ida Moss", "Joe Park", "Tom Reed"], "with 4 providers"),
    ],
)
def test_service_cards_name_who_gives_them(client, clinic, team, said):
    extra = {n: factories.make_provider(clinic["org"], n) for n in ("Ida Moss", "Joe Park")}
    people = {"Ana Silva": clinic["ana"], "Tom Reed": clinic["tom"], **extra}
    factories.make_service(clinic["org"], [people[n] for n in team], "Group class", 60)

    page = parse(client.get("/clinic"))

    card = next(a for a in page.find_all("a", class_="service") if "Group class" in a.text)
    assert card.one(class_="people").text == said
    assert card.find(class_="avatar") is None  # names, not initials


def test_a_service_nobody_gives_now_names_nobody(client, clinic):
    away = factories.make_provider(clinic["org"], "Nia Away")
    factories.make_service(clinic["org"], [away], "Paused", 30)
    away.active = False
    away.save()

    page = parse(client.get("/clinic"))

    card = next(a for a in page.find_all("a", class_="service") if "Paused" in a.text)
    assert card.find(class_="people") is None
