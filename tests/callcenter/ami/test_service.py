"""The phone channel in the real app: queue calls become phone cases, answers pop the caller's history."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json

from aiohttp import DummyCookieJar

from hall.callcenter.ami.service import PHONE, make_phone
from hall.callcenter.ami.settings import parse_ami
from hall.callcenter.intake import Inbound, receive
from hall.server import create_app

from ...helpers import HallClient
from .conftest import until


async def events(hall, kind: str) -> list:
    return await hall.db.fetchall("SELECT type, payload FROM events WHERE type = ?", (kind,))


async def test_calls_land_in_cases_and_the_answering_agent_gets_the_history(hall, asterisk):
    settings = parse_ami(
        {"port": asterisk.port, "agents": {"zhang": "PJSIP/8001"}, "enabled": True},
        environ={"HALL_AMI_SECRET": "s3cret"},
    )
    phone = make_phone(hall.app, settings)
    phone.client.reconnect_base = 0.05
    task = asyncio.create_task(phone.client.run())
    try:
        async with asyncio.timeout(5):
            await phone.client.wait_ready()
        answered = await asterisk.caller_joins("13800138000", "张三")
        await asterisk.agent_answers(answered, "PJSIP/8001")
        await asterisk.call_completes(answered, talk=60)
        async with asyncio.timeout(5):
            while await hall.db.fetchval("SELECT COUNT(*) FROM case_messages") < 3:  # noqa: ASYNC110 - bounded
                await asyncio.sleep(0.02)
        gave_up = await asterisk.caller_joins("13800138000", "张三")
        await asterisk.caller_abandons(gave_up)
        async with asyncio.timeout(5):
            while not await events(hall, "call.callback_due"):  # noqa: ASYNC110 - a bounded test poll
                await asyncio.sleep(0.02)
        await until(lambda: not phone.chains)  # every step of both calls recorded
        [due] = await events(hall, "call.callback_due")
        [pop] = await events(hall, "call.answered")
        payload = json.loads(pop["payload"])
        assert payload["agent"] == "zhang"
        rows = await hall.db.fetchall("SELECT id, channel, contact_phone FROM cases")
        assert [(r["channel"], r["contact_phone"]) for r in rows] == [("phone", "13800138000")]
        assert json.loads(due["payload"])["case_id"] == rows[0]["id"]  # same citizen, same open case
        bodies = await hall.db.fetchall("SELECT body, kind FROM case_messages ORDER BY id")
        assert [b["body"] for b in bodies] == [
            "来电排队中（hotline 第 1 位）",
            "坐席 张工 接听",
            "通话结束，通话 60 秒（来电人挂断）",
            "来电排队中（hotline 第 1 位）",
            "未接来电：排队 0 秒后挂断，需回拨",
        ]
        assert {b["kind"] for b in bodies} == {"call"}
    finally:
        phone.client.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_desk_mirrors_presence_and_rings_the_citizen_for_a_return_visit(
    aiohttp_client, config, clock, db_path, asterisk, monkeypatch
):
    monkeypatch.setenv("HALL_AMI_SECRET", "s3cret")
    ami = {"port": asterisk.port, "agents": {"zhang": "PJSIP/8001"}, "enabled": True}
    callcenter = dataclasses.replace(config.callcenter, channels={"ami": ami})
    app = create_app(dataclasses.replace(config, callcenter=callcenter), clock=clock, db_path=db_path)
    hall = HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)
    async with asyncio.timeout(5):
        await app[PHONE].client.wait_ready()
    await hall.create_user("zhang", "agent", display_name="张工")
    zhang = await hall.login("zhang")
    status, answer = await hall.post("/api/desk/presence", {"status": "busy", "reason": "培训"}, zhang)
    assert status == 200 and answer["phone"] == "synced"
    pause = [a for a in asterisk.actions if a.get("Action") == "QueuePause"][-1]
    assert (pause["Interface"], pause["Paused"]) == ("PJSIP/8001", "true") and pause["Reason"] == "培训"

    body = {"type": "complaint", "content": "回访测试", "phone": "13900139000", "channel": "phone"}
    status, case = await hall.post("/api/cases", body, zhang)
    assert status == 201, case
    status, rang = await hall.post(f"/api/cases/{case['id']}/call", {}, zhang)
    assert status == 200 and rang["ok"] is True, rang
    originate = [a for a in asterisk.actions if a.get("Action") == "Originate"][-1]
    assert (originate["Channel"], originate["Exten"]) == ("PJSIP/8001", "13900139000")
    reads = await hall.db.fetchall("SELECT purpose FROM contact_reads")
    assert [r["purpose"] for r in reads] == ["外呼回访"]
    manager = await hall.user("manager")  # a manager with no extension gets a clear refusal
    status, refused = await hall.post(f"/api/cases/{case['id']}/call", {}, manager)
    assert status == 409 and refused["error"]["code"] == "no_extension"


async def test_a_call_that_ended_while_hall_was_down_is_settled_after_the_restart(hall, asterisk):
    """A join recorded before the server stopped, the caller gone by the time it is back: the
    restarted phone channel knows the call again, QueueStatus does not list it, so it is closed as
    missed and the desk is told to call back. A caller still waiting is left alone."""
    still_waiting = await asterisk.caller_joins("13800138012", "")  # Asterisk still has this one
    for uid, number in (("1700000000.11", "13800138011"), (still_waiting.uniqueid, "13800138012")):
        await receive(hall.app, Inbound("phone", {"phone": number}, "来电排队中（hotline 第 1 位）", kind="call",
                                        external_id=f"{uid}/join"))  # fmt: skip
    settings = parse_ami({"port": asterisk.port, "enabled": True}, environ={"HALL_AMI_SECRET": "s3cret"})
    phone = make_phone(hall.app, settings)
    task = asyncio.create_task(phone.client.run())
    try:
        async with asyncio.timeout(5):
            await phone.client.wait_ready()
            while not await events(hall, "call.callback_due"):  # noqa: ASYNC110 - a bounded test poll
                await asyncio.sleep(0.02)
        await until(lambda: not phone.chains)
        [due] = await events(hall, "call.callback_due")
        gone = await hall.db.fetchval("SELECT id FROM cases WHERE contact_phone = '13800138011'")
        assert json.loads(due["payload"])["case_id"] == gone
        bodies = await hall.db.fetchall("SELECT body FROM case_messages WHERE case_id = ? ORDER BY id", (gone,))
        assert [b["body"] for b in bodies][-1].startswith("未接来电：连接中断期间离开队列")
        assert "1700000000.11" not in phone.tracker.calls
        assert still_waiting.uniqueid in phone.tracker.calls  # the live caller, learnt from QueueStatus
    finally:
        phone.client.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
