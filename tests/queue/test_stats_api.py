"""Statistics over HTTP against a scripted day whose figures were computed by hand (see scripted_day)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from hall.queue import stats_store
from hall.queue.stats import span as stats_span

from ..conftest import at
from ..helpers import HallClient
from .scripted_day import MONDAY, TUESDAY, finish_monday, play_monday, play_tuesday

ZERO_HOURS = [0] * 24


def date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def hours(**counts: int) -> list[int]:
    """hours(h8=3, h9=4) → 24 buckets."""
    out = [0] * 24
    for key, n in counts.items():
        out[int(key[1:])] = n
    return out


def outcomes(done: int = 0, supplement: int = 0, rejected: int = 0, other: int = 0) -> dict[str, int]:
    return {"done": done, "supplement": supplement, "rejected": rejected, "other": other}


def pick(group: dict, expected: dict) -> dict:
    return {k: group[k] for k in expected}


async def stats(hall: HallClient, query: str = "", status: int = 200) -> dict:
    code, body = await hall.get(f"/api/stats{query}", await hall.viewer())
    assert code == status, body
    return body


# Monday at 10:10, by section. Waits: A 1500, 1560, 360 (avg 1140); B 1320, 600 (avg 960); C 1020.
# Services: A 540 (A001 08:56→09:05), 300 (A003 09:06→09:11, never started); B 360 (B002 09:45→09:51,
# from the call back); C 720 (B001 09:13→09:25 at window 1, after its transfer from B).
MONDAY_BY_SECTION = {
    "A": {
        "issued": 4, "called": 3, "served": 2, "no_shows": 1, "transfers": 0,
        "wait_avg_s": 1140, "wait_max_s": 1560, "service_avg_s": 420, "service_count": 2,
        "outcomes": outcomes(done=1, supplement=1), "assisted": 1,
        "issued_by_hour": hours(h8=2, h9=2), "served_by_hour": hours(h9=2),
    },
    "B": {
        "issued": 2, "called": 2, "served": 1, "no_shows": 0, "transfers": 1,
        "wait_avg_s": 960, "wait_max_s": 1320, "service_avg_s": 360, "service_count": 1,
        "outcomes": outcomes(rejected=1), "assisted": 0,
        "issued_by_hour": hours(h8=1, h9=1), "served_by_hour": hours(h9=1),
    },
    "C": {
        "issued": 2, "called": 1, "served": 1, "no_shows": 0, "transfers": 0,
        "wait_avg_s": 1020, "wait_max_s": 1020, "service_avg_s": 720, "service_count": 1,
        "outcomes": outcomes(done=1), "assisted": 1,
        "issued_by_hour": hours(h9=1, h10=1), "served_by_hour": hours(h9=1),
    },
}  # fmt: skip
# Waits 1500+1560+360+1320+600+1020 = 6360 / 6 = 1060; services 540+300+360+720 = 1920 / 4 = 480.
MONDAY_TOTAL = {
    "issued": 8, "called": 6, "served": 4, "no_shows": 1, "transfers": 1,
    "wait_avg_s": 1060, "wait_max_s": 1560, "service_avg_s": 480, "service_count": 4,
    "outcomes": outcomes(done=2, supplement=1, rejected=1), "assisted": 2,
    "issued_by_hour": hours(h8=3, h9=4, h10=1), "served_by_hour": hours(h9=4),
}  # fmt: skip

# Window time to 10:10. w1: on duty 08:50→10:10 = 4800; paused 10:05→10:10 = 300; busy 08:55→09:05,
# 09:06→09:11, 09:12→09:25 = 1680; idle 4800 − 300 − 1680 = 2820. w2: on duty 08:50→10:00 = 4200;
# paused 09:15→09:35 = 1200; busy 08:57→09:01, 09:02→09:10 = 720; idle 2280. w3: on duty 09:20→10:10
# = 3000; busy 09:40→09:42, 09:45→09:51 = 480; idle 2520. w4: on duty 10:06→10:10 = 240; busy from 10:07.
MONDAY_BY_WINDOW = {
    1: {"called": 2, "wait_avg_s": 930, "wait_max_s": 1500, "served": 3, "service_avg_s": 520,
        "no_shows": 0, "transfers": 0, "outcomes": outcomes(done=2, supplement=1), "assisted": 2,
        "on_duty_s": 4800, "paused_s": 300, "idle_s": 2820, "issued": None, "served_by_hour": hours(h9=3)},
    2: {"called": 2, "wait_avg_s": 1440, "wait_max_s": 1560, "served": 0, "service_avg_s": None,
        "no_shows": 1, "transfers": 1, "outcomes": outcomes(), "assisted": 0,
        "on_duty_s": 4200, "paused_s": 1200, "idle_s": 2280, "issued": None, "served_by_hour": ZERO_HOURS},
    3: {"called": 1, "wait_avg_s": 600, "wait_max_s": 600, "served": 1, "service_avg_s": 360,
        "no_shows": 0, "transfers": 0, "outcomes": outcomes(rejected=1), "assisted": 0,
        "on_duty_s": 3000, "paused_s": 0, "idle_s": 2520, "issued": None, "served_by_hour": hours(h9=1)},
    4: {"called": 1, "wait_avg_s": 1020, "wait_max_s": 1020, "served": 0, "service_avg_s": None,
        "no_shows": 0, "transfers": 0, "outcomes": outcomes(), "assisted": 0,
        "on_duty_s": 240, "paused_s": 0, "idle_s": 60, "issued": None, "served_by_hour": ZERO_HOURS},
}  # fmt: skip


@pytest.fixture
async def monday(hall: HallClient):
    return await play_monday(hall)


async def test_monday_by_section(hall: HallClient, monday):
    report = await stats(hall)  # defaults: today, by section
    assert (report["from"], report["to"], report["by"]) == (MONDAY, MONDAY, "section")
    assert [g["key"] for g in report["groups"]] == ["A", "B", "C"]
    assert [g["name"] for g in report["groups"]] == ["综合受理", "不动产登记", "社保医保"]
    for group in report["groups"]:
        expected = MONDAY_BY_SECTION[group["key"]]
        assert pick(group, expected) == expected, group["key"]
    assert pick(report["total"], MONDAY_TOTAL) == MONDAY_TOTAL
    assert report["by_hour"] == {"issued": hours(h8=3, h9=4, h10=1), "served": hours(h9=4)}
    assert report["by_day"] == [{"day": MONDAY, "issued": 8, "served": 4, "no_shows": 1}]
    zhaomin = monday.ids["zhaomin"]
    assert report["assisted"] == [{"staff": zhaomin, "name": "赵敏", "staff_no": "0104", "count": 2}]


async def test_monday_by_window(hall: HallClient, monday):
    report = await stats(hall, f"?from={MONDAY}&to={MONDAY}&by=window")
    assert [(g["key"], g["name"]) for g in report["groups"]] == [
        (1, "综合窗口1"), (2, "综合窗口2"), (3, "不动产窗口"), (4, "社保窗口")
    ]  # fmt: skip
    for group in report["groups"]:
        expected = MONDAY_BY_WINDOW[group["key"]]
        assert pick(group, expected) == expected, group["key"]
    assert pick(report["total"], MONDAY_TOTAL) == MONDAY_TOTAL


async def test_monday_by_staff(hall: HallClient, monday):
    report = await stats(hall, "?by=staff")
    ids = monday.ids
    rows = {g["key"]: g for g in report["groups"]}
    assert [(g["name"], g["staff_no"]) for g in report["groups"]] == [
        ("李娜", "0101"), ("王芳", "0102"), ("张伟", "0103"), ("赵敏", "0104")
    ]  # fmt: skip
    # Each staff member worked one window all morning: their figures are that window's, except
    # that by staff "assisted" counts the services a person assisted, not those they served.
    for user, window in (("lina", 1), ("wangfang", 2), ("zhangwei", 3)):
        expected = {**MONDAY_BY_WINDOW[window], "assisted": 0}
        assert pick(rows[ids[user]], expected) == expected, user
    zhaomin = {**MONDAY_BY_WINDOW[4], "assisted": 2}
    assert pick(rows[ids["zhaomin"]], zhaomin) == zhaomin
    assert report["total"]["assisted"] == 2


async def test_today_live(hall: HallClient, monday):
    code, live = await hall.get("/api/stats/live", await hall.viewer())
    assert code == 200, live
    assert live["hall"]["day"] == MONDAY and live["hall"]["now"] == "2026-11-23T10:10:00+08:00"
    assert live["totals"] == {
        "waiting": 2, "issued": 8, "called": 6, "served": 4, "no_shows": 1, "transfers": 1,
        "wait_avg_s": 1060, "wait_max_s": 1560, "service_avg_s": 480,
    }  # fmt: skip
    sections = {s["id"]: s for s in live["sections"]}
    # A004 waits since 09:55 (900 s at 10:10); C002 since 10:02 (480 s); nobody waits in B.
    longest = {k: (s["waiting"], s["longest_wait_s"], s["longest_number"]) for k, s in sections.items()}
    assert longest == {"A": (1, 900, "A004"), "B": (0, None, None), "C": (1, 480, "C002")}
    assert [(s["issued"], s["served"], s["no_shows"]) for s in live["sections"]] == [(4, 2, 1), (2, 1, 0), (2, 1, 0)]
    windows = {w["no"]: w for w in live["windows"]}
    assert [(w["state"], w["staff"] and w["staff"]["name"]) for w in live["windows"]] == [
        ("paused", "李娜"), ("closed", None), ("open", "张伟"), ("open", "赵敏")
    ]  # fmt: skip
    assert windows[4]["current"] == {
        "number": "C001", "section": "C", "status": "serving", "status_name": "办理中",
        "called_at": "2026-11-23T10:07:00+08:00",
    }  # fmt: skip
    assert [w["current"] for w in live["windows"][:3]] == [None, None, None]
    for no in (1, 2, 3, 4):
        expected = {k: MONDAY_BY_WINDOW[no][k] for k in ("on_duty_s", "paused_s", "idle_s", "served")}
        assert pick(windows[no], expected) == expected, no


async def test_two_days(hall: HallClient, monday):
    await finish_monday(hall, monday)
    await play_tuesday(hall, monday)
    report = await stats(hall, f"?from={MONDAY}&to={TUESDAY}")
    rows = {g["key"]: g for g in report["groups"]}
    # A gains Tuesday's A001: wait 900, service 300 (09:15→09:20, never started).
    a = {"issued": 5, "called": 4, "wait_avg_s": 1080, "wait_max_s": 1560, "served": 3, "service_avg_s": 380,
         "outcomes": outcomes(done=2, supplement=1), "issued_by_hour": hours(h8=2, h9=3)}  # fmt: skip
    assert pick(rows["A"], a) == a
    assert pick(rows["B"], MONDAY_BY_SECTION["B"]) == MONDAY_BY_SECTION["B"]
    # C001 finished at 10:20 after starting at 10:08: 720, like B001.
    c = {"issued": 2, "called": 1, "served": 2, "service_avg_s": 720, "outcomes": outcomes(done=2), "assisted": 1}
    assert pick(rows["C"], c) == c
    # Waits 6360 + 900 = 7260 / 7 = 1037.14; services 1920 + 720 + 300 = 2940 / 6 = 490.
    total = {"issued": 9, "called": 7, "served": 6, "no_shows": 1, "transfers": 1, "wait_avg_s": 1037.1,
             "wait_max_s": 1560, "service_avg_s": 490, "outcomes": outcomes(done=4, supplement=1, rejected=1),
             "issued_by_hour": hours(h8=3, h9=5, h10=1), "served_by_hour": hours(h9=5, h10=1)}  # fmt: skip
    assert pick(report["total"], total) == total
    assert report["by_day"] == [
        {"day": MONDAY, "issued": 8, "served": 5, "no_shows": 1},
        {"day": TUESDAY, "issued": 1, "served": 1, "no_shows": 0},
    ]
    windows = {g["key"]: g for g in (await stats(hall, f"?from={MONDAY}&to={TUESDAY}&by=window"))["groups"]}
    # w1: Monday on duty 08:50→10:30 = 6000 (paused 10:05→10:30 = 1500), Tuesday 09:10→09:30 = 1200;
    # idle Monday 2820, Tuesday 09:10→09:15 + 09:20→09:30 = 900. w4: 10:06→10:30 = 1440, idle 60 + 600.
    assert pick(windows[1], {"on_duty_s": 0, "paused_s": 0, "idle_s": 0, "served": 0, "service_avg_s": 0}) == {
        "on_duty_s": 7200, "paused_s": 1500, "idle_s": 3720, "served": 4, "service_avg_s": 465
    }  # fmt: skip
    assert (windows[4]["on_duty_s"], windows[4]["idle_s"], windows[4]["paused_s"]) == (1440, 660, 0)
    tuesday = await stats(hall, f"?from={TUESDAY}&to={TUESDAY}")
    assert pick(tuesday["total"], {"issued": 1, "called": 1, "served": 1, "wait_avg_s": 900}) == {
        "issued": 1, "called": 1, "served": 1, "wait_avg_s": 900
    }  # fmt: skip


async def test_a_ticket_issued_before_the_range_counts_as_served_in_it(hall: HallClient):
    """C (open around the clock): issued Monday 23:50, called 23:55, started 23:56, finished Tuesday 00:10."""
    hall.clock.set(at(f"{MONDAY} 23:45"))
    staff = await hall.staff_at(4)
    hall.clock.set(at(f"{MONDAY} 23:50"))
    await hall.issue("C")
    for day, when, action in (
        (MONDAY, "23:55", "call"),
        (MONDAY, "23:56", "start"),
        (TUESDAY, "00:10", "finish"),
        (TUESDAY, "00:20", "close"),
    ):
        hall.clock.set(at(f"{day} {when}"))
        status, body = await hall.act(staff, 4, action)
        assert status == 200, body
    monday_report = await stats(hall, f"?from={MONDAY}&to={MONDAY}&by=window")
    tuesday_report = await stats(hall, f"?from={TUESDAY}&to={TUESDAY}&by=window")
    fields = ("issued", "called", "wait_avg_s", "served", "service_avg_s")
    assert [monday_report["total"][k] for k in fields] == [1, 1, 300, 0, None]
    assert [tuesday_report["total"][k] for k in fields] == [0, 0, None, 1, 840]  # 23:56 → 00:10
    # Window 4: Monday 23:45→24:00 on duty, idle until the call at 23:55; Tuesday 00:00→00:20, idle from 00:10.
    w4 = [r["groups"][3] for r in (monday_report, tuesday_report)]
    assert [(w["on_duty_s"], w["idle_s"]) for w in w4] == [(900, 600), (1200, 600)]


async def test_events_are_read_page_by_page_in_id_order_and_only_those_the_statistics_use(hall: HallClient, monday):
    span = stats_span(date(MONDAY), date(MONDAY), hall.config)
    pages = [page async for page in stats_store.events_between(hall.db, span.start, span.end, page=7)]
    whole = [e async for page in stats_store.events_between(hall.db, span.start, span.end) for e in page]
    assert len(pages) > 5 and all(len(page) <= 7 for page in pages)
    assert [e.id for page in pages for e in page] == [e.id for e in whole] == sorted(e.id for e in whole)
    assert {e.type for e in whole} == set(stats_store.STAT_EVENTS) - {"ticket.requeued", "ticket.cancelled"}
    others = await hall.db.fetchval("SELECT COUNT(*) FROM events WHERE type IN ('user.created', 'session.opened')")
    assert others > 0  # in the log, but not read


# -- exports ------------------------------------------------------------------------


async def download(hall: HallClient, query: str) -> tuple[bytes, dict]:
    async with hall.client.get(f"/api/stats{query}", headers=await hall.viewer()) as resp:
        assert resp.status == 200
        return await resp.read(), dict(resp.headers)


def csv_tables(raw: bytes) -> dict[str, list[list[str]]]:
    """The CSV's tables by title: each is a title row, a header and rows, separated by empty rows."""
    out, current = {}, None
    for row in csv.reader(io.StringIO(raw.decode("utf-8-sig"))):
        if not row:
            current = None
        elif current is None:
            current = out.setdefault(row[0].split(" ")[0], [])
        else:
            current.append(row)
    return out


async def test_csv_holds_the_same_figures(hall: HallClient, monday):
    raw, headers = await download(hall, f"?from={MONDAY}&to={MONDAY}&by=section&format=csv")
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"] == f'attachment; filename="hall-stats-{MONDAY}_{MONDAY}-section.csv"'
    tables = csv_tables(raw)
    assert list(tables) == ["按业务板块统计", "按小时(各日合计)", "按日", "帮办代办"]
    header, *rows = tables["按业务板块统计"]
    assert header[:10] == ["板块", "名称", "已取号", "已叫号", "已办结", "过号", "转窗", "平均等候(秒)", "最长等候(秒)",
                           "平均办理时长(秒)"]  # fmt: skip
    parsed = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert list(parsed) == ["A", "B", "C", "合计"]
    for key, expected in [*MONDAY_BY_SECTION.items(), ("合计", MONDAY_TOTAL)]:
        row = parsed[key]
        assert int(row["已取号"]) == expected["issued"] and int(row["已办结"]) == expected["served"]
        assert int(row["过号"]) == expected["no_shows"] and int(row["转窗"]) == expected["transfers"]
        assert float(row["平均等候(秒)"]) == expected["wait_avg_s"]
        assert float(row["最长等候(秒)"]) == expected["wait_max_s"]
        assert float(row["平均办理时长(秒)"]) == expected["service_avg_s"]
        assert int(row["结果:补正材料"]) == expected["outcomes"]["supplement"]
        assert int(row["帮办代办"]) == expected["assisted"]
    hour_rows = tables["按小时(各日合计)"][1:]
    assert [int(r[1]) for r in hour_rows] == MONDAY_TOTAL["issued_by_hour"]
    assert hour_rows[9] == ["09:00-10:00", "4", "4"]
    assert tables["帮办代办"] == [["姓名", "工号", "帮办代办件数"], ["赵敏", "0104", "2"]]


async def test_csv_by_window_has_time_on_duty_and_leaves_unknown_figures_empty(hall: HallClient, monday):
    raw, _ = await download(hall, "?by=window&format=csv")
    header, *rows = csv_tables(raw)["按窗口统计"]
    assert "已取号" not in header and header[-3:] == ["在岗时长(秒)", "暂停时长(秒)", "空闲时长(秒)"]
    w2 = dict(zip(header, rows[1], strict=True))
    assert (w2["窗口号"], w2["名称"], w2["平均办理时长(秒)"]) == ("2", "综合窗口2", "")
    assert [float(w2[k]) for k in header[-3:]] == [4200, 1200, 2280]


async def test_xlsx_holds_the_same_figures(hall: HallClient, monday):
    raw, headers = await download(hall, "?by=window&format=xlsx")
    assert headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert headers["Content-Disposition"] == f'attachment; filename="hall-stats-{MONDAY}_{MONDAY}-window.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(raw))
    assert book.sheetnames == ["按窗口统计", "按小时(各日合计)", "按日", "帮办代办"]
    sheet = list(book["按窗口统计"].values)
    assert sheet[0] == (f"按窗口统计 {MONDAY} 至 {MONDAY}",) + (None,) * (len(sheet[1]) - 1)
    header = sheet[1]
    rows = {row[0]: dict(zip(header, row, strict=True)) for row in sheet[2:]}
    assert list(rows) == [1, 2, 3, 4, "合计"]
    for no, expected in MONDAY_BY_WINDOW.items():
        row = rows[no]
        assert (row["已叫号"], row["已办结"], row["过号"], row["转窗"]) == (
            expected["called"], expected["served"], expected["no_shows"], expected["transfers"]
        )  # fmt: skip
        assert (row["平均等候(秒)"], row["最长等候(秒)"], row["平均办理时长(秒)"]) == (
            expected["wait_avg_s"], expected["wait_max_s"], expected["service_avg_s"]
        )  # fmt: skip
        assert (row["在岗时长(秒)"], row["暂停时长(秒)"], row["空闲时长(秒)"]) == (
            expected["on_duty_s"], expected["paused_s"], expected["idle_s"]
        )  # fmt: skip
    assert rows["合计"]["已办结"] == 4 and rows["合计"]["帮办代办"] == 2
    assert [r[1] for r in list(book["按小时(各日合计)"].values)[2:]] == MONDAY_TOTAL["issued_by_hour"]


async def test_a_name_that_looks_like_a_formula_is_exported_as_text(hall: HallClient):
    staff = await hall.staff_at(1, display_name='=HYPERLINK("http://x")')
    await hall.issue("A")
    await hall.call(staff, 1)
    raw, _ = await download(hall, "?by=staff&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(raw))["按工作人员统计"]
    assert sheet["A3"].value == '\'=HYPERLINK("http://x")' and sheet["A3"].data_type == "s"
    raw, _ = await download(hall, "?by=staff&format=csv")
    assert csv_tables(raw)["按工作人员统计"][1][0] == '\'=HYPERLINK("http://x")'


# -- bad requests and who may ask ---------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ("?from=2026-13-01", "invalid_date", "from"),
        ("?from=yesterday", "invalid_date", "from"),
        ("?to=2026-11-31", "invalid_date", "to"),
        ("?from=2026-W48-1", "invalid_date", "from"),
        ("?from=20261123", "invalid_date", "from"),
        ("?from=2026-11-24&to=2026-11-23", "invalid_range", "from"),
        ("?from=2025-11-22&to=2026-11-23", "range_too_long", "to"),  # 367 days
        ("?by=floor", "invalid_field", "by"),
        ("?format=pdf", "invalid_field", "format"),
    ],
)
async def test_bad_parameters_are_a_400_with_a_stable_code(hall: HallClient, query, code, field):
    body = await stats(hall, query, status=400)
    assert body["error"]["code"] == code and body["error"]["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"])  # told in Chinese


async def test_a_full_year_of_366_days_is_allowed(hall: HallClient):
    report = await stats(hall, "?from=2025-11-23&to=2026-11-23")
    assert len(report["by_day"]) == 366 and report["total"]["issued"] == 0


@pytest.mark.parametrize("path", ["/api/stats", "/api/stats/live", "/api/stats?format=csv"])
async def test_only_managers_and_admins_see_statistics(hall: HallClient, path):
    assert (await hall.get(path))[0] == 401
    status, body = await hall.get(path, await hall.user("staff"))
    assert status == 403 and body["error"]["code"] == "forbidden"
    for role in ("manager", "admin"):
        assert (await hall.get(path, await hall.user(role)))[0] == 200, role


async def test_pages_are_for_managers_only(hall: HallClient):
    for path in ("/manage", "/manage/stats"):
        async with hall.client.get(path, allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == f"/login?next={path}"
        async with hall.client.get(path, headers=await hall.user("staff")) as resp:
            assert resp.status == 403 and "无权" in await resp.text()
        async with hall.client.get(path, headers=await hall.user("manager")) as resp:
            assert resp.status == 200


async def test_the_report_page_tells_a_bad_range_on_the_form(hall: HallClient):
    async with hall.client.get("/manage/stats?from=2026-11-24&to=2026-11-23", headers=await hall.viewer()) as resp:
        assert resp.status == 400
        page = await resp.text()
    assert "开始日期不能晚于结束日期" in page and 'value="2026-11-24"' in page
