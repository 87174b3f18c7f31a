"""Settings, read once from the environment.

Imported by the web app and by the Huey worker alike, so neither needs the other
to know how it is configured.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

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


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{INSTANCE / 'kairos.db'}"
    secret_key: str = field(default="", repr=False)
    env: str = "development"
    huey_url: str = ""  # empty: SqliteHuey under instance/; redis://... for RedisHuey
    api_token_days: int = 30
    slot_step_minutes: int = 15
    base_url: str = "http://127.0.0.1:5000"
    mail_from: str = "Kairos <bookings@kairos.test>"
    smtp_host: str = ""  # empty: mail is written to the console and instance/outbox/
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = False

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls(
            database_url=env.get("DATABASE_URL") or cls.database_url,
            secret_key=env.get("SECRET_KEY", ""),
            env=env.get("KAIROS_ENV", "development"),
            huey_url=env.get("HUEY_URL", env.get("REDIS_URL", "")),
            base_url=env.get("BASE_URL", f"http://127.0.0.1:{env.get('PORT', '5000')}"),
            mail_from=env.get("MAIL_FROM", cls.mail_from),
            smtp_host=env.get("SMTP_HOST", ""),
            smtp_port=int(env.get("SMTP_PORT", "25")),
            smtp_user=env.get("SMTP_USER", ""),
            smtp_password=env.get("SMTP_PASSWORD", ""),
            smtp_starttls=env.get("SMTP_STARTTLS", "") in ("1", "true", "yes"),
        )
        if not settings.secret_key:
            if not settings.is_development:
                raise RuntimeError("SECRET_KEY must be set outside development")
            settings = replace(settings, secret_key=_dev_secret_key())
        return settings

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)
