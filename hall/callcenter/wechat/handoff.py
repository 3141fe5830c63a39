"""The hand-off to the case core: one WeChat message in, the case it went to out.

Images and voice are fetched from WeChat (media/get) and stored as the case's
attachments; one that can not be fetched in time is named in the message by
its MediaId instead, which WeChat keeps for three days.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes

from aiohttp import web

from ...errors import HallError
from ...keys import CONFIG
from ...outbox.senders import SendError
from .inbox import WECHAT, Inbound, Receipt

log = logging.getLogger("hall.callcenter.wechat")

MEDIA_SECONDS = 3.0


async def receive_case(app: web.Application, inbound: Inbound) -> Receipt:
    """Append the message to the citizen's open case, or open one (hall.callcenter.intake)."""
    from .. import intake  # the case core

    attachments, missing = [], []
    for media in inbound.media:
        try:
            attachments.append(await _fetch(app, media))
        except (SendError, HallError, TimeoutError) as e:
            log.warning("WeChat %s %s not stored: %s", media["kind"], media["media_id"], e)
            missing.append(media["media_id"])
    body = inbound.body
    if missing:
        body += f"(附件未能下载,微信 MediaId:{'、'.join(missing)},三天内可重新获取)"
    received = await intake.receive(
        app,
        intake.Inbound(
            channel=inbound.channel,
            contact=inbound.contact,
            body=body,
            kind=inbound.kind,
            external_id=inbound.external_id,
            attachments=attachments,
        ),
    )
    return Receipt(received.case_id, received.case_no, received.new, received.duplicate)


async def _fetch(app: web.Application, media: dict[str, str]) -> dict:
    from .. import intake

    limit = app[CONFIG].callcenter.attachment_max_bytes
    async with asyncio.timeout(MEDIA_SECONDS):
        content_type, data = await app[WECHAT].api.media(media["media_id"], limit)
    extension = mimetypes.guess_extension(content_type) or (f".{media['format']}" if media.get("format") else "")
    name = f"微信{'图片' if media['kind'] == 'image' else '语音'}{extension}"
    saved = await intake.save_attachment(app, name, content_type, data)
    return {**saved, "wechat_media_id": media["media_id"]}
