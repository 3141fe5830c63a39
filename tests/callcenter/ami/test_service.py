"""The phone channel in the real app: queue calls become phone cases, answers pop the caller's history."""

from __future__ import annotations

import asyncio
import contextlib
import json

from hall.callcenter.ami.service import make_phone
from hall.callcenter.ami.settings import parse_ami

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
        await until(lambda: not phone.tracker.calls and not phone.cases)
        gave_up = await asterisk.caller_joins("13800138000", "张三")
        await asterisk.caller_abandons(gave_up)
        async with asyncio.timeout(5):
            while not await events(hall, "call.callback_due"):  # noqa: ASYNC110 - a bounded test poll
                await asyncio.sleep(0.02)
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
