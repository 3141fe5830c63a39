"""Queue calls followed from AMI events: who waits, who answered, how it ended.

A plain state machine with no I/O: `CallTracker.on_event` takes one event and
returns what happened in the hall's words (a call waiting, answered by agent
zhang, ended after 95 s, abandoned), and `rebuild` squares the books with a
QueueStatus snapshot after a reconnect. The service layer acts on the results.

Asterisk 20 sends, for an answered call: QueueCallerJoin, AgentCalled (once per
phone rung), QueueCallerLeave (the caller leaves the queue as the agent
answers), AgentConnect, then AgentComplete and the channels' Hangup in either
order. For a caller who gives up: QueueCallerJoin, QueueCallerAbandon,
QueueCallerLeave, Hangup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .protocol import Message

WAITING, RINGING, TALKING = "waiting", "ringing", "talking"


@dataclass(frozen=True)
class CallWaiting:
    """A citizen's call joined a desk queue (or was found waiting after a reconnect)."""

    call_id: str  # the caller channel's Uniqueid
    linked_id: str
    phone: str  # CallerIDNum, '' when withheld
    name: str  # CallerIDName
    queue: str
    position: int
    at: float
    resumed: bool = False  # known from QueueStatus, not from the join itself


@dataclass(frozen=True)
class CallAnswered:
    call_id: str
    linked_id: str
    phone: str
    name: str
    queue: str
    interface: str
    member_name: str
    agent: str | None  # the Hall agent at that interface, if configured
    hold_seconds: int
    ring_seconds: int
    at: float


@dataclass(frozen=True)
class CallEnded:
    call_id: str
    linked_id: str
    phone: str
    queue: str
    interface: str
    agent: str | None
    hold_seconds: int
    talk_seconds: int
    reason: str  # agent / caller / transfer (AgentComplete), hangup, or lost (gone while we were away)
    at: float


@dataclass(frozen=True)
class CallAbandoned:
    """The caller hung up before an agent answered: the desk owes them a callback."""

    call_id: str
    linked_id: str
    phone: str
    name: str
    queue: str
    position: int
    original_position: int
    hold_seconds: int
    at: float
    unseen: bool = False  # left while the connection was down: answered or not, we can't tell


@dataclass(frozen=True)
class MemberPaused:
    interface: str
    agent: str | None
    queue: str
    paused: bool
    reason: str
    at: float


Happening = CallWaiting | CallAnswered | CallEnded | CallAbandoned | MemberPaused


@dataclass
class Call:
    call_id: str
    linked_id: str
    channel: str
    phone: str
    name: str
    queue: str
    position: int
    joined_at: float
    state: str = WAITING
    interface: str = ""
    member_name: str = ""
    agent: str | None = None
    hold_seconds: int = 0
    answered_at: float | None = None


@dataclass(frozen=True)
class QueueSnapshot:
    """What QueueStatus said: entries waiting and members with their state."""

    entries: tuple[Message, ...] = ()
    members: tuple[Message, ...] = ()
    params: tuple[Message, ...] = ()


@dataclass
class CallTracker:
    agent_for: Callable[[str], str | None] = lambda interface: None
    queues: frozenset[str] | None = None  # None: every queue
    calls: dict[str, Call] = field(default_factory=dict)

    def waiting(self) -> list[Call]:
        return sorted((c for c in self.calls.values() if c.state != TALKING), key=lambda c: (c.queue, c.position))

    def on_event(self, event: Message, now: float) -> list[Happening]:
        name = (event.event or "").lower()
        handler = _HANDLERS.get(name)
        if handler is None:
            return []
        queue = event.get("Queue")
        if queue is not None and self.queues is not None and queue not in self.queues:
            return []
        return handler(self, event, now)

    def _join(self, e: Message, now: float) -> list[Happening]:
        call_id = e.get("Uniqueid", "")
        if not call_id:
            return []
        known = self.calls.get(call_id)
        position = _int(e.get("Position"))
        if known is not None:  # already known from a QueueStatus that crossed the live event
            known.position = position
            return []
        call = Call(
            call_id=call_id,
            linked_id=e.get("Linkedid") or call_id,
            channel=e.get("Channel", ""),
            phone=_number(e.get("CallerIDNum")),
            name=_number(e.get("CallerIDName")),
            queue=e.get("Queue", ""),
            position=position,
            joined_at=now,
        )
        self.calls[call_id] = call
        return [CallWaiting(call.call_id, call.linked_id, call.phone, call.name, call.queue, position, now)]

    def _agent_called(self, e: Message, now: float) -> list[Happening]:
        call = self.calls.get(e.get("Uniqueid", ""))
        if call is not None and call.state == WAITING:
            call.state = RINGING
        return []

    def _ring_no_answer(self, e: Message, now: float) -> list[Happening]:
        call = self.calls.get(e.get("Uniqueid", ""))
        if call is not None and call.state == RINGING:
            call.state = WAITING
        return []

    def _leave(self, e: Message, now: float) -> list[Happening]:
        call = self.calls.get(e.get("Uniqueid", ""))
        if call is not None and call.state != TALKING:
            # Leaving as an agent answers comes just before AgentConnect; keep the call until then.
            call.state = RINGING
        return []

    def _connect(self, e: Message, now: float) -> list[Happening]:
        call_id = e.get("Uniqueid", "")
        call = self.calls.get(call_id)
        if call is None:  # answered while we were away, or before we started: still worth a screen pop
            call = Call(
                call_id=call_id,
                linked_id=e.get("Linkedid") or call_id,
                channel=e.get("Channel", ""),
                phone=_number(e.get("CallerIDNum")),
                name=_number(e.get("CallerIDName")),
                queue=e.get("Queue", ""),
                position=0,
                joined_at=now,
            )
            self.calls[call_id] = call
        if call.state == TALKING:
            return []
        call.state = TALKING
        call.interface = e.get("Interface", "")
        call.member_name = e.get("MemberName", "")
        call.agent = self.agent_for(call.interface)
        call.hold_seconds = _int(e.get("HoldTime"))
        call.answered_at = now
        return [
            CallAnswered(
                call.call_id,
                call.linked_id,
                call.phone,
                call.name,
                call.queue,
                call.interface,
                call.member_name,
                call.agent,
                call.hold_seconds,
                _int(e.get("RingTime")),
                now,
            )
        ]

    def _complete(self, e: Message, now: float) -> list[Happening]:
        call = self.calls.pop(e.get("Uniqueid", ""), None)
        if call is None:
            return []
        return [self._ended(call, _int(e.get("TalkTime")), e.get("Reason") or "hangup", now)]

    def _abandon(self, e: Message, now: float) -> list[Happening]:
        call = self.calls.pop(e.get("Uniqueid", ""), None)
        phone = call.phone if call else _number(e.get("CallerIDNum"))
        name = call.name if call else _number(e.get("CallerIDName"))
        call_id = e.get("Uniqueid", "")
        return [
            CallAbandoned(
                call_id,
                e.get("Linkedid") or call_id,
                phone,
                name,
                e.get("Queue", ""),
                _int(e.get("Position")),
                _int(e.get("OriginalPosition")),
                _int(e.get("HoldTime")),
                now,
            )
        ]

    def _hangup(self, e: Message, now: float) -> list[Happening]:
        call = self.calls.get(e.get("Uniqueid", ""))
        if call is None:
            return []
        if call.state == TALKING:  # the caller hung up before AgentComplete came: end it here
            del self.calls[call.call_id]
            talk = round(now - call.answered_at) if call.answered_at is not None else 0
            return [self._ended(call, max(talk, 0), "hangup", now)]
        # A hangup while waiting without QueueCallerAbandon (e.g. the queue timed out): still owed a callback.
        del self.calls[call.call_id]
        held = max(round(now - call.joined_at), 0)
        return [
            CallAbandoned(
                call.call_id, call.linked_id, call.phone, call.name, call.queue, call.position, call.position, held, now
            )
        ]

    def _pause(self, e: Message, now: float) -> list[Happening]:
        interface = e.get("Interface", "")
        return [
            MemberPaused(
                interface,
                self.agent_for(interface),
                e.get("Queue", ""),
                e.get("Paused") == "1",
                e.get("PausedReason") or e.get("Reason") or "",
                now,
            )
        ]

    def _ended(self, call: Call, talk: int, reason: str, now: float) -> CallEnded:
        return CallEnded(
            call.call_id,
            call.linked_id,
            call.phone,
            call.queue,
            call.interface,
            call.agent,
            call.hold_seconds,
            talk,
            reason,
            now,
        )

    def rebuild(self, snapshot: QueueSnapshot, now: float) -> list[Happening]:
        """After a (re)connect: keep who still waits, learn who came, settle who left unseen."""
        out: list[Happening] = []
        listed: set[str] = set()
        for entry in _in_queues(snapshot.entries, self.queues):
            call_id = entry.get("Uniqueid", "")
            if not call_id:
                continue
            listed.add(call_id)
            position = _int(entry.get("Position"))
            call = self.calls.get(call_id)
            if call is not None:
                call.position = position
                if call.state == TALKING:  # cannot happen in Asterisk; trust the queue
                    call.state = WAITING
                continue
            call = Call(
                call_id=call_id,
                linked_id=call_id,
                channel=entry.get("Channel", ""),
                phone=_number(entry.get("CallerIDNum")),
                name=_number(entry.get("CallerIDName")),
                queue=entry.get("Queue", ""),
                position=position,
                joined_at=now - _int(entry.get("Wait")),
            )
            self.calls[call_id] = call
            out.append(CallWaiting(call_id, call_id, call.phone, call.name, call.queue, position, now, resumed=True))
        busy = {
            m.get("Location", "").lower()
            for m in _in_queues(snapshot.members, self.queues)
            if m.get("InCall") == "1" or m.get("Status") in ("2", "3", "6", "7")  # in use, busy, ringing(inuse)
        }
        for call in list(self.calls.values()):
            if call.call_id in listed:
                continue
            if call.state == TALKING and call.interface.lower() in busy:
                continue  # still on the phone with the agent
            del self.calls[call.call_id]
            if call.state == TALKING:
                talk = max(round(now - call.answered_at), 0) if call.answered_at is not None else 0
                out.append(self._ended(call, talk, "lost", now))
            else:
                held = max(round(now - call.joined_at), 0)
                out.append(
                    CallAbandoned(
                        call.call_id,
                        call.linked_id,
                        call.phone,
                        call.name,
                        call.queue,
                        call.position,
                        call.position,
                        held,
                        now,
                        unseen=True,
                    )
                )
        return out


_HANDLERS: dict[str, Callable[[CallTracker, Message, float], list[Happening]]] = {
    "queuecallerjoin": CallTracker._join,
    "agentcalled": CallTracker._agent_called,
    "agentringnoanswer": CallTracker._ring_no_answer,
    "queuecallerleave": CallTracker._leave,
    "agentconnect": CallTracker._connect,
    "agentcomplete": CallTracker._complete,
    "queuecallerabandon": CallTracker._abandon,
    "hangup": CallTracker._hangup,
    "queuememberpause": CallTracker._pause,
}


def _in_queues(messages: Iterable[Message], queues: frozenset[str] | None) -> list[Message]:
    return [m for m in messages if queues is None or m.get("Queue") in queues]


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _number(value: str | None) -> str:
    """Asterisk writes 'unknown' or '<unknown>' for a withheld caller ID."""
    value = (value or "").strip()
    return "" if value.lower() in ("unknown", "<unknown>", "anonymous") else value
