"""Background work of the evaluation domain: services recorded as tickets finish, default grades,
overdue bad-review cases.

Services are projected from the event log by a cursor kept in the database,
so a service finished just before a crash is recorded on the next start; a
rating that arrives first records its service itself (the same unit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ..events import Projector, keep_following
from ..keys import BUS, CONFIG, DB
from . import case_sweep, ratings, store

log = logging.getLogger(__name__)

SWEEP_S = 60.0


# Services recorded as their tickets finish.
SERVICES = Projector(("ticket.finished",), store.cursor, ratings.project, lambda e: e.payload["ticket"]["id"])


async def sweep_once(app: web.Application) -> None:
    """Default grades for services left unrated (if the hall gives them); overdue bad-review cases
    flagged and escalated. Both units run on the writer's clock, the app's."""
    db, config = app[DB], app[CONFIG]
    while await db.write(ratings.apply_defaults, config) > 0:
        pass
    while await db.write(case_sweep.flag_overdue, config) > 0:
        pass


async def sweep(app: web.Application) -> None:
    """Every minute: `sweep_once`."""
    while True:
        try:
            await sweep_once(app)
        except Exception:  # the next round tries again; nothing is lost
            log.exception("evaluation sweep failed")
        await asyncio.sleep(SWEEP_S)


async def evaluation_ctx(app: web.Application) -> AsyncIterator[None]:
    projector = asyncio.create_task(
        keep_following(lambda: SERVICES.follow(app[DB], app[BUS], app[CONFIG]), "services from finished tickets")
    )
    tasks = [
        projector,
        asyncio.create_task(sweep(app)),
    ]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
