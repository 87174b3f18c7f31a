"""Addresses the app itself goes out to on a user's word (a push endpoint, a calendar's
ICS address): what such an address may look like, and which hosts tests may name.

Used by web push and calendar import alike; each adds its own rules about where the
address may point.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import SplitResult, urlsplit

_HOST = re.compile(r"[a-z0-9.-]+")
_URL = re.compile(r"[!-\[\]-~]+")  # printable ASCII: no spaces, no backslash


class Address(NamedTuple):
    url: SplitResult
    host: str
    port: int | None


def web_address(text: object) -> Address | None:
    """``text`` split up when it is a plain http(s) URL with a host name or address and
    no user name or password in it; None otherwise."""
    if not isinstance(text, str) or not _URL.fullmatch(text):
        return None
    try:
        url = urlsplit(text)
        host, port = url.hostname, url.port
    except ValueError:  # a port that is not a number, an unbalanced [
        return None
    if url.scheme not in ("http", "https") or "@" in url.netloc:
        return None
    if not host or not _HOST.fullmatch(host):
        return None
    return Address(url, host, port)


def named_in(host: str, allow_hosts: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``allow_hosts`` (a *_ALLOW_HOSTS setting), in any case."""
    return host.lower() in {h.lower() for h in allow_hosts}
