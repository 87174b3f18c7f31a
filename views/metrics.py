"""/metrics for Prometheus: only to the machine itself (loopback, not through a proxy
from elsewhere) or to a scraper with the METRICS_TOKEN; to anyone else there is no such
page (404)."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from services.booking import slot_cache
from services.observability import metrics as collected
from views import limits

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics():
    if not _may_scrape():
        abort(404)
    queue = current_app.config.get("QUEUE")  # tests give a queue of their own
    if queue is None:
        import tasks  # not before it is needed: it opens the queue

        queue = tasks.huey
    body = collected.exposition(queue.pending_count, _slot_counts)
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _may_scrape() -> bool:
    """Loopback, or the right token. A request that brings a token from elsewhere is a
    try at a secret: rate limited per address (a wrong one counts), checked only then."""
    if _from_this_machine():
        return True
    token = current_app.config["SETTINGS"].metrics_token
    given = request.headers.get("Authorization", "")
    if not (token and given):
        return False
    limits.take("metrics_token", {})
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def _from_this_machine() -> bool:
    """The client is on loopback: its address (the forwarded one when TRUSTED_PROXIES
    says proxies are in front: views/limits.py applies ProxyFix) and every address a
    proxy forwarded for. Behind HAProxy on loopback with TRUSTED_PROXIES unset, every
    peer is 127.0.0.1, but X-Forwarded-For still names the outside client."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    addresses = [request.remote_addr or "", *(a.strip() for a in forwarded.split(",") if a.strip())]
    return all(_is_loopback(address) for address in addresses)


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def _slot_counts() -> dict:
    """The cluster's slot-cache counts from Redis, or this process's without it."""
    return slot_cache.shared_stats() or slot_cache.stats()
