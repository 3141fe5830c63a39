"""Read models: the hall at a glance, one window's desk, one ticket's wait."""

from __future__ import annotations

from typing import Any

from ..calendar import is_issuing, next_opening
from ..clock import business_day, iso, local
from ..config import Config
from ..storage import Database
from . import store
from .present import ticket_json, window_json
from .rules import RECENT_S, UNFINISHED, expected_wait


async def hall(db: Database, config: Config, now: float) -> dict[str, Any]:
    tz = config.tz
    day = business_day(now, tz)
    moment = local(now, tz)
    counts = await store.section_counts(db, day)
    measured = await store.average_services(
        db, [s.id for s in config.sections], now - RECENT_S, config.queue.estimate_sample
    )
    rows = {r["no"]: r for r in await store.windows_state(db)}
    current, held = _by_window(await store.windows_tickets(db, day))
    windows = [
        window_json(rows[w.no], config, current.get(w.no), held.get(w.no, [])) for w in config.windows if w.no in rows
    ]
    open_nos = {w["no"] for w in windows if w["state"] == "open"}
    sections = []
    for s in config.sections:
        waiting = counts.get(s.id, {}).get("waiting", 0)
        issued = counts.get(s.id, {}).get("issued", 0)
        serving = config.serving(s.id)
        opened = sum(1 for no in serving if no in open_nos)
        if issued >= s.daily_cap:
            state = "full"
        elif is_issuing(s, moment, config):
            state = "open"
        else:
            state = "closed"
        opens = next_opening(s, moment, config) if state == "closed" else None
        sections.append(
            {
                "id": s.id,
                "name": s.name,
                "state": state,
                "waiting": waiting,
                "issued": issued,
                "daily_cap": s.daily_cap,
                "id_required": s.id_required,
                "remaining": max(0, s.daily_cap - issued),
                "warn_at": s.warn_at,
                "warning": issued >= s.warn_at,
                "hours": s.hours_text(),
                "opens_at": opens.isoformat() if opens else None,
                "windows": list(serving),
                "windows_open": opened,
                "average_service_s": round(measured[s.id]) if s.id in measured else None,
                "estimated_wait_s": expected_wait(
                    waiting, measured.get(s.id), config.service_seconds(s), opened, len(serving)
                ),
            }
        )
    return {
        "hall": {"name": config.name, "day": day, "now": iso(now, tz), "timezone": config.timezone},
        "sections": sections,
        "windows": windows,
    }


def _by_window(rows: list[store.Row]) -> tuple[dict[int, store.Row], dict[int, list[store.Row]]]:
    current: dict[int, store.Row] = {}
    held: dict[int, list[store.Row]] = {}
    for row in rows:
        if row["status"] == "held":
            held.setdefault(row["window_no"], []).append(row)
        else:
            current[row["window_no"]] = row
    return current, held


async def ticket_with_wait(db: Database, config: Config, row: store.Row, now: float) -> dict[str, Any]:
    """A ticket as its holder sees it: with people ahead and the expected wait while it waits.

    A ticket of an earlier day that was never served has expired: it is kept,
    but nobody will call it any more.
    """
    expired = row["day"] != business_day(now, config.tz) and row["status"] in UNFINISHED
    extra: dict[str, Any] = {"ahead": None, "estimated_wait_s": None, "expired": expired}
    section = config.section(row["section"])
    if row["status"] == "waiting" and section is not None and not expired:
        ahead = await store.ahead_of(db, row)
        serving = config.serving(section.id)
        measured = (await store.average_services(db, [section.id], now - RECENT_S, config.queue.estimate_sample)).get(
            section.id
        )
        states = {r["no"]: r["state"] for r in await store.windows_state(db)}
        opened = sum(1 for no in serving if states.get(no) == "open")
        extra = {
            **extra,
            "ahead": ahead,
            "estimated_wait_s": expected_wait(ahead, measured, config.service_seconds(section), opened, len(serving)),
        }
    return ticket_json(row, config, **extra)


async def window_detail(db: Database, config: Config, no: int, now: float) -> dict[str, Any]:
    """What the window caller shows: the window, its queue, its missed and held tickets."""
    window = config.window(no)
    day = business_day(now, config.tz)
    rows = {r["no"]: r for r in await store.windows_state(db)}
    current, held = _by_window([r for r in await store.windows_tickets(db, day) if r["window_no"] == no])
    waiting = await store.waiting_for(db, day, window.sections, no, 100)
    grace = config.queue.no_show_grace_minutes * 60
    missed = await store.missed_since(db, day, window.sections, now - grace)
    return {
        "window": window_json(rows[no], config, current.get(no), held.get(no, [])),
        "waiting": [ticket_json(r, config) for r in waiting],
        "missed": [ticket_json(r, config) for r in missed],
    }
