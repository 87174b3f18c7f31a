"""Fixtures for the integration tests (on top of tests/conftest.py)."""

import secrets

import psycopg
import pytest

from app import create_app
from config import Settings
from models import db
from tests.conftest import TEST_DATABASE_URL, _server_url
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


@pytest.fixture
def restore_database():
    """create_app() points the global database proxy elsewhere: point it back after."""
    saved = db.obj
    yield
    if not db.is_closed():
        db.close()
    if saved is not None:
        db.initialize(saved)


def app_on(url: str, clock=None):
    settings = Settings(database_url=url, secret_key="test-secret", env="testing")
    config = {"TESTING": True} | ({"CLOCK": clock} if clock else {})
    return create_app(settings, **config)


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A database with nothing in it, of the same kind as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"kairos_fresh_{secrets.token_hex(4)}"
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _server_url(TEST_DATABASE_URL, name)
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
