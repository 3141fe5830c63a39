"""The SQL behind rating statistics: sums of the roll-ups and the bad-review cases of a range.

Reads only, through reader connections. Both queries group in SQL, so what
comes back is one row per group, period and channel (or per group and
period), however many ratings the range holds. The whole months of a range
are read from `rating_months`, only the days left over at either end from
`rating_days`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..storage import Database
from .stats import add_months, month_end

Row = Any

# Group and filter columns: in the roll-ups, and in the ratings the bad reviews are joined to.
DIMENSIONS = {
    "window": "window_no",
    "staff": "staff_user_id",
    "department": "department",
    "section": "section",
    "matter": "matter",
    "channel": "channel",
}
RATING_DIMENSIONS = {**DIMENSIONS, "staff": "COALESCE(r.staff_user_id, 0)"}
PERIODS = {None: "''", "day": "day", "month": "substr(day, 1, 7)"}
MONTH_PERIODS = {None: "''", "month": "month"}
SUMS = (
    "SUM(served) AS served, SUM(g1) AS g1, SUM(g2) AS g2, SUM(g3) AS g3, SUM(g4) AS g4, SUM(g5) AS g5, "
    "SUM(follow_ups) AS follow_ups, SUM(real_name_bad) AS real_name_bad"
)
DayRange = tuple[dt.date, dt.date]


def month_split(first: dt.date, last: dt.date) -> tuple[tuple[str, str] | None, list[DayRange]]:
    """Days first…last as the whole calendar months inside them (first and last 'YYYY-MM', or None)
    and the day ranges left over before and after them."""
    if first > last:
        return None, []
    start = first if first.day == 1 else add_months(first, 1)
    end = last if last == month_end(last) else last.replace(day=1) - dt.timedelta(days=1)
    if start > end:
        return None, [(first, last)]
    days = []
    if first < start:
        days.append((first, start - dt.timedelta(days=1)))
    if end < last:
        days.append((end + dt.timedelta(days=1), last))
    return (start.isoformat()[:7], end.isoformat()[:7]), days


def _filters(filters: dict[str, Any], columns: dict[str, str], prefix: str = "") -> tuple[str, list[Any]]:
    where, params = "", []
    for key, value in filters.items():
        column = columns[key]
        where += f" AND {column if '(' in column else prefix + column} = ?"
        params.append(value)
    return where, params


def _where(first: dt.date, last: dt.date, filters: dict[str, Any], columns: dict[str, str], prefix: str = ""):
    where, params = _filters(filters, columns, prefix)
    return f"{prefix}day BETWEEN ? AND ?" + where, [first.isoformat(), last.isoformat(), *params]


async def _sums(
    db: Database,
    first: dt.date,
    last: dt.date,
    by: str | None,
    period: str | None,
    filters: dict[str, Any],
    sums: str,
    per_channel: bool,
) -> list[Row]:
    """`sums` per group and period (and channel) over service days first…last: whole months from
    `rating_months`, the days left over from `rating_days`."""
    key = DIMENSIONS[by] if by else "''"
    channel, groups = (", channel", "1, 2, 3") if per_channel else ("", "1, 2")
    months, days = month_split(first, last) if period != "day" else (None, [(first, last)])
    selects, params = [], []
    if months:
        where, values = _filters(filters, DIMENSIONS)
        selects.append(
            f"SELECT {key} AS key, {MONTH_PERIODS[period]} AS period{channel}, {sums} "
            f"FROM rating_months WHERE month BETWEEN ? AND ?{where} GROUP BY {groups}"
        )
        params += [*months, *values]
    for day_first, day_last in days:
        where, values = _where(day_first, day_last, filters, DIMENSIONS)
        selects.append(
            f"SELECT {key} AS key, {PERIODS[period]} AS period{channel}, {sums} "
            f"FROM rating_days WHERE {where} GROUP BY {groups}"
        )
        params += values
    if not selects:
        return []
    if len(selects) == 1:
        sql = selects[0]
    else:
        outer = ", ".join(f"SUM({name}) AS {name}" for name in _names(sums))
        sql = f"SELECT key, period{channel}, {outer} FROM ({' UNION ALL '.join(selects)}) GROUP BY {groups}"
    return await db.fetchall(sql, tuple(params))


def _names(sums: str) -> list[str]:
    return re.findall(r" AS (\w+)", sums)


async def roll_up(
    db: Database, first: dt.date, last: dt.date, by: str | None, period: str | None, filters: dict[str, Any]
) -> list[Row]:
    """Sums of the roll-ups per group, period and channel over service days first…last."""
    return await _sums(db, first, last, by, period, filters, SUMS, per_channel=True)


# The bad first ratings (not voided) and how far their follow-up cases got, as the roll-ups count
# them (`cases.follow_up_counts`, kept in the same transaction as each step): no join of ratings
# to cases, however many ratings the range holds. Default grades never open a case.
BAD_SUMS = (
    "SUM(CASE WHEN channel <> 'default' THEN g1 + g2 ELSE 0 END) AS count, SUM(real_name_bad) AS real_name, "
    "SUM(bad_replied) AS replied, SUM(bad_fixed) AS rectified_revisited, SUM(bad_answered) AS answered, "
    "SUM(bad_satisfied) AS satisfied"
)


async def bad_reviews(
    db: Database, first: dt.date, last: dt.date, by: str | None, period: str | None, filters: dict[str, Any]
) -> list[Row]:
    """Per group and period: bad first ratings (not voided) of services first…last and how far their cases got."""
    return await _sums(db, first, last, by, period, filters, BAD_SUMS, per_channel=False)


async def staff_names(db: Database) -> dict[int, tuple[str, str | None]]:
    """Every account's display name and 工号, by user id."""
    rows = await db.fetchall("SELECT id, display_name, staff_no FROM users")
    return {r["id"]: (r["display_name"], r["staff_no"]) for r in rows}
