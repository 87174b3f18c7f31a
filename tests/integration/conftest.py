"""Fixtures for the integration tests (on top of tests/conftest.py)."""

import pytest

from tests.integration.workspace import make_world


@pytest.fixture
def world(clinic, clock):
    """The clinic's staff in each role and a second business: see workspace.make_world."""
    return make_world(clinic, clock)
