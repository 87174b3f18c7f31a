"""The schedule's access matrix: every route × who is asking → the expected answer."""

import pytest

from tests.integration.workspace import as_user, expect

MATRIX = {
    # route: (anonymous, customer, provider (Ana), owner, owner of another business)
    "/w/clinic": (302, 403, 200, 200, 403),
    "/w/clinic?date=2026-11-30": (302, 403, 200, 200, 403),
    "/w/clinic/bookings/{ana's booking}": (302, 403, 200, 200, 403),
    "/w/clinic/bookings/{tom's booking}": (302, 403, 404, 200, 403),  # not Ana's to see
    "/w/clinic/bookings/{other's booking}": (302, 403, 404, 404, 403),  # another org's id
    "/w/clinic/bookings/999999": (302, 403, 404, 404, 403),
    "/w/elsewhere/bookings/{ana's booking}": (302, 403, 403, 403, 404),
    "/w/nowhere": (302, 404, 404, 404, 404),
}


@pytest.mark.parametrize("route", MATRIX)
def test_access_matrix(app, world, route):
    expect(app, world, route, MATRIX[route])


def test_owner_sees_every_provider_and_a_provider_only_themself(app, world):
    owner_page = as_user(app, world["owner"]).get("/w/clinic?date=2026-11-30").data.decode()
    ana_page = as_user(app, world["provider"]).get("/w/clinic?date=2026-11-30").data.decode()

    assert owner_page.count('class="ws-column"') == 2
    assert owner_page.count('class="ws-booking') == 2
    assert ana_page.count('class="ws-column"') == 1
    assert ana_page.count('class="ws-booking') == 1
    assert "Initial assessment" in ana_page
    assert "Sports massage" not in ana_page


def test_tabs_show_what_the_role_may_open(app, world):
    owner_page = as_user(app, world["owner"]).get("/w/clinic").data.decode()
    ana_page = as_user(app, world["provider"]).get("/w/clinic").data.decode()

    assert 'aria-current="page">Schedule<' in owner_page
    assert 'aria-current="page">Schedule<' in ana_page
