"""Background work of the desk: deadlines swept every minute (warnings, overdue, escalation), and
bad reviews from the ratings followed onto the desk."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ..events import Lagging, events_after, keep_following
from ..keys import BUS, CONFIG, DB
from . import bad_reviews, cases

log = logging.getLogger(__name__)
SWEEP_S = 60.0


async def sweep_once(app: web.Application) -> None:
    while await app[DB].write(cases.sweep, app[CONFIG]) > 0:
        pass


async def sweep(app: web.Application) -> None:
    while True:
        try:
            await sweep_once(app)
        except Exception:  # the next round tries again; nothing is lost
            log.exception("case deadline sweep failed")
        await asyncio.sleep(SWEEP_S)


PAGE = 500
REVIEW_EVENTS = ("bad_review.",)


async def catch_up(app: web.Application) -> None:
    """Mirror the bad-review events since the cursor (at start, and after falling behind)."""
    db, config = app[DB], app[CONFIG]
    position = await db.write(bad_reviews.cursor)
    while batch := await events_after(db, position, PAGE):
        ids = [e.payload["case"]["id"] for e in batch if e.type.startswith(REVIEW_EVENTS)]
        position = batch[-1].id
        await db.write(bad_reviews.mirror, config, ids, position)


async def follow(app: web.Application) -> None:
    bus, db, config = app[BUS], app[DB], app[CONFIG]
    subscription = bus.subscribe(10_000, REVIEW_EVENTS)
    await catch_up(app)
    try:
        while True:
            try:
                event = await subscription.get()
            except Lagging:
                subscription.close()
                subscription = bus.subscribe(10_000, REVIEW_EVENTS)
                await catch_up(app)
                continue
            await db.write(bad_reviews.mirror, config, [event.payload["case"]["id"]], event.id)
    finally:
        subscription.close()


async def callcenter_ctx(app: web.Application) -> AsyncIterator[None]:
    projector = asyncio.create_task(keep_following(lambda: follow(app), "bad reviews onto the desk"))
    tasks = [
        asyncio.create_task(sweep(app)),
        projector,
    ]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
