"""差评整改 (/manage/bad-reviews) in a real browser: the cases, overdue first, worked to the end."""

from __future__ import annotations

from urllib.parse import unquote

from playwright.async_api import expect

from hall.evaluation import tasks

from ..conftest import at
from ..evaluation.test_cases import bad_case
from ..helpers import PASSWORD, HallClient
from .a11y import serious_violations, snapshot


def url(hall: HallClient, path: str) -> str:
    return str(hall.client.make_url(path))


async def log_in(page, hall: HallClient, path: str, username: str) -> None:
    await page.goto(url(hall, path))
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(lambda u: unquote(u).endswith(path))  # the page asked for, query and all


async def submit(page, case_id: int) -> None:
    """Submit the case's step form and wait for the page to come back with the case open."""
    async with page.expect_navigation():
        await page.click(f"form.br-step[data-case='{case_id}'] button[type=submit]")
    await expect(page.locator(f"#case-{case_id}-details")).to_have_attribute("open", "")


async def test_a_manager_follows_a_bad_review_to_the_end(hall: HallClient, page):
    first = await bad_case(hall, comment="窗口人员态度生硬")  # Monday 09:05, verification due Tuesday 09:05
    hall.clock.set(at("2026-11-24 10:00"))
    anonymous = await bad_case(hall, rater=None, no=4)
    await tasks.sweep_once(hall.app)  # the first case is now overdue, and escalated
    await hall.create_user("zhou", "manager", display_name="周主任")
    await log_in(page, hall, "/manage/bad-reviews", "zhou")

    assert await page.inner_text("header nav a[href='/manage/bad-reviews']") == "差评整改"
    assert await page.inner_text("#br-active") == "2" and await page.inner_text("#br-overdue") == "1"
    articles = page.locator("article.br-case")
    await expect(articles).to_have_count(2)
    assert await articles.nth(0).get_attribute("id") == f"case-{first['id']}"  # overdue first
    head = await articles.nth(0).locator(".br-state").inner_text()
    assert "当前环节:核实" in head and "已超期" in head and "已督办" in head
    assert "匿名" in await articles.nth(1).inner_text()

    # The detail: the rating with its service, the stages with their deadlines, the rater masked.
    await page.click(f"#case-{first['id']} summary")
    detail = page.locator(f"#case-{first['id']}-details")
    text = await detail.inner_text()
    assert "A001" in text and "员工1" in text and "窗口人员态度生硬" in text and "2026-12-15 09:05" in text
    assert await page.inner_text(f"#rater-{first['rating']['id']}") == "张** 138****8000"
    await page.click(f"#case-{first['id']} button.br-reveal")
    await expect(page.locator(f"#rater-{first['rating']['id']}")).to_have_text("张三丰 13800138000")
    reads = await hall.db.fetchall("SELECT rating_id, purpose FROM rater_reads")
    assert [(r["rating_id"], r["purpose"]) for r in reads] == [(first["rating"]["id"], "差评核实回访")]

    await snapshot(page, "bad-reviews")
    assert await serious_violations(page) == []

    # A step without a note is refused, with the reason shown at the form.
    form = page.locator(f"form.br-step[data-case='{first['id']}']")
    await form.get_by_label("属实", exact=True).check()
    await form.locator("button[type=submit]").click()
    await expect(form.locator(".br-msg")).to_contain_text("请填写办理说明")
    page.hall_errors.clear()  # the browser logs the refused request (400) as a console error

    # Verify (属实), rectify, feed back, revisit (满意): the form always offers the next step.
    await form.locator("textarea").fill("电话联系评价人,调看录像,情况属实")
    await submit(page, first["id"])
    form = page.locator(f"form.br-step[data-case='{first['id']}']")
    assert await form.get_attribute("data-stage") == "rectify"
    assert await form.locator("input[value=explain]").count() == 0  # a true review must be rectified
    await form.locator("textarea").fill("对窗口人员批评教育,组织服务规范培训")
    await submit(page, first["id"])
    form = page.locator(f"form.br-step[data-case='{first['id']}']")
    assert await form.get_attribute("data-stage") == "feedback"
    await form.locator("textarea").fill("已电话告知整改情况")
    await submit(page, first["id"])
    form = page.locator(f"form.br-step[data-case='{first['id']}']")
    assert await form.get_attribute("data-stage") == "revisit"
    await form.get_by_label("满意", exact=True).check()
    async with page.expect_navigation():
        await form.locator("button[type=submit]").click()

    # Closed: gone from the cases in progress, found under 已办结 with every stage done by 周主任.
    await expect(page.locator("article.br-case")).to_have_count(1)
    assert await page.inner_text("#br-active") == "1" and await page.inner_text("#br-overdue") == "0"
    await page.select_option("select[name=status]", "closed")
    async with page.expect_navigation():
        await page.click("form.br-filters button[type=submit]")
    assert "status=closed" in page.url
    closed = page.locator(f"#case-{first['id']}")
    assert "回访满意" in await closed.locator(".br-state").inner_text()
    await closed.locator("summary").click()
    rows = await closed.locator("table.br-stages tbody tr").all_inner_texts()
    assert len(rows) == 4 and all("周主任" in r for r in rows)
    assert "逾期完成" in rows[0]  # verified after its deadline
    history = await closed.locator("ol.br-history").inner_text()
    assert "超期,已督办" in history and "办结" in history
    assert await closed.locator("form.br-step").count() == 0
    case = (await hall.get(f"/api/bad-reviews/{first['id']}", await hall.viewer()))[1]
    assert (case["status"], case["result"]) == ("closed", "satisfied")

    # The anonymous case: no phone to reveal, and the form says what will be recorded.
    await page.goto(url(hall, f"/manage/bad-reviews#case-{anonymous['id']}"))
    other = page.locator(f"#case-{anonymous['id']}")
    await expect(other.locator("details")).to_have_attribute("open", "")
    assert await other.locator("button.br-reveal").count() == 0
    assert "无法联系(匿名)" in await other.locator("form.br-step").inner_text()
    assert await other.locator("input[name=reached]").count() == 0
    await other.get_by_label("不属实").check()
    await other.locator("textarea").fill("调看录像,窗口按规范办理")
    await submit(page, anonymous["id"])
    assert await page.locator(f"form.br-step[data-case='{anonymous['id']}']").get_attribute("data-stage") == "feedback"
    case = (await hall.get(f"/api/bad-reviews/{anonymous['id']}", await hall.viewer()))[1]
    assert (case["stages"][0]["outcome"], case["stages"][0]["contact"]) == ("false", "anonymous")


async def test_the_filters_and_a_wrong_date(hall: HallClient, page):
    await bad_case(hall)
    await bad_case(hall, no=4)
    await hall.create_user("qian", "manager")
    await log_in(page, hall, "/manage/bad-reviews?status=open&department=人力社保局", "qian")
    await expect(page.locator("article.br-case")).to_have_count(1)
    assert "人力社保局" in await page.locator("article.br-case h2").inner_text()
    await page.goto(url(hall, "/manage/bad-reviews?overdue=1"))
    assert await page.inner_text(".br-empty") == "没有符合条件的差评工单。"
    response = await page.goto(url(hall, "/manage/bad-reviews?from=2026-11-30&to=2026-11-01"))
    assert response.status == 400
    assert await page.inner_text("p.error") == "开始日期不能晚于结束日期"
    page.hall_errors.clear()  # the 400 page, logged by the browser, was the point
    assert await serious_violations(page) == []
