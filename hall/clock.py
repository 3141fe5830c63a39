"""Time: one injectable clock, and the hall's local business day.

All stored times are POSIX seconds (UTC). The business day is the date in the
hall's time zone, so numbering restarts at local midnight.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo


class Clock:
    """The real clock. Tests pass a FakeClock to create_app instead."""

    def now(self) -> float:
        return time.time()


class FakeClock(Clock):
    def __init__(self, start: float) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def set(self, t: float) -> None:
        self.t = t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def local(ts: float, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, tz)


def business_day(ts: float, tz: ZoneInfo) -> str:
    """The local date a moment belongs to, as YYYY-MM-DD."""
    return local(ts, tz).date().isoformat()


def iso(ts: float | None, tz: ZoneInfo) -> str | None:
    """A stored time as ISO 8601 in the hall's zone, to the second."""
    if ts is None:
        return None
    return local(ts, tz).replace(microsecond=0).isoformat()


def at_local(date: dt.date, minutes: int, tz: ZoneInfo) -> dt.datetime:
    """The moment `minutes` after local midnight on `date` (24:00 is the next midnight)."""
    midnight = dt.datetime.combine(date, dt.time(0), tz)
    return midnight + dt.timedelta(minutes=minutes)
