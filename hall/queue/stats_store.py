"""The SQL behind the statistics: events of a time span, staff names, the oldest waiting tickets.

Reads only, through reader connections. Events are read in pages by id, so
a year's report holds one page at a time, not the whole log, and gives the
event loop back between pages (a month of a 2,000-ticket-a-day hall, 240,000
events, took about 4 s with the loop never held much over 0.1 s).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator

from ..storage import Database, Event
from .stats import StaffName
from .stats_live import Oldest
from .stats_windows import TICKET_AT_WINDOW, WINDOW_EVENTS

# The event types any statistic looks at; the rest of the log is not read.
STAT_EVENTS = tuple(sorted({"ticket.issued", "ticket.requeued", "ticket.cancelled", *TICKET_AT_WINDOW, *WINDOW_EVENTS}))
PAGE = 1000  # events decoded and tallied between two awaits: the loop never waits long

_EVENTS_SQL = f"""
    SELECT id, type, at, payload FROM events
    WHERE id > ? AND at >= ? AND at < ? AND type IN ({", ".join("?" for _ in STAT_EVENTS)})
    ORDER BY id LIMIT ?
"""


async def events_between(db: Database, start: float, end: float, page: int = PAGE) -> AsyncIterator[list[Event]]:
    """The statistics' events with start <= at < end, in id order, a page at a time."""
    after = 0
    while True:
        rows = await db.fetchall(_EVENTS_SQL, (after, start, end, *STAT_EVENTS, page))
        if not rows:
            return
        yield _decode(rows)
        if len(rows) < page:
            return
        after = rows[-1]["id"]


def _decode(rows: list[sqlite3.Row]) -> list[Event]:
    return [Event(r["id"], r["type"], r["at"], json.loads(r["payload"])) for r in rows]


async def staff_names(db: Database) -> dict[int, StaffName]:
    """Every account's display name and 工号, by user id."""
    rows = await db.fetchall("SELECT id, display_name, staff_no FROM users")
    return {r["id"]: StaffName(r["display_name"], r["staff_no"]) for r in rows}


async def oldest_waiting(db: Database, day: str) -> dict[str, Oldest]:
    """Per section, the waiting ticket of `day` that was issued first."""
    rows = await db.fetchall(
        "SELECT t.section, t.number, t.issued_at FROM tickets t "
        "WHERE t.day = ? AND t.status = 'waiting' AND t.issued_at = ("
        "  SELECT MIN(o.issued_at) FROM tickets o WHERE o.day = t.day AND o.section = t.section"
        "  AND o.status = 'waiting') "
        "ORDER BY t.id",
        (day,),
    )
    oldest: dict[str, Oldest] = {}
    for row in rows:
        oldest.setdefault(row["section"], Oldest(row["number"], row["issued_at"]))
    return oldest
