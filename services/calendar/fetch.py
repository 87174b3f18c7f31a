"""Fetching a calendar's ICS address without letting it point us anywhere we should not go.

The address comes from a user, so it could name our own network: the database, a cloud
metadata service, a router. Only http(s) is fetched; the host is resolved and every
address it resolves to must be a public one (not loopback, private, link-local,
multicast or reserved), checked again for each redirect, which we follow ourselves (at
most MAX_REDIRECTS). Hosts named in CALENDAR_ALLOW_HOSTS skip the address check (the
tests' local calendar server). The answer is read in chunks up to MAX_BYTES, within
connect and read timeouts and an overall deadline.

What is left: the name is resolved once for the check and again by the HTTP client, so a
name whose answers change between the two (DNS rebinding) could still slip through.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin

import requests

from services.addresses import Address, named_in, web_address

MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUTS = (5, 15)  # seconds: connecting, and waiting for each piece of the answer
DEADLINE = 30  # seconds for the whole answer
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "Kairos calendar import"


class Refused(Exception):
    """The address is not one we fetch: the message says why, for the person who gave it."""


class FetchFailed(Exception):
    """The address was allowed but the calendar could not be read: the message says why."""


@dataclass(frozen=True)
class Fetched:
    """A calendar's text, or None when the server said it has not changed (304), and the
    validators to send next time."""

    body: bytes | None
    etag: str | None
    last_modified: str | None


def checked(url: object, allow_hosts: Iterable[str] = ()) -> Address:
    """``url`` split up, when it is an http(s) address whose host resolves only to public
    addresses (or is named in ``allow_hosts``); Refused otherwise."""
    address = web_address(url)
    if address is None:
        raise Refused("Give the calendar's http:// or https:// address (an ICS link).")
    if named_in(address.host, allow_hosts):
        return address
    port = address.port or (443 if address.url.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(address.host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"The host {address.host} could not be found.") from exc
    if not found or not all(_public(info[4][0]) for info in found):
        raise Refused("That address points into a private network; give a public one.")
    return address


def _public(text: str) -> bool:
    ip = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone index is not the address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    allow_hosts: Iterable[str] = (),
    max_bytes: int = MAX_BYTES,
) -> Fetched:
    """GET ``url`` (conditionally, when validators are given), following redirects only
    to addresses that pass ``checked``. Refused or FetchFailed when it cannot be done."""
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + DEADLINE
    for _ in range(MAX_REDIRECTS + 1):
        checked(url, allow_hosts)
        try:
            response = requests.get(
                url, headers=headers, timeout=TIMEOUTS, allow_redirects=False, stream=True
            )
        except requests.RequestException as exc:
            reached = f"The calendar server could not be reached ({type(exc).__name__})."
            raise FetchFailed(reached) from exc
        with response:
            if response.status_code in REDIRECTS and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                continue
            if response.status_code == 304:
                return Fetched(None, etag, last_modified)
            if response.status_code != 200:
                raise FetchFailed(f"The calendar server answered {response.status_code}.")
            body = _read(response, max_bytes, deadline)
            return Fetched(
                body, response.headers.get("ETag"), response.headers.get("Last-Modified")
            )
    raise FetchFailed(f"The address redirected more than {MAX_REDIRECTS} times.")


def _read(response: requests.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchFailed(f"The calendar is larger than {max_bytes // (1024 * 1024)} MB.")
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise FetchFailed(f"The calendar is larger than {max_bytes // (1024 * 1024)} MB.")
            if time.monotonic() > deadline:
                raise FetchFailed(f"The calendar took longer than {DEADLINE} s to arrive.")
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise FetchFailed(f"The calendar could not be read ({type(exc).__name__}).") from exc
    return b"".join(chunks)
