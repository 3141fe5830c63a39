"""Agents' replies by email: the outbox's `Sender` for channel "email", over SMTP with aiosmtplib.

The outbox message's body carries `text`, and for threading `subject`,
`in_reply_to`, `references`, `case_no` (or `case_number`) and, ideally, the `message_id` the
core recorded for this reply when it queued it (so the citizen's answer to it
threads back into the case). Without one, a Message-ID is derived from the
outbox id: the same on every retry, so a retried reply is never two mails.
"""

from __future__ import annotations

import email.utils
import re
import secrets
from email import policy
from email.message import EmailMessage

import aiosmtplib

from ...outbox.senders import SendError
from ...outbox.store import Message
from .decode import message_ids
from .settings import MailSettings

REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|回复|答复|转发)\s*[::]\s*)+", re.IGNORECASE)
ADDRESS = re.compile(r"[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+\.[^@\s<>\"(),;:]+")


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1] or "hall.invalid"


def new_message_id(from_address: str) -> str:
    """A fresh Message-ID in the hall's mail domain, for the core to record with the reply it queues."""
    return f"<hall.{secrets.token_hex(12)}@{domain_of(from_address)}>"


def outbox_message_id(outbox_id: int, from_address: str) -> str:
    return f"<hall.outbox.{outbox_id}@{domain_of(from_address)}>"


def reply_subject(subject: str, case_number: str | None, settings: MailSettings) -> str:
    """'Re: <the citizen's subject> [工单 N]', once each however long the thread."""
    subject = REPLY_PREFIX.sub("", subject or "").strip() or "您的来信"
    if case_number and not settings.case_number_re.search(subject):
        subject = f"{subject} {settings.tag(case_number)}"
    return f"Re: {subject}"


def compose(message: Message, settings: MailSettings) -> EmailMessage:
    """The reply as a UTF-8 mail with threading headers."""
    body = message.body
    recipient = message.recipient.strip()
    if not ADDRESS.fullmatch(recipient):
        raise SendError(f"not an email address: {recipient[:80]!r}")
    mail = EmailMessage(policy=policy.SMTP)
    mail["From"] = email.utils.formataddr((settings.from_name, settings.from_address))
    mail["To"] = email.utils.formataddr((str(body.get("to_name") or ""), recipient))
    number = body.get("case_no") or body.get("case_number")
    mail["Subject"] = reply_subject(str(body.get("subject") or ""), number, settings)
    mail["Date"] = email.utils.formatdate(localtime=True)
    mail["Message-ID"] = str(body.get("message_id") or outbox_message_id(message.id, settings.from_address))
    parent = message_ids(str(body.get("in_reply_to") or ""))
    refs = body.get("references") or []
    references = message_ids(" ".join(refs) if isinstance(refs, list) else str(refs))
    if parent:
        mail["In-Reply-To"] = parent[0]
        if parent[0] not in references:
            references.append(parent[0])
    if references:
        mail["References"] = " ".join(references[-20:])  # the first and the latest matter; keep the header short
    mail.set_content(str(body.get("text") or ""), charset="utf-8")
    return mail


class MailSender:
    """Sends one reply per SMTP session; any failure is a `SendError`, so the outbox tries again later."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    async def send(self, message: Message) -> None:
        mail = compose(message, self.settings)
        s = self.settings
        try:
            await aiosmtplib.send(
                mail,
                sender=s.from_address,
                recipients=[message.recipient.strip()],
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_user or None,
                password=s.smtp_password() if s.smtp_user else None,
                use_tls=s.smtp_security == "ssl",
                start_tls=s.smtp_security == "starttls",
                timeout=s.timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            raise SendError(f"SMTP {s.smtp_host}:{s.smtp_port}: {type(e).__name__} {e}"[:300]) from None

    async def close(self) -> None:
        return None
