"""Ways to rate in real browsers: the window's rating pad (评价器) and the citizen's QR page on a phone."""

import dataclasses

from aiohttp import DummyCookieJar
from playwright.async_api import expect

from hall.server import create_app

from ..evaluation.service_helpers import finish_one
from ..helpers import HallClient
from .a11y import serious_violations, snapshot
from .test_queue_pages import PHONE, new_page, sign_in, url

TABLET = {"width": 1280, "height": 800}
DESKTOP = {"width": 1920, "height": 1080}

# Records what the page would say: speechSynthesis replaced before any page script runs.
SPEECH_RECORDER = """
(() => {
  const spoken = (window.__spoken = []);
  const fake = { speak: (u) => spoken.push(u.text), cancel: () => {} };
  Object.defineProperty(window, "speechSynthesis", { value: fake, configurable: true });
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
})();
"""
NO_SPEECH = """Object.defineProperty(window, "speechSynthesis", { value: undefined, configurable: true });"""


def token_of(headers: dict) -> str:
    return headers["Authorization"].split()[1]


async def open_pad(hall: HallClient, browser, window: int, init_script: str = SPEECH_RECORDER):
    """A tablet enrolled as the pad of `window`, touched once (browsers speak only after a touch)."""
    pad = await new_page(browser, TABLET)
    await pad.add_init_script(init_script)
    await pad.goto(url(hall, f"/device?token={token_of(await hall.device('pad', window=window))}"))
    assert pad.url.endswith(f"/pad/{window}")
    await expect(pad.locator("#pad")).to_have_attribute("data-screen", "p-idle")
    await pad.click("#p-welcome")
    await expect(pad.locator("#p-voice-hint")).to_be_hidden()
    return pad


async def min_font_px(page, selector: str) -> float:
    return await page.eval_on_selector_all(
        selector, "els => Math.min(...els.map(e => parseFloat(getComputedStyle(e).fontSize)))"
    )


async def test_finish_at_the_window_rate_on_the_pad_and_the_manager_sees_every_field(hall: HallClient, browser):
    await hall.create_user("chenjing", "staff", staff_no="0207", display_name="陈静")
    pad = await open_pad(hall, browser, 2)
    ticket = await hall.issue("A")

    counter = await new_page(browser)
    await sign_in(hall, counter, "chenjing", "/counter/2")
    await counter.click("#open-window")
    await expect(pad.locator("#p-duty-name")).to_have_text("陈静")  # on duty, shown while idle
    await expect(pad.locator("#p-duty-no")).to_have_text("工号 0207")
    await snapshot(pad, "pad-idle")
    assert await serious_violations(pad) == []
    await counter.wait_for_selector(f"#waiting li:has-text('{ticket['number']}')")
    await counter.keyboard.press("c")
    await expect(counter.locator("#cur-number")).to_have_text(ticket["number"])
    await counter.click("[data-action=start]")
    await counter.click("[data-action=finish]")
    await counter.check("input[name=outcome][value=done]")
    await counter.fill("#finish-matter", "居民身份证换领")
    await counter.click("#finish-form button[type=submit]")

    # The pad shows the service it is about to rate, and asks aloud.
    await expect(pad.locator("#pad")).to_have_attribute("data-screen", "p-service")
    await expect(pad.locator("#p-number")).to_have_text(ticket["number"])
    await expect(pad.locator("#p-window")).to_have_text("2号窗口 综合窗口2")
    await expect(pad.locator("#p-staff")).to_have_text("陈静(工号 0207)")
    await expect(pad.locator("#p-matter")).to_have_text("居民身份证换领")
    assert "请您对本次服务进行评价" in await pad.evaluate("window.__spoken")
    assert await pad.locator(".r-grade").all_inner_texts() == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert await min_font_px(pad, ".r-grade") >= 32
    assert await pad.evaluate("document.documentElement.scrollWidth <= innerWidth")
    await snapshot(pad, "pad-service")
    assert await serious_violations(pad) == []

    await pad.click(".r-grade[data-grade='2']")
    assert "请选择不满意的原因,或写下您的意见" in await pad.evaluate("window.__spoken")
    await expect(pad.locator(".r-tags[data-for='2']")).to_be_visible()
    await pad.click(".r-tags[data-for='2'] .r-tag:has-text('效率低')")
    await pad.fill("#p-comment", "材料要求没有一次说清")
    await snapshot(pad, "pad-bad-grade")
    assert await serious_violations(pad) == []
    submit = await pad.locator(".r-submit").bounding_box()
    assert submit["y"] + submit["height"] <= TABLET["height"]  # everything on one tablet screen
    await pad.click(".r-submit")
    await expect(pad.locator("#pad")).to_have_attribute("data-screen", "p-thanks")
    await expect(pad.locator("#p-thanks-grade")).to_have_text("您的评价:不满意")
    await expect(pad.locator("#p-thanks-note")).to_contain_text("转交整改")
    assert (await pad.evaluate("window.__spoken"))[-1] == "感谢您的评价"
    await snapshot(pad, "pad-thanks")

    # The manager reads the rating with every detail it recorded.
    manager = await hall.user("manager")
    status, body = await hall.get("/api/ratings?window=2", manager)
    assert status == 200
    (rating,) = body["ratings"]
    pad_id = await hall.db.fetchval("SELECT id FROM devices WHERE kind = 'pad' AND window_no = 2")
    issued = ticket["issued_at"]
    assert {k: rating[k] for k in ("kind", "grade", "grade_name", "tags", "comment", "channel", "channel_name")} == {
        "kind": "first",
        "grade": 2,
        "grade_name": "不满意",
        "tags": ["效率低"],
        "comment": "材料要求没有一次说清",
        "channel": "pad",
        "channel_name": "窗口评价器",
    }
    assert rating["device_id"] == pad_id and rating["created_at"].startswith("2026-11-23T09:00")
    t = rating["ticket"]
    assert (t["id"], t["number"], t["section"], t["section_name"], t["matter"], t["outcome"]) == (
        ticket["id"], ticket["number"], "A", "综合受理", "居民身份证换领", "done"
    )  # fmt: skip
    assert t["issued_at"] == issued and t["called_at"] and t["finished_at"] and t["day"] == "2026-11-23"
    assert rating["window"] == {"no": 2, "name": "综合窗口2", "department": "行政服务中心"}
    assert rating["staff"]["staff_no"] == "0207" and rating["staff"]["name"] == "陈静" and rating["staff"]["id"]
    assert rating["assisted_by"] is None
    assert rating["rater"] == {"anonymous": True, "name": None, "phone": None, "id_number": None}
    assert (rating["voided"], rating["voided_at"], rating["void_reason"]) == (False, None, None)

    # ... and finds it on the managers' pages: window 2's 差评率, then the rating with every field.
    await hall.create_user("zhou", "manager")
    ratings = await new_page(browser)
    await sign_in(hall, ratings, "zhou", "/manage/ratings")
    link = ratings.locator("#groups tbody tr", has_text="2号窗口 综合窗口2").locator("td:nth-child(15) a")
    await expect(link).to_have_text("100.0%")  # its one rating is bad
    await link.click()
    await ratings.wait_for_url("**/manage/ratings/list?**")
    await ratings.click(f"a[href='/manage/ratings/{rating['id']}']")
    await ratings.wait_for_url(f"**/manage/ratings/{rating['id']}")
    detail = await ratings.inner_text("#rating-detail")
    for shown in ("2 不满意", "效率低", "材料要求没有一次说清", "窗口评价器", f"评价器设备 {pad_id}", ticket["number"],
                  "A 综合受理", "居民身份证换领", "办结", "2号窗口 综合窗口2", "行政服务中心", "陈静(工号 0207)",
                  "匿名评价", "待核实"):  # fmt: skip
        assert shown in detail, shown
    await snapshot(ratings, "pad-rating-in-drill-down")
    assert await serious_violations(ratings) == []

    # The pad is one of the hall's connected devices, labelled as a pad.
    screens = await new_page(browser)
    await sign_in(hall, screens, "zhou", "/manage/screens")
    row = screens.locator("#ms-screens tr", has_text="评价器 2")
    await expect(row).to_contain_text("评价器")
    await expect(row).to_contain_text("(2号窗口)")
    await expect(row).to_contain_text("在线")

    # The thank-you screen gives way to idle by itself.
    await expect(pad.locator("#pad")).to_have_attribute("data-screen", "p-idle", timeout=10_000)
    for page in (pad, counter, screens):
        assert page.hall_errors == [], page.hall_errors
        await page.context.close()


async def quick_pad_hall(aiohttp_client, config, clock, db_path) -> HallClient:
    quick = dataclasses.replace(config, evaluation=dataclasses.replace(config.evaluation, pad_idle_seconds=5))
    app = create_app(quick, clock=clock, db_path=db_path)
    return HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)


async def test_the_pad_shows_only_its_window_the_newest_service_and_goes_idle(
    aiohttp_client, config, clock, db_path, browser
):
    hall = await quick_pad_hall(aiohttp_client, config, clock, db_path)
    pad = await open_pad(hall, browser, 2, init_script=NO_SPEECH)  # a browser without speech still works
    asked: list[str] = []
    pad.on("request", lambda r: asked.append(r.url.rsplit("/", 1)[1]) if "/api/ratings/service/" in r.url else None)

    elsewhere = await finish_one(hall, 3, section="B")
    first = await finish_one(hall, 2)
    await expect(pad.locator("#p-number")).to_have_text(first["number"])
    assert asked == [str(first["id"])]  # window 3's service was never even asked for
    await pad.click(".r-grade[data-grade='5']")

    newer = await finish_one(hall, 2)  # the next citizen is done before the first one rated
    await expect(pad.locator("#p-number")).to_have_text(newer["number"])
    await expect(pad.locator(".r-grade[aria-pressed=true]")).to_have_count(0)  # a fresh form
    assert elsewhere["number"] not in await pad.inner_text("#pad")

    # Left alone, the pad returns to idle after pad_idle_seconds (5 s here).
    await expect(pad.locator("#pad")).to_have_attribute("data-screen", "p-idle", timeout=9_000)
    assert await pad.locator("#p-number").inner_text() == newer["number"]  # stale text, hidden

    # A rating the server refuses is explained in Chinese on the pad.
    last = await finish_one(hall, 2)
    await expect(pad.locator("#p-number")).to_have_text(last["number"])
    await pad.click(".r-grade[data-grade='1']")
    await pad.click(".r-submit")
    await expect(pad.locator(".r-error")).to_have_text(
        "差评(不满意、非常不满意)请选择至少一个标签或写下原因,以便我们整改"
    )
    pad.hall_errors.clear()  # the refused request (400) is logged by the browser
    status, _ = await hall.post("/api/ratings", {"ticket_token": last["token"], "grade": 4})
    assert status == 201  # meanwhile the citizen rated by the QR code on the ticket
    await pad.click(".r-tags[data-for='1'] .r-tag:has-text('推诿扯皮')")
    await pad.click(".r-submit")
    await expect(pad.locator(".r-error")).to_contain_text("已经评价过")
    pad.hall_errors.clear()
    await snapshot(pad, "pad-error")
    await pad.context.close()


async def test_rating_by_qr_code_on_a_phone(hall: HallClient, browser):
    ticket = await finish_one(hall, 1, matter="灵活就业人员参保登记")
    phone = await new_page(browser, PHONE)
    await phone.goto(url(hall, f"/t/{ticket['token']}"))
    await expect(phone.locator("#t-headline")).to_have_text("业务已办结")
    await phone.click("#t-rate")
    await phone.wait_for_url(f"**/r/{ticket['token']}")
    card = phone.locator(".q-card")
    for text in (ticket["number"], "综合受理", "灵活就业人员参保登记", "1号窗口 综合窗口1", "员工1(工号 001)"):
        await expect(card).to_contain_text(text)
    await expect(card).to_contain_text("2026-11-23 09:05")
    assert await phone.evaluate("document.documentElement.scrollWidth <= innerWidth")
    await snapshot(phone, "rate-phone")
    assert await serious_violations(phone) == []

    # A bad grade needs a reason: the server's words, in Chinese, and nothing is stored.
    await phone.click(".r-grade[data-grade='1']")
    await phone.click(".r-submit")
    await expect(phone.locator(".r-error")).to_have_text(
        "差评(不满意、非常不满意)请选择至少一个标签或写下原因,以便我们整改"
    )
    phone.hall_errors.clear()  # the refused request (400) is logged by the browser
    assert await hall.db.fetchval("SELECT COUNT(*) FROM ratings") == 0
    await snapshot(phone, "rate-phone-error")

    await phone.click(".r-tags[data-for='1'] .r-tag:has-text('推诿扯皮')")
    await phone.click(".r-rater summary")
    await phone.fill("#q-name", "王小明")
    await phone.fill("#q-phone", "13900139000")
    await snapshot(phone, "rate-phone-filled")
    assert await serious_violations(phone) == []
    await phone.click(".r-submit")
    await expect(phone.locator("#q-thanks")).to_be_visible()
    await expect(phone.locator("#q-form")).to_be_hidden()
    await expect(phone.locator("#q-rating-list li")).to_contain_text("评价:非常不满意")
    await expect(phone.locator("#q-rating-list li")).to_contain_text("推诿扯皮")
    await snapshot(phone, "rate-phone-thanks")

    _, body = await hall.get("/api/ratings?window=1", await hall.viewer())
    (rating,) = body["ratings"]
    assert (rating["grade"], rating["tags"], rating["channel"]) == (1, ["推诿扯皮"], "qr")
    assert rating["rater"] == {"anonymous": False, "name": "王**", "phone": "139****9000", "id_number": None}

    # Coming back later: the rating, and no second one (一次一评).
    await phone.reload()
    assert await phone.get_attribute("#rate", "data-state") == "rated"
    await expect(phone.locator("#q-form")).to_be_hidden()
    await expect(phone.locator("#q-rating-list li")).to_have_count(1)
    await expect(phone.locator("#q-rated-note")).to_contain_text("一次一评")
    assert phone.hall_errors == [], phone.hall_errors

    # The same page at 1080p.
    await phone.set_viewport_size(DESKTOP)
    await snapshot(phone, "rate-1080p-rated")
    assert await serious_violations(phone) == []
    await phone.context.close()


async def test_the_qr_page_at_1080p_before_and_after_the_service(hall: HallClient, browser):
    ticket = await hall.issue("A")
    desktop = await new_page(browser, DESKTOP)
    await desktop.goto(url(hall, f"/r/{ticket['token']}"))
    await expect(desktop.locator(".q-state")).to_contain_text("办结后可评价")
    await expect(desktop.locator("#q-form")).to_be_hidden()
    await snapshot(desktop, "rate-1080p-waiting")
    assert await serious_violations(desktop) == []
    staff = await hall.staff_at(1, display_name="李娜", staff_no="0101")
    await hall.call(staff, 1)
    await hall.act(staff, 1, "finish", matter="户籍迁入")
    await desktop.reload()
    await desktop.click(".r-grade[data-grade='5']")
    await desktop.click(".r-tags[data-for='5'] .r-tag:has-text('服务热情')")
    await snapshot(desktop, "rate-1080p-form")
    assert await serious_violations(desktop) == []
    await desktop.click(".r-submit")
    await expect(desktop.locator("#q-rating-list li")).to_contain_text("评价:非常满意")
    assert desktop.hall_errors == [], desktop.hall_errors
    await desktop.context.close()
