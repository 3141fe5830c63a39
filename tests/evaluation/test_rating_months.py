"""The monthly roll-up: always the daily roll-up summed per month, and statistics that read it answer as before.

Statistics read the whole months of a range from `rating_months` and only the
days left over from `rating_days`; the answers must not change by a single
count, so they are compared with what reading the days alone gives.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

import pytest

from hall.clock import FakeClock
from hall.evaluation import ratings as ratings_mod
from hall.evaluation import stats_store, store
from hall.evaluation.schema import SCHEMA
from hall.storage import Schema
from hall.storage.migrations import migrate

from ..conftest import at
from ..helpers import HallClient
from .rating_month import RATERS, Month, case_of, rate, serve, step, with_default_grades

D = dt.date
V4_COUNTS = "served, g1, g2, g3, g4, g5, follow_ups, real_name_bad"
COUNTS = V4_COUNTS + ", bad_replied, bad_fixed, bad_answered, bad_satisfied"
KEY = "window_no, staff_user_id, section, matter, channel, department"
DAYS_BY_MONTH = (
    f"SELECT substr(day, 1, 7), {KEY}, SUM(served), SUM(g1), SUM(g2), SUM(g3), SUM(g4), SUM(g5), "
    f"SUM(follow_ups), SUM(real_name_bad), SUM(bad_replied), SUM(bad_fixed), SUM(bad_answered), "
    f"SUM(bad_satisfied) FROM rating_days GROUP BY substr(day, 1, 7), {KEY}"
)


async def month_drift(db) -> list:
    """Rows where rating_months differs from rating_days summed per month (either way)."""
    months = f"SELECT month, {KEY}, {COUNTS} FROM rating_months"
    rows = await db.fetchall(f"{months} EXCEPT {DAYS_BY_MONTH} UNION ALL {DAYS_BY_MONTH} EXCEPT {months}")
    return [tuple(r) for r in rows]


# -- splitting a range -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "months", "days"),
    [
        (D(2026, 11, 1), D(2026, 11, 30), ("2026-11", "2026-11"), []),
        (D(2026, 11, 1), D(2026, 11, 23), None, [(D(2026, 11, 1), D(2026, 11, 23))]),
        (D(2026, 11, 5), D(2026, 11, 30), None, [(D(2026, 11, 5), D(2026, 11, 30))]),
        (D(2026, 11, 23), D(2026, 11, 23), None, [(D(2026, 11, 23), D(2026, 11, 23))]),
        (D(2026, 1, 15), D(2026, 2, 10), None, [(D(2026, 1, 15), D(2026, 2, 10))]),
        (D(2025, 11, 1), D(2026, 10, 31), ("2025-11", "2026-10"), []),
        (
            D(2025, 12, 15),
            D(2026, 3, 10),
            ("2026-01", "2026-02"),
            [(D(2025, 12, 15), D(2025, 12, 31)), (D(2026, 3, 1), D(2026, 3, 10))],
        ),
        (D(2025, 12, 31), D(2026, 1, 31), ("2026-01", "2026-01"), [(D(2025, 12, 31), D(2025, 12, 31))]),
        (D(2026, 1, 1), D(2026, 2, 1), ("2026-01", "2026-01"), [(D(2026, 2, 1), D(2026, 2, 1))]),
        (D(2028, 2, 1), D(2028, 2, 29), ("2028-02", "2028-02"), []),  # a leap year's February
        (D(2028, 2, 1), D(2028, 2, 28), None, [(D(2028, 2, 1), D(2028, 2, 28))]),
        (D(2026, 3, 2), D(2026, 3, 1), None, []),
    ],
)
def test_a_range_splits_into_whole_months_and_the_days_left_over(first, last, months, days):
    assert stats_store.month_split(first, last) == (months, days)


def test_the_split_covers_every_day_of_the_range_once():
    rng = random.Random(5)
    for _ in range(500):
        first = D(2025, 1, 1) + dt.timedelta(days=rng.randrange(800))
        last = first + dt.timedelta(days=rng.randrange(400))
        months, days = stats_store.month_split(first, last)
        covered = [a + dt.timedelta(days=i) for a, b in days for i in range((b - a).days + 1)]
        if months:
            day = D(int(months[0][:4]), int(months[0][5:]), 1)
            while day.isoformat()[:7] <= months[1]:
                covered.append(day)
                day += dt.timedelta(days=1)
        assert sorted(covered) == [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        assert all(a <= b for a, b in days) and len(days) <= 2


# -- the migration -----------------------------------------------------------------------------------


def test_the_migration_fills_the_months_from_the_days_already_rolled_up(tmp_path):
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    migrate(conn, [Schema("evaluation", SCHEMA.steps[:3])])  # a database from before rating_months
    rows = [
        ("2025-12-30", 1, 7, "A", "户籍迁入", "qr", "行政服务中心", 0, 0, 0, 0, 2, 1, 0, 0),
        ("2025-12-31", 1, 7, "A", "户籍迁入", "qr", "行政服务中心", 0, 1, 0, 0, 3, 0, 1, 1),
        ("2026-01-02", 1, 7, "A", "户籍迁入", "qr", "行政服务中心", 0, 0, 0, 1, 0, 0, 0, 0),
        ("2025-12-30", 1, 7, "A", "户籍迁入", "", "行政服务中心", 4, 0, 0, 0, 0, 0, 0, 0),
        ("2025-12-31", 3, 9, "B", "不动产转移登记", "", "自然资源和规划局", 2, 0, 0, 0, 0, 0, 0, 0),
    ]
    conn.executemany(f"INSERT INTO rating_days (day, {KEY}, {V4_COUNTS}) VALUES ({', '.join('?' * 15)})", rows)
    assert migrate(conn, [Schema("evaluation", SCHEMA.steps[:4])]) == ["evaluation v4"]
    months = conn.execute(f"SELECT month, {KEY}, {V4_COUNTS} FROM rating_months ORDER BY 1, 2, 6").fetchall()
    assert months == [
        ("2025-12", 1, 7, "A", "户籍迁入", "", "行政服务中心", 4, 0, 0, 0, 0, 0, 0, 0),
        ("2025-12", 1, 7, "A", "户籍迁入", "qr", "行政服务中心", 0, 1, 0, 0, 5, 1, 1, 1),
        ("2025-12", 3, 9, "B", "不动产转移登记", "", "自然资源和规划局", 2, 0, 0, 0, 0, 0, 0, 0),
        ("2026-01", 1, 7, "A", "户籍迁入", "qr", "行政服务中心", 0, 0, 0, 1, 0, 0, 0, 0),
    ]


# -- every way a rating reaches the roll-up, across a year's end -------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2025-12-30 09:00"))


@pytest.fixture
def config(config):
    return with_default_grades(config)  # a service unrated for 3 days gets the default 5


async def play_new_year(hall: HallClient) -> Month:
    """Services of 30–31 December 2025 rated, voided, given the default grade and 追评 in January 2026."""
    m = Month()
    await serve(hall, m, "d1", 1, "户籍迁入")
    await rate(hall, m, "d1", 5)
    await serve(hall, m, "d2", 2, "户籍迁入")
    await rate(hall, m, "d2", 1, tags=["态度恶劣"], rater=RATERS["zhang"])
    await serve(hall, m, "d3", 3, "不动产转移登记")  # never rated: the default grade on 5 January
    await serve(hall, m, "d4", 1, "身份证换领")
    await rate(hall, m, "d4", 5, "pad", window=1)  # voided on appeal in January
    hall.clock.set(at("2025-12-31 10:00"))
    await serve(hall, m, "d5", 1, "户籍迁入")  # rated in January
    await serve(hall, m, "d6", 4, "社保卡申领")
    await rate(hall, m, "d6", 2, tags=["多次跑"], rater={"anonymous": True})

    hall.clock.set(at("2026-01-05 09:00"))
    await rate(hall, m, "d5", 4, "web")
    case = await case_of(hall, m.ratings["d2"])
    await step(hall, case, "verify", outcome="true", note="属实")
    await step(hall, case, "rectify", kind="rectify", note="整改")
    await step(hall, case, "feedback", note="已告知")
    await step(hall, case, "revisit", satisfied=True, note="满意")
    await rate(hall, m, "d2", 4, rater=RATERS["zhang"])  # 追评 in January of a December service
    # The default grades before the void: a voided first rating's service is taken for unrated again,
    # and apply_defaults then fails on it (ratings.void sets services.rated back to 0).
    assert await hall.db.write(ratings_mod.apply_defaults, hall.config) == 1  # d3
    status, _ = await hall.post(f"/api/ratings/{m.ratings['d4']['id']}/void", {"reason": "误点"}, await hall.viewer())
    assert status == 200
    await serve(hall, m, "e1", 1, "户籍迁入")
    await rate(hall, m, "e1", 3, "sms")
    await serve(hall, m, "e2", 4, "社保卡申领")
    await rate(hall, m, "e2", 1, tags=["态度恶劣"], rater=RATERS["wang"])

    hall.clock.set(at("2026-02-02 09:00"))
    await serve(hall, m, "f1", 3, "不动产转移登记")
    await rate(hall, m, "f1", 5, "pad", window=3)
    await serve(hall, m, "f2", 2, "户籍迁入")
    await rate(hall, m, "f2", 2, tags=["效率低"], rater=RATERS["li"])
    status, _ = await hall.post(f"/api/ratings/{m.ratings['f2']['id']}/void", {"reason": "申诉"}, await hall.viewer())
    assert status == 200
    return m


async def stats(hall: HallClient, **query: str) -> dict:
    q = "&".join(f"{k}={v}" for k, v in query.items())
    code, body = await hall.get(f"/api/ratings/stats?{q}", await hall.viewer())
    assert code == 200, body
    return body


def without_points(report: dict) -> dict:
    return {
        "total": {k: v for k, v in report["total"].items() if k != "points"},
        "groups": [{k: v for k, v in g.items() if k != "points"} for g in report["groups"]],
    }


async def test_months_follow_ratings_voids_defaults_and_follow_ups_across_the_new_year(hall: HallClient):
    await play_new_year(hall)
    assert await month_drift(hall.db) == []
    months = await hall.db.fetchall(
        "SELECT month, SUM(served), SUM(g1), SUM(g2), SUM(g3), SUM(g4), SUM(g5), SUM(follow_ups), "
        "SUM(real_name_bad) FROM rating_months GROUP BY month ORDER BY month"
    )
    # December: 6 services; d1 5, d5 4 (rated in January), d3 default 5, d4 voided, d2 1 and its
    # 追评, d6 2 anonymous. January: e1 3, e2 1 real-name. February: f1 5, f2 voided.
    assert [tuple(r) for r in months] == [
        ("2025-12", 6, 1, 1, 0, 1, 2, 1, 1),
        ("2026-01", 2, 1, 0, 1, 0, 0, 0, 1),
        ("2026-02", 2, 0, 0, 0, 0, 1, 0, 0),
    ]


@pytest.mark.parametrize("by", ["window", "department", "channel"])
async def test_statistics_answer_as_the_days_alone_would(hall: HallClient, by: str):
    """Ranges of whole months, parts of months and across the year's end, against the same range asked
    as a trend by day (which reads `rating_days` only)."""
    await play_new_year(hall)
    for first, last in [
        ("2025-12-01", "2025-12-31"),
        ("2025-12-01", "2026-02-28"),
        ("2025-12-31", "2026-01-05"),
        ("2025-12-30", "2026-02-02"),
        ("2025-12-15", "2026-02-10"),
        ("2026-01-01", "2026-01-31"),
        ("2026-01-05", "2026-01-05"),
        ("2025-11-01", "2026-02-28"),
    ]:
        months_and_days = await stats(hall, by=by, **{"from": first, "to": last})
        days_only = await stats(hall, by=by, period="day", **{"from": first, "to": last})
        assert without_points(months_and_days) == without_points(days_only), (first, last)
    december = {
        g["key"]: g for g in (await stats(hall, by="window", **{"from": "2025-12-01", "to": "2025-12-31"}))["groups"]
    }
    assert (december[1]["served"], december[1]["rated"], december[1]["grades"]) == (
        3, 2, {"5": 1, "4": 1, "3": 0, "2": 0, "1": 0},
    )  # fmt: skip
    assert (december[2]["follow_ups"], december[3]["defaulted"], december[4]["bad_reviews"]["count"]) == (1, 1, 1)


async def test_a_trend_by_month_has_the_figures_of_each_month_read_by_day(hall: HallClient):
    await play_new_year(hall)
    trend = await stats(hall, by="department", period="month", **{"from": "2025-12-01", "to": "2026-02-28"})
    assert trend["periods"] == ["2025-12", "2026-01", "2026-02"]
    for point, (first, last) in zip(
        trend["total"]["points"],
        [("2025-12-01", "2025-12-31"), ("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-02-28")],
        strict=True,
    ):
        days_only = await stats(hall, by="department", period="day", **{"from": first, "to": last})
        expected = {k: v for k, v in days_only["total"].items() if k not in ("points", "change")}
        assert {k: v for k, v in point.items() if k not in ("period", "change")} == expected


# -- the writer's roll-up against the old read, on many ranges ---------------------------------------


WINDOWS = {1: ("A", "行政服务中心"), 2: ("A", "行政服务中心"), 3: ("B", "自然资源和规划局"), 4: ("C", "人力社保局")}


def roll_ups(tx, seed: int) -> None:
    """Writer unit: services and ratings over 20 Nov 2025 … 10 Mar 2026 through store.roll_up, some taken
    back, and window 4 moved to another department in the middle of 15 January."""
    rng = random.Random(seed)
    start = D(2025, 11, 20)
    for i in range(3000):
        day = start + dt.timedelta(days=rng.randrange(111))
        window = rng.choice(list(WINDOWS))
        section, department = WINDOWS[window]
        if window == 4 and (day > D(2026, 1, 15) or (day == D(2026, 1, 15) and i % 2)):
            department = "医疗保障局"
        s = {
            "window_no": window,
            "staff_user_id": rng.choice([None, 10 + window, 20 + window]),
            "section": section,
            "matter": rng.choice(["户籍迁入", "身份证换领", ""]),
            "department": department,
        }
        store.roll_up(tx, day.isoformat(), s, "", served=1)
        if rng.random() < 0.8:
            channel = rng.choice(["pad", "qr", "web", "sms", "hotline", "default"])
            grade = rng.choice([1, 2, 3, 4, 5, 5, 5])
            follow_up = rng.random() < 0.05
            bad = grade <= 2 and rng.random() < 0.5
            store.roll_up(tx, day.isoformat(), s, channel, grade=grade, follow_up=follow_up, real_name_bad=bad)
            if rng.random() < 0.05:  # voided
                store.roll_up(tx, day.isoformat(), s, channel, grade=grade, sign=-1, follow_up=follow_up,
                              real_name_bad=bad)  # fmt: skip
    moved = {"window_no": 4, "staff_user_id": 14, "section": "C", "matter": "社保卡申领"}
    for department in ("人力社保局", "医疗保障局"):  # the same day row before and after the move
        store.roll_up(tx, "2026-01-15", {**moved, "department": department}, "", served=1)
        store.roll_up(tx, "2026-01-15", {**moved, "department": department}, "qr", grade=4)


async def days_only(db, first: D, last: D, by: str, period: str | None, filters: dict) -> list[tuple]:
    """The statistics' roll-up read as it was before rating_months: every day from rating_days."""
    where, params = stats_store._where(first, last, filters, stats_store.DIMENSIONS)
    rows = await db.fetchall(
        f"SELECT {stats_store.DIMENSIONS[by]} AS key, {stats_store.PERIODS[period]} AS period, channel, "
        f"{stats_store.SUMS} FROM rating_days WHERE {where} GROUP BY 1, 2, 3",
        tuple(params),
    )
    return sorted(tuple(r) for r in rows)


async def test_the_roll_up_read_is_the_same_as_reading_days_alone(hall: HallClient):
    await hall.db.write(roll_ups, 2026)
    assert await month_drift(hall.db) == []
    assert await hall.db.fetchval("SELECT COUNT(DISTINCT department) FROM rating_months WHERE window_no = 4") == 2
    rng = random.Random(7)
    ranges = [
        (D(2025, 12, 1), D(2026, 2, 28)),
        (D(2025, 11, 1), D(2026, 3, 31)),
        (D(2026, 1, 15), D(2026, 1, 15)),
        (D(2026, 1, 1), D(2026, 1, 31)),
        (D(2025, 12, 31), D(2026, 1, 1)),
    ]
    for _ in range(25):
        first = D(2025, 11, 1) + dt.timedelta(days=rng.randrange(140))
        ranges.append((first, first + dt.timedelta(days=rng.randrange(120))))
    asked = 0
    for first, last in ranges:
        for by, period, filters in [
            ("window", None, {}),
            ("department", "month", {}),
            ("staff", None, {"window": 4}),
            ("matter", "month", {"department": "医疗保障局"}),
            ("channel", None, {"section": "A"}),
        ]:
            got = await stats_store.roll_up(hall.db, first, last, by, period, filters)
            assert sorted(tuple(r) for r in got) == await days_only(hall.db, first, last, by, period, filters), (
                first, last, by, period, filters,
            )  # fmt: skip
            asked += bool(got)
    assert asked > 100  # the comparisons compared something
