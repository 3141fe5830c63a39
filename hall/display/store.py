"""All SQL of the display domain: the screen registry, layouts, the notice line, recent calls."""

from __future__ import annotations

import json
from typing import Any

from ..clock import at_local, local
from ..config import Config
from ..storage import Database, Event, Tx

CALL_TYPES = ("ticket.called", "ticket.recalled")


async def recent_calls(db: Database, config: Config, now: float, limit: int) -> list[Event]:
    """Today's latest calls and recalls, oldest first."""
    midnight = at_local(local(now, config.tz).date(), 0, config.tz).timestamp()
    rows = await db.fetchall(
        "SELECT id, type, at, payload FROM events WHERE at >= ? AND type IN (?, ?) ORDER BY id DESC LIMIT ?",
        (midnight, *CALL_TYPES, limit),
    )
    return [Event(r["id"], r["type"], r["at"], json.loads(r["payload"])) for r in reversed(rows)]


# -- the notice line (通知公告) ------------------------------------------------------


async def notice(db: Database) -> str:
    return await db.fetchval("SELECT text FROM notices WHERE id = 1") or ""


def set_notice(tx: Tx, text: str, user_id: int) -> str:
    tx.execute(
        "INSERT INTO notices (id, text, updated_at, updated_by) VALUES (1, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at, "
        "updated_by = excluded.updated_by",
        (text, tx.now, user_id),
    )
    tx.emit("notice.updated", {"text": text})
    return text


# -- layouts set on the manager page -------------------------------------------------------


async def layouts(db: Database) -> dict[int, dict[str, Any]]:
    rows = await db.fetchall("SELECT device_id, layout FROM screen_layouts")
    return {r["device_id"]: json.loads(r["layout"]) for r in rows}


def set_layout(tx: Tx, device_id: int, layout: dict[str, Any], user_id: int) -> None:
    tx.execute(
        "INSERT INTO screen_layouts (device_id, layout, updated_at, updated_by) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (device_id) DO UPDATE SET layout = excluded.layout, updated_at = excluded.updated_at, "
        "updated_by = excluded.updated_by",
        (device_id, json.dumps(layout, ensure_ascii=False), tx.now, user_id),
    )
    tx.emit("screen.layout_changed", {"device_id": device_id, "layout": layout})


# -- the registry ----------------------------------------------------------------------------


def screen_connected(
    tx: Tx, device_id: int, name: str, kind: str, version: str, address: str, last_event_id: int
) -> None:
    """A screen or agent said hello: it is online now."""
    was = tx.one("SELECT online, warned FROM screens WHERE device_id = ?", (device_id,))
    tx.execute(
        "INSERT INTO screens (device_id, name, kind, version, address, last_event_id, online, connected_at, "
        "last_seen_at, offline_since, warned) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, NULL, 0) "
        "ON CONFLICT (device_id) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
        "version = excluded.version, address = excluded.address, last_event_id = excluded.last_event_id, "
        "online = 1, connected_at = excluded.connected_at, last_seen_at = excluded.last_seen_at, "
        "offline_since = NULL, warned = 0",
        (device_id, name, kind, version, address, last_event_id, tx.now, tx.now),
    )
    if was is None or not was["online"]:
        tx.emit(
            "screen.online",
            {"device_id": device_id, "name": name, "kind": kind, "was_warned": bool(was and was["warned"])},
        )


def screen_disconnected(tx: Tx, device_id: int, last_event_id: int) -> None:
    tx.execute(
        "UPDATE screens SET online = 0, offline_since = ?, last_seen_at = ?, last_event_id = MAX(last_event_id, ?) "
        "WHERE device_id = ? AND online = 1",
        (tx.now, tx.now, last_event_id, device_id),
    )


def screen_offline_warning(tx: Tx, device_id: int) -> bool:
    """Warn managers of a screen still offline; once per outage. True when the warning was raised."""
    row = tx.one("SELECT name, kind, online, warned, offline_since FROM screens WHERE device_id = ?", (device_id,))
    if row is None or row["online"] or row["warned"]:
        return False
    tx.execute("UPDATE screens SET warned = 1 WHERE device_id = ?", (device_id,))
    tx.emit(
        "screen.offline",
        {"device_id": device_id, "name": row["name"], "kind": row["kind"], "since": row["offline_since"]},
    )
    return True


def screens_reset(tx: Tx) -> list[int]:
    """On start: whatever was online belonged to the previous process; it is offline now."""
    ids = [r[0] for r in tx.all("SELECT device_id FROM screens WHERE online = 1")]
    tx.execute("UPDATE screens SET online = 0, offline_since = ? WHERE online = 1", (tx.now,))
    return ids


async def registry(db: Database) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT s.*, d.window_no, d.revoked_at FROM screens s JOIN devices d ON d.id = s.device_id ORDER BY s.name"
    )
    return [dict(r) for r in rows]
