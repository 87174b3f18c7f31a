"""Availability's access matrix: every route and method × who is asking → the answer.

A provider reaches only their own hours; the owner any of the business's providers;
another business's provider ids are not found for everyone here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import TimeOff
from tests.integration.test_ws_availability import ANAS_WEEK, post, week
from tests.integration.workspace import expect

HUGE = "99999999999999999999999"
TOMS_WEEK = week({key: [("09:00", "17:00")] for key in ("mon", "tue", "wed", "thu", "fri")})
CLOSED_DAY = {"day": "2026-12-24", "kind": "closed"}
DAY_OFF = {"start_date": "2026-12-24", "end_date": "2026-12-24", "all_day": "y"}

GET = {
    # route: (anonymous, customer, provider (Ana), owner, owner of another business)
    "/w/clinic/availability": (302, 403, 200, 200, 403),
    "/w/clinic/availability?provider={ana}": (302, 403, 200, 200, 403),
    "/w/clinic/availability?provider={tom}": (302, 403, 404, 200, 403),
    "/w/clinic/availability?provider={other provider}": (302, 403, 404, 404, 403),
    "/w/clinic/availability?provider=999999": (302, 403, 404, 404, 403),
    f"/w/clinic/availability?provider={HUGE}": (302, 403, 404, 404, 403),
    "/w/clinic/availability?provider=ana": (302, 403, 404, 404, 403),
    "/w/elsewhere/availability": (302, 403, 403, 403, 200),
    "/w/elsewhere/availability?provider={ana}": (302, 403, 403, 403, 404),
    "/w/nowhere/availability": (302, 404, 404, 404, 404),
    # A form's address opened directly leads to the page (for whoever may see it).
    "/w/clinic/availability/{ana}/hours": (302, 403, 303, 303, 403),
    "/w/clinic/availability/{tom}/time-off/1/delete": (302, 403, 404, 303, 403),
    "/w/clinic/availability/{other provider}/overrides": (302, 403, 404, 404, 403),
}

POST = {
    # route: (data, expected)
    "/w/clinic/availability/{ana}/hours": (week(ANAS_WEEK), (302, 403, 303, 303, 403)),
    "/w/clinic/availability/{tom}/hours": (TOMS_WEEK, (302, 403, 404, 303, 403)),
    "/w/clinic/availability/{other provider}/hours": (TOMS_WEEK, (302, 403, 404, 404, 403)),
    # An id no database holds matches no route: not found, before anyone is asked.
    f"/w/clinic/availability/{HUGE}/hours": (TOMS_WEEK, (404, 404, 404, 404, 404)),
    "/w/elsewhere/availability/{other provider}/hours": (TOMS_WEEK, (302, 403, 403, 403, 303)),
    "/w/elsewhere/availability/{ana}/hours": (TOMS_WEEK, (302, 403, 403, 403, 404)),
    "/w/clinic/availability/{ana}/overrides": (CLOSED_DAY, (302, 403, 303, 303, 403)),
    "/w/clinic/availability/{tom}/overrides": (CLOSED_DAY, (302, 403, 404, 303, 403)),
    "/w/clinic/availability/{other provider}/overrides": (CLOSED_DAY, (302, 403, 404, 404, 403)),
    "/w/clinic/availability/{ana}/overrides/2026-12-24/delete": ({}, (302, 403, 303, 303, 403)),
    "/w/clinic/availability/{tom}/overrides/2026-12-24/delete": ({}, (302, 403, 404, 303, 403)),
    "/w/clinic/availability/{other provider}/overrides/2026-12-24/delete": (
        {},
        (302, 403, 404, 404, 403),
    ),
    "/w/clinic/availability/{ana}/overrides/christmas/delete": ({}, (302, 403, 404, 404, 403)),
    "/w/clinic/availability/{ana}/time-off": (DAY_OFF, (302, 403, 303, 303, 403)),
    "/w/clinic/availability/{tom}/time-off": (DAY_OFF, (302, 403, 404, 303, 403)),
    "/w/clinic/availability/{other provider}/time-off": (DAY_OFF, (302, 403, 404, 404, 403)),
    # Only one of them may delete it, so each row succeeds at most once.
    "/w/clinic/availability/{tom}/time-off/{tom's time off}/delete": (
        {},
        (302, 403, 404, 303, 403),
    ),
    "/w/clinic/availability/{ana}/time-off/{tom's time off}/delete": (
        {},
        (302, 403, 404, 404, 403),
    ),
    "/w/clinic/availability/{ana}/time-off/{other's time off}/delete": (
        {},
        (302, 403, 404, 404, 403),
    ),
    # No route takes that id; the address matches only the GET that sends a reloaded
    # form's address back to the page, so the POST is not allowed.
    f"/w/clinic/availability/{{ana}}/time-off/{HUGE}/delete": ({}, (405, 405, 405, 405, 405)),
    "/w/elsewhere/availability/{other provider}/time-off/{other's time off}/delete": (
        {},
        (302, 403, 403, 403, 303),
    ),
}


@pytest.fixture
def places(world):
    """The world, with a day off each for Ana, Tom and the other business's provider."""
    found = dict(world)
    for who in ("ana", "tom", "other provider"):
        found[f"{who.removesuffix(' provider')}'s time off"] = TimeOff.create(
            provider=world[who],
            start_at=datetime(2026, 12, 2, tzinfo=UTC),
            end_at=datetime(2026, 12, 3, tzinfo=UTC),
        ).id
    return found


@pytest.mark.parametrize("route", GET)
def test_get(signed_in, places, route):
    expect(signed_in, places, route, GET[route])


@pytest.mark.parametrize("route", POST)
def test_post(signed_in, places, route):
    data, expected = POST[route]
    expect(signed_in, places, route, expected, method="POST", data=data)


@pytest.mark.parametrize("who", ["provider", "owner"])
def test_ana_and_the_owner_may_delete_anas_time_off(signed_in, places, who):
    # Not a matrix row: whoever is asked first deletes it, and the next finds it gone.
    route = "/w/clinic/availability/{ana}/time-off/{ana's time off}/delete".format(**places)
    assert post(signed_in(places[who]), route, {}).status_code == 303
    assert not TimeOff.select().where(TimeOff.id == places["ana's time off"]).exists()
