"""Messages from the channels join their cases; new text cases go to the agents online; replies
leave through the case's own channel."""

from __future__ import annotations

import json

from hall.callcenter.intake import Inbound, receive, save_attachment
from hall.errors import BadRequest
from hall.keys import CONFIG

from ..helpers import HallClient
from .helpers import desk, move


def wechat(openid: str, text: str, msg_id: str) -> Inbound:
    return Inbound("wechat", {"wechat_openid": openid}, text, external_id=msg_id)


async def test_messages_from_one_citizen_join_the_open_case_and_retries_are_not_doubled(hall: HallClient):
    first = await receive(hall.app, wechat("oAbc123456", "社保卡怎么补办?", "m1"))
    again = await receive(hall.app, wechat("oAbc123456", "社保卡怎么补办?", "m1"))  # WeChat's retry
    more = await receive(hall.app, wechat("oAbc123456", "需要带什么材料", "m2"))
    other = await receive(hall.app, wechat("oXyz987654", "公积金提取", "m3"))
    assert first.new and not first.duplicate and first.case_no == "2026112300001"
    assert again.duplicate and again.case_id == first.case_id
    assert (more.case_id, more.new) == (first.case_id, False)
    assert other.case_id != first.case_id
    rows = await hall.db.fetchall("SELECT body FROM case_messages WHERE case_id = ? ORDER BY id", (first.case_id,))
    assert [r["body"] for r in rows] == ["社保卡怎么补办?", "需要带什么材料"]


async def test_a_message_after_the_case_closed_opens_a_new_one_and_a_hint_joins_a_case(hall: HallClient):
    agent = (await desk(hall))["agent"]
    first = await receive(hall.app, Inbound("email", {"email": "a@example.cn"}, "咨询", external_id="<1@x>"))
    await move(hall, agent, first.case_id, "accept", type="consult")
    await move(hall, agent, first.case_id, "feedback", answer="已答复")
    await move(hall, agent, first.case_id, "return-visit", reached=True, satisfied=True)
    await move(hall, agent, first.case_id, "close")
    later = await receive(hall.app, Inbound("email", {"email": "a@example.cn"}, "又有问题", external_id="<2@x>"))
    assert later.new and later.case_id != first.case_id
    by_no = await receive(
        hall.app, Inbound("email", {"email": "b@example.cn"}, "补充材料", external_id="<3@x>", case_hint=later.case_no)
    )
    assert by_no.case_id == later.case_id and not by_no.new  # the case number in the subject


async def test_new_text_cases_go_to_the_least_busy_agent_online(hall: HallClient):
    people = await desk(hall)
    one, two = people["agent"], await hall.user("agent", display_name="周坐席")
    unrouted = await receive(hall.app, wechat("o1", "在吗", "w1"))  # nobody online yet
    assert await hall.db.fetchval("SELECT assigned_to FROM cases WHERE id = ?", (unrouted.case_id,)) is None
    status, answer = await hall.post("/api/desk/presence", {"status": "online"}, one)
    assert status == 200 and answer["routed"] == 1  # coming online picks up what waited
    await hall.post("/api/desk/presence", {"status": "online"}, two)
    for n in range(4):
        await receive(hall.app, wechat(f"o{n + 2}", "咨询", f"w{n + 2}"))
    loads = await hall.db.fetchall("SELECT assigned_to, COUNT(*) AS n FROM cases GROUP BY assigned_to")
    assert sorted(r["n"] for r in loads) == [2, 3]  # 1 + 4 cases shared out, the busier agent got fewer new ones
    status, refused = await hall.post("/api/desk/presence", {"status": "busy"}, two)
    assert status == 400 and refused["error"]["field"] == "reason"  # 示忙 needs a reason
    await hall.post("/api/desk/presence", {"status": "busy", "reason": "培训"}, two)
    routed = await receive(hall.app, wechat("o9", "咨询", "w9"))
    me = await hall.get("/api/auth/me", one)
    assert await hall.db.fetchval("SELECT assigned_to FROM cases WHERE id = ?", (routed.case_id,)) == me[1]["id"]
    _, overview = await hall.get("/api/desk/overview", one)
    assert {a["status_name"] for a in overview["agents"]} == {"在线", "示忙"}


async def test_replies_go_out_through_the_cases_own_channel(hall: HallClient):
    agent = (await desk(hall))["agent"]
    wx = await receive(hall.app, wechat("oReply1234", "办理进度?", "r1"))
    mail = await receive(
        hall.app, Inbound("email", {"email": "c@example.cn"}, "投诉", subject="窗口态度", external_id="<m1@example.cn>")
    )
    status, case = await hall.post(f"/api/cases/{wx.case_id}/messages", {"text": "您好,已受理"}, agent)
    assert status == 201 and case["messages"][-1]["direction"] == "out"
    assert case["messages"][-1]["delivery"] in ("pending", "failed")  # no WeChat sender configured in tests
    await hall.post(f"/api/cases/{mail.case_id}/messages", {"text": "您好,已收到您的来信"}, agent)
    rows = await hall.db.fetchall("SELECT channel, recipient, body FROM outbox WHERE kind = 'case.reply' ORDER BY id")
    assert [(r["channel"], r["recipient"]) for r in rows] == [("wechat", "oReply1234"), ("email", "c@example.cn")]
    body = json.loads(rows[1]["body"])
    assert body["subject"] == f"Re: 窗口态度 [工单 {mail.case_no}]" and body["in_reply_to"] == "<m1@example.cn>"


async def test_attachments_are_kept_on_disk_with_type_and_size_checked(hall: HallClient):
    saved = await save_attachment(hall.app, "照片.jpg", "image/jpeg", b"\xff\xd8\xff" + b"0" * 100)
    assert saved["size"] == 103 and saved["file"].endswith(".jpg") and saved["name"] == "照片.jpg"
    for kind, data, code in (
        ("application/x-msdownload", b"MZ", "attachment_type"),
        ("image/png", b"0" * (hall.app[CONFIG].callcenter.attachment_max_bytes + 1), "attachment_too_large"),
    ):
        try:
            await save_attachment(hall.app, "x", kind, data)
        except BadRequest as e:
            assert e.code == code
        else:
            raise AssertionError(f"{kind} was taken")


async def test_attachments_download_only_as_files_to_those_who_see_the_case(hall: HallClient):
    people = await desk(hall)
    picture = b"\xff\xd8\xff" + bytes(range(256)) * 4
    saved = await save_attachment(hall.app, "现场照片.jpg", "image/jpeg", picture)
    page = await save_attachment(hall.app, "message.html", "text/html", b"<script>alert(1)</script>")
    got = await receive(hall.app, Inbound("wechat", {"wechat_openid": "oPic1"}, "[图片]", kind="image",
                                          external_id="p1", attachments=[saved, page]))  # fmt: skip
    status, case = await hall.get(f"/api/cases/{got.case_id}", people["agent"])
    urls = [a["url"] for a in case["messages"][0]["attachments"]]
    assert [a["name"] for a in case["messages"][0]["attachments"]] == ["现场照片.jpg", "message.html"]
    async with hall.client.get(urls[0], headers=people["agent"]) as resp:
        assert resp.status == 200 and await resp.read() == picture
        assert resp.headers["Content-Disposition"].startswith("attachment;")
        assert resp.headers["Content-Type"] == "application/octet-stream"  # never rendered by the browser
    async with hall.client.get(urls[1], headers=people["agent"]) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "application/octet-stream"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert (await hall.get(urls[0], people["land"]))[0] == 403  # not sent to this department
    assert (await hall.get(urls[0]))[0] == 401
    assert (await hall.get(urls[0].replace("/attachments/0", "/attachments/7"), people["agent"]))[0] == 404
