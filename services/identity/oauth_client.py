"""How Kairos talks to an OpenID Connect provider (Google, Apple) or an OAuth 2 one
with a Graph API (Facebook), for services/identity/social.py: the consent address with
``state``, ``nonce`` and PKCE (S256), the code traded for tokens, the ID token checked
(its signature against the provider's JWKS, then ``iss``, ``aud``, ``exp``, ``iat`` and
``nonce``: Authlib's CodeIDToken with every one of them essential, on joserfc), and
Facebook's ``/me`` with its ``appsecret_proof``.

Only configured addresses are fetched (the discovery document's endpoints come from a
configured address too), with no redirects, within TIMEOUT and MAX_BYTES. Discovery
documents and key sets are kept for an hour; an ID token signed with a key not yet seen
fetches the key set again, once. What goes wrong is a ProviderError (ProviderDown when
the provider did not answer as it should); its ``reason`` is for the log, never a token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from services.oauth_session import oauth_session

TIMEOUT = (5, 10)  # connect, read (seconds)
MAX_BYTES = 256 * 1024
KEEP_FOR = 3600  # seconds a discovery document or key set is kept
LEEWAY = 60  # seconds of clock skew allowed on exp and iat
SIGNING_ALGORITHMS = ("RS256", "ES256", "PS256")  # never "none" nor a shared secret


@dataclass(frozen=True)
class Provider:
    """One provider as configured: OpenID Connect by ``metadata_url``, or OAuth 2 with
    its endpoints (Facebook)."""

    name: str
    label: str  # as people know it: "Google"
    client_id: str
    client_secret: str
    scope: str
    metadata_url: str = ""
    authorize_url: str = ""
    token_url: str = ""
    graph_url: str = ""
    extra: dict = field(default_factory=dict)  # more consent parameters

    @property
    def is_oidc(self) -> bool:
        return bool(self.metadata_url)


class ProviderError(Exception):
    """The provider's answer is not one to sign anybody in with."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderDown(ProviderError):
    """The provider did not answer, or not as it should."""


def consent(provider: Provider, redirect_uri: str) -> tuple[str, dict[str, str]]:
    """The consent page's address, and what to keep until the person comes back."""
    kept = {"state": secrets.token_urlsafe(32), "verifier": secrets.token_urlsafe(48)}
    params = dict(provider.extra)
    if provider.is_oidc:
        kept["nonce"] = params["nonce"] = secrets.token_urlsafe(32)
    endpoint = _discovery(provider)["authorization_endpoint"] if provider.is_oidc else None
    with _session(provider, redirect_uri) as session:
        url, _ = session.create_authorization_url(
            endpoint or provider.authorize_url,
            state=kept["state"],
            code_verifier=kept["verifier"],
            **params,
        )
    return url, kept


def _session(provider: Provider, redirect_uri: str) -> OAuth2Session:
    return oauth_session(
        provider.client_id, provider.client_secret, provider.scope, redirect_uri, TIMEOUT
    )


def exchange(provider: Provider, code: str, verifier: str, redirect_uri: str) -> dict:
    endpoint = _discovery(provider)["token_endpoint"] if provider.is_oidc else provider.token_url
    try:
        with _session(provider, redirect_uri) as session:
            return dict(
                session.fetch_token(
                    endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=verifier,
                )
            )
    except OAuthError as exc:  # invalid_grant: a code used or forged, a wrong verifier
        raise ProviderError(f"token: {exc.error}") from exc
    except (requests.RequestException, ValueError) as exc:
        raise ProviderDown(f"token: {type(exc).__name__}") from exc


def graph_me(provider: Provider, access_token: str) -> dict:
    proof = hmac.new(
        provider.client_secret.encode(), access_token.encode(), hashlib.sha256
    ).hexdigest()
    return _get_json(
        f"{provider.graph_url}/me",
        params={"fields": "id,name,email", "appsecret_proof": proof},
        headers={"Authorization": f"Bearer {access_token}"},
    )


def _get_json(url: str, **kwargs) -> dict:
    """A JSON object from ``url``: no redirects, within TIMEOUT and MAX_BYTES. A refusal
    (4xx) is ProviderError, any other failure ProviderDown; the answer itself is never
    shown or logged."""
    try:
        with requests.get(
            url, timeout=TIMEOUT, allow_redirects=False, stream=True, **kwargs
        ) as response:
            content = response.raw.read(MAX_BYTES + 1, decode_content=True)
            status = response.status_code
    except requests.RequestException as exc:
        raise ProviderDown(f"GET {type(exc).__name__}") from exc
    if 400 <= status < 500:  # the token refused, say
        raise ProviderError(f"GET answered {status}")
    if status != 200 or len(content) > MAX_BYTES:
        raise ProviderDown(f"GET answered {status}, {len(content)} bytes")
    try:
        body = json.loads(content)
    except ValueError as exc:
        raise ProviderDown("GET answered what is not JSON") from exc
    if not isinstance(body, dict):
        raise ProviderDown("GET answered what is not an object")
    return body


_kept: dict[str, tuple[float, dict]] = {}
_kept_lock = threading.Lock()


def _fetched(url: str, again: bool = False) -> dict:
    """``url``'s JSON, fetched at most once an hour (or now, ``again``)."""
    with _kept_lock:
        found = _kept.get(url)
    if found and not again and time.monotonic() - found[0] < KEEP_FOR:
        return found[1]
    body = _get_json(url)
    with _kept_lock:
        _kept[url] = (time.monotonic(), body)
    return body


def _discovery(provider: Provider) -> dict:
    metadata = _fetched(provider.metadata_url)
    wanted = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if not all(isinstance(metadata.get(k), str) for k in wanted):
        raise ProviderDown("the discovery document lacks an endpoint")
    return metadata


def _keys(provider: Provider, metadata: dict, again: bool = False) -> KeySet:
    try:
        return KeySet.import_key_set(_fetched(metadata["jwks_uri"], again))
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise ProviderDown("the key set is not one") from exc


def verify_id_token(provider: Provider, token: dict, nonce: str, now: datetime) -> dict:
    """The ID token's claims, once its signature (the provider's JWKS) and its ``iss``,
    ``aud``, ``exp``, ``iat`` and ``nonce`` hold; else ProviderError."""
    metadata = _discovery(provider)
    id_token = token.get("id_token")
    if not nonce or not isinstance(id_token, str):
        raise ProviderError("id_token: none, or no nonce was sent")
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in SIGNING_ALGORITHMS if a in offered]
    if not algorithms:
        raise ProviderError("id_token: no signing algorithm we accept")
    registry = JWSRegistry(algorithms=algorithms)
    try:
        try:
            decoded = jwt.decode(id_token, _keys(provider, metadata), registry=registry)
        except InvalidKeyIdError:  # a key made since we fetched the set
            decoded = jwt.decode(id_token, _keys(provider, metadata, True), registry=registry)
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "values": _issuers(metadata["issuer"])},
                "aud": {"essential": True, "value": provider.client_id},
                "sub": {"essential": True},
                "exp": {"essential": True},
                "iat": {"essential": True},
            },
            {
                "nonce": nonce,
                "client_id": provider.client_id,
                "access_token": token.get("access_token"),  # at_hash, when there is one
            },
        )
        claims.validate(now=int(now.timestamp()), leeway=LEEWAY)
    except (JoseError, ValueError) as exc:  # a bad signature, a claim that does not hold
        raise ProviderError(f"id_token: {type(exc).__name__} {exc}"[:120]) from exc
    return dict(claims)


def _issuers(issuer: str) -> list[str]:
    # Google's ID tokens name their issuer with or without the scheme.
    if issuer == "https://accounts.google.com":
        return [issuer, "accounts.google.com"]
    return [issuer]
