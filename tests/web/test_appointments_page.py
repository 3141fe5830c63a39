"""The appointments page, as a citizen uses it on a computer and on a phone."""

from playwright.async_api import expect

from ..helpers import HallClient
from ..queue.appointment_helpers import book, id_number, person
from .a11y import serious_violations, snapshot


def url(hall: HallClient, path: str) -> str:
    return str(hall.client.make_url(path))


def slot(page, text: str):
    return page.locator("#slot-chips label", has_text=text)


async def fill_person(page, n: int = 1, **changes: str) -> None:
    who = person(n, **changes)
    await page.fill("#appt-name", who["name"])
    await page.fill("#appt-phone", who["phone"])
    await page.fill("#appt-id", who["id_number"])


def expected_refusals(page, *statuses: int) -> None:
    """The browser logs every 4xx answer as an error; these ones the test asked for."""
    names = {400: "Bad Request", 404: "Not Found", 409: "Conflict"}
    assert page.hall_errors == [
        f"Failed to load resource: the server responded with a status of {s} ({names[s]})" for s in statuses
    ]
    page.hall_errors.clear()


async def test_a_citizen_books_a_slot_and_sees_the_code(hall: HallClient, page):
    await book(hall, n=9, slot="10:00-11:00")  # someone was quicker: one place of two left
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.goto(url(hall, "/appointments"))
    await page.select_option("#appt-section", "A")
    days = page.locator("#day-chips label")
    await expect(days).to_have_count(6)
    assert "今天" in await days.first.inner_text()
    slots = page.locator("#slot-chips label")
    await expect(slots).to_have_count(3)
    assert [t.replace("\n", " ") for t in await slots.all_inner_texts()] == [
        "09:00-10:00 已过",
        "10:00-11:00 余 1 个",
        "14:00-15:00 余 2 个",
    ]
    assert await page.is_disabled("#slot-chips input[value='09:00-10:00']")
    await slot(page, "10:00-11:00").click()
    await fill_person(page, name="王小明")
    await page.click("#book-submit")
    await expect(page.locator("#booked")).to_be_visible()
    code = (await page.inner_text("#booked-code")).strip()
    stored = await hall.db.fetchone("SELECT code, name, slot_start FROM appointments WHERE name = '王小明'")
    assert code == stored["code"] and stored["slot_start"] == 600
    assert await page.inner_text("#booked-when") == "11月23日 10:00-11:00"
    assert await page.inner_text("#booked-who") == "王** 138****0001"  # masked on the page too
    assert "09:30 至 10:15 之间到大厅取号机签到" in await page.inner_text("#booked-notice")
    await snapshot(page, "appointments")
    assert await serious_violations(page) == []


async def test_errors_are_told_in_chinese_beside_the_form(hall: HallClient, page):
    await page.goto(url(hall, "/appointments"))
    await expect(page.locator("#slot-chips label")).to_have_count(3)
    await page.click("#book-submit")
    await expect(page.locator("#book-error")).to_have_text("请选择预约日期和时段")
    await slot(page, "14:00-15:00").click()
    await fill_person(page, id_number="330802199003070010")  # wrong check digit
    await page.click("#book-submit")
    await expect(page.locator("#book-error")).to_have_text("身份证号码不正确,请核对 18 位号码")
    await expect(page.locator("#appt-id")).to_have_attribute("aria-invalid", "true")
    expected_refusals(page, 400)
    await page.fill("#appt-id", id_number(1))
    await page.click("#book-submit")
    await expect(page.locator("#booked")).to_be_visible()
    await page.click("#book-again")
    await slot(page, "14:00-15:00").click()
    await fill_person(page)  # the same person again
    await page.click("#book-submit")
    await expect(page.locator("#book-error")).to_contain_text("在综合受理已有预约")
    expected_refusals(page, 409)
    await snapshot(page, "appointments-error")
    assert await serious_violations(page) == []


async def test_on_a_phone_a_citizen_looks_a_booking_up_and_cancels_it(hall: HallClient, page):
    booked = await book(hall, n=1, section="B", slot="14:00-15:00")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(url(hall, "/appointments"))
    await expect(page.locator("#slot-chips label")).to_have_count(3)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
    box = await page.locator("#book-submit").bounding_box()
    assert box["height"] >= 48 and box["width"] >= 300  # large touch targets
    await page.fill("#find-code", booked["code"].lower())
    await page.fill("#find-phone", "13900000000")
    await page.click("#find-form button[type=submit]")
    await expect(page.locator("#find-error")).to_contain_text("没有找到该预约")
    expected_refusals(page, 404)
    await page.fill("#find-phone", person(1)["phone"])
    await page.click("#find-form button[type=submit]")
    await expect(page.locator("#found")).to_be_visible()
    await expect(page.locator("#find-error")).to_have_text("")
    assert await page.inner_text("#found-status") == "已预约"
    assert await page.inner_text("#found-section") == "不动产登记"
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("#cancel-button")
    await expect(page.locator("#found-status")).to_have_text("已取消")
    await expect(page.locator("#cancel-button")).to_be_hidden()
    assert await hall.db.fetchval("SELECT status FROM appointments") == "cancelled"
    await snapshot(page, "appointments-phone")
    assert await serious_violations(page) == []
