"""Where cases come from: registration (web form, an agent at the desk) and the channels'
messages (WeChat, email, phone), each joining the case it belongs to or opening one; and the
routing of new text-channel cases to the agents online.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from ..clock import local
from ..config import Config
from ..errors import BadRequest
from ..keys import CONFIG, DB, DB_PATH
from ..storage import Tx
from . import steps, store
from .routing import Candidate, choose_agent
from .rules import TEXT_MAX

# Routed to agents here (bad reviews too: the desk tells the citizen and calls back); phone calls by Asterisk.
TEXT_CHANNELS = ("wechat", "email", "web", "qq", "rating")
ROUTE_BATCH = 50


def register(
    tx: Tx, config: Config, fields: dict[str, Any], message: steps.Message | None, actor: steps.Actor | None
) -> Any:
    """Writer unit: a new case, numbered, with its first message; text channels are routed to an agent."""
    day = local(tx.now, config.tz).date().isoformat()
    due, warn = steps.deadline(tx, config, tx.now, fields.get("type"))
    case_id = store.insert(
        tx,
        "cases",
        {
            **fields,
            "no": store.next_no(tx, day),
            "status": "registered",
            "created_at": tx.now,
            "updated_at": tx.now,
            "due_at": due,
            "warn_at": warn,
            "assigned_to": actor.id if actor and actor.role == "agent" else None,
        },
    )
    row = store.case(tx, case_id)
    store.add_step(tx, case_id, "register", None, "registered", steps.by(tx, actor), channel=row["channel"])
    if message is not None:
        insert_message(tx, row, "in", message, None)
    steps.event(tx, "registered", row, by=actor.id if actor else None)
    if row["assigned_to"] is None and row["channel"] in TEXT_CHANNELS:
        route(tx, config, row)
    return store.case(tx, case_id)


def insert_message(
    tx: Tx, row: Any, direction: str, m: steps.Message, by: int | None, outbox_id: int | None = None
) -> int:
    return store.insert(
        tx,
        "case_messages",
        {
            "case_id": row["id"],
            "direction": direction,
            "channel": row["channel"] if direction != "note" else "desk",
            "kind": m.kind,
            "body": m.body,
            "subject": m.subject,
            "external_id": m.external_id,
            "attachments": json.dumps(m.attachments, ensure_ascii=False),
            "at": tx.now,
            "by_user": by,
            "outbox_id": outbox_id,
        },
    )


def take_in(
    tx: Tx, config: Config, channel: str, contact: dict[str, str], message: steps.Message, hint: int | str | None
) -> dict:
    """Writer unit for the channels: a message from a citizen joins the case it belongs to (`hint`,
    else the contact's open case) or opens one. A message seen before (same external id) changes
    nothing and answers as the first time did."""
    if message.external_id:
        seen = store.message_by_external(tx, channel, message.external_id)
        if seen is not None:
            row = store.case(tx, seen["case_id"])
            return {"case": row, "new": False, "duplicate": True}
    row = store.case(tx, hint) if isinstance(hint, int) else store.case_by_no(tx, hint) if hint else None
    if row is not None and row["status"] == "closed":
        row = None  # a reply to a closed case opens a new one (linked by the contact)
    if row is None:
        for key in ("wechat_openid", "email", "phone"):
            if contact.get(key):
                row = store.open_case_of(tx, key, contact[key])
                break
    if row is None:
        fields = {
            "channel": channel,
            "title": (message.subject or message.body)[:60],
            "contact_name": contact.get("name") or None,
            "contact_phone": contact.get("phone") or None,
            "contact_wechat": contact.get("wechat_openid") or None,
            "contact_email": contact.get("email") or None,
        }
        return {"case": register(tx, config, fields, message, None), "new": True, "duplicate": False}
    insert_message(tx, row, "in", message, None)
    row = store.update(tx, row["id"], {})
    steps.event(tx, "message", row, direction="in", kind=message.kind)
    return {"case": row, "new": False, "duplicate": False}


def route(tx: Tx, config: Config, row: Any) -> int | None:
    """Give an unassigned case to the agent `routing.choose_agent` picks (None: nobody free yet)."""
    settings = config.callcenter
    candidates = [Candidate(r["user_id"], r["last_assigned_at"]) for r in store.available_agents(tx)]
    agent = choose_agent(candidates, store.agent_loads(tx), settings.routing, settings.capacity)
    if agent is None:
        return None
    store.mark_assigned(tx, agent)
    steps.move(tx, row, "assign", {"assigned_to": agent}, None, agent=agent)
    return agent


def set_presence(tx: Tx, config: Config, actor: steps.Actor, status: str, reason: str) -> int:
    """Writer unit: an agent's presence; coming online picks up the cases waiting for an agent."""
    store.set_presence(tx, actor.id, status, reason)
    tx.emit("agent.presence", {"agent": actor.id, "status": status, "reason": reason})
    routed = 0
    if status == "online":
        for row in store.unassigned(tx, ROUTE_BATCH):
            if route(tx, config, row) is None:
                break
            routed += 1
    return routed


# -- the channels' door ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    """A citizen's message as a channel hands it over."""

    channel: str  # wechat, email, phone, web, qq
    contact: dict[str, str]  # any of: wechat_openid, email, phone, name
    body: str
    kind: str = "text"  # text, image, voice, event, email, call
    subject: str | None = None
    external_id: str | None = None  # WeChat MsgId, email Message-ID, AMI Uniqueid: dedupe key
    attachments: list[dict[str, Any]] = field(default_factory=list)  # from `save_attachment`
    case_hint: int | str | None = None  # a case id, or a case number (email subject, In-Reply-To)


@dataclass(frozen=True)
class Received:
    case_id: int
    case_no: str
    new: bool  # the message opened this case
    duplicate: bool  # seen before (a channel's retry): nothing was stored


async def receive(app: web.Application, inbound: Inbound) -> Received:
    """Store a citizen's message in its case (committed when this returns) and route a new case."""
    message = steps.Message(
        body=inbound.body[:TEXT_MAX],
        kind=inbound.kind,
        subject=inbound.subject,
        external_id=inbound.external_id,
        attachments=list(inbound.attachments),
    )
    out = await app[DB].write(take_in, app[CONFIG], inbound.channel, inbound.contact, message, inbound.case_hint)
    row = out["case"]
    return Received(row["id"], row["no"], out["new"], out["duplicate"])


ATTACHMENT_TYPES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "audio/amr": ".amr",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/html": ".html",  # an HTML mail body kept as a file, never rendered
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}


def attachment_dir(app: web.Application) -> Path:
    return app[DB_PATH].parent / "attachments"


async def save_attachment(app: web.Application, name: str, content_type: str, data: bytes) -> dict[str, Any]:
    """Keep an attachment on disk under a random name; refuse a type or size the hall does not take."""
    limit = app[CONFIG].callcenter.attachment_max_bytes
    kind = content_type.split(";")[0].strip().lower()
    if kind not in ATTACHMENT_TYPES:
        raise BadRequest("attachment_type", f"不接受这种附件类型:{kind}", field="attachments")
    if len(data) > limit:
        raise BadRequest("attachment_too_large", f"附件超过 {limit // 1_000_000} MB 的上限", field="attachments")
    folder = attachment_dir(app)
    stored = f"{secrets.token_hex(16)}{ATTACHMENT_TYPES[kind]}"

    def write() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / stored).write_bytes(data)

    await asyncio.to_thread(write)
    return {"name": name[:200], "type": kind, "size": len(data), "file": stored}
