"""Playwright on Debian's Chromium, at phone and tablet sizes, against the live server."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from config import INSTANCE, ROOT
from tests import factories
from tests.conftest import TEST_DATABASE_URL
from tests.server import gunicorn

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The two sizes every page is checked at: a 390 px phone and a 1180 px tablet. The booking
# journey also runs on an Android phone (test_booking_e2e.py), the workspace on a tablet
# held upright too (test_workspace_e2e.py).
DEVICES = ["iPhone 13", "iPad (gen 7) landscape"]
SCREENSHOTS = ROOT / "test-results" / "screenshots"
OUTBOX = INSTANCE / "outbox"  # where the e2e server writes its mail


# The browser tests run on one database: PostgreSQL, the production one, when the suite
# has it (TEST_DATABASE_URL), else SQLite. What differs between the two is below the
# pages, and the integration tests run on both; the browser's half is the same.
E2E_BACKENDS = ["postgresql"] if TEST_DATABASE_URL else ["sqlite"]


@pytest.fixture(scope="session", params=E2E_BACKENDS)
def database_url(request, databases):
    """Replaces tests/conftest.py's for the browser tests: one database (above), the one
    this process's integration tests of that kind use too (each test empties it)."""
    return databases.url(request.param)


@pytest.fixture(scope="session")
def e2e_queue(database_url, tmp_path_factory) -> Path:
    """The e2e server's task queue (no worker reads it: see send_queued_links)."""
    return tmp_path_factory.mktemp("e2e-queue") / "huey.db"


@pytest.fixture(scope="session")
def e2e_server(database_url, e2e_queue, stripe_local):
    """One server per database for the whole e2e run; each test's ``app`` empties the tables.
    Devices may subscribe at the local push service (tests/standins/push_service.py).
    Its Stripe is localstripe, with no keys of its own: a business that connects its
    account in Settings (as the payment tests' clinic has) is paid through it."""
    stand_in = stripe_local.settings()
    env = {
        "PUSH_ALLOW_HOSTS": "127.0.0.1",
        "HUEY_URL": f"sqlite:///{e2e_queue}",
        "STRIPE_API_BASE": stand_in["STRIPE_API_BASE"],
        "STRIPE_JS_URL": stand_in["STRIPE_JS_URL"],
    }
    with gunicorn(database_url, env=env) as base:
        yield base


def send_queued_links(queue: Path, outbox: Path) -> int:
    """What the worker does with the password reset and sign-in links the e2e server
    queued: email them (to ``outbox``). Other tasks are dropped: e2e runs no worker.
    Returns how many links were handled."""
    from huey import SqliteHuey

    from config import Settings
    from services.accounts.account import LinkMail, send_link
    from services.mail import MailConfig

    mail = MailConfig(Settings(secret_key="e2e"), outbox)
    pending = SqliteHuey("kairos", filename=str(queue))
    handled = 0
    try:
        while (data := pending.storage.dequeue()) is not None:
            message = pending.serializer.deserialize(data)
            if message.name.endswith("send_account_link"):
                send_link(LinkMail(*message.args), datetime.now(UTC), secret="e2e", mail=mail)
                handled += 1
    finally:
        pending.storage.close()
    return handled


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(params=DEVICES)
def device(request, playwright):
    return request.param, playwright.devices[request.param]


@pytest.fixture
def screen(browser, device):
    """A page sized and behaving like ``device`` (touch, mobile viewport). The test fails
    if the Content Security Policy refused anything on the way (inline code, a foreign
    file): Chromium reports it on the console."""
    name, settings = device
    context = browser.new_context(**settings)
    page = context.new_page()
    page.device_name = name
    refused: list[str] = []
    context.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert not refused, f"refused by the Content Security Policy: {refused}"


def screenshot(page, label: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{label}-{page.device_name.replace(' ', '_')}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, base: str, email: str, then: str = "/appointments") -> None:
    """Sign in through the sign-in form, as a person would, and land on ``then``."""
    page.goto(f"{base}/account/sign-in?next={then}")
    page.locator("#sign-in-email").fill(email)
    page.locator("#sign-in-password").fill(factories.PASSWORD)
    page.locator("#sign-in-password").press("Enter")
    expect(page).to_have_url(base + then)


def emailed_code(address: str, wait: float = 10.0) -> str:
    """The code in the newest sign-up email to ``address`` (removing its mail)."""
    deadline = time.monotonic() + wait
    while True:
        ours = []
        for path in sorted(OUTBOX.glob("*-sign_up_code-*.eml"), key=lambda p: p.stat().st_mtime):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == address:
                ours.append(message)
                path.unlink()
        if ours:
            return re.search(r"\b(\d{6})\b", ours[-1]["Subject"]).group(1)
        assert time.monotonic() < deadline, f"no sign-up code emailed to {address}"
        time.sleep(0.1)


def enter_emailed_code(page, address: str) -> None:
    """On the page asking for it, enter the code that was emailed to ``address``."""
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.get_by_label("Code").fill(emailed_code(address))
    page.get_by_role("button", name="Continue").click()
