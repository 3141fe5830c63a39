"""HTTP of the display domain: the screens' WebSocket, the registry, layouts and the notice line."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from ..auth.middleware import AUTHENTICATOR, PRINCIPAL
from ..auth.principal import DEVICE_KINDS, MANAGERS, STAFF, Principal, access
from ..config import ConfigError, parse_layout
from ..errors import BadRequest, Forbidden, NotFound, Unauthorized
from ..keys import CONFIG, DB
from ..web import validation as v
from ..web.forwarded import client_address
from ..web.jsonio import read_json, respond
from . import store
from .hub import HEARTBEAT_S, HUB, Connection, read_messages
from .live import same_origin
from .registry import REGISTRY

SCREEN_KINDS = ("display", "pad")  # rating pads follow their window's finished services


async def screen_device(request: web.Request) -> Principal:
    """The display device calling: by `?token=` (screens and agents) or by its enrolled cookie.

    Staff may watch too (a preview of a screen); they are not entered in the registry.
    """
    token = request.query.get("token")
    if token:
        who = await request.app[AUTHENTICATOR].resolve(token)
        if who is None:
            raise Unauthorized("invalid_token", "设备令牌无效或已被吊销")
    else:
        who = request[PRINCIPAL]
        if who is None:
            raise Unauthorized("unauthenticated", "大厅屏幕需要设备令牌(?token=)或先在本机登记")
    if who.kind == "user" and who.role in STAFF:
        return who
    if who.kind != "device" or who.device_kind not in SCREEN_KINDS:
        raise Forbidden("forbidden", "只有登记为屏幕(display)或评价器(pad)的设备可以连接屏幕推送")
    return who


async def layout_of(request: web.Request, device: Principal) -> dict[str, Any]:
    """A screen's layout: set on the manager page, else from config, else everything."""
    if device.kind != "device":
        return request.app[CONFIG].layout_for("").as_json()
    saved = (await store.layouts(request.app[DB])).get(device.id)
    if saved is not None:
        return saved
    return request.app[CONFIG].layout_for(device.name).as_json()


# public: a screen agent sends its token as ?token=, checked by screen_device; declared with
# the callers screen_device admits, so a kiosk's or an agent's token is refused at the door.
@access(roles=STAFF, devices=SCREEN_KINDS, public=True)
async def screen_socket(request: web.Request) -> web.StreamResponse:
    if not same_origin(request):
        raise Forbidden("bad_origin", "不允许从其他网站连接")
    device = await screen_device(request)
    after = v.query_int(request.query, "after", 0, 0, 2**62)
    layout = await layout_of(request, device)
    # No permessage-deflate: a zlib stream per screen costs ~220 KB and a compression per message.
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=8192, compress=False)
    await ws.prepare(request)
    hub, registry = request.app[HUB], request.app[REGISTRY]
    connection = Connection(ws, device.id, device.name)
    address = client_address(request, request.app[CONFIG].server.trusted_proxies)  # the screen's, not nginx's
    registered = device.kind != "device"  # staff previews are not screens of the hall

    async def on_message(conn: Connection, data: dict[str, Any]) -> None:
        nonlocal registered
        if data.get("type") == "hello" and not registered:
            registered = True
            await registry.connected(device.id, device.name, address, _hello(device, data))
        elif data.get("type") in ("ack", "pong") and device.kind == "device":
            registry.acked(device.id, data.get("last_id"))

    reader = asyncio.create_task(read_messages(ws, connection, on_message))
    sender = asyncio.create_task(hub.serve(ws, connection, after, layout))
    request.app[AUTHENTICATOR].sockets.watch(device, ws)  # closed when the device or session is revoked
    try:
        # A screen that says no hello within a moment is registered under its device name.
        await asyncio.wait({reader, sender}, timeout=2.0, return_when=asyncio.FIRST_COMPLETED)
        if not registered and not ws.closed:
            registered = True
            await registry.connected(device.id, device.name, address, _hello(device, {}))
        await asyncio.wait({reader, sender}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        request.app[AUTHENTICATOR].sockets.unwatch(ws)
        for task in (reader, sender):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
                await task
        await ws.close()
        if registered and device.kind == "device":
            await registry.disconnected(device.id)
    return ws


def _hello(device: Principal, hello: dict[str, Any]) -> dict[str, Any]:
    """A pad is listed as a pad, whatever its page says."""
    return {**hello, "kind": "pad"} if device.device_kind == "pad" else hello


@access(roles=MANAGERS)
async def list_screens(request: web.Request) -> web.Response:
    return respond({"screens": await request.app[REGISTRY].listing()})


@access(roles=MANAGERS)
async def set_layout(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    raw = request.match_info["device_id"]
    devices = {d["id"]: d for d in await _display_devices(request)}
    device = devices.get(int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if device is None:
        raise NotFound("device_not_found", f"没有编号为 {raw} 的屏幕设备")
    body = await read_json(request)
    try:
        layout = parse_layout(body, "layout", [s.id for s in config.sections], {w.area for w in config.windows})
    except ConfigError as e:
        raise BadRequest("invalid_layout", f"屏幕布局不正确:{e}") from None
    await request.app[DB].write(store.set_layout, device["id"], layout.as_json(), request[PRINCIPAL].id)
    return respond({"device_id": device["id"], "layout": layout.as_json()})


async def _display_devices(request: web.Request) -> list[dict[str, Any]]:
    rows = await request.app[DB].fetchall("SELECT id, name, window_no FROM devices WHERE kind = 'display'")
    return [dict(r) for r in rows]


@access(roles=STAFF, devices=DEVICE_KINDS)
async def get_notice(request: web.Request) -> web.Response:
    return respond({"text": await store.notice(request.app[DB])})


@access(roles=MANAGERS)
async def put_notice(request: web.Request) -> web.Response:
    body = await read_json(request)
    v.only(body, ("text",))
    text = v.text(body, "text", max_len=500)
    if text is None and "text" not in body:
        raise BadRequest("invalid_field", "缺少字段 text(通知公告内容,可为空字符串以清除)", field="text")
    saved = await request.app[DB].write(store.set_notice, text or "", request[PRINCIPAL].id)
    return respond({"text": saved})


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/ws/screen", screen_socket, name="screen_socket")
    r.add_get("/api/screens", list_screens, name="list_screens")
    r.add_put("/api/screens/{device_id}/layout", set_layout, name="set_screen_layout")
    r.add_get("/api/notice", get_notice, name="get_notice")
    r.add_put("/api/notice", put_notice, name="put_notice")
