"""Which ICS addresses are fetched at all (services/calendar/fetch.py). IP literals only,
so no name server is asked; the local server tests are in
tests/integration/test_calendar_import.py."""

from __future__ import annotations

import pytest

from services.calendar.fetch import Refused, checked

REFUSED = [
    "http://127.0.0.1/cal.ics",  # loopback
    "http://[::1]/cal.ics",
    "http://10.1.2.3/cal.ics",  # private
    "https://192.168.0.10/cal.ics",
    "http://172.16.5.5:8080/cal.ics",
    "http://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
    "http://[fe80::1]/cal.ics",
    "http://224.0.0.1/cal.ics",  # multicast
    "http://240.0.0.1/cal.ics",  # reserved
    "http://0.0.0.0/cal.ics",
    "http://100.64.0.1/cal.ics",  # shared address space (carrier NAT)
    "http://[::ffff:10.0.0.1]/cal.ics",  # a private IPv4 address dressed as IPv6
    "ftp://93.184.216.34/cal.ics",  # not http(s)
    "file:///etc/passwd",
    "http://user:pw@93.184.216.34/cal.ics",  # credentials in the address
    "http://93.184.216.34:99999/cal.ics",  # no such port
    "not an address",
    None,
]


@pytest.mark.parametrize("url", REFUSED)
def test_an_address_into_a_private_network_or_not_http_is_refused(url):
    with pytest.raises(Refused):
        checked(url)


def test_a_public_address_is_allowed():
    assert checked("https://93.184.216.34/calendar.ics").host == "93.184.216.34"


def test_a_host_named_in_the_allow_list_may_be_private():
    assert checked("http://127.0.0.1:8123/cal.ics", ["127.0.0.1"]).port == 8123
    with pytest.raises(Refused):
        checked("http://127.0.0.2/cal.ics", ["127.0.0.1"])
