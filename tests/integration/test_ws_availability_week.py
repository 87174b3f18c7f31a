"""The weekly hours editor without JavaScript: each day's switch, "+ Add a break",
"× Remove" and "Copy to all weekdays" are form buttons the server answers with the week
as edited and not saved; the switch decides whether a day's intervals count.

World: Ana works Mon–Fri 09–13 and 14–17 (test_ws_availability.py's helpers).
"""

from __future__ import annotations

from datetime import time

import pytest

from tests.integration.test_ws_availability import (
    ANAS_WEEK,
    DAY_KEYS,
    PARTIAL,
    body,
    error_near,
    hours_of,
    hours_url,
    input_value,
    post,
    week,
)
from tests.integration.webpages import parse

ON, OFF = ["", "y"], [""]  # what a day's switch sends: a hidden "" and the checkbox's "y"


@pytest.fixture
def ana(signed_in, world):
    return signed_in(world["provider"])


def switches(days_on: set[str]) -> dict[str, list[str]]:
    return {f"{key}-open": ON if key in days_on else OFF for key in DAY_KEYS}


def shown(response, key: str) -> list[tuple[str, str]]:
    """The intervals the form shows for the day ``key``, as typed."""
    rows, i = [], 0
    while (start := input_value(response, f"{key}-{i}-start")) is not None:
        rows.append((start, input_value(response, f"{key}-{i}-end")))
        i += 1
    return rows


def is_on(response, key: str) -> bool:
    return "checked" in parse(response).one("input", id=f"{key}-open").attrs


def remove_buttons(response, key: str) -> list[str]:
    day = parse(response).one("div", class_="av-day", data_day=key)
    return [" ".join(b.text.split()) for b in day.find_all("button", class_="av-remove")]


def autofocused(response) -> list[str]:
    return [e.attrs.get("id") for e in parse(response).find_all() if "autofocus" in e.attrs]


# Days off ---------------------------------------------------------------------------


def test_a_day_switched_off_is_closed_whatever_its_hidden_intervals_say(ana, world):
    typed = week(ANAS_WEEK | {"sat": [("10:00", "11:00")]}) | switches({"mon", "tue", "thu"})
    typed |= week({"wed": [("99:00", "")]})  # turned off: not even checked
    response = post(ana, hours_url(world), typed)
    assert response.status_code == 303
    anas = [(time(9), time(13)), (time(14), time(17))]
    assert hours_of(world["ana"]) == {0: anas, 1: anas, 3: anas}
    page = ana.get(response.headers["Location"])
    assert [is_on(page, key) for key in DAY_KEYS] == [True, True, False, True] + [False] * 3
    assert shown(page, "fri") == [("", "")]  # one interval to type in when turned on again


def test_a_day_switched_on_needs_its_hours(ana, world):
    typed = week(ANAS_WEEK) | switches({"mon", "tue", "wed", "thu", "fri", "sat"})
    typed |= week({"sat": [("", "")]})
    before = hours_of(world["ana"])
    response = post(ana, hours_url(world), typed)
    assert response.status_code == 422
    assert error_near(response, "sat-open").endswith(
        "Give the hours for Saturday, or turn Saturday off."
    )
    assert is_on(response, "sat")  # as it was set
    assert parse(response).one("input", id="sat-open").attrs["aria-invalid"] == "true"
    assert "Nothing was saved" in body(response)
    assert hours_of(world["ana"]) == before


def test_a_bad_interval_on_a_day_that_is_on_is_refused_and_kept(ana, world):
    typed = week(ANAS_WEEK | {"tue": [("09:00", "13:00"), ("12:00", "15:00")]})
    typed |= switches({"mon", "tue", "wed", "thu", "fri"})
    response = post(ana, hours_url(world), typed)
    assert response.status_code == 422
    assert "Overlaps 09:00–13:00" in error_near(response, "tue-1")
    assert shown(response, "tue") == [("09:00", "13:00"), ("12:00", "15:00")]
    assert [is_on(response, key) for key in DAY_KEYS] == [True] * 5 + [False] * 2


def test_switching_a_day_off_with_a_booking_still_asks_what_to_do_with_it(ana, world):
    # Ana has a booking on Monday 30 Nov 10:00 (see test_ws_availability_orphans.py).
    typed = week(ANAS_WEEK) | switches({"tue", "wed", "thu", "fri"})
    first = post(ana, hours_url(world), typed)
    assert first.status_code == 409
    assert "Casey Morgan" in body(first)
    assert not is_on(first, "mon")
    assert shown(first, "mon") == [("09:00", "13:00"), ("14:00", "17:00")]  # kept, hidden
    seen = parse(first).find("div", class_="av-orphans").one("input", name="seen")
    kept = post(ana, hours_url(world), typed | {"decision": "keep", "seen": seen.attrs["value"]})
    assert kept.status_code == 303
    assert 0 not in hours_of(world["ana"])


# Edits: not saved until "Save weekly hours" -------------------------------------------


def test_add_a_break_splits_the_day_and_saves_nothing(ana, world):
    typed = week(ANAS_WEEK | {"mon": [("09:00", "17:00")]}) | switches(set(DAY_KEYS[:5]))
    response = post(ana, hours_url(world), typed | {"edit": "add-mon"})
    assert response.status_code == 200
    assert shown(response, "mon") == [("09:00", "13:00"), ("14:00", "17:00")]
    assert shown(response, "tue") == ANAS_WEEK["tue"]  # the rest as typed
    assert autofocused(response) == ["mon-1-start"]  # where to go on typing
    status = parse(response).one("div", id="hours-status").text
    assert status == "A break 13:00–14:00 added on Monday. Not saved yet."
    assert "Changes not saved yet." in body(response)
    assert hours_of(world["ana"])[0] == [(time(9), time(13)), (time(14), time(17))]  # as before

    again = post(ana, hours_url(world), typed | {"edit": "add-tue"})
    assert shown(again, "tue") == [("09:00", "11:00"), ("12:00", "13:00"), ("14:00", "17:00")]
    assert autofocused(again) == ["tue-1-start"]
    # The day edited is marked: hours.js shows its "Copy to all weekdays" (and Monday's).
    edited = parse(again).find_all("div", class_="av-edited")
    assert [day.attrs["data-day"] for day in edited] == ["tue"]


def test_add_a_break_to_a_short_or_unfinished_day_adds_an_interval_to_type_in(ana, world):
    typed = week({"wed": [("09:00", "10:00")], "sat": [("", "")]})
    typed |= switches({"wed", "sat"})
    response = post(ana, hours_url(world), typed | {"edit": "add-wed"})
    assert response.status_code == 200
    assert shown(response, "wed") == [("09:00", "10:00"), ("", "")]
    assert autofocused(response) == ["wed-1-start"]
    on_closed = post(ana, hours_url(world), typed | {"edit": "add-sun"})
    assert is_on(on_closed, "sun")
    assert shown(on_closed, "sun") == [("", "")]


def test_remove_takes_one_interval_out_and_names_it(ana, world):
    page = ana.get("/w/clinic/availability")
    assert remove_buttons(page, "mon") == [
        "× Remove 09:00–13:00 on Monday",
        "× Remove 14:00–17:00 on Monday",
    ]
    assert remove_buttons(page, "sat") == []  # one interval: the switch closes the day
    typed = week(ANAS_WEEK) | switches(set(DAY_KEYS[:5]))
    response = post(ana, hours_url(world), typed | {"edit": "remove-mon-0"})
    assert response.status_code == 200
    assert shown(response, "mon") == [("14:00", "17:00")]
    assert is_on(response, "mon")
    assert remove_buttons(response, "mon") == []
    assert autofocused(response) == ["mon-add"]
    assert "Removed 09:00–13:00 on Monday. Not saved yet." in body(response)
    assert hours_of(world["ana"])[0] == [(time(9), time(13)), (time(14), time(17))]

    # Saved as the edited form then posts it.
    saved = post(ana, hours_url(world), week({"mon": [("14:00", "17:00")]}) | switches({"mon"}))
    assert saved.status_code == 409  # Ana's booking on Monday at 10:00 is outside now


def test_copy_to_all_weekdays_copies_the_day_and_its_switch(ana, world):
    typed = week({"mon": [("08:00", "12:00"), ("13:00", "16:00")], "sat": [("10:00", "12:00")]})
    typed |= week({"wed": [("07:00", "09:00")]}) | switches({"mon", "sat"})  # Wednesday off
    response = post(ana, hours_url(world), typed | {"edit": "copy-mon"})
    assert response.status_code == 200
    for key in ("tue", "wed", "thu", "fri"):
        assert is_on(response, key)
        assert shown(response, key) == [("08:00", "12:00"), ("13:00", "16:00")]
    assert shown(response, "sat") == [("10:00", "12:00")]
    assert not is_on(response, "sun")
    assert autofocused(response) == ["mon-copy"]
    said = "Monday's hours copied to Tuesday, Wednesday, Thursday and Friday. Not saved yet."
    assert said in body(response)
    assert hours_of(world["ana"])[0] == [(time(9), time(13)), (time(14), time(17))]

    from_thursday = post(ana, hours_url(world), typed | {"edit": "copy-thu"})
    assert "Thursday closed copied to Monday, Tuesday, Wednesday and Friday." in body(from_thursday)
    assert [is_on(from_thursday, key) for key in DAY_KEYS] == [False] * 5 + [True, False]


def test_an_edit_asked_for_by_htmx_swaps_the_form_and_says_what_it_did(ana, world):
    typed = week(ANAS_WEEK) | switches(set(DAY_KEYS[:5]))
    response = post(ana, hours_url(world), typed | {"edit": "remove-fri-1"}, headers=PARTIAL)
    assert response.status_code == 200
    assert body(response).lstrip().startswith('<form id="hours-form"')
    assert shown(response, "fri") == [("09:00", "13:00")]
    status = parse(response).one("div", id="hours-status")
    assert status.attrs["hx-swap-oob"] == "innerHTML"
    assert status.text == "Removed 14:00–17:00 on Friday. Not saved yet."


@pytest.mark.parametrize("asked", ["remove-mon-7", "remove-mon", "add-mon-1", "paste-mon", "x"])
def test_an_edit_that_is_not_possible_is_refused_and_keeps_what_was_typed(ana, world, asked):
    typed = week(ANAS_WEEK) | switches(set(DAY_KEYS[:5]))
    response = post(ana, hours_url(world), typed | {"edit": asked})
    assert response.status_code == 422
    assert shown(response, "mon") == ANAS_WEEK["mon"]
    assert "form-error" in body(response)


def test_enter_in_a_field_saves_the_week(ana, world):
    """The form's first button (what Enter presses) saves: it is not an edit."""
    form = parse(ana.get("/w/clinic/availability")).one("form", id="hours-form")
    first = form.find("button")
    assert first.attrs["type"] == "submit"
    assert "name" not in first.attrs
