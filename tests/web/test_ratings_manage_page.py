"""The manager's rating statistics in a real browser: the table, another grouping, a figure's ratings, one rating."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from hall.clock import FakeClock

from ..evaluation import rating_month
from ..helpers import PASSWORD, HallClient
from .a11y import serious_violations, snapshot


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(rating_month.START)


@pytest.fixture
def config(config):
    return rating_month.with_default_grades(config)


def url(hall: HallClient, path: str) -> str:
    return str(hall.client.make_url(path))


async def cells(page, selector: str) -> list[list[str]]:
    return await page.eval_on_selector_all(
        f"{selector} tbody tr", "rows => rows.map(r => Array.from(r.children).map(c => c.textContent.trim()))"
    )


async def test_a_manager_drills_from_a_figure_down_to_one_rating(hall: HallClient, page):
    month = await rating_month.play(hall)
    await hall.create_user("wu", "manager", display_name="吴主任")
    await page.goto(url(hall, "/manage/ratings?min_sample=2"))
    assert "/login" in page.url
    await page.fill("input[name=username]", "wu")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/manage/ratings?min_sample=2")
    assert await page.inner_text("header nav a[href='/manage/ratings']") == "评价统计"
    await page.set_viewport_size({"width": 1600, "height": 1000})
    await snapshot(page, "ratings-manage")
    assert await serious_violations(page) == []

    rows = await cells(page, "#groups")
    # name, rank, served, rated, 主动评价率, 未评率, 默认, 5 4 3 2 1, average, 好评率, 差评率, …
    assert rows[0][:15] == ["1号窗口 综合窗口1", "1", "5", "4", "80.0%", "0.0%", "1", "2", "1", "1", "0", "0", "4.25",
                            "75.0%", "0.0%"]  # fmt: skip
    assert [r[0] for r in rows] == [
        "1号窗口 综合窗口1",
        "3号窗口 不动产窗口",
        "4号窗口 社保窗口",
        "2号窗口 综合窗口2",
        "合计",
    ]
    assert [r[1] for r in rows[:4]] == ["1", "2", "2", "4"]  # W3 and W4 tie
    assert rows[-1][2:4] == ["14", "11"] and await page.inner_text("#t-good_rate") == "54.5%"
    assert "▼ 25.0" in rows[0][18]  # 好评率 75% against October's 100%

    await page.click("#by-staff")
    await page.wait_for_url("**by=staff**")
    staff = await cells(page, "#groups")
    assert sorted(r[0] for r in staff[:-1]) == ["员工1(001)", "员工2(002)", "员工3(003)", "员工4(004)"]

    await page.click("#by-window")
    await page.wait_for_url("**by=window**")
    # Window 2's 差评率 (66.7%): the two bad first ratings t1 and t2.
    link = page.locator("#groups tbody tr", has_text="2号窗口 综合窗口2").locator("td:nth-child(15) a")
    assert await link.inner_text() == "66.7%"
    await link.click()
    await page.wait_for_url("**/manage/ratings/list?**")
    listed = await cells(page, "#ratings")
    assert sorted(r[1][:4] for r in listed) == sorted(month.tickets[k]["number"] for k in ("t1", "t2"))
    assert all("综合窗口2" in r[2] and "员工2(002)" == r[3] for r in listed)
    assert "138****8000" in " ".join(r[8] for r in listed) and "13800138000" not in await page.content()
    await snapshot(page, "ratings-list")
    assert await serious_violations(page) == []

    await page.click(f"a[href='/manage/ratings/{month.ratings['t1']['id']}']")
    await page.wait_for_url(f"**/manage/ratings/{month.ratings['t1']['id']}")
    detail = await page.inner_text("#rating-detail")
    for shown in (month.tickets["t1"]["number"], "户籍迁入", "A 综合受理", "2号窗口 综合窗口2", "行政服务中心",
                  "员工2(工号 002)", "态度恶劣", "窗口人员态度差", "扫码评价", "张**", "1101**********1239",
                  "已办结:回访满意", "2026-11-16"):  # fmt: skip
        assert shown in detail, shown
    await snapshot(page, "rating-detail")
    assert await serious_violations(page) == []
    await page.click("#reveal")
    await expect(page.locator("#rater-phone")).to_have_text("13800138000")
    await expect(page.locator("#rater-name")).to_have_text("张三丰")
    reads = await hall.db.fetchall("SELECT rating_id, purpose FROM rater_reads")
    assert [(r["rating_id"], r["purpose"]) for r in reads] == [(month.ratings["t1"]["id"], "评价明细查看")]


async def test_the_public_summary_shows_windows_not_people(hall: HallClient, page):
    await rating_month.play(hall)
    await page.set_viewport_size({"width": 1920, "height": 1080})
    response = await page.goto(url(hall, "/ratings/summary"))
    assert response.status == 200
    await snapshot(page, "ratings-summary-1080p")
    assert await serious_violations(page) == []
    text = await page.inner_text("body")
    assert "1号窗口 综合窗口1" in text and "行政服务中心" in text and await page.inner_text("#s-good") == "54.5%"
    for private in ("员工", "张", "李四", "王五", "138", "139", "137", "1101"):
        assert private not in text, private
    size = await page.eval_on_selector("#summary-windows td", "td => parseFloat(getComputedStyle(td).fontSize)")
    assert size >= 32  # read from across the hall
