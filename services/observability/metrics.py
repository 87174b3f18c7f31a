"""Prometheus metrics: what is counted where it happens, and the page /metrics shows
(views/metrics.py).

Several processes: gunicorn's workers and the Huey consumer each count in their own
memory unless PROMETHEUS_MULTIPROC_DIR names a directory they share (on one machine).
Then prometheus_client keeps every process's values in files there, and a scrape of
any web process adds them all up, the worker's notifications included. The directory
must be emptied before the processes start (see README, "Observability"); the
variable is read when prometheus_client is first imported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger("kairos.metrics")

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
disable_created_metrics()  # the *_created series: noise beside counts kept from startup
if MULTIPROCESS_DIR:
    os.makedirs(MULTIPROCESS_DIR, exist_ok=True)  # each metric opens its file there

REQUEST_SECONDS = Histogram(
    "kairos_request_duration_seconds",
    "Time to answer a request, by Flask endpoint, method and status class.",
    ("endpoint", "method", "status"),
)
BOOKINGS_CREATED = Counter(
    "kairos_bookings_created",
    "Bookings committed: new ones, and the new booking a reschedule makes.",
    ("kind",),
)
NOTIFICATIONS_SENT = Counter(
    "kairos_notifications_sent", "Notifications delivered, by channel.", ("channel",)
)
NOTIFICATIONS_FAILED = Counter(
    "kairos_notifications_failed",
    "Notifications given up on (a permanent error or too many tries), by channel.",
    ("channel",),
)
HOLDS_EXPIRED = Counter(
    "kairos_payment_holds_expired", "Bookings held for a payment that never came, released."
)


def request_finished(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    """One request answered. ``endpoint`` is the route's name, not its path, so the
    number of series stays bounded; no route at all (a 404) is "unmatched"."""
    labels = (endpoint or "unmatched", method, f"{status // 100}xx")
    REQUEST_SECONDS.labels(*labels).observe(seconds)


def booking_created(*, rescheduled: bool) -> None:
    BOOKINGS_CREATED.labels("rescheduled" if rescheduled else "new").inc()


def notification_finished(status: str, channel: str) -> None:
    """A notification's delivery ended as ``status``; only sent and failed are counted."""
    if status == "sent":
        NOTIFICATIONS_SENT.labels(channel).inc()
    elif status == "failed":
        NOTIFICATIONS_FAILED.labels(channel).inc()


def holds_expired(count: int) -> None:
    if count:
        HOLDS_EXPIRED.inc(count)


class QueueDepth:
    """The tasks waiting in the queue, read when scraped; -1 when the queue cannot be
    reached (the scrape still answers)."""

    def __init__(self, pending_count: Callable[[], int]) -> None:
        self.pending_count = pending_count

    def collect(self) -> Iterator[Metric]:
        try:
            depth = self.pending_count()
        except Exception as exc:
            log.warning("metrics.queue_unreachable error=%s", type(exc).__name__)
            depth = -1
        yield GaugeMetricFamily(
            "kairos_queue_depth", "Tasks waiting in the queue (-1: unreachable).", value=depth
        )


class SlotCacheLookups:
    """The free-slot cache's lookups by where the answer came from, read when scraped:
    the whole cluster's counts kept in Redis, or this process's without Redis
    (services/booking/slot_cache.py). Hit ratio: 1 - computed / all."""

    SOURCES = (("local_hits", "local"), ("redis_hits", "redis"), ("misses", "computed"))

    def __init__(self, counts: Callable[[], dict]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        counts = self.counts()
        family = CounterMetricFamily(
            "kairos_slot_cache_lookups",
            "Free-slot lookups by where the answer came from.",
            labels=["source"],
        )
        for key, source in self.SOURCES:
            family.add_metric([source], counts.get(key, 0))
        yield family


def exposition(pending_count: Callable[[], int], slot_counts: Callable[[], dict]) -> bytes:
    """The page a scrape gets, in Prometheus' text format: every process's counts
    (multiprocess mode) or this process's, the queue's depth now and the slot cache's
    lookups."""
    registry = CollectorRegistry()
    registry.register(QueueDepth(pending_count))
    registry.register(SlotCacheLookups(slot_counts))
    if MULTIPROCESS_DIR:
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY) + generate_latest(registry)
