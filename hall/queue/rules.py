"""The calling rules, as plain functions of the waiting tickets and the window.

Order (DESIGN.md): priority tickets (绿色通道, due appointments) before
ordinary ones; within a class, first come first served across every section
the window serves. Two refinements, both from config:

* section weights: a window may favour a section. A ticket's claim is its
  waiting time multiplied by its section's weight at that window (default 1,
  so equal weights mean plain first come first served); ties go to the
  section listed first for the window, then to the earlier ticket.
* no starvation: after `max_consecutive` priority calls in a row at one
  window, that window calls one ordinary ticket if any is waiting.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Window
from ..errors import BadRequest

STATUSES = ("waiting", "called", "serving", "held", "missed", "done", "cancelled")
UNFINISHED = ("waiting", "called", "serving", "held")
CHANNELS = ("kiosk", "reception", "phone", "web", "wechat", "appointment")
LANES = {"elderly": "老年人", "disabled": "残疾人", "military": "军人", "pregnant": "孕妇", "appointment": "预约"}
OUTCOMES = {"done": "办结", "supplement": "补正材料", "rejected": "不予受理", "other": "其他"}
STATUS_NAMES = {
    "waiting": "等待中",
    "called": "已叫号",
    "serving": "办理中",
    "held": "挂起",
    "missed": "过号",
    "done": "已办结",
    "cancelled": "已取消",
}

# Services older than this do not count towards the average service time.
RECENT_S = 7 * 86400

# Which states each window action starts from.
ACTION_FROM = {
    "recall": ("called",),
    "start": ("called",),
    "no-show": ("called",),
    "hold": ("called", "serving"),
    "finish": ("called", "serving"),
    "transfer": ("called", "serving"),
}


def format_number(prefix: str, seq: int) -> str:
    """A001 … A999, then A1000: the prefix is the section letter at issue."""
    return f"{prefix}{seq:03d}"


@dataclass(frozen=True)
class Candidate:
    """A waiting ticket as the calling rule sees it."""

    id: int
    section: str
    priority_class: int
    queue_key: float
    target_window: int | None = None


def eligible(candidate: Candidate, window: Window) -> bool:
    """A ticket sent to a particular window waits for that window only."""
    if candidate.target_window is not None:
        return candidate.target_window == window.no
    return window.serves(candidate.section)


def choose_next(
    candidates: list[Candidate], window: Window, streak: int, max_consecutive: int, now: float
) -> Candidate | None:
    """The ticket `window` should call now, or None when nobody waits for it.

    `streak` is how many priority tickets the window has called in a row.
    """
    pool = [c for c in candidates if eligible(c, window)]
    priority = [c for c in pool if c.priority_class > 0]
    ordinary = [c for c in pool if c.priority_class == 0]
    if priority and (streak < max_consecutive or not ordinary):
        pool = priority
    else:
        pool = ordinary
    if not pool:
        return None
    rank = {section: i for i, section in enumerate(window.sections)}
    return min(
        pool,
        key=lambda c: (
            -window.weight(c.section) * max(0.0, now - c.queue_key),
            rank.get(c.section, len(rank)),
            c.queue_key,
            c.id,
        ),
    )


def next_streak(streak: int, called: Candidate) -> int:
    return streak + 1 if called.priority_class > 0 else 0


def requeue_key(waiting_keys: list[float], behind: int, now: float) -> float:
    """Queue position for a missed ticket put back behind `behind` people.

    `waiting_keys` are the queue keys of the waiting tickets it will join, in order.
    """
    keys = sorted(waiting_keys)
    if len(keys) <= behind:
        return max(now, keys[-1] + 1e-3) if keys else now
    if behind == 0:
        return keys[0] - 1e-3
    return (keys[behind - 1] + keys[behind]) / 2


def estimate_wait(ahead: int, average_service_s: float, windows: int) -> int:
    """Seconds until a ticket with `ahead` people before it is called."""
    return round(ahead * average_service_s / max(1, windows))


def expected_wait(ahead: int, measured_s: float | None, default_s: float, open_windows: int, serving: int) -> int:
    """The estimate shown to citizens: recent average service time (or the
    configured default when there is none) × people ahead ÷ open windows
    serving the section (all windows serving it while none is open yet)."""
    average = measured_s if measured_s is not None else default_s
    return estimate_wait(ahead, average, open_windows or serving)


def check_lane(lane: str | None, offered: tuple[str, ...]) -> None:
    if lane is not None and lane not in offered:
        names = "、".join(f"{k}({LANES[k]})" for k in offered)
        raise BadRequest("invalid_field", f"字段 priority 只能是:{names}", field="priority")
