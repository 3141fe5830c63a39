"""The OpenAPI 3.1 description of Hall's HTTP API, served at `GET /api/openapi.json`.

Each domain module lists its paths as data; this module joins them and adds what the
routes themselves know: who each operation admits (from the handlers' `@access`), the
WeChat paths when that channel is on, and the server's own address.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from ...auth.principal import Access, access
from ...keys import CONFIG
from ..jsonio import respond
from . import auth, callcenter, display, evaluation, queue
from .components import ERROR, ERROR_RESPONSE, SECURITY_SCHEMES, obj, op

DOMAINS = (auth, queue, display, evaluation, callcenter)
DOCUMENT: web.AppKey[dict[str, Any]] = web.AppKey("openapi_document", dict)

META = {
    "/api/openapi.json": {"get": op("本 API 的 OpenAPI 3.1 描述", answer=obj({"openapi": {"type": "string"}}))},
}


def described_paths(app: web.Application) -> dict[str, dict[str, Any]]:
    """Every described path, tagged by domain; the WeChat ones only when the app has those routes."""
    paths: dict[str, dict[str, Any]] = {}
    sources = [(module.TAG, module.PATHS) for module in DOMAINS] + [("说明", META)]
    if any(route.resource.canonical == "/wechat" for route in app.router.routes() if route.resource):
        sources.append((callcenter.TAG, callcenter.WECHAT_PATHS))
    for tag, section in sources:
        for path, operations in section.items():
            paths[path] = {method: {"tags": [tag], **operation} for method, operation in operations.items()}
    return paths


def security_of(rule: Access) -> dict[str, Any]:
    """`security` and the roles and device kinds an operation admits, from its handler's `@access`."""
    options: list[dict[str, list]] = []
    if rule.roles:
        options.append({"userToken": []})
        if rule.session:
            options.append({"session": []})
    if rule.devices:
        options.append({"deviceToken": []})
        if rule.session:
            options.append({"deviceSession": []})
    if rule.public:
        options.append({})  # no credentials needed (a wrong token is still refused)
    return {"security": options, "x-roles": sorted(rule.roles), "x-devices": sorted(rule.devices)}


def build(app: web.Application) -> dict[str, Any]:
    paths = copy.deepcopy(described_paths(app))
    for route in app.router.routes():
        operation = paths.get(route.resource.canonical if route.resource else "", {}).get(route.method.lower())
        rule = getattr(route.handler, "hall_access", None)
        if operation is not None and isinstance(rule, Access):
            operation.update(security_of(rule))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{app[CONFIG].name} 政务服务大厅 API",
            "version": "1",
            "description": "排队叫号、屏幕、好差评、咨询投诉。错误一律回答 `{error: {code, message, field?}}`。",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "responses": {"Error": ERROR_RESPONSE},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


@access(public=True, session=False)
async def openapi_json(request: web.Request) -> web.Response:
    return respond({**request.app[DOCUMENT], "servers": [{"url": f"{request.scheme}://{request.host}"}]})


async def _build_on_startup(app: web.Application) -> None:
    app[DOCUMENT] = build(app)  # every route is added by now, and none is added later


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", openapi_json, name="openapi")
    app.on_startup.append(_build_on_startup)
