"""Which days and hours a section issues numbers.

Working days follow the Chinese calendar (public holidays off, make-up
working days 调休 on) through `chinese-calendar`; for years it does not know
yet, Monday to Friday. The hall's own closures and extra opening days from
config override both.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from .clock import at_local
from .config import Config, Section


def is_working_day(day: dt.date, config: Config) -> bool:
    if day in config.closed_dates:
        return False
    if day in config.open_dates:
        return True
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the package has no data for
        return day.weekday() < 5


def is_open_day(section: Section, day: dt.date, config: Config) -> bool:
    if section.days == "daily":
        return day not in config.closed_dates
    if section.days == "weekdays":
        return (day.weekday() < 5 or day in config.open_dates) and day not in config.closed_dates
    return is_working_day(day, config)


def is_issuing(section: Section, moment: dt.datetime, config: Config) -> bool:
    """True when `section` hands out numbers at the local time `moment`."""
    if not is_open_day(section, moment.date(), config):
        return False
    minute = moment.hour * 60 + moment.minute
    return any(start <= minute < end for start, end in section.hours)


def next_opening(section: Section, moment: dt.datetime, config: Config, horizon_days: int = 31) -> dt.datetime | None:
    """The next local time at or after `moment` when `section` issues numbers."""
    tz = moment.tzinfo
    for offset in range(horizon_days + 1):
        day = moment.date() + dt.timedelta(days=offset)
        if not is_open_day(section, day, config):
            continue
        for start, end in section.hours:
            opens, closes = at_local(day, start, tz), at_local(day, end, tz)
            if closes > moment:
                return max(opens, moment)
    return None


# Deadlines in Chinese working days (public holidays off, make-up working days on).
#
# "Within N working days" of a moment: the same time of day on the N-th working
# day after the moment's day (given on Wednesday 10:00, one working day is
# Thursday 10:00; on the eve of the National Day week, the first working day
# after it). A moment on a holiday or a weekend counts from the start of the
# next working day: a bad review given on Saturday with one working day is due
# by the end of Monday (Tuesday 00:00). Used by bad reviews and complaint cases.
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
