"""Edits to the weekly hours as typed (services/workspace/availability_edits.py): where a
break goes, what removing and copying leave, and that what was typed is kept."""

from __future__ import annotations

import pytest

from services.errors import Invalid
from services.workspace.availability_edits import (
    TypedDay,
    add_break,
    copy_to_weekdays,
    remove_interval,
)

CLOSED = TypedDay(False, ())


def week_with(day: int, *rows: tuple[str, str]) -> tuple[TypedDay, ...]:
    return tuple(TypedDay(True, rows) if d == day else CLOSED for d in range(7))


@pytest.mark.parametrize(
    ("typed", "split"),
    [
        (("09:00", "17:00"), [("09:00", "13:00"), ("14:00", "17:00")]),
        (("09:00", "12:00"), [("09:00", "10:00"), ("11:00", "12:00")]),
        (("09:00", "11:00"), [("09:00", "09:30"), ("10:30", "11:00")]),  # on the half hour
        (("08:15", "18:45"), [("08:15", "13:00"), ("14:00", "18:45")]),
        (("00:00", "23:59"), [("00:00", "11:00"), ("12:00", "23:59")]),
    ],
)
def test_a_break_of_an_hour_goes_near_the_middle(typed, split):
    edited = add_break(week_with(2, typed), 2)
    assert list(edited.week[2].rows) == split
    assert edited.row == 1
    assert edited.said.startswith("A break ")
    assert edited.said.endswith(" added on Wednesday")


def test_the_longest_interval_is_split_and_the_others_kept_as_typed():
    typed = week_with(0, ("14:00", "15:00"), ("08:00", "12:00"), ("7pm", ""))
    edited = add_break(typed, 0)
    assert edited.week[0].rows == (
        ("14:00", "15:00"),
        ("08:00", "10:00"),
        ("11:00", "12:00"),
        ("7pm", ""),
    )
    assert edited.row == 2
    assert edited.week[1:] == typed[1:]


@pytest.mark.parametrize(
    "rows",
    [(("09:00", "10:30"),), (("", ""),), (("17:00", "09:00"),), (("25:00", "26:00"),), ()],
)
def test_with_nothing_long_enough_to_split_an_empty_interval_is_added(rows):
    edited = add_break(week_with(4, *rows), 4)
    assert edited.week[4] == TypedDay(True, (*rows, ("", "")))
    assert edited.row == len(rows)
    assert edited.said == "An interval added on Friday"


def test_removing_keeps_the_rest_and_the_last_one_closes_the_day():
    typed = week_with(0, ("09:00", "13:00"), ("14:00", "17:00"))
    once = remove_interval(typed, 0, 0)
    assert once.week[0] == TypedDay(True, (("14:00", "17:00"),))
    assert once.said == "Removed 09:00–13:00 on Monday"
    twice = remove_interval(once.week, 0, 0)
    assert twice.week[0] == CLOSED
    with pytest.raises(Invalid):
        remove_interval(twice.week, 0, 0)


def test_copying_reaches_the_other_weekdays_only():
    typed = week_with(2, ("10:00", "12:00"))
    typed = (*typed[:5], TypedDay(True, (("09:00", "11:00"),)), CLOSED)
    edited = copy_to_weekdays(typed, 2)
    assert [d.rows for d in edited.week[:5]] == [(("10:00", "12:00"),)] * 5
    assert edited.week[5:] == typed[5:]
    assert edited.said == "Wednesday's hours copied to Monday, Tuesday, Thursday and Friday"
    closed = copy_to_weekdays(typed, 0)  # Monday is closed: so are the other weekdays
    assert closed.week[:5] == (CLOSED,) * 5
    assert closed.said.startswith("Monday closed copied to Tuesday")
