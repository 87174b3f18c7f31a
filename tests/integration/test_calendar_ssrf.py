"""Where calendar requests really connect (services/calendar/fetch.py, ``safe_session``):
local calendar servers on 127.0.0.1, plain and TLS, and the internet's edge played by the
test: host names answer what a test says (changing between lookups, as in DNS rebinding),
and a public address reaches a local server only when a test routes it there; nothing
leaves this machine."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from models import BusyBlock
from services.calendar import fetch
from tests.conftest import api_client_for
from tests.standins.calendar_server import CalendarServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "calendars"
PUBLIC = "93.184.216.34"  # a public address; here it reaches only what a test routes it to


class Network:
    """Host names answer from ``names`` in turn (the last answer repeats; an answer may
    hold several addresses, comma-separated) and everything else resolves as usual;
    connections to an address outside this machine are refused unless ``routes`` sends
    them to a local server. Lookups and connections are recorded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: dict[str, list[str]] = {}
        self.routes: dict[str, tuple[str, int]] = {}
        self.looked_up: list[str] = []
        self.connected: list[str] = []
        real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

        def getaddrinfo(host, port, *args, **kwargs):
            if host not in self.names:
                return real_getaddrinfo(host, port, *args, **kwargs)
            self.looked_up.append(host)
            answers = self.names[host]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            return [
                found
                for address in answer.split(",")
                for found in real_getaddrinfo(address, port, *args, **kwargs)
            ]

        def connect(sock, address):
            self.connected.append(address[0])
            if address[0] in self.routes:
                address = self.routes[address[0]]
            elif not ipaddress.ip_address(address[0]).is_loopback:
                raise ConnectionRefusedError(f"{address[0]} is outside this test")
            return real_connect(sock, address)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", connect)

    def route(self, address: str, server: CalendarServer) -> None:
        self.routes[address] = ("127.0.0.1", port(server))


def port(server: CalendarServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


@pytest.fixture
def network(monkeypatch):
    return Network(monkeypatch)


@pytest.fixture
def internal():
    """A server inside our own network: what a user's address must never reach."""
    with CalendarServer() as running:
        running.serve("/cal.ics", b"internal secrets")
        yield running


@pytest.fixture
def public():
    """A server standing in for one on the internet, reached through ``Network.route``."""
    with CalendarServer() as running:
        running.serve("/cal.ics", b"public calendar")
        yield running


def get(session: requests.Session, url: str, **kwargs) -> requests.Response:
    return session.get(url, timeout=5, allow_redirects=False, **kwargs)


# (a) a name for this machine


def test_a_name_for_this_machine_is_refused_unless_allowed(internal):
    url = f"http://localhost:{port(internal)}/cal.ics"
    with fetch.safe_session() as session, pytest.raises(fetch.Refused, match="private network"):
        get(session, url)
    assert internal.asked == []

    with fetch.safe_session(["LOCALHOST"]) as session:
        answer = get(session, url)
    assert answer.status_code == 200
    assert answer.content == b"internal secrets"
    assert internal.asked[0].headers["Host"] == f"localhost:{port(internal)}"


def test_an_address_literal_into_our_network_is_refused(internal, network):
    with fetch.safe_session(["localhost"]) as session:
        for url in (
            internal.base_url + "/cal.ics",
            f"http://2130706433:{port(internal)}/cal.ics",  # 127.0.0.1 spelt as a number
            f"http://0x7f.1:{port(internal)}/cal.ics",
            f"http://[::ffff:127.0.0.1]:{port(internal)}/cal.ics",
            "http://169.254.169.254/latest/meta-data/",
        ):
            with pytest.raises(fetch.Refused, match="private network"):
                get(session, url)
    assert network.connected == []
    assert internal.asked == []


# (b) DNS rebinding


def test_fetch_connects_to_the_address_it_checked(network, internal, public):
    network.names["rebind.test"] = [PUBLIC, "127.0.0.1"]  # public first, then our own
    network.route(PUBLIC, public)

    got = fetch.fetch(f"http://rebind.test:{port(internal)}/cal.ics")

    assert got.body == b"public calendar"
    assert internal.asked == []
    assert network.looked_up == ["rebind.test"]  # one lookup, for the check and the socket
    assert network.connected == [PUBLIC]
    assert public.asked[0].headers["Host"] == f"rebind.test:{port(internal)}"


def test_a_name_rebound_after_an_earlier_check_is_refused_when_connecting(network, internal):
    network.names["rebind.test"] = [PUBLIC, "127.0.0.1"]
    url = f"http://rebind.test:{port(internal)}/cal.ics"
    fetch.checked(url)  # as when the calendar was added: public then

    with fetch.safe_session() as session, pytest.raises(fetch.Refused, match="private network"):
        get(session, url)

    assert network.looked_up == ["rebind.test", "rebind.test"]
    assert network.connected == []
    assert internal.asked == []


def test_a_name_answering_public_and_private_addresses_at_once_is_refused(network, internal):
    network.names["both.test"] = [f"{PUBLIC},127.0.0.1"]
    network.route(PUBLIC, internal)
    with fetch.safe_session() as session, pytest.raises(fetch.Refused, match="private network"):
        get(session, f"http://both.test:{port(internal)}/cal.ics")
    assert network.connected == []


def test_calendar_sync_reads_from_the_address_it_checked(
    network, internal, public, app, clinic, clock
):
    """Through the API: the address is checked when added and again when synced; a name
    that turns to our own network after those checks still is not connected to there."""
    network.names["rebind.test"] = [PUBLIC, PUBLIC, "127.0.0.1"]
    network.route(PUBLIC, public)
    public.serve("/cal.ics", (FIXTURES / "weekly_dst.ics").read_bytes())
    api = api_client_for(app, clinic["ana_user"], clock)
    added = api.post(
        "/api/v1/me/calendars", json={"url": f"http://rebind.test:{port(internal)}/cal.ics"}
    )
    assert added.status_code == 201, added.json

    synced = api.post(f"/api/v1/me/calendars/{added.json['id']}/sync").json

    assert internal.asked == []
    assert [a.path for a in public.asked] == ["/cal.ics"]
    assert synced["status"] == "ok", synced["last_error"]
    assert BusyBlock.select().count() > 0


# (c) redirects


def test_a_followed_redirect_into_our_network_is_refused(network, internal):
    network.names["calendar.test"] = ["127.0.0.1"]
    url = internal.redirect("/moved.ics", f"http://localhost:{port(internal)}/cal.ics")
    url = url.replace("127.0.0.1", "calendar.test")

    with fetch.safe_session(["calendar.test"]) as session:
        assert get(session, url).status_code == 302  # off unless asked for
        with pytest.raises(fetch.Refused, match="private network"):
            session.get(url, timeout=5)

    assert [a.path for a in internal.asked] == ["/moved.ics", "/moved.ics"]


def test_fetch_refuses_a_redirect_to_a_name_that_rebinds(network, internal, public):
    network.names["rebind.test"] = ["127.0.0.1"]
    network.names["moved.test"] = [PUBLIC]
    network.route(PUBLIC, public)
    public.redirect("/moved.ics", f"http://rebind.test:{port(internal)}/cal.ics")

    with pytest.raises(fetch.Refused, match="private network"):
        fetch.fetch(f"http://moved.test:{port(public)}/moved.ics")

    assert [a.path for a in public.asked] == ["/moved.ics"]
    assert internal.asked == []


def test_a_proxy_is_refused(internal):
    with fetch.safe_session(["127.0.0.1"]) as session, pytest.raises(fetch.Refused):
        get(session, "http://calendar.test/cal.ics", proxies={"http": internal.base_url})
    assert internal.asked == []


# (d) TLS: connected by address, verified by name


class TLSCalendarServer(CalendarServer):
    """The calendar server over TLS with a certificate for ``calendar.test`` only,
    recording the server name (SNI) each client asked for."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__()
        self.server_names: list[str | None] = []
        context.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.base_url = self.base_url.replace("http://", "https://")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A CA file trusting a certificate for calendar.test, and a server context using it."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kairos test CA")])
    ca = (
        _certificate(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        _certificate(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "calendar.test")]),
            ca_name,
            key.public_key(),
            now,
        )
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("calendar.test")]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder


def _certificate(subject, issuer, public_key, now) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
    )


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


@pytest.fixture
def tls_server(certificates):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates / "server.pem")
    with TLSCalendarServer(context) as running:
        running.serve("/cal.ics", b"calendar over TLS")
        yield running


def test_tls_is_connected_by_address_and_verified_by_name(network, tls_server, certificates):
    network.names["calendar.test"] = ["127.0.0.1"]
    url = f"https://calendar.test:{port(tls_server)}/cal.ics"

    with fetch.safe_session(["calendar.test"]) as session:
        answer = get(session, url, verify=str(certificates / "ca.pem"))

    assert answer.content == b"calendar over TLS"
    assert network.looked_up == ["calendar.test"]
    assert network.connected == ["127.0.0.1"]
    assert tls_server.server_names == ["calendar.test"]
    assert tls_server.asked[0].headers["Host"] == f"calendar.test:{port(tls_server)}"


def test_tls_to_a_name_the_certificate_does_not_cover_fails(network, tls_server, certificates):
    network.names["other.test"] = ["127.0.0.1"]  # the same server, another name
    ca = str(certificates / "ca.pem")

    with fetch.safe_session(["other.test", "127.0.0.1"]) as session:
        for url in (
            f"https://other.test:{port(tls_server)}/cal.ics",
            f"https://127.0.0.1:{port(tls_server)}/cal.ics",
        ):
            with pytest.raises(requests.exceptions.SSLError, match="mismatch"):
                get(session, url, verify=ca)

    assert tls_server.server_names[0] == "other.test"
    assert tls_server.asked == []
