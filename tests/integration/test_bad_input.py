"""Input no view should ever answer with a 500: ids too large for the database, JSON
nested too deep, time zones that are not places, names with control characters, and
links built from a spoofed Host header."""

from __future__ import annotations

import re

from tests.conftest import api_client_for
from tests.integration.webpages import csrf_token

TOO_LARGE = str(2**63)  # one more than the largest id the database holds
FILLERS = {"slug": "clinic", "day": "2026-11-30", "action": "hours"}


def id_routes(app) -> list[tuple[str, str]]:
    """Every (method, path) whose rule takes an id, with each id set to TOO_LARGE."""
    found = []
    for rule in app.url_map.iter_rules():
        if not any(name.endswith("_id") for name in rule.arguments):
            continue

        def fill(match: re.Match) -> str:
            name = match.group(1)
            return TOO_LARGE if name.endswith("_id") else FILLERS[name]

        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", fill, rule.rule)
        found += [(method, path) for method in sorted(rule.methods & {"GET", "POST"})]
    return found


def test_an_id_too_large_for_the_database_is_not_found_on_every_route(app, world, signed_in, clock):
    routes = id_routes(app)
    prefixes = {path.split("/")[1] for _, path in routes}
    assert {"w", "appointments", "api", "account", "clinic"} <= prefixes  # every kind
    owner = signed_in(world["owner"])
    token = csrf_token(owner.get("/"))
    api = api_client_for(app, world["customer"], clock)
    answers = {}
    for method, path in routes:
        if path.startswith("/api/"):
            response = api.client.open(
                path, method=method, json={}, headers={"Authorization": f"Bearer {api.token}"}
            )
        else:
            response = owner.open(path, method=method, headers={"X-CSRFToken": token})
        answers[method, path] = response.status_code
    assert {route: code for route, code in answers.items() if code != 404} == {}
