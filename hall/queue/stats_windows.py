"""How long each window, and each staff member at a window, was on duty, paused and idle.

A pure replay of the event log, in id order, clipped to a time span:

* on duty (在岗): from `window.opened` to `window.closed`, whether open or paused;
* paused (暂停): from `window.paused` to `window.resumed` or `window.closed`;
* idle (空闲): open (not paused) with no called or serving ticket at the window.
  A ticket is at the window from its `ticket.called` (a call back included)
  until it is finished, missed, held or transferred there.

Time counts for the staff member on duty at the window, as named by the
window events. Events before the span only set the state the span starts
with. When the first event seen of a window is not `window.opened`, the state
before it is inferred from it (a `window.paused` means the window was open, a
`ticket.finished` that it was open with a ticket at it, …), so a window left
open overnight is counted from the start of the span as long as the event
log given here reaches back to an event of that window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..storage import Event

WINDOW_EVENTS = ("window.opened", "window.paused", "window.resumed", "window.closed")
TICKET_AT_WINDOW = (
    "ticket.called",
    "ticket.recalled",
    "ticket.started",
    "ticket.finished",
    "ticket.missed",
    "ticket.held",
    "ticket.transferred",
)
RELEASES = ("ticket.finished", "ticket.missed", "ticket.held", "ticket.transferred")
_STATE_AFTER = {"window.opened": "open", "window.paused": "paused", "window.resumed": "open", "window.closed": "closed"}

# The state a window must have been in just before the first event seen of it: (state, a ticket at it).
_BEFORE = {
    "window.opened": ("closed", False),
    "window.paused": ("open", False),
    "window.resumed": ("paused", False),
    "window.closed": ("open", False),
    "ticket.called": ("open", False),
}


@dataclass
class Times:
    on_duty_s: float = 0.0
    paused_s: float = 0.0
    idle_s: float = 0.0

    def add(self, state: str, busy: bool, seconds: float) -> None:
        self.on_duty_s += seconds
        if state == "paused":
            self.paused_s += seconds
        elif not busy:
            self.idle_s += seconds

    def as_json(self) -> dict[str, float]:
        return {
            "on_duty_s": round(self.on_duty_s, 1),
            "paused_s": round(self.paused_s, 1),
            "idle_s": round(self.idle_s, 1),
        }


@dataclass
class _Window:
    state: str
    busy: bool
    staff: int | None = None
    since: float = float("-inf")


class WindowClock:
    """Feed events in id order with `add`, then `stop()` once; read `by_window` and `by_staff`."""

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end
        self.by_window: dict[int, Times] = {}
        self.by_staff: dict[int, Times] = {}
        self._windows: dict[int, _Window] = {}

    def add(self, event: Event) -> None:
        if event.type not in WINDOW_EVENTS and event.type not in TICKET_AT_WINDOW:
            return
        payload = event.payload
        no = (payload.get("window") or {}).get("no")
        if no is None:
            return
        window = self._windows.get(no)
        if window is None:
            state, busy = _BEFORE.get(event.type, ("open", True))
            window = self._windows[no] = _Window(state, busy)
        self._advance(no, window, event.at)
        self._apply(window, event.type, payload)

    def stop(self) -> None:
        """Count every window up to the end of the span."""
        for no, window in self._windows.items():
            self._advance(no, window, self.end)

    def _advance(self, no: int, window: _Window, at: float) -> None:
        seconds = min(at, self.end) - max(window.since, self.start)
        if seconds > 0 and window.state != "closed":
            self.by_window.setdefault(no, Times()).add(window.state, window.busy, seconds)
            if window.staff is not None:
                self.by_staff.setdefault(window.staff, Times()).add(window.state, window.busy, seconds)
        window.since = max(window.since, at)

    @staticmethod
    def _apply(window: _Window, type_: str, payload: dict[str, Any]) -> None:
        if type_ in WINDOW_EVENTS:
            staff = payload["window"].get("staff")
            if staff is not None:
                window.staff = staff["id"]
            window.state = _STATE_AFTER[type_]
            if type_ == "window.opened":
                window.busy = False
            elif type_ == "window.closed":
                window.busy, window.staff = False, None
            return
        if payload.get("staff") is not None:
            window.staff = payload["staff"]
        if window.state == "closed":  # a window that acts on tickets is open
            window.state = "open"
        window.busy = type_ not in RELEASES


def window_times(events: list[Event], start: float, end: float) -> WindowClock:
    """Replay `events` (in id order) and count on-duty, paused and idle time within [start, end)."""
    clock = WindowClock(start, end)
    for event in events:
        clock.add(event)
    clock.stop()
    return clock
