"""Fixtures for the integration tests (on top of tests/conftest.py)."""

import secrets

import pytest

from tests.integration.workspace import make_world
from tests.radicale import Radicale


@pytest.fixture
def world(clinic, clock):
    """The clinic's staff in each role and a second business: see workspace.make_world."""
    return make_world(clinic, clock)


@pytest.fixture(scope="module")
def radicale():
    """A Radicale CalDAV server for the module's tests (tests/radicale.py)."""
    server = Radicale().start()
    yield server
    server.stop()


@pytest.fixture
def collection(radicale, request) -> str:
    """A calendar of the test's own in Radicale (the same test on each database gets
    one each: the random end keeps cut-off names apart): its URL."""
    name = request.node.name.replace("[", "-").strip("]")[:32]
    return radicale.make_calendar(f"{name}-{secrets.token_hex(4)}")
