"""What the Google Calendar and Microsoft Graph clients share: the OAuth 2 consent
(authorization code with PKCE, through Authlib), refreshing the access token, one
bounded JSON request with the token, and what a read of busy time returns. Each
provider's module says where its server is: ``authorize_url(google.provider(settings),
state, redirect_uri)``, then ``exchange`` and ``refresh`` alike.

A refresh token the provider revoked (or one that expired unused) is ``Reconnect``: the
provider must give consent again. That is a state to show them, not a failure to retry.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from services.oauth_session import oauth_session

TIMEOUT = (5, 20)  # connect, read (seconds)
MAX_BYTES = 5 * 1024 * 1024
MAX_PAGES = 200  # of one read; a server that keeps sending "next" is not followed forever


class CalendarApiError(Exception):
    """The provider refused, or answered what its API does not allow; ``status`` if HTTP."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Reconnect(CalendarApiError):
    """The refresh token is revoked or invalid: the provider must connect again."""


class SyncTokenExpired(CalendarApiError):
    """The provider no longer knows the sync token or delta link: read everything again."""


@dataclass(frozen=True)
class Provider:
    """One OAuth 2 authorization server and what Kairos asks it for."""

    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str
    scope: str
    extra: dict = field(default_factory=dict)  # more consent parameters (offline access)


@dataclass(frozen=True)
class Tokens:
    access: str
    refresh: str
    expires_at: datetime  # UTC

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at - timedelta(seconds=60)


@dataclass(frozen=True)
class Busy:
    start: datetime  # UTC
    end: datetime


@dataclass
class Changes:
    """What changed since the last read: busy time by the provider's event id, ids that
    no longer block (deleted, cancelled, marked free, or Kairos's own), and the token or
    link to ask with next time."""

    busy: dict[str, Busy] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)
    token: str | None = None
    complete: bool = False  # everything, not only changes (the first read, or a reset)


def new_verifier() -> str:
    """A PKCE code verifier (RFC 7636: 43 to 128 unreserved characters)."""
    return secrets.token_urlsafe(48)


def authorize_url(provider: Provider, state: str, redirect_uri: str) -> tuple[str, str]:
    """The consent page's address and the PKCE verifier to keep until the code comes back."""
    verifier = new_verifier()
    with _session(provider, redirect_uri=redirect_uri) as session:
        url, _ = session.create_authorization_url(
            provider.authorize_url, state=state, code_verifier=verifier, **provider.extra
        )
    return url, verifier


def exchange(
    provider: Provider, code: str, redirect_uri: str, verifier: str, now: datetime
) -> Tokens:
    """Trade the authorization code for tokens; a refused code is ``Reconnect``."""
    with _session(provider, redirect_uri=redirect_uri) as session:
        token = _token_call(
            session.fetch_token,
            provider.token_url,
            grant_type="authorization_code",
            code=code,
            code_verifier=verifier,
        )
    return _tokens(token, refresh="", now=now)


def refresh(provider: Provider, tokens: Tokens, now: datetime) -> Tokens:
    """A new access token; the refresh token stays unless the server rotated it."""
    with _session(provider) as session:
        token = _token_call(session.refresh_token, provider.token_url, refresh_token=tokens.refresh)
    return _tokens(token, refresh=tokens.refresh, now=now)


def request_json(method: str, url: str, access: str, session=None, **kwargs) -> tuple[int, dict]:
    """One API request with the access token: (status, JSON body or {}). No redirects
    (the hosts are configured, not discovered), a size limit, and a 401 is an error:
    the caller refreshes before the token expires."""
    http = session or requests
    headers = {"Authorization": f"Bearer {access}", **kwargs.pop("headers", {})}
    try:
        response = http.request(
            method,
            url,
            headers=headers,
            timeout=TIMEOUT,
            allow_redirects=False,
            stream=True,
            **kwargs,
        )
    except requests.RequestException as exc:
        raise CalendarApiError(f"{method} failed: {type(exc).__name__}") from exc
    with response:
        if response.status_code == 401:
            raise CalendarApiError("the access token was refused", 401)
        if 300 <= response.status_code < 400:
            raise CalendarApiError(f"{method} was redirected", response.status_code)
        content = response.raw.read(MAX_BYTES + 1, decode_content=True)
    if len(content) > MAX_BYTES:
        raise CalendarApiError(f"{method}: the answer is larger than {MAX_BYTES} bytes")
    if not content.strip():
        return response.status_code, {}
    try:
        body = json.loads(content)
    except ValueError as exc:
        raise CalendarApiError(f"{method}: the answer is not JSON", response.status_code) from exc
    if not isinstance(body, dict):
        raise CalendarApiError(f"{method}: the answer is not an object", response.status_code)
    return response.status_code, body


def utc_text(moment: datetime) -> str:
    """An aware instant as ``2026-12-03T10:00:00`` in UTC, as both APIs write times."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give an aware instant")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _session(provider: Provider, redirect_uri: str | None = None) -> OAuth2Session:
    return oauth_session(
        provider.client_id, provider.client_secret, provider.scope, redirect_uri, TIMEOUT
    )


def _token_call(call, url: str, **kwargs) -> dict:
    """Run one token request; the grant refused is ``Reconnect``, anything else an error."""
    try:
        return dict(call(url, **kwargs))
    except OAuthError as exc:
        # invalid_grant: revoked, expired or used up; interaction_required (Microsoft):
        # the user must sign in again (a new MFA or consent policy)
        if exc.error in ("invalid_grant", "interaction_required"):
            raise Reconnect(f"the token endpoint answered {exc.error}") from exc
        raise CalendarApiError(f"the token endpoint answered {exc.error}") from exc
    except requests.HTTPError as exc:
        raise CalendarApiError("the token endpoint failed", exc.response.status_code) from exc
    except requests.RequestException as exc:
        raise CalendarApiError(f"the token request failed: {type(exc).__name__}") from exc


def _tokens(token: dict, refresh: str, now: datetime) -> Tokens:
    if "access_token" not in token:
        raise CalendarApiError("the token endpoint answered without an access token")
    lifetime = int(token.get("expires_in") or 3600)
    return Tokens(
        access=token["access_token"],
        refresh=token.get("refresh_token") or refresh,
        expires_at=now.astimezone(UTC) + timedelta(seconds=lifetime),
    )
