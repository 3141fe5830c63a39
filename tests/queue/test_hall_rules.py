"""The queue rules of DESIGN.md ("Rules that must hold"), one test each.

"Nothing acknowledged is lost" is proven against a real process killed with
SIGKILL in tests/test_crash.py.
"""

import asyncio
import dataclasses
from collections import Counter

import pytest
from aiohttp import DummyCookieJar

from hall.queue import store as queue_store
from hall.server import create_app

from ..conftest import at
from ..helpers import HallClient


@pytest.fixture
async def big_hall(aiohttp_client, config, clock, db_path) -> HallClient:
    """The test hall with caps high enough for hundreds of tickets."""
    sections = tuple(dataclasses.replace(s, daily_cap=2000, warn_at=1900) for s in config.sections)
    app = create_app(dataclasses.replace(config, sections=sections), clock=clock, db_path=db_path)
    hall = HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)
    yield hall
    assert await queue_store.counts_drift(hall.db) == []


async def test_a_number_is_issued_once_even_when_kiosks_issue_at_the_same_instant(hall: HallClient):
    kiosks = [await hall.device("kiosk") for _ in range(4)]
    answers = await asyncio.gather(*(hall.post("/api/tickets", {"section": "A"}, kiosks[i % 4]) for i in range(60)))
    issued = [body["number"] for status, body in answers if status == 201]
    refused = [body["error"]["code"] for status, body in answers if status != 201]
    # The cap of A is 50: exactly 50 numbers, A001…A050, each once; the rest refused.
    assert sorted(issued) == [f"A{n:03d}" for n in range(1, 51)]
    assert refused == ["daily_cap_reached"] * 10
    stored = await hall.db.fetchall("SELECT number FROM tickets")
    assert len(stored) == 50 and len({r[0] for r in stored}) == 50


async def test_two_windows_calling_at_the_same_instant_never_get_the_same_ticket(big_hall: HallClient):
    hall = big_hall
    kiosk = await hall.kiosk()
    await asyncio.gather(*(hall.post("/api/tickets", {"section": "AB"[i % 2]}, kiosk) for i in range(400)))
    one, two = await hall.staff_at(1), await hall.staff_at(2)
    got: dict[int, list[int]] = {1: [], 2: []}

    async def work(headers: dict, no: int) -> None:
        while True:
            ticket = await hall.call(headers, no)
            if ticket is None:
                return
            got[no].append(ticket["id"])
            status, _ = await hall.act(headers, no, "finish")
            assert status == 200

    await asyncio.gather(work(one, 1), work(two, 2))
    assert len(got[1]) > 100 and len(got[2]) > 100  # both windows really competed
    assert not set(got[1]) & set(got[2])
    assert len(got[1]) + len(got[2]) == 400
    called = Counter(
        r[0]
        for r in await hall.db.fetchall(
            "SELECT json_extract(payload, '$.ticket.id') FROM events WHERE type = 'ticket.called'"
        )
    )
    assert set(called.values()) == {1}


async def test_simultaneous_call_presses_at_many_windows(big_hall: HallClient):
    hall = big_hall
    for i in range(30):
        await hall.issue("AB"[i % 2])
    staff = [await hall.staff_at(no) for no in (1, 2, 3)]
    for _round in range(10):
        tickets = await asyncio.gather(*(hall.call(h, no) for h, no in zip(staff, (1, 2, 3), strict=True)))
        ids = [t["id"] for t in tickets if t]
        assert len(ids) == len(set(ids))
        await asyncio.gather(*(hall.act(h, no, "finish") for h, no in zip(staff, (1, 2, 3), strict=True)))
    assert await hall.db.fetchval("SELECT COUNT(*) FROM tickets WHERE status = 'done'") == 30


async def test_priority_before_ordinary_then_first_come_first_served_across_sections(hall: HallClient):
    staff = await hall.staff_at(1)  # comprehensive: A, B and C
    for section in ("B", "C", "A"):
        await hall.issue(section)
        hall.clock.advance(10)
    await hall.issue("C", priority="pregnant", headers=await hall.user("staff"))
    calls = []
    for _ in range(4):
        calls.append((await hall.call(staff, 1))["number"])
        await hall.act(staff, 1, "finish")
    assert calls == ["C002", "B001", "C001", "A001"]


async def test_priority_does_not_starve_ordinary_tickets(hall: HallClient):
    staff = await hall.staff_at(1)
    reception = await hall.user("staff")
    await hall.issue("A")
    for _ in range(4):
        hall.clock.advance(1)
        await hall.issue("A", priority="disabled", headers=reception)
    calls = []
    for _ in range(5):
        ticket = await hall.call(staff, 1)
        calls.append(ticket["priority"] or "ordinary")
        await hall.act(staff, 1, "finish")
    # max_consecutive = 2 in the test hall
    assert calls == ["disabled", "disabled", "ordinary", "disabled", "disabled"]


async def test_numbering_restarts_at_local_midnight_and_keeps_yesterday(hall: HallClient):
    staff = await hall.staff_at(4)  # C issues around the clock
    hall.clock.set(at("2026-11-23 23:59:50"))
    yesterday = [await hall.issue("C") for _ in range(2)]
    assert [t["number"] for t in yesterday] == ["C001", "C002"]
    hall.clock.set(at("2026-11-24 00:00:05"))  # 16:00:05 UTC: a new day in Shanghai
    today = await hall.issue("C")
    assert today["number"] == "C001" and today["day"] == "2026-11-24"
    old = await hall.ticket(yesterday[1]["id"])
    assert (old["day"], old["status"], old["expired"], old["ahead"]) == ("2026-11-23", "waiting", True, None)
    assert (await hall.ticket(today["id"]))["expired"] is False
    assert (await hall.counts())[0] == 3  # nothing deleted
    assert (await hall.call(staff, 4))["id"] == today["id"]  # yesterday's queue is not called today
    await hall.act(staff, 4, "finish")
    assert await hall.call(staff, 4) is None
    _, overview = await hall.get("/api/hall", staff)
    c = next(s for s in overview["sections"] if s["id"] == "C")
    assert (c["issued"], c["waiting"]) == (1, 0)
