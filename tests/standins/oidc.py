"""A local OpenID Connect provider for tests, standing in for Google or Apple, with its
own RSA key. On one base URL it serves:

* ``GET /.well-known/openid-configuration``: the discovery document (issuer, the
  endpoints below, RS256, the response modes);
* ``GET <jwks_path>``: the public key as a JWK set;
* ``GET <authorize_path>``: the consent (tests/standins/_oauth.py: PKCE S256 required),
  as the person in ``person`` (:class:`Person`). It agrees at once and redirects back
  with ``code`` and ``state``, or, with ``response_mode=form_post`` (Apple), answers a
  page whose form POSTs them (and Apple's first-time ``user`` JSON) to the client. With
  ``interactive`` set it first shows a page with a "Continue as ..." link, for browsers.
  With ``refuse`` set, the person says no: ``error=access_denied``;
* ``POST <token_path>``: the code for tokens, now with an ``id_token`` signed RS256 with
  ``iss``, ``aud``, ``sub``, ``iat``, ``exp`` (``token_lifetime``), the ``nonce`` of the
  authorization request and the person's email claims. ``tamper`` changes claims of
  the next ID tokens (an expired ``exp``, another ``aud``, ``iss`` or ``nonce``; None
  leaves a claim out) and
  ``sign_with_stranger`` signs them with a key that is not in the JWKS, under the
  published key's ``kid``. ``down`` answers 503 everywhere; ``slow`` delays the token
  endpoint's answer.

``now`` is the stand-in's clock (seconds since the epoch), so tests with a frozen clock
get tokens that are fresh at that time.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import parse_qsl, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.standins._oauth import OAuthServer, json_answer

DISCOVERY = "/.well-known/openid-configuration"


@dataclass
class Person:
    """Who is signed in at the provider."""

    sub: str = "10769150350006150715113082367"
    email: str | None = "jo@example.com"
    email_verified: bool | str = True  # Apple sends "true" / "false" as strings
    name: str | None = "Jo Bloggs"
    extra: dict = field(default_factory=dict)  # more claims (Apple's is_private_email)


@dataclass(frozen=True)
class Paths:
    authorize: str
    token: str
    jwks: str


GOOGLE_PATHS = Paths("/o/oauth2/v2/auth", "/token", "/oauth2/v3/certs")
APPLE_PATHS = Paths("/auth/authorize", "/auth/token", "/auth/keys")


class OidcProvider(OAuthServer):
    def __init__(
        self,
        paths: Paths = GOOGLE_PATHS,
        *,
        now: Callable[[], float] = time.time,
        names_in_token: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.authorize_path, self.token_path, self.jwks_path = (
            paths.authorize,
            paths.token,
            paths.jwks,
        )
        self.issuer = self.base_url
        self.now = now
        self.names_in_token = names_in_token  # Apple never puts the name in the ID token
        self.key = RSAKey.generate_key(2048, parameters={"kid": "standin-1", "use": "sig"})
        self.person = Person()
        self.first_time_user: dict | None = None  # Apple's ``user`` form field
        self.interactive = False
        self.refuse = False
        self.tamper: dict = {}
        self.sign_with_stranger = False
        self.down = False  # every endpoint answers 503
        self.slow = 0.0  # seconds the token endpoint takes to answer
        self._nonces: dict[str, str] = {}  # code -> the nonce asked for with it
        self.authorize_requests: list[dict] = []

    @property
    def metadata_url(self) -> str:
        return self.base_url + DISCOVERY

    def _respond(self, method: str, path: str, headers: Message, body: bytes):
        if self.down:
            return 503, {"Content-Type": "text/plain"}, b"unavailable"
        url = urlsplit(path)
        if method == "GET" and url.path == DISCOVERY:
            return json_answer(200, self._discovery())
        if method == "GET" and url.path == self.jwks_path:
            return json_answer(200, KeySet([self.key]).as_dict(private=False))
        if method == "GET" and url.path == self.authorize_path:
            return self._authorize(url.query)
        if method == "POST" and url.path == self.token_path:
            time.sleep(self.slow)
            return self._token(headers, body)
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.base_url + self.authorize_path,
            "token_endpoint": self.base_url + self.token_path,
            "jwks_uri": self.base_url + self.jwks_path,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "name"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
        }

    def _authorize(self, query: str):
        params = dict(parse_qsl(query))
        self.authorize_requests.append(params)
        if self.interactive and params.get("approve") != "1":
            return self._consent_page(query)
        back = params.get("redirect_uri", "")
        if self.refuse and params.get("client_id") == self.client_id and back:
            answer = {"error": "access_denied", "state": params.get("state", "")}
            return self._send_back(params, answer)
        status, headers, page = self._consent(query)
        location = headers.get("Location", "")
        answer = dict(parse_qsl(urlsplit(location).query))
        if status != 302 or "code" not in answer:
            return status, headers, page
        self._nonces[answer["code"]] = params.get("nonce", "")
        if self.first_time_user is not None:
            answer["user"] = json.dumps(self.first_time_user)
        return self._send_back(params, answer)

    def _send_back(self, params: dict, answer: dict):
        back = params["redirect_uri"]
        if params.get("response_mode") != "form_post":
            answer.pop("user", None)
            return 302, {"Location": f"{back}?{urlencode(answer)}"}, b""
        fields = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in answer.items()
        )
        page = (
            f'<!doctype html><title>Apple</title><form method="post" action="{html.escape(back)}">'
            f'{fields}<button type="submit">Continue</button></form>'
        )
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()

    def _consent_page(self, query: str):
        who = html.escape(self.person.name or self.person.email or "you")
        target = html.escape(f"{self.authorize_path}?{query}&approve=1")
        page = (
            '<!doctype html><html lang="en"><title>Sign in · stand-in</title>'
            f'<main><h1>Sign in to Kairos</h1><a id="approve" href="{target}">'
            f"Continue as {who}</a></main></html>"
        )
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()

    def _code_grant(self, form: dict):
        nonce = self._nonces.pop(form.get("code", ""), None)
        status, headers, body = super()._code_grant(form)
        if status != 200:
            return status, headers, body
        answer = json.loads(body)
        answer["id_token"] = self.id_token(nonce)
        return status, headers, json.dumps(answer).encode()

    def id_token(self, nonce: str | None) -> str:
        """An ID token for ``person`` as this provider issues it (``tamper`` applied)."""
        issued = int(self.now())
        person = self.person
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": person.sub,
            "iat": issued,
            "exp": issued + 3600,
            **({"nonce": nonce} if nonce else {}),
            **({"email": person.email} if person.email else {}),
            **({"email_verified": person.email_verified} if person.email else {}),
            **({"name": person.name} if person.name and self.names_in_token else {}),
            **person.extra,
            **self.tamper,
        }
        claims = {name: value for name, value in claims.items() if value is not None}
        key = self.key
        if self.sign_with_stranger:
            key = RSAKey.generate_key(2048, parameters={"kid": self.key.kid})
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
