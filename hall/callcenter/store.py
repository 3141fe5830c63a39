"""All SQL of cases (工单): cases, messages, dispatches, return visits, steps and agents' presence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..storage import Database, Tx

Row = Any
CONTACT_COLUMNS = {"phone": "contact_phone", "wechat_openid": "contact_wechat", "email": "contact_email"}


# -- writes (writer thread) -----------------------------------------------------------------------


def next_no(tx: Tx, day: str) -> str:
    """The case number: the local date and the day's sequence, 2026112300001."""
    row = tx.one(
        "INSERT INTO case_numbers (day, last) VALUES (?, 1) "
        "ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last",
        (day,),
    )
    return f"{day.replace('-', '')}{row['last']:05d}"


def insert(tx: Tx, table: str, fields: dict[str, Any]) -> int:
    """Insert a row (table and column names come from code, never from a request)."""
    columns, marks = ", ".join(fields), ", ".join("?" for _ in fields)
    return tx.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(fields.values())).lastrowid


def case(tx: Tx, case_id: int) -> Row | None:
    return tx.one("SELECT * FROM cases WHERE id = ?", (case_id,))


def update(tx: Tx, case_id: int, fields: dict[str, Any]) -> Row:
    """Set columns of a case (names come from code, never from a request), touch it and read it back."""
    assignments = "".join(f"{name} = ?, " for name in fields)
    tx.execute(f"UPDATE cases SET {assignments}updated_at = ? WHERE id = ?", (*fields.values(), tx.now, case_id))
    return case(tx, case_id)


def add_step(tx: Tx, case_id: int, action: str, before: str | None, after: str, by: Any, **detail: Any) -> None:
    """`by`: (user id, name) or (None, None) for the system."""
    tx.execute(
        "INSERT INTO case_steps (case_id, action, status_before, status_after, at, by_user, by_name, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (case_id, action, before, after, tx.now, by[0], by[1], json.dumps(detail, ensure_ascii=False)),
    )


def message_by_external(tx: Tx, channel: str, external_id: str) -> Row | None:
    return tx.one("SELECT * FROM case_messages WHERE channel = ? AND external_id = ?", (channel, external_id))


def open_case_of(tx: Tx, contact: str, value: str) -> Row | None:
    """The newest case of this contact (phone, WeChat openid or email) that is not closed."""
    column = CONTACT_COLUMNS[contact]
    return tx.one(f"SELECT * FROM cases WHERE {column} = ? AND status <> 'closed' ORDER BY id DESC LIMIT 1", (value,))


def case_by_no(tx: Tx, no: str) -> Row | None:
    return tx.one("SELECT * FROM cases WHERE no = ?", (no,))


def dispatches(tx: Tx, case_id: int, round_: int) -> list[Row]:
    return tx.all("SELECT * FROM case_dispatches WHERE case_id = ? AND round = ? ORDER BY id", (case_id, round_))


def update_dispatch(tx: Tx, dispatch_id: int, fields: dict[str, Any]) -> None:
    assignments = ", ".join(f"{name} = ?" for name in fields)
    tx.execute(f"UPDATE case_dispatches SET {assignments} WHERE id = ?", (*fields.values(), dispatch_id))


def agent_loads(tx: Tx) -> dict[int, int]:
    rows = tx.all(
        "SELECT assigned_to, COUNT(*) AS n FROM cases WHERE assigned_to IS NOT NULL AND status NOT IN "
        "('closed', 'dispatched', 'signed') GROUP BY assigned_to"
    )
    return {r["assigned_to"]: r["n"] for r in rows}


def available_agents(tx: Tx) -> list[Row]:
    """Agents online now (not busy, not in wrap-up), with when each last got a case."""
    return tx.all(
        "SELECT p.user_id, p.last_assigned_at FROM agent_presence p JOIN users u ON u.id = p.user_id "
        "WHERE p.status = 'online' AND u.active = 1 ORDER BY p.user_id"
    )


def mark_assigned(tx: Tx, user_id: int) -> None:
    tx.execute("UPDATE agent_presence SET last_assigned_at = ? WHERE user_id = ?", (tx.now, user_id))


def unassigned(tx: Tx, limit: int) -> list[Row]:
    return tx.all(
        "SELECT * FROM cases WHERE assigned_to IS NULL AND status = 'registered' ORDER BY id LIMIT ?", (limit,)
    )


def set_presence(tx: Tx, user_id: int, status: str, reason: str) -> None:
    tx.execute(
        "INSERT INTO agent_presence (user_id, status, reason, since) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, reason = excluded.reason, "
        "since = excluded.since",
        (user_id, status, reason, tx.now),
    )


def due_for(tx: Tx, flag: str, at_column: str, now: float, limit: int) -> list[Row]:
    """Open cases past `at_column` (warn_at or due_at) not yet flagged in `flag` (warned_at, overdue_at)."""
    return tx.all(
        f"SELECT * FROM cases WHERE status <> 'closed' AND {flag} IS NULL AND {at_column} IS NOT NULL "
        f"AND {at_column} <= ? ORDER BY {at_column} LIMIT ?",
        (now, limit),
    )


# -- reads (reader connections) ---------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None  # a state, "open" (not closed), "overdue" or "visit_owed"
    channel: str | None = None
    type: str | None = None
    assigned_to: int | None = None
    department: str | None = None  # cases with a live share of this department
    phone: str | None = None


def _where(f: CaseFilter, now: float) -> tuple[str, list[Any]]:
    where, params = ["1 = 1"], []
    if f.status == "open":
        where.append("status <> 'closed'")
    elif f.status == "overdue":
        where.append("status <> 'closed' AND due_at < ?")
        params.append(now)
    elif f.status == "visit_owed":
        where.append("status IN ('answered', 'reviewed')")
    elif f.status:
        where.append("status = ?")
        params.append(f.status)
    for column, value in (("channel", f.channel), ("type", f.type), ("assigned_to", f.assigned_to)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if f.phone:
        where.append("contact_phone = ?")
        params.append(f.phone)
    if f.department:
        where.append(
            "id IN (SELECT d.case_id FROM case_dispatches d JOIN cases c ON c.id = d.case_id "
            "WHERE d.department = ? AND d.round = c.round AND d.status <> 'returned')"
        )
        params.append(f.department)
    return " AND ".join(where), params


async def find(db: Database, f: CaseFilter, now: float, limit: int, offset: int) -> list[Row]:
    where, params = _where(f, now)
    return await db.fetchall(
        f"SELECT * FROM cases WHERE {where} ORDER BY (status = 'closed'), "
        "(due_at IS NULL), due_at, id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )


async def count(db: Database, f: CaseFilter, now: float) -> int:
    where, params = _where(f, now)
    return await db.fetchval(f"SELECT COUNT(*) FROM cases WHERE {where}", tuple(params))


async def get(db: Database, case_id: int) -> Row | None:
    return await db.fetchone("SELECT * FROM cases WHERE id = ?", (case_id,))


async def history(db: Database, case_id: int) -> dict[str, list[Row]]:
    """Every message, dispatch, return visit and step of a case, oldest first."""
    out = {
        "messages": await db.fetchall(
            "SELECT m.*, o.status AS delivery FROM case_messages m LEFT JOIN outbox o ON o.id = m.outbox_id "
            "WHERE m.case_id = ? ORDER BY m.id",
            (case_id,),
        )
    }
    for key, table in (
        ("dispatches", "case_dispatches"),
        ("visits", "case_visits"),
        ("steps", "case_steps"),
    ):
        out[key] = await db.fetchall(f"SELECT * FROM {table} WHERE case_id = ? ORDER BY id", (case_id,))
    return out


async def presence(db: Database) -> list[Row]:
    return await db.fetchall(
        "SELECT p.*, u.display_name, u.username, u.staff_no FROM agent_presence p JOIN users u ON u.id = p.user_id "
        "ORDER BY u.display_name"
    )


async def user_names(db: Database, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = await db.fetchall(f"SELECT id, display_name FROM users WHERE id IN ({marks})", tuple(ids))
    return {r["id"]: r["display_name"] for r in rows}


async def visit_rate(db: Database) -> Row:
    """Cases that reached the return visit: how many had one (the target is all of them)."""
    return await db.fetchone(
        "SELECT SUM(status IN ('visited', 'closed')) AS visited, "
        "SUM(status IN ('answered', 'reviewed', 'visited', 'closed')) AS due FROM cases"
    )
