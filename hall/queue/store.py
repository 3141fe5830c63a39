"""All SQL of the queue domain.

Functions taking `tx` run inside a writer unit; functions taking `db` read
through a reader connection. Plain SQL, so a PostgreSQL store is a sibling
module, not a rewrite.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..storage import Database, Tx

Row = sqlite3.Row

# A waiting ticket's position in its section: tickets of a higher class, or
# of its class and earlier in the queue, are called before it. (A comprehensive
# window may still call another section first: it is an estimate.)
AHEAD_SQL = """
    SELECT COUNT(*) FROM tickets
    WHERE day = :day AND section = :section AND status = 'waiting' AND id != :id
      AND (priority_class > :class
           OR (priority_class = :class AND (queue_key < :key OR (queue_key = :key AND id < :id))))
"""

AVERAGE_SERVICE_SQL = """
    SELECT AVG(d), COUNT(*) FROM (
        SELECT finished_at - COALESCE(started_at, called_at) AS d FROM tickets
        WHERE section = ? AND status = 'done' AND finished_at > ? AND called_at IS NOT NULL
        ORDER BY finished_at DESC LIMIT ?
    )
"""


def ahead_params(row: Row | dict[str, Any]) -> dict[str, Any]:
    return {
        "day": row["day"],
        "section": row["section"],
        "id": row["id"],
        "class": row["priority_class"],
        "key": row["queue_key"],
    }


# -- tickets: writes ----------------------------------------------------------------


def ticket(tx: Tx, ticket_id: int) -> Row | None:
    return tx.one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))


def ticket_by_request(tx: Tx, issuer: str, request_id: str) -> Row | None:
    return tx.one("SELECT * FROM tickets WHERE issuer = ? AND request_id = ?", (issuer, request_id))


def last_seq(tx: Tx, day: str, prefix: str) -> int:
    return tx.value("SELECT COALESCE(MAX(seq), 0) FROM tickets WHERE day = ? AND prefix = ?", (day, prefix))


def holds_unfinished(tx: Tx, day: str, section: str, column: str, value: str) -> bool:
    assert column in ("id_number", "phone")
    return (
        tx.one(
            f"SELECT 1 FROM tickets WHERE {column} = ? AND day = ? AND section = ? "
            "AND status IN ('waiting', 'called', 'serving', 'held') LIMIT 1",
            (value, day, section),
        )
        is not None
    )


def insert_ticket(tx: Tx, fields: dict[str, Any]) -> Row:
    columns = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    cur = tx.execute(f"INSERT INTO tickets ({columns}) VALUES ({marks})", tuple(fields.values()))
    row = ticket(tx, cur.lastrowid)
    _count_waiting(tx, None, row)
    return row


def update_ticket(tx: Tx, ticket_id: int, expect: tuple[str, ...], **fields: Any) -> Row:
    """Change a ticket only if it is still in one of the `expect` states."""
    before = ticket(tx, ticket_id)
    assignments = ", ".join(f"{k} = ?" for k in fields)
    marks = ", ".join("?" for _ in expect)
    cur = tx.execute(
        f"UPDATE tickets SET {assignments} WHERE id = ? AND status IN ({marks})",
        (*fields.values(), ticket_id, *expect),
    )
    if cur.rowcount != 1:
        raise RuntimeError(f"ticket {ticket_id} left states {expect} under the writer")
    after = ticket(tx, ticket_id)
    _count_waiting(tx, before, after)
    return after


def _count_waiting(tx: Tx, before: Row | None, after: Row) -> None:
    """Keep queue_counts equal to the waiting tickets per day, section and class."""
    old = (
        (before["day"], before["section"], before["priority_class"])
        if before and before["status"] == "waiting"
        else None
    )
    new = (after["day"], after["section"], after["priority_class"]) if after["status"] == "waiting" else None
    if old == new:
        return
    if old is not None:
        tx.execute(
            "UPDATE queue_counts SET waiting = waiting - 1 WHERE day = ? AND section = ? AND priority_class = ?", old
        )
    if new is not None:
        tx.execute(
            "INSERT INTO queue_counts (day, section, priority_class, waiting) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (day, section, priority_class) DO UPDATE SET waiting = waiting + 1",
            new,
        )


def waiting_count(tx: Tx, day: str, section: str, min_class: int) -> int:
    """Tickets waiting in a section with at least `min_class` priority."""
    return tx.value(
        "SELECT COALESCE(SUM(waiting), 0) FROM queue_counts WHERE day = ? AND section = ? AND priority_class >= ?",
        (day, section, min_class),
    )


def count_ahead(tx: Tx, row: Row) -> int:
    return tx.value(AHEAD_SQL, ahead_params(row))


def average_service(tx: Tx, section: str, since: float, sample: int) -> float | None:
    avg, count = tx.one(AVERAGE_SERVICE_SQL, (section, since, sample))
    return avg if count else None


def queue_head(tx: Tx, day: str, section: str, priority_class: int, window_no: int) -> Row | None:
    return tx.one(
        "SELECT id, section, priority_class, queue_key, target_window FROM tickets "
        "WHERE day = ? AND section = ? AND status = 'waiting' AND priority_class = ? "
        "AND (target_window IS NULL OR target_window = ?) ORDER BY queue_key, id LIMIT 1",
        (day, section, priority_class, window_no),
    )


def targeted_at(tx: Tx, day: str, window_no: int) -> list[Row]:
    return tx.all(
        "SELECT id, section, priority_class, queue_key, target_window FROM tickets "
        "WHERE target_window = ? AND status = 'waiting' AND day = ?",
        (window_no, day),
    )


def waiting_keys(tx: Tx, day: str, section: str, priority_class: int) -> list[float]:
    rows = tx.all(
        "SELECT queue_key FROM tickets WHERE day = ? AND section = ? AND status = 'waiting' "
        "AND priority_class = ? ORDER BY queue_key",
        (day, section, priority_class),
    )
    return [r[0] for r in rows]


def queue_front(tx: Tx, day: str, section: str, limit: int) -> list[Row]:
    """The first waiting tickets of a section, in the order AHEAD_SQL counts them."""
    return tx.all(
        "SELECT id, number, phone FROM tickets WHERE day = ? AND section = ? AND status = 'waiting' "
        "ORDER BY priority_class DESC, queue_key, id LIMIT ?",
        (day, section, limit),
    )


def current_ticket(tx: Tx, window_no: int) -> Row | None:
    return tx.one("SELECT * FROM tickets WHERE window_no = ? AND status IN ('called', 'serving')", (window_no,))


# -- windows: writes -------------------------------------------------------------------


def ensure_windows(tx: Tx, numbers: list[int]) -> None:
    """Give every window of the config its runtime row (closed) on start."""
    known = {r[0] for r in tx.all("SELECT no FROM windows")}
    for no in numbers:
        if no not in known:
            tx.execute("INSERT INTO windows (no) VALUES (?)", (no,))
            tx.emit("window.added", {"window": {"no": no}})


def window(tx: Tx, no: int) -> Row | None:
    return tx.one(
        "SELECT w.*, u.display_name AS staff_name, u.staff_no, u.username AS staff_username "
        "FROM windows w LEFT JOIN users u ON u.id = w.staff_user_id WHERE w.no = ?",
        (no,),
    )


def window_of_staff(tx: Tx, user_id: int) -> int | None:
    return tx.value("SELECT no FROM windows WHERE staff_user_id = ?", (user_id,))


def open_windows(tx: Tx, numbers: tuple[int, ...]) -> int:
    if not numbers:
        return 0
    marks = ", ".join("?" for _ in numbers)
    return tx.value(f"SELECT COUNT(*) FROM windows WHERE state = 'open' AND no IN ({marks})", numbers)


def update_window(tx: Tx, no: int, **fields: Any) -> None:
    assignments = ", ".join(f"{k} = ?" for k in fields)
    tx.execute(f"UPDATE windows SET {assignments} WHERE no = ?", (*fields.values(), no))


def user_at(tx: Tx, ref: str) -> Row | None:
    """An active user named by username or staff number."""
    return tx.one(
        "SELECT id, username, display_name, staff_no FROM users WHERE active = 1 AND (username = ? OR staff_no = ?)",
        (ref, ref),
    )


# -- reads ------------------------------------------------------------------------------


async def get_ticket(db: Database, ticket_id: int) -> Row | None:
    return await db.fetchone("SELECT * FROM tickets WHERE id = ?", (ticket_id,))


async def get_ticket_by_token(db: Database, token: str) -> Row | None:
    return await db.fetchone("SELECT * FROM tickets WHERE token = ?", (token,))


async def ahead_of(db: Database, row: Row) -> int:
    return await db.fetchval(AHEAD_SQL, ahead_params(row))


async def list_tickets(db: Database, day: str, section: str | None, status: str | None, limit: int) -> list[Row]:
    where, params = ["day = ?"], [day]
    if section:
        where.append("section = ?")
        params.append(section)
    if status:
        where.append("status = ?")
        params.append(status)
    return await db.fetchall(
        f"SELECT * FROM tickets WHERE {' AND '.join(where)} ORDER BY priority_class DESC, queue_key, id LIMIT ?",
        (*params, limit),
    )


async def section_counts(db: Database, day: str) -> dict[str, dict[str, int]]:
    """Per section: tickets waiting now, and numbers issued today (by prefix)."""
    counts: dict[str, dict[str, int]] = {}
    for row in await db.fetchall(
        "SELECT section, SUM(waiting) FROM queue_counts WHERE day = ? GROUP BY section", (day,)
    ):
        counts.setdefault(row[0], {})["waiting"] = row[1]
    for row in await db.fetchall("SELECT prefix, MAX(seq) FROM tickets WHERE day = ? GROUP BY prefix", (day,)):
        counts.setdefault(row[0], {})["issued"] = row[1]
    return counts


async def average_services(db: Database, sections: list[str], since: float, sample: int) -> dict[str, float]:
    out = {}
    for section in sections:
        avg, count = await db.fetchone(AVERAGE_SERVICE_SQL, (section, since, sample))
        if count:
            out[section] = avg
    return out


async def windows_state(db: Database) -> list[Row]:
    return await db.fetchall(
        "SELECT w.*, u.display_name AS staff_name, u.staff_no, u.username AS staff_username "
        "FROM windows w LEFT JOIN users u ON u.id = w.staff_user_id ORDER BY w.no"
    )


async def windows_tickets(db: Database, day: str) -> list[Row]:
    """Tickets windows hold now: the current one, and held ones."""
    return await db.fetchall(
        "SELECT * FROM tickets WHERE window_no IS NOT NULL AND status IN ('called', 'serving', 'held') AND day = ?",
        (day,),
    )


async def missed_since(db: Database, day: str, sections: tuple[str, ...], since: float) -> list[Row]:
    marks = ", ".join("?" for _ in sections)
    return await db.fetchall(
        f"SELECT * FROM tickets WHERE day = ? AND status = 'missed' AND section IN ({marks}) AND missed_at >= ? "
        "ORDER BY missed_at",
        (day, *sections, since),
    )


async def waiting_for(db: Database, day: str, sections: tuple[str, ...], window_no: int, limit: int) -> list[Row]:
    """The first `limit` tickets waiting for a window, in calling order by class and time.

    One indexed read per section (each in queue order) plus the tickets sent to
    this window, merged here: never a sort of the whole day's tickets.
    """
    rows = await db.fetchall(
        "SELECT * FROM tickets WHERE target_window = ? AND status = 'waiting' AND day = ?", (window_no, day)
    )
    for section in sections:
        rows += await db.fetchall(
            "SELECT * FROM tickets WHERE day = ? AND section = ? AND status = 'waiting' AND target_window IS NULL "
            "ORDER BY priority_class DESC, queue_key, id LIMIT ?",
            (day, section, limit),
        )
    rows.sort(key=lambda r: (-r["priority_class"], r["queue_key"], r["id"]))
    return rows[:limit]


# Where queue_counts disagrees with the tickets: empty when right (a consistency check).
COUNTS_DRIFT_SQL = """
    SELECT COALESCE(t.day, c.day) AS day, COALESCE(t.section, c.section) AS section,
           COALESCE(t.priority_class, c.priority_class) AS priority_class,
           COALESCE(t.n, 0) AS actual, COALESCE(c.waiting, 0) AS counted
    FROM (SELECT day, section, priority_class, COUNT(*) AS n FROM tickets WHERE status = 'waiting'
          GROUP BY day, section, priority_class) t
    FULL OUTER JOIN queue_counts c
      ON c.day = t.day AND c.section = t.section AND c.priority_class = t.priority_class
    WHERE COALESCE(t.n, 0) != COALESCE(c.waiting, 0)
"""


async def counts_drift(db: Database) -> list[tuple]:
    return [tuple(r) for r in await db.fetchall(COUNTS_DRIFT_SQL)]
