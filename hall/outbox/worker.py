"""The background worker that sends what the outbox holds, retrying with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator

from aiohttp import web

from ..clock import Clock
from ..config import NotifySettings
from ..events import Lagging
from ..keys import BUS, CLOCK, CONFIG, DB
from ..storage import Database
from . import store
from .senders import HttpSender, LogSender, Sender, SendError

log = logging.getLogger("hall.outbox")

BATCH = 20
IDLE_WAKE_S = 5.0  # look again at least this often, for retries that fall due


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` failures: 30 s, 1, 2, 4 … minutes, at most an hour."""
    return min(30.0 * 2 ** max(0, attempts - 1), 3600.0)


def make_sender(settings: NotifySettings) -> Sender:
    if settings.sender == "http":
        return HttpSender(settings.url, os.environ.get("HALL_NOTIFY_KEY", ""))
    return LogSender()


class Worker:
    """Sends SMS (and anything the hall's gateway takes) with `sender`; other channels (WeChat
    customer-service messages, email) with the sender their channel registered in `senders`.
    A message for a channel nobody registered is not pretended sent: it fails and is retried."""

    def __init__(self, db: Database, clock: Clock, sender: Sender, max_attempts: int) -> None:
        self.db = db
        self.clock = clock
        self.sender = sender
        self.senders: dict[str, Sender] = {}
        self.max_attempts = max_attempts
        self.wake = asyncio.Event()
        self._lock = asyncio.Lock()

    async def run_once(self) -> int:
        """Try every message that is due now; return how many were tried."""
        async with self._lock:  # one round at a time: a message is never sent twice at once
            return await self._round()

    async def _round(self) -> int:
        messages = await store.due(self.db, self.clock.now(), BATCH)
        for message in messages:
            try:
                await self._sender_for(message.channel).send(message)
            except SendError as e:
                attempts = message.attempts + 1
                retry = None if attempts >= self.max_attempts else self.clock.now() + backoff(attempts)
                log.warning("notification %s attempt %d failed: %s", message.id, attempts, e)
                await self.db.write(store.mark_failed, message.id, str(e), retry)
            else:
                await self.db.write(store.mark_sent, message.id)
        return len(messages)

    def _sender_for(self, channel: str) -> Sender:
        if channel in self.senders:
            return self.senders[channel]
        if channel == "sms":
            return self.sender
        raise SendError(f"no sender configured for channel {channel!r}")

    async def run(self) -> None:
        while True:
            try:
                while await self.run_once() == BATCH:
                    pass
            except Exception:  # the worker must keep going: the outbox keeps what failed
                log.exception("outbox worker round failed")
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that
            # arrives as the event is set, and the worker would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(IDLE_WAKE_S):
                    await self.wake.wait()
            self.wake.clear()


WORKER: web.AppKey[Worker] = web.AppKey("outbox_worker", Worker)


async def worker_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the worker beside the server; new messages wake it at once."""
    settings = app[CONFIG].notify
    worker = Worker(app[DB], app[CLOCK], make_sender(settings), settings.max_attempts)
    app[WORKER] = worker
    bus = app[BUS]

    async def wake_on_new() -> None:
        subscription = bus.subscribe(100, ("notification.queued",))
        try:
            while True:
                try:
                    event = await subscription.get()
                except Lagging:  # missed some: look anyway, and listen afresh
                    subscription.close()
                    subscription = bus.subscribe(100, ("notification.queued",))
                    worker.wake.set()
                    continue
                if event.type == "notification.queued":
                    worker.wake.set()
        finally:
            subscription.close()

    tasks = [asyncio.create_task(worker.run()), asyncio.create_task(wake_on_new())]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await worker.sender.close()
    for sender in worker.senders.values():
        await sender.close()
