"""Settings, read once from the environment.

Imported by the web app and by the Huey worker alike, so neither needs the other
to know how it is configured.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"


def _dev_secret_key() -> str:
    """A key generated once per checkout and kept under instance/, for development only."""
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _dev_encryption_key() -> str:
    """A Fernet key (32 random bytes, base64url) generated once per checkout and kept
    under instance/, for development only: what it encrypts is unreadable without it."""
    path = INSTANCE / "encryption_key"
    if not path.exists():
        INSTANCE.mkdir(exist_ok=True)
        path.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


def _keys(text: str) -> tuple[str, ...]:
    """ "new, old" -> ("new", "old"): the newest key first."""
    return tuple(k.strip() for k in text.split(",") if k.strip())


def _scale(text: str) -> float:
    """RATE_LIMIT_SCALE: a multiplier for every rate limit; "off" (or 0) switches them off."""
    text = text.strip().lower()
    return 0.0 if text in ("off", "no", "false") else max(0.0, float(text or "1"))


def _hosts(text: str) -> tuple[str, ...]:
    """ "a.test, B.test" -> ("a.test", "b.test")."""
    return tuple(h.strip().lower() for h in text.split(",") if h.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{INSTANCE / 'kairos.db'}"
    secret_key: str = field(default="", repr=False)
    # Keys for secrets kept in the database (services/crypto.py), newest first; empty:
    # nothing can be encrypted (from_env fills it in development, refuses elsewhere).
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    env: str = "development"
    huey_url: str = ""  # empty: SqliteHuey under instance/; redis://... for RedisHuey
    base_url: str = "http://127.0.0.1:5000"
    # Production over plain HTTP, allowed only when base_url is on loopback (see loopback_http).
    allow_loopback_http: bool = False
    mail_from: str = "Kairos <bookings@kairos.test>"
    smtp_host: str = ""  # empty: mail is written to the console and instance/outbox/
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = False
    # Text messages: Twilio when all three are set, else the console (development).
    twilio_sid: str = ""
    twilio_token: str = field(default="", repr=False)
    twilio_from: str = ""
    twilio_api_url: str = "https://api.twilio.com"
    # Web push: the VAPID key (PEM, or base64url of the raw key); empty: one generated
    # once into instance/vapid_private.pem.
    vapid_private_key: str = field(default="", repr=False)
    vapid_subject: str = ""  # mailto: or https: contact for push services; default MAIL_FROM
    # Hosts a push subscription may point at besides the known push services (which are
    # https only); these may be http. For tests' local push service; empty elsewhere.
    push_allow_hosts: tuple[str, ...] = ()
    # Hosts an imported calendar's ICS address may resolve to although they are loopback or
    # private (services/calendar/fetch.py): for tests' local calendar server; empty elsewhere.
    calendar_allow_hosts: tuple[str, ...] = ()
    # Reminders before each appointment ("24h,2h"); empty: each organisation's own.
    reminder_offsets: str = ""
    # A notification claimed longer ago than this was cut off mid-send, and is retried;
    # one queued and due longer ago than outbox_stale_seconds lost its task. The first
    # retry waits outbox_retry_seconds, each next one twice as long (at most an hour).
    outbox_lease_seconds: int = 300
    outbox_stale_seconds: int = 120
    outbox_retry_seconds: int = 30
    # Rate limits (services/ratelimits): counters in Redis when redis_url is set, else in
    # the database; every limit's count is multiplied by rate_limit_scale (0: no limits).
    redis_url: str = ""
    rate_limit_scale: float = 1.0
    rate_limit_prefix: str = "kairos:ratelimit:"  # Redis keys, for several sites on one Redis
    # Computed free slots shared in Redis (services/booking/slot_cache.py), when redis_url
    # is set: the keys' prefix, and how long an entry is kept.
    slot_cache_prefix: str = "kairos:slots:"
    slot_cache_seconds: int = 3600
    # How many proxies in front of the app set X-Forwarded-For: the client's address,
    # which per-address limits count by, is taken that many hops back (0: the peer's).
    trusted_proxies: int = 0
    # Payments (services/payments). The keys here serve a single-business install and the
    # demo; a business's own keys, entered in its Settings, come first. No keys at all:
    # nothing is paid online. stripe_api_base and stripe_js_url point at a stand-in
    # (localstripe in the tests).
    stripe_secret_key: str = field(default="", repr=False)
    stripe_publishable_key: str = ""
    stripe_webhook_secret: str = field(default="", repr=False)
    stripe_api_base: str = "https://api.stripe.com"
    stripe_js_url: str = "https://js.stripe.com/v3/"
    payment_hold_minutes: int = 10
    # Calendar sync with Google Calendar and Microsoft Graph (services/calendar): the
    # OAuth clients registered with each, and their hosts (local stand-ins in the tests).
    google_client_id: str = ""
    google_client_secret: str = field(default="", repr=False)
    google_api_base: str = "https://www.googleapis.com"
    google_oauth_base: str = "https://accounts.google.com"
    ms_client_id: str = ""
    ms_client_secret: str = field(default="", repr=False)
    ms_graph_base: str = "https://graph.microsoft.com"
    ms_login_base: str = "https://login.microsoftonline.com"
    # Signing in with Google (the same OAuth client as calendar sync), Apple and Facebook
    # (services/identity/social.py): a button shows for each provider with a client id
    # and secret. The discovery documents and Facebook's endpoints may point at local
    # stand-ins (the tests').
    google_metadata_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    apple_client_id: str = ""
    apple_client_secret: str = field(default="", repr=False)
    apple_metadata_url: str = "https://appleid.apple.com/.well-known/openid-configuration"
    facebook_client_id: str = ""
    facebook_client_secret: str = field(default="", repr=False)
    facebook_authorize_url: str = "https://www.facebook.com/v21.0/dialog/oauth"
    facebook_token_url: str = "https://graph.facebook.com/v21.0/oauth/access_token"
    facebook_graph_url: str = "https://graph.facebook.com/v21.0"
    # Logs: "json" (one object per line) or "text"; /metrics: a bearer token for scrapers
    # not on loopback (empty: loopback only). See services/observability.
    log_format: str = "text"
    metrics_token: str = field(default="", repr=False)

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def loopback_http(self) -> bool:
        """ALLOW_LOOPBACK_HTTP and a BASE_URL of http://127.0.0.1 or localhost: served over
        plain HTTP on this machine only (`make prod`), so production settings apply except
        the ones that need HTTPS (Secure cookies, HSTS)."""
        parts = urlsplit(self.base_url)
        loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
        return self.allow_loopback_http and loopback

    @property
    def https_only(self) -> bool:
        """Cookies marked Secure, HSTS sent: everywhere but development and loopback HTTP."""
        return not (self.is_development or self.loopback_http)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls(
            database_url=env.get("DATABASE_URL") or cls.database_url,
            secret_key=env.get("SECRET_KEY", ""),
            encryption_keys=_keys(env.get("KAIROS_ENCRYPTION_KEYS", "")),
            env=env.get("KAIROS_ENV", "development"),
            huey_url=env.get("HUEY_URL", env.get("REDIS_URL", "")),
            base_url=env.get("BASE_URL", f"http://127.0.0.1:{env.get('PORT', '5000')}"),
            allow_loopback_http=env.get("ALLOW_LOOPBACK_HTTP", "") in ("1", "true", "yes"),
            mail_from=env.get("MAIL_FROM", cls.mail_from),
            smtp_host=env.get("SMTP_HOST", ""),
            smtp_port=int(env.get("SMTP_PORT", "25")),
            smtp_user=env.get("SMTP_USERNAME", env.get("SMTP_USER", "")),
            smtp_password=env.get("SMTP_PASSWORD", ""),
            smtp_starttls=env.get("SMTP_STARTTLS", "") in ("1", "true", "yes"),
            twilio_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_from=env.get("TWILIO_FROM", ""),
            twilio_api_url=env.get("TWILIO_API_URL", cls.twilio_api_url),
            vapid_private_key=env.get("VAPID_PRIVATE_KEY", ""),
            vapid_subject=env.get("VAPID_SUBJECT", ""),
            push_allow_hosts=_hosts(env.get("PUSH_ALLOW_HOSTS", "")),
            calendar_allow_hosts=_hosts(env.get("CALENDAR_ALLOW_HOSTS", "")),
            reminder_offsets=env.get("REMINDER_OFFSETS", ""),
            outbox_lease_seconds=int(env.get("OUTBOX_LEASE_SECONDS", "300")),
            outbox_stale_seconds=int(env.get("OUTBOX_STALE_SECONDS", "120")),
            outbox_retry_seconds=int(env.get("OUTBOX_RETRY_SECONDS", "30")),
            redis_url=env.get("REDIS_URL", ""),
            rate_limit_scale=_scale(env.get("RATE_LIMIT_SCALE", "1")),
            rate_limit_prefix=env.get("RATE_LIMIT_PREFIX", cls.rate_limit_prefix),
            slot_cache_prefix=env.get("SLOT_CACHE_PREFIX", cls.slot_cache_prefix),
            slot_cache_seconds=int(env.get("SLOT_CACHE_SECONDS", "3600")),
            trusted_proxies=int(env.get("TRUSTED_PROXIES", "0")),
            stripe_secret_key=env.get("STRIPE_SECRET_KEY", ""),
            stripe_publishable_key=env.get("STRIPE_PUBLISHABLE_KEY", ""),
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET", ""),
            stripe_api_base=env.get("STRIPE_API_BASE", cls.stripe_api_base).rstrip("/"),
            stripe_js_url=env.get("STRIPE_JS_URL", cls.stripe_js_url),
            payment_hold_minutes=int(env.get("PAYMENT_HOLD_MINUTES", "10")),
            google_client_id=env.get("GOOGLE_CLIENT_ID", ""),
            google_client_secret=env.get("GOOGLE_CLIENT_SECRET", ""),
            google_api_base=env.get("GOOGLE_API_BASE", cls.google_api_base).rstrip("/"),
            google_metadata_url=env.get("GOOGLE_METADATA_URL", cls.google_metadata_url),
            apple_client_id=env.get("APPLE_CLIENT_ID", ""),
            apple_client_secret=env.get("APPLE_CLIENT_SECRET", ""),
            apple_metadata_url=env.get("APPLE_METADATA_URL", cls.apple_metadata_url),
            facebook_client_id=env.get("FACEBOOK_CLIENT_ID", ""),
            facebook_client_secret=env.get("FACEBOOK_CLIENT_SECRET", ""),
            facebook_authorize_url=env.get("FACEBOOK_AUTHORIZE_URL", cls.facebook_authorize_url),
            facebook_token_url=env.get("FACEBOOK_TOKEN_URL", cls.facebook_token_url),
            facebook_graph_url=env.get("FACEBOOK_GRAPH_URL", cls.facebook_graph_url).rstrip("/"),
            google_oauth_base=env.get("GOOGLE_OAUTH_BASE", cls.google_oauth_base).rstrip("/"),
            ms_client_id=env.get("MS_CLIENT_ID", ""),
            ms_client_secret=env.get("MS_CLIENT_SECRET", ""),
            ms_graph_base=env.get("MS_GRAPH_BASE", cls.ms_graph_base).rstrip("/"),
            ms_login_base=env.get("MS_LOGIN_BASE", cls.ms_login_base).rstrip("/"),
            log_format=env.get("LOG_FORMAT")
            or ("json" if env.get("KAIROS_ENV") == "production" else "text"),
            metrics_token=env.get("METRICS_TOKEN", ""),
        )
        if not settings.secret_key:
            if not settings.is_development:
                raise RuntimeError("SECRET_KEY must be set outside development")
            settings = replace(settings, secret_key=_dev_secret_key())
        if not settings.encryption_keys:
            if not settings.is_development:
                raise RuntimeError(
                    "KAIROS_ENCRYPTION_KEYS must be set outside development"
                    " (comma-separated Fernet keys, newest first)"
                )
            settings = replace(settings, encryption_keys=(_dev_encryption_key(),))
        return settings

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)
