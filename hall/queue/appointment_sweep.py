"""The no-show sweep: bookings never checked in are recorded as no-shows.

It runs at start-up (catching up on whatever closed while the server was
down) and then every minute, on the app's clock; tests call `sweep` directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ..keys import CONFIG, DB
from . import appointments

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60


async def sweep(app: web.Application) -> int:
    """Record the no-shows due by the app's clock now; how many were recorded."""
    return await app[DB].write(appointments.sweep_no_shows, app[CONFIG])


async def sweep_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx entry (after the database's): sweep at start-up, then every minute."""
    await sweep(app)
    task = asyncio.create_task(_every_minute(app), name="appointment-no-shows")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _every_minute(app: web.Application) -> None:
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            recorded = await sweep(app)
        except Exception:  # a full disk or a bug must not end the sweeping for good
            log.exception("no-show sweep failed; trying again in %d s", SWEEP_SECONDS)
            continue
        if recorded:
            log.info("recorded %d appointment no-show(s)", recorded)
