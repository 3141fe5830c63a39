"""A loopback Asterisk 20 Manager Interface, byte for byte, for the AMI tests.

Written from Asterisk's own sources (main/manager.c, apps/app_queue.c) and the
Asterisk 20 AMI event documentation, independently of Hall's client and parser:
the banner line, CRLF framing, the MD5 challenge login (a wrong key is answered
`Authentication failed` after a second and the connection closed), ActionID
echoed, Ping/Pong, QueueStatus as a list ending in `EventList: Complete`,
QueuePause with its QueueMemberPause event, Originate with a later
OriginateResponse, and the events of real queue calls in the order
app_queue.c sends them. Writes can be split at chosen byte offsets, and the
server can drop every connection or go silent on command.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

BANNER = b"Asterisk Call Manager/9.0.0\r\n"


@dataclass
class Member:
    interface: str  # PJSIP/8001
    name: str  # MemberName, as queues.conf gives it
    paused: bool = False
    reason: str = ""
    in_call: bool = False
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0

    @property
    def status(self) -> int:
        return 2 if self.in_call else 1  # AST_DEVICE_INUSE / AST_DEVICE_NOT_INUSE


@dataclass
class Caller:
    queue: str
    channel: str
    uniqueid: str
    number: str
    name: str
    joined: float
    original_position: int = 0
    agent_channel: str = ""
    agent_uniqueid: str = ""
    member: Member | None = None
    connected: float = 0.0


@dataclass
class Queue:
    name: str
    members: dict[str, Member] = field(default_factory=dict)
    entries: list[Caller] = field(default_factory=list)
    completed: int = 0
    abandoned: int = 0


@dataclass
class Session:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    challenge: str = ""
    authenticated: bool = False
    silent: bool = False  # reads and ignores everything: a peer that hangs without closing


class FakeAsterisk:
    def __init__(
        self,
        username: str = "hall",
        secret: str = "s3cret",
        queues: dict[str, list[Member]] | None = None,
        *,
        auth_fail_delay: float = 1.0,  # manager.c sleeps a second before refusing a login
    ) -> None:
        self.username = username
        self.secret = secret
        self.queues = {
            name: Queue(name, {m.interface: m for m in members})
            for name, members in (queues or {"hotline": [Member("PJSIP/8001", "张工")]}).items()
        }
        self.auth_fail_delay = auth_fail_delay
        self.sessions: list[Session] = []
        self.actions: list[dict[str, str]] = []  # every action received, keys as sent
        self.logins = 0
        self.failed_logins = 0
        self.connections = 0
        self.originate_outcome: Callable[[dict[str, str]], tuple[bool, int]] = lambda fields: (True, 4)
        self.originate_delay = 0.05
        # Frames written inside the next QueueStatus list, before its Complete: events of other
        # threads interleave with a list in real Asterisk, since both write to the same session.
        self.interleave_in_status: list[bytes] = []
        self._abandon_in_status: Caller | None = None
        self.started = time.time()
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._originates: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> FakeAsterisk:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop()  # sessions end by themselves on the closed connection
        for task in list(self._originates):
            task.cancel()
        for task in list(self._tasks | self._originates):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> FakeAsterisk:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- commands for the tests --------------------------------------------------------------

    def drop(self) -> None:
        """Cut every connection at once, as a crashed Asterisk or a pulled cable would."""
        for session in self.sessions:
            session.writer.transport.abort()
        self.sessions.clear()

    def go_silent(self) -> None:
        """Keep the connections open but answer nothing on them (a hung peer)."""
        for session in self.sessions:
            session.silent = True

    def stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()

    async def listen_again(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def wait_for_logins(self, count: int, seconds: float = 5.0) -> None:
        async with asyncio.timeout(seconds):
            while self.logins < count:  # noqa: ASYNC110 - a test poll, bounded by the timeout
                await asyncio.sleep(0.01)

    def new_uniqueid(self) -> str:
        return f"{int(self.started)}.{next(self._ids)}"

    async def caller_joins(self, number: str, name: str, queue: str = "hotline", *, split_name: bool = False) -> Caller:
        """QueueCallerJoin; with split_name the frame goes out in three writes cut inside the name's characters."""
        q = self.queues[queue]
        uid = self.new_uniqueid()
        caller = Caller(queue, f"PJSIP/trunk-{int(uid.split('.')[1]):08x}", uid, number, name, time.time())
        q.entries.append(caller)
        caller.original_position = len(q.entries)
        fields = [
            *_snapshot(caller),
            ("Queue", queue),
            ("Position", str(len(q.entries))),
            ("Count", str(len(q.entries))),
        ]
        split_at: tuple[int, ...] = ()
        if split_name:
            raw, encoded = _frame([("Event", "QueueCallerJoin"), ("Privilege", "agent,all"), *fields]), name.encode()
            start = raw.index(b"CallerIDName: " + encoded) + len(b"CallerIDName: ")
            split_at = (start + 1, start + len(encoded) - 1)  # after a character's first byte, before its last
        await self.emit("QueueCallerJoin", "agent,all", fields, split_at=split_at)
        return caller

    async def agent_answers(self, caller: Caller, interface: str) -> None:
        """AgentCalled, QueueCallerLeave (app_queue leaves the queue as the member answers), AgentConnect."""
        q = self.queues[caller.queue]
        member = q.members[interface]
        caller.agent_uniqueid = self.new_uniqueid()
        caller.agent_channel = f"{interface}-{int(caller.agent_uniqueid.split('.')[1]):08x}"
        caller.member = member
        agent = _agent_snapshot(caller, member, ringing=True)
        common = [("Queue", caller.queue), ("MemberName", member.name), ("Interface", interface)]
        await self.emit("AgentCalled", "agent,all", [*_snapshot(caller), *agent, *common])
        position = q.entries.index(caller) + 1
        q.entries.remove(caller)
        member.in_call = True
        await self.emit(
            "QueueCallerLeave",
            "agent,all",
            [*_snapshot(caller), ("Queue", caller.queue), ("Count", str(len(q.entries))), ("Position", str(position))],
        )
        caller.connected = time.time()
        hold = int(caller.connected - caller.joined)
        await self.emit(
            "AgentConnect",
            "agent,all",
            [
                *_snapshot(caller, connected=member),
                *_agent_snapshot(caller, member, ringing=False),
                *common,
                ("RingTime", "3"),
                ("HoldTime", str(hold)),
            ],
        )

    async def call_completes(self, caller: Caller, reason: str = "caller", talk: int | None = None) -> None:
        """AgentComplete, then both channels hang up."""
        q = self.queues[caller.queue]
        member = caller.member
        assert member is not None
        talk = int(time.time() - caller.connected) if talk is None else talk
        member.in_call = False
        member.calls_taken += 1
        member.last_call = int(time.time())
        q.completed += 1
        await self.emit(
            "AgentComplete",
            "agent,all",
            [
                *_snapshot(caller, connected=member),
                *_agent_snapshot(caller, member, ringing=False),
                ("Queue", caller.queue),
                ("MemberName", member.name),
                ("Interface", member.interface),
                ("HoldTime", str(int(caller.connected - caller.joined))),
                ("TalkTime", str(talk)),
                ("Reason", reason),
            ],
        )
        await self.emit("Hangup", "call,all", [*_snapshot(caller, connected=member), *_cause(16)])
        agent = [(k[4:], v) for k, v in _agent_snapshot(caller, member, ringing=False)]
        await self.emit("Hangup", "call,all", [*agent, *_cause(16)])

    async def caller_abandons(self, caller: Caller, *, during_next_status: bool = False) -> None:
        """QueueCallerAbandon, QueueCallerLeave, Hangup: the caller gave up waiting.

        With during_next_status, the events go out inside the next QueueStatus list, after the
        caller's QueueEntry (the entry is listed first, then the caller hangs up).
        """
        q = self.queues[caller.queue]
        position = q.entries.index(caller) + 1
        held = int(time.time() - caller.joined)
        if during_next_status:
            self._abandon_in_status = caller
        else:
            q.entries.remove(caller)
            q.abandoned += 1
        emit = self._interleave if during_next_status else self.emit
        await emit(
            "QueueCallerAbandon",
            "agent,all",
            [
                *_snapshot(caller),
                ("Queue", caller.queue),
                ("Position", str(position)),
                ("OriginalPosition", str(caller.original_position)),
                ("HoldTime", str(held)),
            ],
        )
        await emit(
            "QueueCallerLeave",
            "agent,all",
            [*_snapshot(caller), ("Queue", caller.queue), ("Count", str(len(q.entries))), ("Position", str(position))],
        )
        await emit("Hangup", "call,all", [*_snapshot(caller), *_cause(16)])

    async def _interleave(self, event: str, privilege: str, fields: list[tuple[str, str]]) -> None:
        self.interleave_in_status.append(_frame([("Event", event), ("Privilege", privilege), *fields]))

    async def emit(
        self, event: str, privilege: str, fields: list[tuple[str, str]], *, split_at: tuple[int, ...] = ()
    ) -> None:
        """An unsolicited event to every logged-in session, as manager_event() writes it."""
        data = _frame([("Event", event), ("Privilege", privilege), *fields])
        for session in list(self.sessions):
            if session.authenticated and not session.silent:
                await self._write(session, data, split_at)

    # -- the server --------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        session = Session(reader, writer)
        self.sessions.append(session)
        self.connections += 1
        try:
            writer.write(BANNER)
            while True:
                try:
                    raw = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                if session.silent:
                    continue
                fields = _parse_action(raw)
                self.actions.append(dict(fields))
                keep = await self._handle(session, fields)
                if not keep:
                    await writer.drain()
                    return
        finally:
            with contextlib.suppress(ValueError):
                self.sessions.remove(session)
            writer.close()
            self._tasks.discard(task)

    async def _handle(self, s: Session, fields: list[tuple[str, str]]) -> bool:
        get = _getter(fields)
        action = get("Action").lower()
        aid = [("ActionID", get("ActionID"))] if get("ActionID") else []
        if not s.authenticated and action not in ("login", "challenge", "logoff"):
            await self._write(s, _frame([("Response", "Error"), *aid, ("Message", "Permission denied")]))
            return True
        if action == "challenge":
            if get("AuthType").lower() != "md5":
                await self._write(s, _frame([("Response", "Error"), *aid, ("Message", "Must specify AuthType")]))
                return True
            s.challenge = s.challenge or str(random.randrange(10**8, 10**9))
            await self._write(s, _frame([("Response", "Success"), *aid, ("Challenge", s.challenge)]))
            return True
        if action == "login":
            return await self._login(s, get, aid)
        if action == "logoff":
            await self._write(s, _frame([("Response", "Goodbye"), *aid, ("Message", "Thanks for all the fish.")]))
            return False
        if action == "ping":
            stamp = f"{time.time():.6f}"
            await self._write(s, _frame([("Response", "Success"), *aid, ("Ping", "Pong"), ("Timestamp", stamp)]))
            return True
        if action == "queuestatus":
            await self._queue_status(s, get, aid)
            return True
        if action == "queuepause":
            await self._queue_pause(s, get, aid)
            return True
        if action == "originate":
            await self._originate(s, fields, get, aid)
            return True
        message = f"Invalid/unknown command: {get('Action')}. Use Action: ListCommands to show available commands."
        await self._write(s, _frame([("Response", "Error"), *aid, ("Message", message)]))
        return True

    async def _login(self, s: Session, get: Callable[[str], str], aid: list[tuple[str, str]]) -> bool:
        if s.authenticated:
            await self._write(s, _frame([("Response", "Success"), *aid, ("Message", "Already authenticated")]))
            return True
        ok = get("Username") == self.username
        if ok and get("AuthType").lower() == "md5":
            expected = hashlib.md5((s.challenge + self.secret).encode()).hexdigest()
            ok = bool(s.challenge) and get("Key") == expected
        elif ok:
            ok = get("Secret") == self.secret
        if not ok:
            self.failed_logins += 1
            await asyncio.sleep(self.auth_fail_delay)
            await self._write(s, _frame([("Response", "Error"), *aid, ("Message", "Authentication failed")]))
            return False  # manager.c returns -1: the session ends
        s.authenticated = True
        self.logins += 1
        await self._write(s, _frame([("Response", "Success"), *aid, ("Message", "Authentication accepted")]))
        uptime = str(int(time.time() - self.started))
        await self._write(
            s,
            _frame(
                [
                    ("Event", "FullyBooted"),
                    ("Privilege", "system,all"),
                    ("Uptime", uptime),
                    ("LastReload", uptime),
                    ("Status", "Fully Booted"),
                ]
            ),
        )
        return True

    async def _queue_status(self, s: Session, get: Callable[[str], str], aid: list[tuple[str, str]]) -> None:
        queue_filter, member_filter = get("Queue"), get("Member")
        out = _frame([("Response", "Success"), *aid, ("EventList", "start"), ("Message", "Queue status will follow")])
        items = 0
        now = time.time()
        for q in self.queues.values():
            if queue_filter and q.name.lower() != queue_filter.lower():
                continue
            out += _frame(
                [
                    ("Event", "QueueParams"),
                    ("Queue", q.name),
                    ("Max", "0"),
                    ("Strategy", "rrmemory"),
                    ("Calls", str(len(q.entries))),
                    ("Holdtime", "0"),
                    ("TalkTime", "0"),
                    ("Completed", str(q.completed)),
                    ("Abandoned", str(q.abandoned)),
                    ("ServiceLevel", "60"),
                    ("ServicelevelPerf", "0.0"),
                    ("ServicelevelPerf2", "0.0"),
                    ("Weight", "0"),
                    *aid,
                ]
            )
            items += 1
            for m in q.members.values():
                if member_filter and member_filter not in (m.interface, m.name):
                    continue
                out += _frame(
                    [
                        ("Event", "QueueMember"),
                        ("Queue", q.name),
                        ("Name", m.name),
                        ("Location", m.interface),
                        ("StateInterface", m.interface),
                        ("Membership", "static"),
                        ("Penalty", "0"),
                        ("CallsTaken", str(m.calls_taken)),
                        ("LastCall", str(m.last_call)),
                        ("InCall", "1" if m.in_call else "0"),
                        ("Status", str(m.status)),
                        ("Paused", "1" if m.paused else "0"),
                        ("PausedReason", m.reason),
                        *aid,
                    ]
                )
                items += 1
            for position, c in enumerate(q.entries, 1):
                out += _frame(
                    [
                        ("Event", "QueueEntry"),
                        ("Queue", q.name),
                        ("Position", str(position)),
                        ("Channel", c.channel),
                        ("Uniqueid", c.uniqueid),
                        ("CallerIDNum", c.number or "unknown"),
                        ("CallerIDName", c.name or "unknown"),
                        ("ConnectedLineNum", "unknown"),
                        ("ConnectedLineName", "unknown"),
                        ("Wait", str(int(now - c.joined))),
                        ("Priority", "0"),
                        *aid,
                    ]
                )
                items += 1
        out += b"".join(self.interleave_in_status)
        self.interleave_in_status = []
        if self._abandon_in_status is not None:  # the entry was listed; now the caller is gone
            q = self.queues[self._abandon_in_status.queue]
            q.entries.remove(self._abandon_in_status)
            q.abandoned += 1
            self._abandon_in_status = None
        out += _frame([("Event", "QueueStatusComplete"), *aid, ("EventList", "Complete"), ("ListItems", str(items))])
        await self._write(s, out)

    async def _queue_pause(self, s: Session, get: Callable[[str], str], aid: list[tuple[str, str]]) -> None:
        interface, paused_s, queue, reason = get("Interface"), get("Paused"), get("Queue"), get("Reason")
        if not interface or not paused_s:
            message = "Need 'Interface' and 'Paused' parameters."
            await self._write(s, _frame([("Response", "Error"), *aid, ("Message", message)]))
            return
        paused = paused_s.lower() in ("yes", "true", "y", "t", "1", "on")
        found = [
            (q, q.members[interface])
            for q in self.queues.values()
            if (not queue or q.name == queue) and interface in q.members
        ]
        if not found:
            await self._write(s, _frame([("Response", "Error"), *aid, ("Message", "Interface not found")]))
            return
        message = "Interface paused successfully" if paused else "Interface unpaused successfully"
        await self._write(s, _frame([("Response", "Success"), *aid, ("Message", message)]))
        for q, m in found:
            m.paused, m.reason = paused, reason if paused else ""
            if paused:
                m.last_pause = int(time.time())
            await self.emit(
                "QueueMemberPause",
                "agent,all",
                [
                    ("Queue", q.name),
                    ("MemberName", m.name),
                    ("Interface", m.interface),
                    ("StateInterface", m.interface),
                    ("Membership", "static"),
                    ("Penalty", "0"),
                    ("CallsTaken", str(m.calls_taken)),
                    ("LastCall", str(m.last_call)),
                    ("LastPause", str(m.last_pause)),
                    ("LoginTime", str(int(self.started))),
                    ("InCall", "1" if m.in_call else "0"),
                    ("Status", str(m.status)),
                    ("Paused", "1" if m.paused else "0"),
                    ("PausedReason", m.reason),
                    ("Ringinuse", "0"),
                    ("Wrapuptime", "0"),
                ],
            )

    async def _originate(
        self, s: Session, fields: list[tuple[str, str]], get: Callable[[str], str], aid: list[tuple[str, str]]
    ) -> None:
        channel = get("Channel")
        if not channel:
            await self._write(s, _frame([("Response", "Error"), *aid, ("Message", "Channel not specified")]))
            return
        if "/" not in channel:
            await self._write(s, _frame([("Response", "Error"), *aid, ("Message", "Invalid channel")]))
            return
        if not get("Exten") and not get("Application"):
            message = "Originate with no Application or Exten/Context/Priority"  # checked before queueing
            await self._write(s, _frame([("Response", "Error"), *aid, ("Message", message)]))
            return
        if get("Async").lower() not in ("true", "yes", "1", "on"):
            # A synchronous Originate blocks the manager session until the call ends; the tests don't need it.
            await self._write(s, _frame([("Response", "Error"), *aid, ("Message", "Originate failed")]))
            return
        await self._write(s, _frame([("Response", "Success"), *aid, ("Message", "Originate successfully queued")]))
        task = asyncio.create_task(self._originate_result(s, dict(fields), get, aid))
        self._originates.add(task)
        task.add_done_callback(self._originates.discard)

    async def _originate_result(
        self, s: Session, fields: dict[str, str], get: Callable[[str], str], aid: list[tuple[str, str]]
    ) -> None:
        await asyncio.sleep(self.originate_delay)
        ok, reason = self.originate_outcome(fields)
        channel = get("Channel")
        uid = self.new_uniqueid()
        number, name = _split_callerid(get("CallerID"))
        event = _frame(
            [
                ("Event", "OriginateResponse"),
                ("Privilege", "call,all"),
                *aid,
                ("Response", "Success" if ok else "Failure"),
                ("Channel", f"{channel}-{int(uid.split('.')[1]):08x}" if ok else channel),
                ("Context", get("Context")),
                ("Exten", get("Exten")),
                ("Application", get("Application")),
                ("Data", get("Data")),
                ("Reason", str(reason)),
                ("Uniqueid", uid if ok else "<null>"),
                ("CallerIDNum", number or "<unknown>"),
                ("CallerIDName", name or "<unknown>"),
            ]
        )
        if s in self.sessions and s.authenticated and not s.silent:
            await self._write(s, event)

    async def _write(self, s: Session, data: bytes, split_at: tuple[int, ...] = ()) -> None:
        """Write, optionally in pieces with a pause between, so the reader sees them in separate reads."""
        cuts = [0, *sorted(split_at), len(data)]
        try:
            for start, end in itertools.pairwise(cuts):
                s.writer.write(data[start:end])
                await s.writer.drain()
                if end != len(data):
                    await asyncio.sleep(0.05)
        except ConnectionError:
            pass


def _frame(fields: list[tuple[str, str]]) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n").encode("utf-8")


def _parse_action(raw: bytes) -> list[tuple[str, str]]:
    fields = []
    for line in raw.decode("utf-8", errors="replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            fields.append((key.strip(), value.lstrip(" ")))
    return fields


def _getter(fields: list[tuple[str, str]]) -> Callable[[str], str]:
    def get(key: str) -> str:  # astman_get_header: first match, case-insensitive, "" when absent
        for k, v in fields:
            if k.lower() == key.lower():
                return v
        return ""

    return get


def _snapshot(caller: Caller, connected: Member | None = None) -> list[tuple[str, str]]:
    """The caller channel's snapshot fields, as every channel event in Asterisk 12+ starts."""
    return [
        ("Channel", caller.channel),
        ("ChannelState", "6"),
        ("ChannelStateDesc", "Up"),
        ("CallerIDNum", caller.number or "<unknown>"),
        ("CallerIDName", caller.name or "<unknown>"),
        ("ConnectedLineNum", connected.interface.split("/")[-1] if connected else "<unknown>"),
        ("ConnectedLineName", connected.name if connected else "<unknown>"),
        ("Language", "zh"),
        ("AccountCode", ""),
        ("Context", "from-trunk"),
        ("Exten", "12345"),
        ("Priority", "3"),
        ("Uniqueid", caller.uniqueid),
        ("Linkedid", caller.uniqueid),
    ]


def _agent_snapshot(caller: Caller, member: Member, *, ringing: bool) -> list[tuple[str, str]]:
    state, desc = ("5", "Ringing") if ringing else ("6", "Up")
    ext = member.interface.split("/")[-1]
    return [
        ("DestChannel", caller.agent_channel),
        ("DestChannelState", state),
        ("DestChannelStateDesc", desc),
        ("DestCallerIDNum", ext),
        ("DestCallerIDName", member.name),
        ("DestConnectedLineNum", caller.number or "<unknown>"),
        ("DestConnectedLineName", caller.name or "<unknown>"),
        ("DestLanguage", "zh"),
        ("DestAccountCode", ""),
        ("DestContext", "from-internal"),
        ("DestExten", ext),
        ("DestPriority", "1"),
        ("DestUniqueid", caller.agent_uniqueid),
        ("DestLinkedid", caller.uniqueid),
    ]


def _cause(code: int) -> list[tuple[str, str]]:
    return [("Cause", str(code)), ("Cause-txt", {16: "Normal Clearing"}.get(code, "Unknown"))]


def _split_callerid(text: str) -> tuple[str, str]:
    """'"回访" <12345>' → ('12345', '回访'), as ast_callerid_parse does."""
    if "<" in text and text.endswith(">"):
        name, _, number = text[:-1].rpartition("<")
        return number.strip(), name.strip().strip('"')
    return text.strip(), ""
