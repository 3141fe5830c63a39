"""Rating statistics (好差评 for managers): every figure against hand-computed values on a scripted month.

The month is in rating_month.py; the numbers below are counted by hand from its
table, never by calling the code under test.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from hall.clock import FakeClock
from hall.evaluation.stats import previous_range

from ..helpers import HallClient
from . import rating_month

D = dt.date


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(rating_month.START)


@pytest.fixture
def config(config):
    return rating_month.with_default_grades(config)


@pytest.fixture
async def month(hall: HallClient) -> rating_month.Month:
    return await rating_month.play(hall)


async def stats(hall: HallClient, query: str = "", status: int = 200) -> dict:
    code, body = await hall.get(f"/api/ratings/stats{query}", await hall.viewer())
    assert code == status, body
    return body


def by_key(report: dict) -> dict:
    return {g["key"]: g for g in report["groups"]}


async def test_every_figure_per_window_this_month_so_far(hall: HallClient, month):
    r = await stats(hall)  # default: by window, 1–23 November, compared with 1–23 October
    assert (r["from"], r["to"], r["by"]) == ("2026-11-01", "2026-11-23", "window")
    assert r["previous"] == {"from": "2026-10-01", "to": "2026-10-23"}
    assert r["good_grades"] == [5, 4] and r["min_sample"] == 10
    w = by_key(r)
    assert [g["name"] for g in r["groups"]] == [
        "1号窗口 综合窗口1",
        "2号窗口 综合窗口2",
        "3号窗口 不动产窗口",
        "4号窗口 社保窗口",
    ]

    # Window 1: s1 5, s2 5, s3 4, s4 3 rated by citizens; s5 given the default 5.
    one = w[1]
    assert (one["served"], one["rated"], one["defaulted"], one["unrated"]) == (5, 4, 1, 0)
    assert (one["rated_rate"], one["defaulted_rate"], one["unrated_rate"]) == (0.8, 0.2, 0.0)
    assert one["grades"] == {"5": 2, "4": 1, "3": 1, "2": 0, "1": 0}
    assert one["average"] == 4.25  # 17 / 4
    assert (one["good"], one["good_rate"], one["bad"], one["bad_rate"]) == (3, 0.75, 0, 0.0)
    assert one["bad_reviews"]["count"] == 0 and one["bad_reviews"]["reply_rate"] is None
    # October: a1 5, a2 4 (served 2, rated 2, average 4.5, 好评率 100%).
    assert one["change"] == {
        "served": 3, "rated": 2, "rated_rate": -0.2, "average": -0.25, "good_rate": -0.25, "bad_rate": 0.0
    }  # fmt: skip

    # Window 2: t1 1, t2 2, t3 5; t4's 5 voided (counts nowhere: t4 is unrated); t1's 追评 apart.
    two = w[2]
    assert (two["served"], two["rated"], two["defaulted"], two["unrated"]) == (4, 3, 0, 1)
    assert (two["rated_rate"], two["unrated_rate"]) == (0.75, 0.25)
    assert two["grades"] == {"5": 1, "4": 0, "3": 0, "2": 1, "1": 1}
    assert two["average"] == 2.67  # 8 / 3
    assert (two["good_rate"], two["bad_rate"], two["follow_ups"]) == (0.3333, 0.6667, 1)
    # t1 (real name): verified, rectified, revisited satisfied. t2 (real name): its return visit
    # was not satisfied, so the rectification reopened: replied, but not (yet) rectified and revisited.
    assert two["bad_reviews"] == {
        "count": 2, "replied": 2, "reply_rate": 1.0, "real_name": 2, "rectified_revisited": 1,
        "rectify_revisit_rate": 0.5, "answered": 1, "satisfied": 1, "fix_satisfaction_rate": 1.0,
    }  # fmt: skip
    assert set(two["change"].values()) == {None}  # nothing in October

    # Window 3: u1 2 (anonymous), u2 4, u3 unrated. October: a3 2.
    three = w[3]
    assert (three["served"], three["rated"], three["unrated"], three["average"]) == (3, 2, 1, 3.0)
    assert (three["good_rate"], three["bad_rate"]) == (0.5, 0.5)
    b = three["bad_reviews"]  # anonymous: replied (looked into), never in the real-name rates
    assert (b["count"], b["replied"], b["real_name"], b["rectify_revisit_rate"], b["answered"]) == (1, 1, 0, None, 0)
    assert b["fix_satisfaction_rate"] is None
    assert three["change"]["good_rate"] == 0.5 and three["change"]["average"] == 1.0  # from 0% and 2.0

    # Window 4: v1 1 (real name, 不属实: nothing to rectify, revisited satisfied), v2 5.
    four = w[4]
    assert (four["served"], four["rated"], four["average"], four["good_rate"]) == (2, 2, 3.0, 0.5)
    assert four["bad_reviews"]["rectify_revisit_rate"] == 1.0 and four["bad_reviews"]["fix_satisfaction_rate"] == 1.0

    t = r["total"]
    assert (t["served"], t["rated"], t["defaulted"], t["unrated"]) == (14, 11, 1, 2)
    assert t["grades"] == {"5": 4, "4": 2, "3": 1, "2": 2, "1": 2}
    assert t["average"] == 3.36  # (20 + 8 + 3 + 4 + 2) / 11 = 3.3636
    assert (t["good_rate"], t["bad_rate"]) == (0.5455, 0.3636)  # 6 / 11, 4 / 11
    assert (t["rated_rate"], t["defaulted_rate"], t["unrated_rate"]) == (0.7857, 0.0714, 0.1429)  # of 14
    assert t["follow_ups"] == 1
    tb = t["bad_reviews"]
    assert (tb["count"], tb["replied"], tb["real_name"], tb["rectified_revisited"]) == (4, 4, 3, 2)
    assert (tb["rectify_revisit_rate"], tb["answered"], tb["fix_satisfaction_rate"]) == (0.6667, 2, 1.0)
    # October: 3 served, 3 rated (5, 4, 2): 好评率 2/3, average 3.67.
    assert t["change"]["served"] == 11 and t["change"]["good_rate"] == round(0.5455 - 0.6667, 4)
    assert t["change"]["average"] == round(3.36 - 3.67, 4)


async def test_other_groupings_and_their_names(hall: HallClient, month):
    staff = by_key(await stats(hall, "?by=staff"))
    assert staff[month.staff_ids[1]]["name"] == "员工1(001)" and staff[month.staff_ids[1]]["rated"] == 4
    assert staff[month.staff_ids[2]]["name"] == "员工2(002)" and staff[month.staff_ids[2]]["average"] == 2.67

    departments = by_key(await stats(hall, "?by=department"))
    centre = departments["行政服务中心"]  # windows 1 and 2: 5 5 4 3 | 1 2 5
    assert (centre["served"], centre["rated"], centre["average"], centre["good_rate"]) == (9, 7, 3.57, 0.5714)
    assert centre["bad_reviews"]["count"] == 2 and departments["人力社保局"]["rated"] == 2

    sections = by_key(await stats(hall, "?by=section"))
    assert sections["A"]["name"] == "A 综合受理" and sections["A"]["rated"] == 7 and sections["B"]["served"] == 3

    matters = by_key(await stats(hall, "?by=matter"))
    # 户籍迁入: s1 5, s2 5, t1 1, t2 2 rated; s5 defaulted. 身份证换领: s3 4, s4 3, t3 5 (t4 voided).
    assert (matters["户籍迁入"]["served"], matters["户籍迁入"]["rated"], matters["户籍迁入"]["defaulted"]) == (5, 4, 1)
    assert matters["户籍迁入"]["average"] == 3.25 and matters["身份证换领"]["average"] == 4.0

    channels = await stats(hall, "?by=channel")
    c = by_key(channels)
    assert [g["key"] for g in channels["groups"]] == ["default", "hotline", "pad", "qr", "sms", "web"]
    assert c["pad"]["name"] == "窗口评价器" and c["qr"]["name"] == "扫码评价"
    assert (c["pad"]["rated"], c["pad"]["average"], c["pad"]["good_rate"]) == (2, 4.5, 1.0)  # s2 5, u2 4
    assert (c["qr"]["rated"], c["qr"]["average"], c["qr"]["bad_rate"]) == (6, 2.67, 0.6667)  # 5 1 2 2 1 5
    assert (c["default"]["rated"], c["default"]["defaulted"]) == (0, 1)
    assert c["qr"]["served"] is None and c["qr"]["rated_rate"] is None  # a service has no channel until rated
    assert channels["total"]["served"] == 14 and channels["total"]["rated"] == 11


async def test_rankings_need_the_minimum_sample_and_ties_share_a_rank(hall: HallClient, month):
    ranked = await stats(hall, "?min_sample=2")
    # 好评率 then average: W1 75% | W3 50% 3.0, W4 50% 3.0 (tied) | W2 33%.
    assert [(g["key"], g["rank"]) for g in ranked["groups"]] == [(1, 1), (3, 2), (4, 2), (2, 4)]
    some = await stats(hall, "?min_sample=3")  # W3 and W4 have 2 ratings each: unranked, listed after
    assert [(g["key"], g["rank"]) for g in some["groups"]] == [(1, 1), (2, 2), (3, None), (4, None)]
    default = await stats(hall)  # [evaluation] min_sample = 10: nobody yet
    assert all(g["rank"] is None for g in default["groups"])


async def test_filters(hall: HallClient, month):
    window2 = await stats(hall, "?window=2")
    assert [g["key"] for g in window2["groups"]] == [2] and window2["total"]["rated"] == 3
    centre = await stats(hall, "?by=staff&department=行政服务中心")
    assert sorted(g["name"] for g in centre["groups"]) == ["员工1(001)", "员工2(002)"]
    qr = await stats(hall, "?channel=qr")
    w = by_key(qr)
    assert (w[1]["rated"], w[2]["rated"], w[3]["rated"], w[4]["rated"]) == (1, 2, 1, 2)
    assert w[1]["served"] is None and qr["total"]["served"] is None  # services have no channel
    assert qr["total"]["bad_reviews"]["count"] == 4  # every bad review came by QR
    matter = await stats(hall, "?matter=社保卡申领&by=department")
    assert [(g["key"], g["rated"]) for g in matter["groups"]] == [("人力社保局", 2)]
    staff = await stats(hall, f"?staff={month.staff_ids[3]}")
    assert [(g["key"], g["served"]) for g in staff["groups"]] == [(3, 3)]


async def test_a_trend_by_month_and_by_day(hall: HallClient, month):
    r = await stats(hall, "?from=2026-10-01&to=2026-11-23&period=month&min_sample=1")
    assert r["periods"] == ["2026-10", "2026-11"]
    one = by_key(r)[1]
    assert [(p["period"], p["rated"], p["good_rate"]) for p in one["points"]] == [
        ("2026-10", 2, 1.0), ("2026-11", 4, 0.75)
    ]  # fmt: skip
    assert one["points"][1]["change"]["good_rate"] == -0.25 and one["points"][0]["change"]["good_rate"] is None
    assert (one["served"], one["rated"]) == (7, 6)  # the whole range
    assert [p["rated"] for p in r["total"]["points"]] == [3, 11]
    days = await stats(hall, "?from=2026-11-16&to=2026-11-23&period=day")
    assert days["periods"][0] == "2026-11-16" and len(days["periods"]) == 8
    two = by_key(days)[2]
    rated = {p["period"]: p["rated"] for p in two["points"] if p["rated"]}
    assert rated == {"2026-11-16": 2, "2026-11-23": 1}
    assert days["previous"] == {"from": "2026-11-08", "to": "2026-11-15"}


def test_previous_range_rules():
    assert previous_range(D(2026, 11, 1), D(2026, 11, 23)) == (D(2026, 10, 1), D(2026, 10, 23))  # month so far
    assert previous_range(D(2026, 3, 1), D(2026, 3, 30)) == (D(2026, 2, 1), D(2026, 2, 28))  # cut at Feb's end
    assert previous_range(D(2026, 3, 1), D(2026, 3, 31)) == (D(2026, 2, 1), D(2026, 2, 28))  # whole month
    assert previous_range(D(2026, 1, 1), D(2026, 3, 31)) == (D(2025, 10, 1), D(2025, 12, 31))  # a quarter
    assert previous_range(D(2026, 11, 10), D(2026, 11, 16)) == (D(2026, 11, 3), D(2026, 11, 9))  # 7 days
    assert previous_range(D(2026, 11, 23), D(2026, 11, 23)) == (D(2026, 11, 22), D(2026, 11, 22))  # a day


async def test_drill_down_lists_exactly_the_ratings_a_figure_counts(hall: HallClient, month):
    manager = await hall.viewer()
    base = "/api/ratings?on=service&from=2026-11-01&to=2026-11-23"

    async def ids(query: str) -> set[int]:
        status, body = await hall.get(base + query, manager)
        assert status == 200, body
        return {r["id"] for r in body["ratings"]}

    ratings = month.ratings
    assert await ids("&window=2&kind=first&active=1&voided=0") == {ratings[k]["id"] for k in ("t1", "t2", "t3")}
    assert await ids("&window=2&bad=1&kind=first&voided=0") == {ratings["t1"]["id"], ratings["t2"]["id"]}
    assert await ids("&window=1&grade=5,4&active=1&voided=0&kind=first") == {
        ratings[k]["id"] for k in ("s1", "s2", "s3")
    }
    assert await ids("&window=2&kind=follow_up") == {ratings["t1+"]["id"]}
    assert await ids("&voided=1") == {ratings["t4"]["id"]}
    assert len(await ids("&channel=default")) == 1
    status, body = await hall.get("/api/ratings?on=service&from=2026-10-01&to=2026-10-23&window=3", manager)
    assert [r["grade"] for r in body["ratings"]] == [2]  # a3

    status, detail = await hall.get(f"/api/ratings/{ratings['t1']['id']}", manager)
    assert status == 200
    assert detail["ticket"]["number"] == month.tickets["t1"]["number"] and detail["ticket"]["matter"] == "户籍迁入"
    assert detail["ticket"]["issued_at"] and detail["ticket"]["called_at"] and detail["ticket"]["finished_at"]
    assert detail["window"] == {"no": 2, "name": "综合窗口2", "department": "行政服务中心"}
    assert detail["staff"]["staff_no"] == "002" and detail["staff"]["name"] == "员工2"
    assert detail["rater"] == {
        "anonymous": False,
        "name": "张**",
        "phone": "138****8000",
        "id_number": "1101**********1239",
    }
    assert (detail["grade"], detail["tags"], detail["comment"]) == (1, ["态度恶劣"], "窗口人员态度差")
    assert detail["bad_review"]["status"] == "closed" and detail["bad_review"]["result"] == "satisfied"
    status, t2 = await hall.get(f"/api/ratings/{ratings['t2']['id']}", manager)
    assert t2["bad_review"]["stage"] == "rectify" and t2["bad_review"]["round"] == 2
    status, voided = await hall.get(f"/api/ratings/{ratings['t4']['id']}", manager)
    assert voided["voided"] is True and voided["void_reason"] == "申诉:误点" and voided["bad_review"] is None


@pytest.mark.parametrize(
    "query, code, field",
    [
        ("?from=2026-13-01", "invalid_date", "from"),
        ("?to=23/11/2026", "invalid_date", "to"),
        ("?from=2026-11-20&to=2026-11-01", "invalid_range", "from"),
        ("?from=2000-01-01&to=2026-11-23", "invalid_range", "to"),
        ("?from=2025-01-01&to=2026-11-23&period=day", "invalid_range", "period"),
        ("?by=floor", "invalid_field", "by"),
        ("?period=week", "invalid_field", "period"),
        ("?window=five", "invalid_field", "window"),
        ("?channel=fax", "invalid_field", "channel"),
        ("?min_sample=0", "invalid_field", "min_sample"),
        ("?format=pdf", "invalid_field", "format"),
        ("?windw=5", "unknown_field", "windw"),
    ],
)
async def test_bad_input_is_refused_in_chinese(hall: HallClient, query, code, field):
    body = await stats(hall, query, status=400)
    assert body["error"]["code"] == code and body["error"]["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"])


async def test_only_managers_see_rating_statistics(hall: HallClient):
    staff = await hall.user("staff")
    for path in ("/api/ratings/stats", "/api/ratings/stats?format=csv", "/api/ratings?on=service", "/api/ratings/1"):
        status, body = await hall.get(path, staff)
        assert status == 403, path  # the rated staff member never sees who rated them
        status, body = await hall.get(path)
        assert status == 401, path
    assert (await hall.get("/api/ratings/stats", await hall.user("admin")))[0] == 200


async def test_csv_and_xlsx_hold_the_table(hall: HallClient, month):
    manager = await hall.viewer()
    async with hall.client.get("/api/ratings/stats?format=csv&min_sample=2", headers=manager) as resp:
        assert resp.status == 200 and resp.content_type == "text/csv"
        assert "attachment" in resp.headers["Content-Disposition"]
        text = (await resp.read()).decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text[1:].splitlines()
    assert lines[0].startswith("按窗口评价统计 2026-11-01 至 2026-11-23")
    header = lines[1].split(",")
    assert header[:4] == ["窗口", "名称", "排名", "办件量"] and "好评率(%)" in header
    first = lines[2].split(",")
    assert first[:4] == ["1", "1号窗口 综合窗口1", "1", "5"] and first[header.index("好评率(%)")] == "75.0"
    assert lines[-1].split(",")[:4] == ["合计", "", "", "14"]

    async with hall.client.get("/api/ratings/stats?format=xlsx&by=department", headers=manager) as resp:
        assert resp.status == 200 and "spreadsheetml" in resp.content_type
        book = load_workbook(io.BytesIO(await resp.read()))
    sheet = book.worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[1]
    centre = next(r for r in rows if r[0] == "行政服务中心")
    assert centre[header.index("办件量")] == 9 and centre[header.index("主动评价")] == 7
    assert centre[header.index("平均分")] == 3.57 and centre[header.index("好评率(%)")] == 57.1
    assert centre[header.index("差评数")] == 2 and centre[header.index("整改回访率(%)")] == 50.0
    assert centre[header.index("非常不满意(1)")] == 1
    total = rows[-1]
    assert total[0] == "合计" and total[header.index("办件量")] == 14 and total[header.index("好评率(%)")] == 54.5
