"""From a parsed WeChat message to the text the hall answers with.

Messages (text, image, voice) go to the case core, which appends them to the
citizen's open case or opens one; the answer names the case number. WeChat
resends a message it got no answer to within 5 s (three tries in all), so the
answer is kept by MsgId for a while: a retry that arrives while the first is
still being saved waits for it, and one that arrives after gets the same
answer, and neither makes a second message. Across a restart the case core's
own check on the external id (the MsgId) does the same.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from . import crypto
from .api import WechatApi
from .messages import Message
from .settings import WechatSettings


@dataclass(frozen=True)
class Receipt:
    """What the case core says it did with one message."""

    case_id: int
    case_number: str
    new_case: bool = False
    duplicate: bool = False


@dataclass(frozen=True)
class Inbound:
    """One citizen message on its way to the case core; its media still at WeChat (by MediaId)."""

    channel: str
    contact: dict[str, str]
    body: str
    kind: str
    external_id: str
    media: list[dict[str, str]] = field(default_factory=list)


Receiver = Callable[[web.Application, Inbound], Awaitable[Receipt]]


@dataclass
class Wechat:
    """What the server holds for the account: settings, the hand-off, answers given, keys, the API client."""

    settings: WechatSettings
    receive: Receiver
    answers: Answers
    crypto: crypto.MessageCrypto | None
    api: WechatApi


WECHAT: web.AppKey[Wechat] = web.AppKey("wechat", Wechat)


def inbound(message: Message) -> Inbound:
    """What the case core is told of a WeChat message; media are named by MediaId (WeChat keeps them 3 days)."""
    media = []
    if message.kind in ("image", "voice") and message.media_id:
        media.append({"kind": message.kind, "media_id": message.media_id, "format": message.format})
    return Inbound(
        channel="wechat",
        contact={"wechat_openid": message.sender},
        body=message.text,
        kind=message.kind,
        external_id=message.msg_id or message.dedupe_key,
        media=media,
    )


async def answer(app: web.Application, settings: WechatSettings, receive: Receiver, message: Message) -> str | None:
    """The reply text for `message`, or None for WeChat's bare `success` (no reply)."""
    if message.kind in ("text", "image", "voice"):
        if message.kind == "text" and not message.content.strip():
            return None
        receipt = await receive(app, inbound(message))
        return settings.ack_text.format(number=receipt.case_number)
    if message.kind == "event":
        if message.event in ("subscribe", "CLICK"):
            return settings.welcome_text
        return None  # unsubscribe, location reports, menu views: nothing to say
    return settings.unsupported_text


class Answers:
    """Answers in progress or recently given, by the message's dedupe key."""

    def __init__(self, keep_seconds: float = 300.0, most: int = 20_000) -> None:
        self.keep_seconds = keep_seconds
        self.most = most
        self._tasks: OrderedDict[str, tuple[asyncio.Task, float]] = OrderedDict()

    def task(self, key: str, start: Callable[[], Awaitable[str | None]]) -> asyncio.Task:
        """The task answering `key`: the one already running or done, or a new one."""
        self._expire()
        found = self._tasks.get(key)
        if found is not None:
            task = found[0]
            if not (task.done() and (task.cancelled() or task.exception() is not None)):
                return task
        task = asyncio.ensure_future(start())
        self._tasks[key] = (task, time.monotonic())
        self._tasks.move_to_end(key)
        return task

    def forget(self, key: str, task: asyncio.Task) -> None:
        found = self._tasks.get(key)
        if found is not None and found[0] is task:
            del self._tasks[key]

    def pending(self) -> list[asyncio.Task]:
        return [task for task, _ in self._tasks.values() if not task.done()]

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.keep_seconds
        while self._tasks:
            key, (task, at) = next(iter(self._tasks.items()))
            if (at > cutoff and len(self._tasks) <= self.most) or not task.done():
                break
            del self._tasks[key]
