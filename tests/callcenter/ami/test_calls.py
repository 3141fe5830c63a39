"""The call state machine on its own: events in, happenings out, and the books squared after a reconnect."""

from __future__ import annotations

import pytest

from hall.callcenter.ami.calls import (
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallTracker,
    CallWaiting,
    MemberPaused,
    QueueSnapshot,
)
from hall.callcenter.ami.protocol import Message

AGENTS = {"PJSIP/8001": "zhang", "PJSIP/8002": "li"}
CALLER = {"Uniqueid": "1732338000.1", "Linkedid": "1732338000.1", "Channel": "PJSIP/trunk-00000001"}


def ev(name: str, **fields: str) -> Message:
    return Message((("Event", name), *fields.items()))


def tracker() -> CallTracker:
    return CallTracker(agent_for=AGENTS.get, queues=frozenset({"hotline"}))


def join(t: CallTracker, at: float = 100.0, **extra: str):
    fields = {**CALLER, "CallerIDNum": "13800138000", "CallerIDName": "张三", "Queue": "hotline", "Position": "1"}
    return t.on_event(ev("QueueCallerJoin", **{**fields, **extra}), at)


def test_an_answered_call_in_asterisk_order():
    t = tracker()
    assert join(t) == [CallWaiting("1732338000.1", "1732338000.1", "13800138000", "张三", "hotline", 1, 100.0)]
    assert t.on_event(ev("AgentCalled", **CALLER, Queue="hotline", Interface="PJSIP/8001"), 101) == []
    assert t.on_event(ev("QueueCallerLeave", **CALLER, Queue="hotline", Count="0", Position="1"), 104) == []
    answered = t.on_event(
        ev(
            "AgentConnect",
            **CALLER,
            Queue="hotline",
            Interface="PJSIP/8001",
            MemberName="张工",
            HoldTime="4",
            RingTime="3",
        ),
        104,
    )
    assert answered == [
        CallAnswered(
            "1732338000.1", "1732338000.1", "13800138000", "张三", "hotline", "PJSIP/8001", "张工", "zhang", 4, 3, 104
        )
    ]
    ended = t.on_event(
        ev(
            "AgentComplete",
            **CALLER,
            Queue="hotline",
            Interface="PJSIP/8001",
            TalkTime="95",
            HoldTime="4",
            Reason="caller",
        ),
        199,
    )
    assert ended == [
        CallEnded("1732338000.1", "1732338000.1", "13800138000", "hotline", "PJSIP/8001", "zhang", 4, 95, "caller", 199)
    ]
    assert t.on_event(ev("Hangup", **CALLER, Cause="16"), 199) == []  # already ended: no second happening
    assert t.calls == {}


def test_a_hangup_before_agent_complete_ends_the_call_once():
    t = tracker()
    join(t)
    t.on_event(ev("AgentConnect", **CALLER, Queue="hotline", Interface="PJSIP/8002", HoldTime="2"), 102)
    [ended] = t.on_event(ev("Hangup", **CALLER, Cause="16"), 150)
    assert (ended.agent, ended.talk_seconds, ended.reason) == ("li", 48, "hangup")
    assert t.on_event(ev("AgentComplete", **CALLER, Queue="hotline", TalkTime="48", Reason="caller"), 150) == []


def test_an_abandoned_call_asks_for_a_callback():
    t = tracker()
    join(t)
    [gone] = t.on_event(
        ev("QueueCallerAbandon", **CALLER, Queue="hotline", Position="1", OriginalPosition="2", HoldTime="37"), 137
    )
    assert gone == CallAbandoned(
        "1732338000.1", "1732338000.1", "13800138000", "张三", "hotline", 1, 2, 37, 137, unseen=False
    )
    assert t.on_event(ev("QueueCallerLeave", **CALLER, Queue="hotline"), 137) == []
    assert t.on_event(ev("Hangup", **CALLER), 137) == []


def test_a_caller_hanging_up_unanswered_without_abandon_is_still_owed_a_callback():
    t = tracker()
    join(t, at=100)
    t.on_event(ev("QueueCallerLeave", **CALLER, Queue="hotline"), 130)  # queue timeout sends the call on
    [gone] = t.on_event(ev("Hangup", **CALLER), 160)
    assert isinstance(gone, CallAbandoned) and gone.hold_seconds == 60


def test_other_queues_and_unknown_events_are_ignored():
    t = tracker()
    assert join(t, Queue="sales") == []
    assert t.on_event(ev("Newchannel", **CALLER), 1) == []
    assert t.on_event(Message((("Response", "Success"),)), 1) == []


@pytest.mark.parametrize("raw", ["unknown", "<unknown>", "", "anonymous"])
def test_a_withheld_number_is_empty(raw):
    [waiting] = join(tracker(), CallerIDNum=raw, CallerIDName=raw)
    assert (waiting.phone, waiting.name) == ("", "")


def test_an_answer_for_a_call_never_seen_still_pops_the_screen():
    [answered] = tracker().on_event(
        ev("AgentConnect", **CALLER, CallerIDNum="13900139000", Queue="hotline", Interface="PJSIP/9999"), 5
    )
    assert (answered.phone, answered.agent) == ("13900139000", None)


def test_pause_events_name_the_agent():
    [paused] = tracker().on_event(
        ev("QueueMemberPause", Queue="hotline", Interface="PJSIP/8001", Paused="1", PausedReason="话后整理"), 9
    )
    assert paused == MemberPaused("PJSIP/8001", "zhang", "hotline", True, "话后整理", 9)


def entry(uid: str, position: int, wait: int, number: str = "13700137000") -> Message:
    return Message(
        (
            ("Event", "QueueEntry"),
            ("Queue", "hotline"),
            ("Position", str(position)),
            ("Channel", f"PJSIP/trunk-{uid}"),
            ("Uniqueid", uid),
            ("CallerIDNum", number),
            ("CallerIDName", "李四"),
            ("Wait", str(wait)),
        )
    )


def member(interface: str, in_call: bool) -> Message:
    return Message(
        (("Event", "QueueMember"), ("Queue", "hotline"), ("Location", interface), ("InCall", "1" if in_call else "0"))
    )


def test_rebuild_keeps_who_waits_learns_who_came_and_settles_who_left():
    t = tracker()
    join(t, at=100)  # still waiting after the reconnect
    join(t, at=100, Uniqueid="1732338000.2", Linkedid="1732338000.2", CallerIDNum="13600136000")  # left unseen
    join(t, at=100, Uniqueid="1732338000.3", Linkedid="1732338000.3")
    t.on_event(ev("AgentConnect", Uniqueid="1732338000.3", Queue="hotline", Interface="PJSIP/8001"), 110)
    join(t, at=100, Uniqueid="1732338000.4", Linkedid="1732338000.4")
    t.on_event(ev("AgentConnect", Uniqueid="1732338000.4", Queue="hotline", Interface="PJSIP/8002"), 110)
    snapshot = QueueSnapshot(
        entries=(entry("1732338000.1", 1, 100), entry("1732338000.9", 2, 30)),
        members=(member("PJSIP/8001", True), member("PJSIP/8002", False)),
    )
    out = t.rebuild(snapshot, 200)
    assert CallWaiting("1732338000.9", "1732338000.9", "13700137000", "李四", "hotline", 2, 200, resumed=True) in out
    [left] = [h for h in out if isinstance(h, CallAbandoned)]
    assert (left.call_id, left.phone, left.unseen, left.hold_seconds) == ("1732338000.2", "13600136000", True, 100)
    [ended] = [h for h in out if isinstance(h, CallEnded)]
    assert (ended.call_id, ended.agent, ended.reason, ended.talk_seconds) == ("1732338000.4", "li", "lost", 90)
    assert len(out) == 3
    assert set(t.calls) == {"1732338000.1", "1732338000.9", "1732338000.3"}
    assert t.calls["1732338000.9"].joined_at == 170
    assert t.rebuild(snapshot, 201) == []  # a second identical snapshot changes nothing


def test_a_join_crossing_the_snapshot_is_not_announced_twice():
    t = tracker()
    t.rebuild(QueueSnapshot(entries=(entry("1732338000.1", 1, 3),)), 50)
    assert join(t) == []
    assert t.calls["1732338000.1"].position == 1
