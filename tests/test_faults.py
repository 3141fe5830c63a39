"""Faults the hall must ride out: a read-only or full disk, Asterisk gone, a screen's network flapping.

Each test is self-contained and quick. The server stays up, says clearly what is wrong (503
`storage_unavailable` with a Chinese message, /healthz naming the failing part), and recovers by itself
once the fault is gone: no restart, nothing acknowledged lost, nothing done twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import DummyCookieJar

from hall import config as config_mod
from hall import events
from hall.callcenter import tasks as callcenter_tasks
from hall.evaluation import tasks as evaluation_tasks
from hall.server import create_app

from .callcenter.ami.fake_asterisk import FakeAsterisk, Member
from .conftest import TEST_CONFIG
from .helpers import HallClient
from .server_process import free_port


async def until(predicate, seconds: float = 5.0, what: str = "condition") -> None:  # what: for the reader
    async with asyncio.timeout(seconds):
        while not await predicate():  # noqa: ASYNC110 - a test poll, bounded by the timeout
            await asyncio.sleep(0.02)


@pytest.fixture
def quick_restart(monkeypatch):
    """Projectors that failed start again after 0.1 s instead of 5 s."""
    quick = functools.partial(events.keep_following, pause=0.1)
    monkeypatch.setattr(evaluation_tasks, "keep_following", quick)
    monkeypatch.setattr(callcenter_tasks, "keep_following", quick)


async def start_hall(aiohttp_client, config, clock, db_path) -> HallClient:
    app = create_app(config, clock=clock, db_path=db_path)
    return HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)


# -- the database read-only ---------------------------------------------------------------------------------


async def read_only_after(hall: HallClient, event_type: str, request):
    """Run `request`, and make the database read-only as soon as the write that records `event_type`
    commits, before anything that follows that event (the projectors) can write: as when a disk is
    remounted read-only under a running server. Returns the request's answer and the writer's connection."""
    conn = await hall.db.write(lambda tx: tx.conn)
    armed = [True]

    def on_commit(events_) -> None:
        if armed[0] and any(e.type.startswith(event_type) for e in events_):
            armed[0] = False
            conn.execute("PRAGMA query_only = ON")  # every later write is refused with SQLITE_READONLY

    hall.db.on_commit(on_commit)
    answer = await request
    assert not armed[0], f"no {event_type} committed"
    return answer, conn


async def test_a_read_only_database_is_a_clear_503_and_everything_catches_up(
    quick_restart, aiohttp_client, config, clock, db_path
):
    hall = await start_hall(aiohttp_client, config, clock, db_path)
    kiosk = await hall.kiosk()
    staff = await hall.staff_at(1)
    ticket = await hall.issue("A")
    assert (await hall.call(staff, 1))["id"] == ticket["id"]

    # The window finishes the service; the disk goes read-only before the rating projector records it.
    (status, body), conn = await read_only_after(hall, "ticket.finished", hall.act(staff, 1, "finish"))
    assert status == 200, body
    status, body = await hall.post("/api/tickets", {"section": "A"}, kiosk)
    assert status == 503 and body["error"]["code"] == "storage_unavailable", body
    assert body["error"]["message"] == "系统暂时无法保存数据,请稍后重试"
    status, health = await hall.get("/healthz")
    assert status == 503 and health["failing"] == ["database"], health
    assert "readonly" in health["checks"]["database"]["error"]
    assert (await hall.get("/api/health"))[0] == 200  # still up, still reading
    assert (await hall.get(f"/api/tickets/{ticket['id']}", staff))[0] == 200  # and reading tickets
    await asyncio.sleep(0.3)  # the projector failed and is waiting to start again
    services = "SELECT COUNT(*) FROM services WHERE ticket_id = ?"
    assert await hall.db.fetchval(services, (ticket["id"],)) == 0

    conn.execute("PRAGMA query_only = OFF")  # writable again
    assert (await hall.issue("A"))["number"] == "A002"
    assert (await hall.get("/healthz"))[0] == 200
    await until(lambda: _one(hall, services, ticket["id"]), 3, "the rating projector caught up")

    # A bad rating commits; the disk goes read-only before the bad review reaches the desk.
    rating = {"ticket_token": ticket["token"], "grade": 1, "comment": "材料清单和窗口说的不一样"}
    (status, body), conn = await read_only_after(hall, "bad_review.", hall.post("/api/ratings", rating))
    assert status == 201, body
    on_desk = "SELECT COUNT(*) FROM cases WHERE rating_id = ?"
    await asyncio.sleep(0.3)
    assert await hall.db.fetchval(on_desk, (body["id"],)) == 0
    conn.execute("PRAGMA query_only = OFF")
    await until(lambda: _one(hall, on_desk, body["id"]), 3, "the bad-review mirror caught up")


async def _one(hall: HallClient, sql: str, key: int) -> bool:
    return await hall.db.fetchval(sql, (key,)) == 1


# -- the disk full ------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB filesystem (tmpfs) for the database, where the machine lets us mount one (root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True)
    yield disk, mounted.returncode == 0
    if mounted.returncode == 0:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 512, 1):  # big writes, then the last few bytes
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


async def test_a_full_disk_is_a_clear_503_and_the_hall_recovers_when_space_returns(
    small_disk, aiohttp_client, config, clock
):
    disk, real = small_disk
    hall = await start_hall(aiohttp_client, config, clock, disk / "hall.db")
    kiosk, viewer = await hall.kiosk(), await hall.viewer()
    issued = [await hall.issue("C") for _ in range(3)]
    if real:
        filler = fill(disk)
        assert os.statvfs(disk).f_bavail == 0
    else:  # no mount allowed: SQLite's own limit gives the same SQLITE_FULL
        pages = await hall.db.write(lambda tx: tx.value("PRAGMA page_count"))
        await hall.db.write(lambda tx: tx.execute(f"PRAGMA max_page_count = {pages}"))
    refused = None
    for _ in range(200):  # a write may still fit in pages the database already has
        status, body = await hall.post("/api/tickets", {"section": "C"}, kiosk)
        if status == 201:
            issued.append(body)
            continue
        refused = (status, body)
        break
    assert refused is not None, "the full disk never refused a write"
    status, body = refused
    assert status == 503 and body["error"]["code"] == "storage_unavailable", body
    assert body["error"]["message"] == "系统暂时无法保存数据,请稍后重试" and body["error"]["reason"] == "full"
    status, health = await hall.get("/healthz")
    assert status == 503 and "database" in health["failing"], health
    assert (await hall.get("/api/health"))[0] == 200  # up, and reading what it has
    assert (await hall.get(f"/api/tickets/{issued[-1]['id']}", viewer))[0] == 200

    if real:
        filler.unlink()  # the operator frees space
    else:
        await hall.db.write(lambda tx: tx.execute("PRAGMA max_page_count = 1073741823"))
    after = await hall.issue("C")
    numbers = [t["number"] for t in issued]
    assert int(after["number"][1:]) == int(numbers[-1][1:]) + 1, "numbering goes on where it stopped"
    assert (await hall.get("/healthz"))[0] == 200
    stored = await hall.db.fetchall("SELECT number FROM tickets ORDER BY id")
    assert [r[0] for r in stored] == [*numbers, after["number"]]


# -- Asterisk unreachable, then dropping the connection mid-call ---------------------------------------------


@pytest.fixture
def ami_config(tmp_path, monkeypatch):
    port = free_port()
    monkeypatch.setenv("HALL_AMI_SECRET", "fault-secret")
    path = tmp_path / "hall.toml"
    path.write_text(
        TEST_CONFIG.read_text(encoding="utf-8")
        + f"\n[callcenter.ami]\nenabled = true\nport = {port}\nreconnect_max_seconds = 1\n"
        + 'agents = { zhang = "PJSIP/8001" }\n',
        encoding="utf-8",
    )
    return config_mod.load(path), port


async def phone_steps(hall: HallClient) -> list[str]:
    rows = await hall.db.fetchall("SELECT external_id FROM case_messages WHERE channel = 'phone' ORDER BY id")
    return [r[0].split("/")[1] for r in rows]


async def ami_health(hall: HallClient) -> tuple[int, dict]:
    status, body = await hall.get("/healthz")
    return status, body["checks"]["ami"]


async def test_asterisk_unreachable_then_dropping_mid_call(ami_config, aiohttp_client, clock, db_path):
    config, port = ami_config
    asterisk = FakeAsterisk("hall", "fault-secret", {"hotline": [Member("PJSIP/8001", "张工")]}, auth_fail_delay=0.05)
    asterisk.port = port  # not listening yet: Asterisk is down when the hall starts
    hall = await start_hall(aiohttp_client, config, clock, db_path)
    try:
        status, ami = await ami_health(hall)
        assert status == 503 and ami == {"ok": False, "state": "disconnected", "logins": 0}
        assert (await hall.issue("A"))["number"] == "A001"  # the hall serves meanwhile

        await asterisk.listen_again()  # Asterisk comes up, a caller already waiting
        caller = await asterisk.caller_joins("13912345678", "王先生")
        await asterisk.wait_for_logins(1, seconds=5)

        async def known() -> bool:
            return await phone_steps(hall) == ["join"]

        await until(known, 5, "the waiting caller known from QueueStatus")
        assert (await ami_health(hall))[1]["ok"]

        await asterisk.agent_answers(caller, "PJSIP/8001")

        async def answered() -> bool:
            return await phone_steps(hall) == ["join", "answer"]

        await until(answered, 5, "the answer recorded")
        # The connection drops mid-call; the call ends while the hall cannot see it.
        asterisk.stop_listening()
        asterisk.drop()

        async def down() -> bool:
            return not (await ami_health(hall))[1]["ok"]

        await until(down, 5, "/healthz showing the phone channel down")
        status, body = await hall.get("/healthz")
        assert status == 503 and body["failing"] == ["ami"], body
        await asterisk.call_completes(caller, talk=42)  # sent to nobody
        assert (await hall.issue("A"))["number"] == "A002"

        await asterisk.listen_again()
        await asterisk.wait_for_logins(2, seconds=5)

        async def settled() -> bool:
            return await phone_steps(hall) == ["join", "answer", "end"]

        await until(settled, 5, "the call settled from QueueStatus after the reconnect")
        end = await hall.db.fetchval("SELECT body FROM case_messages WHERE external_id LIKE '%/end'")
        assert "连接中断" in end  # ended while we were away: said so, not made up
        assert (await hall.get("/healthz"))[0] == 200
        pops = await hall.db.fetchval("SELECT COUNT(*) FROM events WHERE type = 'call.answered'")
        assert pops == 1
    finally:
        await asterisk.close()


# -- a screen's network flapping ------------------------------------------------------------------------------


async def test_a_flapping_screen_resumes_without_missing_or_repeating_a_call(hall: HallClient):
    display = (await hall.device("display"))["Authorization"].split()[1]
    staff = {no: await hall.staff_at(no) for no in (1, 4)}
    for i in range(24):
        await hall.issue("AC"[i % 2])
    received: Counter[int] = Counter()
    last = 0
    connects = 0
    snapshots = 0
    calls_made = 0

    async def read_some(ws, count: int) -> None:
        nonlocal last, snapshots
        for _ in range(count):
            try:
                msg = await asyncio.wait_for(ws.receive(), 0.3)
            except TimeoutError:
                return
            if msg.type != 1:  # TEXT
                return
            m = json.loads(msg.data)
            if m.get("type") == "snapshot":
                snapshots += 1
                last = max(last, m["id"])
            elif isinstance(m.get("payload"), dict):
                if m["type"] in ("ticket.called", "ticket.recalled"):
                    received[m["id"]] += 1
                last = max(last, m["id"])

    start = None
    for round_ in range(12):
        async with hall.client.ws_connect("/ws/screen", params={"token": display, "after": str(last)}) as ws:
            connects += 1
            await read_some(ws, 2 if start is None else 1)  # hello (and a snapshot the first time)
            start = last if start is None else start
            # calls go on while the screen is connected, and while it is away
            for no in (1, 4):
                await hall.act(staff[no], no, "finish")
                if (await hall.call(staff[no], no)) is not None:
                    calls_made += 1
            await read_some(ws, round_ % 3)  # sometimes it reads them, sometimes the socket drops first
        if round_ % 2:
            await hall.act(staff[1], 1, "recall")  # a recall while the screen is away
    async with hall.client.ws_connect("/ws/screen", params={"token": display, "after": str(last)}) as ws:
        await read_some(ws, 200)
    expected = await hall.db.fetchall(
        "SELECT id FROM events WHERE type IN ('ticket.called', 'ticket.recalled') AND id > ?", (start,)
    )
    assert calls_made >= 12
    assert snapshots == 1, "the screen fell back to a snapshot"
    assert set(received) == {r[0] for r in expected}, "the screen missed a call"
    assert all(n == 1 for n in received.values()), "the screen was sent a call twice"
