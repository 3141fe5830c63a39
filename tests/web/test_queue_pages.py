"""A citizen at the kiosk, the same citizen's phone, and the window that calls them, in real browsers."""

import dataclasses
import re

from aiohttp import DummyCookieJar
from playwright.async_api import expect

from hall.server import create_app

from ..conftest import at
from ..helpers import PASSWORD, HallClient
from ..queue.appointment_helpers import book
from .a11y import serious_violations, snapshot

PHONE = {"width": 390, "height": 844}
ELDER_ID = "110101195001011239"  # born 1950


def url(hall: HallClient, path: str) -> str:
    return str(hall.client.make_url(path))


async def new_page(browser, viewport=None):
    context = await browser.new_context(locale="zh-CN", viewport=viewport or {"width": 1920, "height": 1080})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.hall_errors = errors
    return page


async def small_text(page) -> list:
    """Visible text on the page set smaller than 32 px (elder mode allows none)."""
    return await page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(e => e.offsetParent && e.childNodes.length
             && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
             .map(e => [e.textContent.trim(), parseFloat(getComputedStyle(e).fontSize)]).filter(([, s]) => s < 32)"""
    )


async def enrol_kiosk(hall: HallClient, page) -> None:
    token = (await hall.device("kiosk"))["Authorization"].split()[1]
    await page.goto(url(hall, f"/device?token={token}"))
    assert page.url.endswith("/kiosk")


async def sign_in(hall: HallClient, page, username: str, next_path: str) -> None:
    await page.goto(url(hall, f"/login?next={next_path}"))
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**{next_path}")


async def test_elder_takes_a_ticket_is_followed_on_the_phone_and_called_at_the_window(hall: HallClient, browser):
    await hall.create_user("liuyang", "staff", staff_no="0301", display_name="刘洋")
    kiosk = await new_page(browser)
    await enrol_kiosk(hall, kiosk)
    await snapshot(kiosk, "kiosk-home")
    assert await serious_violations(kiosk) == []

    # Elder mode: one tap, large type, fewer choices.
    await kiosk.click("#elder-toggle")
    assert await kiosk.get_attribute("#elder-toggle", "aria-pressed") == "true"
    await snapshot(kiosk, "kiosk-elder")
    assert await serious_violations(kiosk) == []
    assert await small_text(kiosk) == [], "text under 32 px in elder mode"
    await kiosk.click(".k-section[data-section=A]")
    assert await small_text(kiosk) == [], "text under 32 px in elder mode"
    assert not await kiosk.is_visible("#lanes")  # fewer choices: the lane comes from the ID number
    for digit in ELDER_ID:
        await kiosk.click(f"#options [data-key='{digit}']")
    assert await kiosk.input_value("#id-number") == ELDER_ID
    await snapshot(kiosk, "kiosk-elder-id")
    await kiosk.click("#issue")
    await kiosk.wait_for_selector("#ticket:not([hidden])")
    number = await kiosk.inner_text("#slip-number")
    assert re.fullmatch(r"A\d{3}", number)
    assert "老年人" in await kiosk.inner_text("#slip-lane")
    assert "办理窗口 1、2 号" in await kiosk.inner_text("#slip")
    await expect(kiosk.locator("#slip-qr")).to_have_attribute("src", re.compile(r"^/t/.+/qr\.svg$"))
    assert await kiosk.locator("#slip-qr").evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    await snapshot(kiosk, "kiosk-ticket")
    assert await serious_violations(kiosk) == []

    # The citizen scans the QR code: the tracking page, on a phone.
    qr_src = await kiosk.get_attribute("#slip-qr", "src")
    token = qr_src.split("/")[2]
    phone = await new_page(browser, PHONE)
    await phone.goto(url(hall, f"/t/{token}"))
    assert await phone.inner_text("#t-number") == number
    await expect(phone.locator("#t-headline")).to_have_text("马上轮到您")
    await snapshot(phone, "track-waiting")
    assert await serious_violations(phone) == []

    # The window calls it; the phone changes by itself, without a reload.
    counter = await new_page(browser)
    await sign_in(hall, counter, "liuyang", "/counter/2")
    await counter.click("#open-window")
    await counter.wait_for_selector("#desk:not([hidden])")
    await counter.wait_for_selector(f"#waiting li:has-text('{number}')")
    assert "绿色通道·老年人" in await counter.inner_text("#waiting")
    await snapshot(counter, "counter-waiting")
    assert await serious_violations(counter) == []
    await counter.keyboard.press("c")  # the call-next shortcut
    await expect(counter.locator("#cur-number")).to_have_text(number)
    await expect(phone.locator("#t-headline")).to_have_text("请到 2 号窗口 办理")
    assert (await phone.get_attribute("#track", "data-status")) == "called"
    await snapshot(phone, "track-called")
    await snapshot(counter, "counter-called")

    # Start and finish at the window; the phone follows.
    await counter.click("[data-action=start]")
    await expect(phone.locator("#t-headline")).to_have_text(re.compile(r"^正在 2 号窗口"))
    await counter.click("[data-action=finish]")
    await counter.check("input[name=outcome][value=done]")
    await counter.fill("#finish-matter", "居民身份证换领")
    await snapshot(counter, "counter-finish-dialog")
    await counter.click("#finish-form button[type=submit]")
    await expect(counter.locator("#cur-number")).to_have_text("—")
    await expect(phone.locator("#t-headline")).to_have_text("业务已办结")
    await snapshot(phone, "track-done")
    for page in (kiosk, phone, counter):
        assert page.hall_errors == [], page.hall_errors
        await page.context.close()


async def test_counter_actions_with_keys_and_lists(hall: HallClient, browser):
    await hall.create_user("zhou", "staff")
    first = await hall.issue("A")
    await hall.issue("B")
    counter = await new_page(browser)
    await sign_in(hall, counter, "zhou", "/counter/2")
    await counter.click("#open-window")
    await counter.wait_for_selector("#desk:not([hidden])")
    assert await counter.inner_text("#waiting-count") == "2"
    await counter.keyboard.press("c")
    await expect(counter.locator("#cur-number")).to_have_text(first["number"])
    await counter.keyboard.press("r")
    await expect(counter.locator("#cur-recalls")).to_have_text(re.compile(r"^1 /"))
    await counter.keyboard.press("m")  # no-show
    await counter.wait_for_selector(f"#missed li:has-text('{first['number']}')")
    await counter.click(f"#missed button[aria-label='恢复排队 {first['number']}']")
    await counter.wait_for_selector(f"#waiting li:has-text('{first['number']}')")
    await counter.keyboard.press("c")
    await expect(counter.locator("#cur-number")).not_to_have_text("—")
    await counter.keyboard.press("t")  # transfer to window 3
    await counter.select_option("#transfer-window", "3")
    await counter.click("#transfer-form button[type=submit]")
    await expect(counter.locator("#cur-number")).to_have_text("—")
    await counter.keyboard.press("p")
    await expect(counter.locator("#state-badge")).to_have_text("暂停服务")
    assert await counter.is_disabled("[data-action=call]")
    await snapshot(counter, "counter-paused")
    assert counter.hall_errors == []
    await counter.context.close()


async def test_the_kiosk_shows_closed_sections_and_when_they_open(hall: HallClient, browser):
    hall.clock.set(at("2026-11-23 12:30"))  # lunch: A and B closed, C open around the clock
    kiosk = await new_page(browser)
    await enrol_kiosk(hall, kiosk)
    assert await kiosk.get_attribute(".k-section[data-section=A]", "data-state") == "closed"
    assert "13:30 开始" in await kiosk.inner_text(".k-section[data-section=A]")
    await kiosk.click(".k-section[data-section=A]", force=True)  # a tap on a closed section
    assert await kiosk.get_attribute("#kiosk", "data-screen") == "home"  # nothing to take
    await kiosk.click(".k-section[data-section=C]")
    assert await kiosk.get_attribute("#kiosk", "data-screen") == "options"
    await kiosk.context.close()


async def test_an_unenrolled_browser_is_told_how_to_enrol(hall: HallClient, page):
    response = await page.goto(url(hall, "/kiosk"))
    assert response.status == 403 and "尚未登记为取号机" in await page.inner_text("main")
    page.hall_errors.clear()


async def test_appointment_check_in_at_the_kiosk_by_phone_and_by_code(hall: HallClient, browser):
    by_phone = await book(hall, "A", slot="10:00-11:00", n=1)
    by_code = await book(hall, "A", slot="10:00-11:00", n=2)
    hall.clock.set(at("2026-11-23 09:45"))  # check-in opens 30 minutes before the slot
    walk_in = await hall.issue("A")  # already waiting before the booked citizens arrive
    kiosk = await new_page(browser)
    await enrol_kiosk(hall, kiosk)
    await kiosk.click("#to-checkin")
    for key in "13800000001":  # n=1's phone, typed on the on-screen keyboard
        await kiosk.click(f"#checkin [data-key='{key}']")
    await snapshot(kiosk, "kiosk-checkin")
    assert await serious_violations(kiosk) == []
    await kiosk.click("#checkin-submit")
    await kiosk.wait_for_selector("#ticket:not([hidden])")
    assert await kiosk.inner_text("#slip-lane") == "【预约优先】"
    assert await kiosk.inner_text("#slip-ahead") == "您前面还有 0 人等候"  # before the walk-in
    first = await kiosk.inner_text("#slip-number")
    await kiosk.click("#ticket [data-go=home]")

    await kiosk.click("#to-checkin")
    await kiosk.fill("#checkin-value", by_code["code"].lower())  # a code typed on a keyboard, any case
    await kiosk.click("#checkin-submit")
    await kiosk.wait_for_selector("#ticket:not([hidden])")
    second = await kiosk.inner_text("#slip-number")
    assert second != first and "预约" in await kiosk.inner_text("#slip-lane")
    staff = await hall.staff_at(2)
    assert (await hall.call(staff, 2))["number"] == first  # the appointment goes before the earlier walk-in
    assert (await hall.call_after_finish(staff, 2))["number"] == second
    assert (await hall.call_after_finish(staff, 2))["number"] == walk_in["number"]
    assert by_phone["status"] == "booked"
    await kiosk.context.close()


async def test_a_wrong_booking_code_is_told_at_the_kiosk(hall: HallClient, browser):
    kiosk = await new_page(browser)
    await enrol_kiosk(hall, kiosk)
    await kiosk.click("#to-checkin")
    await kiosk.fill("#checkin-value", "ABCDEFGH")
    await kiosk.click("#checkin-submit")
    await expect(kiosk.locator("#checkin-error")).not_to_have_text("")
    assert "预约" in await kiosk.inner_text("#checkin-error")
    kiosk.hall_errors.clear()  # the refused check-in (404) is logged by the browser
    await kiosk.context.close()


async def test_the_kiosk_returns_to_the_start_when_left_alone(aiohttp_client, config, clock, db_path, browser):
    quick = dataclasses.replace(config, kiosk=dataclasses.replace(config.kiosk, idle_seconds=1, ticket_seconds=2))
    hall = HallClient(
        await aiohttp_client(create_app(quick, clock=clock, db_path=db_path), cookie_jar=DummyCookieJar()), clock
    )
    kiosk = await new_page(browser)
    await enrol_kiosk(hall, kiosk)
    await kiosk.click(".k-section[data-section=C]")
    await kiosk.fill("#phone", "1380013")
    assert await kiosk.get_attribute("#kiosk", "data-screen") == "options"
    await expect(kiosk.locator("#kiosk")).to_have_attribute("data-screen", "home", timeout=4000)
    await kiosk.click(".k-section[data-section=C]")
    assert await kiosk.input_value("#phone") == ""  # what the last person typed is gone
    await kiosk.click("#issue")
    await kiosk.wait_for_selector("#ticket:not([hidden])")
    await expect(kiosk.locator("#kiosk")).to_have_attribute("data-screen", "home", timeout=5000)
    await kiosk.context.close()


async def test_the_kiosk_says_when_the_hall_opens(aiohttp_client, config, clock, db_path, browser):
    office_hours = tuple(
        dataclasses.replace(s, hours=((510, 720), (810, 1020)), days="workdays") for s in config.sections
    )
    hall = HallClient(
        await aiohttp_client(
            create_app(dataclasses.replace(config, sections=office_hours), clock=clock, db_path=db_path),
            cookie_jar=DummyCookieJar(),
        ),
        clock,
    )
    hall.clock.set(at("2026-11-28 10:00"))  # Saturday
    kiosk = await new_page(browser)
    await enrol_kiosk(hall, kiosk)
    banner = kiosk.locator("#closed-banner")
    await expect(banner).to_be_visible()
    assert await banner.inner_text() == "现在不在取号时间,大厅将于 11月30日 08:30 开始取号"
    await snapshot(kiosk, "kiosk-closed")
    await kiosk.context.close()


async def test_the_tracking_page_explains_missed_and_transferred(hall: HallClient, browser):
    staff = await hall.staff_at(1)
    ticket = await hall.issue("A")
    phone = await new_page(browser, PHONE)
    await phone.goto(url(hall, f"/t/{ticket['token']}"))
    await hall.call(staff, 1)
    await hall.act(staff, 1, "no-show")
    await expect(phone.locator("#t-headline")).to_have_text("您已过号")
    assert "30 分钟内" in await phone.inner_text("#t-detail")
    await snapshot(phone, "track-missed")
    await hall.act(staff, 1, "requeue", ticket_id=ticket["id"])
    await hall.call(staff, 1)
    await hall.act(staff, 1, "transfer", section="C")
    await expect(phone.locator("#t-headline")).to_have_text("已转到社保医保")
    assert "号码不变" in await phone.inner_text("#t-detail")
    await snapshot(phone, "track-transferred")
    assert phone.hall_errors == []
    await phone.context.close()


async def test_a_real_name_section_asks_for_the_id_number_at_the_kiosk(aiohttp_client, config, clock, db_path, browser):
    sections = tuple(dataclasses.replace(s, id_required=s.id == "B") for s in config.sections)
    named = dataclasses.replace(config, sections=sections)
    hall = HallClient(
        await aiohttp_client(create_app(named, clock=clock, db_path=db_path), cookie_jar=DummyCookieJar()), clock
    )
    kiosk = await new_page(browser)
    await enrol_kiosk(hall, kiosk)
    await kiosk.click(".k-section[data-section=B]")
    await expect(kiosk.locator("#id-label")).to_have_text("身份证号码(必填:本业务实名取号)")
    await kiosk.click("#issue")
    await expect(kiosk.locator("#options-error")).to_have_text("本业务实行实名取号,请输入身份证号码")
    assert await hall.db.fetchval("SELECT COUNT(*) FROM tickets") == 0
    for key in "11010519491231002X":
        await kiosk.click(f"#keypad [data-key='{key}']")
    await kiosk.click("#issue")
    await kiosk.wait_for_selector("#ticket:not([hidden])")
    await expect(kiosk.locator("#ticket")).to_contain_text("B001")
    await snapshot(kiosk, "kiosk-real-name")
    await kiosk.goto(url(hall, "/kiosk"))
    await kiosk.click(".k-section[data-section=A]")  # other sections stay as they were
    await expect(kiosk.locator("#id-label")).to_have_text("身份证号码(选填)")
    assert kiosk.hall_errors == []
    await kiosk.context.close()
