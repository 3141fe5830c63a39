"""The screens' push hub, /ws/screen: snapshot, events in order, resume by id, slow screens alone."""

import asyncio
import dataclasses

import pytest
from aiohttp import DummyCookieJar, WSServerHandshakeError

from hall.config import ScreenLayout
from hall.display import hub as hub_mod
from hall.display.hub import HUB, for_screens
from hall.display.registry import REGISTRY
from hall.keys import BUS
from hall.server import create_app

from ..helpers import HallClient


def token_of(headers: dict) -> str:
    return headers["Authorization"].split()[1]


async def receive(ws) -> dict:
    return await asyncio.wait_for(ws.receive_json(), 5.0)


async def until(ws, predicate) -> list[dict]:
    """Messages up to and including the first one `predicate` accepts."""
    seen = []
    while True:
        message = await receive(ws)
        seen.append(message)
        if predicate(message):
            return seen


def is_type(type_: str):
    return lambda m: m.get("type") == type_


async def screen(hall: HallClient, token: str, after: int | None = None, hello: dict | None = None):
    query = f"/ws/screen?token={token}" + (f"&after={after}" if after is not None else "")
    ws = await hall.client.ws_connect(query)
    if hello is not None:
        await ws.send_json({"type": "hello", **hello})
    return ws


async def calls(hall: HallClient, staff: dict, no: int, count: int) -> list[dict]:
    done = []
    for _ in range(count):
        await hall.issue("A")
        done.append(await hall.call(staff, no))
        await hall.act(staff, no, "finish")
    return done


async def test_first_connection_gets_hello_then_a_snapshot(hall: HallClient):
    staff = await hall.staff_at(1)
    made = await calls(hall, staff, 1, 2)
    await hall.issue("A")
    display = token_of(await hall.device("display"))
    ws = await screen(hall, display)
    hello = await receive(ws)
    snapshot = await receive(ws)
    await ws.close()
    assert hello["type"] == "hello" and snapshot["type"] == "snapshot" and snapshot["id"] == hello["id"]
    assert [c["number"] for c in snapshot["calls"]] == [t["number"] for t in made]  # oldest first
    assert snapshot["calls"][0]["window"] == 1 and snapshot["calls"][0]["type"] == "ticket.called"
    a = next(s for s in snapshot["hall"]["sections"] if s["id"] == "A")
    assert a["waiting"] == 1
    assert snapshot["layout"] == ScreenLayout().as_json() and snapshot["notice"] == ""


async def test_resume_returns_exactly_the_missed_calls_in_order(hall: HallClient):
    staff = await hall.staff_at(2)
    display = token_of(await hall.device("display"))
    ws = await screen(hall, display)
    await receive(ws)
    position = (await receive(ws))["id"]
    await ws.close()
    missed = await calls(hall, staff, 2, 4)  # while the screen was away
    ws = await screen(hall, display, after=position)
    await receive(ws)  # hello
    messages = await until(
        ws, lambda m: m.get("type") == "ticket.finished" and m["payload"]["ticket"]["id"] == missed[-1]["id"]
    )
    await ws.close()
    ids = [m["id"] for m in messages]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    called = [m for m in messages if m["type"] == "ticket.called"]
    assert [(m["number"], m["window"]) for m in called] == [(t["number"], 2) for t in missed]
    assert all(m["payload"]["ticket"]["number"] == m["number"] for m in called)
    stored = await hall.db.fetchall("SELECT id, type FROM events WHERE id > ? ORDER BY id", (position,))
    assert ids == [r[0] for r in stored if for_screens(r[1])]  # nothing missing, nothing added
    assert "ticket.issued" not in {m["type"] for m in messages}  # waiting counts come as `waiting` messages


async def test_a_screen_too_far_behind_gets_a_snapshot_instead(hall: HallClient, monkeypatch):
    monkeypatch.setattr(hub_mod, "REPLAY_LIMIT", 3)
    staff = await hall.staff_at(1)
    display = token_of(await hall.device("display"))
    before = hall.app[BUS].last_id
    made = await calls(hall, staff, 1, 3)
    ws = await screen(hall, display, after=before)
    hello = await receive(ws)
    snapshot = await receive(ws)
    await ws.close()
    assert snapshot["type"] == "snapshot" and snapshot["id"] == hello["id"]
    assert [c["number"] for c in snapshot["calls"]][-3:] == [t["number"] for t in made]


async def test_a_slow_screen_falls_behind_alone(hall: HallClient, monkeypatch):
    monkeypatch.setattr(hub_mod, "SEND_QUEUE", 5)
    staff = await hall.staff_at(4)
    for _ in range(4):
        await hall.issue("C")
    fast_token, slow_token = token_of(await hall.device("display")), token_of(await hall.device("display"))
    fast = await screen(hall, fast_token)
    slow = await screen(hall, slow_token, hello={"name": "slow"})
    for ws in (fast, slow):
        await receive(ws)
        await receive(ws)
    await asyncio.sleep(0.05)
    # The slow screen's network: every send to it takes a second.
    slow_id = await _device_id(hall, slow_token)
    connection = next(c for c in hall.app[HUB].connections if c.device_id == slow_id)
    real_send = connection.ws.send_frame

    async def slow_send(data, *args, **kwargs):
        await asyncio.sleep(1.0)
        return await real_send(data, *args, **kwargs)

    connection.ws.send_frame = slow_send
    started = asyncio.get_running_loop().time()
    for _ in range(4):
        await hall.call(staff, 4)
        await hall.act(staff, 4, "finish")
    last = hall.app[BUS].last_id
    messages = await until(fast, lambda m: m.get("id") == last and m.get("type") == "ticket.finished")
    took = asyncio.get_running_loop().time() - started
    assert took < 1.0, "the fast screen waited for the slow one"
    assert [m["type"] for m in messages if m["type"].startswith("ticket.")] == ["ticket.called", "ticket.finished"] * 4
    assert connection.behind  # its queue overflowed while its first send was still on the way
    # When it catches up, the slow screen gets a snapshot, not a stale backlog.
    found = await asyncio.wait_for(until(slow, is_type("snapshot")), 15)
    assert found[-1]["id"] >= last
    await fast.close()
    await slow.close()


async def _device_id(hall: HallClient, token: str) -> int:
    import hashlib

    return await hall.db.fetchval(
        "SELECT id FROM devices WHERE token_hash = ?", (hashlib.sha256(token.encode()).hexdigest(),)
    )


async def test_screens_get_waiting_counts_after_the_queue_moves(hall: HallClient):
    ws = await screen(hall, token_of(await hall.device("display")))
    await receive(ws)
    await receive(ws)
    await hall.issue("B")
    await hall.issue("B")
    waiting = (await until(ws, is_type("waiting")))[-1]
    if waiting["waiting"]["B"] != 2:  # the first burst may have been counted before the second ticket
        waiting = (await until(ws, is_type("waiting")))[-1]
    assert waiting["waiting"] == {"A": 0, "B": 2, "C": 0}
    await ws.close()


async def test_pings_keep_a_quiet_screen_sure_the_server_is_there(hall: HallClient, monkeypatch):
    monkeypatch.setattr(hub_mod, "PING_S", 0.2)
    ws = await screen(hall, token_of(await hall.device("display")))
    await receive(ws)
    snapshot = await receive(ws)
    ping = await receive(ws)
    assert ping["type"] == "ping" and ping["id"] == snapshot["id"]
    await ws.close()


async def test_who_may_connect(hall: HallClient):
    for query, status in (
        ("/ws/screen", 401),
        ("/ws/screen?token=hd_nope", 401),
        (f"/ws/screen?token={token_of(await hall.device('kiosk'))}", 403),
    ):
        with pytest.raises(WSServerHandshakeError) as refused:
            await hall.client.ws_connect(query)
        assert refused.value.status == status, query
    display = token_of(await hall.device("display"))
    with pytest.raises(WSServerHandshakeError) as refused:
        await hall.client.ws_connect(f"/ws/screen?token={display}", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403
    preview = await hall.client.ws_connect("/ws/screen", headers=await hall.user("staff"))
    assert (await receive(preview))["type"] == "hello"
    await preview.close()


async def test_the_registry_knows_who_is_connected_and_how_far_behind(hall: HallClient):
    manager = await hall.user("manager")
    staff = await hall.staff_at(4)
    display = token_of(await hall.device("display"))
    ws = await screen(hall, display, hello={"name": "一楼大屏", "kind": "screen", "version": "screen-1", "last_id": 0})
    await receive(ws)
    position = (await receive(ws))["id"]
    await hall.issue("C")
    await hall.call(staff, 4)
    await hall.act(staff, 4, "finish")  # two events for screens since `position`
    await until(ws, is_type("ticket.finished"))
    await ws.send_json({"type": "ack", "last_id": position})
    await asyncio.sleep(0.1)
    _, listed = await hall.get("/api/screens", manager)
    (entry,) = listed["screens"]
    assert (entry["name"], entry["kind"], entry["version"], entry["online"]) == ("一楼大屏", "screen", "screen-1", True)
    assert entry["behind"] == hall.app[HUB].last_sent - position > 0
    assert entry["address"] == "127.0.0.1"
    await ws.close()
    await _wait(lambda: _online(hall, manager, False))
    assert (await hall.get("/api/screens", await hall.user("staff")))[0] == 403


async def test_a_screen_offline_in_opening_hours_warns_the_managers_once(hall: HallClient):
    manager = await hall.user("manager")
    hall.app[REGISTRY].grace_s = 0.1
    display = token_of(await hall.device("display"))
    ws = await screen(hall, display, hello={"name": "二楼大屏"})
    await receive(ws)
    await _wait(lambda: _online(hall, manager, True))
    await ws.close()
    await _wait(lambda: _warned(hall, manager))
    assert (await hall.event_types()).count("screen.offline") == 1
    ws = await screen(hall, display, hello={"name": "二楼大屏"})
    await receive(ws)
    await _wait(lambda: _online(hall, manager, True))
    _, listed = await hall.get("/api/screens", manager)
    assert listed["screens"][0]["warning"] is None
    await _wait(lambda: _count(hall, "screen.online", 2))  # the registry is live in memory; the event follows
    await ws.close()


async def _count(hall: HallClient, type_: str, n: int) -> bool:
    return (await hall.event_types()).count(type_) == n


async def test_no_warning_when_the_hall_is_closed(hall: HallClient):
    from ..conftest import at

    hall.clock.set(at("2026-11-23 12:30"))  # A and B closed for lunch, but C issues around the clock
    assert hall.app[REGISTRY].hall_open()
    hall.clock.set(at("2026-11-27 10:00"))  # the hall's own closed day
    assert not hall.app[REGISTRY].hall_open()


async def _online(hall: HallClient, manager: dict, online: bool) -> bool:
    _, listed = await hall.get("/api/screens", manager)
    return bool(listed["screens"]) and listed["screens"][0]["online"] is online


async def _warned(hall: HallClient, manager: dict) -> bool:
    _, listed = await hall.get("/api/screens", manager)
    return listed["screens"][0]["warning"] == "离线"


async def _wait(predicate) -> None:
    for _ in range(100):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("never happened")


async def test_the_notice_line_is_pushed_to_screens(hall: HallClient):
    manager = await hall.user("manager")
    ws = await screen(hall, token_of(await hall.device("display")))
    await receive(ws)
    await receive(ws)
    status, body = await hall.request("PUT", "/api/notice", {"text": "今日下午公积金窗口 15:00 起暂停办理"}, manager)
    assert status == 200
    pushed = (await until(ws, is_type("notice.updated")))[-1]
    assert pushed["payload"]["text"] == "今日下午公积金窗口 15:00 起暂停办理"
    await ws.close()
    assert (await hall.request("PUT", "/api/notice", {"text": "x"}, await hall.user("staff")))[0] == 403
    status, body = await hall.request("PUT", "/api/notice", {"text": "x" * 501}, manager)
    assert status == 400
    assert (await hall.get("/api/notice", manager))[1] == {"text": "今日下午公积金窗口 15:00 起暂停办理"}


async def test_managers_set_a_screen_layout(hall: HallClient):
    manager = await hall.user("manager")
    display = await hall.device("display")
    device_id = await _device_id(hall, token_of(display))
    path = f"/api/screens/{device_id}/layout"
    status, body = await hall.request("PUT", path, {"title": "一楼叫号", "sections": ["A", "B"], "calls": 6}, manager)
    assert status == 200 and body["layout"] == {"title": "一楼叫号", "sections": ["A", "B"], "area": "", "calls": 6}
    ws = await screen(hall, token_of(display))
    await receive(ws)
    assert (await receive(ws))["layout"]["title"] == "一楼叫号"
    await ws.close()
    for bad in ({"sections": ["Q"]}, {"calls": 99}, {"area": "月球"}, {"colour": "red"}):
        status, body = await hall.request("PUT", path, bad, manager)
        assert status == 400 and body["error"]["code"] == "invalid_layout", bad
    assert (await hall.request("PUT", "/api/screens/9999/layout", {}, manager))[0] == 404


async def test_layouts_come_from_config_too(aiohttp_client, config, clock, db_path):
    layouts = {"大厅东屏": ScreenLayout(title="东区叫号", sections=("C",), calls=4)}
    app = create_app(dataclasses.replace(config, screens=layouts), clock=clock, db_path=db_path)
    hall = HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)
    from hall.auth import store as auth_store

    created = await hall.db.write(auth_store.create_device, "大厅东屏", "display", None)
    ws = await screen(hall, created["token"])
    await receive(ws)
    assert (await receive(ws))["layout"] == {"title": "东区叫号", "sections": ["C"], "area": "", "calls": 4}
    await ws.close()


async def test_a_staff_photo_is_served_to_window_screens_when_configured(aiohttp_client, config, clock, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "0207.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    app = create_app(dataclasses.replace(config, photo_dir=str(photos)), clock=clock, db_path=tmp_path / "p.db")
    hall = HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)
    screen_headers = await hall.device("display", window=2)
    async with hall.client.get("/screen/photo/0207", headers=screen_headers) as resp:
        assert resp.status == 200 and resp.content_type == "image/png"
        assert (await resp.read()).startswith(b"\x89PNG")
    async with hall.client.get("/screen/photo/9999", headers=screen_headers) as resp:
        assert resp.status == 404
    async with hall.client.get("/screen/photo/..%2Fsecret", headers=screen_headers) as resp:
        assert resp.status == 404
    async with hall.client.get("/screen/photo/0207", headers=await hall.device("kiosk")) as resp:
        assert resp.status == 403
