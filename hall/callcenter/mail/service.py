"""The email channel in the running hall: the mailbox polled into cases, replies sent by SMTP.

`mail_ctx` (an app cleanup_ctx, after the outbox worker's) runs the poller when
`[callcenter.mail]` is enabled and registers `MailSender` for channel "email"
with the outbox worker. Each mail goes through the case core's door
(`intake.receive`, channel "email", its Message-ID as the dedupe key), threaded
by `threads.find_case`; attachments are stored with `intake.save_attachment`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from ...errors import HallError
from ...keys import CONFIG, DB, DB_PATH
from ...outbox.worker import WORKER
from ...storage import Database
from .. import intake
from .decode import ParsedMail, parse
from .imap import CursorFile, Poller
from .settings import MailSettings, parse_mail
from .smtp import MailSender, domain_of
from .threads import CaseRef, find_case

log = logging.getLogger("hall.callcenter.mail")

REFUSED = {
    "type_not_allowed": "不接收这种文件类型",
    "too_large": "超过单个附件大小上限",
    "message_too_large": "超过单封邮件附件总大小上限",
}


def configured(config: object) -> MailSettings:
    """The mailbox settings in a Config: parsed at load (`callcenter.mail`), or the raw table, or off."""
    callcenter = getattr(config, "callcenter", None)
    parsed = getattr(callcenter, "mail", None)
    if isinstance(parsed, MailSettings):
        return parsed
    raw = getattr(callcenter, "channels", {}).get("mail", {}) if callcenter is not None else {}
    return parse_mail(raw)


class StoreLookup:
    """`threads.CaseLookup` over the case tables (reads only)."""

    def __init__(self, db: Database, settings: MailSettings) -> None:
        self.db = db
        # Replies Hall sent without a recorded Message-ID carry one made from their outbox id (smtp.py).
        self.outbox_id = re.compile(rf"<hall\.outbox\.(\d+)@{re.escape(domain_of(settings.from_address))}>")

    async def by_message_ids(self, message_ids: tuple[str, ...]) -> CaseRef | None:
        for message_id in message_ids:
            ours = self.outbox_id.fullmatch(message_id)
            if ours:
                sql, arg = "SELECT case_id FROM case_messages WHERE outbox_id = ?", int(ours.group(1))
            else:
                sql, arg = "SELECT case_id FROM case_messages WHERE channel = 'email' AND external_id = ?", message_id
            case_id = await self.db.fetchval(sql + " ORDER BY id LIMIT 1", (arg,))
            if case_id is not None:
                return await self._ref("id = ?", case_id)
        return None

    async def by_number(self, number: str) -> CaseRef | None:
        return await self._ref("no = ?", number)

    async def seen(self, message_id: str) -> bool:
        sql = "SELECT 1 FROM case_messages WHERE channel = 'email' AND external_id = ?"
        return await self.db.fetchval(sql, (message_id,)) is not None

    async def _ref(self, where: str, arg: object) -> CaseRef | None:
        row = await self.db.fetchone(f"SELECT id, no, contact_email FROM cases WHERE {where}", (arg,))
        if row is None:
            return None
        emails = {row["contact_email"].lower()} if row["contact_email"] else set()
        return CaseRef(row["id"], row["no"], frozenset(emails))


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{max(1, n // 1000)} KB"


async def take(app: web.Application, settings: MailSettings, mail: ParsedMail) -> intake.Received | None:
    """Hand one decoded mail to the case core; returns once it is committed (None: seen before)."""
    lookup = StoreLookup(app[DB], settings)
    if await lookup.seen(mail.message_id):
        return None  # fetched again after a crash: already in its case, and its files stored
    hint = await find_case(mail, lookup)
    attachments, notes = [], []
    for a in mail.attachments:
        try:
            attachments.append(await intake.save_attachment(app, a.filename, a.content_type, a.data))
        except HallError as e:
            notes.append(f"附件「{a.filename}」({_size(len(a.data))})未保存:{e.message}")
    for r in mail.refused:
        notes.append(f"附件「{r.filename}」({_size(r.size)})未接收:{REFUSED.get(r.reason, r.reason)}")
    body = mail.text or "(邮件无正文)"
    if mail.html_only:
        body += "\n\n(原邮件为网页格式,已转为纯文本;原网页作为附件保存,不直接打开)"
    if mail.auto_reply:
        body = "(自动回复或退信)\n" + body
    if notes:
        body += "\n\n" + "\n".join(notes)
    contact = {"email": mail.from_address} if mail.from_address else {}
    if mail.from_name:
        contact["name"] = mail.from_name
    received = await intake.receive(
        app,
        intake.Inbound(
            channel="email",
            contact=contact,
            body=body,
            kind="email",
            subject=mail.subject or None,
            external_id=mail.message_id,
            attachments=attachments,
            case_hint=hint.case_id if hint else None,
        ),
    )
    log.info(
        "mail %s → case %s (%s%s)",
        mail.message_id,
        received.case_no,
        "new" if received.new else "joined",
        f" via {hint.via}" if hint else "",
    )
    return received


def cursor_path(app: web.Application, settings: MailSettings) -> Path:
    if not settings.state_file:
        return app[DB_PATH].parent / "mail-imap.json"
    path = Path(settings.state_file)
    config_path = getattr(app[CONFIG], "path", None)
    return path if path.is_absolute() or config_path is None else config_path.parent / path


MAIL_POLLER: web.AppKey[Poller] = web.AppKey("mail_poller", Poller)


async def mail_ctx(app: web.Application) -> AsyncIterator[None]:
    """Poll the mailbox and send replies while the server runs, when [callcenter.mail] is enabled."""
    settings = configured(app[CONFIG])
    if not settings.enabled:
        yield
        return
    if WORKER in app:
        app[WORKER].senders["email"] = MailSender(settings)  # the worker closes its senders at shutdown
    else:
        log.warning("no outbox worker: email replies will not be sent")

    async def deliver(raw: bytes, omitted: int | None) -> None:
        await take(app, settings, parse(raw, settings, omitted))

    key = f"{settings.imap_user}@{settings.imap_host}:{settings.imap_port}/{settings.imap_mailbox}"
    poller = Poller(settings, deliver, CursorFile(cursor_path(app, settings), key))
    app[MAIL_POLLER] = poller
    task = asyncio.create_task(poller.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
