"""Asking for a password reset link: an address with an account versus one without.

    .venv/bin/python -m bench.link_mail_bench [--database-url postgresql://...] [--requests 300]

``POST /account/reset`` (the form, with its CSRF token, from one session) for the demo
customer's email and for an unknown one, taking turns, one request at a time, against
gunicorn with mail going to a local SMTP server (tests/standins/smtp.py). Issue 12
(finding 6): known addresses took 11 ms and unknown ones 6 ms, because the mail was sent
inside the request, which told anyone timing it which addresses have accounts. The
figure is the known/unknown ratio of the medians; the floor is the unknown address.
"""

from __future__ import annotations

import argparse
import http.client
import re
import statistics
import time
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from bench.harness import connected, gunicorn, scratch_database
from commands.demo import seed_demo
from tests.standins.smtp import SmtpStandIn

ADDRESSES = {"known": "customer@example.com", "unknown": "nobody-here@example.com"}


def session(base: str) -> tuple[http.client.HTTPConnection, str, str]:
    """A connection, its session cookie and the form's CSRF token."""
    host = urlsplit(base)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    conn.request("GET", "/account/reset")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return conn, cookie, token


def ask(conn, cookie: str, token: str, email: str) -> float:
    body = urlencode({"csrf_token": token, "email": email})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    began = time.perf_counter()
    conn.request("POST", "/account/reset", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    took = time.perf_counter() - began
    assert response.status == 303, response.status
    return took * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (default SQLite)")
    parser.add_argument("--requests", type=int, default=300, help="for each address")
    args = parser.parse_args()

    with SmtpStandIn() as smtp, scratch_database(args.database_url) as url:
        with connected(url):
            seed_demo(datetime.now(UTC))
        with gunicorn(url, env=smtp.env()) as base:  # its mail goes to the stand-in
            conn, cookie, token = session(base)
            for _ in range(20):  # warm up
                ask(conn, cookie, token, ADDRESSES["unknown"])
            took: dict[str, list[float]] = {"known": [], "unknown": []}
            for n in range(2 * args.requests):
                kind = ("known", "unknown")[n % 2]
                took[kind].append(ask(conn, cookie, token, ADDRESSES[kind]))
            conn.close()
        sent = len(smtp.received())

    known, unknown = (statistics.median(took[k]) for k in ("known", "unknown"))
    print(f"database: {url.split(':')[0]} (scratch)   {args.requests} requests per address")
    for kind in ("known", "unknown"):
        ordered = sorted(took[kind])
        p95 = ordered[int(len(ordered) * 0.95)]
        p50 = statistics.median(ordered)
        print(f"  {kind:8} POST /account/reset  p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
    print(
        f"\nknown/unknown = {known / unknown:.2f}× (p50 {known:.2f} vs {unknown:.2f} ms); "
        f"emails the server sent itself during the run: {sent}"
    )


if __name__ == "__main__":
    main()
