"""Background work of the desk: deadlines swept every minute (warnings, overdue, escalation)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ..keys import CONFIG, DB
from . import cases

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


async def callcenter_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(sweep(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
