"""Nothing acknowledged is lost: the server killed with SIGKILL mid-load, then restarted.

Kiosks issue tickets and two windows call them while the process is killed at
a random moment, three times over. After each restart every ticket and call
the API answered for is there, no number was handed out twice, no ticket is
held by two windows, and numbering carries on after the highest number.
"""

import asyncio
import random
import sqlite3

import aiohttp
import pytest

from hall.queue.store import COUNTS_DRIFT_SQL

from .server_process import ServerProcess, hall_cli

CRASH_HALL = """
[hall]
name = "断电测试大厅"

[limits]  # six kiosks issue as fast as they can: the crash, not the rate limit, is under test
tickets = 100000
login = 100000

[auth]
scrypt_n = 1024

[[sections]]
id = "A"
name = "综合受理"
daily_cap = 100000
hours = ["00:00-24:00"]
days = "daily"

[[sections]]
id = "B"
name = "不动产登记"
daily_cap = 100000
hours = ["00:00-24:00"]
days = "daily"

[[windows]]
no = 1
sections = ["*"]

[[windows]]
no = 2
sections = ["*"]
"""


async def issue_forever(session, url, token, acked: dict, section: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    n = 0
    while True:
        n += 1
        try:
            async with session.post(f"{url}/api/tickets", json={"section": section}, headers=headers) as resp:
                if resp.status == 201:
                    body = await resp.json()
                    acked[body["id"]] = body["number"]
        except (TimeoutError, aiohttp.ClientError):
            return  # the server is gone


async def call_forever(session, url, headers, no: int, calls: dict) -> None:
    while True:
        try:
            async with session.post(f"{url}/api/windows/{no}/call", headers=headers) as resp:
                if resp.status == 200:
                    ticket = (await resp.json())["ticket"]
                    calls[ticket["id"]] = no
                elif resp.status != 204:
                    raise AssertionError(f"call answered {resp.status}: {await resp.text()}")
            async with session.post(f"{url}/api/windows/{no}/finish", headers=headers) as resp:
                assert resp.status in (200, 409), await resp.text()
        except (TimeoutError, aiohttp.ClientError):
            return


async def login_at_window(session, url, username, no) -> dict:
    async with session.post(f"{url}/api/auth/login", json={"username": username, "password": "crash-pass-1"}) as r:
        headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
    async with session.post(f"{url}/api/windows/{no}/open", headers=headers) as r:
        assert r.status == 200, await r.text()
    return headers


async def load_then_kill(server: ServerProcess, kiosk: str, seconds: float, acked: dict, calls: dict) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        windows = [await login_at_window(session, server.url, f"staff{no}", no) for no in (1, 2)]
        tasks = [asyncio.create_task(issue_forever(session, server.url, kiosk, acked, "AB"[i % 2])) for i in range(24)]
        tasks += [
            asyncio.create_task(call_forever(session, server.url, h, no, calls))
            for no, h in zip((1, 2), windows, strict=True)
        ]
        await asyncio.sleep(seconds)
        await asyncio.to_thread(server.kill)
        await asyncio.wait_for(asyncio.gather(*tasks), 30)


@pytest.mark.timeout(180)
async def test_kill_9_under_load_loses_nothing_acknowledged(tmp_path):
    config = tmp_path / "crash.toml"
    config.write_text(CRASH_HALL, encoding="utf-8")
    db = tmp_path / "crash.db"
    kiosk = hall_cli(
        "device", "add", "kiosk", "--kind", "kiosk", "--config", str(config), "--db", str(db)
    ).stdout.strip()
    for name in ("staff1", "staff2"):
        assert (
            hall_cli(
                "user", "add", name, "--role", "staff", "--config", str(config), "--db", str(db), stdin="crash-pass-1\n"
            ).returncode
            == 0
        )
    server = ServerProcess(config, db, env={"HALL_ADMIN_PASSWORD": "crash-admin-pw"})
    acked: dict[int, str] = {}
    calls: dict[int, int] = {}
    rng = random.Random(20261121)
    try:
        for _cycle in range(3):
            server.start()
            await load_then_kill(server, kiosk, rng.uniform(0.8, 2.0), acked, calls)
            server.start()
            async with aiohttp.ClientSession() as session:
                tickets = all_tickets(db)
                # every acknowledged ticket is there, with the number it was given
                missing = {i: n for i, n in acked.items() if tickets.get(i, {}).get("number") != n}
                assert not missing, f"{len(missing)} acknowledged tickets lost or renumbered"
                # every acknowledged call is there, at the window that made it
                for ticket_id, no in calls.items():
                    t = tickets[ticket_id]
                    assert t["status"] in ("called", "done") and t["window_no"] == no
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                    assert conn.execute(COUNTS_DRIFT_SQL).fetchall() == [], "waiting counts drifted"
                numbers = [t["number"] for t in tickets.values()]
                assert len(numbers) == len(set(numbers)), "a number was issued twice"
                current = [t["window_no"] for t in tickets.values() if t["status"] in ("called", "serving")]
                assert len(current) == len(set(current)), "a window holds two tickets"
                # numbering carries on after the highest number of each section
                for section in "AB":
                    top = max((int(n[1:]) for n in numbers if n[0] == section), default=0)
                    async with session.post(
                        f"{server.url}/api/tickets",
                        json={"section": section},
                        headers={"Authorization": f"Bearer {kiosk}"},
                    ) as r:
                        body = await r.json()
                        assert r.status == 201 and int(body["number"][1:]) == top + 1
                        acked[body["id"]] = body["number"]
                # staff finish what the crash interrupted, then close their windows
                for no in (1, 2):
                    headers = await login_headers(session, server.url, f"staff{no}")
                    async with session.post(f"{server.url}/api/windows/{no}/finish", headers=headers):
                        pass
                    async with session.post(f"{server.url}/api/windows/{no}/close", headers=headers) as r:
                        assert r.status == 200, await r.text()
            server.stop()
        assert len(acked) > 300 and len(calls) > 30  # the load was real
    finally:
        server.kill()


async def login_headers(session, url, username: str) -> dict:
    async with session.post(f"{url}/api/auth/login", json={"username": username, "password": "crash-pass-1"}) as r:
        assert r.status == 200
        return {"Authorization": f"Bearer {(await r.json())['token']}"}


def all_tickets(db) -> dict:
    """Every ticket on disk, read after the restart (the store is the ground truth)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return {r["id"]: dict(r) for r in conn.execute("SELECT id, number, status, window_no FROM tickets")}
