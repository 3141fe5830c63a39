"""An administrator lifts a login lock, signs a user out everywhere, deactivates and reactivates them."""

from __future__ import annotations

import dataclasses

import pytest

from hall.auth import store

from ..helpers import PASSWORD, HallClient


async def fail(hall: HallClient, username: str, times: int) -> list[int]:
    body = {"username": username, "password": "wrong-password"}
    return [(await hall.post("/api/auth/login", body))[0] for _ in range(times)]


def listed(body: dict, username: str) -> dict:
    return next(u for u in body["users"] if u["username"] == username)


async def test_an_admin_lifts_a_lock_and_the_user_signs_in_at_once(hall: HallClient):
    zhang = await hall.create_user("zhang", display_name="张伟")
    admin, manager = await hall.user("admin"), await hall.user("manager")
    assert await fail(hall, "zhang", 5) == [401, 401, 401, 401, 429]
    hall.clock.advance(10)
    status, body = await hall.get("/api/users", manager)
    assert status == 200
    # the lock's end, in the hall's time: the fifth failure at 09:00:00 locks for a minute
    assert listed(body, "zhang")["locked_until"] == "2026-11-23T09:01:00+08:00"
    assert listed(body, "zhang")["open_sessions"] == 0
    status, body = await hall.post(f"/api/users/{zhang['id']}/unlock", None, manager)
    assert (status, body["error"]["code"]) == (403, "forbidden")  # managers see locks; admins lift them
    status, body = await hall.post(f"/api/users/{zhang['id']}/unlock", None, admin)
    assert (status, body) == (200, {"user_id": zhang["id"], "username": "zhang", "was_locked": True})
    await hall.login("zhang")  # no wait
    status, body = await hall.get("/api/users", manager)
    assert listed(body, "zhang")["locked_until"] is None and listed(body, "zhang")["open_sessions"] == 1
    # unlocking an unlocked account says so; an unknown one is 404
    status, body = await hall.post(f"/api/users/{zhang['id']}/unlock", None, admin)
    assert (status, body["was_locked"]) == (200, False)
    status, body = await hall.post("/api/users/99999/unlock", None, admin)
    assert (status, body["error"]["code"]) == (404, "user_not_found")


class TestAGuessingAddress:
    @pytest.fixture
    def config(self, config):
        """Three failures from one address lock it."""
        return dataclasses.replace(config, auth=dataclasses.replace(config.auth, lockout_address_failures=3))

    async def test_unlocking_a_name_leaves_the_address_locked(self, hall: HallClient):
        user = await hall.create_user("li")
        admin = await hall.user("admin")  # signed in before the guessing starts
        assert await fail(hall, "nobody-1", 2) + await fail(hall, "li", 1) == [401, 401, 429]
        status, body = await hall.post(f"/api/users/{user['id']}/unlock", None, admin)
        assert status == 200 and body["was_locked"] is False  # the name itself had one failure
        status, body = await hall.post("/api/auth/login", {"username": "li", "password": PASSWORD})
        assert (status, body["error"]["code"]) == (429, "login_locked")  # the address's lock stands

    async def test_an_admin_lifts_the_address_lock_of_a_hall_behind_one_address(self, hall: HallClient):
        await hall.create_user("li")
        admin, manager = await hall.user("admin"), await hall.user("manager")
        assert await fail(hall, "nobody", 3) == [401, 401, 429]
        status, body = await hall.get("/api/login-locks", admin)
        assert status == 200
        assert body == {
            "addresses": [{"address": "127.0.0.1", "failures": 3, "locked_until": "2026-11-23T09:01:00+08:00"}]
        }
        assert (await hall.get("/api/login-locks", manager))[0] == 403
        status, body = await hall.post("/api/login-locks/unlock", {"address": "127.0.0.1"}, admin)
        assert (status, body) == (200, {"address": "127.0.0.1", "was_locked": True})
        await hall.login("li")
        assert (await hall.get("/api/login-locks", admin))[1] == {"addresses": []}
        status, body = await hall.post("/api/login-locks/unlock", {"address": "127.0.0.1'; DROP TABLE users"}, admin)
        assert (status, body["error"]["code"]) == (400, "invalid_field")
        status, body = await hall.post("/api/login-locks/unlock", {"address": "10.0.0.9"}, admin)
        assert (status, body["was_locked"]) == (200, False)


async def test_a_new_password_lifts_the_lock(hall: HallClient):
    await hall.create_user("wang")
    assert (await fail(hall, "wang", 5))[-1] == 429
    await hall.db.write(store.set_password, "wang", (await hall.db.fetchone(
        "SELECT password_hash FROM users WHERE username = 'wang'"))["password_hash"])  # fmt: skip
    await hall.login("wang")


async def test_a_deactivated_account_is_switched_back_on_and_signs_in_afresh(hall: HallClient):
    zhao = await hall.create_user("zhao")
    admin = await hall.user("admin")
    old = await hall.login("zhao")
    status, body = await hall.post(f"/api/users/{zhao['id']}/deactivate", None, admin)
    assert (status, body["active"]) == (200, False)
    assert (await hall.get("/api/auth/me", old))[0] == 401
    status, body = await hall.post("/api/auth/login", {"username": "zhao", "password": PASSWORD})
    assert status == 401
    status, body = await hall.post(f"/api/users/{zhao['id']}/activate", None, admin)
    assert (status, body["active"]) == (200, True)
    assert (await hall.get("/api/auth/me", old))[0] == 401  # the old session stays ended
    fresh = await hall.login("zhao")
    assert (await hall.get("/api/auth/me", fresh))[1]["username"] == "zhao"
    status, body = await hall.post("/api/users/99999/activate", None, admin)
    assert (status, body["error"]["code"]) == (404, "user_not_found")


async def test_an_admin_resets_a_forgotten_password(hall: HallClient):
    zhou = await hall.create_user("zhou")
    admin, manager = await hall.user("admin"), await hall.user("manager")
    laptop = await hall.login("zhou")
    assert (await fail(hall, "zhou", 5))[-1] == 429
    status, body = await hall.post(f"/api/users/{zhou['id']}/password", {"password": "short"}, admin)
    assert (status, body["error"]["code"]) == (400, "weak_password")
    status, body = await hall.post(f"/api/users/{zhou['id']}/password", {"password": "zhou-new-pass"}, manager)
    assert status == 403
    status, body = await hall.post("/api/users/99999/password", {"password": "zhou-new-pass"}, admin)
    assert (status, body["error"]["code"]) == (404, "user_not_found")
    status, body = await hall.post(f"/api/users/{zhou['id']}/password", {"password": "zhou-new-pass"}, admin)
    assert (status, body) == (200, {"user_id": zhou["id"], "username": "zhou"})
    assert (await hall.get("/api/auth/me", laptop))[0] == 401  # signed out everywhere
    await hall.login("zhou", "zhou-new-pass")  # and the lock is lifted
    stored = await hall.db.fetchval("SELECT password_hash FROM users WHERE username = 'zhou'")
    assert stored.startswith("scrypt$") and "zhou-new-pass" not in stored
