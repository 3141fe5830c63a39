"""The push hub for the hall's screens and display agents: `/ws/screen`.

Protocol (JSON text frames):

server → screen
  {"type": "hello", "id": N, "at": T, "screen": {...}}  first; N is the hub's last event id, T the server's time
  {"type": "snapshot", "id": N, "hall": {...}, "calls": [...], "notice": "…", "layout": {...}}
        instead of missed events, when the screen connects without `after`, is more than
        REPLAY_LIMIT events behind, or falls behind while connected: the whole state at
        event N (`hall` as GET /api/hall, `calls` the latest calls of today, oldest first)
  {"id": N, "type": "ticket.called", "at": …, "payload": {...}, "number": "A001",
   "window": 5, "window_name": "…", "section": "A", "priority": null}
        every event screens use (FOR_SCREENS), in id order; calls (`ticket.called`,
        `ticket.recalled`) carry the number and window at the top level as well
  {"type": "waiting", "id": N, "waiting": {"A": 3, …}}  people waiting per section, shortly after the
                                                        queue changed (one read, sent to all screens)
  {"type": "ping", "id": N, "at": …}                    every PING_S, so a screen can tell a dead server
screen → server
  {"type": "hello", "name": "…", "kind": "screen" | "agent", "version": "…", "last_id": N}
  {"type": "ack", "last_id": N}                         after handling events, and on each ping

Connect with `?token=<device token>&after=<last id seen>` (or the device cookie of an
enrolled screen). Each screen has its own bounded send queue: a screen that reads slowly
falls behind alone and is brought back with a snapshot; the others and the windows never
wait for it. WebSocket pings drop connections that stopped answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from ..clock import business_day
from ..events import Lagging, events_after
from ..keys import BUS, CLOCK, CONFIG, DB
from ..storage import Event
from . import store

log = logging.getLogger(__name__)

REPLAY_LIMIT = 1000  # more missed events than this: a snapshot instead
SEND_QUEUE = 256  # events a screen may have waiting to be sent before it counts as behind
PING_S = 15.0
SNAPSHOT_MAX_AGE_S = 5.0  # opening hours and estimates move with time, not only with events
COUNTS_DELAY_S = 0.3  # waiting counts follow a burst of ticket events this much later
HEARTBEAT_S = 20.0
CALLS = ("ticket.called", "ticket.recalled")
# What screens and agents are sent: calls and what happens at windows, the queue's
# sections, the notice line and layouts. Issued tickets (the waiting counts follow
# as `waiting` messages), accounts, appointments and the registry's own events are
# not: at a thousand screens every event costs a thousand sends.
FOR_SCREENS = ("window.", "section.", "notice.updated", "screen.layout_changed") + tuple(
    f"ticket.{t}"
    for t in ("called", "recalled", "started", "finished", "held", "missed", "transferred", "requeued", "cancelled")
)


# What the hub listens to: events for screens, and every ticket change (the waiting counts).
HUB_TYPES = FOR_SCREENS + ("ticket.",)


def for_screens(event_type: str) -> bool:
    return event_type.startswith(FOR_SCREENS)


def encode(event: Event) -> str:
    """An event as screens receive it."""
    message: dict[str, Any] = {"id": event.id, "type": event.type, "at": event.at, "payload": event.payload}
    if event.type in CALLS:
        ticket, window = event.payload.get("ticket", {}), event.payload.get("window", {})
        message.update(
            number=ticket.get("number"),
            window=window.get("no"),
            window_name=window.get("name"),
            section=ticket.get("section"),
            priority=ticket.get("priority"),
        )
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


@dataclass(eq=False)
class Connection:
    """One screen's socket and its bounded queue of events still to send."""

    ws: web.WebSocketResponse
    device_id: int
    name: str
    position: int = 0  # the last event id this screen has been sent
    acked: int = 0  # the last event id the screen said it handled
    behind: bool = False
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(SEND_QUEUE))

    def offer(self, event_id: int, data: bytes) -> None:
        """Queue an event (event_id > 0) or a state message (event_id 0, always sent)."""
        if self.behind:
            return
        try:
            self.queue.put_nowait((event_id, data))
        except asyncio.QueueFull:
            self.behind = True  # a snapshot brings it back; nobody else waits

    def fall_behind(self) -> None:
        """Mark the screen behind and wake its sender (an empty marker is never sent)."""
        self.behind = True
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait((-1, b""))


class ScreenHub:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.connections: set[Connection] = set()
        self.dispatched = 0
        self.last_sent = 0  # the last event id screens were sent (others are not for them)
        self._counts_due: asyncio.TimerHandle | None = None
        self._counts_task: asyncio.Future[None] | None = None
        self._snapshot: dict[str, Any] | None = None
        self._snapshot_built = 0.0
        self._snapshot_lock = asyncio.Lock()

    def _queue_moved(self) -> None:
        """After a burst of ticket events, send every screen the waiting counts once."""
        if self._counts_due is None:
            self._counts_due = asyncio.get_running_loop().call_later(COUNTS_DELAY_S, self._start_counts)

    def _start_counts(self) -> None:
        self._counts_task = asyncio.ensure_future(self._send_counts())

    async def stop_counts(self) -> None:
        """At shutdown: no counts sent after the hub has stopped (nor a task left pending)."""
        if self._counts_due is not None:
            self._counts_due.cancel()
            self._counts_due = None
        if self._counts_task is not None and not self._counts_task.done():
            self._counts_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._counts_task

    async def _send_counts(self) -> None:
        self._counts_due = None
        from ..queue.store import section_counts  # the queue's public read of its counts

        position = self.app[BUS].last_id
        config = self.app[CONFIG]
        day = business_day(self.app[CLOCK].now(), config.tz)
        counts = await section_counts(self.app[DB], day)
        waiting = {s.id: counts.get(s.id, {}).get("waiting", 0) for s in config.sections}
        data = json.dumps({"type": "waiting", "id": position, "waiting": waiting}, separators=(",", ":")).encode()
        for connection in self.connections:
            connection.offer(0, data)

    async def run(self) -> None:
        """Take each committed event once and offer it to every screen's queue."""
        bus = self.app[BUS]
        subscription = bus.subscribe(20_000, HUB_TYPES)
        try:
            while True:
                try:
                    event = await subscription.get()
                except Lagging:
                    subscription.close()
                    subscription = bus.subscribe(20_000, HUB_TYPES)
                    for connection in self.connections:
                        connection.fall_behind()
                    continue
                if event.type.startswith("ticket."):
                    self._queue_moved()
                if not for_screens(event.type):
                    continue
                data = encode(event).encode()  # serialised and encoded once, sent to every screen
                for connection in self.connections:
                    connection.offer(event.id, data)
                self.dispatched += 1
                self.last_sent = event.id
        finally:
            subscription.close()

    async def snapshot(self, layout: dict[str, Any]) -> dict[str, Any]:
        """The whole state a screen needs, at the hub's current event id.

        Built once per event id and shared: a thousand screens reconnecting
        after a power cut cost one read of the hall, not a thousand.
        """
        async with self._snapshot_lock:
            position = self.app[BUS].last_id
            fresh = time.monotonic() - self._snapshot_built < SNAPSHOT_MAX_AGE_S
            if self._snapshot is None or self._snapshot["id"] != position or not fresh:
                self._snapshot = await self._build_snapshot(position)
                self._snapshot_built = time.monotonic()
        return {**self._snapshot, "layout": layout}

    async def _build_snapshot(self, position: int) -> dict[str, Any]:
        from ..queue import overview  # the queue's read model; imported here to keep the domains apart at import

        config, db, now = self.app[CONFIG], self.app[DB], self.app[CLOCK].now()
        calls = await store.recent_calls(db, config, now, 20)
        return {
            "type": "snapshot",
            "id": position,
            "hall": await overview.hall(db, config, now),
            "calls": [json.loads(encode(e)) for e in calls],
            "notice": await store.notice(db),
        }

    async def serve(self, ws: web.WebSocketResponse, connection: Connection, after: int, layout: dict) -> None:
        """Bring the screen up to date, then keep sending until it goes away."""
        self.connections.add(connection)  # queue live events from now on, while catching up
        try:
            bus = self.app[BUS]
            await ws.send_json(
                {"type": "hello", "id": bus.last_id, "at": self.app[CLOCK].now(), "screen": {"name": connection.name}}
            )
            if after <= 0 or bus.last_id - after > REPLAY_LIMIT:
                await self._send_snapshot(connection, layout)
            else:
                connection.position = after
                for event in await events_after(self.app[DB], after, REPLAY_LIMIT + 1):
                    if for_screens(event.type):
                        await ws.send_str(encode(event))
                    connection.position = event.id
            await self._pump(connection, layout)
        finally:
            self.connections.discard(connection)

    async def _send_snapshot(self, connection: Connection, layout: dict) -> None:
        connection.behind = False
        while not connection.queue.empty():
            connection.queue.get_nowait()
        snapshot = await self.snapshot(layout)
        connection.position = snapshot["id"]
        await connection.ws.send_str(json.dumps(snapshot, ensure_ascii=False, separators=(",", ":")))

    async def _pump(self, connection: Connection, layout: dict) -> None:
        ws = connection.ws
        clock = self.app[CLOCK]
        while not ws.closed:
            if connection.behind:
                await self._send_snapshot(connection, layout)
                continue
            queue = connection.queue
            if queue.empty():
                try:
                    async with asyncio.timeout(PING_S):  # no task per message, unlike wait_for
                        event_id, data = await queue.get()
                except TimeoutError:
                    await ws.send_json({"type": "ping", "id": connection.position, "at": clock.now()})
                    continue
            else:
                event_id, data = queue.get_nowait()
            if event_id < 0 or 0 < event_id <= connection.position:
                continue  # a wake-up marker, or an event already sent while catching up
            await ws.send_frame(data, WSMsgType.TEXT)
            if event_id > 0:
                connection.position = event_id


HUB: web.AppKey[ScreenHub] = web.AppKey("screen_hub", ScreenHub)


async def hub_ctx(app: web.Application) -> AsyncIterator[None]:
    hub = ScreenHub(app)
    app[HUB] = hub
    task = asyncio.create_task(hub.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await hub.stop_counts()
    for connection in list(hub.connections):
        await connection.ws.close(code=1001, message=b"server shutting down")


async def read_messages(ws: web.WebSocketResponse, connection: Connection, on_message) -> None:
    """Read what the screen sends (hello, acks) until it closes; ignore anything malformed."""
    async for message in ws:
        if message.type != WSMsgType.TEXT:
            if message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
            continue
        try:
            data = json.loads(message.data)
        except ValueError:
            continue
        if isinstance(data, dict):
            await on_message(connection, data)
