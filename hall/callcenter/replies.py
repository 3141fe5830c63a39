"""The agent's words to the citizen: replies through the case's own channel (via the outbox, so a
channel that is down gets them later) and internal notes."""

from __future__ import annotations

from typing import Any

from ..config import Config
from ..outbox import store as outbox
from ..storage import Tx
from . import rules, steps, store
from .intake import insert_message


def reply(tx: Tx, config: Config, case_id: int, text: str, actor: steps.Actor) -> Any:
    """Writer unit: an agent's message to the citizen, sent through the case's own channel (outbox)."""
    row = steps.get_case(tx, case_id)
    if row["status"] == "closed":
        rules.check_move("closed", "accept")  # raises case_closed
    recipient, channel, body = _reply_route(tx, row, text)
    message_id = None
    if recipient is not None:
        ref = f"case:{row['id']}:{tx.now:.6f}"
        message_id = outbox.enqueue(tx, "case.reply", ref, channel, recipient, body)
    m = steps.Message(body=text, subject=body.get("subject"))
    insert_message(tx, row, "out", m, actor.id, message_id)
    row = store.update(tx, row["id"], {})
    steps.event(tx, "message", row, direction="out", by=actor.id, sent=recipient is not None)
    return row


def _reply_route(tx: Tx, row: Any, text: str) -> tuple[str | None, str, dict[str, Any]]:
    """Where a reply goes: WeChat openid, email address (threaded), or an SMS to the phone."""
    if row["channel"] == "wechat" and row["contact_wechat"]:
        return row["contact_wechat"], "wechat", {"text": text}
    if row["contact_email"] and row["channel"] in ("email", "web", "qq"):
        ids = tx.all(
            "SELECT external_id FROM case_messages WHERE case_id = ? AND channel = 'email' "
            "AND external_id IS NOT NULL ORDER BY id",
            (row["id"],),
        )
        refs = [r["external_id"] for r in ids]
        subject = f"Re: {row['title'] or '您的来信'} [工单 {row['no']}]"
        return (
            row["contact_email"],
            "email",
            {
                "text": text,
                "subject": subject,
                "in_reply_to": refs[-1] if refs else None,
                "references": refs,
                "case_no": row["no"],
            },
        )
    if row["contact_phone"]:
        return row["contact_phone"], "sms", {"text": f"【工单 {row['no']}】{text}"}
    return None, row["channel"], {"text": text}


def note(tx: Tx, case_id: int, text: str, actor: steps.Actor) -> Any:
    row = steps.get_case(tx, case_id)
    insert_message(tx, row, "note", steps.Message(body=text, kind="note"), actor.id)
    return store.update(tx, case_id, {})
