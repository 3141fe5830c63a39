"""Background work of the desk: deadlines swept every minute (warnings, overdue, escalation), and
bad reviews from the ratings followed onto the desk."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ..events import Projector, keep_following
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


# Bad reviews from the ratings mirrored onto the desk.
BAD_REVIEWS = Projector(("bad_review.",), bad_reviews.cursor, bad_reviews.mirror, lambda e: e.payload["case"]["id"])


async def catch_up(app: web.Application) -> None:
    await BAD_REVIEWS.catch_up(app[DB], app[CONFIG])


async def callcenter_ctx(app: web.Application) -> AsyncIterator[None]:
    projector = asyncio.create_task(
        keep_following(lambda: BAD_REVIEWS.follow(app[DB], app[BUS], app[CONFIG]), "bad reviews onto the desk")
    )
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
