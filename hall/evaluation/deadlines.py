"""Deadlines in Chinese working days (public holidays off, make-up working days on).

"Within N working days" of a moment: the same time of day on the N-th working
day after the moment's day (given on Wednesday 10:00, one working day is
Thursday 10:00; on the eve of the National Day week, the first working day
after it). A moment on a holiday or a weekend counts from the start of the
next working day: a bad review given on Saturday with one working day is due
by the end of Monday (Tuesday 00:00).
"""

from __future__ import annotations

import datetime as dt

from ..calendar import is_working_day
from ..config import Config


def add_working_days(moment: dt.datetime, days: int, config: Config) -> dt.datetime:
    """The deadline `days` working days after local `moment`."""
    day = moment.date()
    start = moment
    if not is_working_day(day, config):
        while not is_working_day(day, config):
            day += dt.timedelta(days=1)
        start = dt.datetime.combine(day, dt.time(0), moment.tzinfo)
    count = 0
    while count < days:
        day += dt.timedelta(days=1)
        if is_working_day(day, config):
            count += 1
    return dt.datetime.combine(day, start.timetz().replace(tzinfo=None), moment.tzinfo)
