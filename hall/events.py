"""The spine: every change is an event row, published in-process after commit.

Listeners subscribe with a bounded queue. One that falls behind is not allowed
to grow memory or slow the writer: it is marked as lagging and must catch up
from the table by the last id it saw (`events_after`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .storage import Database, Event, Schema

SCHEMA = Schema(
    "events",
    (
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL,
            at REAL NOT NULL,
            payload TEXT NOT NULL
        )
        """,
        # Reports read the events of a date range.
        "CREATE INDEX events_at ON events (at)",
    ),
)


class Lagging(Exception):
    """The subscriber's queue overflowed; re-read from the table."""


class Subscription:
    def __init__(self, bus: EventBus, maxsize: int, types: tuple[str, ...] | None) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.types = types
        self.lagging = False

    def push(self, event: Event) -> None:
        if self.lagging or (self.types is not None and not event.type.startswith(self.types)):
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lagging = True

    async def get(self) -> Event:
        if self.lagging and self._queue.empty():
            raise Lagging()
        return await self._queue.get()

    def close(self) -> None:
        self._bus._subscriptions.discard(self)


class EventBus:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self.last_id = 0

    def publish(self, events: list[Event]) -> None:
        for event in events:
            self.last_id = max(self.last_id, event.id)
            for sub in list(self._subscriptions):
                sub.push(event)

    def subscribe(self, maxsize: int = 1000, types: tuple[str, ...] | None = None) -> Subscription:
        """Listen to committed events; `types` (prefixes) keeps a listener from waking for the rest."""
        sub = Subscription(self, maxsize, types)
        self._subscriptions.add(sub)
        return sub


async def events_after(db: Database, after: int, limit: int) -> list[Event]:
    rows = await db.fetchall(
        "SELECT id, type, at, payload FROM events WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
    )
    return [Event(r["id"], r["type"], r["at"], json.loads(r["payload"])) for r in rows]


async def last_event_id(db: Database) -> int:
    return await db.fetchval("SELECT COALESCE(MAX(id), 0) FROM events")


log = logging.getLogger(__name__)
RESTART_S = 5.0


async def keep_following(follow: Callable[[], Awaitable[None]], what: str, pause: float = RESTART_S) -> None:
    """Run a projector (a `follow` that reads events from its cursor for ever) and start it again
    when it fails: the disk full or read-only for a while must not stop it until the next restart.
    Started again, it subscribes afresh and catches up from its cursor, so nothing is missed."""
    while True:
        try:
            await follow()
            return
        except Exception:
            log.exception("%s stopped; starting again in %.0f s", what, pause)
            await asyncio.sleep(pause)


@dataclass(frozen=True)
class Projector:
    """Events of some types turned into a writer unit's work, from a cursor kept in the database:
    `apply(tx, config, ids, position)` records the ids picked out of the events up to `position`
    (and moves the cursor in the same transaction); `cursor(tx)` says where it stands."""

    types: tuple[str, ...]  # event type prefixes
    cursor: Callable[..., int]
    apply: Callable[..., Any]
    ids_of: Callable[[Event], int]

    async def catch_up(self, db: Database, config: Any, page: int = 500) -> None:
        """Everything since the cursor (at start, and after falling behind the live feed)."""
        position = await db.write(self.cursor)
        while batch := await events_after(db, position, page):
            ids = [self.ids_of(e) for e in batch if e.type.startswith(self.types)]
            position = batch[-1].id
            await db.write(self.apply, config, ids, position)

    async def follow(self, db: Database, bus: EventBus, config: Any) -> None:
        """Catch up, then apply each new event as it commits; run for ever."""
        subscription = bus.subscribe(10_000, self.types)
        await self.catch_up(db, config)
        try:
            while True:
                try:
                    event = await subscription.get()
                except Lagging:
                    subscription.close()
                    subscription = bus.subscribe(10_000, self.types)
                    await self.catch_up(db, config)
                    continue
                await db.write(self.apply, config, [self.ids_of(event)], event.id)
        finally:
            subscription.close()
