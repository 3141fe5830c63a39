"""The OpenAPI description at /api/openapi.json is true to the routes, and the server to it.

The first tests compare the description with `app.router`, so a new route without a
description fails here. The last one runs schemathesis against a real server process.
"""

from __future__ import annotations

from aiohttp import web

from hall.callcenter.wechat import views as wechat_views
from hall.server import create_app
from hall.web import openapi

from ..callcenter.wechat.wechat_app import wechat_settings
from ..helpers import HallClient

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
