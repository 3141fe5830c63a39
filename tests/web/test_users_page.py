"""The administrator's accounts page, in a real browser: a locked colleague, a lost laptop, someone leaving."""

import dataclasses
import re

import pytest
from playwright.async_api import expect

from ..helpers import PASSWORD, HallClient
from .a11y import serious_violations, snapshot
from .test_queue_pages import new_page, sign_in, url


async def test_an_admin_unlocks_signs_out_and_deactivates_from_the_page(hall: HallClient, browser):
    await hall.create_user("sysadmin", "admin", display_name="系统管理员")
    zhang = await hall.create_user("zhang", "staff", staff_no="0101", display_name="张伟")
    await hall.create_user("li", "agent", display_name="李娜")
    laptop = await hall.login("li")  # li's lost laptop
    for _ in range(5):  # someone types zhang's password wrong five times
        await hall.post("/api/auth/login", {"username": "zhang", "password": "wrong-password"})
    page = await new_page(browser)
    await sign_in(hall, page, "sysadmin", "/manage/users")
    zhang_row = page.locator("tr[data-username=zhang]")
    li_row = page.locator("tr[data-username=li]")
    me_row = page.locator("tr[data-username=sysadmin]")
    await expect(zhang_row.locator(".u-state")).to_have_text("已锁定,至 09:01")
    await expect(zhang_row).to_contain_text("张伟")
    await expect(zhang_row).to_contain_text("窗口工作人员")
    await expect(li_row.locator(".u-sessions")).to_have_text("1")
    await expect(me_row).to_contain_text("sysadmin(我)")
    await expect(me_row.locator("button")).to_have_count(0)  # no switching yourself off
    await expect(page.get_by_role("link", name="账号管理")).to_be_visible()
    assert await serious_violations(page) == []
    await snapshot(page, "users-locked")

    await zhang_row.get_by_role("button", name="解除锁定").click()
    await expect(page.locator("#users-status")).to_have_text("已解除「zhang」的登录锁定")
    await expect(zhang_row.locator(".u-state")).to_have_text("正常")
    await expect(zhang_row.get_by_role("button", name="解除锁定")).to_have_count(0)
    assert (await hall.post("/api/auth/login", {"username": "zhang", "password": PASSWORD}))[0] == 200

    page.once("dialog", lambda dialog: dialog.accept())
    await li_row.get_by_role("button", name="全部下线").click()
    await expect(page.locator("#users-status")).to_have_text("「li」已在所有地方退出登录")
    await expect(li_row.locator(".u-sessions")).to_have_text("0")
    assert (await hall.get("/api/auth/me", laptop))[0] == 401

    page.once("dialog", lambda dialog: dialog.dismiss())  # changing one's mind does nothing
    await zhang_row.get_by_role("button", name="停用").click()
    await expect(zhang_row.locator(".u-state")).to_have_text("正常")
    page.once("dialog", lambda dialog: dialog.accept())
    await zhang_row.get_by_role("button", name="停用").click()
    await expect(zhang_row.locator(".u-state")).to_have_text("已停用")
    assert (await hall.post("/api/auth/login", {"username": "zhang", "password": PASSWORD}))[0] == 401
    await zhang_row.get_by_role("button", name="启用").click()
    await expect(page.locator("#users-status")).to_have_text("已启用「zhang」,需重新登录")
    await expect(zhang_row.locator(".u-state")).to_have_text("正常")
    assert (await hall.post("/api/auth/login", {"username": "zhang", "password": PASSWORD}))[0] == 200
    await snapshot(page, "users-after")
    assert zhang["id"] and page.hall_errors == []
    await page.context.close()


async def test_a_manager_is_not_shown_the_accounts_page(hall: HallClient, browser):
    await hall.create_user("boss", "manager")
    page = await new_page(browser)
    await sign_in(hall, page, "boss", "/manage")
    await expect(page.get_by_role("link", name="账号管理")).to_have_count(0)
    response = await page.goto(url(hall, "/manage/users"))
    assert response.status == 403
    await expect(page.locator("main")).to_contain_text("无权")
    await page.context.close()


class TestALockedAddress:
    @pytest.fixture
    def config(self, config):
        """The hall's staff share one address; three failures from it lock it."""
        return dataclasses.replace(config, auth=dataclasses.replace(config.auth, lockout_address_failures=3))

    async def test_an_admin_lifts_it_from_the_page(self, hall: HallClient, browser):
        await hall.create_user("sysadmin", "admin")
        page = await new_page(browser)
        await sign_in(hall, page, "sysadmin", "/manage/users")
        for name in ("a", "b", "c"):  # a guesser on the hall's network
            await hall.post("/api/auth/login", {"username": f"guess-{name}", "password": "wrong-password"})
        await page.reload()
        row = page.locator("#addresses tr[data-address='127.0.0.1']")
        await expect(row).to_contain_text("127.0.0.1")
        await expect(row.locator("td").nth(1)).to_have_text("3")
        await expect(row.locator("td").nth(2)).to_have_text("09:01")
        assert await serious_violations(page) == []
        await snapshot(page, "users-address-locked")
        await row.get_by_role("button", name="解除").click()
        await expect(page.locator("#addresses-status")).to_have_text("已解除地址 127.0.0.1 的登录锁定")
        await expect(page.locator("#addresses tbody")).to_have_text("没有被锁定的地址")
        assert (await hall.post("/api/auth/login", {"username": "sysadmin", "password": PASSWORD}))[0] == 200
        await page.context.close()


async def test_an_admin_creates_an_account_and_resets_a_forgotten_password(hall: HallClient, browser):
    await hall.create_user("sysadmin", "admin")
    await hall.create_user("zhang", "staff", display_name="张伟")
    old_session = await hall.login("zhang")
    page = await new_page(browser)
    await sign_in(hall, page, "sysadmin", "/manage/users")

    form = page.locator("#new-user")
    await form.get_by_label("用户名").fill("wangfang")
    await form.get_by_label("姓名").fill("王芳")
    await form.get_by_label("角色").select_option(label="坐席")
    await form.get_by_label("部门", exact=True).fill("区行政服务中心")
    await form.get_by_label("工号").fill("0712")
    await form.get_by_label("初始密码").fill("short")
    await form.get_by_role("button", name="新建").click()  # the browser itself asks for 8 characters
    assert await form.get_by_label("初始密码").evaluate("e => e.validity.tooShort")
    await form.get_by_label("初始密码").fill("wang-fang-2026")
    await form.get_by_role("button", name="新建").click()
    await expect(page.locator("#new-user-status")).to_have_text("已新建「wangfang」")
    row = page.locator("#users tr[data-username=wangfang]")
    await expect(row).to_contain_text("王芳")
    await expect(row).to_contain_text("坐席")
    await expect(row.locator(".u-state")).to_have_text("正常")
    await expect(row.get_by_role("button", name="停用")).to_be_visible()
    assert (await hall.post("/api/auth/login", {"username": "wangfang", "password": "wang-fang-2026"}))[0] == 200
    await form.get_by_label("用户名").fill("wangfang")
    await form.get_by_label("初始密码").fill("another-pass-1")
    await form.get_by_role("button", name="新建").click()
    await expect(page.locator("#new-user-status")).to_have_text("用户名 wangfang 已存在")
    await expect(page.locator("#new-user-status")).to_have_class(re.compile(r"\bu-bad\b"))  # shown in red

    reset = page.locator("#reset-password")
    await reset.get_by_label("账号").select_option(label="zhang(张伟)")
    await reset.get_by_label("新密码").fill("zhang-new-pass")
    await reset.get_by_role("button", name="重设").click()
    await expect(page.locator("#reset-status")).to_have_text("已重设「zhang」的密码,原有登录已全部失效")
    assert (await hall.get("/api/auth/me", old_session))[0] == 401
    assert (await hall.post("/api/auth/login", {"username": "zhang", "password": PASSWORD}))[0] == 401
    assert (await hall.post("/api/auth/login", {"username": "zhang", "password": "zhang-new-pass"}))[0] == 200
    assert await serious_violations(page) == []
    await snapshot(page, "users-forms")
    await page.context.close()
