"""All SQL of appointments (预约).

Functions taking `tx` run inside a writer unit; functions taking `db` read
through a reader connection. A booking is read with the number of the
ticket its check-in gave, if any.
"""

from __future__ import annotations

from typing import Any

from ..storage import Database, Tx
from .store import Row

SELECT = "SELECT a.*, t.number AS ticket_number FROM appointments a LEFT JOIN tickets t ON t.id = a.ticket_id"

# Cancelled bookings give their place back; every other booking holds it.
TAKEN_SQL = (
    "SELECT COUNT(*) FROM appointments WHERE day = ? AND section = ? AND slot_start = ? AND status != 'cancelled'"
)


# -- writes -----------------------------------------------------------------------


def by_id(tx: Tx, appointment_id: int) -> Row | None:
    return tx.one(f"{SELECT} WHERE a.id = ?", (appointment_id,))


def by_code(tx: Tx, code: str) -> Row | None:
    return tx.one(f"{SELECT} WHERE a.code = ?", (code,))


def code_exists(tx: Tx, code: str) -> bool:
    return tx.one("SELECT 1 FROM appointments WHERE code = ?", (code,)) is not None


def taken(tx: Tx, day: str, section: str, slot_start: int) -> int:
    return tx.value(TAKEN_SQL, (day, section, slot_start))


def active_in_section(tx: Tx, id_number: str, day: str, section: str) -> Row | None:
    return tx.one(
        f"{SELECT} WHERE a.id_number = ? AND a.day = ? AND a.section = ? AND a.status IN ('booked', 'checked_in')",
        (id_number, day, section),
    )


def active_on_day(tx: Tx, id_number: str, day: str) -> int:
    return tx.value(
        "SELECT COUNT(*) FROM appointments WHERE id_number = ? AND day = ? AND status IN ('booked', 'checked_in')",
        (id_number, day),
    )


def of_phone_on(tx: Tx, phone: str, day: str) -> list[Row]:
    """A phone's bookings of a day that are booked or checked in, by slot."""
    return tx.all(
        f"{SELECT} WHERE a.phone = ? AND a.day = ? AND a.status IN ('booked', 'checked_in') "
        "ORDER BY a.slot_start, a.id",
        (phone, day),
    )


def booked_until(tx: Tx, day: str) -> list[Row]:
    """Bookings not checked in, cancelled or recorded as no-shows, of `day` and earlier."""
    return tx.all(f"{SELECT} WHERE a.status = 'booked' AND a.day <= ? ORDER BY a.day, a.id", (day,))


def insert(tx: Tx, fields: dict[str, Any]) -> Row:
    columns = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    cur = tx.execute(f"INSERT INTO appointments ({columns}) VALUES ({marks})", tuple(fields.values()))
    return by_id(tx, cur.lastrowid)


def update(tx: Tx, appointment_id: int, expect: str, **fields: Any) -> Row:
    """Change a booking only if it is still in state `expect`."""
    assignments = ", ".join(f"{k} = ?" for k in fields)
    cur = tx.execute(
        f"UPDATE appointments SET {assignments} WHERE id = ? AND status = ?",
        (*fields.values(), appointment_id, expect),
    )
    if cur.rowcount != 1:
        raise RuntimeError(f"appointment {appointment_id} left state {expect} under the writer")
    return by_id(tx, appointment_id)


# -- reads ------------------------------------------------------------------------


async def get_by_code(db: Database, code: str) -> Row | None:
    return await db.fetchone(f"{SELECT} WHERE a.code = ?", (code,))


async def taken_per_slot(db: Database, day: str, section: str) -> dict[int, int]:
    rows = await db.fetchall(
        "SELECT slot_start, COUNT(*) FROM appointments WHERE day = ? AND section = ? AND status != 'cancelled' "
        "GROUP BY slot_start",
        (day, section),
    )
    return {r[0]: r[1] for r in rows}


async def list_day(db: Database, day: str, section: str | None, status: str | None) -> list[Row]:
    where, params = ["a.day = ?"], [day]
    if section:
        where.append("a.section = ?")
        params.append(section)
    if status:
        where.append("a.status = ?")
        params.append(status)
    return await db.fetchall(
        f"{SELECT} WHERE {' AND '.join(where)} ORDER BY a.section, a.slot_start, a.booked_at, a.id", tuple(params)
    )
