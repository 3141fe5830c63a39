"""Hall statistics for managers, derived from the event log (pure: no I/O).

A report covers local dates `first`…`last` in the hall's time zone: the span
[local midnight of `first`, local midnight after `last`), cut at `now` for
time on duty. Every figure counts the events *in the span*, grouped by
section, window or staff member (user id):

* issued (已取号): `ticket.issued`, for the section it was issued in.
* called (已叫号) and wait (平均 / 最长等候): a ticket's *first*
  `ticket.called` minus its `ticket.issued`, counted when that first call
  is in the span, for the section the ticket was issued in and for the
  window and staff member who made the call. Later calls (after a
  transfer, a requeue or a hold) do not count again; a ticket never called
  has no wait.
* served (已办结): `ticket.finished` (any outcome), for the section the
  ticket was in when finished (after a transfer: the new one) and the
  window and staff member who finished it. Outcomes split it into
  done / supplement / rejected / other (办结 / 补正材料 / 不予受理 / 其他).
* service time (平均办理时长): `ticket.finished` minus the latest
  `ticket.started` of the ticket since it last came to the window, or the
  latest `ticket.called` when it was not started (a hold and call back
  without a start counts from the call back). A `ticket.transferred` or
  `ticket.requeued` ends the ticket's visit at a window, so time spent
  waiting after a transfer is never service time. Recalls move nothing.
* no-shows (过号): `ticket.missed`, for the ticket's section, window, staff.
* transfers (转窗): `ticket.transferred`, for the section the ticket left
  (`from_section`) and the window and staff member who transferred it.
* assisted (帮办代办): `ticket.finished` with `assisted_by`. By section or
  window: services there that had an assistant; by staff member: the
  services that member assisted (not those they served).
* by hour: issued and served per local hour 0–23, summed over the days.
* on duty, paused, idle (windows and staff only): see `stats_windows`.

A ticket issued before the span but called or finished in it: the caller
passes the events from one day before the span too (`LOOKBACK_S`); those
only supply issue and call times. Its wait counts on the day of its first
call (tickets are only called on the day they were issued, so in practice
always that day), its service on the day it was finished, with the service
time measured from the start or call before midnight. When that start lies
beyond the look-back the service still counts as served, without a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..clock import local
from ..config import Config
from ..storage import Event
from .rules import OUTCOMES
from .stats_windows import WindowClock

GROUPINGS = ("section", "window", "staff")
LOOKBACK_S = 86400.0
MAX_DAYS = 366


@dataclass(frozen=True)
class Span:
    first: dt.date
    last: dt.date
    start: float  # POSIX seconds, inclusive
    end: float  # exclusive

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def span(first: dt.date, last: dt.date, config: Config) -> Span:
    """The local dates first…last as POSIX seconds in the hall's time zone."""
    tz = config.tz
    start = dt.datetime.combine(first, dt.time(0), tz).timestamp()
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tz).timestamp()
    return Span(first, last, start, end)


@dataclass
class Figures:
    issued: int = 0
    called: int = 0
    served: int = 0
    no_shows: int = 0
    transfers: int = 0
    assisted: int = 0
    wait_sum: float = 0.0
    wait_max: float = 0.0
    service_sum: float = 0.0
    service_count: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    issued_by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    served_by_hour: list[int] = field(default_factory=lambda: [0] * 24)

    def as_json(self, full: bool = True) -> dict[str, Any]:
        """`full` is False for windows and staff, to whom issuing is not attributed."""
        return {
            "issued": self.issued if full else None,
            "called": self.called,
            "served": self.served,
            "no_shows": self.no_shows,
            "transfers": self.transfers,
            "wait_avg_s": _average(self.wait_sum, self.called),
            "wait_max_s": round(self.wait_max, 1) if self.called else None,
            "service_avg_s": _average(self.service_sum, self.service_count),
            "service_count": self.service_count,
            "outcomes": dict(self.outcomes),
            "assisted": self.assisted,
            "issued_by_hour": list(self.issued_by_hour) if full else None,
            "served_by_hour": list(self.served_by_hour),
        }


def _average(total: float, count: int) -> float | None:
    return round(total / count, 1) if count else None


@dataclass(slots=True)
class _Ticket:
    issued_at: float | None
    section: str | None
    called: bool = False
    service_from: float | None = None
    started: bool = False


@dataclass(frozen=True)
class StaffName:
    name: str
    staff_no: str | None


class Tally:
    """Feed the events of the span (and the look-back before it) in id order; then `result()`."""

    def __init__(self, config: Config, span_: Span, by: str, now: float) -> None:
        if by not in GROUPINGS:
            raise ValueError(f"unknown grouping {by!r}")
        self.config, self.span, self.by = config, span_, by
        self.total = Figures()
        self.groups: dict[Any, Figures] = {}
        self.assisted: dict[int, int] = {}
        self.days = {d.isoformat(): {"issued": 0, "served": 0, "no_shows": 0} for d in span_.days}
        self.clock = WindowClock(span_.start, min(span_.end, now))
        self._tickets: dict[int, _Ticket] = {}
        self._handlers = {
            "ticket.issued": self._issued,
            "ticket.called": self._called,
            "ticket.started": self._started,
            "ticket.missed": self._missed,
            "ticket.transferred": self._transferred,
            "ticket.requeued": lambda e, p, counted: self._end_visit(p["ticket"]["id"]),
            "ticket.cancelled": self._cancelled,
            "ticket.finished": self._finished,
        }

    def add(self, event: Event) -> None:
        """One event; `counted` tells the handlers whether it is in the span or only context."""
        self.clock.add(event)
        handler = self._handlers.get(event.type)
        if handler is not None:
            handler(event, event.payload, self.span.start <= event.at < self.span.end)

    def _figures(self, section: str | None, window: int | None, staff: int | None) -> list[Figures]:
        key = {"section": section, "window": window, "staff": staff}[self.by]
        if key is None:
            return [self.total]
        return [self.total, self.groups.setdefault(key, Figures())]

    def _day_and_hour(self, at: float) -> tuple[dict[str, int], int]:
        moment = local(at, self.config.tz)
        return self.days[moment.date().isoformat()], moment.hour

    def _issued(self, e: Event, p: dict[str, Any], counted: bool) -> None:
        section = p["ticket"]["section"]
        self._tickets[p["ticket"]["id"]] = _Ticket(e.at, section)
        if counted:
            day, hour = self._day_and_hour(e.at)
            day["issued"] += 1
            for f in self._figures(section, None, None):
                f.issued += 1
                f.issued_by_hour[hour] += 1

    def _called(self, e: Event, p: dict[str, Any], counted: bool) -> None:
        ticket = self._tickets.setdefault(p["ticket"]["id"], _Ticket(None, None, called=True))
        if not ticket.started:
            ticket.service_from = e.at
        if ticket.called:
            return
        ticket.called = True
        if counted and ticket.issued_at is not None:
            wait = e.at - ticket.issued_at
            for f in self._figures(ticket.section, p["window"]["no"], p["staff"]):
                f.called += 1
                f.wait_sum += wait
                f.wait_max = max(f.wait_max, wait)

    def _started(self, e: Event, p: dict[str, Any], counted: bool) -> None:
        ticket = self._tickets.get(p["ticket"]["id"])
        if ticket is not None:
            ticket.service_from, ticket.started = e.at, True

    def _missed(self, e: Event, p: dict[str, Any], counted: bool) -> None:
        if counted:
            self._day_and_hour(e.at)[0]["no_shows"] += 1
            for f in self._figures(p["ticket"]["section"], p["window"]["no"], p["staff"]):
                f.no_shows += 1

    def _transferred(self, e: Event, p: dict[str, Any], counted: bool) -> None:
        self._end_visit(p["ticket"]["id"])
        if counted:
            for f in self._figures(p["from_section"], p["window"]["no"], p["staff"]):
                f.transfers += 1

    def _end_visit(self, ticket_id: int) -> None:
        ticket = self._tickets.get(ticket_id)
        if ticket is not None:
            ticket.service_from, ticket.started = None, False

    def _cancelled(self, e: Event, p: dict[str, Any], counted: bool) -> None:
        self._tickets.pop(p["ticket"]["id"], None)

    def _finished(self, e: Event, p: dict[str, Any], counted: bool) -> None:
        ticket = self._tickets.pop(p["ticket"]["id"], None)
        if not counted:
            return
        day, hour = self._day_and_hour(e.at)
        day["served"] += 1
        helper = p.get("assisted_by")
        service = e.at - ticket.service_from if ticket is not None and ticket.service_from is not None else None
        for f in self._figures(p["ticket"]["section"], p["window"]["no"], p["staff"]):
            f.served += 1
            f.served_by_hour[hour] += 1
            f.outcomes[p["outcome"] if p["outcome"] in OUTCOMES else "other"] += 1
            if service is not None:
                f.service_sum += service
                f.service_count += 1
            if helper is not None and self.by != "staff":
                f.assisted += 1
        if helper is not None:
            self.assisted[helper] = self.assisted.get(helper, 0) + 1
            if self.by == "staff":
                for f in self._figures(None, None, helper):
                    f.assisted += 1

    def result(self, staff: Mapping[int, StaffName]) -> dict[str, Any]:
        """The report as JSON; `staff` names the users (display name and 工号)."""
        self.clock.stop()
        times = {"window": self.clock.by_window, "staff": self.clock.by_staff}.get(self.by, {})
        return {
            "from": self.span.first.isoformat(),
            "to": self.span.last.isoformat(),
            "by": self.by,
            "timezone": self.config.timezone,
            "groups": [self._group_json(key, staff, times) for key in self._keys(times)],
            "total": {"key": None, "name": "合计", **self.total.as_json()},
            "by_hour": {"issued": self.total.issued_by_hour, "served": self.total.served_by_hour},
            "by_day": [{"day": day, **counts} for day, counts in self.days.items()],
            "assisted": [
                {"staff": uid, **_person(uid, staff), "count": n}
                for uid, n in sorted(self.assisted.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
        }

    def _keys(self, times: Mapping[int, Any]) -> list[Any]:
        seen = set(self.groups) | set(times)
        if self.by == "section":
            known = [s.id for s in self.config.sections]
        elif self.by == "window":
            known = [w.no for w in self.config.windows]
        else:
            known = sorted(seen)
        return known + sorted(k for k in seen if k not in known)

    def _group_json(self, key: Any, staff: Mapping[int, StaffName], times: Mapping[int, Any]) -> dict[str, Any]:
        figures = self.groups.get(key, Figures()).as_json(full=self.by == "section")
        if self.by == "section":
            section = self.config.section(key)
            return {"key": key, "name": section.name if section else key, **figures}
        clock = times[key].as_json() if key in times else {"on_duty_s": 0.0, "paused_s": 0.0, "idle_s": 0.0}
        if self.by == "window":
            window = self.config.window(key)
            return {"key": key, "name": window.name if window else f"{key} 号窗口", **figures, **clock}
        return {"key": key, **_person(key, staff), **figures, **clock}


def _person(uid: int, staff: Mapping[int, StaffName]) -> dict[str, Any]:
    known = staff.get(uid)
    return {"name": known.name if known else f"用户 {uid}", "staff_no": known.staff_no if known else None}


def report(
    events: Iterable[Event], config: Config, span_: Span, by: str, now: float, staff: Mapping[int, StaffName]
) -> dict[str, Any]:
    """The whole report from `events` (id order, from `span_.start - LOOKBACK_S` to the span's end)."""
    tally = Tally(config, span_, by, now)
    for event in events:
        tally.add(event)
    return tally.result(staff)
