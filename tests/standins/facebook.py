"""A local stand-in for Facebook Login (OAuth 2, no OpenID Connect) and the Graph API's
``/me``, for tests. On one base URL:

* ``GET /v21.0/dialog/oauth`` and ``POST /v21.0/oauth/access_token``: the consent and
  token endpoints of tests/standins/_oauth.py (PKCE S256 required); ``refuse`` makes the
  person say no (``error=access_denied``);
* ``GET /v21.0/me?fields=id,name,email``: the person (``person``) for a live access
  token given as ``Authorization: Bearer`` or ``access_token``, with
  ``appsecret_proof`` (HMAC-SHA256 of the token with the app secret, in hex) required,
  as when "Require App Secret" is on. Errors have Graph's shape
  ``{"error": {"message", "type", "code"}}``.
"""

from __future__ import annotations

import hashlib
import hmac
from email.message import Message
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.standins._oauth import OAuthServer, json_answer

VERSION = "/v21.0"


class FacebookLogin(OAuthServer):
    authorize_path = f"{VERSION}/dialog/oauth"
    token_path = f"{VERSION}/oauth/access_token"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.person = {
            "id": "4180733592051234",
            "name": "Frankie Fb",
            "email": "frankie@example.com",
        }
        self.refuse = False
        self.me_requests: list[dict] = []

    @property
    def authorize_url(self) -> str:
        return self.base_url + self.authorize_path

    @property
    def token_url(self) -> str:
        return self.base_url + self.token_path

    @property
    def graph_url(self) -> str:
        return self.base_url + VERSION

    def _respond(self, method: str, path: str, headers: Message, body: bytes):
        url = urlsplit(path)
        if self.refuse and method == "GET" and url.path == self.authorize_path:
            params = dict(parse_qsl(url.query))
            answer = {"error": "access_denied", "error_reason": "user_denied"}
            answer["state"] = params.get("state", "")
            return 302, {"Location": f"{params['redirect_uri']}?{urlencode(answer)}"}, b""
        oauth = self._oauth_route(method, path, headers, body)
        if oauth is not None:
            return oauth
        if method == "GET" and url.path == f"{VERSION}/me":
            return self._me(headers, dict(parse_qsl(url.query)))
        return _error(404, "Unknown path components", "OAuthException", 2500)

    def _me(self, headers: Message, query: dict):
        self.me_requests.append(query)
        token = query.get("access_token") or ""
        kind, _, bearer = (headers.get("Authorization") or "").partition(" ")
        if kind.lower() == "bearer":
            token = bearer
        if not token or not self.bearer(_bearer_headers(token)):
            return _error(400, "Invalid OAuth access token.", "OAuthException", 190)
        proof = hmac.new(self.client_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(query.get("appsecret_proof", ""), proof):
            return _error(400, "Invalid appsecret_proof provided", "GraphMethodException", 100)
        fields = (query.get("fields") or "id,name").split(",")
        return json_answer(200, {k: v for k, v in self.person.items() if k in fields})


def _bearer_headers(token: str) -> Message:
    headers = Message()
    headers["Authorization"] = f"Bearer {token}"
    return headers


def _error(status: int, message: str, kind: str, code: int):
    return json_answer(status, {"error": {"message": message, "type": kind, "code": code}})
