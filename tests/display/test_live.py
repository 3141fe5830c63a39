"""The live WebSocket: events as they are committed, resumed by id, filtered for citizens."""

import asyncio

import pytest
from aiohttp import WSServerHandshakeError

from hall.display import live
from hall.keys import BUS

from ..helpers import HallClient


async def next_message(ws) -> dict:
    return await asyncio.wait_for(ws.receive_json(), 5.0)


async def events_until(ws, type_: str) -> list[dict]:
    seen = []
    while True:
        message = await next_message(ws)
        seen.append(message)
        if message["type"] == "event" and message["event"]["type"] == type_:
            return seen


async def test_staff_see_each_event_as_it_is_committed(hall: HallClient):
    staff = await hall.user("staff")
    async with hall.client.ws_connect("/api/live", headers=staff) as ws:
        hello = await next_message(ws)
        assert hello["type"] == "hello" and hello["last_id"] > 0
        ticket = await hall.issue("A")
        seen = await events_until(ws, "ticket.issued")
        event = seen[-1]["event"]
        assert event["payload"]["ticket"]["number"] == ticket["number"]
        assert event["id"] > hello["last_id"]


async def test_a_page_that_reconnects_gets_what_it_missed_in_order(hall: HallClient):
    staff = await hall.user("staff")
    _, before = await hall.get("/api/events", staff)
    last = before["last_id"]
    missed = [await hall.issue("AB"[i % 2]) for i in range(5)]
    async with hall.client.ws_connect(f"/api/live?after={last}", headers=staff) as ws:
        assert (await next_message(ws))["type"] == "hello"
        replayed = [await next_message(ws) for _ in range(6)]  # the kiosk's device.created came first
    numbers = [m["event"]["payload"]["ticket"]["number"] for m in replayed if m["event"]["type"] == "ticket.issued"]
    assert numbers == [t["number"] for t in missed]
    ids = [m["event"]["id"] for m in replayed]
    assert ids == sorted(ids) and ids[0] == last + 1


async def test_a_page_too_far_behind_is_told_to_resync(hall: HallClient, monkeypatch):
    monkeypatch.setattr(live, "REPLAY_LIMIT", 3)
    staff = await hall.user("staff")
    for _ in range(5):
        await hall.issue("C")
    async with hall.client.ws_connect("/api/live?after=1", headers=staff) as ws:
        hello = await next_message(ws)
        resync = await next_message(ws)
        assert resync == {"type": "resync", "last_id": hello["last_id"]}


async def test_a_citizen_sees_only_the_queue_of_their_own_section(hall: HallClient):
    mine = await hall.issue("A")
    staff = await hall.staff_at(4)  # serves C only
    async with hall.client.ws_connect(f"/api/live?ticket={mine['token']}") as ws:
        assert (await next_message(ws))["type"] == "hello"
        await hall.issue("C")
        await hall.call(staff, 4)
        await hall.issue("A")  # the same section as mine: shown
        seen = await events_until(ws, "ticket.issued")
        assert [m["event"]["payload"]["ticket"]["section"] for m in seen] == ["A"]


async def test_a_citizen_follows_their_ticket_into_another_section(hall: HallClient):
    mine = await hall.issue("A")
    one = await hall.staff_at(1)
    social = await hall.staff_at(4)
    async with hall.client.ws_connect(f"/api/live?ticket={mine['token']}") as ws:
        await next_message(ws)
        await hall.call(one, 1)
        await hall.act(one, 1, "transfer", section="C")
        await hall.call(social, 4)
        seen = await events_until(ws, "ticket.called")
        seen += await events_until(ws, "ticket.called")
        types = [m["event"]["type"] for m in seen]
        assert types == ["ticket.called", "ticket.transferred", "ticket.called"]
        assert seen[-1]["event"]["payload"]["window"]["no"] == 4


async def test_no_credentials_and_no_ticket_is_refused(hall: HallClient):
    with pytest.raises(WSServerHandshakeError) as refused:
        async with hall.client.ws_connect("/api/live"):
            pass
    assert refused.value.status == 401
    with pytest.raises(WSServerHandshakeError) as unknown:
        async with hall.client.ws_connect("/api/live?ticket=not-a-token"):
            pass
    assert unknown.value.status == 404


async def test_a_page_of_another_site_is_refused(hall: HallClient):
    staff = await hall.user("staff")
    with pytest.raises(WSServerHandshakeError) as refused:
        async with hall.client.ws_connect("/api/live", headers={**staff, "Origin": "https://evil.example"}):
            pass
    assert refused.value.status == 403
    host = hall.client.make_url("/").host
    port = hall.client.make_url("/").port
    async with hall.client.ws_connect("/api/live", headers={**staff, "Origin": f"http://{host}:{port}"}) as ws:
        assert (await next_message(ws))["type"] == "hello"


async def test_kiosks_and_screens_connect_with_their_device_token(hall: HallClient):
    for kind in ("kiosk", "display", "pad"):
        async with hall.client.ws_connect("/api/live", headers=await hall.device(kind)) as ws:
            assert (await next_message(ws))["type"] == "hello"


async def test_a_page_that_falls_behind_while_connected_is_told_to_resync(hall: HallClient, monkeypatch):
    monkeypatch.setattr(live, "QUEUE_SIZE", 2)
    staff = await hall.user("staff")
    await hall.kiosk()
    async with hall.client.ws_connect("/api/live", headers=staff) as ws:
        await next_message(ws)
        # A burst larger than the page's queue, committed in one batch and published in one go.
        await asyncio.gather(*(hall.issue("C") for _ in range(6)))
        messages = []
        while not messages or messages[-1]["type"] != "resync":
            messages.append(await next_message(ws))
            assert len(messages) <= 6, "never told to resync"
        # (later batches of the burst may still be published after the resync)
        assert messages[-1]["last_id"] <= hall.app[BUS].last_id
        assert messages[-1]["last_id"] > max((m["event"]["id"] for m in messages[:-1]), default=0)
