"""Sessions end: at logout, when an admin signs a user out or switches the account off, and when unused."""

from __future__ import annotations

import dataclasses

import pytest

from hall.auth.middleware import AUTHENTICATOR

from ..helpers import PASSWORD, HallClient


async def me(hall: HallClient, headers: dict) -> int:
    hall.app[AUTHENTICATOR].forget()  # the few-second cache runs on real time; the hall's clock jumps
    return (await hall.get("/api/auth/me", headers))[0]


async def test_logout_ends_the_token_at_once(hall: HallClient):
    headers = await hall.user("staff")
    assert await me(hall, headers) == 200
    assert (await hall.post("/api/auth/logout", None, headers))[0] == 200
    status, body = await hall.get("/api/auth/me", headers)
    assert status == 401 and body["error"]["code"] == "invalid_token"


async def test_an_admin_signs_a_user_out_everywhere(hall: HallClient):
    admin = await hall.user("admin")
    user = await hall.create_user("zhang")
    laptop, phone = await hall.login("zhang"), await hall.login("zhang")
    other = await hall.user("staff")
    status, body = await hall.post(f"/api/users/{user['id']}/revoke-sessions", None, admin)
    assert status == 200 and body == {"user_id": user["id"], "revoked_sessions": 2}
    assert [await me(hall, h) for h in (laptop, phone, other)] == [401, 401, 200]
    assert await me(hall, await hall.login("zhang")) == 200  # the account itself stays
    assert (await hall.post(f"/api/users/{user['id']}/revoke-sessions", None, other))[0] == 403
    assert (await hall.post("/api/users/999/revoke-sessions", None, admin))[0] == 404


async def test_deactivating_an_account_ends_its_sessions_and_its_logins(hall: HallClient):
    admin = await hall.user("admin", username="boss")
    user = await hall.create_user("zhang")
    token = await hall.login("zhang")
    status, body = await hall.post(f"/api/users/{user['id']}/deactivate", None, admin)
    assert status == 200 and body["active"] is False
    assert await me(hall, token) == 401
    status, body = await hall.post("/api/auth/login", {"username": "zhang", "password": PASSWORD})
    assert status == 401 and body["error"]["code"] == "invalid_credentials"
    boss = (await hall.get("/api/auth/me", admin))[1]["id"]
    status, body = await hall.post(f"/api/users/{boss}/deactivate", None, admin)
    assert status == 409 and body["error"]["code"] == "last_admin"


class TestIdle:
    @pytest.fixture
    def config(self, config):
        return dataclasses.replace(config, auth=dataclasses.replace(config.auth, idle_minutes=30))

    async def test_a_session_left_unused_ends_and_one_in_use_goes_on(self, hall: HallClient):
        used, left = await hall.user("staff"), await hall.user("staff")
        for _ in range(4):  # two hours of use, a request every 25 minutes
            hall.clock.advance(25 * 60)
            assert await me(hall, used) == 200
        assert await me(hall, left) == 401
        hall.clock.advance(31 * 60)
        assert await me(hall, used) == 401

    async def test_the_absolute_limit_holds_for_a_session_in_use(self, hall: HallClient):
        headers, start = await hall.user("staff"), hall.clock.now()
        while await me(hall, headers) == 200:
            hall.clock.advance(20 * 60)
        assert hall.clock.now() - start == 12 * 3600  # [auth] session_hours, however busy
