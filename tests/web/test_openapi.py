"""The OpenAPI description at /api/openapi.json is true to the routes, and the server to it.

The first tests compare the description with `app.router`, so a new route without a
description fails here. The last one runs schemathesis against a real server process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from hall import config as config_mod
from hall.callcenter.wechat import views as wechat_views
from hall.server import create_app
from hall.web import openapi

from ..callcenter.wechat.wechat_app import wechat_settings
from ..conftest import TEST_CONFIG
from ..helpers import HallClient
from ..server_process import ServerProcess, hall_cli

METHODS = {"get", "put", "post", "delete", "patch"}


def is_api(path: str) -> bool:
    return path.startswith(("/api/", "/ws/")) or path == "/wechat"


def api_routes(app: web.Application) -> set[tuple[str, str]]:
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD"
        and not isinstance(route.resource, web.StaticResource)
        and is_api(route.resource.canonical)
    }


def described(document: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in METHODS
    }


def test_every_route_is_described_and_nothing_else(config, clock, tmp_path):
    app = create_app(config, clock=clock, db_path=tmp_path / "hall.db")
    if "wechat_message" not in app.router.named_resources():
        wechat_views.setup_routes(app, wechat_settings())  # the channel on: its routes must be described too
    document = openapi.build(app)
    assert api_routes(app) - described(document) == set(), "routes without a description"
    assert described(document) - api_routes(app) == set(), "described but not served"
    assert len(described(document)) >= 80


async def test_the_description_is_served_publicly_with_the_servers_address(hall: HallClient):
    status, document = await hall.get("/api/openapi.json")
    assert status == 200
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": str(hall.client.make_url("/")).rstrip("/")}]
    assert ("POST", "/wechat") not in described(document)  # off in the test config: not described either


async def test_security_follows_each_handlers_access(hall: HallClient):
    paths = openapi.build(hall.app)["paths"]
    assert paths["/api/health"]["get"]["security"] == [{}]
    assert paths["/api/users"]["post"]["x-roles"] == ["admin"]
    assert {"deviceToken": []} in paths["/api/tickets/{id}/print"]["post"]["security"]
    assert {} not in paths["/api/cases/{id}/accept"]["post"]["security"]
    login = paths["/api/auth/login"]["post"]["security"]
    assert {"session": []} not in login and {} in login  # the login ignores the page session


async def test_bodies_refuse_unknown_fields_as_the_validators_do(hall: HallClient):
    """`additionalProperties: false` where the handler calls `validation.only`: checked on one of each."""
    paths = openapi.build(hall.app)["paths"]
    headers = await hall.user("manager")
    for path in ("/api/notice", "/api/tickets"):
        method = "put" if path == "/api/notice" else "post"
        schema = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert schema["additionalProperties"] is False
        status, body = await hall.request(method.upper(), path, {"nonsense": 1}, headers)
        assert status == 400 and body["error"]["code"] == "unknown_field"


# -- schemathesis against a real server ----------------------------------------------------------
#
# Each operation gets a few generated requests (positive data, derandomized so a run is
# repeatable) as a manager, and public operations once more without credentials; every
# answer must be no 5xx and match its described schema.

EXAMPLES = 8
# WebSockets cannot be fuzzed over HTTP; logging out would end the manager's session mid-run.
NOT_FUZZED = ("/api/live", "/ws/screen", "/api/auth/logout")
MANAGER_PASSWORD = "openapi-manager-1"


def _schema() -> schemathesis.BaseSchema:
    app = create_app(config_mod.load(TEST_CONFIG), db_path=Path("/nonexistent/openapi.db"))  # never started
    return schemathesis.openapi.from_dict(openapi.build(app)).exclude(path=list(NOT_FUZZED))


SCHEMA = _schema()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[tuple[str, dict[str, str]]]:
    """A real `python -m hall serve` on a temporary database, and a manager's headers."""
    tmp = tmp_path_factory.mktemp("openapi")
    db = tmp / "hall.db"
    args = ("--config", str(TEST_CONFIG), "--db", str(db))
    added = hall_cli("user", "add", "fuzzmanager", "--role", "manager", *args, stdin=MANAGER_PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    server = ServerProcess(TEST_CONFIG, db, env={"HALL_ADMIN_PASSWORD": "openapi-admin-pw"})
    server.start()
    try:
        login = requests.post(
            f"{server.url}/api/auth/login", json={"username": "fuzzmanager", "password": MANAGER_PASSWORD}, timeout=10
        )
        assert login.status_code == 200, login.text
        yield server.url, {"Authorization": f"Bearer {login.json()['token']}"}
    finally:
        assert server.stop() == 0
        assert "Traceback" not in server.output, server.output[-3000:]


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
def test_the_server_keeps_to_its_description(case, live_server):
    url, manager = live_server
    checks = [not_a_server_error, response_schema_conformance]
    case.validate_response(case.call(base_url=url, headers=manager, timeout=20), checks=checks)
    if {} in case.operation.definition.raw.get("security", []):
        case.validate_response(case.call(base_url=url, timeout=20), checks=checks)
