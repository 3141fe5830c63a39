"""All SQL of the outbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..storage import Database, Tx


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    ref: str
    channel: str
    recipient: str
    body: dict[str, Any]
    attempts: int


def enqueue(tx: Tx, kind: str, ref: str, channel: str, recipient: str, body: dict[str, Any]) -> int | None:
    """Queue a message once per (kind, ref); None when it was queued before."""
    cur = tx.execute(
        "INSERT INTO outbox (kind, ref, channel, recipient, body, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, ref) DO NOTHING",
        (kind, ref, channel, recipient, json.dumps(body, ensure_ascii=False), tx.now, tx.now),
    )
    if cur.rowcount != 1:
        return None
    tx.emit("notification.queued", {"id": cur.lastrowid, "kind": kind, "ref": ref, "channel": channel})
    return cur.lastrowid


def mark_sent(tx: Tx, message_id: int) -> None:
    tx.execute(
        "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL "
        "WHERE id = ? AND status = 'pending'",
        (tx.now, message_id),
    )
    tx.emit("notification.sent", {"id": message_id})


def mark_failed(tx: Tx, message_id: int, error: str, retry_at: float | None) -> None:
    """Record a failed attempt; with no `retry_at` the message is given up."""
    if retry_at is None:
        tx.execute(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ? "
            "WHERE id = ? AND status = 'pending'",
            (error[:500], message_id),
        )
        tx.emit("notification.failed", {"id": message_id, "error": error[:200]})
    else:
        tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
            "WHERE id = ? AND status = 'pending'",
            (error[:500], retry_at, message_id),
        )


async def due(db: Database, now: float, limit: int) -> list[Message]:
    rows = await db.fetchall(
        "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
        (now, limit),
    )
    return [
        Message(r["id"], r["kind"], r["ref"], r["channel"], r["recipient"], json.loads(r["body"]), r["attempts"])
        for r in rows
    ]


async def next_due(db: Database) -> float | None:
    return await db.fetchval("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'")


async def get(db: Database, message_id: int) -> dict[str, Any] | None:
    row = await db.fetchone("SELECT * FROM outbox WHERE id = ?", (message_id,))
    return dict(row) if row is not None else None
