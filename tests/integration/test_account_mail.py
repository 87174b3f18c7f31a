"""The mail module: the outbox in development, and real SMTP servers (aiosmtpd) with and
without STARTTLS and a login."""

from __future__ import annotations

import email
import email.policy
import logging
import smtplib
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from jinja2 import UndefinedError

from config import Settings
from services import mail
from services.mail import MailConfig
from tests.integration.test_accounts import body, link_path, mails, submit, use_outbox

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LINK = "https://kairos.example/account/reset/secret-token-value"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Inbox:
    """What an SMTP server received."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free localhost port."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl), for STARTTLS."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_smtp_server(certificate):
    """An SMTP server that insists on STARTTLS and a login."""
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    inbox = Inbox()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
        if ok:
            inbox.logins.append(auth_data.login)
        return AuthResult(success=ok)

    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    yield controller, inbox, ssl.create_default_context(cafile=str(cert))
    controller.stop()


def smtp_settings(controller, **extra) -> Settings:
    return Settings(
        secret_key="x",
        smtp_host=controller.hostname,
        smtp_port=controller.port,
        mail_from="Kairos <bookings@kairos.test>",
        **extra,
    )


def parts(message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if not part.is_multipart()
    }


def send_reset(config: MailConfig):
    return mail.send(
        "robin@example.com",
        "Reset your Kairos password",
        "reset",
        config=config,
        now=NOW,
        name="Robin <Hale>",
        link=LINK,
        valid_for="1 hour",
    )


def test_without_smtp_mail_goes_to_the_outbox(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="kairos.mail")
    send_reset(MailConfig(Settings(secret_key="x"), tmp_path / "outbox"))
    (written,) = (tmp_path / "outbox").glob("*.eml")
    assert written.name.startswith("20261125-120000-reset-")
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Date"] == "Wed, 25 Nov 2026 12:00:00 +0000"
    assert message["Message-ID"].endswith("@kairos.test>")
    text, html = parts(message)["text/plain"], parts(message)["text/html"]
    assert LINK in text
    assert "Hello Robin <Hale>," in text  # plain text is not escaped
    assert f'href="{LINK}"' in html
    assert "Robin &lt;Hale&gt;" in html  # HTML is
    # One line on the console, and it does not give the link away.
    (record,) = caplog.records
    assert "mail.outbox" in record.getMessage()
    assert str(written) in record.getMessage()
    assert "secret-token-value" not in caplog.text


def test_a_template_missing_a_value_is_an_error(tmp_path):
    config = MailConfig(Settings(secret_key="x"), tmp_path)
    with pytest.raises(UndefinedError, match="is undefined"):
        mail.send("robin@example.com", "Reset", "reset", config=config, name="Robin")
    assert list(tmp_path.iterdir()) == []


def test_mail_is_sent_through_a_real_smtp_server(smtp_server, tmp_path, caplog):
    controller, inbox = smtp_server
    caplog.set_level(logging.INFO, logger="kairos.mail")
    send_reset(MailConfig(smtp_settings(controller), tmp_path / "outbox"))
    (message,) = inbox.messages
    assert inbox.recipients == [["robin@example.com"]]
    assert message["Subject"] == "Reset your Kairos password"
    assert message["From"] == "Kairos <bookings@kairos.test>"
    assert LINK in parts(message)["text/plain"]
    assert f'href="{LINK}"' in parts(message)["text/html"]
    assert not (tmp_path / "outbox").exists()  # nothing left behind
    assert "secret-token-value" not in caplog.text


def test_starttls_and_login(tls_smtp_server, tmp_path):
    controller, inbox, client_tls = tls_smtp_server
    settings = smtp_settings(
        controller, smtp_starttls=True, smtp_user="kairos", smtp_password="s3cret"
    )
    send_reset(MailConfig(settings, tmp_path, tls_context=client_tls))
    assert inbox.logins == [b"kairos"]
    assert len(inbox.messages) == 1


def test_a_server_that_wants_starttls_refuses_plain_mail(tls_smtp_server, tmp_path):
    controller, inbox, _ = tls_smtp_server
    with pytest.raises(smtplib.SMTPException):
        send_reset(MailConfig(smtp_settings(controller), tmp_path))
    assert inbox.messages == []


def test_a_password_reset_from_the_app_goes_out_by_smtp(app, client, clinic, smtp_server, tmp_path):
    controller, inbox = smtp_server
    outbox = use_outbox(app, tmp_path)
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(
        smtp_host=controller.hostname, smtp_port=controller.port, base_url="https://kairos.example"
    )
    response = submit(client, "/account/reset", {"email": "casey@example.com"})
    assert response.status_code == 303
    (message,) = inbox.messages
    assert inbox.recipients == [["casey@example.com"]]
    assert {"text/plain", "text/html"} <= parts(message).keys()
    link = link_path(message)
    assert "https://kairos.example/account/reset/" in parts(message)["text/plain"]
    assert mails(outbox) == []
    assert "Choose a new password" in body(client.get(link))


def test_links_use_the_configured_address_not_the_host_header(app, client, clinic, tmp_path):
    outbox = use_outbox(app, tmp_path)
    token = client.get("/account/reset", headers={"Host": "evil.example"})
    csrf = token.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    client.post(
        "/account/reset",
        data={"csrf_token": csrf, "email": "casey@example.com"},
        headers={"Host": "evil.example"},
    )
    (message,) = mails(outbox)
    text = parts(message)["text/plain"]
    assert "evil.example" not in text
    assert app.config["SETTINGS"].base_url + "/account/reset/" in text
