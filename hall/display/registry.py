"""Which screens and agents are connected, how far behind each is, and warnings when one drops.

Each screen (a display device) reports itself when it connects; the registry
keeps the live picture in memory (connections, acknowledged event ids) and
the lasting one in the `screens` table (last seen, version, address). A screen
that stays away longer than OFFLINE_GRACE_S while the hall is open raises a
`screen.offline` event for the managers, once per outage.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..calendar import is_issuing
from ..clock import iso, local
from ..keys import BUS, CLOCK, CONFIG, DB
from . import store

OFFLINE_GRACE_S = 30.0


@dataclass
class Live:
    connections: int = 0
    acked: int = 0
    kind: str = "screen"
    version: str = ""


class Registry:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.live: dict[int, Live] = {}
        self._checks: dict[int, asyncio.Task] = {}
        self.grace_s = OFFLINE_GRACE_S

    async def start(self) -> None:
        """Screens marked online by a previous process are offline until they come back."""
        for device_id in await self.app[DB].write(store.screens_reset):
            self._schedule_check(device_id)

    async def connected(self, device_id: int, name: str, address: str, hello: dict[str, Any]) -> None:
        live = self.live.setdefault(device_id, Live())
        live.connections += 1
        live.kind = _text(hello.get("kind"), "screen", 20)
        live.version = _text(hello.get("version"), "", 40)
        last = hello.get("last_id")
        if isinstance(last, int) and not isinstance(last, bool) and last >= 0:
            live.acked = max(live.acked, last)
        check = self._checks.pop(device_id, None)
        if check is not None:
            check.cancel()
        name = _text(hello.get("name"), name, 60)
        await self.app[DB].write(store.screen_connected, device_id, name, live.kind, live.version, address, live.acked)

    def acked(self, device_id: int, last_id: Any) -> None:
        live = self.live.get(device_id)
        if live is not None and isinstance(last_id, int) and not isinstance(last_id, bool):
            live.acked = max(live.acked, min(last_id, self.app[BUS].last_id))

    async def disconnected(self, device_id: int) -> None:
        live = self.live.get(device_id)
        if live is None:
            return
        live.connections -= 1
        if live.connections > 0:
            return
        await self.app[DB].write(store.screen_disconnected, device_id, live.acked)
        self._schedule_check(device_id)

    def _schedule_check(self, device_id: int) -> None:
        old = self._checks.pop(device_id, None)
        if old is not None:
            old.cancel()
        self._checks[device_id] = asyncio.create_task(self._check_later(device_id))

    async def _check_later(self, device_id: int) -> None:
        await asyncio.sleep(self.grace_s)
        self._checks.pop(device_id, None)
        await self.check(device_id)

    async def check(self, device_id: int) -> bool:
        """Warn about a screen that is still away, if the hall is open now."""
        live = self.live.get(device_id)
        if live is not None and live.connections > 0:
            return False
        if not self.hall_open():
            return False
        return await self.app[DB].write(store.screen_offline_warning, device_id)

    def hall_open(self) -> bool:
        config = self.app[CONFIG]
        moment = local(self.app[CLOCK].now(), config.tz)
        return any(is_issuing(section, moment, config) for section in config.sections)

    async def listing(self) -> list[dict[str, Any]]:
        """The registry as managers see it: online, how far behind, last seen."""
        config = self.app[CONFIG]
        from .hub import HUB  # the hub knows the last event screens were sent

        head = self.app[HUB].last_sent
        out = []
        for row in await store.registry(self.app[DB]):
            live = self.live.get(row["device_id"])
            online = live is not None and live.connections > 0
            last_id = max(row["last_event_id"], live.acked if live else 0)
            out.append(
                {
                    "device_id": row["device_id"],
                    "name": row["name"],
                    "kind": row["kind"],
                    "version": row["version"],
                    "window": row["window_no"],
                    "address": row["address"],
                    "online": online,
                    "connections": live.connections if live else 0,
                    "last_event_id": last_id,
                    "behind": max(0, head - last_id),
                    "last_seen_at": iso(row["last_seen_at"], config.tz)
                    if not online
                    else iso(self.app[CLOCK].now(), config.tz),
                    "offline_since": None if online else iso(row["offline_since"], config.tz),
                    "warning": "离线" if (not online and row["warned"]) else None,
                    "revoked": row["revoked_at"] is not None,
                }
            )
        return out


def _text(value: Any, default: str, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else default


REGISTRY: web.AppKey[Registry] = web.AppKey("screen_registry", Registry)


async def registry_ctx(app: web.Application) -> AsyncIterator[None]:
    registry = Registry(app)
    app[REGISTRY] = registry
    await registry.start()
    yield
    for task in list(registry._checks.values()):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
