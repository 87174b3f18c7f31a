"""services/calendar/google.py against the Google Calendar stand-in: consent with PKCE,
refreshing, a revoked refresh token, Kairos's events written, moved and removed, the
owner's events read and never touched, and busy time read incrementally."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from config import Settings
from services.calendar import google, oauth
from tests.standins._oauth import consent
from tests.standins.google_calendar import GoogleCalendar

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
BACK = "https://kairos.test/calendars/google/back"
CAL = "primary"


@pytest.fixture(scope="module")
def server():
    with GoogleCalendar() as standin:
        yield standin


@pytest.fixture
def settings(server) -> Settings:
    return Settings().with_overrides(
        google_api_base=server.base_url,
        google_oauth_base=server.base_url,
        google_client_id=server.client_id,
        google_client_secret=server.client_secret,
    )


@pytest.fixture
def calendar(server, request) -> str:
    return request.node.name  # a calendar of its own for each test


def connect(settings: Settings) -> oauth.Tokens:
    url, verifier = oauth.authorize_url(google.provider(settings), "state-1", BACK)
    answer = consent(url)
    assert answer["state"] == "state-1"
    return oauth.exchange(google.provider(settings), answer["code"], BACK, verifier, NOW)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def test_consent_asks_for_offline_access_with_pkce_and_gives_tokens(server, settings):
    url, verifier = oauth.authorize_url(google.provider(settings), "state-1", BACK)
    asked = dict(parse_qsl(urlsplit(url).query))
    tokens = connect(settings)

    assert url.startswith(f"{server.base_url}/o/oauth2/v2/auth?")
    assert asked["code_challenge_method"] == "S256"
    assert verifier not in url
    assert (asked["access_type"], asked["scope"]) == ("offline", google.SCOPE)
    assert tokens.access
    assert tokens.refresh
    assert tokens.expires_at == NOW + timedelta(seconds=server.token_lifetime)


def test_a_code_with_the_wrong_verifier_is_refused(settings):
    url, _ = oauth.authorize_url(google.provider(settings), "state-2", BACK)
    code = consent(url)["code"]

    with pytest.raises(google.Reconnect):
        oauth.exchange(google.provider(settings), code, BACK, "not-the-verifier" * 3, NOW)


def test_refresh_gives_a_new_access_token_and_keeps_the_refresh_token(server, settings):
    tokens = connect(settings)
    later = NOW + timedelta(hours=2)

    fresh = oauth.refresh(google.provider(settings), tokens, later)

    assert fresh.access != tokens.access
    assert fresh.refresh == tokens.refresh  # Google does not rotate it
    assert fresh.expires_at == later + timedelta(seconds=server.token_lifetime)
    assert server.token_requests[-1]["grant_type"] == "refresh_token"


def test_a_revoked_refresh_token_asks_the_provider_to_reconnect(server, settings):
    tokens = connect(settings)
    server.revoke(tokens.refresh)

    with pytest.raises(google.Reconnect):
        oauth.refresh(google.provider(settings), tokens, NOW)


def test_a_refused_access_token_is_an_error_not_a_crash(server, settings, calendar):
    with pytest.raises(google.CalendarApiError) as error:
        google.changes(settings, "made-up-token", calendar, None)
    assert error.value.status == 401


def test_kairos_writes_moves_and_removes_its_own_event(server, settings, calendar):
    access = connect(settings).access
    google.put_event(settings, access, calendar, "b-7", at(7, 10), at(7, 11), "Haircut")
    google.put_event(settings, access, calendar, "b-7", at(8, 14), at(8, 15), "Haircut (moved)")

    (event,) = server.live_events(calendar).values()
    assert event["id"] == google.event_id("b-7")
    assert (event["start"], event["summary"]) == (
        {"dateTime": "2026-12-08T14:00:00Z"},
        "Haircut (moved)",
    )

    google.delete_event(settings, access, calendar, "b-7")
    google.delete_event(settings, access, calendar, "b-7")  # gone already: fine
    assert server.live_events(calendar) == {}

    google.put_event(settings, access, calendar, "b-7", at(9, 10), at(9, 11), "Haircut again")
    assert [e["summary"] for e in server.live_events(calendar).values()] == ["Haircut again"]


def test_the_owners_events_are_read_and_never_touched(server, settings, calendar):
    access = connect(settings).access
    dentist = server.add_event(
        calendar,
        summary="Dentist",
        start={"dateTime": "2026-12-07T10:00:00+01:00"},
        end={"dateTime": "2026-12-07T11:00:00+01:00"},
    )
    google.put_event(settings, access, calendar, "b-1", at(7, 12), at(7, 13), "Haircut")
    google.delete_event(settings, access, calendar, "b-1")

    read = google.changes(settings, access, calendar, None)

    assert server.live_events(calendar)[dentist["id"]]["summary"] == "Dentist"
    assert read.busy == {dentist["id"]: google.Busy(at(7, 9), at(7, 10))}


def test_changes_come_incrementally_with_the_sync_token(server, settings, calendar):
    access = connect(settings).access
    lunch = server.add_event(
        calendar,
        start={"dateTime": "2026-12-07T12:00:00Z"},
        end={"dateTime": "2026-12-07T13:00:00Z"},
    )
    gym = server.add_event(
        calendar,
        start={"dateTime": "2026-12-08T18:00:00Z"},
        end={"dateTime": "2026-12-08T19:00:00Z"},
    )
    google.put_event(settings, access, calendar, "b-2", at(9, 10), at(9, 11), "Haircut")

    first = google.changes(settings, access, calendar, None)
    nothing = google.changes(settings, access, calendar, first.token)
    server.change_event(calendar, lunch["id"], end={"dateTime": "2026-12-07T14:00:00Z"})
    server.change_event(calendar, gym["id"], status="cancelled")
    after = google.changes(settings, access, calendar, nothing.token)

    assert first.complete
    assert first.token
    assert sorted(first.busy) == sorted([lunch["id"], gym["id"]])  # not Kairos's own
    assert (nothing.busy, nothing.gone, nothing.complete) == ({}, [], False)
    assert after.busy == {lunch["id"]: google.Busy(at(7, 12), at(7, 14))}
    assert (after.gone, after.complete) == ([gym["id"]], False)


def test_a_forgotten_sync_token_reads_everything_again(server, settings, calendar):
    access = connect(settings).access
    lunch = server.add_event(
        calendar,
        start={"dateTime": "2026-12-07T12:00:00Z"},
        end={"dateTime": "2026-12-07T13:00:00Z"},
    )
    first = google.changes(settings, access, calendar, None)
    server.expire_sync_tokens()

    again = google.changes(settings, access, calendar, first.token)
    following = google.changes(settings, access, calendar, again.token)

    assert again.complete
    assert list(again.busy) == [lunch["id"]]
    assert (following.busy, following.complete) == ({}, False)


def test_free_and_all_day_events_and_pages(server, settings, calendar):
    access = connect(settings).access
    server.time_zone = "America/New_York"
    server.page_size = 2
    try:
        free = server.add_event(
            calendar,
            transparency="transparent",
            start={"dateTime": "2026-12-07T12:00:00Z"},
            end={"dateTime": "2026-12-07T13:00:00Z"},
        )
        holiday = server.add_event(
            calendar, start={"date": "2026-12-24"}, end={"date": "2026-12-26"}
        )
        meeting = server.add_event(
            calendar,
            start={"dateTime": "2026-12-08T09:00:00Z"},
            end={"dateTime": "2026-12-08T10:00:00Z"},
        )
        read = google.changes(settings, access, calendar, None)
    finally:
        server.time_zone, server.page_size = "Europe/London", None

    assert read.busy == {
        holiday["id"]: google.Busy(at(24, 5), at(26, 5)),  # midnight in New York
        meeting["id"]: google.Busy(at(8, 9), at(8, 10)),
    }
    assert read.gone == [free["id"]]
    assert read.token
