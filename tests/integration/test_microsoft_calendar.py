"""services/calendar/microsoft.py against the Microsoft Graph stand-in: consent with
PKCE, refreshing (the refresh token rotates), a revoked refresh token, Kairos's events
written, moved and removed, the owner's events read and never touched, and busy time
read incrementally through delta links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from config import Settings
from services.calendar import microsoft, oauth
from tests.standins._oauth import consent
from tests.standins.ms_graph import MsGraph

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
BACK = "https://kairos.test/calendars/microsoft/back"
START, END = datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def server():
    with MsGraph() as standin:
        yield standin


@pytest.fixture
def settings(server) -> Settings:
    return Settings().with_overrides(
        ms_graph_base=server.base_url,
        ms_login_base=server.base_url,
        ms_client_id=server.client_id,
        ms_client_secret=server.client_secret,
    )


@pytest.fixture
def calendar(request) -> str:
    return request.node.name  # a calendar of its own for each test


@pytest.fixture
def access(settings) -> str:
    return connect(settings).access


def connect(settings: Settings) -> oauth.Tokens:
    url, verifier = oauth.authorize_url(microsoft.provider(settings), "state-1", BACK)
    answer = consent(url)
    assert answer["state"] == "state-1"
    return oauth.exchange(microsoft.provider(settings), answer["code"], BACK, verifier, NOW)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def read(settings, access, calendar, link=None) -> microsoft.Changes:
    return microsoft.changes(settings, access, calendar, link, START, END)


def test_consent_asks_for_offline_access_with_pkce_and_gives_tokens(server, settings):
    url, verifier = oauth.authorize_url(microsoft.provider(settings), "state-1", BACK)
    asked = dict(parse_qsl(urlsplit(url).query))
    tokens = connect(settings)

    assert url.startswith(f"{server.base_url}/common/oauth2/v2.0/authorize?")
    assert asked["code_challenge_method"] == "S256"
    assert verifier not in url
    assert "offline_access" in asked["scope"].split()
    assert tokens.access
    assert tokens.refresh
    assert tokens.expires_at == NOW + timedelta(seconds=server.token_lifetime)


def test_a_code_is_good_once(settings):
    url, verifier = oauth.authorize_url(microsoft.provider(settings), "state-2", BACK)
    code = consent(url)["code"]
    oauth.exchange(microsoft.provider(settings), code, BACK, verifier, NOW)

    with pytest.raises(microsoft.Reconnect):
        oauth.exchange(microsoft.provider(settings), code, BACK, verifier, NOW)


def test_refresh_keeps_the_rotated_refresh_token(server, settings):
    tokens = connect(settings)
    fresh = oauth.refresh(microsoft.provider(settings), tokens, NOW + timedelta(hours=2))
    again = oauth.refresh(microsoft.provider(settings), fresh, NOW + timedelta(hours=4))

    assert fresh.refresh != tokens.refresh
    assert again.access not in (tokens.access, fresh.access)
    with pytest.raises(microsoft.Reconnect):  # the old one was used up
        oauth.refresh(microsoft.provider(settings), tokens, NOW)


def test_a_revoked_refresh_token_asks_the_provider_to_reconnect(server, settings):
    tokens = connect(settings)
    server.revoke(tokens.refresh)

    with pytest.raises(microsoft.Reconnect):
        oauth.refresh(microsoft.provider(settings), tokens, NOW)


def test_a_refused_access_token_is_an_error_not_a_crash(server, settings, calendar):
    with pytest.raises(microsoft.CalendarApiError) as error:
        read(settings, "made-up-token", calendar)
    assert error.value.status == 401


def test_kairos_writes_moves_and_removes_its_own_event(server, settings, access, calendar):
    first = microsoft.put_event(settings, access, calendar, "b-7", at(7, 10), at(7, 11), "Cut")
    moved = microsoft.put_event(settings, access, calendar, "b-7", at(8, 14), at(8, 15), "Cut 2")

    (event,) = server.live_events(calendar).values()
    assert first == moved == event["id"]
    assert event["transactionId"] == "kairos-b-7"
    assert (event["start"]["dateTime"], event["subject"]) == ("2026-12-08T14:00:00", "Cut 2")

    microsoft.delete_event(settings, access, calendar, "b-7")
    microsoft.delete_event(settings, access, calendar, "b-7")  # gone already: fine
    assert server.live_events(calendar) == {}


def test_the_owners_events_are_read_and_never_touched(server, settings, access, calendar):
    dentist = server.add_event(calendar, "Dentist", at(7, 9), at(7, 10))
    microsoft.put_event(settings, access, calendar, "b-1", at(7, 12), at(7, 13), "Cut")
    microsoft.delete_event(settings, access, calendar, "b-1")
    microsoft.delete_event(settings, access, calendar, "b-2")  # never written: nothing to do

    changes = read(settings, access, calendar)

    assert server.live_events(calendar)[dentist["id"]]["subject"] == "Dentist"
    assert changes.busy == {dentist["id"]: microsoft.Busy(at(7, 9), at(7, 10))}


def test_changes_come_incrementally_with_the_delta_link(server, settings, access, calendar):
    lunch = server.add_event(calendar, "Lunch", at(7, 12), at(7, 13))
    gym = server.add_event(calendar, "Gym", at(8, 18), at(8, 19))
    microsoft.put_event(settings, access, calendar, "b-2", at(9, 10), at(9, 11), "Cut")

    first = read(settings, access, calendar)
    nothing = read(settings, access, calendar, first.token)
    server.change_event(
        lunch["id"], end={"dateTime": "2026-12-07T14:00:00.0000000", "timeZone": "UTC"}
    )
    server.change_event(gym["id"], _deleted=True)
    after = read(settings, access, calendar, nothing.token)

    assert first.complete
    assert first.token
    assert sorted(first.busy) == sorted([lunch["id"], gym["id"]])  # not Kairos's own
    assert (nothing.busy, nothing.gone, nothing.complete) == ({}, [], False)
    assert after.busy == {lunch["id"]: microsoft.Busy(at(7, 12), at(7, 14))}
    assert (after.gone, after.complete) == ([gym["id"]], False)


def test_a_forgotten_delta_link_reads_everything_again(server, settings, access, calendar):
    lunch = server.add_event(calendar, "Lunch", at(7, 12), at(7, 13))
    first = read(settings, access, calendar)
    server.expire_delta_links()

    again = read(settings, access, calendar, first.token)
    following = read(settings, access, calendar, again.token)

    assert again.complete
    assert list(again.busy) == [lunch["id"]]
    assert (following.busy, following.complete) == ({}, False)


def test_free_and_cancelled_events_are_not_busy_across_pages(server, settings, access, calendar):
    server.page_size = 2
    try:
        free = server.add_event(calendar, "Focus", at(7, 9), at(7, 10), showAs="free")
        off = server.add_event(calendar, "Call", at(7, 11), at(7, 12), isCancelled=True)
        away = server.add_event(calendar, "Away", at(8, 9), at(8, 17), showAs="oof")
        changes = read(settings, access, calendar)
    finally:
        server.page_size = 50

    assert changes.busy == {away["id"]: microsoft.Busy(at(8, 9), at(8, 17))}
    assert sorted(changes.gone) == sorted([free["id"], off["id"]])


def test_a_link_to_another_host_is_not_followed(settings, access, calendar):
    """A delta link is requested with the access token: only Graph's host gets it."""
    with MsGraph() as elsewhere, pytest.raises(microsoft.CalendarApiError, match="another host"):
        read(settings, access, calendar, f"{elsewhere.base_url}/v1.0/me/delta?$deltatoken=x")
