"""The administrator's accounts page, in a real browser: a locked colleague, a lost laptop, someone leaving."""

import dataclasses

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
