"""Input no view should ever answer with a 500: ids too large for the database, JSON
nested too deep, time zones that are not places, names with control characters, and
links built from a spoofed Host header."""

from __future__ import annotations

import re

import pytest

from models import Organisation, User
from tests import factories
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


DEEP = "[" * 100_000 + "]" * 100_000  # json.loads would recurse until RecursionError


def test_json_nested_too_deep_is_refused_by_the_api(customer_api):
    for path in ("/api/v1/bookings", "/api/v1/tokens"):
        response = customer_api.post(path, data=DEEP, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, path
        assert response.json["error"] == "bad_request"
        assert "nested at most 32 levels" in response.json["message"]
    wrapped = '{"service": 1, "start": ' + "[" * 40 + "]" * 40 + "}"
    response = customer_api.post(
        "/api/v1/bookings", data=wrapped, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    brackets_in_text = {"service": "[[[[" * 20, "start": "{{{{" * 20}
    response = customer_api.post("/api/v1/bookings", json=brackets_in_text)
    assert response.status_code == 422  # a string's brackets are not nesting


def test_json_larger_than_the_limit_is_refused(customer_api):
    body = '{"service": 1, "start": "' + "x" * 70_000 + '"}'
    response = customer_api.post(
        "/api/v1/bookings", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json["error"] == "request_entity_too_large"


def test_json_nested_too_deep_is_refused_by_the_device_endpoint(clinic, signed_in):
    client = signed_in(clinic["customer"])
    token = csrf_token(client.get("/account/notifications"))
    headers = {"X-CSRFToken": token, "Content-Type": "application/json"}
    response = client.post("/account/devices", data=DEEP, headers=headers)
    assert response.status_code == 400
    assert "nested at most 32 levels" in response.json["message"]
    for not_an_object in ("[1, 2]", "7", '"text"'):  # as every page's route (views/web.py)
        response = client.post("/account/devices", data=not_an_object, headers=headers)
        assert response.status_code == 400, not_an_object
        assert response.json["message"] == "Send a JSON object."


@pytest.mark.parametrize("name", ["Robin\x00Hale", "Robin\x07Hale", "Robin\x7fHale"])
def test_a_name_with_a_control_character_is_refused(client, app, name):
    from tests.integration.test_accounts import submit

    data = {"name": name, "email": "robin@example.com", "password": "long enough pw"}
    response = submit(client, "/account/sign-up", data)
    assert response.status_code == 422
    assert "Remove the invisible control characters from the name." in response.text
    assert User.select().count() == 0


def test_direction_marks_are_stripped_from_names(client, app, tmp_path):
    from tests.integration.test_accounts import sign_up, use_outbox

    spoof = "Robin \u202eelaH\u202c \u2067x\u2069\u200f"
    data = {"name": spoof, "email": "robin@example.com", "password": "long enough pw"}
    assert sign_up(client, use_outbox(app, tmp_path), data).status_code == 303
    assert User.get().name == "Robin elaH x"


def test_a_business_name_with_a_control_character_is_refused_at_sign_up(client, app, tmp_path):
    from tests.integration.test_accounts import enter_code, submit, use_outbox
    from tests.integration.test_business_signup import GOOD, PATH

    outbox = use_outbox(app, tmp_path)
    response = submit(client, PATH, GOOD | {"business_name": "City\x00Physio"})
    assert response.status_code == 422
    assert "Remove the invisible control characters from the name." in response.text
    response = submit(client, PATH, GOOD | {"business_name": "City \u202eoisyhP"})
    assert response.status_code == 303
    assert enter_code(client, outbox, "robin@example.com").status_code == 303
    assert Organisation.get().name == "City oisyhP"


SPOOFED = "http://evil.example"  # the Host header a client may send


def spoofing(app, user):
    """A test client signed in as ``user`` that sends Host: evil.example."""
    client = app.test_client()
    key = factories.make_sign_in(user, app.config["CLOCK"]())
    with client.session_transaction(base_url=SPOOFED) as session:
        session["_user_id"], session["_fresh"] = key, True
    return client


def test_absolute_links_start_from_base_url_whatever_the_host_header(app, world):
    base = app.config["SETTINGS"].base_url
    customer = spoofing(app, world["customer"])
    booking = world["ana's booking"]
    for path in (f"/appointments/{booking}/calendar.ics", f"/appointments/{booking}/confirmed"):
        response = customer.get(path, base_url=SPOOFED)
        assert response.status_code == 200, path
        assert "evil.example" not in response.text, path
        unquoted = response.text.replace("%2F", "/").replace("%3A", ":")
        assert f"{base}/appointments/{booking}" in unquoted, path
    owner = spoofing(app, world["owner"])
    settings = owner.get("/w/clinic/settings", base_url=SPOOFED)
    assert settings.status_code == 200
    assert "evil.example" not in settings.text
    assert f"{base}/clinic" in settings.text


@pytest.mark.parametrize("body", ['"text"', "[1, 2]", "7", "", "{bad json"])
def test_a_page_s_form_sent_json_that_is_not_an_object_is_a_400(client, body):
    """flask-wtf reads a JSON body as the form: a string broke it (a 500)."""
    token = csrf_token(client.get("/account/sign-in"))
    answer = client.post(
        "/account/sign-in",
        data=body,
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )
    assert answer.status_code == 400
