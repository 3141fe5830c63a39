"""Logging in, tokens, sessions and devices."""

import hashlib
import sqlite3

from aiohttp import CookieJar

from hall.auth.middleware import AUTHENTICATOR
from hall.auth.passwords import hash_password, verify_password

from ..helpers import PASSWORD, HallClient


def test_passwords_are_salted_scrypt_hashes():
    one, two = hash_password("s3cret-pass", 1024), hash_password("s3cret-pass", 1024)
    assert one.startswith("scrypt$1024$") and one != two
    assert verify_password("s3cret-pass", one) and not verify_password("s3cret-pasS", one)
    assert not verify_password("s3cret-pass", "garbage")


async def test_login_gives_a_bearer_token_and_a_session_cookie(hall: HallClient):
    await hall.create_user("zhang", "staff", staff_no="0101", display_name="张伟")
    async with hall.client.post("/api/auth/login", json={"username": "zhang", "password": PASSWORD}) as resp:
        assert resp.status == 200
        body = await resp.json()
        cookie = resp.cookies["hall_session"]
    assert body["token"].startswith("hs_") and body["user"]["role"] == "staff"
    assert cookie.value == body["token"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    status, me = await hall.get("/api/auth/me", {"Authorization": f"Bearer {body['token']}"})
    assert status == 200 and me == {
        "kind": "user",
        "id": me["id"],
        "username": "zhang",
        "role": "staff",
        "staff_no": "0101",
    }


async def test_password_is_never_stored_or_returned(hall: HallClient):
    await hall.create_user("zhang")
    status, body = await hall.post("/api/auth/login", {"username": "zhang", "password": PASSWORD})
    assert PASSWORD not in str(body)
    stored = await hall.db.fetchval("SELECT password_hash FROM users WHERE username = 'zhang'")
    assert PASSWORD not in stored and stored.startswith("scrypt$")


async def test_wrong_password_and_unknown_user_get_the_same_answer(hall: HallClient):
    await hall.create_user("zhang")
    wrong = await hall.post("/api/auth/login", {"username": "zhang", "password": "nope-nope"})
    nobody = await hall.post("/api/auth/login", {"username": "ghost", "password": "nope-nope"})
    assert wrong == nobody == (401, {"error": {"code": "invalid_credentials", "message": "用户名或密码错误"}})


async def test_logout_revokes_the_token(hall: HallClient):
    headers = await hall.user("staff")
    status, _ = await hall.post("/api/auth/logout", None, headers)
    assert status == 200
    status, body = await hall.get("/api/auth/me", headers)
    assert status == 401 and body["error"]["code"] == "invalid_token"


async def test_tokens_expire_after_the_session_hours(hall: HallClient):
    headers = await hall.user("staff")
    hall.clock.advance(11 * 3600)
    hall.app[AUTHENTICATOR].forget()  # drop the few-second cache
    assert (await hall.get("/api/auth/me", headers))[0] == 200
    hall.clock.advance(2 * 3600)
    hall.app[AUTHENTICATOR].forget()  # drop the few-second cache
    status, body = await hall.get("/api/auth/me", headers)
    assert status == 401 and body["error"]["code"] == "invalid_token"


async def test_roles_are_checked(hall: HallClient):
    staff, manager, admin = await hall.user("staff"), await hall.user("manager"), await hall.user("admin")
    new = {"username": "wang", "password": "long-enough-1", "role": "staff", "staff_no": "0300"}
    assert (await hall.post("/api/users", new, staff))[0] == 403
    assert (await hall.post("/api/users", new, manager))[0] == 403
    status, created = await hall.post("/api/users", new, admin)
    assert status == 201 and created["username"] == "wang" and "password" not in str(created)
    assert (await hall.post("/api/users", new, admin))[1]["error"]["code"] == "username_taken"
    assert (await hall.get("/api/users", staff))[0] == 403
    assert (await hall.get("/api/users", manager))[0] == 200
    weak = {**new, "username": "li", "password": "short"}
    assert (await hall.post("/api/users", weak, admin))[1]["error"]["code"] == "weak_password"
    assert (await hall.get("/api/events", staff))[0] == 200
    assert (await hall.get("/api/events", await hall.device("display")))[0] == 403
    assert (await hall.get("/api/events"))[0] == 401


async def test_devices_get_a_token_once_and_can_be_revoked(hall: HallClient):
    manager = await hall.user("manager")
    status, device = await hall.post("/api/devices", {"name": "一楼取号机1", "kind": "kiosk"}, manager)
    assert status == 201 and device["token"].startswith("hd_")
    kiosk = {"Authorization": f"Bearer {device['token']}"}
    assert (await hall.post("/api/tickets", {"section": "A"}, kiosk))[0] == 201
    _, listed = await hall.get("/api/devices", manager)
    assert device["token"] not in str(listed) and listed["devices"][0]["name"] == "一楼取号机1"
    status, revoked = await hall.post(f"/api/devices/{device['id']}/revoke", None, manager)
    assert status == 200 and revoked["revoked"] is True
    status, body = await hall.post("/api/tickets", {"section": "A"}, kiosk)
    assert status == 401 and body["error"]["code"] == "invalid_token"
    bad = await hall.post("/api/devices", {"name": "x", "kind": "toaster"}, manager)
    assert bad[0] == 400 and bad[1]["error"]["field"] == "kind"


async def test_cookie_session_needs_the_csrf_token_for_changes(aiohttp_client, hall: HallClient):
    await hall.create_user("zhang")
    browser = await aiohttp_client(hall.client.server, cookie_jar=CookieJar(unsafe=True))
    async with browser.post("/api/auth/login", json={"username": "zhang", "password": PASSWORD}) as resp:
        csrf = (await resp.json())["csrf_token"]
    async with browser.get("/api/auth/me") as resp:
        assert resp.status == 200  # reads work with the cookie alone
    async with browser.post("/api/windows/1/open") as resp:
        assert resp.status == 403 and (await resp.json())["error"]["code"] == "csrf_failed"
    async with browser.post("/api/windows/1/open", headers={"X-CSRF-Token": csrf}) as resp:
        assert resp.status == 200


async def test_a_device_token_only_opens_what_its_kind_may_use(hall: HallClient):
    pad = await hall.device("pad", window=1)
    assert (await hall.get("/api/auth/me", pad))[1]["window"] == 1
    assert (await hall.get("/api/hall", pad))[0] == 200
    assert (await hall.get("/api/tickets", pad))[0] == 403
    assert (await hall.post("/api/windows/1/open", None, pad))[0] == 403


async def test_database_keeps_only_digests_of_tokens(hall: HallClient, db_path):
    user = (await hall.user("staff"))["Authorization"].split()[1]
    device = (await hall.device("kiosk"))["Authorization"].split()[1]
    with sqlite3.connect(db_path) as conn:
        stored = {r[0] for r in conn.execute("SELECT token_hash FROM sessions UNION SELECT token_hash FROM devices")}
    assert len(stored) == 2
    assert user not in stored and device not in stored
    assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in (user, device)}
