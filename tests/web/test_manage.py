"""The manager's pages in a real browser: today live (/manage) and the range report (/manage/stats)."""

from __future__ import annotations

from playwright.async_api import expect

from ..helpers import PASSWORD, HallClient
from ..queue.scripted_day import MONDAY, play_monday
from .a11y import serious_violations, snapshot


def url(hall: HallClient, path: str) -> str:
    return str(hall.client.make_url(path))


async def log_in(page, hall: HallClient, path: str, username: str) -> None:
    await page.goto(url(hall, path))
    assert f"/login?next={path}" in page.url
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**{path}")


async def cells(page, selector: str) -> list[list[str]]:
    return await page.eval_on_selector_all(
        f"{selector} tr", "rows => rows.map(r => Array.from(r.children).map(c => c.textContent.trim()))"
    )


async def no_sideways_scroll(page) -> bool:
    return await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


async def test_a_manager_watches_today_live(hall: HallClient, page):
    day = await play_monday(hall)  # the clock stands at 10:10
    await hall.create_user("zhou", "manager", display_name="周主任")
    await log_in(page, hall, "/manage", "zhou")
    assert await page.inner_text("header nav a[href='/manage']") == "统计"
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await snapshot(page, "manage-1080p")
    assert await serious_violations(page) == []

    totals = {k: await page.inner_text(f"#t-{k}") for k in ("waiting", "issued", "served", "no_shows")}
    assert totals == {"waiting": "2", "issued": "8", "served": "4", "no_shows": "1"}
    assert await page.inner_text("#t-wait_avg_s") == "17分40秒"  # 1060 s
    assert await page.inner_text("#t-service_avg_s") == "8分00秒"  # 480 s
    sections = await cells(page, "#live-sections")
    # A: 1 waiting, A004 for 900 s; issued 4, served 2, 1 no-show; waits 1140, service 420; windows 1 (paused)
    # and 2 (closed) serve it.
    assert sections[0] == ["A 综合受理", "取号中", "1", "15分00秒(A004)", "4", "2", "1", "19分00秒", "7分00秒", "0 / 2"]
    assert sections[1][2:4] == ["0", "—"] and sections[2][2:4] == ["1", "8分00秒(C002)"]
    windows = await cells(page, "#live-windows")
    # window, state, staff, current, served, average service, on duty, idle, paused
    assert windows[0] == [
        "1 综合窗口1",
        "暂停服务",
        "李娜(工号 0101)",
        "—",
        "3",
        "8分40秒",
        "1小时20分",
        "47分00秒",
        "5分00秒",
    ]
    assert windows[1][1:3] == ["未开窗", "—"] and windows[1][6:] == ["1小时10分", "38分00秒", "20分00秒"]
    assert windows[3][1:4] == ["服务中", "赵敏(工号 0104)", "C001 办理中"]

    # The page refreshes itself from /api/stats/live: window 4 finishes C001 at 10:20.
    hall.clock.advance(600)
    status, _ = await hall.act(day.zhaomin, 4, "finish", outcome="done")
    assert status == 200
    await page.evaluate("Hall.manageRefresh()")
    await expect(page.locator("#t-served")).to_have_text("5")
    assert await page.inner_text("#live-now") == "10:20:00"
    windows = await cells(page, "#live-windows")
    assert windows[3][3:5] == ["—", "1"]

    await page.set_viewport_size({"width": 390, "height": 844})
    await snapshot(page, "manage-phone")
    assert await no_sideways_scroll(page)
    assert await serious_violations(page) == []


async def test_a_manager_reads_the_range_report_and_downloads_it(hall: HallClient, page):
    await play_monday(hall)
    await hall.create_user("zhou", "manager", display_name="周主任")
    await log_in(page, hall, "/manage/stats", "zhou")
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await snapshot(page, "manage-stats-1080p")
    assert await serious_violations(page) == []
    assert MONDAY in await page.inner_text("h1")
    stats = dict(
        zip(
            await page.eval_on_selector_all(".m-stat .m-label", "els => els.map(e => e.textContent)"),
            await page.eval_on_selector_all(".m-stat .m-value", "els => els.map(e => e.textContent)"),
            strict=True,
        )
    )
    assert stats == {
        "已取号": "8", "已叫号": "6", "已办结": "4", "过号": "1", "转窗": "1", "平均等候": "17分40秒",
        "最长等候": "26分00秒", "平均办理时长": "8分00秒", "帮办代办": "2",
    }  # fmt: skip
    rows = await cells(page, "#groups tbody")
    assert rows[0] == ["A 综合受理", "4", "3", "2", "1", "0", "19分00秒", "26分00秒", "7分00秒", "1"]
    assert rows[-1][0] == "合计" and rows[-1][1:4] == ["8", "6", "4"]
    assert await cells(page, "#assisted tbody") == [["赵敏", "0104", "2"]]
    # The charts: issued per hour (bars for 8, 9 and 10 o'clock) and served per section.
    assert await page.text_content("#chart-hours") == "各时段取号量:8时 3,9时 4,10时 1"
    heights = await page.eval_on_selector_all(
        "svg[aria-labelledby=chart-hours] rect", "rs => rs.map(r => +r.getAttribute('height'))"
    )
    assert len(heights) == 24 and heights[8:11] == [112.5, 150, 37.5] and sum(heights) == 300
    assert await page.text_content("#chart-served") == "按业务板块办结量:综合受理 2,不动产登记 1,社保医保 1"

    async with page.expect_download() as info:
        await page.click("text=CSV(Excel 可直接打开)")
    download = await info.value
    assert download.suggested_filename == f"hall-stats-{MONDAY}_{MONDAY}-section.csv"
    assert (await download.path()).read_bytes().startswith(b"\xef\xbb\xbf")

    await page.select_option("select[name=by]", "window")
    await page.click("form.m-form button[type=submit]")
    await page.wait_for_url("**by=window")
    rows = await cells(page, "#groups tbody")
    # window, called, served, no-shows, transfers, avg wait, max wait, avg service, assisted, on duty, idle, paused
    assert rows[1] == [
        "2 号 综合窗口2",
        "2",
        "0",
        "1",
        "1",
        "24分00秒",
        "26分00秒",
        "—",
        "0",
        "1小时10分",
        "38分00秒",
        "20分00秒",
    ]
    assert await page.text_content("#chart-served") == "按窗口办结量:综合窗口1 3,不动产窗口 1"
    await snapshot(page, "manage-stats-window")
    assert await serious_violations(page) == []

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(url(hall, "/manage/stats?by=staff"))
    await snapshot(page, "manage-stats-phone")
    assert await no_sideways_scroll(page)
    assert await serious_violations(page) == []


async def test_a_bad_range_is_told_on_the_form(hall: HallClient, page):
    await hall.create_user("zhou", "manager")
    await log_in(page, hall, "/manage/stats", "zhou")
    await page.fill("input[name=from]", "2026-11-24")
    await page.fill("input[name=to]", "2026-11-23")
    await page.click("form.m-form button[type=submit]")
    assert await page.inner_text("[role=alert]") == "开始日期不能晚于结束日期"
    assert await serious_violations(page) == []
    page.hall_errors.clear()  # the 400 answer is logged by the browser


async def test_staff_are_refused_the_managers_pages(hall: HallClient, page):
    await hall.create_user("li", "staff")
    await log_in(page, hall, "/hall", "li")
    assert await page.locator("header nav a[href='/manage']").count() == 0
    response = await page.goto(url(hall, "/manage"))
    assert response.status == 403 and "无权" in await page.inner_text("main")
    page.hall_errors.clear()  # the browser logs the 403
