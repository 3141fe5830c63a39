"""The rules of appointments (预约), as plain functions of the config and the time.

When a slot can be booked, when check-in opens and until when it counts as
on time, and which of a phone's bookings a kiosk means. Times are local to
the hall; a slot is kept as minutes after local midnight, [start, end).

The check-in window of a slot starting at S on day D:

* opens at S − `early_minutes`, but not before the start of the section's
  issuing period that holds the slot (the kiosk issues nothing earlier);
* on time until S + `late_minutes` (exclusive): an appointment ticket,
  called before walk-ins;
* late from then until the section closes that day (the end of its last
  issuing period): an ordinary ticket, as a walk-in with the same ID card
  would get;
* never checked in by that closing time: a no-show.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..calendar import is_open_day
from ..clock import at_local
from ..config import Config, Section
from ..errors import BadRequest, Conflict

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed at a kiosk
CODE_LENGTH = 8
STATUS_NAMES = {"booked": "已预约", "checked_in": "已签到", "cancelled": "已取消", "no_show": "未到(爽约)"}
ACTIVE = ("booked", "checked_in")
WEEKDAYS = "一二三四五六日"
_SLOT = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def new_code() -> str:
    """A booking code: 8 of 32 characters, 40 random bits."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: Any) -> str | None:
    """A booking code as typed (any case, with spaces or dashes), or None if it cannot be one."""
    if not isinstance(text, str):
        return None
    code = re.sub(r"[\s-]", "", text).upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def slot_text(start: int, end: int) -> str:
    return f"{hhmm(start)}-{hhmm(end)}"


def find_slot(section: Section, text: str) -> tuple[int, int] | None:
    """The section's slot written as "09:00-10:00", or None."""
    m = _SLOT.match(text.strip())
    if not m:
        return None
    h1, m1, h2, m2 = map(int, m.groups())
    wanted = (h1 * 60 + m1, h2 * 60 + m2)
    return wanted if wanted in section.appointment_slots else None


def day_label(day: dt.date, today: dt.date) -> tuple[str, str]:
    """("11月24日", "明天 周二"): the date, and its weekday with 今天 / 明天 where it applies."""
    weekday = f"周{WEEKDAYS[day.weekday()]}"
    if day == today:
        weekday = f"今天 {weekday}"
    elif day == today + dt.timedelta(days=1):
        weekday = f"明天 {weekday}"
    return f"{day.month}月{day.day}日", weekday


@dataclass(frozen=True)
class CheckInTimes:
    opens: dt.datetime
    on_time_until: dt.datetime
    closes: dt.datetime


def check_in_times(config: Config, section: Section | None, day: dt.date, start: int) -> CheckInTimes:
    """When check-in for a slot starting at `start` on `day` opens, stops being on time and closes."""
    tz = config.tz
    policy = config.appointments
    if section is None:  # a section since removed from config: its bookings still end with the day
        slot = at_local(day, start, tz)
        return CheckInTimes(slot, slot, at_local(day, 24 * 60, tz))
    period_start = next((a for a, b in section.hours if a <= start < b), start)
    closes = at_local(day, max(b for _, b in section.hours), tz)
    opens = at_local(day, max(start - policy.early_minutes, period_start), tz)
    on_time_until = min(at_local(day, start + policy.late_minutes, tz), closes)
    return CheckInTimes(opens, on_time_until, closes)


def bookable_days(config: Config, section: Section, today: dt.date) -> list[dt.date]:
    """Today (when the section is open) and the next `days_ahead` days it is open."""
    days = [today] if is_open_day(section, today, config) else []
    day, found = today, 0
    limit = today + dt.timedelta(days=366)
    while found < config.appointments.days_ahead and day < limit:
        day += dt.timedelta(days=1)
        if is_open_day(section, day, config):
            days.append(day)
            found += 1
    return days


def check_bookable(config: Config, section: Section, day: dt.date, start: int, now: dt.datetime) -> None:
    """Refuse a booking for a day or slot that cannot be booked now (the slot's capacity aside)."""
    if not section.appointment_slots:
        raise BadRequest("no_appointments", f"{section.name}不提供预约,请直接到大厅取号", field="section")
    today = now.date()
    if day < today or (day == today and now >= at_local(day, start, now.tzinfo)):
        raise Conflict("slot_past", "该时段已经开始或已过去,请选择其他时段")
    if not is_open_day(section, day, config):
        raise Conflict("section_closed_that_day", f"{section.name}{day.month}月{day.day}日不办公,请选择其他日期")
    if day not in bookable_days(config, section, today):
        raise Conflict(
            "too_far_ahead", f"最多可预约今后 {config.appointments.days_ahead} 个办公日内的时段,请选择更近的日期"
        )


def choose_for_phone(rows: Sequence[Any], config: Config, now: dt.datetime) -> Any | None:
    """Which of a phone's bookings for today a check-in by phone means: the next slot.

    `rows` are today's bookings of the phone that are booked or checked in,
    by slot start. A booking whose check-in is open and on time comes first,
    then the next one whose check-in has not opened, then the latest one
    already running late; with none of these still booked, the latest
    checked-in one (a repeated check-in gets its ticket again).
    """
    booked = [r for r in rows if r["status"] == "booked"]
    if not booked:
        done = [r for r in rows if r["status"] == "checked_in"]
        return done[-1] if done else None
    timed = [(r, check_in_times(config, config.section(r["section"]), now.date(), r["slot_start"])) for r in booked]
    for row, times in timed:
        if times.opens <= now < times.on_time_until:
            return row
    for row, times in timed:
        if now < times.opens:
            return row
    return timed[-1][0]
