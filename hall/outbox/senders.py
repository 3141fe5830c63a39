"""How messages leave the hall: written to the log, or posted to a gateway.

The HTTP sender speaks a small JSON protocol that SMS gateways and WeChat
template-message relays in halls commonly accept (or a thin adapter in front
of them does): `POST <url>` with `Authorization: Bearer <key>` and
`{"channel", "to", "text", "kind", "ref", "id"}`; any 2xx answer means sent.
"""

from __future__ import annotations

import logging
from typing import Protocol

import aiohttp

from ..personal import mask_phone
from .store import Message

log = logging.getLogger("hall.outbox")

TIMEOUT_S = 5.0


class SendError(Exception):
    """The gateway did not take the message; the worker retries later."""


class Sender(Protocol):
    async def send(self, message: Message) -> None: ...

    async def close(self) -> None: ...


class LogSender:
    """The default: write each message to the log (a hall with no gateway yet)."""

    async def send(self, message: Message) -> None:
        log.info(
            "notification %s to %s %s: %s",
            message.id,
            message.channel,
            mask_phone(message.recipient) if message.channel == "sms" else message.recipient[:6] + "…",
            message.body.get("text", ""),
        )

    async def close(self) -> None:
        return None


class HttpSender:
    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self._session: aiohttp.ClientSession | None = None

    async def send(self, message: Message) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        payload = {
            "id": message.id,
            "channel": message.channel,
            "to": message.recipient,
            "text": message.body.get("text", ""),
            "kind": message.kind,
            "ref": message.ref,
        }
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        try:
            async with self._session.post(self.url, json=payload, headers=headers) as resp:
                if not 200 <= resp.status < 300:
                    raise SendError(f"gateway answered {resp.status}: {(await resp.text())[:200]}")
        except (aiohttp.ClientError, TimeoutError) as e:
            raise SendError(f"gateway unreachable: {type(e).__name__} {e}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
