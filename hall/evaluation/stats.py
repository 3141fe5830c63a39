"""Rating statistics for managers (pure: sums of the daily roll-up in, figures out).

The unit is the *service* (one finished ticket) and the day it was finished
(the service day, local date): a rating counts on the day of the service it
rates, like the service, so "rated" and "served" always share a day. Rows come
from `rating_days` summed over the dimensions not asked for; channel '' rows
carry `served`, the others the grades of that channel's ratings. Voided
ratings were taken back out of the roll-up when voided and count nowhere.

For a group (a window, staff member, department, section, matter or channel)
over a range of service days:

==================  ===============================================================
served 办件量        services finished (every outcome)
rated 主动评价       first ratings a citizen gave (pad, QR, web, SMS, hotline); not
                    voided; the grade distribution, average, 好评率 and 差评率 count
                    these and only these
defaulted 默认好评   services given the configured default grade, never rated by the
                    citizen (channel `default`): counted apart, in no rate but their own
unrated 未评         served − rated − defaulted
rated_rate 主动评价率 rated / served; defaulted_rate = defaulted / served; unrated_rate =
                    unrated / served (the three add up to 1)
grades              rated per grade 5 非常满意 … 1 非常不满意
average 平均分       Σ grade × count / rated (1–5, two decimals)
good_rate 好评率     rated with a grade in `[evaluation] good_grades` (default 5, 4) / rated
bad_rate 差评率      rated with grade 2 or 1 (不满意, 非常不满意) / rated
follow_ups 追评      second ratings after a fixed bad review: counted apart, never in the
                    distribution (which holds one first rating per service)
bad_reviews         the bad first ratings above (not voided), with their follow-up cases:
  reply_rate 回复率   cases verified (the citizen called back, or the anonymous review
                    looked into) / bad reviews
  rectify_revisit_rate 整改回访率  real-name bad reviews whose current round is both
                    handled (rectified or explained, or verified as 不属实 / 误评: nothing
                    to rectify) and revisited (the return visit made; a citizen not
                    reached after the required calls counts as visited) / real-name
                    bad reviews (anonymous ones cannot be called back). A return visit
                    that reopened the rectification does not count until the next one.
  fix_satisfaction_rate 整改满意率  return visits where the citizen said satisfied /
                    return visits where the citizen answered (anonymous and unreached
                    ones have no answer and count in neither)
==================  ===============================================================

A rate is null when its denominator is 0. By channel, or with a channel
filter, `served` and the rates over it are null for the groups: a service
has no channel until it is rated (the total still has them).

Rankings: groups with at least `min_sample` rated services, by 好评率, then
average, then rated (more is better); equal 好评率 and average share a rank
("1, 2, 2, 4"). Fewer ratings: unranked (`rank` null), listed after.

Change (环比): figures of the range minus those of the previous range, as
`previous_range` defines it; rates in fractions (0.012 = 1.2 percentage
points), counts in counts. For a trend by month, each month against the
calendar month before it; by day, each day against the day before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .settings import BAD_GRADES, GRADES

GROUPINGS = ("window", "staff", "department", "section", "matter", "channel")
PERIODS = ("day", "month")
MAX_DAYS = 3660  # ten years
MAX_TREND_DAYS = 366  # a trend by day: one year
CHANGE_FIGURES = ("served", "rated", "rated_rate", "average", "good_rate", "bad_rate")
BAD_COUNTS = ("count", "replied", "real_name", "rectified_revisited", "answered", "satisfied")


@dataclass
class BadTally:
    count: int = 0
    replied: int = 0
    real_name: int = 0
    rectified_revisited: int = 0
    answered: int = 0
    satisfied: int = 0

    def add(self, row: Mapping[str, Any]) -> None:
        for name in BAD_COUNTS:
            setattr(self, name, getattr(self, name) + (row[name] or 0))


@dataclass
class Tally:
    """Sums of roll-up rows for one group (and period)."""

    served: int = 0
    grades: list[int] = field(default_factory=lambda: [0] * 5)  # active first ratings, index 0 = grade 1
    defaulted: int = 0
    follow_ups: int = 0
    real_name_bad: int = 0
    bad: BadTally = field(default_factory=BadTally)

    def add(self, row: Mapping[str, Any]) -> None:
        """Add a roll-up row: `channel`, `served`, `g1`…`g5`, `follow_ups`, `real_name_bad`."""
        self.served += row["served"] or 0
        counts = [row[f"g{g}"] or 0 for g in range(1, 6)]
        if row["channel"] == "default":
            self.defaulted += sum(counts)
        else:
            self.grades = [a + b for a, b in zip(self.grades, counts, strict=True)]
        self.follow_ups += row["follow_ups"] or 0
        self.real_name_bad += row["real_name_bad"] or 0

    def merge(self, other: Tally) -> None:
        self.served += other.served
        self.grades = [a + b for a, b in zip(self.grades, other.grades, strict=True)]
        self.defaulted += other.defaulted
        self.follow_ups += other.follow_ups
        self.real_name_bad += other.real_name_bad
        for name in BAD_COUNTS:
            setattr(self.bad, name, getattr(self.bad, name) + getattr(other.bad, name))

    @property
    def empty(self) -> bool:
        return not (self.served or any(self.grades) or self.defaulted or self.follow_ups or self.bad.count)


def rate(part: int, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(t: Tally, good_grades: Iterable[int], served_known: bool = True) -> dict[str, Any]:
    """Every figure of one group, as the module docstring defines them."""
    rated = sum(t.grades)
    good = sum(t.grades[g - 1] for g in good_grades)
    bad = sum(t.grades[g - 1] for g in BAD_GRADES)
    served = t.served if served_known else None
    unrated = max(t.served - rated - t.defaulted, 0) if served_known else None
    b = t.bad
    return {
        "served": served,
        "rated": rated,
        "defaulted": t.defaulted,
        "unrated": unrated,
        "rated_rate": rate(rated, served),
        "defaulted_rate": rate(t.defaulted, served),
        "unrated_rate": rate(unrated or 0, served),
        "grades": {str(g): t.grades[g - 1] for g in sorted(GRADES, reverse=True)},
        "average": round(sum(g * n for g, n in enumerate(t.grades, start=1)) / rated, 2) if rated else None,
        "good": good,
        "good_rate": rate(good, rated),
        "bad": bad,
        "bad_rate": rate(bad, rated),
        "follow_ups": t.follow_ups,
        "real_name_bad": t.real_name_bad,
        "bad_reviews": {
            "count": b.count,
            "replied": b.replied,
            "reply_rate": rate(b.replied, b.count),
            "real_name": b.real_name,
            "rectified_revisited": b.rectified_revisited,
            "rectify_revisit_rate": rate(b.rectified_revisited, b.real_name),
            "answered": b.answered,
            "satisfied": b.satisfied,
            "fix_satisfaction_rate": rate(b.satisfied, b.answered),
        },
    }


def change(now: Mapping[str, Any], before: Mapping[str, Any] | None) -> dict[str, Any]:
    """This period's figures minus the previous period's; null where either side has none."""
    out: dict[str, Any] = {}
    for name in CHANGE_FIGURES:
        a, b = now.get(name), before.get(name) if before else None
        out[name] = None if a is None or b is None else round(a - b, 4)
    return out


def rank(groups: list[dict[str, Any]], min_sample: int) -> list[dict[str, Any]]:
    """Ranked groups first (by 好评率, average, rated), then the rest in their given order."""
    ranked = [g for g in groups if g["rated"] >= min_sample]
    ranked.sort(key=lambda g: (-(g["good_rate"] or 0), -(g["average"] or 0), -g["rated"]))
    current, previous = 0, None
    for position, g in enumerate(ranked, start=1):
        score = (g["good_rate"], g["average"])
        if score != previous:
            current, previous = position, score
        g["rank"] = current
    rest = [g for g in groups if g["rated"] < min_sample]
    for g in rest:
        g["rank"] = None
    return ranked + rest


# -- ranges and periods ----------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    return add_months(day, 1) - dt.timedelta(days=1)


def previous_range(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The range a range is compared with (环比).

    Whole calendar months (the 1st to a month's last day): the same number of
    months before. A month so far (the 1st to a day of the same month): the
    same days of the month before, cut at its end. Otherwise: as many days,
    just before.
    """
    if first.day == 1 and last == month_end(last):
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        return add_months(first, -months), first - dt.timedelta(days=1)
    if first.day == 1 and (last.year, last.month) == (first.year, first.month):
        before = add_months(first, -1)
        return before, min(before + dt.timedelta(days=last.day - 1), month_end(before))
    days = (last - first).days + 1
    return first - dt.timedelta(days=days), first - dt.timedelta(days=1)


def periods(first: dt.date, last: dt.date, period: str) -> list[str]:
    """Labels of the periods from `first` to `last`: YYYY-MM-DD by day, YYYY-MM by month."""
    if period == "day":
        return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    labels, month = [], month_start(first)
    while month <= last:
        labels.append(month.isoformat()[:7])
        month = add_months(month, 1)
    return labels


def period_before(first: dt.date, period: str) -> dt.date:
    """The first day of the period before the one holding `first` (the first trend point's comparison)."""
    return first - dt.timedelta(days=1) if period == "day" else add_months(first, -1)


# -- a report: the question, the tallies read for it, the answer ----------------------------------

Key = Any  # a window number, staff user id, department, section id, matter or channel
Tallies = dict[tuple[Key, str], Tally]  # by (group key, period label; '' without a period)


@dataclass(frozen=True)
class Ask:
    """What a manager asks: service days first…last, grouped `by`, optionally as a trend by `period`."""

    first: dt.date
    last: dt.date
    by: str
    period: str | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    min_sample: int = 10
    good_grades: tuple[int, ...] = (5, 4)

    @property
    def trend_start(self) -> dt.date:
        """A trend by month shows whole months (the first one may start before `first`)."""
        return self.first if self.period == "day" else month_start(self.first)

    def trend_span(self) -> tuple[dt.date, dt.date]:
        """Service days a trend reads: its periods and the one before the first (for its change)."""
        return period_before(self.trend_start, self.period or "month"), self.last

    @property
    def range_in_trend(self) -> bool:
        """The trend's periods are exactly the range: its figures need no read of their own."""
        return self.period is not None and self.trend_start == self.first


def tallies(rows: Iterable[Mapping[str, Any]], bad_rows: Iterable[Mapping[str, Any]]) -> Tallies:
    """Roll-up rows and bad-review rows (from stats_store) added up per group and period."""
    out: Tallies = {}
    for row in rows:
        out.setdefault((row["key"], row["period"]), Tally()).add(row)
    for row in bad_rows:
        out.setdefault((row["key"], row["period"]), Tally()).bad.add(row)
    return out


def collapse(t: Tallies, labels: Iterable[str] | None = None) -> dict[Key, Tally]:
    """Per group, the periods summed (only those in `labels` when given)."""
    keep = None if labels is None else set(labels)
    out: dict[Key, Tally] = {}
    for (key, period), tally in t.items():
        if keep is None or period in keep:
            out.setdefault(key, Tally()).merge(tally)
    return out


def _sort_key(key: Key) -> tuple[int, Any]:
    return (0, key) if isinstance(key, int) else (1, str(key))


def report(
    ask: Ask,
    current: dict[Key, Tally],
    previous: dict[Key, Tally],
    names: Callable[[Key], str],
    trend: Tallies | None = None,
) -> dict[str, Any]:
    """The answer of /api/ratings/stats: the range, its previous range, the total and each group ranked."""
    total, total_before = Tally(), Tally()
    for t in current.values():
        total.merge(t)
    for t in previous.values():
        total_before.merge(t)
    if ask.by == "channel":  # channel '' rows carry the services: in the total, in no channel
        current = {k: v for k, v in current.items() if k != ""}
    groups_served = ask.by != "channel" and "channel" not in ask.filters
    total_served = "channel" not in ask.filters
    prev_first, prev_last = previous_range(ask.first, ask.last)
    out_total = figures(total, ask.good_grades, total_served)
    out_total["change"] = change(out_total, figures(total_before, ask.good_grades, total_served))
    groups = []
    for key in sorted((k for k, t in current.items() if not t.empty), key=_sort_key):
        g = {"key": key, "name": names(key), **figures(current[key], ask.good_grades, groups_served)}
        before = previous.get(key)
        g["change"] = change(g, figures(before, ask.good_grades, groups_served) if before else None)
        groups.append(g)
    answer: dict[str, Any] = {
        "from": ask.first.isoformat(),
        "to": ask.last.isoformat(),
        "by": ask.by,
        "period": ask.period,
        "filters": dict(ask.filters),
        "good_grades": list(ask.good_grades),
        "min_sample": ask.min_sample,
        "previous": {"from": prev_first.isoformat(), "to": prev_last.isoformat()},
        "total": out_total,
        "groups": rank(groups, ask.min_sample),
    }
    if ask.period and trend is not None:
        answer.update(_trend(ask, trend, answer["groups"], answer["total"], groups_served, total_served))
    return answer


def _trend(
    ask: Ask,
    trend: Tallies,
    groups: list[dict[str, Any]],
    total: dict[str, Any],
    groups_served: bool,
    total_served: bool,
) -> dict[str, Any]:
    """Each group's points, one per period, each with its change against the period before."""
    period = ask.period or "month"
    labels = periods(ask.trend_start, ask.last, period)
    before = periods(period_before(ask.trend_start, period), period_before(ask.trend_start, period), period)[0]

    def points(pick: Callable[[str], Tally], served_known: bool) -> list[dict[str, Any]]:
        out, last = [], figures(pick(before), ask.good_grades, served_known)
        for label in labels:
            now = figures(pick(label), ask.good_grades, served_known)
            out.append({"period": label, **now, "change": change(now, last)})
            last = now
        return out

    for g in groups:
        g["points"] = points(lambda label, key=g["key"]: trend.get((key, label)) or Tally(), groups_served)
    by_period: dict[str, Tally] = {}
    for (_, label), t in trend.items():
        by_period.setdefault(label, Tally()).merge(t)
    total["points"] = points(lambda label: by_period.get(label) or Tally(), total_served)
    return {"periods": labels}
