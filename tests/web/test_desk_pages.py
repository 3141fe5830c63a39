"""The seat desk in a real browser: a WeChat message pops up on /desk without a reload, goes to a
department on /department and comes back, is revisited and closed; the supervisor sees the
return-visit rate move; a citizen's markup stays text."""

from __future__ import annotations

from playwright.async_api import expect

from hall.callcenter.intake import Inbound, receive, save_attachment
from hall.callcenter.mail.decode import parse
from hall.callcenter.mail.service import take
from hall.callcenter.mail.settings import parse_mail

from ..callcenter.helpers import LAND
from ..helpers import HallClient
from .a11y import serious_violations, snapshot
from .test_bad_reviews_page import log_in

OPENID = "oLVPpjqs9BhvzwPj5A-vTYAX3GLc"
FIRST = "你好,我在不动产窗口办理二手房过户,材料被退回三次,每次说法都不一样"


async def new_page(browser):
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.hall_errors = errors
    return context, page


async def live(page) -> None:
    """Wait until the page's live socket is up (events from now on reach it)."""
    await expect(page.locator("body")).to_have_attribute("data-live", "up")


async def submit(page, action: str) -> None:
    await page.locator(f"#case-actions form[data-action='{action}'] button[type=submit]").click()


async def test_a_wechat_complaint_from_pop_up_to_closed(hall: HallClient, browser, page):
    await hall.create_user("li", "agent", display_name="李坐席")
    await hall.create_user("wang", "department", department=LAND, display_name="王不动产")
    await hall.create_user("zhou", "manager", display_name="周主任")
    await log_in(page, hall, "/desk", "li")
    assert await page.inner_text("header nav a[href='/desk']") == "坐席工作台"
    assert await page.locator("header nav a[href='/hall']").count() == 0  # not hall staff
    await live(page)

    # Online: the desk now takes text-channel cases.
    await page.click("[data-presence=online]")
    await expect(page.locator("#presence-now")).to_have_text("在线")
    await expect(page.locator("#inbox-empty")).to_be_visible()

    # A WeChat message arrives: it pops up with its number and first words, and the title flashes.
    got = await receive(hall.app, Inbound("wechat", {"wechat_openid": OPENID}, FIRST, external_id="24602817310000001"))
    toast = page.locator(".desk-toast")
    await expect(toast).to_contain_text(f"新工单 {got.case_no}")
    await expect(toast).to_contain_text("材料被退回三次")
    await expect(toast.locator(".desk-ch")).to_have_text("微信")
    assert "新工单" in await page.title() or "坐席工作台" in await page.title()  # flashing: either phase
    item = page.locator(f"#inbox li[data-case='{got.case_id}']")
    await expect(item).to_contain_text("微信")
    await expect(item).to_contain_text("登记")
    await expect(item.locator(".desk-snippet")).to_have_text(FIRST)
    await expect(item.locator(".desk-item-bottom")).to_contain_text("我的")
    await snapshot(page, "desk-pop-up")
    assert await serious_violations(page) == []

    # Open it from the notice: the conversation, the masked contact, the accept form.
    await toast.get_by_role("button", name="打开工单").click()
    await expect(toast).to_have_count(0)
    pane = page.locator("#case-body")
    await expect(pane.locator(".desk-case-no")).to_have_text(got.case_no)
    await expect(pane.locator("#case-messages")).to_contain_text(FIRST)
    await expect(pane.locator("#case-contact")).to_have_text("微信 oLVP…Lc")
    await expect(pane.locator("#case-actions form[data-action='dispatch']")).to_have_count(0)  # accept first

    # 受理 needs a type; then as a complaint (投诉), reply through WeChat, dispatch to the land bureau.
    await submit(page, "accept")
    await expect(pane.locator("form[data-action='accept'] .desk-form-msg")).to_have_text("请选择工单类型")
    await pane.locator("form[data-action='accept']").get_by_label("工单类型").select_option("complaint")
    await submit(page, "accept")
    await expect(pane.locator(".desk-status")).to_have_text("受理")
    await expect(pane.locator(".desk-type").first).to_have_text("投诉")
    await pane.locator("form[data-action='reply'] textarea").fill("您好,您反映的情况已受理,我们将转相关部门核实。")
    await submit(page, "reply")
    out = pane.locator("#case-messages .desk-msg-out")
    await expect(out).to_contain_text("已受理")
    assert await out.locator(".desk-delivery").inner_text() in ("待发送", "已发送", "发送失败")
    dispatch = pane.locator("form[data-action='dispatch']")
    await dispatch.get_by_label(LAND).check()
    await dispatch.locator("textarea").fill("请核实窗口一次性告知情况")
    await submit(page, "dispatch")
    await expect(pane.locator(".desk-status").first).to_have_text("转办")
    await expect(pane.locator(".desk-share")).to_contain_text("待签收")
    await snapshot(page, "desk-dispatched")
    assert await serious_violations(page) == []

    # The department signs for it and answers, on its own page.
    dept_context, dept = await new_page(browser)
    await log_in(dept, hall, "/department", "wang")
    await live(dept)
    row = dept.locator(f"#inbox li[data-case='{got.case_id}']")
    await expect(row).to_contain_text("待签收")
    await row.locator("button").click()
    dpane = dept.locator("#case-body")
    await expect(dpane.locator("#share-status")).to_have_text("本部门:待签收")
    await expect(dpane).to_contain_text("转办意见:请核实窗口一次性告知情况")
    await expect(dpane.locator("#case-messages")).to_contain_text(FIRST)
    assert OPENID not in await dpane.inner_text()  # masked for departments too
    assert await serious_violations(dept) == []
    await dept.locator("#case-actions form[data-action='return'] button").click()  # no reason: refused
    await expect(dpane.locator("form[data-action='return'] .desk-form-msg")).to_have_text("请填写退单理由(reason)")
    dept.hall_errors.clear()  # the browser logs the refused request (400) as a console error
    await dept.locator("#case-actions form[data-action='sign'] button").click()
    await expect(dpane.locator("#share-status")).to_have_text("本部门:已签收")
    answer = "已调阅录像,窗口未一次性告知,已批评教育并组织培训"
    await dpane.locator("form[data-action='feedback'] textarea").fill(answer)
    await snapshot(dept, "department-signed")
    await dept.locator("#case-actions form[data-action='feedback'] button").click()
    await expect(dpane.locator("#share-status")).to_have_text("本部门:已反馈")
    await expect(dpane.locator("#case-actions")).to_contain_text("等待坐席审核")
    assert await serious_violations(dept) == []

    # The desk saw every step live, without a reload; the supervisor sees a visit owed.
    await expect(pane.locator(".desk-status").first).to_have_text("反馈")
    await expect(pane.locator(".desk-share")).to_contain_text("已批评教育")
    await submit(page, "review")  # 通过 is the default
    await expect(pane.locator(".desk-status").first).to_have_text("审核通过")
    close = pane.locator("form[data-action='close'] button")
    await expect(close).to_be_disabled()
    await expect(pane.locator("form[data-action='return-visit']")).to_contain_text("已回访 0 次未联系上;累计 3 次")

    boss_context, boss = await new_page(browser)
    await log_in(boss, hall, "/desk/supervisor", "zhou")
    await live(boss)
    await expect(boss.locator("#visit-rate")).to_have_text("0%")
    await expect(boss.locator(f"#owed tr[data-case='{got.case_id}']")).to_contain_text(got.case_no)
    await expect(boss.locator("#agents")).to_contain_text("李坐席")
    await expect(boss.locator("#agents")).to_contain_text("在线")
    await snapshot(boss, "desk-supervisor-owed")
    assert await serious_violations(boss) == []

    # The return visit (reached, satisfied) allows closing; the supervisor's rate reaches 100%.
    visit = pane.locator("form[data-action='return-visit']")
    await visit.get_by_label("联系上了").check()
    await visit.get_by_label("满意", exact=True).check()
    await visit.locator("textarea").fill("市民表示满意")
    await submit(page, "return-visit")
    await expect(pane.locator(".desk-status").first).to_have_text("已回访")
    await expect(boss.locator("#visit-rate")).to_have_text("100%")
    await expect(boss.locator("#owed")).to_contain_text("没有")
    await expect(close).to_be_enabled()
    await submit(page, "close")
    await expect(pane.locator(".desk-status").first).to_have_text("办结")
    await expect(pane.locator("#case-actions")).to_contain_text("回访结果:满意")
    await expect(page.locator(f"#inbox li[data-case='{got.case_id}']")).to_have_count(0)  # done, off the inbox
    history = await pane.locator("#case-history li strong").all_inner_texts()
    assert [h.strip() for h in history] == ["登记", "分派坐席", "受理", "转办", "签收", "反馈", "审核", "回访", "办结"]
    assert "转办 → 转办" not in await pane.locator("#case-history").inner_text()
    await expect(pane.locator("#case-history")).to_contain_text("王不动产")
    await snapshot(page, "desk-closed")
    assert await serious_violations(page) == []
    await snapshot(boss, "desk-supervisor-done")

    status, case = await hall.get(f"/api/cases/{got.case_id}", await hall.login("li"))
    assert status == 200 and case["status"] == "closed" and case["visits"][0]["satisfied"] is True
    for context, other in ((dept_context, dept), (boss_context, boss)):
        assert other.hall_errors == []
        await context.close()


async def test_a_citizens_markup_is_shown_as_text(hall: HallClient, page):
    await hall.create_user("li", "agent", display_name="李坐席")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    await log_in(page, hall, "/desk", "li")
    await live(page)
    await page.click("[data-presence=online]")
    await expect(page.locator("#presence-now")).to_have_text("在线")
    hostile = '<img src=x onerror=alert(1)><script>alert(2)</script><b id="bold">粗体</b>'
    got = await receive(hall.app, Inbound("wechat", {"wechat_openid": "o-hostile"}, hostile, external_id="x-1"))
    await expect(page.locator(".desk-toast")).to_contain_text("<img src=x onerror=alert(1)>")
    await page.locator(".desk-toast").get_by_role("button", name="打开工单").click()
    await expect(page.locator("#case-messages .desk-msg-body")).to_have_text(hostile)
    await expect(page.locator(f"#inbox li[data-case='{got.case_id}'] .desk-snippet")).to_have_text(hostile[:60])
    for selector in ("img", "#desk script", "#bold"):
        assert await page.locator(selector).count() == 0, selector
    assert dialogs == []


async def test_a_call_answered_at_my_phone_pops_the_callers_cases(hall: HallClient, page):
    await hall.create_user("li", "agent", display_name="李坐席")
    earlier = await receive(hall.app, Inbound("phone", {"phone": "13800138000"}, "来电:咨询不动产登记", kind="call"))
    await log_in(page, hall, "/desk", "li")
    await live(page)

    me = await hall.db.fetchval("SELECT id FROM users WHERE username = 'li'")

    def answered(tx, agent, agent_id):  # as hall/callcenter/ami/service.py emits it
        before = {"id": earlier.case_id, "no": earlier.case_no, "status": "registered", "type": None}
        payload = {"agent": agent, "agent_id": agent_id, "case_id": earlier.case_id, "call_id": "1714.1"}
        tx.emit("call.answered", payload | {"queue": "hall", "hold_seconds": 12, "earlier_cases": [before]})

    await hall.db.write(answered, "zhang", me + 1)  # another agent's call: nothing pops here
    await page.wait_for_timeout(300)
    assert await page.locator("#screen-pop").is_hidden()
    await hall.db.write(answered, "li", me)
    pop = page.locator("#screen-pop")
    await expect(pop).to_be_visible()
    await expect(pop).to_contain_text("排队 12 秒")
    await expect(pop.locator("#screen-pop-cases")).to_contain_text(earlier.case_no)
    await expect(page.locator("#case-body .desk-case-no")).to_have_text(earlier.case_no)  # the call's case, opened
    await expect(page.locator("#case-body .desk-ch")).to_have_text("电话")
    await snapshot(page, "desk-screen-pop")
    assert await serious_violations(page) == []


async def test_the_inbox_puts_my_cases_first_and_a_departments_cases_to_sign_first(hall: HallClient):
    li = await hall.user("agent", username="li-inbox")
    other = await hall.user("agent")
    land = await hall.user("department", department=LAND)
    assert (await hall.post("/api/desk/presence", {"status": "online"}, other))[0] == 200
    theirs = await receive(hall.app, Inbound("wechat", {"wechat_openid": "o-theirs"}, "别人的", external_id="t-1"))
    assert (await hall.post("/api/desk/presence", {"status": "offline"}, other))[0] == 200
    waiting = await receive(hall.app, Inbound("email", {"email": "a@example.cn"}, "没人接的", external_id="w-1"))
    mine, answer = [], None
    for n in range(2):
        status, answer = await hall.post("/api/cases", {"content": f"电话登记{n}", "phone": "13800138000"}, li)
        assert status == 201, answer
        mine.append(answer["id"])
    await hall.post(f"/api/cases/{mine[0]}/accept", {"type": "complaint"}, li)
    status, answer = await hall.post(f"/api/cases/{mine[0]}/messages", {"text": "已收到,正在核实"}, li)
    assert status == 201, answer

    status, inbox = await hall.get("/api/desk/inbox", li)
    assert status == 200
    # mine (the consultation due tomorrow before the complaint), then the one waiting; not theirs
    assert [c["id"] for c in inbox["cases"]] == [mine[1], mine[0], waiting.case_id]
    first = inbox["cases"][1]
    assert first["last_message"] == {"direction": "out", "kind": "text", "snippet": "已收到,正在核实"}
    assert inbox["cases"][-1]["assigned_to"] is None and "13800138000" not in str(inbox)
    status, everyone = await hall.get("/api/desk/inbox?scope=all", li)
    assert [c["id"] for c in everyone["cases"]][-1] == theirs.case_id
    assert (await hall.get("/api/desk/inbox?scope=nobody", li))[0] == 400

    # A department: its cases only, with its share; those to sign for first.
    for cid in mine:
        await hall.post(f"/api/cases/{cid}/accept", {"type": "complaint"}, li)
        assert (await hall.post(f"/api/cases/{cid}/dispatch", {"departments": [LAND]}, li))[0] == 200
    assert (await hall.post(f"/api/cases/{mine[1]}/sign", {}, land))[0] == 200  # first by due, id
    status, theirs_inbox = await hall.get("/api/desk/inbox", land)
    assert status == 200 and theirs_inbox["department"] == LAND
    shares = [(c["id"], c["share"]["status"]) for c in theirs_inbox["cases"]]
    assert shares == [(mine[0], "pending"), (mine[1], "signed")]
    assert (await hall.get("/api/desk/inbox", await hall.user("staff")))[0] == 403


async def test_an_agent_registers_a_call_by_hand_and_downloads_an_attachment(hall: HallClient, page):
    await hall.create_user("li", "agent", display_name="李坐席")
    await log_in(page, hall, "/desk", "li")
    await live(page)
    await page.click("#register-open")
    form = page.locator("#register form[data-action='register']")
    await form.get_by_label("渠道").select_option("phone")
    await form.get_by_label("类型").select_option("complaint")
    await form.get_by_label("联系电话").fill("139 0013 9000")
    await form.get_by_label("涉及窗口号(选填)").fill("999")
    await form.get_by_label("反映内容").fill("来电反映:公积金窗口让他周一再来")
    await form.locator("button[type=submit]").click()
    await expect(form.locator(".desk-form-msg")).to_have_text("没有 999 号窗口")  # the server's words
    page.hall_errors.clear()  # the refused request, logged by the browser
    await form.get_by_label("涉及窗口号(选填)").fill("4")
    await form.locator("button[type=submit]").click()
    await expect(page.locator("#register")).to_be_hidden()
    await expect(page.locator("#case-title")).to_contain_text("2026112300001")
    row = await hall.db.fetchone("SELECT channel, type, contact_phone, window_no, assigned_to FROM cases")
    assert tuple(row)[:4] == ("phone", "complaint", "13900139000", 4) and row["assigned_to"] is not None
    assert await serious_violations(page) == []

    # Answered: the return visit offers a call through the phone system (none configured here).
    headers = await hall.login("li")
    await hall.post("/api/cases/1/accept", {}, headers)
    await hall.post("/api/cases/1/feedback", {"answer": "已电话答复"}, headers)
    await expect(page.locator("#case-actions form[data-action='return-visit']")).to_be_visible()
    await page.click(".desk-call button")
    await expect(page.locator(".desk-call-msg")).to_have_text("没有接入电话系统(Asterisk),请用话机直接拨打")
    page.hall_errors.clear()

    # A WeChat photo: a download link, never shown inline.
    photo = await save_attachment(hall.app, "现场.jpg", "image/jpeg", b"\xff\xd8\xff" + b"0" * 2000)
    got = await receive(hall.app, Inbound("wechat", {"wechat_openid": "oPhoto"}, "[图片]", kind="image",
                                          external_id="ph1", attachments=[photo]))  # fmt: skip
    await page.click("#inbox-scope")
    await page.select_option("#inbox-scope", "all")
    await page.locator(f"#inbox li[data-case='{got.case_id}'] button").first.click()
    link = page.locator(".desk-files a")
    await expect(link).to_have_text("现场.jpg(2 KB)")
    async with page.expect_download() as wait:
        await link.click()
    download = await wait.value
    assert download.suggested_filename == "现场.jpg"


HOSTILE_MAIL = (
    "From: =?utf-8?b?5byg5LiJ?= <zhang@example.cn>\r\n"
    "To: 12345@hall.example.gov.cn\r\n"
    "Subject: =?utf-8?b?5oqV6K+J?= <img src=x onerror=alert(3)>\r\n"
    "Message-ID: <xss-1@example.cn>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=utf-8\r\n\r\n"
    '<html><body><p>窗口态度差<img src=x onerror="alert(1)"></p><script>alert(2)</script>'
    '<a href="javascript:alert(4)">点这里</a><iframe src="javascript:alert(5)"></iframe></body></html>\r\n'
).encode()


async def test_an_html_mail_with_script_cannot_run_on_the_desk(hall: HallClient, page):
    """A real XSS payload by email (HTML only, script in the subject too): the desk shows text; the
    original page is only a download."""
    settings = parse_mail({})
    received = await take(hall.app, settings, parse(HOSTILE_MAIL, settings))
    await hall.create_user("li", "agent", display_name="李坐席")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    await log_in(page, hall, "/desk", "li")
    await live(page)
    await page.select_option("#inbox-scope", "all")
    await page.locator(f"#inbox li[data-case='{received.case_id}'] button").first.click()
    body = page.locator("#case-body .desk-msg-body").first
    await expect(body).to_contain_text("窗口态度差")
    assert "alert" not in await body.inner_text()  # scripts dropped from the text
    subject = await page.locator("#case-body .desk-msg-subject").first.inner_text()
    assert "<img src=x onerror=alert(3)>" in subject  # shown as the characters it is
    pane = page.locator("#case-body")
    assert await pane.locator("img, script, iframe, a[href^='javascript']").count() == 0
    link = pane.locator(".desk-files a")
    await expect(link).to_have_text("message.html(1 KB)")
    async with page.expect_download():  # the original HTML only ever comes as a file
        await link.click()
    await page.wait_for_timeout(300)
    assert dialogs == []
