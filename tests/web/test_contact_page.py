"""咨询投诉 (/contact) on a phone: a citizen's message becomes a numbered case, refused input says why."""

from __future__ import annotations

from playwright.async_api import expect

from ..helpers import HallClient
from .a11y import serious_violations, snapshot
from .test_queue_pages import PHONE, new_page, url


async def test_a_citizen_leaves_a_complaint_and_gets_its_number(hall: HallClient, browser):
    page = await new_page(browser, PHONE)
    await page.goto(url(hall, "/contact"))
    assert await serious_violations(page) == []
    await page.get_by_label("投诉").check()
    await page.fill("#c-content", "社保窗口让我补了三次材料,每次只说一样")
    await page.click(".c-submit")
    await expect(page.locator("#c-error")).to_have_text("请留下手机号码或电子邮箱,以便我们答复和回访")
    await snapshot(page, "contact-form")
    await page.fill("#c-phone", "123")
    await page.click(".c-submit")
    await expect(page.locator("#c-error")).to_have_text("手机号码格式不正确")  # the server's words
    page.hall_errors.clear()  # the browser logs the refused request (400) as a console error
    assert await hall.db.fetchval("SELECT COUNT(*) FROM cases") == 0  # nothing half-stored
    await page.fill("#c-name", "王小明")
    await page.fill("#c-phone", "139 0013 9000")
    await page.click(".c-submit")
    await expect(page.locator("#c-no")).to_have_text("2026112300001")
    await expect(page.locator("#c-form")).to_be_hidden()
    await snapshot(page, "contact-done")
    row = await hall.db.fetchone("SELECT channel, type, contact_name, contact_phone, status FROM cases")
    assert tuple(row) == ("web", "complaint", "王小明", "13900139000", "registered")
    body = await hall.db.fetchval("SELECT body FROM case_messages")
    assert body == "社保窗口让我补了三次材料,每次只说一样"
    assert page.hall_errors == []
