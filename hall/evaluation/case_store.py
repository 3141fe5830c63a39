"""All SQL of bad-review cases (`bad_reviews`, `bad_review_steps`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..storage import Database, Tx

Row = Any


def insert_case(tx: Tx, fields: dict[str, Any]) -> int:
    columns = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    return tx.execute(f"INSERT INTO bad_reviews ({columns}) VALUES ({marks})", tuple(fields.values())).lastrowid


def case(tx: Tx, case_id: int) -> Row | None:
    return tx.one("SELECT * FROM bad_reviews WHERE id = ?", (case_id,))


def case_of_rating(tx: Tx, rating_id: int) -> Row | None:
    return tx.one("SELECT * FROM bad_reviews WHERE rating_id = ?", (rating_id,))


def update(tx: Tx, case_id: int, fields: dict[str, Any]) -> Row:
    """Set columns of a case (names come from code, never from a request) and read it back."""
    assignments = ", ".join(f"{name} = ?" for name in fields)
    tx.execute(f"UPDATE bad_reviews SET {assignments} WHERE id = ?", (*fields.values(), case_id))
    return case(tx, case_id)


def add_step(tx: Tx, row: Row, action: str, by: tuple[int | None, str | None], **detail: Any) -> None:
    """Keep a step of the case (`row` as it was before it) with its note: the history a reopened
    round does not overwrite."""
    tx.execute(
        "INSERT INTO bad_review_steps (case_id, round, stage, action, at, by_user, by_name, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (row["id"], row["round"], row["stage"], action, tx.now, by[0], by[1], json.dumps(detail, ensure_ascii=False)),
    )


def due_unflagged(tx: Tx, now: float, limit: int) -> list[Row]:
    """Cases whose current stage is past its deadline and not flagged yet, oldest deadline first."""
    return tx.all(
        "SELECT * FROM bad_reviews WHERE due_at < ? AND stage IS NOT NULL AND overdue_stage IS NULL "
        "ORDER BY due_at LIMIT ?",
        (now, limit),
    )


# -- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None  # a status, "active" (not closed nor void) or "overdue"
    overdue: bool = False
    department: str | None = None
    opened_from: float | None = None
    opened_before: float | None = None


def _where(f: CaseFilter, now: float) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if f.status in ("active", "overdue"):
        where.append("stage IS NOT NULL")
    elif f.status is not None:
        where.append("status = ?")
        params.append(f.status)
    if f.overdue or f.status == "overdue":
        where.append("stage IS NOT NULL AND due_at < ?")
        params.append(now)
    if f.department:
        where.append("department = ?")
        params.append(f.department)
    if f.opened_from is not None:
        where.append("opened_at >= ?")
        params.append(f.opened_from)
    if f.opened_before is not None:
        where.append("opened_at < ?")
        params.append(f.opened_before)
    return (" WHERE " + " AND ".join(where)) if where else "", params


async def find_cases(db: Database, f: CaseFilter, now: float, limit: int, offset: int) -> list[Row]:
    """Overdue cases first (the most overdue on top), then open ones by deadline, then the closed, newest first."""
    where, params = _where(f, now)
    return await db.fetchall(
        f"SELECT * FROM bad_reviews{where} ORDER BY "
        "CASE WHEN stage IS NOT NULL AND due_at < ? THEN 0 WHEN stage IS NOT NULL THEN 1 ELSE 2 END, "
        "COALESCE(due_at, -closed_at, 0), id DESC LIMIT ? OFFSET ?",
        (*params, now, limit, offset),
    )


async def count_cases(db: Database, f: CaseFilter, now: float) -> int:
    where, params = _where(f, now)
    return await db.fetchval(f"SELECT COUNT(*) FROM bad_reviews{where}", tuple(params))


async def get_case(db: Database, case_id: int) -> Row | None:
    return await db.fetchone("SELECT * FROM bad_reviews WHERE id = ?", (case_id,))


def _marks(ids: list[int]) -> str:
    return ", ".join("?" for _ in ids)


async def ratings_by_id(db: Database, ids: list[int]) -> dict[int, Row]:
    if not ids:
        return {}
    rows = await db.fetchall(f"SELECT * FROM ratings WHERE id IN ({_marks(ids)})", tuple(ids))
    return {r["id"]: r for r in rows}


async def steps_of(db: Database, case_ids: list[int]) -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = {i: [] for i in case_ids}
    if case_ids:
        rows = await db.fetchall(
            f"SELECT * FROM bad_review_steps WHERE case_id IN ({_marks(case_ids)}) ORDER BY id", tuple(case_ids)
        )
        for r in rows:
            out[r["case_id"]].append(r)
    return out


async def departments(db: Database) -> list[str]:
    rows = await db.fetchall("SELECT DISTINCT department FROM bad_reviews ORDER BY department")
    return [r[0] for r in rows]
