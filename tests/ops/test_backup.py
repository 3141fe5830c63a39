"""`python -m hall backup` under load, and `restore` into a fresh place that the server then serves."""

import asyncio
import sqlite3

import aiohttp
import pytest

from ..server_process import ServerProcess, hall_cli

BUSY_HALL = """
[hall]
name = "备份测试大厅"

[auth]
scrypt_n = 1024

[limits]
enabled = false  # one kiosk issues as fast as it can: a load test, not a kiosk

[[sections]]
id = "A"
name = "综合受理"
daily_cap = 100000
hours = ["00:00-24:00"]
days = "daily"

[[windows]]
no = 1
sections = ["*"]
"""


async def issue_until(stop: asyncio.Event, url: str, token: str, acked: dict) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while not stop.is_set():
            async with session.post(f"{url}/api/tickets", json={"section": "A"}, headers=headers) as resp:
                assert resp.status == 201, await resp.text()
                body = await resp.json()
                acked[body["id"]] = body["number"]


def tickets(db) -> dict[int, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT id, seq FROM tickets"))


@pytest.mark.timeout(120)
async def test_a_backup_taken_under_load_restores_into_a_server_that_carries_on(tmp_path):
    config = tmp_path / "hall.toml"
    config.write_text(BUSY_HALL, encoding="utf-8")
    db = tmp_path / "live" / "hall.db"
    db.parent.mkdir()
    cfg = ("--config", str(config))
    kiosk = hall_cli("device", "add", "kiosk", "--kind", "kiosk", *cfg, "--db", str(db)).stdout.strip()
    server = ServerProcess(config, db, env={"HALL_ADMIN_PASSWORD": "backup-admin-pw"})
    server.start()
    out = tmp_path / "backups" / "hall-1.db"
    out.parent.mkdir()
    acked: dict[int, str] = {}
    try:
        stop = asyncio.Event()
        issuers = [asyncio.create_task(issue_until(stop, server.url, kiosk, acked)) for _ in range(8)]
        await asyncio.sleep(0.5)
        before = dict(acked)  # acknowledged before the backup began
        done = await asyncio.to_thread(hall_cli, "backup", *cfg, "--db", str(db), str(out))
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.gather(*issuers)

        assert done.returncode == 0, done.stderr
        assert "integrity ok" in done.stdout and "last event id" in done.stdout and "MiB" in done.stdout
        assert len(before) > 50 and len(acked) > len(before)  # the server was writing throughout

        refused = hall_cli("restore", str(out), *cfg, "--db", str(db))
        assert refused.returncode == 1 and "database_in_use" in refused.stderr
    finally:
        assert server.stop() == 0

    fresh = tmp_path / "fresh" / "hall.db"
    restored = hall_cli("restore", str(out), *cfg, "--db", str(fresh))
    assert restored.returncode == 0, restored.stderr
    copied = tickets(fresh)
    assert set(before) <= set(copied)  # every ticket acknowledged before the backup
    assert sorted(copied.values()) == list(range(1, len(copied) + 1))  # a consistent prefix, no holes

    again = ServerProcess(config, fresh, env={"HALL_ADMIN_PASSWORD": "backup-admin-pw"})
    again.start()
    try:
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bearer {kiosk}"}
            async with session.post(f"{again.url}/api/tickets", json={"section": "A"}, headers=headers) as resp:
                assert resp.status == 201, await resp.text()
                after = await resp.json()
    finally:
        assert again.stop() == 0
    assert tickets(fresh)[after["id"]] == max(copied.values()) + 1  # numbering carries on

    # Over an existing database: the old one is kept aside, with its WAL.
    over = hall_cli("restore", str(out), *cfg, "--db", str(db))
    assert over.returncode == 0, over.stderr
    aside = [p for p in db.parent.iterdir() if ".before-restore-" in p.name and p.name.endswith(tuple("0123456789"))]
    assert len(aside) == 1 and f"kept as {aside[0]}" in over.stdout
    assert len(tickets(aside[0])) == len(acked) and set(tickets(db)) == set(copied)


@pytest.mark.parametrize(
    "content, says",
    [
        (b"not a database at all\n" * 100, "不是 SQLite 数据库文件"),
        (b"SQLite format 3\x00" + b"\xff" * 5000, "已损坏"),
    ],
)
def test_a_garbage_backup_is_refused_and_the_database_untouched(tmp_path, content, says):
    from ..conftest import TEST_CONFIG

    db = tmp_path / "hall.db"
    assert hall_cli("device", "list", "--config", str(TEST_CONFIG), "--db", str(db)).returncode == 0
    before = db.read_bytes()
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    done = hall_cli("restore", str(bad), "--config", str(TEST_CONFIG), "--db", str(db))
    assert done.returncode == 1 and "backup_invalid" in done.stderr and says in done.stderr
    assert db.read_bytes() == before and not list(tmp_path.glob("*.before-restore-*"))


def test_a_truncated_backup_is_refused(tmp_path):
    from ..conftest import TEST_CONFIG

    db = tmp_path / "hall.db"
    cli = ("--config", str(TEST_CONFIG), "--db", str(db))
    assert hall_cli("device", "add", "k", "--kind", "kiosk", *cli).returncode == 0
    good = tmp_path / "good.db"
    made = hall_cli("backup", *cli, str(good))
    assert made.returncode == 0, made.stderr
    cut = tmp_path / "cut.db"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    done = hall_cli("restore", str(cut), *cli)
    assert done.returncode == 1 and "backup_invalid" in done.stderr, done.stderr
