"""Repeated wrong passwords lock a username (and an address) for 1, 2, 4 … minutes, even across a restart."""

from __future__ import annotations

import dataclasses
import re

import pytest
from aiohttp import DummyCookieJar

from hall.auth.lockout import lock_seconds
from hall.server import create_app

from ..helpers import PASSWORD, HallClient


async def attempt(hall: HallClient, password: str, username: str = "zhang") -> tuple[int, dict]:
    return await hall.post("/api/auth/login", {"username": username, "password": password})


async def fail(hall: HallClient, times: int, username: str = "zhang") -> list[int]:
    return [(await attempt(hall, "wrong-password", username))[0] for _ in range(times)]


def test_locks_double_from_one_minute_up_to_the_most():
    assert [lock_seconds(n, 5, 30) / 60 for n in range(3, 13)] == [0, 0, 1, 2, 4, 8, 16, 30, 30, 30]


async def test_the_fifth_wrong_password_locks_the_name_with_a_time_to_wait(hall: HallClient):
    await hall.create_user("zhang")
    assert await fail(hall, 4) == [401, 401, 401, 401]
    status, body = await attempt(hall, "wrong-password")
    assert status == 429 and body["error"]["code"] == "login_locked"
    assert body["error"]["retry_after"] == 60 and "1 分钟后再试" in body["error"]["message"]
    # the right password does not get through a lock, and says how long is left
    async with hall.client.post("/api/auth/login", json={"username": "zhang", "password": PASSWORD}) as resp:
        assert resp.status == 429 and resp.headers["Retry-After"] == "60"
    hall.clock.advance(61)
    assert (await attempt(hall, PASSWORD))[0] == 200
    # a success clears the count: four wrong passwords again do not lock
    assert await fail(hall, 4) == [401] * 4
    assert (await attempt(hall, PASSWORD))[0] == 200


async def test_each_failure_after_a_lock_doubles_it(hall: HallClient):
    await hall.create_user("zhang")
    await fail(hall, 5)
    waits = []
    for _ in range(6):
        status, body = await attempt(hall, PASSWORD)
        assert status == 429
        waits.append(body["error"]["retry_after"])
        hall.clock.advance(body["error"]["retry_after"])
        status, body = await attempt(hall, "wrong-password")  # the lock has ended: one more guess
        assert status == 429
    assert waits == [60, 120, 240, 480, 960, 1800]
    assert body["error"]["retry_after"] == 1800  # at most [auth] lockout_max_minutes


async def test_unknown_names_are_counted_like_known_ones(hall: HallClient):
    assert await fail(hall, 5, "nobody") == [401, 401, 401, 401, 429]


async def test_old_failures_are_forgotten(hall: HallClient):
    await hall.create_user("zhang")
    await fail(hall, 4)
    hall.clock.advance(16 * 60)  # [auth] lockout_window_minutes = 15
    assert await fail(hall, 4) == [401] * 4


async def test_a_lock_outlives_a_restart(aiohttp_client, config, clock, db_path, hall: HallClient):
    await hall.create_user("zhang")
    await fail(hall, 5)
    again = create_app(config, clock=clock, db_path=db_path)
    other = HallClient(await aiohttp_client(again, cookie_jar=DummyCookieJar()), clock)
    status, body = await attempt(other, PASSWORD)
    assert status == 429 and body["error"]["code"] == "login_locked"


class TestOneAddress:
    @pytest.fixture
    def config(self, config):
        """Three failures from one address lock it, whatever the names tried."""
        return dataclasses.replace(config, auth=dataclasses.replace(config.auth, lockout_address_failures=3))

    async def test_one_address_trying_many_names_is_locked(self, hall: HallClient):
        await hall.create_user("wang")
        assert [(await attempt(hall, "guess", f"name{n}"))[0] for n in range(3)] == [401, 401, 429]
        status, body = await attempt(hall, PASSWORD, "wang")
        assert status == 429 and body["error"]["code"] == "login_locked"


async def test_the_login_page_locks_as_well(hall: HallClient):
    await hall.create_user("wang")
    statuses = []
    for _ in range(5):
        async with hall.client.get("/login") as resp:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await resp.text()).group(1)
        form = {"csrf_token": token, "username": "wang", "password": "wrong-password"}
        cookie = {"Cookie": f"hall_login_csrf={token}"}
        async with hall.client.post("/login", data=form, headers=cookie, allow_redirects=False) as resp:
            statuses.append(resp.status)
            text = await resp.text()
    assert statuses == [200, 200, 200, 200, 429]
    assert "登录失败次数过多" in text and resp.headers["Retry-After"] == "60"
