"""The WeChat API and the SMTP server down: agents' replies wait in the outbox (pending, with the
attempts and the error) and go out when the servers are back — through the running hall's worker."""

from __future__ import annotations

import asyncio
import dataclasses
import socket

from aiohttp import DummyCookieJar, web
from aiohttp.test_utils import TestServer
from aiosmtpd.smtp import SMTP

from hall.callcenter.intake import Inbound, receive
from hall.outbox.worker import WORKER, backoff
from hall.server import create_app

from .callcenter.mail.conftest import Collector
from .callcenter.wechat.fake_api import APP_ID, SECRET, FakeWechatApi
from .helpers import HallClient


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def outbox_row(hall: HallClient, channel: str) -> dict:
    return dict(await hall.db.fetchone("SELECT * FROM outbox WHERE channel = ? ORDER BY id DESC", (channel,)))


async def until_row(hall: HallClient, channel: str, predicate, seconds: float = 5.0) -> dict:
    async with asyncio.timeout(seconds):
        while not predicate(row := await outbox_row(hall, channel)):  # noqa: ASYNC110 - a bounded test poll
            await asyncio.sleep(0.02)
    return row


async def test_replies_wait_while_wechat_and_smtp_are_down_and_go_when_they_are_back(
    aiohttp_client, config, clock, db_path, monkeypatch
):
    monkeypatch.setenv("HALL_WECHAT_TOKEN", "hallToken2026")
    monkeypatch.setenv("HALL_WECHAT_SECRET", SECRET)
    monkeypatch.setenv("HALL_IMAP_PASSWORD", "imap-pass")
    wechat_port, smtp_port, imap_port = free_port(), free_port(), free_port()  # nothing listens yet
    channels = {
        "wechat": {"enabled": True, "app_id": APP_ID, "mode": "plain", "base_url": f"http://127.0.0.1:{wechat_port}"},
        "mail": {"enabled": True, "imap_host": "127.0.0.1", "imap_port": imap_port, "imap_security": "none",
                 "imap_user": "hall", "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_security": "none",
                 "from_address": "12345@hall.example.gov.cn", "poll_seconds": 3600},
    }  # fmt: skip
    callcenter = dataclasses.replace(config.callcenter, channels=channels)
    app = create_app(dataclasses.replace(config, callcenter=callcenter), clock=clock, db_path=db_path)
    hall = HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)
    agent = await hall.user("agent")
    wx = await receive(app, Inbound("wechat", {"wechat_openid": "oDown1"}, "办理进度?", external_id="d1"))
    mail = await receive(app, Inbound("email", {"email": "c@example.cn"}, "投诉", subject="窗口", external_id="<d@x>"))
    for case in (wx, mail):
        status, _ = await hall.post(f"/api/cases/{case.case_id}/messages", {"text": "您好,已受理"}, agent)
        assert status == 201

    # Both down: each reply is tried, fails, and waits with its error; nothing is lost or marked sent.
    worker = app[WORKER]
    await worker.run_once()
    for channel in ("wechat", "email"):
        row = await until_row(hall, channel, lambda r: r["attempts"] >= 1)
        assert row["status"] == "pending" and row["last_error"] and row["sent_at"] is None, row
    _, case = await hall.get(f"/api/cases/{wx.case_id}", agent)
    assert case["messages"][-1]["delivery"] == "pending"  # the desk shows 待发送

    # Back up on the same addresses: the next round (after the backoff) sends both.
    api = FakeWechatApi()
    api_app = web.Application()
    api_app.router.add_get("/cgi-bin/token", api._token)
    api_app.router.add_post("/cgi-bin/message/custom/send", api._send)
    api.server = TestServer(api_app, host="127.0.0.1", port=wechat_port)
    await api.server.start_server()
    inbox = Collector()
    smtp = await asyncio.get_running_loop().create_server(
        lambda: SMTP(inbox, hostname="mx.test", ident="test"), "127.0.0.1", smtp_port
    )
    try:
        clock.advance(backoff(1) + 1)
        await worker.run_once()
        for channel in ("wechat", "email"):
            row = await until_row(hall, channel, lambda r: r["status"] == "sent")
            assert row["attempts"] >= 1
        assert api.sent == [{"touser": "oDown1", "msgtype": "text", "text": {"content": "您好,已受理"}}]
        assert len(inbox.envelopes) == 1 and inbox.envelopes[0].rcpt_tos == ["c@example.cn"]
        _, case = await hall.get(f"/api/cases/{wx.case_id}", agent)
        assert case["messages"][-1]["delivery"] == "sent"
    finally:
        smtp.close()
        await smtp.wait_closed()
        await api.close()
