"""ALLOW_LOOPBACK_HTTP: production over plain HTTP on this machine only (`make prod`)."""

from __future__ import annotations

import pytest

from config import Settings

PRODUCTION = {"KAIROS_ENV": "production", "SECRET_KEY": "s", "KAIROS_ENCRYPTION_KEYS": "k"}


@pytest.mark.parametrize(
    ("base_url", "allowed", "https_only"),
    [
        ("http://127.0.0.1:5000", "1", False),
        ("http://localhost:5000", "1", False),
        ("http://127.0.0.1:5000", "", True),  # not asked for
        ("http://kairos.example.com", "1", True),  # not loopback
        ("https://127.0.0.1:5000", "1", True),  # HTTPS anyway
    ],
)
def test_only_a_loopback_http_base_url_relaxes_https(base_url, allowed, https_only):
    env = PRODUCTION | {"BASE_URL": base_url, "ALLOW_LOOPBACK_HTTP": allowed}

    assert Settings.from_env(env).https_only is https_only


def test_loopback_http_still_needs_the_production_secrets():
    env = {"KAIROS_ENV": "production", "SECRET_KEY": "s", "ALLOW_LOOPBACK_HTTP": "1"}

    with pytest.raises(RuntimeError, match="KAIROS_ENCRYPTION_KEYS"):
        Settings.from_env(env)
