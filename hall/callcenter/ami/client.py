"""An asyncio client for Asterisk's Manager Interface that keeps itself connected.

`run()` connects, logs in with the MD5 challenge, asks QueueStatus and hands
the snapshot to `on_ready`, then passes every event to `on_event` in the order
Asterisk sent it. A Ping every `ping_seconds` proves the peer alive; when it
goes unanswered, or the connection drops, the client reconnects with capped
exponential backoff and jitter and starts over with a fresh QueueStatus.
Actions are matched to their answers by ActionID; list actions collect their
events until `EventList: Complete`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import itertools
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .calls import QueueSnapshot
from .protocol import Fields, Framer, Message, ProtocolError, encode_action

log = logging.getLogger(__name__)

Handler = Callable[[Message], Awaitable[None] | None]
ReadyHandler = Callable[[QueueSnapshot], Awaitable[None] | None]

# OriginateResponse's Reason is the last control frame the first leg saw (frame.h).
ORIGINATE_REASONS = {
    0: "呼叫失败（号码无效或线路不可用）",
    1: "对方挂断",
    3: "无人接听",
    4: "已接通",
    5: "忙线",
    8: "线路拥塞",
}


class AmiError(Exception):
    """Asterisk refused an action (`Response: Error`)."""

    def __init__(self, message: str, response: Message | None = None) -> None:
        super().__init__(message)
        self.response = response


class AmiConnectionError(AmiError):
    """Not connected to Asterisk, or the connection went away while waiting."""


class AmiAuthError(AmiError):
    """The username or secret was refused."""


@dataclass(frozen=True)
class OriginateResult:
    ok: bool
    reason: int
    reason_text: str
    channel: str
    uniqueid: str
    action_id: str


@dataclass
class _Pending:
    response: asyncio.Future[Message]
    items: list[Message] | None = None  # a list action's events
    follow: str | None = None  # an event that finishes the action later (OriginateResponse)
    done: asyncio.Future[Message] | None = None


@dataclass
class AmiClient:
    host: str
    port: int
    username: str
    secret: str = field(repr=False)
    on_event: Handler | None = None
    on_ready: ReadyHandler | None = None
    ping_seconds: float = 20.0
    ping_timeout: float = 5.0
    connect_timeout: float = 5.0
    action_timeout: float = 10.0
    reconnect_base: float = 0.5
    reconnect_max: float = 30.0
    random: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._ready = asyncio.Event()
        self._resyncing: list[Message] | None = None
        self._dispatch: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
        self._stopping = False
        self.logins = 0  # successful logins, for the log and tests
        self.banner: str | None = None
        self.reads = 0  # socket reads, for tests of framing
        self.last_error: str | None = None
        self._reached_ready = False
        self._alive = False
        self._drop_reason: str | None = None

    # -- the life of the connection ----------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        """Until logged in and QueueStatus is in; wrap it in asyncio.timeout."""
        await self._ready.wait()

    async def run(self) -> None:
        """Stay connected until cancelled or `stop()`; never returns on a failure of its own."""
        dispatcher = asyncio.create_task(self._dispatch_loop(), name="ami-dispatch")
        attempt = 0
        try:
            while not self._stopping:
                try:
                    await self._session()
                except (OSError, TimeoutError, ProtocolError, AmiError) as e:
                    self.last_error = self._drop_reason or f"{type(e).__name__}: {e}"
                    log.warning("AMI %s:%s: %s", self.host, self.port, self.last_error)
                if self._stopping:
                    break
                if self.logins and self._reached_ready:
                    attempt = 0  # the last session worked: start the backoff again from the bottom
                delay = self.backoff(attempt)
                attempt += 1
                log.info("AMI reconnecting in %.1f s", delay)
                await asyncio.sleep(delay)
        finally:
            dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dispatcher

    def backoff(self, attempt: int) -> float:
        """Capped exponential backoff with jitter: half the step fixed, half random."""
        step = min(self.reconnect_max, self.reconnect_base * (2**attempt))
        return step / 2 + self.random() * step / 2

    def stop(self) -> None:
        self._stopping = True
        if self._writer is not None:
            self._writer.close()

    async def _session(self) -> None:
        self._reached_ready = False
        self._drop_reason: str | None = None
        async with asyncio.timeout(self.connect_timeout):
            reader, writer = await asyncio.open_connection(self.host, self.port)
        self._writer = writer
        self._alive = True
        framer = Framer()
        read_task = asyncio.create_task(self._read_loop(reader, framer), name="ami-read")
        ping_task: asyncio.Task[None] | None = None
        try:
            await self._login()
            self.banner = framer.banner
            self.logins += 1
            self._resyncing = []
            snapshot = await self.queue_status(_internal=True)
            buffered, self._resyncing = self._resyncing, None
            self._dispatch.put_nowait(("ready", snapshot))
            for event in buffered:
                self._dispatch.put_nowait(("event", event))
            self._ready.set()
            self._reached_ready = True
            log.info("AMI ready on %s:%s (%s)", self.host, self.port, self.banner)
            ping_task = asyncio.create_task(self._ping_loop(writer), name="ami-ping")
            await read_task
        finally:
            self._ready.clear()
            self._resyncing = None
            for task in (ping_task, read_task):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            self._fail_pending(AmiConnectionError("the connection to Asterisk was lost"))
            self._writer = None
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _login(self) -> None:
        challenge = await self._request("Challenge", {"AuthType": "MD5"})
        key = hashlib.md5((challenge.get("Challenge", "") + self.secret).encode()).hexdigest()
        try:
            await self._request("Login", {"AuthType": "MD5", "Username": self.username, "Key": key})
        except AmiError as e:
            if isinstance(e, AmiConnectionError):
                raise
            raise AmiAuthError(f"Asterisk refused the login of {self.username!r}: {e}", e.response) from None

    async def _read_loop(self, reader: asyncio.StreamReader, framer: Framer) -> None:
        try:
            while True:
                data = await reader.read(65536)
                self.reads += 1
                if not data:
                    raise AmiConnectionError("Asterisk closed the connection")
                for message in framer.feed(data):
                    self._route(message)
                while framer.skipped:
                    log.warning("AMI: skipped a malformed message: %s", framer.skipped.pop(0))
        finally:
            self._alive = False
            # Answers already read stay answered (a refused login says so); the rest will never come.
            self._fail_pending(AmiConnectionError("the connection to Asterisk was lost"))

    async def _ping_loop(self, writer: asyncio.StreamWriter) -> None:
        while True:
            await asyncio.sleep(self.ping_seconds)
            try:
                await self._request("Ping", within=self.ping_timeout)
            except TimeoutError:
                log.warning("AMI: no Pong within %.1f s; dropping the connection", self.ping_timeout)
                self._drop_reason = f"keepalive: no answer to Ping within {self.ping_timeout:g} s"
                writer.transport.abort()
                return
            except AmiError:
                return

    # -- messages in -------------------------------------------------------------------------

    def _route(self, message: Message) -> None:
        action_id = message.action_id
        pending = self._pending.get(action_id) if action_id is not None else None
        if message.event is None:  # an event may carry Response: too (OriginateResponse), so test Event first
            if message.response is None:
                log.debug("AMI: neither response nor event: %s", message.as_dict())
            elif pending is not None and not pending.response.done():
                pending.response.set_result(message)
            elif action_id is None:
                log.debug("AMI: a response without ActionID: %s", message.as_dict())
            return
        if pending is not None and pending.items is not None:
            if (message.get("EventList") or "").lower() == "complete":
                if pending.done is not None and not pending.done.done():
                    pending.done.set_result(message)
            else:
                pending.items.append(message)
            return
        if pending is not None and pending.follow == message.event.lower():
            if pending.done is not None and not pending.done.done():
                pending.done.set_result(message)
            return
        if self._resyncing is not None:
            self._resyncing.append(message)  # applied after the snapshot, so the snapshot can't undo it
        else:
            self._dispatch.put_nowait(("event", message))

    async def _dispatch_loop(self) -> None:
        while True:
            kind, item = await self._dispatch.get()
            handler = self.on_ready if kind == "ready" else self.on_event
            if handler is None:
                continue
            try:
                result = handler(item)  # type: ignore[arg-type]
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("AMI: the %s handler failed", kind)

    def _fail_pending(self, error: Exception) -> None:
        for pending in self._pending.values():
            for future in (pending.response, pending.done):
                if future is not None and not future.done():
                    future.set_exception(error)
                    future.exception()  # the waiter may be gone; don't warn about it
        self._pending.clear()

    # -- actions out -------------------------------------------------------------------------

    def _send(self, action: str, fields: Fields, pending: _Pending) -> str:
        if self._writer is None or self._writer.is_closing() or not self._alive:
            raise AmiConnectionError("not connected to Asterisk")
        action_id = f"hall-{next(self._ids)}"
        data = encode_action(action, fields, action_id)
        self._pending[action_id] = pending
        self._writer.write(data)
        return action_id

    async def _request(self, action: str, fields: Fields = (), *, within: float | None = None) -> Message:
        pending = _Pending(asyncio.get_running_loop().create_future())
        action_id = self._send(action, fields, pending)
        try:
            async with asyncio.timeout(within or self.action_timeout):
                response = await pending.response
        finally:
            self._pending.pop(action_id, None)
        if (response.response or "").lower() == "error":
            raise AmiError(response.get("Message") or f"{action} failed", response)
        return response

    def _require_ready(self) -> None:
        if not self._ready.is_set():
            raise AmiConnectionError("not connected to Asterisk")

    async def send_action(self, action: str, fields: Fields = (), *, within: float | None = None) -> Message:
        """One action and its response; AmiError if Asterisk answers `Response: Error`."""
        self._require_ready()
        return await self._request(action, fields, within=within)

    async def send_list_action(
        self, action: str, fields: Fields = (), *, within: float | None = None, _internal: bool = False
    ) -> tuple[Message, list[Message], Message]:
        """An action answered by a list: (response, events, the closing `EventList: Complete` event)."""
        if not _internal:
            self._require_ready()
        loop = asyncio.get_running_loop()
        pending = _Pending(loop.create_future(), items=[], done=loop.create_future())
        action_id = self._send(action, fields, pending)
        try:
            async with asyncio.timeout(within or self.action_timeout):
                response = await pending.response
                if (response.response or "").lower() == "error":
                    raise AmiError(response.get("Message") or f"{action} failed", response)
                assert pending.done is not None
                complete = await pending.done
        finally:
            self._pending.pop(action_id, None)
        return response, list(pending.items or ()), complete

    async def queue_status(self, queue: str | None = None, *, _internal: bool = False) -> QueueSnapshot:
        _, events, _ = await self.send_list_action(
            "QueueStatus", {"Queue": queue} if queue else {}, _internal=_internal
        )
        by_kind: dict[str, list[Message]] = {"queueparams": [], "queuemember": [], "queueentry": []}
        for event in events:
            by_kind.get((event.event or "").lower(), []).append(event)
        return QueueSnapshot(
            entries=tuple(by_kind["queueentry"]),
            members=tuple(by_kind["queuemember"]),
            params=tuple(by_kind["queueparams"]),
        )

    async def queue_pause(self, interface: str, paused: bool, reason: str = "", queue: str | None = None) -> Message:
        """Pause (示忙, 话后整理) or unpause (在线) a member, in one queue or all of them."""
        fields: dict[str, object] = {"Interface": interface, "Paused": paused}
        if queue:
            fields["Queue"] = queue
        if reason:
            fields["Reason"] = reason
        return await self.send_action("QueuePause", fields)

    async def originate(
        self,
        agent_interface: str,
        citizen_phone: str,
        *,
        context: str,
        case_id: str | int | None = None,
        caller_id: str = "",
        ring_seconds: int = 30,
    ) -> OriginateResult:
        """Ring the agent's phone; once answered, the dialplan in `context` dials the citizen (a return visit).

        Returns when Asterisk reports the agent leg's fate (OriginateResponse).
        """
        self._require_ready()
        fields: list[tuple[str, object]] = [
            ("Channel", agent_interface),
            ("Context", context),
            ("Exten", citizen_phone),
            ("Priority", 1),
            ("Timeout", ring_seconds * 1000),
            ("Async", True),
        ]
        if caller_id:
            fields.append(("CallerID", caller_id))
        if case_id is not None:
            fields.append(("Variable", f"HALL_CASE={case_id}"))
        loop = asyncio.get_running_loop()
        pending = _Pending(loop.create_future(), follow="originateresponse", done=loop.create_future())
        action_id = self._send("Originate", fields, pending)
        try:
            async with asyncio.timeout(self.action_timeout):
                response = await pending.response
            if (response.response or "").lower() == "error":
                raise AmiError(response.get("Message") or "Originate failed", response)
            assert pending.done is not None
            async with asyncio.timeout(ring_seconds + self.action_timeout):
                outcome = await pending.done
        finally:
            self._pending.pop(action_id, None)
        reason = int(outcome.get("Reason") or 0) if (outcome.get("Reason") or "0").isdigit() else 0
        ok = (outcome.get("Response") or "").lower() == "success"
        return OriginateResult(
            ok=ok,
            reason=reason,
            reason_text=ORIGINATE_REASONS.get(reason, f"原因代码 {reason}"),
            channel=outcome.get("Channel", ""),
            uniqueid=outcome.get("Uniqueid", ""),
            action_id=action_id,
        )
