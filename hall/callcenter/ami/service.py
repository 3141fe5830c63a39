"""The phone channel in the running hall: AMI happenings turned into cases, screen pops and callbacks.

`ami_ctx` (an app cleanup_ctx) runs the AMI client when `[callcenter.ami]` is
enabled. Every queue call lands in the caller's case through the case core's
door (`intake.receive`, channel "phone", the call's Uniqueid as the dedupe
key), the answering agent gets a `call.answered` event with the caller's
earlier cases, and a caller who hung up unanswered leaves a `call.callback_due`
event on the desk. `PHONE` gives views the client for QueuePause and Originate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ...keys import CLOCK, CONFIG, DB
from .calls import (
    TALKING,
    WAITING,
    Call,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallTracker,
    CallWaiting,
    Happening,
    QueueSnapshot,
)
from .client import AmiClient, OriginateResult
from .protocol import Message
from .settings import AmiSettings, parse_ami

log = logging.getLogger(__name__)
IN_FLIGHT = 64
RESTORE_LOOKBACK_S = 86400.0  # open calls older than a day are not looked for after a restart
HISTORY_LIMIT = 10


@dataclass
class Phone:
    app: web.Application
    settings: AmiSettings
    client: AmiClient
    tracker: CallTracker
    cases: dict[str, int] = field(default_factory=dict)  # call id → case id, while the call lasts
    # What happens to one caller is recorded in order, one step after the other; different callers
    # are recorded side by side, so the database writer commits many of them at once (group commit)
    # instead of one fsync per AMI event. At most IN_FLIGHT steps wait at a time: back-pressure on
    # the AMI reader rather than an unbounded backlog in memory.
    chains: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(IN_FLIGHT))

    async def on_event(self, event: Message) -> None:
        for happening in self.tracker.on_event(event, self.app[CLOCK].now()):
            await self.schedule(happening)

    restored: bool = False

    async def on_ready(self, snapshot: QueueSnapshot) -> None:
        if not self.restored:  # the first QueueStatus since Hall started
            self.restored = True
            await self.restore_open_calls()
        for happening in self.tracker.rebuild(snapshot, self.app[CLOCK].now()):
            await self.schedule(happening)

    async def restore_open_calls(self) -> None:
        """Calls whose join was recorded before Hall stopped but whose end was not: known again, so
        the QueueStatus that follows settles them like any call missed while disconnected (a caller
        who hung up meanwhile gets a callback; one still waiting stays)."""
        since = self.app[CLOCK].now() - RESTORE_LOOKBACK_S
        rows = await self.app[DB].fetchall(
            "SELECT m.case_id, m.external_id, m.at, c.contact_phone, c.contact_name FROM case_messages m "
            "JOIN cases c ON c.id = m.case_id "
            "WHERE m.channel = 'phone' AND m.kind = 'call' AND m.external_id IS NOT NULL AND m.at >= ? ORDER BY m.id",
            (since,),
        )
        steps: dict[str, dict[str, Any]] = {}
        for r in rows:
            call_id, _, step = r["external_id"].rpartition("/")
            seen = steps.setdefault(call_id, {"case_id": r["case_id"], "phone": r["contact_phone"] or "",
                                              "name": r["contact_name"] or ""})  # fmt: skip
            seen[step] = r["at"]
        for call_id, seen in steps.items():
            if "join" not in seen or "end" in seen or "abandon" in seen or call_id in self.tracker.calls:
                continue
            answered = seen.get("answer")
            self.tracker.calls[call_id] = Call(
                call_id=call_id, linked_id=call_id, channel="", phone=seen["phone"], name=seen["name"], queue="",
                position=0, joined_at=seen["join"], state=TALKING if answered else WAITING, answered_at=answered,
            )  # fmt: skip
            self.cases[call_id] = seen["case_id"]

    async def schedule(self, h: Happening) -> None:
        """Record `h` after whatever is still being recorded for the same call."""
        await self.slots.acquire()
        # One caller's calls in order too (they land on the same case); withheld numbers by call.
        key = getattr(h, "phone", "") or getattr(h, "call_id", "") or ""
        task = asyncio.create_task(self._after(self.chains.get(key), h))
        self.chains[key] = task

        def finished(done: asyncio.Task[None]) -> None:
            self.slots.release()
            if self.chains.get(key) is done:
                del self.chains[key]

        task.add_done_callback(finished)

    async def _after(self, previous: asyncio.Task[None] | None, h: Happening) -> None:
        if previous is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await previous
        await self.act(h)

    async def settle(self, seconds: float = 5.0) -> None:
        """Let the steps under way finish (at shutdown), then drop what is left."""
        pending = list(self.chains.values())
        if pending:
            _, late = await asyncio.wait(pending, timeout=seconds)
            for task in late:
                task.cancel()

    async def act(self, h: Happening) -> None:
        try:
            if isinstance(h, CallWaiting):
                await self._note(h.call_id, h.phone, h.name, f"来电排队中（{h.queue} 第 {h.position} 位）", "join")
            elif isinstance(h, CallAnswered):
                case_id = await self._note(h.call_id, h.phone, h.name, f"坐席 {h.member_name} 接听", "answer")
                await self._screen_pop(h, case_id)
            elif isinstance(h, CallEnded):
                body = f"通话结束，通话 {h.talk_seconds} 秒（{_END_REASONS.get(h.reason, h.reason)}）"
                await self._note(h.call_id, h.phone, "", body, "end")
                self.cases.pop(h.call_id, None)
            elif isinstance(h, CallAbandoned):
                why = "连接中断期间离开队列，是否接通未知" if h.unseen else f"排队 {h.hold_seconds} 秒后挂断"
                case_id = await self._note(h.call_id, h.phone, h.name, f"未接来电：{why}，需回拨", "abandon")
                self.cases.pop(h.call_id, None)
                await self._emit("call.callback_due", {"case_id": case_id, "call_id": h.call_id, "queue": h.queue})
        except Exception:  # one call's bookkeeping must not stop the phone channel
            log.exception("phone: could not record %s", type(h).__name__)

    async def _note(self, call_id: str, phone: str, name: str, body: str, step: str) -> int:
        from .. import intake  # the case core

        contact = {k: v for k, v in (("phone", phone), ("name", name)) if v}
        received = await intake.receive(
            self.app,
            intake.Inbound(
                channel="phone",
                contact=contact,
                body=body,
                kind="call",
                external_id=f"{call_id}/{step}",
                case_hint=self.cases.get(call_id),
            ),
        )
        self.cases[call_id] = received.case_id
        return received.case_id

    async def _screen_pop(self, h: CallAnswered, case_id: int) -> None:
        from .. import store  # the case core's reads

        earlier = []
        if h.phone:
            rows = await store.find(
                self.app[DB], store.CaseFilter(phone=h.phone), self.app[CLOCK].now(), HISTORY_LIMIT, 0
            )
            # ids and states only: events are kept and pushed to every desk; the desk reads the rest
            earlier = [
                {"id": r["id"], "no": r["no"], "status": r["status"], "type": r["type"]}
                for r in rows
                if r["id"] != case_id
            ]
        agent_id = await self.app[DB].fetchval("SELECT id FROM users WHERE username = ?", (h.agent,))
        await self._emit(
            "call.answered",
            {
                "agent": h.agent,
                "agent_id": agent_id,
                "interface": h.interface,
                "case_id": case_id,
                "call_id": h.call_id,
                "queue": h.queue,
                "hold_seconds": h.hold_seconds,
                "earlier_cases": earlier,
            },
        )

    async def _emit(self, type_: str, payload: dict[str, Any]) -> None:
        def unit(tx: Any) -> None:
            tx.emit(type_, payload)

        await self.app[DB].write(unit)

    async def return_visit(self, case_id: int, agent: str, phone: str) -> OriginateResult:
        """Ring the agent's phone, then the citizen's, for a case's return visit (回访)."""
        interface = self.settings.interface_of(agent)
        if interface is None:
            raise LookupError(f"no phone configured for agent {agent}")
        return await self.client.originate(
            interface,
            phone,
            context=self.settings.originate_context,
            case_id=case_id,
            caller_id=self.settings.originate_caller_id,
            ring_seconds=self.settings.originate_timeout_seconds,
        )

    async def presence(self, agent: str, status: str, reason: str = "") -> None:
        """Mirror 在线 / 示忙 / 话后整理 to Asterisk: anything but online pauses the agent's phone."""
        interface = self.settings.interface_of(agent)
        if interface is not None:
            await self.client.queue_pause(interface, status != "online", reason or _PAUSE_REASONS.get(status, ""))


_END_REASONS = {"agent": "坐席挂断", "caller": "来电人挂断", "transfer": "已转接", "hangup": "挂断", "lost": "连接中断"}
_PAUSE_REASONS = {"busy": "示忙", "wrap_up": "话后整理", "offline": "离线"}

PHONE: web.AppKey[Phone] = web.AppKey("phone", Phone)


def make_phone(app: web.Application, settings: AmiSettings) -> Phone:
    client = AmiClient(
        settings.host,
        settings.port,
        settings.username,
        settings.secret,
        ping_seconds=settings.ping_seconds,
        ping_timeout=settings.ping_timeout_seconds,
        reconnect_max=settings.reconnect_max_seconds,
    )
    tracker = CallTracker(agent_for=settings.agent_for, queues=frozenset(settings.queues))
    phone = Phone(app, settings, client, tracker)
    client.on_event = phone.on_event
    client.on_ready = phone.on_ready
    return phone


async def ami_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the phone channel for the life of the app, when configured."""
    raw = app[CONFIG].callcenter.channels.get("ami", {})
    settings = parse_ami(raw)
    if not settings.enabled:
        yield
        return
    phone = make_phone(app, settings)
    app[PHONE] = phone
    task = asyncio.create_task(phone.client.run(), name="ami")
    try:
        yield
    finally:
        phone.client.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await phone.settle()
