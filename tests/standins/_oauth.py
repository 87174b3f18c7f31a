"""The OAuth 2 authorization server that the Google and Microsoft stand-ins share: the
consent page (RFC 6749 section 4.1, with PKCE S256 from RFC 7636), which agrees at once
and redirects back with a code, and the token endpoint (``authorization_code`` and
``refresh_token`` grants, client authentication in the body or with HTTP Basic). Errors
are RFC 6749 section 5.2 JSON: ``invalid_grant`` for a code or refresh token that is
unknown, used, or revoked (:meth:`OAuthServer.revoke`), ``invalid_client``,
``invalid_request``.

Access tokens live ``token_lifetime`` seconds; :meth:`OAuthServer.bearer` says whether a
request carries a live one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from email.message import Message
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from tests.standins._http import LocalService


@dataclass(frozen=True)
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str


class OAuthServer(LocalService):
    """Subclasses set ``authorize_path`` and ``token_path`` and answer the API."""

    authorize_path = ""
    token_path = ""
    rotates_refresh_tokens = False  # Microsoft sends a new refresh token on each refresh

    def __init__(self, client_id: str = "kairos-client", client_secret: str = "s3cret") -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = 3599
        self._lock = threading.Lock()
        self._codes: dict[str, Grant] = {}
        self._refresh: dict[str, str] = {}  # refresh token -> scope
        self._access: dict[str, float] = {}  # access token -> expiry (time.monotonic)
        self.token_requests: list[dict] = []

    def revoke(self, refresh_token: str) -> None:
        """The user removed Kairos's access: the refresh token stops working."""
        with self._lock:
            self._refresh.pop(refresh_token, None)

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access.clear()

    def bearer(self, headers: Message) -> bool:
        kind, _, token = (headers.get("Authorization") or "").partition(" ")
        with self._lock:
            expiry = self._access.get(token)
        return kind.lower() == "bearer" and expiry is not None and expiry > time.monotonic()

    def _consent(self, query: str) -> tuple[int, dict, bytes]:
        """The user agrees: redirect to the client with a code and the state."""
        params = dict(parse_qsl(query))
        if params.get("client_id") != self.client_id or not params.get("redirect_uri"):
            return 400, {"Content-Type": "text/plain"}, b"unknown client or no redirect_uri"
        back = params["redirect_uri"]
        if params.get("response_type") != "code" or params.get("code_challenge_method") != "S256":
            error = {"error": "invalid_request", "state": params.get("state", "")}
            return 302, {"Location": f"{back}?{urlencode(error)}"}, b""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = Grant(
                self.client_id, back, params.get("code_challenge", ""), params.get("scope", "")
            )
        answer = {"code": code, "state": params.get("state", "")}
        return 302, {"Location": f"{back}?{urlencode(answer)}"}, b""

    def _token(self, headers: Message, body: bytes) -> tuple[int, dict, bytes]:
        form = dict(parse_qsl(body.decode()))
        self.token_requests.append(form)
        if not self._client_authenticated(headers, form):
            return _error(401, "invalid_client", "Client authentication failed.")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._code_grant(form)
        if grant_type == "refresh_token":
            return self._refresh_grant(form)
        return _error(400, "unsupported_grant_type", f"{grant_type!r} is not supported.")

    def _code_grant(self, form: dict) -> tuple[int, dict, bytes]:
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # a code works once
        if grant is None:
            return _error(400, "invalid_grant", "The code is unknown or was already used.")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _error(400, "invalid_grant", "redirect_uri does not match.")
        if _s256(form.get("code_verifier", "")) != grant.challenge:
            return _error(400, "invalid_grant", "The code_verifier does not match.")
        return self._issue(grant.scope, new_refresh=True)

    def _refresh_grant(self, form: dict) -> tuple[int, dict, bytes]:
        token = form.get("refresh_token", "")
        with self._lock:
            scope = self._refresh.get(token)
            if scope is not None and self.rotates_refresh_tokens:
                del self._refresh[token]
        if scope is None:
            return _error(400, "invalid_grant", "Token has been expired or revoked.")
        return self._issue(scope, new_refresh=self.rotates_refresh_tokens)

    def _issue(self, scope: str, new_refresh: bool) -> tuple[int, dict, bytes]:
        access = secrets.token_urlsafe(32)
        answer = {
            "access_token": access,
            "expires_in": self.token_lifetime,
            "scope": scope,
            "token_type": "Bearer",
        }
        with self._lock:
            self._access[access] = time.monotonic() + self.token_lifetime
            if new_refresh:
                answer["refresh_token"] = secrets.token_urlsafe(32)
                self._refresh[answer["refresh_token"]] = scope
        return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, _dump(answer)

    def _client_authenticated(self, headers: Message, form: dict) -> bool:
        kind, _, encoded = (headers.get("Authorization") or "").partition(" ")
        if kind.lower() == "basic":
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == self.client_id and secrets.compare_digest(secret, self.client_secret)

    def _oauth_route(self, method: str, path: str, headers: Message, body: bytes):
        """The answer when ``path`` is the consent page or the token endpoint, else None."""
        url = urlsplit(path)
        if method == "GET" and url.path == self.authorize_path:
            return self._consent(url.query)
        if method == "POST" and url.path == self.token_path:
            return self._token(headers, body)
        return None


def consent(authorize_url: str) -> dict[str, str]:
    """Follow the consent page as a browser would; the parameters it redirects back with."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))


def json_answer(status: int, payload: dict, **headers: str) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json", **headers}, _dump(payload)


def read_json(body: bytes) -> dict | None:
    """A request's JSON object, or None when it is not one."""
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _error(status: int, error: str, description: str) -> tuple[int, dict, bytes]:
    return json_answer(status, {"error": error, "error_description": description})


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _dump(payload: dict) -> bytes:
    return json.dumps(payload).encode()
