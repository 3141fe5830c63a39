"""Cases as JSON: contacts masked (an agent reveals them through an audited read), with the full
history on request."""

from __future__ import annotations

import json
from typing import Any

from ..clock import iso
from ..config import Config
from ..personal import mask_name, mask_phone
from ..storage import Database
from . import store
from .rules import ACTION_NAMES, CHANNELS, DISPATCH_STATES, STATES, VISIT_RESULTS
from .settings import TYPES


def mask_email(value: str | None) -> str | None:
    if not value or "@" not in value:
        return None
    user, domain = value.split("@", 1)
    return f"{user[:1]}***@{domain}"


def mask_openid(value: str | None) -> str | None:
    return f"{value[:4]}…{value[-2:]}" if value else None


def contact_json(row: Any, masked: bool = True) -> dict[str, Any]:
    name, phone, wechat, email = row["contact_name"], row["contact_phone"], row["contact_wechat"], row["contact_email"]
    if masked:
        name, phone, wechat, email = mask_name(name), mask_phone(phone), mask_openid(wechat), mask_email(email)
    return {"name": name, "phone": phone, "wechat": wechat, "email": email, "masked": masked}


def case_json(row: Any, config: Config, now: float, names: dict[int, str]) -> dict[str, Any]:
    tz = config.tz
    open_ = row["status"] != "closed"
    return {
        "id": row["id"],
        "no": row["no"],
        "channel": row["channel"],
        "channel_name": CHANNELS.get(row["channel"], row["channel"]),
        "type": row["type"],
        "type_name": TYPES.get(row["type"]) if row["type"] else "未分类",
        "status": row["status"],
        "status_name": STATES[row["status"]],
        "round": row["round"],
        "title": row["title"],
        "contact": contact_json(row),
        "links": {
            "ticket_id": row["ticket_id"],
            "window_no": row["window_no"],
            "staff_user_id": row["staff_user_id"],
            "matter": row["matter"],
            "rating_id": row["rating_id"],
        },
        "assigned_to": {"id": row["assigned_to"], "name": names.get(row["assigned_to"])}
        if row["assigned_to"]
        else None,
        "created_at": iso(row["created_at"], tz),
        "updated_at": iso(row["updated_at"], tz),
        "accepted_at": iso(row["accepted_at"], tz),
        "due_at": iso(row["due_at"], tz),
        "warning": open_ and row["warn_at"] is not None and row["warn_at"] <= now,
        "overdue": open_ and row["due_at"] is not None and row["due_at"] < now,
        "escalations": row["escalations"],
        "escalated_at": iso(row["escalated_at"], tz),
        "visit_attempts": row["visit_attempts"],
        "visit_result": row["visit_result"],
        "visit_result_name": VISIT_RESULTS.get(row["visit_result"]) if row["visit_result"] else None,
        "visit_owed": row["status"] in ("answered", "reviewed"),
        "closed_at": iso(row["closed_at"], tz),
    }


async def cases_json(db: Database, config: Config, rows: list[Any], now: float) -> list[dict[str, Any]]:
    names = await store.user_names(db, {r["assigned_to"] for r in rows if r["assigned_to"]})
    return [case_json(r, config, now, names) for r in rows]


async def detail_json(db: Database, config: Config, row: Any, now: float) -> dict[str, Any]:
    """A case with every message in and out, its departments' shares, return visits and steps."""
    tz = config.tz
    h = await store.history(db, row["id"])
    ids = {r["by_user"] for r in h["messages"] + h["visits"] + h["steps"] if r["by_user"]}
    ids |= {d[k] for d in h["dispatches"] for k in ("dispatched_by", "signed_by", "answered_by") if d[k]}
    ids |= {row["assigned_to"]} if row["assigned_to"] else set()
    names = await store.user_names(db, ids)
    out = case_json(row, config, now, names)
    out["messages"] = [
        {
            "id": m["id"],
            "direction": m["direction"],
            "channel": m["channel"],
            "kind": m["kind"],
            "body": m["body"],
            "subject": m["subject"],
            "attachments": [
                {
                    "name": a["name"],
                    "type": a["type"],
                    "size": a["size"],
                    "url": f"/api/cases/{row['id']}/messages/{m['id']}/attachments/{n}" if a.get("file") else None,
                }
                for n, a in enumerate(json.loads(m["attachments"]))
            ],  # fmt: skip
            "at": iso(m["at"], tz),
            "by": names.get(m["by_user"]) if m["by_user"] else None,
            # out: pending (waiting for its channel), sent, failed; None when it had nowhere to go
            "delivery": m["delivery"] if m["direction"] == "out" else None,
        }
        for m in h["messages"]
    ]
    out["dispatches"] = [
        {
            "id": d["id"],
            "round": d["round"],
            "department": d["department"],
            "status": d["status"],
            "status_name": DISPATCH_STATES[d["status"]],
            "instructions": d["instructions"],
            "dispatched_at": iso(d["dispatched_at"], tz),
            "signed_at": iso(d["signed_at"], tz),
            "answer": d["answer"],
            "answered_at": iso(d["answered_at"], tz),
            "answered_by": names.get(d["answered_by"]) if d["answered_by"] else None,
            "returned_at": iso(d["returned_at"], tz),
            "return_reason": d["return_reason"],
            "extension_requested": d["extension_days"],
            "extension_reason": d["extension_reason"],
        }
        for d in h["dispatches"]
    ]
    out["visits"] = [
        {
            "round": v["round"],
            "at": iso(v["at"], tz),
            "by": names.get(v["by_user"]),
            "reached": bool(v["reached"]),
            "satisfied": None if v["satisfied"] is None else bool(v["satisfied"]),
            "note": v["note"],
        }
        for v in h["visits"]
    ]
    out["history"] = [
        {
            "action": s["action"],
            "action_name": ACTION_NAMES.get(s["action"], s["action"]),
            "from": s["status_before"],
            "to": s["status_after"],
            "at": iso(s["at"], tz),
            "by": s["by_name"],
            "detail": json.loads(s["detail"]),
        }
        for s in h["steps"]
    ]
    return out
