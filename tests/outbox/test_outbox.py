""" "Your turn is near" through the outbox: queued once, sent by the worker, retried when the gateway fails."""

import asyncio
import dataclasses
import logging

import pytest
from aiohttp import DummyCookieJar, web

from hall.config import NotifySettings
from hall.outbox import store as outbox
from hall.outbox.worker import WORKER, backoff
from hall.server import create_app

from ..helpers import HallClient


async def notices(hall: HallClient) -> list[dict]:
    rows = await hall.db.fetchall("SELECT * FROM outbox ORDER BY id")
    return [dict(r) for r in rows]


async def wait_until(predicate) -> None:
    for _ in range(250):  # 5 s
        if await predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition never became true")


async def test_tickets_that_come_within_three_of_the_front_get_one_message(hall: HallClient):
    staff = await hall.staff_at(1)
    phones = [f"1380000000{i}" for i in range(6)]
    tickets = [await hall.issue("A", phone=p) for p in phones]
    assert await notices(hall) == []  # issuing alone sends nothing
    await hall.call(staff, 1)  # A001 leaves the queue: A002…A005 are now 0…3 ahead
    queued = await notices(hall)
    assert [n["ref"] for n in queued] == [f"ticket:{t['id']}" for t in tickets[1:5]]
    assert queued[3]["recipient"] == phones[4] and queued[3]["channel"] == "sms"
    assert "A005" in queued[3]["body"] and "前面还有 3 人" in queued[3]["body"] and "测试大厅" in queued[3]["body"]
    await hall.act(staff, 1, "finish")
    await hall.call(staff, 1)  # A006 comes within three
    assert [n["ref"] for n in await notices(hall)][-1] == f"ticket:{tickets[5]['id']}"
    assert len(await notices(hall)) == 5  # nobody twice
    events = await hall.event_types()
    assert events.count("notification.queued") == 5
    _, listed = await hall.get("/api/events", staff)
    assert phones[4] not in str(listed)  # the phone stays out of the event log


async def test_a_cancellation_moves_the_queue_too(hall: HallClient):
    tickets = [await hall.issue("C", phone=f"1390000000{i}") for i in range(6)]
    await hall.post(f"/api/tickets/{tickets[0]['id']}/cancel", {"token": tickets[0]["token"]})
    assert [n["ref"] for n in await notices(hall)] == [f"ticket:{t['id']}" for t in tickets[1:5]]


async def test_the_default_sender_writes_to_the_log(hall: HallClient, caplog):
    caplog.set_level(logging.INFO, logger="hall.outbox")
    staff = await hall.staff_at(1)
    await hall.issue("A")
    await hall.issue("A", phone="13812345678")
    await hall.call(staff, 1)
    await wait_until(lambda: _status(hall, 1, "sent"))
    assert any("138****5678" in r.getMessage() and "A002" in r.getMessage() for r in caplog.records)
    assert not any("13812345678" in r.getMessage() for r in caplog.records)


async def _status(hall: HallClient, message_id: int, status: str) -> bool:
    row = await outbox.get(hall.db, message_id)
    return row is not None and row["status"] == status


class Gateway:
    """An SMS gateway on loopback that fails the first `failures` posts."""

    def __init__(self, failures: int, hang: bool = False) -> None:
        self.failures = failures
        self.hang = hang
        self.received: list[dict] = []
        self.keys: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.keys.append(request.headers.get("Authorization", ""))
        if self.hang:
            await asyncio.sleep(30)
        body = await request.json()
        if self.failures > 0:
            self.failures -= 1
            return web.json_response({"error": "busy"}, status=503)
        self.received.append(body)
        return web.json_response({"ok": True})


@pytest.fixture
async def gateway_hall(aiohttp_client, aiohttp_server, config, clock, db_path, monkeypatch):
    async def build(gateway: Gateway) -> HallClient:
        app = web.Application()
        app.router.add_post("/sms", gateway.handle)
        server = await aiohttp_server(app)
        monkeypatch.setenv("HALL_NOTIFY_KEY", "gateway-secret")
        notify = NotifySettings(
            near_ahead=1,
            sender="http",
            url=str(server.make_url("/sms")),
            max_attempts=3,
            near_text=config.notify.near_text,
        )
        hall_app = create_app(dataclasses.replace(config, notify=notify), clock=clock, db_path=db_path)
        return HallClient(await aiohttp_client(hall_app, cookie_jar=DummyCookieJar()), clock)

    return build


async def test_a_failing_gateway_is_retried_with_backoff_until_it_takes_the_message(gateway_hall):
    gateway = Gateway(failures=2)
    hall = await gateway_hall(gateway)
    staff = await hall.staff_at(1)
    await hall.issue("A")
    await hall.issue("A", phone="13800138000")
    await hall.call(staff, 1)
    await wait_until(lambda: _attempts(hall, 1, 1))
    row = await outbox.get(hall.db, 1)
    assert row["status"] == "pending" and "503" in row["last_error"]
    assert row["next_attempt_at"] == hall.clock.now() + backoff(1)
    hall.app[WORKER].wake.set()
    await asyncio.sleep(0.1)
    assert (await outbox.get(hall.db, 1))["attempts"] == 1  # not due yet: no hammering
    hall.clock.advance(backoff(1))
    hall.app[WORKER].wake.set()
    await wait_until(lambda: _attempts(hall, 1, 2))
    hall.clock.advance(backoff(2))
    hall.app[WORKER].wake.set()
    await wait_until(lambda: _status(hall, 1, "sent"))
    assert gateway.received == [
        {
            "id": 1,
            "channel": "sms",
            "to": "13800138000",
            "text": gateway.received[0]["text"],
            "kind": "turn_near",
            "ref": "ticket:2",
        }
    ]
    assert "A002" in gateway.received[0]["text"] and set(gateway.keys) == {"Bearer gateway-secret"}
    assert (await hall.event_types()).count("notification.sent") == 1


async def test_a_message_is_given_up_after_max_attempts(gateway_hall):
    hall = await gateway_hall(Gateway(failures=99))
    staff = await hall.staff_at(1)
    await hall.issue("A")
    await hall.issue("A", phone="13800138000")
    await hall.call(staff, 1)
    for attempt in (1, 2):
        await wait_until(lambda a=attempt: _attempts(hall, 1, a))
        hall.clock.advance(backoff(attempt))
        hall.app[WORKER].wake.set()
    await wait_until(lambda: _status(hall, 1, "failed"))
    assert (await outbox.get(hall.db, 1))["attempts"] == 3
    assert "notification.failed" in await hall.event_types()


async def test_a_gateway_that_hangs_never_holds_up_the_queue(gateway_hall):
    hall = await gateway_hall(Gateway(failures=0, hang=True))
    staff = await hall.staff_at(1)
    for phone in ("13800138000", "13800138001", "13800138002"):
        await hall.issue("A", phone=phone)
    started = asyncio.get_running_loop().time()
    for _ in range(3):
        assert await hall.call(staff, 1) is not None
        await hall.act(staff, 1, "finish")
    assert asyncio.get_running_loop().time() - started < 2.0  # the calls never waited for the gateway


async def _attempts(hall: HallClient, message_id: int, attempts: int) -> bool:
    row = await outbox.get(hall.db, message_id)
    return row is not None and row["attempts"] >= attempts


def test_backoff_grows_and_is_capped():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [30.0, 60.0, 120.0, 240.0]
    assert backoff(20) == 3600.0


async def test_the_worker_stops_when_cancelled_just_as_a_message_wakes_it(hall: HallClient):
    # The race that once hung shutdown: on Python 3.11 asyncio.wait_for returns instead of raising
    # when the awaited event fires as the task is cancelled, and the worker looped on for ever.
    worker = hall.app[WORKER]
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.05)  # it has looked at the outbox and sleeps until woken
    worker.wake.set()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(2):
            await task


async def test_a_channel_without_a_sender_is_retried_not_pretended_sent(hall: HallClient):
    class Recorder:
        def __init__(self) -> None:
            self.sent: list[str] = []

        async def send(self, message) -> None:
            self.sent.append(message.recipient)

        async def close(self) -> None:
            return None

    worker = hall.app[WORKER]
    await hall.db.write(outbox.enqueue, "case.reply", "case:1:a", "wechat", "oOpenid1", {"text": "您好"})
    await worker.run_once()
    row = await outbox.get(hall.db, 1)
    assert row["status"] == "pending" and row["attempts"] == 1 and "no sender configured" in row["last_error"]
    worker.senders["wechat"] = recorder = Recorder()
    hall.clock.advance(backoff(1) + 1)
    await worker.run_once()
    assert recorder.sent == ["oOpenid1"] and (await outbox.get(hall.db, 1))["status"] == "sent"
