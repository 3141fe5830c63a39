"""What every step of a case shares: who acts, the message type, the case looked up, the
deadline of a type, and `move` (columns, history row and event in one go).

Events carry ids, states, channels and departments, never contacts nor message
text (they may name people): the desk reads those through the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..auth import store as auth_store
from ..calendar import add_working_days
from ..clock import local
from ..config import Config
from ..errors import NotFound
from ..storage import Tx
from . import store


@dataclass(frozen=True)
class Message:
    body: str
    kind: str = "text"  # text, image, voice, event, email, call, note
    subject: str | None = None
    external_id: str | None = None  # WeChat MsgId, email Message-ID, AMI Uniqueid: a retry is not a second message
    attachments: list[dict[str, Any]] = field(default_factory=list)  # {"name", "type", "size", "path"}


@dataclass(frozen=True)
class Actor:
    id: int
    role: str
    department: str = ""


def by(tx: Tx, actor: Actor | None) -> tuple[int | None, str | None]:
    return (actor.id, auth_store.staff_brief(tx, actor.id)[0]) if actor else (None, None)


def get_case(tx: Tx, case_id: int) -> Any:
    row = store.case(tx, case_id)
    if row is None:
        raise NotFound("case_not_found", f"没有编号为 {case_id} 的工单")
    return row


def event(tx: Tx, name: str, row: Any, **extra: Any) -> None:
    tx.emit(
        f"case.{name}",
        {
            "case": {"id": row["id"], "no": row["no"], "status": row["status"], "channel": row["channel"]},
            "type": row["type"],
            "assigned_to": row["assigned_to"],
            **extra,
        },
    )


def deadline(tx: Tx, config: Config, created_at: float, case_type: str | None) -> tuple[float, float]:
    """(due, warn) for a case of this type registered at `created_at`."""
    settings = config.callcenter
    days = settings.deadlines[case_type or "consult"]
    due = add_working_days(local(created_at, config.tz), days, config).timestamp()
    return due, created_at + (due - created_at) * settings.warn_ratio


def move(tx: Tx, row: Any, action: str, after: dict[str, Any], actor: Actor | None, **detail: Any) -> Any:
    """Apply a move: the columns, the step (with its detail) and the event (without free text)."""
    new = store.update(tx, row["id"], after) if after else row
    store.add_step(tx, row["id"], action, row["status"], new["status"], by(tx, actor), **detail)
    public = {k: v for k, v in detail.items() if k not in ("note", "answer", "reason", "instructions", "text")}
    event(tx, action.replace("-", "_"), new, by=actor.id if actor else None, **public)
    return new
