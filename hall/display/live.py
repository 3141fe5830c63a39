"""Live push to pages: one WebSocket, `GET /api/live?after=ID`, resumed by event id.

A page says the last event id it saw; it gets what it missed in order, then
every new event as it is committed. When it is too far behind (or falls
behind while connected) it is told to `resync`: fetch its state afresh. So a
page never shows a stale state after a reconnect, and a slow page never slows
the writer or the other pages (each has a bounded queue).

Who sees what: staff and devices see every event (payloads carry no personal
data); a citizen's tracking page, authenticated by its ticket's secret token,
sees only events of its ticket's section and of its own ticket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from ..auth.middleware import AUTHENTICATOR, PRINCIPAL
from ..auth.principal import DEVICE_KINDS, ROLES, access
from ..errors import Forbidden, NotFound, Unauthorized
from ..events import Lagging, events_after
from ..keys import BUS, DB
from ..queue import store as queue_store
from ..storage import Event
from ..web import validation as v

log = logging.getLogger(__name__)

REPLAY_LIMIT = 500  # more missed events than this: resync instead of replay
HEARTBEAT_S = 20.0  # WebSocket pings; a peer that does not answer is dropped
QUEUE_SIZE = 1000


class TicketFilter:
    """What a citizen's page may see: its own ticket and the queue of its section."""

    def __init__(self, ticket_id: int, section: str) -> None:
        self.ticket_id = ticket_id
        self.sections = {section}

    def admits(self, event: Event) -> bool:
        ticket = event.payload.get("ticket")
        if isinstance(ticket, dict):
            if ticket.get("id") == self.ticket_id:
                self.sections.add(ticket.get("section"))  # a transfer moves the ticket to another queue
                return True
            return ticket.get("section") in self.sections or event.payload.get("from_section") in self.sections
        return event.type.startswith("section.") and event.payload.get("section") in self.sections


def same_origin(request: web.Request) -> bool:
    """Browsers send Origin on WebSocket upgrades; refuse pages of other sites (cross-site hijacking)."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


@access(roles=frozenset(ROLES), devices=DEVICE_KINDS, public=True)
async def live(request: web.Request) -> web.StreamResponse:
    if not same_origin(request):
        raise Forbidden("bad_origin", "不允许从其他网站连接")
    after = v.query_int(request.query, "after", 0, 0, 2**62)
    who = request[PRINCIPAL]
    only = None
    if who is None:
        only = await _ticket_filter(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=4096, compress=False)
    await ws.prepare(request)
    bus = request.app[BUS]
    subscription = bus.subscribe(QUEUE_SIZE)
    request.app[AUTHENTICATOR].sockets.watch(who, ws)  # closed when the device or session is revoked
    try:
        await _send(ws, {"type": "hello", "last_id": bus.last_id})
        last = after
        if after and bus.last_id - after > REPLAY_LIMIT:
            await _send(ws, {"type": "resync", "last_id": bus.last_id})
            last = bus.last_id
        elif after:
            for event in await events_after(request.app[DB], after, REPLAY_LIMIT):
                last = event.id
                if only is None or only.admits(event):
                    await _send(ws, {"type": "event", "event": event.as_json()})
        reader = asyncio.create_task(_drain(ws))
        try:
            while not ws.closed:
                getter = asyncio.create_task(subscription.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if reader in done:
                    getter.cancel()
                    break
                try:
                    event = getter.result()
                except Lagging:
                    subscription.close()
                    subscription = bus.subscribe(QUEUE_SIZE)
                    await _send(ws, {"type": "resync", "last_id": bus.last_id})
                    last = bus.last_id
                    continue
                if event.id <= last:
                    continue  # already sent in the replay
                last = event.id
                if only is None or only.admits(event):
                    await _send(ws, {"type": "event", "event": event.as_json()})
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        request.app[AUTHENTICATOR].sockets.unwatch(ws)
        subscription.close()
        await ws.close()
    return ws


async def _ticket_filter(request: web.Request) -> TicketFilter:
    token = request.query.get("ticket")
    if not token:
        raise Unauthorized("unauthenticated", "请先登录,或使用号票上的查询链接")
    row = await queue_store.get_ticket_by_token(request.app[DB], token)
    if row is None:
        raise NotFound("ticket_not_found", "没有这张号票,或查询码不正确")
    return TicketFilter(row["id"], row["section"])


async def _send(ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
    await ws.send_str(json.dumps(message, ensure_ascii=False, separators=(",", ":")))


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) what the page sends, so pings are answered and a close is seen."""
    async for message in ws:
        if message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
            break


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/live", live, name="live")
