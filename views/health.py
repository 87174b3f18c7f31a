"""Liveness and readiness: /health answers while the process does (load balancers
route by it); /ready says whether the database and Redis answer too."""

from __future__ import annotations

import redis
from flask import Blueprint, current_app, jsonify

from models import db

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    # No query: a shared database that is down must not mark every instance dead.
    return jsonify({"status": "ok"})


@bp.get("/ready")
def ready():
    checks = {"database": _database(), "redis": _redis(current_app.config["SETTINGS"].redis_url)}
    ok = all(value in ("ok", "not configured") for value in checks.values())
    return jsonify({"status": "ok" if ok else "unavailable", **checks}), 200 if ok else 503


def _database() -> str:
    try:
        with db.connection_context():
            db.execute_sql("SELECT 1").fetchone()
    except Exception as exc:  # any driver error means "not ready", said in one word
        return f"failed: {type(exc).__name__}"
    return "ok"


def _redis(url: str) -> str:
    if not url:
        return "not configured"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        with client:
            client.ping()
    except redis.RedisError as exc:
        return f"failed: {type(exc).__name__}"
    return "ok"
