"""The staff login and the hall overview, as a person sees them in a browser."""

from ..helpers import PASSWORD, HallClient
from .a11y import serious_violations, snapshot


def url(hall: HallClient, path: str) -> str:
    return str(hall.client.make_url(path))


async def test_staff_log_in_and_see_the_hall(hall: HallClient, page):
    await hall.create_user("wangfang", "staff", staff_no="0007", display_name="王芳")
    await hall.issue("A")
    await page.goto(url(hall, "/hall"))
    assert "/login?next=/hall" in page.url  # not signed in yet
    await page.fill("input[name=username]", "wangfang")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/hall")
    await snapshot(page, "hall")
    assert await serious_violations(page) == []
    body = await page.inner_text("main")
    assert "大厅概况" in body and "综合受理" in body and "不动产登记" in body
    row = await page.inner_text("tbody tr:first-child")
    assert "取号中" in row and "1 / 50" in row  # one ticket of A's 50 issued
    assert "wangfang" in await page.inner_text("header")
    await page.click("header button[type=submit]")  # 退出
    await page.wait_for_url("**/login")
    await page.goto(url(hall, "/hall"))
    assert "/login" in page.url


async def test_wrong_password_is_told_in_chinese(hall: HallClient, page):
    await hall.create_user("wangfang")
    await page.goto(url(hall, "/login"))
    await snapshot(page, "login")
    assert await serious_violations(page) == []
    await page.fill("input[name=username]", "wangfang")
    await page.fill("input[name=password]", "not-the-password")
    await page.click("button[type=submit]")
    assert await page.inner_text(".error") == "用户名或密码错误"
    assert await page.input_value("input[name=username]") == ""


async def test_login_form_needs_its_csrf_token(hall: HallClient):
    await hall.create_user("wangfang")
    async with hall.client.post("/login", data={"username": "wangfang", "password": PASSWORD}) as resp:
        assert resp.status == 403 and "页面已过期" in await resp.text()


async def test_pages_carry_a_content_security_policy(hall: HallClient):
    async with hall.client.get("/login") as resp:
        csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


async def test_unknown_page_is_a_chinese_404(hall: HallClient, page):
    response = await page.goto(url(hall, "/no-such-page"))
    assert response.status == 404 and "没有这个地址" in await page.inner_text("main")
    assert page.hall_errors == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
    page.hall_errors.clear()
