"""The workspace dashboard: access, today's next appointments, a week's figures, the chart."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from models import TimeOff
from tests.integration.test_ws_customers import add_booking
from tests.integration.webpages import parse
from tests.integration.workspace import expect

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}

MATRIX = {
    # route: (anonymous, customer, provider (Ana), owner, owner of another business)
    "/w/clinic/dashboard": (302, 403, 200, 200, 403),
    "/w/clinic/dashboard?week=2026-11-30": (302, 403, 200, 200, 403),
    "/w/clinic/dashboard?week=soon": (302, 403, 422, 422, 403),
    "/w/elsewhere/dashboard": (302, 403, 403, 403, 200),
    "/w/nowhere/dashboard": (302, 404, 404, 404, 404),
}


@pytest.mark.parametrize("route", MATRIX)
def test_access_matrix(signed_in, world, route):
    expect(signed_in, world, route, MATRIX[route])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def figures(response) -> dict[str, list[str]]:
    """The week's figures: each <dt> with the text of its <dd>s."""
    return {
        box.one("dt").text: [dd.text for dd in box.find_all("dd")]
        for box in parse(response).one("dl", class_="db-figures").find_all("div")
    }


def per_day(response) -> list[list[str]]:
    table = parse(response).one("table", class_="db-table")
    return [[c.text for c in tr.children] for tr in table.one("tbody").find_all("tr")]


@pytest.fixture
def busy_week(world, clinic):
    """The week of Mon 30 Nov 2026 (GMT). Besides the world's two Monday 10:00 bookings
    (Ana's assessment £65, 60 min; Tom's massage £55, 45 min): a completed follow-up with
    Ana, a no-show with Tom, a cancelled one, and Ana's assessment half outside her hours;
    Tom is off on Friday."""
    casey, ana, tom = clinic["customer"], clinic["ana"], clinic["tom"]
    follow_up, assessment = clinic["follow_up"], clinic["assessment"]
    add_booking(clinic, ana, follow_up, casey, utc(2026, 12, 1, 14), "completed")
    add_booking(clinic, tom, follow_up, casey, utc(2026, 12, 2, 12), "no_show")
    add_booking(clinic, tom, follow_up, casey, utc(2026, 12, 3, 9), "cancelled")
    add_booking(clinic, ana, assessment, casey, utc(2026, 12, 3, 12, 30))  # 13:00 is lunch
    TimeOff.create(provider=tom, start_at=utc(2026, 12, 4, 9), end_at=utc(2026, 12, 4, 17))
    add_booking(clinic, ana, follow_up, casey, utc(2026, 12, 7, 9))  # the week after


def test_the_owners_week_covers_every_provider(signed_in, world, busy_week):
    response = signed_in(world["owner"]).get("/w/clinic/dashboard?week=2026-11-30")

    assert response.status_code == 200
    # Booked 60 + 45 + 30 + 30 + 30 (of the 60 at lunch) = 195 min; available: Ana
    # 5 × 7 h = 2100 min, Tom 4 × 8 h = 1920 min (off on Friday): 4020 min.
    assert figures(response) == {
        "Bookings": ["5"],
        "Utilisation": ["5%", "3.2 of 67 h booked"],
        "Revenue booked": ["£275"],  # 65 + 55 + 45 + 45 + 65: the cancelled one left out
        "Revenue taken": ["£0", "Paid online and at the venue"],  # test_ws_payments.py
        "No-show rate": ["50%", "1 of 2 marked"],
    }
    assert per_day(response) == [
        ["Mon 30", "2", "12%"],  # 105 of 900 min
        ["Tue 1", "1", "3%"],
        ["Wed 2", "1", "3%"],
        ["Thu 3", "1", "3%"],
        ["Fri 4", "0", "0%"],  # Ana's 420 min; Tom is off
        ["Sat 5", "0", "—"],
        ["Sun 6", "0", "—"],
    ]
    assert "30 Nov – 6 Dec 2026" in parse(response).one("h2", id="week-title").text


def test_a_providers_week_covers_only_them(signed_in, world, busy_week):
    response = signed_in(world["provider"]).get("/w/clinic/dashboard?week=2026-12-02")
    # Ana: 60 + 30 + 30 = 120 of 2100 min; no no-shows among one completed.
    assert figures(response) == {
        "Bookings": ["3"],
        "Utilisation": ["6%", "2 of 35 h booked"],
        "Revenue booked": ["£175"],
        "Revenue taken": ["£0", "Paid online and at the venue"],
        "No-show rate": ["0%", "0 of 1 marked"],
    }
    assert [row[1] for row in per_day(response)] == ["1", "1", "0", "1", "0", "0", "0"]


def test_a_week_with_nothing_marked_has_no_no_show_rate(signed_in, world):
    response = signed_in(world["owner"]).get("/w/clinic/dashboard")
    found = figures(response)
    assert found["Bookings"] == ["0"]
    assert found["Utilisation"][0] == "0%"
    assert found["Revenue booked"] == ["£0"]
    assert found["No-show rate"] == ["—", "None marked yet"]
    assert parse(response).one("h2", id="week-title").text.startswith("This week")


def test_the_chart_is_an_accessible_svg_drawn_on_the_server(signed_in, world, busy_week):
    page = parse(signed_in(world["owner"]).get("/w/clinic/dashboard?week=2026-11-30"))
    svg = page.one("svg", role="img")
    assert svg.attrs["aria-labelledby"] == "chart-svg-title"
    assert svg.one("title", id="chart-svg-title").text == (
        "Bookings per day: Monday 2, Tuesday 1, Wednesday 1, Thursday 1, Friday 0, "
        "Saturday 0, Sunday 0."
    )
    bars = svg.find_all("rect", class_="db-bar")
    assert len(bars) == 4  # a bar for each day with bookings
    heights = [float(b.attrs["height"]) for b in bars]
    assert heights[0] == pytest.approx(2 * heights[1])
    assert heights[1:] == [heights[1]] * 3
    assert "fill=" not in str(svg.attrs)  # colours come from the stylesheet


def test_week_navigation_moves_by_a_week_and_answers_htmx_with_the_week(
    signed_in, world, busy_week
):
    owner = signed_in(world["owner"])
    page = parse(owner.get("/w/clinic/dashboard"))
    following = page.one("a", aria_label="Next week")
    assert following.attrs["href"] == "/w/clinic/dashboard?week=2026-11-30"
    assert following.attrs["hx-push-url"] == "true"
    assert page.one("a", aria_label="Previous week").attrs["href"] == (
        "/w/clinic/dashboard?week=2026-11-16"
    )

    partial = owner.get(following.attrs["href"], headers=PARTIAL)
    html = partial.get_data(as_text=True)
    assert "<html" not in html
    assert "Today at a glance" not in html
    assert figures(partial)["Bookings"] == ["5"]
    back = parse(partial).one("a", class_="button", href="/w/clinic/dashboard")
    assert back.text == "This week"


def test_a_bad_week_is_a_clear_422(signed_in, world):
    response = signed_in(world["owner"]).get("/w/clinic/dashboard?week=2026-13-01")
    assert response.status_code == 422
    assert "Give a date as YYYY-MM-DD." in response.get_data(as_text=True)


def test_today_lists_the_next_appointments(signed_in, world, clinic):
    # Wed 25 Nov 2026, 12:00 GMT.
    casey, ana, tom = clinic["customer"], clinic["ana"], clinic["tom"]
    add_booking(clinic, tom, clinic["follow_up"], casey, utc(2026, 11, 25, 9), "completed")
    add_booking(clinic, ana, clinic["assessment"], casey, utc(2026, 11, 25, 16), "cancelled")
    now_on = add_booking(clinic, tom, clinic["massage"], casey, utc(2026, 11, 25, 11, 30))
    later = add_booking(clinic, ana, clinic["assessment"], casey, utc(2026, 11, 25, 14))
    add_booking(clinic, ana, clinic["assessment"], casey, utc(2026, 11, 26, 9))  # tomorrow

    owner = parse(signed_in(world["owner"]).get("/w/clinic/dashboard"))
    today = owner.one("section", aria_labelledby="today-title")
    assert "2 of 3 appointments still to come." in today.text
    items = today.one("ol").find_all("li")
    assert [li.one("a").attrs["href"] for li in items] == [
        f"/w/clinic/bookings/{now_on.id}",
        f"/w/clinic/bookings/{later.id}",
    ]
    assert items[0].text == "11:30 Casey Morgan Sports massage · Tom Reed Now"
    assert items[1].text == "14:00 Casey Morgan Initial assessment · Ana Silva"

    ana_page = parse(signed_in(world["provider"]).get("/w/clinic/dashboard"))
    mine = ana_page.one("section", aria_labelledby="today-title")
    assert [li.one("a").attrs["href"] for li in mine.one("ol").find_all("li")] == [
        f"/w/clinic/bookings/{later.id}"
    ]


def test_a_quiet_day_says_so(signed_in, world):
    page = parse(signed_in(world["provider"]).get("/w/clinic/dashboard"))
    today = page.one("section", aria_labelledby="today-title")
    assert "No appointments today for you." in today.text
    assert today.find("ol") is None


def test_a_day_that_is_over_says_so(signed_in, world, clinic, clock):
    add_booking(
        clinic, clinic["ana"], clinic["follow_up"], clinic["customer"], utc(2026, 11, 25, 9)
    )
    page = parse(signed_in(world["owner"]).get("/w/clinic/dashboard"))
    assert "Today’s appointment is over." in page.text


def queries_for(client, url: str, caplog) -> int:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        assert client.get(url).status_code == 200
    return sum(1 for r in caplog.records if r.name == "peewee")


def test_figures_take_the_same_few_queries_however_many_bookings(signed_in, world, clinic, caplog):
    owner = signed_in(world["owner"])
    url = "/w/clinic/dashboard?week=2026-11-30"
    before = queries_for(owner, url, caplog)
    for day in range(1, 5):
        for hour in (9, 10, 11, 15):
            add_booking(
                clinic,
                clinic["tom"],
                clinic["follow_up"],
                clinic["customer"],
                utc(2026, 12, day, hour),
            )
    assert figures(owner.get(url))["Bookings"] == ["18"]
    assert queries_for(owner, url, caplog) == before
    assert before <= 13  # with the next day ahead and whether the business is new: one each
