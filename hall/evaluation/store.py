"""All SQL of the evaluation domain."""

from __future__ import annotations

import json
from typing import Any

from ..storage import Database, Tx

Row = Any

SERVICE_COLUMNS = (
    "ticket_id", "day", "finished_at", "ticket_number", "section", "matter", "outcome", "issued_at", "called_at",
    "started_at", "window_no", "window_name", "department", "staff_user_id", "staff_no", "staff_name",
    "assisted_by", "assisted_no", "assisted_name",
)  # fmt: skip


def insert_service(tx: Tx, service: dict[str, Any]) -> bool:
    """Record a finished service once; True when it is new."""
    marks = ", ".join("?" for _ in SERVICE_COLUMNS)
    cur = tx.execute(
        f"INSERT INTO services ({', '.join(SERVICE_COLUMNS)}) VALUES ({marks}) ON CONFLICT (ticket_id) DO NOTHING",
        tuple(service[c] for c in SERVICE_COLUMNS),
    )
    if cur.rowcount == 1:
        roll_up(tx, service["day"], service, "", served=1)
        return True
    return False


def service(tx: Tx, ticket_id: int) -> Row | None:
    return tx.one("SELECT * FROM services WHERE ticket_id = ?", (ticket_id,))


def set_rated(tx: Tx, ticket_id: int, rated: int) -> None:
    tx.execute("UPDATE services SET rated = ? WHERE ticket_id = ?", (rated, ticket_id))


# bad_*: how far the follow-up cases of the bad first ratings counted here got (see
# cases.follow_up_counts): verified (replied), rectified or explained and revisited (real-name
# only), revisited with an answer, revisited and satisfied.
BAD_COUNTS = ("bad_replied", "bad_fixed", "bad_answered", "bad_satisfied")
ROLL_UP_COUNTS = ("served", "g1", "g2", "g3", "g4", "g5", "follow_ups", "real_name_bad", *BAD_COUNTS)
_ADD_COUNTS = ", ".join(f"{c} = {c} + excluded.{c}" for c in ROLL_UP_COUNTS)
_COUNT_COLUMNS = ", ".join(ROLL_UP_COUNTS)
_MARKS = ", ".join("?" for _ in range(7 + len(ROLL_UP_COUNTS)))


def roll_up(tx: Tx, day: str, s: Any, channel: str, served: int = 0, grade: int | None = None, sign: int = 1,
            follow_up: bool = False, real_name_bad: bool = False,
            bad: tuple[int, int, int, int] = (0, 0, 0, 0)) -> None:  # fmt: skip
    """Add (or, with sign -1, take back) a service or a rating in the daily and the monthly roll-up.

    The month adds the same counts under the department its day row holds (the department of the
    day's first service there), so `rating_months` is always `rating_days` summed per month.
    """
    grades = [0] * 5
    if grade is not None and not follow_up:
        grades[grade - 1] = sign
    counts = (served, *grades, sign if follow_up else 0, sign if real_name_bad else 0, *bad)
    dimensions = (s["window_no"], s["staff_user_id"] or 0, s["section"], s["matter"] or "", channel)
    department = tx.value(
        f"INSERT INTO rating_days (day, window_no, staff_user_id, section, matter, channel, department, "
        f"{_COUNT_COLUMNS}) VALUES ({_MARKS}) "
        f"ON CONFLICT (day, window_no, staff_user_id, section, matter, channel) DO UPDATE SET {_ADD_COUNTS} "
        "RETURNING department",
        (day, *dimensions, s["department"], *counts),
    )
    tx.execute(
        f"INSERT INTO rating_months (month, window_no, staff_user_id, section, matter, channel, department, "
        f"{_COUNT_COLUMNS}) VALUES ({_MARKS}) "
        "ON CONFLICT (month, window_no, staff_user_id, section, matter, channel, department) "
        f"DO UPDATE SET {_ADD_COUNTS}",
        (day[:7], *dimensions, department, *counts),
    )


def rating_for(tx: Tx, ticket_id: int, kind: str) -> Row | None:
    return tx.one("SELECT * FROM ratings WHERE ticket_id = ? AND kind = ?", (ticket_id, kind))


def insert_rating(tx: Tx, fields: dict[str, Any]) -> Row:
    columns = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    cur = tx.execute(f"INSERT INTO ratings ({columns}) VALUES ({marks})", tuple(fields.values()))
    return tx.one("SELECT * FROM ratings WHERE id = ?", (cur.lastrowid,))


def void_rating(tx: Tx, rating_id: int, reason: str, user_id: int) -> Row:
    tx.execute(
        "UPDATE ratings SET voided_at = ?, void_reason = ?, voided_by = ? WHERE id = ? AND voided_at IS NULL",
        (tx.now, reason, user_id, rating_id),
    )
    return tx.one("SELECT * FROM ratings WHERE id = ?", (rating_id,))


def rating(tx: Tx, rating_id: int) -> Row | None:
    return tx.one("SELECT * FROM ratings WHERE id = ?", (rating_id,))


def unrated_before(tx: Tx, finished_before: float, limit: int) -> list[Row]:
    return tx.all(
        "SELECT * FROM services WHERE rated = 0 AND finished_at < ? ORDER BY finished_at LIMIT ?",
        (finished_before, limit),
    )


def cursor(tx: Tx) -> int:
    return tx.value("SELECT last_event_id FROM evaluation_cursor WHERE id = 1") or 0


def set_cursor(tx: Tx, event_id: int) -> None:
    tx.execute(
        "INSERT INTO evaluation_cursor (id, last_event_id) VALUES (1, ?) "
        "ON CONFLICT (id) DO UPDATE SET last_event_id = MAX(last_event_id, excluded.last_event_id)",
        (event_id,),
    )


def log_rater_read(tx: Tx, user_id: int, rating_id: int, purpose: str) -> None:
    tx.execute(
        "INSERT INTO rater_reads (at, user_id, rating_id, purpose) VALUES (?, ?, ?, ?)",
        (tx.now, user_id, rating_id, purpose),
    )


# -- reads ---------------------------------------------------------------------------------


async def get_service(db: Database, ticket_id: int) -> Row | None:
    return await db.fetchone("SELECT * FROM services WHERE ticket_id = ?", (ticket_id,))


async def get_rating(db: Database, rating_id: int) -> Row | None:
    return await db.fetchone("SELECT * FROM ratings WHERE id = ?", (rating_id,))


async def ratings_of_ticket(db: Database, ticket_id: int) -> list[Row]:
    return await db.fetchall("SELECT * FROM ratings WHERE ticket_id = ? ORDER BY id", (ticket_id,))


FILTERS = {
    "window": "window_no = ?",
    "staff": "staff_user_id = ?",
    "department": "department = ?",
    "section": "section = ?",
    "matter": "matter = ?",
    "channel": "channel = ?",
    "kind": "kind = ?",
}
# Filters without a value: what a figure of the statistics counts.
FLAGS = {
    "bad": "grade <= 2",
    "active": "channel <> 'default'",  # given by the citizen, not the default grade
    "valid": "voided_at IS NULL",
    "voided": "voided_at IS NOT NULL",
}


async def find_ratings(
    db: Database,
    start: float,
    end: float,
    filters: dict[str, Any],
    limit: int,
    before_id: int | None,
    service_days: tuple[str, str] | None = None,
    grades: tuple[int, ...] = (),
    flags: tuple[str, ...] = (),
) -> list[Row]:
    """Ratings given in [start, end), newest first, optionally before an id (paging).

    With `service_days` (first, last), the ratings of the services of those days
    instead, as the statistics count them; `end` is then open (a rating may come
    days after its service) and `start` still bounds it (never before the service).
    """
    where, params = ["created_at >= ?"], [start]
    if service_days is None:
        where.append("created_at < ?")
        params.append(end)
    else:
        where.append("day BETWEEN ? AND ?")
        params += list(service_days)
    for key, value in filters.items():
        where.append(FILTERS[key])
        params.append(value)
    if grades:
        where.append(f"grade IN ({', '.join('?' for _ in grades)})")
        params += list(grades)
    where += [FLAGS[f] for f in flags]
    if before_id is not None:
        where.append("id < ?")
        params.append(before_id)
    return await db.fetchall(
        f"SELECT * FROM ratings WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", (*params, limit)
    )


def tags_of(row: Row) -> list[str]:
    return json.loads(row["tags"])


async def case_of_rating(db: Database, rating_id: int) -> Row | None:
    return await db.fetchone(
        "SELECT id, status, stage, result, round, due_at, overdue_stage FROM bad_reviews WHERE rating_id = ?",
        (rating_id,),
    )
