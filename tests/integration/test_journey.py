"""The customer's booking journey through the front door: organisation → service →
provider → day and time → review → confirm → confirmation, .ics and calendar links.

The clock stands at Wed 25 Nov 2026, 12:00 in London (GMT); see tests/conftest.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from models import Booking
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

LONDON = ZoneInfo("Europe/London")
THU_10 = datetime(2026, 11, 26, 10, tzinfo=UTC)
PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}


@pytest.fixture
def customer(client, clinic, signed_in):
    """The test client, signed in as Casey."""
    signed_in(clinic["customer"], client)
    return clinic["customer"]


@pytest.fixture
def rival(clinic):
    return factories.make_user("dana@example.com", "Dana Lee")


def when_url(service, provider="any", **args) -> str:
    query_ = "&".join(f"{k}={v}" for k, v in {"provider": provider, **args}.items())
    return f"/clinic/book/{service.id}/when?{query_}"


def review_url(service, start: datetime, provider="any") -> str:
    iso = start.astimezone(LONDON).isoformat().replace("+", "%2B")
    return f"/clinic/book/{service.id}/review?provider={provider}&start={iso}"


def same_url(a: str, b: str) -> bool:
    """The same path and query parameters, in any order."""
    return (path_of(a), query(a)) == (path_of(b), query(b))


def day_links(page) -> dict[int, object]:
    return {int(a.text): a for a in page.find_all("a", class_="day")}


def day_cells(page) -> dict[int, object]:
    return {int(e.text): e for e in page.find_all(class_="day")}


def slot_groups(page) -> dict[str, list[str]]:
    """{"Morning": ["09:00", ...], ...} from the slots section of the picker."""
    section = page.one("section", class_="slots")
    groups, current = {}, None
    for element in _walk(section):
        if element.tag == "h3":
            current = groups.setdefault(element.text, [])
        elif element.tag == "a" and "slot" in element.classes:
            current.append(element.text)
    return groups


def _walk(element):
    for child in element.children:
        yield child
        yield from _walk(child)


def confirm(client, service, start: datetime, provider="any", *, token: str | None = None):
    """Load the review page (for its CSRF token) and press "Confirm booking"."""
    if token is None:
        token = csrf_token(client.get(review_url(service, start, provider)))
    return client.post(
        f"/clinic/book/{service.id}/confirm",
        data={"csrf_token": token, "start": start.isoformat(), "provider": provider},
    )


def bookings_of(user) -> list[Booking]:
    return list(Booking.select().where(Booking.customer == user.id).order_by(Booking.id))


# --- the organisation and its services -------------------------------------------------


def test_organisation_lists_services_by_category_with_prices_and_links(client, clinic):
    response = client.get("/clinic")

    assert response.status_code == 200
    page = parse(response)
    sections = {s.find("h2").text: s for s in page.one("main").find_all("section")}
    assert list(sections) == ["Services", "Massage"]
    general = [(a.find("strong").text, a.attrs["href"]) for a in sections["Services"].find_all("a")]
    assert general == [
        ("Follow-up", f"/clinic/book/{clinic['follow_up'].id}"),
        ("Initial assessment", f"/clinic/book/{clinic['assessment'].id}"),
    ]
    assert "£45 30 min" in sections["Services"].text
    assert "£65 60 min" in sections["Services"].text
    massage = sections["Massage"].one("a")
    assert massage.attrs["href"] == f"/clinic/book/{clinic['massage'].id}"
    assert "Sports massage" in massage.text
    assert "£55 45 min" in massage.text
    assert massage.one(class_="people").text == "with Tom Reed"


def test_service_with_several_providers_offers_anyone_available_and_each(client, clinic):
    service = clinic["follow_up"]

    response = client.get(f"/clinic/book/{service.id}")

    assert response.status_code == 200
    choices = [
        (a.find("strong").text, a.attrs["href"])
        for a in parse(response).find_all("a", class_="choice")
    ]
    assert choices == [
        ("Anyone available", when_url(service, "any")),
        ("Ana Silva", when_url(service, clinic["ana"].id)),
        ("Tom Reed", when_url(service, clinic["tom"].id)),
    ]
    assert "30 min · £45" in text_of(response)


def test_service_with_one_provider_goes_straight_to_the_picker(client, clinic):
    service = clinic["assessment"]

    response = client.get(f"/clinic/book/{service.id}")

    assert response.status_code == 302
    assert same_url(response.headers["Location"], when_url(service, clinic["ana"].id))


@pytest.fixture
def spa(app):
    """Another organisation, with a service of its own."""
    org = factories.make_org("spa")
    provider = factories.make_provider(org, "Sol Vega")
    return factories.make_service(org, [provider], "Facial", 60)


@pytest.mark.parametrize(
    "url",
    [
        "/nowhere",
        "/nowhere/book/1",
        "/clinic/book/999999",
        "/clinic/book/99999999999999999999999",
        "/clinic/book/99999999999999999999999/when?provider=any",
        "/clinic/book/{spa}",
        "/clinic/book/{spa}/when?provider=any",
        "/clinic/book/{spa}/review?provider=any&start=2026-11-26T10:00:00%2B00:00",
        "/spa/book/{assessment}",
        "/clinic/book/{inactive}",
    ],
)
def test_unknown_organisation_or_service_is_a_styled_404_page(client, clinic, spa, url):
    inactive = factories.make_service(clinic["org"], [clinic["tom"]], "Retired", 30, active=False)
    url = url.format(spa=spa.id, assessment=clinic["assessment"].id, inactive=inactive.id)

    response = client.get(url)

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = parse(response)
    assert page.find("link", rel="stylesheet") is not None
    assert page.find("h1").text == "We couldn't find that page"


# --- the picker: a month of days and a day's times -------------------------------------


def test_picker_links_days_with_free_times_and_marks_today(client, clinic):
    service = clinic["assessment"]

    response = client.get(when_url(service, clinic["ana"].id))

    assert response.status_code == 200
    page = parse(response)
    assert page.one("h2", id="month-title").text == "November 2026"
    links = day_links(page)
    assert sorted(links) == [25, 26, 27, 30]  # weekdays from today; weekends and the past are off
    cells = day_cells(page)
    for off in [*range(1, 25), 28, 29]:
        assert (cells[off].tag, "off" in cells[off].classes) == ("span", True)
    assert "today" in links[25].classes
    assert [d for d, e in cells.items() if "today" in e.classes] == [25]
    assert "selected" in links[25].classes  # the first free day, by default
    assert links[25].attrs["aria-current"] == "date"
    assert query(links[26].attrs["href"]) == {
        "month": "2026-11",
        "day": "2026-11-26",
        "provider": str(clinic["ana"].id),
    }
    assert links[26].attrs["href"] == links[26].attrs["hx-get"] + "#slots-title"
    assert links[26].attrs["aria-label"] == "Thursday 26 November, 22 times free"
    # Today at noon: 12:00 has just begun, so Ana's afternoon is left (12:15 no longer fits).
    assert slot_groups(page) == {
        "Afternoon": ["14:00", "14:15", "14:30", "14:45", "15:00", "15:15", "15:30",
                      "15:45", "16:00"],
    }  # fmt: skip


def test_picker_today_is_off_when_it_is_too_late_for_any_time(client, clinic, clock):
    clock.advance(hours=4, minutes=5)  # 16:05: Ana's last hour started at 16:00

    page = parse(client.get(when_url(clinic["assessment"], clinic["ana"].id)))

    cells = day_cells(page)
    assert cells[25].tag == "span"
    assert {"day", "off", "today"} <= cells[25].classes
    assert sorted(day_links(page)) == [26, 27, 30]
    assert "selected" in day_links(page)[26].classes
    assert page.one("h2", id="slots-title").text == "Thursday 26 November"


def test_picker_groups_a_day_in_morning_and_afternoon_around_the_lunch_break(client, clinic):
    service = clinic["assessment"]

    response = client.get(when_url(service, clinic["ana"].id, month="2026-11", day="2026-11-26"))

    page = parse(response)
    assert "selected" in day_links(page)[26].classes
    assert "selected" not in day_links(page)[25].classes
    assert page.one("h2", id="slots-title").text == "Thursday 26 November"
    groups = slot_groups(page)
    assert list(groups) == ["Morning", "Afternoon"]
    assert groups["Morning"] == [f"{h:02}:{m:02}" for h in (9, 10, 11) for m in (0, 15, 30, 45)]
    # Ana lunches 13:00–14:00: an hour starting 12:15 to 13:45 would run into it.
    assert groups["Afternoon"] == ["12:00", "14:00", "14:15", "14:30", "14:45", "15:00",
                                   "15:15", "15:30", "15:45", "16:00"]  # fmt: skip
    ten = page.one("a", class_="slot", data_start="2026-11-26T10:00:00+00:00")
    assert same_url(ten.attrs["href"], review_url(service, THU_10, clinic["ana"].id))


def test_picker_shows_london_wall_clock_times_in_summer(client, clinic):
    """In April London is on BST: Ana's 09:00 is 08:00Z, and noon is afternoon."""
    service = clinic["assessment"]

    page = parse(client.get(when_url(service, "any", month="2027-04", day="2027-04-06")))

    assert page.one("h2", id="month-title").text == "April 2027"
    groups = slot_groups(page)
    assert groups["Morning"][0] == "09:00"
    assert groups["Afternoon"][:2] == ["12:00", "14:00"]
    nine = page.one("a", class_="slot", data_start="2027-04-06T08:00:00+00:00")
    assert nine.text == "09:00"
    assert query(nine.attrs["href"])["start"] == "2027-04-06T09:00:00+01:00"
    assert "Times are London time (BST)." in page.one("section", class_="slots").text


def test_picker_has_an_evening_for_late_hours(client, clinic):
    late = factories.make_provider(clinic["org"], "Eve Night", hours=[(time(16), time(20))])
    yoga = factories.make_service(clinic["org"], [late], "Evening yoga", 60)

    page = parse(client.get(when_url(yoga, late.id, month="2026-11", day="2026-11-26")))

    assert slot_groups(page) == {
        "Afternoon": ["16:00", "16:15", "16:30", "16:45"],
        "Evening": ["17:00", "17:15", "17:30", "17:45", "18:00", "18:15", "18:30", "18:45",
                    "19:00"],
    }  # fmt: skip


def test_picker_for_anyone_available_counts_both_providers(client, clinic):
    service = clinic["follow_up"]

    page = parse(client.get(when_url(service, "any", month="2026-11", day="2026-11-26")))

    groups = slot_groups(page)
    # Tom works through Ana's lunch, so "anyone" has 13:00 and 13:30.
    assert {"13:00", "13:30"} <= set(groups["Afternoon"])
    assert groups["Afternoon"][-1] == "16:30"
    lunch = parse(client.get(when_url(service, clinic["ana"].id, day="2026-11-26")))
    assert "13:00" not in slot_groups(lunch)["Afternoon"]


def test_picker_month_navigation(client, clinic):
    service, ana = clinic["assessment"], clinic["ana"].id

    november = parse(client.get(when_url(service, ana)))
    december = parse(client.get(when_url(service, ana, month="2026-12")))

    assert november.find("a", aria_label="Previous month") is None  # nothing before this month
    following = november.one("a", aria_label="Next month")
    assert query(following.attrs["href"]) == {"month": "2026-12", "provider": str(ana)}
    assert following.attrs["hx-get"] == following.attrs["href"]
    assert following.attrs["hx-push-url"] == "true"
    assert december.one("h2", id="month-title").text == "December 2026"
    assert query(december.one("a", aria_label="Previous month").attrs["href"])["month"] == "2026-11"
    assert "selected" in day_links(december)[1].classes  # Tue 1 Dec, the first free day
    assert 25 in day_links(december)  # Christmas is a Friday: free, as no override says not
    assert sorted(day_links(december))[:5] == [1, 2, 3, 4, 7]


def test_picker_stops_at_max_days_ahead(client, clinic):
    """180 days ahead of 25 Nov 2026 is Mon 24 May 2027."""
    service = clinic["assessment"]

    may = parse(client.get(when_url(service, "any", month="2027-05")))
    june = parse(client.get(when_url(service, "any", month="2027-06")))

    assert may.find("a", aria_label="Next month") is None
    assert max(day_links(may)) == 24
    assert june.find("a", aria_label="Next month") is None
    assert day_links(june) == {}
    assert june.one("h2", id="slots-title").text == "No free times this month"


def test_picker_years_ahead_is_an_empty_month(client, clinic):
    response = client.get(when_url(clinic["assessment"], "any", month="2100-01"))

    assert response.status_code == 200
    page = parse(response)
    assert day_links(page) == {}
    assert page.find("a", aria_label="Next month") is None
    assert query(page.one("a", aria_label="Previous month").attrs["href"])["month"] == "2099-12"


def test_picker_opens_on_next_month_when_nothing_is_left_in_this_one(client, clinic, clock):
    clock.now = datetime(2026, 11, 30, 17, tzinfo=UTC)  # Monday evening, the last weekday

    page = parse(client.get(when_url(clinic["assessment"], clinic["ana"].id)))

    assert page.one("h2", id="month-title").text == "December 2026"
    assert "selected" in day_links(page)[1].classes


def test_picker_past_month_shows_this_month(client, clinic):
    page = parse(client.get(when_url(clinic["assessment"], "any", month="2026-01")))

    assert page.one("h2", id="month-title").text == "November 2026"


def test_picker_day_without_times_falls_back_to_the_first_free_day(client, clinic):
    page = parse(client.get(when_url(clinic["assessment"], "any", day="2026-11-28")))  # Sat

    assert page.one("h2", id="slots-title").text == "Wednesday 25 November"


def test_picker_htmx_partial_is_only_the_picker(client, clinic):
    url = when_url(clinic["assessment"], clinic["ana"].id, month="2026-12", day="2026-12-02")

    partial = client.get(url, headers=PARTIAL)
    full = client.get(url)

    assert partial.status_code == 200
    html = partial.get_data(as_text=True)
    assert not [tag for tag in ("<html", "<body", "<h1") if tag in html]
    fragment = parse(partial)
    assert fragment.one("h2", id="month-title").text == "December 2026"
    assert fragment.one("h2", id="slots-title").text == "Wednesday 2 December"
    assert slot_groups(fragment)["Morning"][0] == "09:00"
    assert "HX-Request" in partial.headers["Vary"]

    assert full.status_code == 200
    page = parse(full)
    assert page.find("html") is not None
    assert page.one("h1").text == "Pick a day and time"
    assert page.one("div", id="picker").find("h2", id="slots-title").text == "Wednesday 2 December"
    assert "HX-Request" in full.headers["Vary"]


@pytest.mark.parametrize(
    "headers",
    [
        {"HX-Request": "true", "HX-Request-Type": "full"},  # a boosted page
        {"HX-Request": "true", "HX-Request-Type": "partial", "HX-History-Restore-Request": "true"},
    ],
)
def test_picker_full_page_for_boosted_and_history_restore_requests(client, clinic, headers):
    response = client.get(when_url(clinic["assessment"], "any"), headers=headers)

    assert parse(response).one("h1").text == "Pick a day and time"


@pytest.mark.parametrize(
    "args",
    [
        {"month": "2026-13"},
        {"month": "November"},
        {"month": "9999-12"},  # its last week would run into year 10000
        {"day": "2026-02-30"},
        {"day": "tomorrow"},
        {"day": "0001-01-01"},
        {"provider": "abc"},
        {"provider": "-1"},
        {"provider": "²"},  # a digit to str.isdigit, not to int()
        {"provider": "99999999999999999999999"},
        {"provider": "{tom}"},  # Tom does not give assessments
    ],
)
def test_picker_bad_input_is_a_422_page(client, clinic, args):
    args = {k: v.format(tom=clinic["tom"].id) for k, v in args.items()}
    response = client.get(
        f"/clinic/book/{clinic['assessment'].id}/when", query_string={"provider": "any", **args}
    )

    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert parse(response).find("h1").text == "That didn't work"


# --- review --------------------------------------------------------------------------


def test_review_when_not_signed_in_asks_for_name_and_email(client, clinic):
    service = clinic["assessment"]

    response = client.get(review_url(service, THU_10, clinic["ana"].id))

    assert response.status_code == 200
    page = parse(response)
    facts = page.one("dl", class_="facts").text
    assert "Thu 26 Nov, 10:00–11:00" in facts
    assert "£65" in facts
    assert "Ana Silva" in facts
    assert "Cancellation Changes within 24 hours: please contact Clinic" in facts
    # Issue 15, item 1: a newcomer books with a name and email; signing in is second.
    form = page.one("form", action=f"/clinic/book/{service.id}/confirm")
    assert {"name", "email", "phone"} <= set(form_fields(form))
    assert "Already have an account? Sign in" in page.one("details").text


def test_review_when_signed_in_offers_the_confirm_form(client, clinic, customer):
    service = clinic["follow_up"]

    response = client.get(review_url(service, datetime(2026, 11, 30, 9, tzinfo=UTC), "any"))

    assert response.status_code == 200
    page = parse(response)
    facts = page.one("dl", class_="facts").text
    assert "Anyone available" in facts
    assert "£45" in facts
    assert "Mon 30 Nov, 09:00–09:30" in facts
    assert "Cancellation Free cancellation until Sun 29 Nov, 09:00" in facts
    form = page.one("form", action=f"/clinic/book/{service.id}/confirm")
    assert form.attrs["method"] == "post"
    fields = form_fields(form)
    assert fields["start"] == "2026-11-30T09:00:00+00:00"
    assert fields["provider"] == "any"
    assert fields["csrf_token"]
    assert "Booking as Casey Morgan (casey@example.com)" in form.text
    change = page.one("p", class_="crumbs").one("a")
    assert change.text == "Change time"
    assert same_url(change.attrs["href"], when_url(service, "any", day="2026-11-30"))


@pytest.mark.parametrize(
    "start", ["", "tomorrow", "2026-11-26T10:00:00", "2026-11-26T10:00:00%2B99:00"]
)
def test_review_bad_time_is_a_422_page(client, clinic, start):
    response = client.get(f"/clinic/book/{clinic['assessment'].id}/review?start={start}")

    assert response.status_code == 422


# --- confirm -------------------------------------------------------------------------


def test_confirm_books_and_shows_the_confirmation(client, clinic, customer):
    service, ana = clinic["assessment"], clinic["ana"]

    response = confirm(client, service, THU_10, ana.id)

    [made] = bookings_of(customer)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/appointments/{made.id}/confirmed"
    assert (made.provider_id, made.start_at, made.status) == (ana.id, THU_10, "confirmed")
    assert (made.price_cents, made.currency) == (6500, "GBP")

    page = parse(client.get(response.headers["Location"]))
    assert page.find("h1").text == "You're booked"
    assert "See you Thu 26 Nov at 10:00." in page.text
    facts = page.one("dl", class_="facts").text
    assert "Confirmed" in facts
    assert "Initial assessment · 60 min" in facts
    assert "Thu 26 Nov 2026, 10:00–11:00" in facts
    assert "Ana Silva, Clinic" in facts
    assert "£65" in facts
    # Thursday 10:00 is less than 24 hours away: no "free cancellation until" yesterday.
    assert page.one("p", class_="policy").text == "Changes within 24 hours: please contact Clinic."
    assert page.find("a", href=f"/appointments/{made.id}") is not None

    links = {
        a.text: a.attrs["href"] for a in page.one("section", class_="calendar-links").find_all("a")
    }
    assert links["Download .ics"] == f"/appointments/{made.id}/calendar.ics"
    google = query(links["Google Calendar"])
    assert links["Google Calendar"].startswith("https://calendar.google.com/calendar/render?")
    assert google["dates"] == "20261126T100000Z/20261126T110000Z"
    assert google["text"] == "Initial assessment at Clinic"
    assert google["ctz"] == "Europe/London"
    assert links["Outlook"].startswith("https://outlook.live.com/calendar/0/deeplink/compose?")
    outlook = query(links["Outlook"])
    assert outlook["startdt"] == "2026-11-26T10:00:00+00:00"
    assert outlook["enddt"] == "2026-11-26T11:00:00+00:00"
    assert outlook["subject"] == "Initial assessment at Clinic"


def test_confirm_anyone_available_books_someone_free(client, clinic, customer, rival):
    service = clinic["follow_up"]
    bookings.book(
        customer_id=rival.id,
        service_id=service.id,
        start=THU_10,
        provider_id=clinic["ana"].id,
        now=datetime(2026, 11, 25, 12, tzinfo=UTC),
        dispatch=Dispatch(),
    )

    response = confirm(client, service, THU_10, "any")

    assert response.status_code == 303
    [made] = bookings_of(customer)
    assert made.provider_id == clinic["tom"].id
    assert "Tom Reed, Clinic" in text_of(client.get(response.headers["Location"]))


def test_calendar_file_is_in_london_time_with_its_zone(client, clinic, customer):
    """Tue 6 Apr 2027 09:00 in London is 08:00Z (BST)."""
    start = datetime(2027, 4, 6, 9, tzinfo=LONDON)
    confirm(client, clinic["assessment"], start, clinic["ana"].id)
    [made] = bookings_of(customer)

    response = client.get(f"/appointments/{made.id}/calendar.ics")

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    cal = icalendar.Calendar.from_ical(response.data)
    [event] = cal.walk("VEVENT")
    assert event["SUMMARY"] == "Initial assessment at Clinic"
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2027, 4, 6, 8, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2027, 4, 6, 10, tzinfo=LONDON)
    assert event["STATUS"] == "CONFIRMED"
    assert f"/appointments/{made.id}" in str(event["URL"])
    [zone] = cal.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/London"
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}


def test_confirm_without_the_csrf_token_is_refused(client, clinic, customer):
    response = client.post(
        f"/clinic/book/{clinic['assessment'].id}/confirm",
        data={"start": THU_10.isoformat(), "provider": "any"},
    )

    assert response.status_code == 400
    assert bookings_of(customer) == []


def test_confirm_with_a_wrong_csrf_token_is_refused(client, clinic, customer):
    response = confirm(client, clinic["assessment"], THU_10, token="forged")

    assert response.status_code == 400
    assert bookings_of(customer) == []


def test_slot_taken_meanwhile_offers_the_nearest_free_times(client, clinic, customer, rival):
    service, ana = clinic["assessment"], clinic["ana"]
    token = csrf_token(client.get(review_url(service, THU_10, ana.id)))
    bookings.book(
        customer_id=rival.id, service_id=service.id, start=THU_10, provider_id=ana.id,
        now=datetime(2026, 11, 25, 12, tzinfo=UTC), dispatch=Dispatch(),
    )  # fmt: skip

    response = confirm(client, service, THU_10, ana.id, token=token)

    assert response.status_code == 409
    page = parse(response)
    alert = page.one("section", role="alert")
    assert alert.find("h1").text == "Sorry, that time was just taken"
    assert "Someone booked Thu 26 Nov at 10:00 a moment ago." in alert.text
    alternatives = [(a.text, a.attrs["href"]) for a in alert.find_all("a", class_="slot")]
    assert [text for text, _ in alternatives] == [
        "Thu 26 Nov, 09:00",
        "Thu 26 Nov, 11:00",
        "Thu 26 Nov, 11:15",
        "Thu 26 Nov, 11:30",
        "Thu 26 Nov, 11:45",
    ]
    assert same_url(alternatives[1][1], review_url(service, THU_10 + timedelta(hours=1), ana.id))
    assert bookings_of(customer) == []
    # The alternative leads to a review page that books it.
    token = csrf_token(client.get(alternatives[1][1]))
    assert (
        confirm(client, service, THU_10 + timedelta(hours=1), ana.id, token=token).status_code
        == 303
    )


@pytest.mark.parametrize("who", ["ana", "any"])
def test_double_submit_returns_the_same_booking(client, clinic, customer, who):
    """A second tap on "Confirm" (or a resubmitted form): with "anyone available" the
    second one must not quietly book the other provider too."""
    service = clinic["follow_up"]
    provider = clinic[who].id if who != "any" else "any"
    token = csrf_token(client.get(review_url(service, THU_10, provider)))

    first = confirm(client, service, THU_10, provider, token=token)
    second = confirm(client, service, THU_10, provider, token=token)

    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(bookings_of(customer)) == 1


def test_confirm_when_not_signed_in_goes_to_sign_in_and_books_nothing(client, app, clinic):
    service = clinic["assessment"]
    token = csrf_token(client.get(f"/clinic/book/{service.id}/when?provider=any"))

    response = confirm(client, service, THU_10, "any", token=token)

    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == sign_in_url(app)
    # After signing in, the customer comes back to the same selection, ready to confirm.
    back = query(response.headers["Location"])["next"]
    assert same_url(back, review_url(service, THU_10, "any"))
    assert Booking.select().count() == 0


def test_confirm_a_time_that_is_never_offered_is_a_422(client, clinic, customer):
    at_night = datetime(2026, 11, 26, 3, tzinfo=UTC)

    response = confirm(client, clinic["assessment"], at_night, clinic["ana"].id)

    assert response.status_code == 422
    assert bookings_of(customer) == []


def test_after_a_move_both_calendar_links_give_the_new_time_under_the_same_uid(
    client, clinic, customer
):
    """The first confirmation's .ics link still works after a reschedule: it gives the
    appointment as it is now, the same UID with a higher SEQUENCE, so a calendar that
    imported the first one updates it instead of cancelling it or adding a copy."""
    from services.booking import appointments
    from services.notifications.outbox import Dispatch

    start = datetime(2027, 4, 6, 9, tzinfo=LONDON)
    confirm(client, clinic["assessment"], start, clinic["ana"].id)
    [first] = bookings_of(customer)
    before = icalendar.Calendar.from_ical(client.get(f"/appointments/{first.id}/calendar.ics").data)
    moved = appointments.reschedule(
        booking_id=first.id,
        actor_id=customer.id,
        start=datetime(2027, 4, 6, 11, tzinfo=LONDON),
        now=datetime(2027, 4, 1, tzinfo=UTC),
        dispatch=Dispatch(),
    )

    old_link = icalendar.Calendar.from_ical(
        client.get(f"/appointments/{first.id}/calendar.ics").data
    )
    new_link = icalendar.Calendar.from_ical(
        client.get(f"/appointments/{moved.id}/calendar.ics").data
    )

    [was] = before.walk("VEVENT")
    for cal in (old_link, new_link):
        [event] = cal.walk("VEVENT")
        assert event["UID"] == was["UID"]
        assert event["SEQUENCE"] == was["SEQUENCE"] + 1
        assert event["STATUS"] == "CONFIRMED"
        assert event.decoded("DTSTART") == datetime(2027, 4, 6, 11, tzinfo=LONDON)
