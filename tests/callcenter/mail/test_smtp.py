"""Replies leave over SMTP (a real aiosmtpd server on loopback), threaded into the citizen's conversation."""

from __future__ import annotations

import asyncio
import email
from dataclasses import replace
from email import policy

import pytest

from hall.callcenter.mail.decode import parse
from hall.callcenter.mail.settings import MailSettings
from hall.callcenter.mail.smtp import MailSender, new_message_id, reply_subject
from hall.outbox.senders import SendError
from hall.outbox.store import Message

from .conftest import free_port

HALL = "12345@hall.example.gov.cn"
TEXT = "王堃您好:\n您反映的朱镕基路窗口问题已转办区政务服务管理局,三个工作日内答复。\n"


def settings(port: int, **changes) -> MailSettings:
    base = MailSettings(
        smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", from_address=HALL, timeout_seconds=5
    )
    return replace(base, **changes)


def outgoing(body: dict, recipient: str = "Wang.Kun@citizen.example.cn", id: int = 41) -> Message:
    return Message(
        id=id, kind="case.reply", ref=f"case:7:{id}", channel="email", recipient=recipient, body=body, attempts=0
    )


REPLY = {
    "text": TEXT,
    "subject": "投诉:窗口态度差(朱镕基路)",
    "case_no": "2026112300012",  # the key the case core's replies use
    "in_reply_to": "<c2@citizen.example.cn>",
    "references": ["<c1@citizen.example.cn>", "<hall.r1@hall.example.gov.cn>"],
    "message_id": "<hall.0a1b2c@hall.example.gov.cn>",
    "to_name": "王堃",
}


async def test_a_reply_arrives_threaded_and_in_utf8(smtp_server):
    await MailSender(settings(smtp_server.port)).send(outgoing(REPLY))
    (envelope,) = smtp_server.inbox.envelopes
    assert envelope.mail_from == HALL and envelope.rcpt_tos == ["Wang.Kun@citizen.example.cn"]
    mail = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert mail["Subject"] == "Re: 投诉:窗口态度差(朱镕基路) [工单 2026112300012]"
    assert mail["Message-ID"] == "<hall.0a1b2c@hall.example.gov.cn>"
    assert mail["In-Reply-To"] == "<c2@citizen.example.cn>"
    # References: the thread so far, then the mail answered (RFC 5322 §3.6.4)
    assert mail["References"].split() == [
        "<c1@citizen.example.cn>",
        "<hall.r1@hall.example.gov.cn>",
        "<c2@citizen.example.cn>",
    ]
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"
    assert mail.get_content().replace("\r\n", "\n") == TEXT
    assert mail["From"].addresses[0].addr_spec == HALL and mail["From"].addresses[0].display_name == "政务服务中心"
    assert mail["To"].addresses[0].display_name == "王堃"
    assert all(ord(c) < 128 for c in envelope.original_content.decode("ascii")), "headers and body 7-bit on the wire"
    # and Hall's own decoder reads it back as sent
    back = parse(envelope.original_content)
    assert (back.subject, back.text.strip(), back.case_number) == (mail["Subject"], TEXT.strip(), "2026112300012")


async def test_retried_replies_keep_their_message_id(smtp_server):
    """Without a recorded Message-ID one is derived from the outbox id: a retry is the same mail."""
    sender = MailSender(settings(smtp_server.port))
    body = {k: v for k, v in REPLY.items() if k != "message_id"}
    await sender.send(outgoing(body, id=77))
    await sender.send(outgoing(body, id=77))
    ids = {email.message_from_bytes(e.original_content)["Message-ID"] for e in smtp_server.inbox.envelopes}
    assert ids == {"<hall.outbox.77@hall.example.gov.cn>"}


@pytest.mark.parametrize(
    "subject, number, expected",
    [
        ("投诉", "2026112300012", "Re: 投诉 [工单 2026112300012]"),
        ("Re: 回复:RE: 投诉 [工单 2026112300012]", "2026112300012", "Re: 投诉 [工单 2026112300012]"),
        ("", "2026112300012", "Re: 您的来信 [工单 2026112300012]"),
        ("咨询", None, "Re: 咨询"),
    ],
)
def test_reply_subject(subject, number, expected):
    assert reply_subject(subject, number, MailSettings()) == expected


def test_new_message_ids_are_unique_and_in_the_halls_domain():
    ids = {new_message_id(HALL) for _ in range(100)}
    assert len(ids) == 100 and all(i.startswith("<hall.") and i.endswith("@hall.example.gov.cn>") for i in ids)


async def test_smtp_server_down_is_a_send_error():
    with pytest.raises(SendError, match="SMTP 127.0.0.1"):
        await MailSender(settings(free_port())).send(outgoing(REPLY))


async def test_smtp_server_refusing_the_mail_is_a_send_error():
    class Refuser:
        async def handle_DATA(self, server, session, envelope):
            return "451 4.3.0 try again later"

    from aiosmtpd.smtp import SMTP

    server = await asyncio.get_running_loop().create_server(lambda: SMTP(Refuser()), "127.0.0.1", 0)
    try:
        with pytest.raises(SendError, match="451"):
            await MailSender(settings(server.sockets[0].getsockname()[1])).send(outgoing(REPLY))
    finally:
        server.close()
        await server.wait_closed()


async def test_a_recipient_that_is_no_address_is_a_send_error(smtp_server):
    with pytest.raises(SendError, match="not an email address"):
        await MailSender(settings(smtp_server.port)).send(outgoing(REPLY, recipient="oX7f-openid"))
    assert smtp_server.inbox.envelopes == []
