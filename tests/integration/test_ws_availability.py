"""Availability: the weekly hours, date override and time off forms (valid, invalid, htmx).

The orphan flow and DST are in test_ws_availability_orphans.py, the access matrix in
test_ws_availability_access.py; both use the helpers here.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, time

import pytest

from models import DateOverride, TimeOff, WeeklyHours
from tests.integration.webpages import csrf_token, parse

PAGE = "/w/clinic/availability"
PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ANAS_WEEK = {key: [("09:00", "13:00"), ("14:00", "17:00")] for key in DAY_KEYS[:5]}


# Helpers ----------------------------------------------------------------------------


def body(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def week(days: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """The weekly hours form's fields for ``days`` (day key → intervals typed)."""
    data = {}
    for key, rows in days.items():
        for i, (start, end) in enumerate(rows):
            data[f"{key}-{i}-start"], data[f"{key}-{i}-end"] = start, end
    return data


def post(client, path: str, data: dict, headers=None):
    """POST ``data`` with the CSRF token of the availability page, as a browser would."""
    token = csrf_token(client.get(PAGE))
    return client.post(path, data={"csrf_token": token, **data}, headers=headers)


def hours_of(provider_id: int) -> dict[int, list[tuple[time, time]]]:
    found: dict[int, list[tuple[time, time]]] = {}
    for row in WeeklyHours.select().where(WeeklyHours.provider == provider_id):
        found.setdefault(row.weekday, []).append((row.start_time, row.end_time))
    return {day: sorted(rows) for day, rows in found.items()}


def input_value(response, name: str) -> str | None:
    found = parse(response).find("input", name=name)
    return None if found is None else found.attrs.get("value", "")


def error_near(response, field_id: str) -> str:
    """The error message shown for the field (or interval row) with this id."""
    found = parse(response).find("p", class_="error", id=f"{field_id}-error")
    assert found is not None, f"no error for {field_id}"
    return found.text


@pytest.fixture
def ana(signed_in, world):
    return signed_in(world["provider"])


@pytest.fixture
def owner(signed_in, world):
    return signed_in(world["owner"])


def hours_url(world, who="ana") -> str:
    return f"{PAGE}/{world[who]}/hours"


# The page ---------------------------------------------------------------------------


def test_a_provider_sees_their_own_hours_each_day_with_only_its_intervals(ana, world):
    response = ana.get(PAGE)
    assert response.status_code == 200
    page = body(response)
    assert "Times are London time (GMT)." in page
    assert 'aria-current="page">Availability<' in page
    assert (input_value(response, "mon-0-start"), input_value(response, "mon-0-end")) == (
        "09:00",
        "13:00",
    )
    assert (input_value(response, "fri-1-start"), input_value(response, "fri-1-end")) == (
        "14:00",
        "17:00",
    )
    assert input_value(response, "mon-2-start") is None  # no blank rows: "+ Add a break"
    assert input_value(response, "sat-0-start") == ""  # a closed day: one, shown when turned on
    assert input_value(response, "sat-1-start") is None
    assert parse(response).find("input", name="mon-0-start").attrs["type"] == "time"
    switches = {key: parse(response).one("input", id=f"{key}-open") for key in DAY_KEYS}
    assert [key for key, s in switches.items() if "checked" not in s.attrs] == ["sat", "sun"]
    assert switches["mon"].attrs["role"] == "switch"
    assert "Tom Reed" not in page  # no switching to someone else


def test_the_owner_switches_between_providers(owner, world):
    first = owner.get(PAGE)  # the first active provider by name: Ana Silva
    assert input_value(first, "mon-1-start") == "14:00"
    links = parse(first).one("nav", class_="av-switch").find_all("a")
    assert [a.text for a in links] == ["Ana Silva", "Tom Reed"]
    assert links[0].attrs.get("aria-current") == "page"

    toms = owner.get(links[1].attrs["href"])
    assert toms.status_code == 200
    assert (input_value(toms, "mon-0-start"), input_value(toms, "mon-0-end")) == ("09:00", "17:00")
    assert input_value(toms, "mon-1-start") is None
    assert f"/availability/{world['tom']}/hours" in body(toms)


# Weekly hours -----------------------------------------------------------------------


def test_saving_the_week_replaces_the_hours(ana, world):
    data = week(
        {
            "mon": [("14:00", "17:30"), ("08:30", "12:00")],  # typed out of order
            "tue": [("", ""), ("10:00", "16:00")],  # a blank row first
            "sat": [("09:00", "12:00")],
        }
    )
    response = post(ana, hours_url(world), data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{PAGE}?provider={world['ana']}#hours")
    assert hours_of(world["ana"]) == {
        0: [(time(8, 30), time(12)), (time(14), time(17, 30))],
        1: [(time(10), time(16))],
        5: [(time(9), time(12))],
    }
    page = ana.get(response.headers["Location"])
    assert "Weekly hours saved." in body(page)
    assert input_value(page, "mon-0-start") == "08:30"
    assert input_value(page, "sat-0-end") == "12:00"


def test_the_owner_saves_another_providers_week(owner, world):
    response = post(owner, hours_url(world, "tom"), week({"mon": [("09:00", "18:00")]}))
    assert response.status_code == 303
    assert hours_of(world["tom"]) == {0: [(time(9), time(18))]}
    assert hours_of(world["ana"])[0] == [(time(9), time(13)), (time(14), time(17))]


@pytest.mark.parametrize(
    ("days", "field", "message"),
    [
        ({"mon": [("12:00", "10:00")]}, "mon-0", "The end must be after the start."),
        ({"mon": [("10:00", "10:00")]}, "mon-0", "The end must be after the start."),
        ({"tue": [("09:00", "")]}, "tue-0", "Give an end time."),
        ({"wed": [("", "17:00")]}, "wed-0", "Give a start time."),
        ({"thu": [("9am", "17:00")]}, "thu-0", "Give a time as HH:MM, like 09:30."),
        ({"fri": [("24:00", "25:00")]}, "fri-0", "Give a time as HH:MM"),
        (
            {"mon": [("09:00", "13:00"), ("12:00", "15:00")]},
            "mon-1",
            "Overlaps 09:00–13:00: a day's intervals may not overlap.",
        ),
        (
            {"sun": [("14:00", "16:00"), ("08:00", "18:00")]},
            "sun-0",
            "Overlaps 08:00–18:00",
        ),
    ],
)
def test_a_bad_week_is_refused_with_the_message_and_keeps_what_was_typed(
    ana, world, days, field, message
):
    before = hours_of(world["ana"])
    typed = week({**days, "sat": [("10:00", "11:00")]})
    response = post(ana, hours_url(world), typed)
    assert response.status_code == 422
    assert message in error_near(response, field)
    assert "Nothing was saved" in body(response)
    for name, value in typed.items():
        assert input_value(response, name) == value
    assert hours_of(world["ana"]) == before


def test_touching_intervals_are_fine(ana, world):
    response = post(ana, hours_url(world), week({"mon": [("09:00", "13:00"), ("13:00", "17:00")]}))
    assert response.status_code == 303
    assert hours_of(world["ana"]) == {0: [(time(9), time(13)), (time(13), time(17))]}


def test_htmx_gets_the_form_back_with_the_problem_or_as_saved(ana, world):
    bad = post(ana, hours_url(world), week({"mon": [("11:00", "10:00")]}), headers=PARTIAL)
    assert bad.status_code == 422
    fragment = body(bad)
    assert fragment.lstrip().startswith('<form id="hours-form"')
    assert "<html" not in fragment
    assert "ws-tabs" not in fragment
    assert "The end must be after the start." in fragment
    assert "HX-Request" in bad.headers["Vary"]

    good = post(ana, hours_url(world), week({"mon": [("09:00", "17:00")]}), headers=PARTIAL)
    assert good.status_code == 200
    assert "HX-Redirect" not in good.headers  # the form is swapped in place, as saved
    assert body(good).lstrip().startswith('<form id="hours-form"')
    assert (input_value(good, "mon-0-end"), input_value(good, "tue-0-start")) == ("17:00", "")
    status = parse(good).one("div", id="hours-status")
    assert status.attrs["hx-swap-oob"] == "innerHTML"
    assert status.text == "Weekly hours saved."
    assert hours_of(world["ana"]) == {0: [(time(9), time(17))]}


# Date overrides ---------------------------------------------------------------------


def overrides_url(world, who="ana") -> str:
    return f"{PAGE}/{world[who]}/overrides"


def overrides_of(provider_id: int) -> list[tuple[date, time | None, time | None]]:
    rows = DateOverride.select().where(DateOverride.provider == provider_id)
    return sorted(((r.day, r.start_time, r.end_time) for r in rows), key=str)


def test_a_closed_day_is_saved_listed_and_deleted(ana, world):
    response = post(ana, overrides_url(world), {"day": "2026-12-24", "kind": "closed"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#overrides")
    assert overrides_of(world["ana"]) == [(date(2026, 12, 24), None, None)]
    page = ana.get(PAGE)
    item = parse(page).one("ul", aria_label="Upcoming date overrides").one("li")
    assert "Thu 24 Dec 2026" in item.text
    assert "Closed all day" in item.text

    delete = item.one("form").attrs["action"]
    assert post(ana, delete, {}).status_code == 303
    assert overrides_of(world["ana"]) == []
    assert post(ana, delete, {}).status_code == 303  # already gone: the date is as asked
    assert "No date overrides coming up." in body(ana.get(PAGE))


def test_different_hours_replace_an_override_on_the_same_date(ana, world):
    post(ana, overrides_url(world), {"day": "2026-12-24", "kind": "closed"})
    assert overrides_of(world["ana"]) == [(date(2026, 12, 24), None, None)]
    data = {
        "day": "2026-12-24",
        "kind": "hours",
        "hours-0-start": "13:00",
        "hours-0-end": "15:00",
        "hours-1-start": "10:00",
        "hours-1-end": "12:00",
    }
    assert post(ana, overrides_url(world), data).status_code == 303
    assert overrides_of(world["ana"]) == [
        (date(2026, 12, 24), time(10), time(12)),
        (date(2026, 12, 24), time(13), time(15)),
    ]
    assert "10:00–12:00, 13:00–15:00" in body(ana.get(PAGE))


def test_past_overrides_are_not_listed(ana, world):
    DateOverride.create(provider=world["ana"], day=date(2026, 11, 20))
    DateOverride.create(provider=world["ana"], day=date(2026, 11, 25))  # today counts
    items = parse(ana.get(PAGE)).one("ul", aria_label="Upcoming date overrides").find_all("li")
    assert [i.find("strong").text for i in items] == ["Wed 25 Nov 2026"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"day": "2026-11-24", "kind": "closed"}, "day", "Choose today or a later date."),
        ({"day": "", "kind": "closed"}, "day", "Choose a date."),
        ({"day": "24/12/2026", "kind": "closed"}, "day", "Give a date as YYYY-MM-DD."),
        ({"day": "2040-01-01", "kind": "closed"}, "day", "Choose a date in the next 5 years."),
        (
            {"day": "2026-12-24", "kind": "hours"},
            "kind",
            "Give the hours for that date, or choose closed all day.",
        ),
        (
            {"day": "2026-12-24", "kind": "hours", "hours-0-start": "15:00", "hours-0-end": "9:00"},
            "hours-0",
            "The end must be after the start.",
        ),
    ],
)
def test_a_bad_override_is_refused_and_keeps_what_was_typed(ana, world, data, field, message):
    response = post(ana, overrides_url(world), data)
    assert response.status_code == 422
    assert message in error_near(response, field)
    assert input_value(response, "day") == data["day"]
    checked = parse(response).find("input", name="kind", checked="")
    assert checked is not None
    assert checked.attrs["value"] == data["kind"]
    assert overrides_of(world["ana"]) == []


def test_htmx_gets_the_overrides_panel_back(ana, world):
    bad = post(ana, overrides_url(world), {"day": "2026-11-01", "kind": "closed"}, PARTIAL)
    assert bad.status_code == 422
    fragment = body(bad)
    assert fragment.lstrip().startswith('<div id="overrides-panel"')
    assert "<html" not in fragment
    assert "Choose today or a later date." in fragment

    good = post(ana, overrides_url(world), {"day": "2026-12-01", "kind": "closed"}, PARTIAL)
    assert good.status_code == 200
    assert body(good).lstrip().startswith('<div id="overrides-panel"')
    listed = parse(good).one("ul", aria_label="Upcoming date overrides")
    assert "Tue 1 Dec 2026" in listed.text
    assert input_value(good, "day") == ""  # a fresh form for the next one
    assert parse(good).one("div", id="overrides-status").text == "Date override saved."


# Time off ---------------------------------------------------------------------------


def time_off_url(world, who="ana") -> str:
    return f"{PAGE}/{world[who]}/time-off"


def time_off_of(provider_id: int) -> list[tuple[datetime, datetime, str]]:
    rows = TimeOff.select().where(TimeOff.provider == provider_id).order_by(TimeOff.start_at)
    return [(r.start_at, r.end_at, r.reason) for r in rows]


def test_time_off_with_times_is_saved_in_utc_and_listed_locally(ana, world):
    data = {
        "start_date": "2026-12-01",
        "start_time": "09:00",
        "end_date": "2026-12-01",
        "end_time": "12:30",
        "reason": " Dentist ",
    }
    response = post(ana, time_off_url(world), data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#time-off")
    assert time_off_of(world["ana"]) == [
        (datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 12, 30, tzinfo=UTC), "Dentist")
    ]
    item = parse(ana.get(PAGE)).one("ul", aria_label="Upcoming time off").one("li")
    assert "Tue 1 Dec 2026, 09:00–12:30" in item.text
    assert "Dentist" in item.text


def test_whole_days_run_from_midnight_to_the_midnight_after_the_last(ana, world):
    data = {"start_date": "2026-12-21", "end_date": "2026-12-24", "all_day": "y", "reason": ""}
    assert post(ana, time_off_url(world), data).status_code == 303
    assert time_off_of(world["ana"]) == [
        (datetime(2026, 12, 21, tzinfo=UTC), datetime(2026, 12, 25, tzinfo=UTC), "")
    ]
    item = parse(ana.get(PAGE)).one("ul", aria_label="Upcoming time off").one("li")
    assert "Mon 21 Dec 2026 – Thu 24 Dec 2026" in item.text
    assert "Whole days" in item.text


def test_time_off_is_deleted_and_only_from_its_own_provider(ana, owner, world):
    toms = TimeOff.create(
        provider=world["tom"],
        start_at=datetime(2026, 12, 2, 9, tzinfo=UTC),
        end_at=datetime(2026, 12, 2, 10, tzinfo=UTC),
    )
    anas = TimeOff.create(
        provider=world["ana"],
        start_at=datetime(2026, 12, 2, 9, tzinfo=UTC),
        end_at=datetime(2026, 12, 2, 10, tzinfo=UTC),
    )
    # Tom's time off under Ana's address is not found, even for the owner.
    assert post(owner, f"{time_off_url(world)}/{toms.id}/delete", {}).status_code == 404
    response = post(ana, f"{time_off_url(world)}/{anas.id}/delete", {})
    assert response.status_code == 303
    assert time_off_of(world["ana"]) == []
    assert len(time_off_of(world["tom"])) == 1
    assert "Time off removed." in body(ana.get(response.headers["Location"]))


def test_past_time_off_is_not_listed(ana, world):
    TimeOff.create(
        provider=world["ana"],
        start_at=datetime(2026, 11, 24, 9, tzinfo=UTC),
        end_at=datetime(2026, 11, 24, 10, tzinfo=UTC),
    )
    assert "No time off coming up." in body(ana.get(PAGE))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {
                "start_date": "2026-12-01",
                "start_time": "12:00",
                "end_date": "2026-12-01",
                "end_time": "11:00",
            },
            "end_time",
            "The end must be after the start.",
        ),
        (
            {"start_date": "2026-12-04", "end_date": "2026-12-01", "all_day": "y"},
            "end_date",
            "The last day can't be before the first.",
        ),
        (
            {
                "start_date": "2026-12-01",
                "start_time": "",
                "end_date": "2026-12-01",
                "end_time": "11:00",
            },
            "start_time",
            "Give the start time.",
        ),
        (
            {"start_date": "", "end_date": "2026-12-01", "all_day": "y"},
            "start_date",
            "Choose the first day.",
        ),
        (
            {
                "start_date": "2026-11-20",
                "start_time": "09:00",
                "end_date": "2026-11-25",
                "end_time": "11:00",
            },
            "end_date",
            "This time is already over",
        ),
        (
            {
                "start_date": "2026-12-01",
                "end_date": "2026-12-01",
                "all_day": "y",
                "reason": "x" * 201,
            },
            "reason",
            "Use at most 200 characters.",
        ),
    ],
)
def test_bad_time_off_is_refused_and_keeps_what_was_typed(ana, world, data, field, message):
    response = post(ana, time_off_url(world), data)
    assert response.status_code == 422
    assert message in error_near(response, field)
    for name in ("start_date", "start_time", "end_date", "end_time", "reason"):
        assert input_value(response, name) == data.get(name, "")
    all_day = parse(response).one("input", name="all_day")
    assert ("checked" in all_day.attrs) == ("all_day" in data)
    assert time_off_of(world["ana"]) == []


def test_htmx_gets_the_time_off_panel_back(ana, world):
    data = {"start_date": "2026-12-01", "end_date": "", "all_day": "y"}
    bad = post(ana, time_off_url(world), data, PARTIAL)
    assert bad.status_code == 422
    fragment = body(bad)
    assert fragment.lstrip().startswith('<div id="time-off-panel"')
    assert "<html" not in fragment
    assert "Choose the last day." in fragment

    good = post(ana, time_off_url(world), data | {"end_date": "2026-12-02"}, PARTIAL)
    assert good.status_code == 200
    assert body(good).lstrip().startswith('<div id="time-off-panel"')
    assert parse(good).one("div", id="time-off-status").text == "Time off added."
    item = parse(good).one("ul", aria_label="Upcoming time off").one("li")
    assert "Tue 1 Dec 2026 – Wed 2 Dec 2026" in item.text

    deleted = post(ana, item.one("form").attrs["action"], {}, PARTIAL)
    assert deleted.status_code == 200
    assert parse(deleted).one("div", id="time-off-status").text == "Time off removed."
    assert "No time off coming up." in body(deleted)
    assert time_off_of(world["ana"]) == []
