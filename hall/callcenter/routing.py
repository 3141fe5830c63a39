"""Which agent gets a new text-channel case (WeChat, email, web): a plain function.

Only agents online (not 示忙, not 话后整理) and under their capacity qualify.
`least_busy`: the fewest open cases, ties to whoever waited longest since
their last case. `round_robin`: whoever waited longest since their last case
(never assigned first), regardless of load. Phone calls are routed by
Asterisk's own queue, not here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    user_id: int
    last_assigned_at: float | None  # None: never given a case


def choose_agent(candidates: Sequence[Candidate], loads: Mapping[int, int], policy: str, capacity: int) -> int | None:
    free = [c for c in candidates if loads.get(c.user_id, 0) < capacity]
    if not free:
        return None

    def waited(c: Candidate) -> tuple[float, int]:
        return (c.last_assigned_at if c.last_assigned_at is not None else float("-inf"), c.user_id)

    if policy == "round_robin":
        return min(free, key=waited).user_id
    return min(free, key=lambda c: (loads.get(c.user_id, 0), *waited(c))).user_id
