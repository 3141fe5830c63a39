"""The event log: written with each change, read back in order, published in-process."""

import asyncio

from hall.errors import StorageUnavailable
from hall.events import keep_following
from hall.keys import BUS

from .helpers import HallClient


async def test_each_change_writes_an_event_in_order(hall: HallClient):
    staff = await hall.staff_at(1)
    ticket = await hall.issue("A")
    await hall.call(staff, 1)
    await hall.act(staff, 1, "start")
    await hall.act(staff, 1, "finish")
    status, body = await hall.get("/api/events?after=0", staff)
    assert status == 200
    types = [e["type"] for e in body["events"]]
    assert types[-4:] == ["ticket.issued", "ticket.called", "ticket.started", "ticket.finished"]
    ids = [e["id"] for e in body["events"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    called = body["events"][-3]
    assert called["payload"]["ticket"]["number"] == ticket["number"]
    assert called["payload"]["window"] == {"no": 1, "name": "综合窗口1"}
    assert called["at"] == hall.clock.now()


async def test_after_returns_only_newer_events_and_pages(hall: HallClient):
    staff = await hall.user("staff")
    for _ in range(5):
        await hall.issue("C")
    _, all_events = await hall.get("/api/events?after=0", staff)
    middle = all_events["events"][2]["id"]
    _, newer = await hall.get(f"/api/events?after={middle}", staff)
    assert [e["id"] for e in newer["events"]] == [e["id"] for e in all_events["events"] if e["id"] > middle]
    _, page = await hall.get("/api/events?after=0&limit=2", staff)
    assert len(page["events"]) == 2 and page["more"] is True and page["last_id"] == page["events"][1]["id"]
    _, end = await hall.get(f"/api/events?after={all_events['last_id']}", staff)
    assert end == {"events": [], "last_id": all_events["last_id"], "more": False}


async def test_listeners_receive_events_after_commit(hall: HallClient):
    await hall.kiosk()
    subscription = hall.app[BUS].subscribe()
    ticket = await hall.issue("A")
    event = await subscription.get()
    assert event.type == "ticket.issued" and event.payload["ticket"]["id"] == ticket["id"]
    stored = await hall.db.fetchval("SELECT type FROM events WHERE id = ?", (event.id,))
    assert stored == "ticket.issued"  # already committed when published
    subscription.close()


async def test_a_refused_request_writes_no_event(hall: HallClient):
    kiosk = await hall.kiosk()
    _, events_before = await hall.counts()
    status, _ = await hall.post("/api/tickets", {"section": "B", "priority": "elderly"}, kiosk)
    assert status == 400
    assert (await hall.counts())[1] == events_before


async def test_a_projector_that_fails_is_started_again_until_it_gets_through():
    runs = []

    async def follow() -> None:
        runs.append(len(runs))
        if len(runs) < 3:  # the disk was read-only twice
            raise StorageUnavailable("storage_unavailable", "数据库暂时不可写")

    async with asyncio.timeout(2):
        await keep_following(follow, "test projector", pause=0)
    assert runs == [0, 1, 2]
