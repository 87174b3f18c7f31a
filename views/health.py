"""Liveness for load balancers and `make run`'s own check."""

from __future__ import annotations

from flask import Blueprint, jsonify

from models import db

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    # If the database does not answer, the handler in views/errors.py answers 503.
    db.execute_sql("SELECT 1").fetchone()
    return jsonify({"status": "ok"})
