"""End to end: a mail in Dovecot becomes a case; the agent's reply leaves by SMTP; the citizen's answer threads back."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import email
from email import policy

from aiohttp import DummyCookieJar

from hall.callcenter.mail.service import MAIL_POLLER, mail_ctx
from hall.server import create_app

from ...helpers import HallClient
from ..helpers import desk
from .conftest import PASSWORD_ENV, USER
from .samples import GBK_NAME, GBK_TEXT, b_word, gb2312_mail, multipart_mail

HALL = "12345@hall.example.gov.cn"
CITIZEN = "wang.kun@citizen.example.cn"


def mail_config(config, dovecot, mailbox: str, smtp_port: int):
    raw = {
        "enabled": True,
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.port,
        "imap_security": "none",
        "imap_user": USER,
        "imap_password_env": PASSWORD_ENV,
        "imap_mailbox": mailbox,
        "poll_seconds": 1,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "from_address": HALL,
    }
    channels = {**config.callcenter.channels, "mail": raw}
    return dataclasses.replace(config, callcenter=dataclasses.replace(config.callcenter, channels=channels))


async def start(aiohttp_client, config, clock, db_path) -> HallClient:
    app = create_app(config, clock=clock, db_path=db_path)
    if mail_ctx not in app.cleanup_ctx:  # until the server wires the email channel itself
        app.cleanup_ctx.append(mail_ctx)
    return HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)


async def rounds(hall: HallClient, n: int = 2) -> None:
    """Wait for the poller to finish `n` looks at the mailbox (the first may have begun before the mail came)."""
    poller = hall.app[MAIL_POLLER]
    async with asyncio.timeout(20):
        for _ in range(n):
            poller.polled.clear()
            await poller.polled.wait()


async def email_cases(hall: HallClient, agent: dict) -> list[dict]:
    status, listed = await hall.get("/api/cases?channel=email", agent)
    assert status == 200, listed
    return listed["cases"]


async def test_a_mail_becomes_a_case_is_answered_and_the_answer_threads_back(
    aiohttp_client, config, clock, db_path, dovecot, mailbox, smtp_server
):
    hall = await start(aiohttp_client, mail_config(config, dovecot, mailbox, smtp_server.port), clock, db_path)
    agent = (await desk(hall))["agent"]
    photo = ("现场照片(堃).jpg", "image/jpeg", b"\xff\xd8\xff\xe0jpeg")
    first = multipart_mail(
        [photo, ("setup.exe", "application/octet-stream", b"MZ")], message_id="<c1@citizen.example.cn>"
    )
    first = first.replace(b"From: li@example.cn", f"From: {b_word(GBK_NAME)} <Wang.Kun@Citizen.Example.CN>".encode())
    dovecot.deliver(mailbox, first)
    await rounds(hall)

    (case,) = await email_cases(hall, agent)
    status, detail = await hall.get(f"/api/cases/{case['id']}", agent)
    assert status == 200, detail
    (message,) = detail["messages"]
    assert message["direction"] == "in" and message["channel"] == "email" and message["subject"] == "附件"
    assert message["body"].startswith("见附件,谢谢。")
    assert "附件「setup.exe」(1 KB)未接收:不接收这种文件类型" in message["body"]
    url = f"/api/cases/{case['id']}/messages/{message['id']}/attachments/0"
    assert message["attachments"] == [{"name": "现场照片(堃).jpg", "type": "image/jpeg", "size": 8, "url": url}]
    stored = await hall.db.fetchone("SELECT contact_email, contact_name FROM cases WHERE id = ?", (case["id"],))
    assert (stored["contact_email"], stored["contact_name"]) == (CITIZEN, GBK_NAME)

    # The agent answers from the desk; the outbox sends it by SMTP, threaded.
    status, _ = await hall.post(f"/api/cases/{case['id']}/messages", {"text": "王堃您好,照片已收到,正在核实。"}, agent)
    assert status == 201
    async with asyncio.timeout(10):
        await smtp_server.inbox.arrived.wait()
    (envelope,) = smtp_server.inbox.envelopes
    sent = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert envelope.rcpt_tos == [CITIZEN] and envelope.mail_from == HALL
    assert sent["Subject"] == f"Re: 附件 [工单 {case['no']}]"
    assert sent["In-Reply-To"] == "<c1@citizen.example.cn>"
    assert sent.get_content().strip() == "王堃您好,照片已收到,正在核实。"

    # The citizen answers that mail from another mailbox of theirs, with a new subject: only the
    # threading headers tie it to the case. A stranger naming the case number opens a case of their own.
    hall_id = sent["Message-ID"]
    answer = gb2312_mail("<c2@citizen.example.cn>", subject=b_word("补充情况"), in_reply_to=hall_id, references=hall_id)
    dovecot.deliver(mailbox, answer.replace(b"<Wang.Kun@Citizen.Example.CN>", b"<wangkun@work.example.cn>"))
    stranger = gb2312_mail("<s1@else.example.cn>", subject=f"Re: [工单 {case['no']}]")
    dovecot.deliver(mailbox, stranger.replace(b"<Wang.Kun@Citizen.Example.CN>", b"<someone@else.example.cn>"))
    await rounds(hall)
    status, detail = await hall.get(f"/api/cases/{case['id']}", agent)
    assert [(m["direction"], m["subject"]) for m in detail["messages"]] == [
        ("in", "附件"),
        ("out", f"Re: 附件 [工单 {case['no']}]"),
        ("in", "补充情况"),
    ]
    assert detail["messages"][2]["body"] == GBK_TEXT
    assert detail["messages"][1]["delivery"] == "sent"
    assert len(await email_cases(hall, agent)) == 2
    other = await hall.db.fetchone("SELECT contact_email FROM cases WHERE id <> ?", (case["id"],))
    assert other["contact_email"] == "someone@else.example.cn"


async def test_an_html_only_mail_is_stored_as_text_with_its_html_kept_as_a_file(
    aiohttp_client, config, clock, db_path, dovecot, mailbox, smtp_server
):
    hall = await start(aiohttp_client, mail_config(config, dovecot, mailbox, smtp_server.port), clock, db_path)
    agent = (await desk(hall))["agent"]
    html = "<html><body><p>我要咨询<b>社保</b>转移</p><script>alert(document.cookie)</script></body></html>"
    raw = (
        b"From: zhang@example.cn\r\nSubject: =?utf-8?B?5ZKo6K+i?=\r\nMessage-ID: <h1@example.cn>\r\n"
        b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(html.encode())
    )
    dovecot.deliver(mailbox, raw)
    await rounds(hall)
    (case,) = await email_cases(hall, agent)
    _, detail = await hall.get(f"/api/cases/{case['id']}", agent)
    (message,) = detail["messages"]
    assert message["body"].startswith("我要咨询社保转移\n\n(原邮件为网页格式")
    assert "script" not in message["body"] and "<" not in message["body"]
    assert [{k: a[k] for k in ("name", "type", "size")} for a in message["attachments"]] == [
        {"name": "message.html", "type": "text/html", "size": len(html.encode())}
    ]  # kept as a file to download, never rendered


async def test_a_restart_imports_nothing_twice_even_without_its_cursor(
    aiohttp_client, config, clock, db_path, dovecot, mailbox, smtp_server
):
    cfg = mail_config(config, dovecot, mailbox, smtp_server.port)
    hall = await start(aiohttp_client, cfg, clock, db_path)
    agent = (await desk(hall))["agent"]
    dovecot.deliver(mailbox, gb2312_mail("<c1@citizen.example.cn>"))
    await rounds(hall)
    assert len(await email_cases(hall, agent)) == 1
    await hall.client.close()

    # As if the server died after the case was committed but before the mailbox heard of it:
    # no cursor, and the mail still unread. The Message-ID dedupe keeps it from being taken twice.
    (db_path.parent / "mail-imap.json").unlink()
    imap = dovecot.imap()
    try:
        imap.select(mailbox)
        imap.uid("STORE", "1:*", "-FLAGS", "(\\Seen)")
    finally:
        imap.logout()
    again = await start(aiohttp_client, cfg, clock, db_path)
    await rounds(again)
    (case,) = await email_cases(again, agent)
    _, detail = await again.get(f"/api/cases/{case['id']}", agent)
    assert [m["body"] for m in detail["messages"]] == [GBK_TEXT]
    assert all("\\Seen" in f for f in dovecot.flags(mailbox).values())


async def test_a_hall_without_a_mailbox_runs_no_poller(aiohttp_client, config, clock, db_path):
    hall = await start(aiohttp_client, config, clock, db_path)
    assert MAIL_POLLER not in hall.app
