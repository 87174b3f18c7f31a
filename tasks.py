"""The Huey instance and background tasks. Tasks take ids, reload what they need, and
can run twice without doing the work twice."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from huey import RedisHuey, SqliteHuey, crontab

from config import INSTANCE, Settings
from models import db, open_database

settings = Settings.from_env()
log = logging.getLogger("kairos.tasks")

if settings.huey_url.startswith("redis"):
    huey = RedisHuey("kairos", url=settings.huey_url)
else:
    INSTANCE.mkdir(exist_ok=True)
    huey = SqliteHuey("kairos", filename=str(INSTANCE / "huey.db"))


@huey.on_startup()
def open_db() -> None:
    if db.obj is None:
        db.initialize(open_database(settings.database_url))


@huey.periodic_task(crontab(minute="17"))
def purge_expired_credentials() -> None:
    """Forget API tokens long expired, Idempotency-Keys older than a day, and emailed
    sign-in links that can no longer be used."""
    from services import account_links, auth, idempotency

    moment = datetime.now(UTC)
    with db.connection_context():
        tokens = auth.purge_tokens(moment)
        keys = idempotency.purge(moment)
        links = account_links.purge(moment)
    log.info("purged tokens=%s idempotency_keys=%s account_links=%s", tokens, keys, links)
