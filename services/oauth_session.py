"""The OAuth 2 client session that calendar sync (services/calendar/oauth.py) and signing
in with Google, Apple or Facebook (services/identity/oauth_client.py) both use: PKCE
S256, the client's secret in the body (the one way every provider here takes), a
timeout, no redirects followed, and nothing from the environment (proxies, .netrc)."""

from __future__ import annotations

from authlib.integrations.requests_client import OAuth2Session


def oauth_session(
    client_id: str, client_secret: str, scope: str, redirect_uri: str | None, timeout: float
) -> OAuth2Session:
    session = OAuth2Session(
        client_id,
        client_secret,
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",
        default_timeout=timeout,
    )
    session.max_redirects = 0
    session.trust_env = False
    return session
