"""Every route declares who it admits, and callers without credentials are kept out."""

import re

from aiohttp import web

from hall.auth.principal import Access

from ..helpers import HallClient


def routes(app: web.Application) -> list[tuple[str, str, object]]:
    out = []
    for route in app.router.routes():
        if isinstance(route.resource, web.StaticResource) or route.method == "HEAD":
            continue
        path = route.resource.canonical
        out.append((route.method, path, route.handler))
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_every_route_declares_its_access(hall: HallClient):
    undeclared = [f"{m} {p}" for m, p, h in routes(hall.app) if not isinstance(getattr(h, "hall_access", None), Access)]
    assert undeclared == []


async def test_callers_without_credentials_reach_only_public_routes(hall: HallClient):
    checked = 0
    for method, path, handler in routes(hall.app):
        rule: Access = handler.hall_access
        async with hall.client.request(method, concrete(path), allow_redirects=False) as resp:
            if rule.public:  # let in, though a handler may still want a ticket's token or a form's CSRF token
                assert resp.status < 500 and "/login?next" not in resp.headers.get("Location", ""), path
                if resp.content_type == "application/json" and resp.status >= 400:
                    assert (await resp.json())["error"]["code"] != "forbidden", f"{method} {path} is public"
            elif path.startswith("/api/"):
                assert resp.status == 401, f"{method} {path} let an anonymous caller in"
                assert (await resp.json())["error"]["code"] == "unauthenticated"
            else:
                assert resp.status == 303 and resp.headers["Location"].startswith("/login"), f"{method} {path}"
        checked += 1
    assert checked >= 25


async def test_a_route_without_declaration_admits_nobody(hall: HallClient, aiohttp_client, config, clock, tmp_path):
    from aiohttp import DummyCookieJar

    from hall.server import create_app

    app = create_app(config, clock=clock, db_path=tmp_path / "x.db")

    async def forgotten(request: web.Request) -> web.Response:
        return web.Response(text="secret")

    app.router.add_get("/api/forgotten", forgotten)
    other = HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)
    assert (await other.get("/api/forgotten"))[0] == 401
    assert (await other.get("/api/forgotten", await other.user("admin")))[0] == 403
