"""Fetching a calendar's ICS address without letting it point us anywhere we should not go.

The address comes from a user, so it could name our own network: the database, a cloud
metadata service, a router. Only http(s) is fetched, and only through ``safe_session``:
its connections look the host up once, refuse (``Refused``) when any address it resolves
to is not a public one (loopback, private, link-local, multicast, reserved), and open the
socket to that very address, so a name whose answers change between a check and the
connection (DNS rebinding) gets nowhere. The Host header, TLS SNI and the certificate
check still use the host name. Every new connection is checked, so each redirect is too;
``fetch`` follows them itself (at most MAX_REDIRECTS). Hosts named in CALENDAR_ALLOW_HOSTS
skip the public-address check (the tests' local calendar server) but are still connected
to where the one lookup said. No proxy is used. The answer is read in chunks up to
MAX_BYTES, within connect and read timeouts and an overall deadline.

``checked`` is the same address check for a form (adding a calendar), before any request.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family, create_connection

from services.addresses import Address, named_in, web_address

MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUTS = (5, 15)  # seconds: connecting, and waiting for each piece of the answer
DEADLINE = 30  # seconds for the whole answer
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "Kairos calendar import"
PRIVATE = "That address points into a private network; give a public one."


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
    address = _web(url)
    if named_in(address.host, allow_hosts):
        return address
    port = address.port or (443 if address.url.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(address.host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"The host {address.host} could not be found.") from exc
    _only_public(found)
    return address


def _web(url: object) -> Address:
    address = web_address(url)
    if address is None:
        raise Refused("Give the calendar's http:// or https:// address (an ICS link).")
    return address


def _only_public(found: list) -> None:
    """Refused unless every address in a getaddrinfo answer is a public one."""
    if not found or not all(_public(info[4][0]) for info in found):
        raise Refused(PRIVATE)


def _public(text: str) -> bool:
    ip = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone index is not the address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def safe_session(allow_hosts: Iterable[str] = ()) -> requests.Session:
    """A requests Session for addresses a user gave: every connection it opens is checked
    and pinned as the module says, raising Refused (not a requests exception) when the
    host resolves to an address that is not public and is not named in ``allow_hosts``.
    Environment proxies, .netrc and CA bundle settings are ignored; a proxy is Refused."""
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = MAX_REDIRECTS
    adapter = _CheckedAdapter(tuple(allow_hosts))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _CheckedAdapter(HTTPAdapter):
    __attrs__ = [*HTTPAdapter.__attrs__, "allow_hosts"]

    def __init__(self, allow_hosts: tuple[str, ...]) -> None:
        self.allow_hosts = allow_hosts
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {  # a new dict: the default is shared
            "http": partial(_HTTPPool, allow_hosts=self.allow_hosts),
            "https": partial(_HTTPSPool, allow_hosts=self.allow_hosts),
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs):
        raise Refused("Addresses given by users are fetched directly, not through a proxy.")


class _CheckedConnection:
    """Mixed into urllib3's connections: the socket goes to an address from the one lookup
    made here, checked here. ``host`` stays the name (Host header, SNI, certificate)."""

    def __init__(self, *args, allow_hosts: tuple[str, ...] = (), **kwargs) -> None:
        self.allow_hosts = allow_hosts
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        # urllib3 (2.x) opens every socket to the server here, so this is the one place
        # where the address checked and the address connected to can be made the same.
        try:
            found = socket.getaddrinfo(
                self.host, self.port, allowed_gai_family(), socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        if not named_in(self.host, self.allow_hosts):
            _only_public(found)
        failed: Exception | None = None
        for *_, sockaddr in found:
            try:  # an address literal: no second lookup
                return create_connection(
                    (sockaddr[0], self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                failed = ConnectTimeoutError(self, f"Connection to {self.host} timed out.")
                failed.__cause__ = exc
            except OSError as exc:
                failed = NewConnectionError(self, f"Failed to establish a new connection: {exc}")
                failed.__cause__ = exc
        raise failed or NameResolutionError(self.host, self, None)


class _HTTPConnection(_CheckedConnection, HTTPConnection):
    pass


class _HTTPSConnection(_CheckedConnection, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    allow_hosts: Iterable[str] = (),
    max_bytes: int = MAX_BYTES,
) -> Fetched:
    """GET ``url`` (conditionally, when validators are given) through ``safe_session``,
    following redirects to http(s) addresses only. Refused or FetchFailed when it cannot
    be done."""
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + DEADLINE
    with safe_session(allow_hosts) as session:
        for _ in range(MAX_REDIRECTS + 1):
            _web(url)  # the session checks where it connects; this, what the address is
            try:
                response = session.get(
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
