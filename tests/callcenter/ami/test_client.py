"""The AMI client against a loopback Asterisk 20: login, queue calls, reconnects, return visits, keepalive."""

from __future__ import annotations

import asyncio

import pytest

from hall.callcenter.ami.calls import CallAbandoned, CallAnswered, CallEnded, CallWaiting, MemberPaused
from hall.callcenter.ami.client import AmiConnectionError, AmiError

from .conftest import make_desk, until


async def test_md5_login_then_queue_status(desk, asterisk):
    assert desk.client.banner == "Asterisk Call Manager/9.0.0"
    assert asterisk.logins == 1 and asterisk.failed_logins == 0
    challenge, login, status = asterisk.actions[:3]
    assert (challenge["Action"], challenge["AuthType"]) == ("Challenge", "MD5")
    assert login["Action"] == "Login" and "Secret" not in login and len(login["Key"]) == 32
    assert status["Action"] == "QueueStatus"
    [snapshot] = desk.snapshots
    assert sorted(m["Location"] for m in snapshot.members) == ["PJSIP/8001", "PJSIP/8002"]
    assert [p["Queue"] for p in snapshot.params] == ["hotline"]


async def test_a_wrong_secret_is_refused_and_the_client_keeps_trying(asterisk, desk_factory):
    desk = await desk_factory(secret="wrong")
    await until(lambda: asterisk.failed_logins >= 2)
    assert asterisk.logins == 0 and not desk.client.ready
    assert "AmiAuthError" in desk.client.last_error and "Authentication failed" in desk.client.last_error
    with pytest.raises(AmiConnectionError):
        await desk.client.queue_pause("PJSIP/8001", True)


async def test_a_full_answered_queue_call(desk, asterisk):
    caller = await asterisk.caller_joins("13800138000", "张三")
    waiting = await desk.next()
    assert isinstance(waiting, CallWaiting)
    assert (waiting.phone, waiting.name, waiting.queue, waiting.position) == ("13800138000", "张三", "hotline", 1)
    await asterisk.agent_answers(caller, "PJSIP/8002")
    answered = await desk.next()
    assert isinstance(answered, CallAnswered)
    assert (answered.call_id, answered.agent, answered.member_name) == (caller.uniqueid, "li", "李工")
    await asterisk.call_completes(caller, reason="agent", talk=95)
    ended = await desk.next()
    assert isinstance(ended, CallEnded)
    assert (ended.call_id, ended.agent, ended.talk_seconds, ended.reason) == (caller.uniqueid, "li", 95, "agent")
    await until(lambda: len(desk.events) == 8)
    assert [e.event for e in desk.events] == [
        "FullyBooted",  # sent right after the login
        "QueueCallerJoin",
        "AgentCalled",
        "QueueCallerLeave",
        "AgentConnect",
        "AgentComplete",
        "Hangup",
        "Hangup",
    ]
    assert desk.tracker.calls == {} and desk.happenings.empty()


async def test_an_abandoned_call_becomes_a_callback(desk, asterisk):
    first = await asterisk.caller_joins("13800138000", "张三")
    second = await asterisk.caller_joins("13900139000", "李四")
    await desk.next(), await desk.next()
    await asterisk.caller_abandons(second)
    gone = await desk.next()
    assert isinstance(gone, CallAbandoned)
    assert (gone.phone, gone.name, gone.position, gone.original_position) == ("13900139000", "李四", 2, 2)
    assert not gone.unseen
    await until(lambda: desk.events[-1].event == "Hangup")
    assert list(desk.tracker.calls) == [first.uniqueid]


async def test_a_chinese_caller_name_split_across_reads(desk, asterisk):
    reads = desk.client.reads
    caller = await asterisk.caller_joins("13800138000", "欧阳娜娜", split_name=True)
    waiting = await desk.next()
    assert (waiting.call_id, waiting.name) == (caller.uniqueid, "欧阳娜娜")
    assert desk.client.reads - reads == 3  # the message really came in three pieces


async def test_a_dropped_connection_reconnects_and_queue_status_rebuilds_the_calls(desk, asterisk):
    stays = await asterisk.caller_joins("13800138000", "张三")
    leaves = await asterisk.caller_joins("13900139000", "李四")
    talking = await asterisk.caller_joins("13700137000", "王五")
    for _ in range(3):
        await desk.next()
    await asterisk.agent_answers(talking, "PJSIP/8001")
    assert isinstance(await desk.next(), CallAnswered)

    asterisk.drop()
    await asterisk.caller_abandons(leaves)  # while Hall is away: nobody hears it
    newcomer = await asterisk.caller_joins("13600136000", "赵六")
    await asterisk.wait_for_logins(2)
    await desk.ready()

    after = [await desk.next(), await desk.next()]
    assert desk.happenings.empty()
    resumed = next(h for h in after if isinstance(h, CallWaiting))
    assert (resumed.call_id, resumed.phone, resumed.resumed) == (newcomer.uniqueid, "13600136000", True)
    left = next(h for h in after if isinstance(h, CallAbandoned))
    assert (left.call_id, left.unseen) == (leaves.uniqueid, True)
    assert set(desk.tracker.calls) == {stays.uniqueid, talking.uniqueid, newcomer.uniqueid}
    assert [c.position for c in desk.tracker.waiting()] == [1, 2]

    # Events after the reconnect flow as before.
    await asterisk.call_completes(talking, talk=12)
    ended = await desk.next()
    assert isinstance(ended, CallEnded) and ended.call_id == talking.uniqueid


async def test_events_crossing_the_queue_status_list_are_applied_after_it(desk, asterisk):
    caller = await asterisk.caller_joins("13800138000", "张三")
    await desk.next()
    asterisk.drop()
    # On the next QueueStatus the caller is listed as waiting, then hangs up before the list ends.
    await asterisk.caller_abandons(caller, during_next_status=True)
    await asterisk.wait_for_logins(2)
    await desk.ready()
    [entry] = desk.snapshots[-1].entries
    assert entry["Uniqueid"] == caller.uniqueid  # the list still had them
    gone = await desk.next()
    assert isinstance(gone, CallAbandoned) and gone.call_id == caller.uniqueid and not gone.unseen
    await until(lambda: desk.events[-1].event == "Hangup")
    assert desk.tracker.calls == {} and desk.happenings.empty()


async def test_a_drop_while_a_return_visit_rings_is_reported(desk, asterisk):
    asterisk.originate_delay = 5
    visit = asyncio.create_task(desk.client.originate("PJSIP/8001", "13800138000", context="from-hall"))
    await until(lambda: any(a["Action"] == "Originate" for a in asterisk.actions))
    await asyncio.sleep(0.05)
    asterisk.drop()
    with pytest.raises(AmiConnectionError):
        await visit


async def test_reconnect_waits_longer_each_time_up_to_the_cap(asterisk):
    client = make_desk(asterisk).client
    client.random = lambda: 1.0
    assert [client.backoff(n) for n in range(6)] == [0.05, 0.1, 0.2, 0.2, 0.2, 0.2]
    client.random = lambda: 0.0
    assert client.backoff(10) == 0.1  # half the step is fixed, the other half jitter


async def test_the_client_comes_back_after_asterisk_restarts(desk, asterisk):
    asterisk.stop_listening()
    asterisk.drop()
    await asyncio.sleep(0.3)  # a few refused attempts
    assert not desk.client.ready
    with pytest.raises(AmiConnectionError):
        await desk.client.originate("PJSIP/8001", "13800138000", context="from-hall")
    await asterisk.listen_again()
    await asterisk.wait_for_logins(2)
    await desk.ready()
    assert len(desk.snapshots) == 2


async def test_ping_keepalive_detects_a_dead_peer(asterisk, desk_factory):
    desk = await desk_factory(ping_seconds=0.1, ping_timeout=0.2)
    await desk.ready()
    await asyncio.sleep(0.3)
    pings = [a for a in asterisk.actions if a["Action"] == "Ping"]
    assert pings and desk.client.ready  # answered pings keep the connection
    asterisk.go_silent()  # TCP stays open; nothing answers
    await asterisk.wait_for_logins(2)
    assert "Ping" in desk.client.last_error
    await desk.ready()


async def test_originate_a_return_visit(desk, asterisk):
    result = await desk.client.originate(
        "PJSIP/8001", "13800138000", context="from-hall", case_id=42, caller_id='"12345回访" <12345>', ring_seconds=20
    )
    assert result.ok and result.reason == 4 and result.reason_text == "已接通"
    assert result.channel.startswith("PJSIP/8001-")
    sent = next(a for a in asterisk.actions if a["Action"] == "Originate")
    assert sent["Channel"] == "PJSIP/8001"  # the agent's phone rings first
    assert (sent["Context"], sent["Exten"], sent["Priority"]) == ("from-hall", "13800138000", "1")
    assert (sent["Async"], sent["Timeout"], sent["Variable"]) == ("true", "20000", "HALL_CASE=42")
    assert desk.happenings.empty()  # OriginateResponse is the action's, not a queue call


async def test_originate_reports_a_failure(desk, asterisk):
    asterisk.originate_outcome = lambda fields: (False, 5)
    result = await desk.client.originate("PJSIP/8002", "13800138000", context="from-hall", case_id=7)
    assert not result.ok and result.reason == 5 and result.reason_text == "忙线"
    assert result.channel == "PJSIP/8002"


async def test_originate_refused_outright(desk):
    with pytest.raises(AmiError, match="Invalid channel"):
        await desk.client.originate("8001", "13800138000", context="from-hall")


async def test_queue_pause_mirrors_presence(desk, asterisk):
    response = await desk.client.queue_pause("PJSIP/8001", True, "话后整理", queue="hotline")
    assert response["Message"] == "Interface paused successfully"
    paused = await desk.next()
    assert paused == MemberPaused("PJSIP/8001", "zhang", "hotline", True, "话后整理", paused.at)
    assert asterisk.queues["hotline"].members["PJSIP/8001"].paused
    await desk.client.queue_pause("PJSIP/8001", False)
    assert not (await desk.next()).paused
    with pytest.raises(AmiError, match="Interface not found"):
        await desk.client.queue_pause("PJSIP/9999", True)


async def test_list_and_single_actions_are_matched_by_action_id(desk):
    results = await asyncio.gather(*(desk.client.send_action("Ping") for _ in range(20)), desk.client.queue_status())
    assert all(r["Ping"] == "Pong" for r in results[:20])
    assert len(results[20].members) == 2
    with pytest.raises(AmiError, match="Invalid/unknown command"):
        await desk.client.send_action("NoSuchThing")
