"""Today live (今日实时): the hall now, for the manager's overview (pure: no I/O).

Built from the hall overview (`overview.hall`: waiting per section from
`queue_counts`, each window's state, staff and current ticket), the oldest
waiting ticket of today per section, and today's reports by section and by
window (`stats.report` over today's events up to now). The longest current
wait of a section is now minus the issue time of its oldest waiting ticket
(a transferred ticket keeps its issue time); idle and paused time are today's,
from local midnight to now (see `stats_windows`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FIGURES = ("issued", "called", "served", "no_shows", "transfers", "wait_avg_s", "wait_max_s", "service_avg_s")


@dataclass(frozen=True)
class Oldest:
    """The oldest waiting ticket of a section today."""

    number: str
    issued_at: float


def live(
    hall: dict[str, Any],
    oldest: Mapping[str, Oldest],
    by_section: dict[str, Any],
    by_window: dict[str, Any],
    now: float,
) -> dict[str, Any]:
    sections = {g["key"]: g for g in by_section["groups"]}  # every configured section and window has a group
    windows = {g["key"]: g for g in by_window["groups"]}
    total = by_section["total"]
    return {
        "hall": hall["hall"],
        "totals": {"waiting": sum(s["waiting"] for s in hall["sections"]), **{k: total[k] for k in FIGURES}},
        "sections": [_section(s, sections[s["id"]], oldest.get(s["id"]), now) for s in hall["sections"]],
        "windows": [_window(w, windows[w["no"]]) for w in hall["windows"]],
    }


def _section(s: dict[str, Any], today: dict[str, Any], oldest: Oldest | None, now: float) -> dict[str, Any]:
    return {
        "id": s["id"],
        "name": s["name"],
        "state": s["state"],
        "waiting": s["waiting"],
        "windows_open": s["windows_open"],
        "windows": len(s["windows"]),
        "estimated_wait_s": s["estimated_wait_s"],
        "longest_wait_s": round(max(0.0, now - oldest.issued_at), 1) if oldest else None,
        "longest_number": oldest.number if oldest else None,
        **{k: today[k] for k in FIGURES},
    }


def _window(w: dict[str, Any], today: dict[str, Any]) -> dict[str, Any]:
    current = w["current"]
    return {
        "no": w["no"],
        "name": w["name"],
        "state": w["state"],
        "staff": w["staff"],
        "current": None
        if current is None
        else {
            "number": current["number"],
            "section": current["section"],
            "status": current["status"],
            "status_name": current["status_name"],
            "called_at": current["called_at"],
        },
        "held": len(w["held"]),
        **{k: today[k] for k in ("called", "served", "no_shows", "service_avg_s", "on_duty_s", "paused_s", "idle_s")},
    }
