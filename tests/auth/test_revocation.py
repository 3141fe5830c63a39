"""A revoked device, or an ended session, loses its open WebSockets within seconds."""

from __future__ import annotations

import asyncio
import time

from aiohttp import WSCloseCode, WSMsgType

from hall.auth import store as auth_store

from ..helpers import HallClient


def token_of(headers: dict) -> str:
    return headers["Authorization"].split(" ", 1)[1]


async def closed_within(ws, seconds: float) -> tuple[float, int | None]:
    """Read until the server closes the socket; how long it took, and the close code."""
    start = time.monotonic()
    async with asyncio.timeout(seconds):
        while True:
            message = await ws.receive()
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                return time.monotonic() - start, ws.close_code


async def device_id(hall: HallClient, headers: dict) -> int:
    return (await hall.get("/api/auth/me", headers))[1]["id"]


async def test_a_screen_revoked_on_the_manager_api_is_disconnected_at_once(hall: HallClient):
    screen, manager = await hall.device("display"), await hall.user("manager")
    async with hall.client.ws_connect(f"/ws/screen?token={token_of(screen)}") as ws:
        assert (await ws.receive_json())["type"] == "hello"
        status, body = await hall.post(f"/api/devices/{await device_id(hall, screen)}/revoke", None, manager)
        assert status == 200 and body["revoked"] is True
        took, code = await closed_within(ws, 3.0)
    assert code == WSCloseCode.POLICY_VIOLATION and took < 1.0
    assert (await hall.get("/api/auth/me", screen))[0] == 401


async def test_a_device_revoked_from_the_command_line_is_disconnected_within_seconds(hall: HallClient):
    kiosk = await hall.device("kiosk")
    async with hall.client.ws_connect("/api/live", headers=kiosk) as ws:
        assert (await ws.receive_json())["type"] == "hello"
        # what `python -m hall device revoke` does: another process writes the database
        await hall.db.write(auth_store.revoke_device, await device_id(hall, kiosk))
        took, code = await closed_within(ws, 5.0)
    assert code == WSCloseCode.POLICY_VIOLATION and took < 3.0


async def test_signing_a_user_out_everywhere_closes_their_live_page(hall: HallClient):
    admin = await hall.user("admin")
    user = await hall.create_user("zhang")
    staff = await hall.login("zhang")
    other = await hall.user("staff")
    async with (
        hall.client.ws_connect("/api/live", headers=staff) as ws,
        hall.client.ws_connect("/api/live", headers=other) as stays,
    ):
        assert (await ws.receive_json())["type"] == "hello"
        assert (await stays.receive_json())["type"] == "hello"
        assert (await hall.post(f"/api/users/{user['id']}/revoke-sessions", None, admin))[0] == 200
        await closed_within(ws, 3.0)
        await asyncio.sleep(0.2)
        assert not stays.closed


async def test_the_manager_page_lists_devices_with_a_revoke_button(hall: HallClient):
    await hall.device("kiosk"), await hall.device("pad", window=1)
    revoked = await hall.db.write(auth_store.create_device, "旧取号机", "kiosk", None)
    await hall.db.write(auth_store.revoke_device, revoked["id"])
    status, html = await hall.get("/manage/screens", await hall.user("manager"))
    assert status == 200 and "登记的设备" in html
    assert html.count('class="ms-revoke"') == 2 and "已吊销" in html and "旧取号机" in html
