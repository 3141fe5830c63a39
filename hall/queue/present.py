"""How tickets and windows look in answers and events.

Personal data leaves only masked; events carry no personal data at all,
since screens in the hall receive them.
"""

from __future__ import annotations

from typing import Any

from ..clock import iso
from ..config import Config
from ..personal import mask_id_number, mask_phone
from .rules import LANES, OUTCOMES, STATUS_NAMES
from .store import Row


def public_ticket(row: Row, config: Config) -> dict[str, Any]:
    """What anyone in the hall may see of a ticket (screens, events)."""
    window = config.window(row["window_no"]) if row["window_no"] else None
    return {
        "id": row["id"],
        "number": row["number"],
        "section": row["section"],
        "status": row["status"],
        "priority": row["priority"],
        "window": row["window_no"],
        "window_name": window.name if window else None,
    }


def ticket_json(row: Row, config: Config, **extra: Any) -> dict[str, Any]:
    """The full ticket for its holder and staff; phone and ID number masked."""
    section = config.section(row["section"])
    tz = config.tz
    target = row["target_window"]
    return {
        **public_ticket(row, config),
        "section_name": section.name if section else row["section"],
        "origin_section": row["origin_section"],
        "status_name": STATUS_NAMES[row["status"]],
        "priority_name": LANES.get(row["priority"]) if row["priority"] else None,
        "channel": row["channel"],
        "day": row["day"],
        "issued_at": iso(row["issued_at"], tz),
        "called_at": iso(row["called_at"], tz),
        "started_at": iso(row["started_at"], tz),
        "finished_at": iso(row["finished_at"], tz),
        "missed_at": iso(row["missed_at"], tz),
        "held_at": iso(row["held_at"], tz),
        "recalls": row["recalls"],
        "transfers": row["transfers"],
        "target_window": target,
        "outcome": row["outcome"],
        "outcome_name": OUTCOMES.get(row["outcome"]) if row["outcome"] else None,
        "matter": row["matter"],
        "phone": mask_phone(row["phone"]),
        "id_number": mask_id_number(row["id_number"]),
        **extra,
    }


def window_json(row: Row, config: Config, current: Row | None = None, held: list[Row] = ()) -> dict[str, Any]:
    window = config.window(row["no"])
    staff = None
    if row["staff_user_id"] is not None:
        staff = {"id": row["staff_user_id"], "name": row["staff_name"], "staff_no": row["staff_no"]}
    return {
        "no": row["no"],
        "name": window.name,
        "department": window.department,
        "area": window.area,
        "sections": list(window.sections),
        "comprehensive": window.comprehensive,
        "state": row["state"],
        "staff": staff,
        "opened_at": iso(row["opened_at"], config.tz),
        "paused_at": iso(row["paused_at"], config.tz),
        "current": ticket_json(current, config) if current is not None else None,
        "held": [ticket_json(h, config) for h in held],
    }
