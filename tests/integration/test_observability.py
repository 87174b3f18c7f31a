"""Request ids and metrics through the front door: the id a request is answered with and
carries into its log lines and its worker tasks, and /metrics, who may read it and
what it counts. (tests/unit/test_logs.py: the log lines' shape.)"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import requests
from huey import RedisHuey
from huey.storage import MemoryStorage
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.middleware.proxy_fix import ProxyFix

from config import ROOT
from models import Booking, BookingStatus, PushSubscription
from services.booking import appointments as bookings
from services.notifications import delivery
from services.notifications.outbox import Dispatch
from services.observability import logs
from services.payments import checkout
from services.ratelimits import LIMITS
from tests.integration.test_api_bookings import booked
from tests.integration.test_notifications import START, channels, deliver_all, rows
from tests.integration.test_worker import live, queue_url, wait_until
from tests.server import free_port, gunicorn
from tests.standins.push_service import PushService

__all__ = ["channels", "live", "queue_url"]  # fixtures, from test_notifications and test_worker

REDIS_DB = "redis://127.0.0.1:6379/11"
MONDAY_10 = "2026-11-30T10:00:00+00:00"
TOKEN = "s3cret-metrics-token"


def sample(text: str, name: str, **labels: str) -> float:
    """A sample's value in a Prometheus text page (0 when it is not there yet)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return found.value
    return 0.0


def scrape(client, **kw) -> str:
    response = client.get("/metrics", **kw)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


@pytest.fixture
def log_lines(app):
    """The app's log lines as JSON, as production writes them: ``log_lines()`` parses."""
    out = io.StringIO()
    logs.configure("json", stream=out)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    logs.configure(app.config["SETTINGS"].log_format, stream=sys.stderr)


# --- the request id ----------------------------------------------------------------------


def test_a_sane_request_id_comes_back_and_a_missing_one_is_made(client):
    given = client.get("/health", headers={"X-Request-ID": "lb-7f3a.01_x"})
    assert given.headers["X-Request-ID"] == "lb-7f3a.01_x"
    first, second = client.get("/health"), client.get("/no-such-page")
    made = {first.headers["X-Request-ID"], second.headers["X-Request-ID"]}
    assert second.status_code == 404
    assert len(made) == 2
    assert all(len(rid) == 32 for rid in made)


@pytest.mark.parametrize("bad", ["x" * 65, "two words", "a/b;c=d", "<script>"])
def test_a_request_id_that_is_not_a_plain_token_is_replaced(client, bad):
    answered = client.get("/health", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
    assert answered != bad
    assert len(answered) == 32


def test_the_request_s_log_lines_carry_its_id(client, clinic, clock, customer_api, log_lines):
    response = customer_api.post(
        "/api/v1/bookings",
        json={"service": clinic["follow_up"].id, "start": MONDAY_10},
        headers={"X-Request-ID": "book-42"},
    )
    assert response.status_code == 201
    (line,) = [x for x in log_lines() if x["message"].startswith("booking.created")]
    assert line["request_id"] == "book-42"
    assert (line["level"], line["logger"]) == ("INFO", "kairos.booking")
    customer_api.get("/api/v1/bookings")
    assert logs.request_id() is None  # forgotten once the request is over


def test_the_worker_s_task_logs_with_the_request_s_id(
    app, clinic, customer_api, log_lines, channels, monkeypatch
):
    """Through Huey: the task the request enqueued carries the id, and its lines too."""
    import tasks

    monkeypatch.setattr(tasks.huey, "storage", MemoryStorage("kairos-test"))
    monkeypatch.setattr(tasks, "channels", lambda: channels)  # mail to the test's folder
    app.config["DISPATCH"] = None  # the real queue (tasks.enqueue), not the test's list
    response = customer_api.post(
        "/api/v1/bookings",
        json={"service": clinic["follow_up"].id, "start": MONDAY_10},
        headers={"X-Request-ID": "req-to-worker"},
    )
    assert response.status_code == 201
    task = tasks.huey.dequeue()
    assert task.name.endswith("deliver")
    assert task.kwargs == {"request_id": "req-to-worker"}
    assert logs.request_id() is None
    tasks.huey.execute(task)
    (line,) = [x for x in log_lines() if x["message"].startswith("outbox.delivered")]
    assert line["request_id"] == "req-to-worker"
    assert "'sent': 2" in line["message"]
    assert {n.status for n in rows(booking=response.json["id"])} == {"sent"}


def test_a_task_called_without_a_request_id_still_runs(app, log_lines):
    import tasks

    tasks.deliver.call_local([987654])  # as enqueued before request ids were passed
    tasks.deliver.call_local([987654], request_id="direct-1")
    plain, carried = [x for x in log_lines() if x["message"].startswith("outbox.delivered")]
    assert "request_id" not in plain
    assert carried["request_id"] == "direct-1"
    assert "'not_ours': 1" in carried["message"]


# --- who may read /metrics ---------------------------------------------------------------


def with_token(app, token: str = TOKEN) -> None:
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(metrics_token=token)


def outside(**headers: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}, "headers": headers}


def test_metrics_are_served_on_loopback_and_hidden_elsewhere(app, client):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", **outside()).status_code == 404
    for elsewhere in ("10.0.0.1", "::ffff:192.0.2.1", "2001:db8::1"):
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": elsewhere}).status_code == 404


def test_a_proxy_on_loopback_does_not_make_every_client_local(app, client):
    """Behind HAProxy every peer is 127.0.0.1: X-Forwarded-For tells who it was for."""
    from_outside = {"X-Forwarded-For": "198.51.100.4"}
    assert client.get("/metrics", headers=from_outside).status_code == 404
    spoofed = {"X-Forwarded-For": "127.0.0.1, 198.51.100.4"}
    assert client.get("/metrics", headers=spoofed).status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # what TRUSTED_PROXIES=1 makes
    assert client.get("/metrics", headers=from_outside).status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_metrics_elsewhere_need_the_right_token(app, client):
    assert client.get("/metrics", **outside(Authorization=f"Bearer {TOKEN}")).status_code == 404
    with_token(app)
    for wrong in (f"Bearer {TOKEN}x", "Bearer ", TOKEN, f"Basic {TOKEN}", f"bearer {TOKEN}"):
        assert client.get("/metrics", **outside(Authorization=wrong)).status_code == 404
    text = scrape(client, **outside(Authorization=f"Bearer {TOKEN}"))
    assert "# TYPE kairos_request_duration_seconds histogram" in text


def test_guessing_the_token_is_rate_limited_per_address(app, client):
    with_token(app)
    allowed = LIMITS["metrics_token_per_ip"].count
    right = outside(Authorization=f"Bearer {TOKEN}")
    assert client.get("/metrics", **right).status_code == 200  # a right token does not count
    for _ in range(allowed):
        assert client.get("/metrics", **outside(Authorization="Bearer guess")).status_code == 404
    refused = client.get("/metrics", **right)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    # Another address, and the machine itself, are not held up.
    other = {"environ_base": {"REMOTE_ADDR": "198.51.100.7"}}
    assert (
        client.get("/metrics", **other, headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 200
    )
    assert client.get("/metrics").status_code == 200


# --- what /metrics counts ----------------------------------------------------------------


def test_the_latency_histogram_counts_requests_by_endpoint_not_path(client, clinic):
    health = {"endpoint": "health.health", "method": "GET", "status": "2xx"}
    before = scrape(client)
    for _ in range(3):
        client.get("/health")
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    after = scrape(client)
    count = "kairos_request_duration_seconds_count"
    assert sample(after, count, **health) - sample(before, count, **health) == 3
    unmatched = {"endpoint": "unmatched", "method": "GET", "status": "4xx"}
    assert sample(after, count, **unmatched) - sample(before, count, **unmatched) == 2
    assert "/no/such/page" not in after
    assert 'endpoint="metrics.metrics"' not in after  # the scrapes themselves
    seconds = sample(after, "kairos_request_duration_seconds_sum", **health)
    assert 0 < seconds < 60


def test_a_booking_made_counts_once(client, clinic, customer_api):
    before = sample(scrape(client), "kairos_bookings_created_total", kind="new")
    booked(customer_api, clinic["follow_up"], MONDAY_10, clinic["ana"])
    taken = customer_api.post(
        "/api/v1/bookings",
        json={"service": clinic["follow_up"].id, "start": MONDAY_10, "provider": clinic["ana"].id},
    )
    assert taken.status_code == 409  # refused: not counted
    after = sample(scrape(client), "kairos_bookings_created_total", kind="new")
    assert after - before == 1


def test_slot_lookups_are_counted_by_where_the_answer_came_from(client, clinic):
    org, service = clinic["org"], clinic["follow_up"]
    url = f"/api/v1/orgs/{org.slug}/slots?service={service.id}&date=2026-12-07"

    def counts() -> dict[str, float]:
        page = scrape(client)
        return {
            source: sample(page, "kairos_slot_cache_lookups_total", source=source)
            for source in ("local", "redis", "computed")
        }

    before = counts()
    assert client.get(url).status_code == 200  # first ask: computed
    assert client.get(url).status_code == 200  # the same again: this process's cache
    after = counts()

    assert after["computed"] - before["computed"] == 1
    assert after["local"] - before["local"] == 1


def test_notifications_sent_and_failed_are_counted_by_channel(client, clinic, clock, channels):
    def counts() -> tuple[float, float]:
        text = scrape(client)
        return (
            sample(text, "kairos_notifications_sent_total", channel="email"),
            sample(text, "kairos_notifications_failed_total", channel="push"),
        )

    before = counts()
    with PushService(application_server_key=channels.vapid.public_key) as service:
        info = service.subscribe("phone")  # a device on a host that is no push service
        PushSubscription.create(
            user=clinic["customer"],
            endpoint=info["endpoint"],
            p256dh=info["keys"]["p256dh"],
            auth=info["keys"]["auth"],
        )
        made = bookings.book(
            customer_id=clinic["customer"].id,
            service_id=clinic["follow_up"].id,
            start=START,
            now=clock(),
            provider_id=clinic["ana"].id,
            actor_id=clinic["owner"].id,  # staff booked it: the customer's devices are told
            dispatch=Dispatch(),
        )
        outcomes = deliver_all(channels, clock())
    assert sorted(outcomes.values()) == ["failed", "sent", "sent"]
    sent, failed = counts()
    assert (sent - before[0], failed - before[1]) == (2, 1)
    (row,) = rows(booking=made.id, channel="push")
    assert delivery.deliver(row.id, channels, clock()) is None  # done: nothing counted again
    assert counts() == (sent, failed)


def test_expired_holds_are_counted(client, clinic, clock):
    made = [
        bookings.book(
            customer_id=clinic["customer"].id,
            service_id=clinic["follow_up"].id,
            start=START + timedelta(hours=hours),
            now=clock(),
            provider_id=clinic["ana"].id,
            dispatch=Dispatch(),
        )
        for hours in (0, 1)
    ]
    Booking.update(
        status=BookingStatus.PENDING_PAYMENT, hold_expires_at=clock() - timedelta(minutes=1)
    ).where(Booking.id.in_([b.id for b in made])).execute()
    before = sample(scrape(client), "kairos_payment_holds_expired_total")
    assert checkout.expire_due(clock(), Dispatch())["expired"] == 2
    assert checkout.expire_due(clock(), Dispatch())["expired"] == 0
    assert sample(scrape(client), "kairos_payment_holds_expired_total") - before == 2


@pytest.fixture
def redis_queue():
    queue = RedisHuey("kairos-observability-test", url=REDIS_DB)
    queue.flush()
    yield queue
    queue.flush()


def test_queue_depth_is_read_from_the_queue_when_scraped(app, client, redis_queue):
    app.config["QUEUE"] = redis_queue

    @redis_queue.task()
    def nothing() -> None:
        pass

    assert sample(scrape(client), "kairos_queue_depth") == 0
    nothing()
    nothing()
    assert sample(scrape(client), "kairos_queue_depth") == 2


def test_an_unreachable_queue_shows_as_minus_one_and_the_scrape_still_answers(app, client):
    app.config["QUEUE"] = RedisHuey("kairos", url=f"redis://127.0.0.1:{free_port()}/11")
    text = scrape(client)
    assert sample(text, "kairos_queue_depth") == -1
    assert "kairos_request_duration_seconds" in text


# --- several processes -------------------------------------------------------------------


@pytest.mark.live
def test_every_process_s_counts_show_in_any_web_process_s_scrape(
    app, production_database, tmp_path
):
    """gunicorn with two workers and a worker process sharing PROMETHEUS_MULTIPROC_DIR:
    whichever web process answers the scrape, it shows the counts of them all."""
    shared = tmp_path / "metrics"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    worker = (
        "from services.observability import metrics\n"
        "for _ in range(3): metrics.notification_finished('sent', 'sms')\n"
    )
    count = "kairos_request_duration_seconds_count"
    health = {"endpoint": "health.health", "method": "GET", "status": "2xx"}
    close = {"Connection": "close"}  # a new connection each time: either worker may answer
    with gunicorn(production_database, workers=2, threads=2, env=env) as base:
        start = sample(requests.get(f"{base}/metrics", timeout=5).text, count, **health)
        made = 0
        while len(list(shared.glob("histogram_*.db"))) < 2:  # until both have answered
            assert made < 200, "one gunicorn worker answered every request"
            assert requests.get(f"{base}/health", headers=close, timeout=5).status_code == 200
            made += 1
        subprocess.run([sys.executable, "-c", worker], cwd=ROOT, env=os.environ | env, check=True)
        pages = [requests.get(f"{base}/metrics", headers=close, timeout=5).text for _ in range(10)]
    for page in pages:
        assert sample(page, count, **health) - start == made
        assert sample(page, "kairos_notifications_sent_total", channel="sms") == 3


@pytest.mark.live
@pytest.mark.xdist_group("huey-worker")
def test_the_consumer_logs_json_lines_with_the_request_s_id(live):
    """gunicorn and a real Huey consumer: the booking's request id reaches the worker's
    line about delivering its notifications."""
    live.consumer.start(LOG_FORMAT="json")
    (start,) = live.free_slots(live.clinic["follow_up"], 1)
    response = requests.post(
        f"{live.base}/api/v1/bookings",
        json={"service": live.clinic["follow_up"].id, "start": start},
        headers={"Authorization": f"Bearer {live.token}", "X-Request-ID": "live-booking-1"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == "live-booking-1"

    def delivered() -> list[dict]:
        lines = live.consumer.log.read_text().splitlines()
        found = [json.loads(line) for line in lines if line.startswith("{")]
        return [x for x in found if x["message"].startswith("outbox.delivered")]

    (line,) = wait_until(delivered, timeout=20, what="the consumer's delivery line")
    assert line["request_id"] == "live-booking-1"
    assert line["logger"] == "kairos.tasks"
    assert "'sent': 2" in line["message"]
    later = live.consumer.log.read_text().splitlines()
    huey_lines = [json.loads(x) for x in later if x.startswith("{") and '"logger": "huey' in x]
    assert huey_lines  # the consumer's own lines, in the same format once it has started
