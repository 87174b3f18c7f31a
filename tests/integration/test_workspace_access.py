"""The schedule's access matrix: every route × who is asking → the expected answer."""

import pytest

from tests.integration.workspace import expect

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
    "/w/clinic/week": (302, 403, 200, 200, 403),
    "/w/clinic/week?provider={tom}": (302, 403, 404, 200, 403),
    "/w/clinic/week?provider={other provider}": (302, 403, 404, 404, 403),
    "/w/clinic/bookings/{ana's booking}/move": (302, 403, 200, 200, 403),
    "/w/clinic/bookings/{tom's booking}/move": (302, 403, 404, 200, 403),
    "/w/clinic/bookings/{tom's booking}/move/confirm?start=2026-12-01T10:00:00Z": (
        302,
        403,
        404,
        200,
        403,
    ),
    "/w/clinic/bookings/new?provider={ana}&start=2026-11-30T14:00:00Z": (302, 403, 200, 200, 403),
    "/w/clinic/bookings/new?provider={tom}&start=2026-11-30T14:00:00Z": (302, 403, 404, 200, 403),
    "/w/clinic/bookings/new?provider={other provider}&start=2026-11-30T14:00:00Z": (
        302,
        403,
        404,
        404,
        403,
    ),
    "/w/clinic/bookings/new/customers?q=a": (302, 403, 200, 200, 403),
    "/w/clinic/time-off/new?provider={ana}&start=2026-11-30T14:00:00Z": (302, 403, 200, 200, 403),
    "/w/clinic/time-off/new?provider={tom}&start=2026-11-30T14:00:00Z": (302, 403, 404, 200, 403),
    "/w/clinic/time-off/new?provider={other provider}&start=2026-11-30T14:00:00Z": (
        302,
        403,
        404,
        404,
        403,
    ),
}

POSTS = {
    # route, form: answers as above. Each row runs in order, so earlier answers may
    # change what later ones find (an owner's 200 after a provider's 404).
    ("/w/clinic/bookings/{tom's booking}/notes", "body=Hi"): (302, 403, 404, 303, 403),
    ("/w/clinic/bookings/{other's booking}/notes", "body=Hi"): (302, 403, 404, 404, 403),
    ("/w/clinic/bookings/{ana's booking}/status", "status=confirmed"): (302, 403, 409, 409, 403),
    ("/w/clinic/bookings/{other's booking}/cancel", "reason=x"): (302, 403, 404, 404, 403),
    ("/w/clinic/bookings/{tom's booking}/cancel", "reason=Ill"): (302, 403, 404, 303, 403),
    ("/w/clinic/bookings/{ana's booking}/move/confirm", "start=2026-12-01T10:00:00Z"): (
        302,
        403,
        303,
        409,
        403,
    ),
    (
        "/w/clinic/bookings/new",
        "provider={tom}&service={assessment}&start=2026-11-30T14:00:00Z&new_name=X&source=phone",
    ): (302, 403, 404, 422, 403),
    (
        "/w/clinic/time-off/new",
        "provider={tom}&start_date=2026-11-30&start_time=14:00&end_date=2026-11-30&end_time=15:00",
    ): (302, 403, 404, 303, 403),
}


@pytest.mark.parametrize("route", MATRIX)
def test_access_matrix(signed_in, world, route):
    expect(signed_in, world, route, MATRIX[route])


@pytest.mark.parametrize(("route", "form"), POSTS)
def test_access_matrix_of_actions(signed_in, world, route, form):
    data = dict(pair.split("=", 1) for pair in form.format(**world).split("&"))
    expect(signed_in, world, route, POSTS[route, form], method="POST", data=data)


def test_owner_sees_every_provider_and_a_provider_only_themself(signed_in, world):
    owner_page = signed_in(world["owner"]).get("/w/clinic?date=2026-11-30").data.decode()
    ana_page = signed_in(world["provider"]).get("/w/clinic?date=2026-11-30").data.decode()

    assert owner_page.count('class="ws-column"') == 2
    assert owner_page.count('class="ws-booking') == 2
    assert ana_page.count('class="ws-column"') == 1
    assert ana_page.count('class="ws-booking') == 1
    assert "Initial assessment" in ana_page
    assert "Sports massage" not in ana_page


def test_tabs_show_what_the_role_may_open(signed_in, world):
    owner_page = signed_in(world["owner"]).get("/w/clinic").data.decode()
    ana_page = signed_in(world["provider"]).get("/w/clinic").data.decode()

    assert 'aria-current="page">Schedule<' in owner_page
    assert 'aria-current="page">Schedule<' in ana_page
