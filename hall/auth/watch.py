"""Long-lived sockets end when their caller's token does.

A WebSocket is authenticated once, when it opens; a screen may then stay
connected for weeks. Each socket is registered here with the device or
session it stands for; every few seconds (at once after a revocation through
this server) the still-valid ones are looked up, and the sockets of revoked
devices, ended sessions and deactivated accounts are closed. Revocations made
by another process (`python -m hall device revoke`) are found by the
periodic check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSCloseCode, web

from ..clock import Clock
from ..storage import Database
from .principal import Principal

log = logging.getLogger(__name__)

CHECK_S = 2.0
REVOKED = b"credentials revoked"


class SocketWatch:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.sockets: dict[web.WebSocketResponse, Principal] = {}
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._closing: set[asyncio.Task] = set()

    def watch(self, who: Principal | None, ws: web.WebSocketResponse) -> None:
        """Close `ws` when `who`'s device token or session stops being valid (None: a citizen's page)."""
        if who is None:
            return
        self.sockets[ws] = who
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def unwatch(self, ws: web.WebSocketResponse) -> None:
        self.sockets.pop(ws, None)
        if not self.sockets and self._task is not None:
            self._task.cancel()  # nothing to watch: no task left behind at shutdown
            self._task = None

    def wake(self) -> None:
        """Check now: a device or session was just revoked."""
        self._wake.set()

    async def _run(self) -> None:
        while self.sockets:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CHECK_S):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.check()
            except Exception:  # a database hiccup must not stop the watch
                log.exception("checking open sockets' credentials failed")

    async def check(self) -> int:
        """Close the sockets whose credentials ended; return how many."""
        watched = list(self.sockets.items())
        devices = sorted({who.id for _, who in watched if who.kind == "device"})
        sessions = sorted({who.session_id for _, who in watched if who.kind == "user" and who.session_id})
        dead_devices = await self._ended("SELECT id FROM devices WHERE revoked_at IS NOT NULL AND id IN", devices)
        dead_sessions = await self._ended(
            "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE (s.revoked_at IS NOT NULL OR s.expires_at <= ? OR u.active = 0) AND s.id IN",
            sessions,
            (self.clock.now(),),
        )
        closed = 0
        for ws, who in watched:
            ended = dead_devices if who.kind == "device" else dead_sessions
            key = who.id if who.kind == "device" else who.session_id
            if key in ended and not ws.closed:
                closed += 1
                self.sockets.pop(ws, None)
                # its own task: a socket slow to finish the close handshake holds up no other
                task = asyncio.get_running_loop().create_task(
                    ws.close(code=WSCloseCode.POLICY_VIOLATION, message=REVOKED)
                )
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        return closed

    async def _ended(self, select: str, ids: list[int], params: tuple = ()) -> set[int]:
        if not ids:
            return set()
        marks = ", ".join("?" * len(ids))
        return {row[0] for row in await self.db.fetchall(f"{select} ({marks})", params + tuple(ids))}
