"""`GET /healthz`: 200 when the hall works, 503 naming what does not."""

import asyncio
import sqlite3

from hall.ops import health

from ..helpers import HallClient


async def test_a_working_hall_is_healthy_and_says_nothing_personal(hall: HallClient):
    await hall.issue("A", phone="13800138000")
    status, body = await hall.get("/healthz")
    assert status == 200, body
    assert body["status"] == "ok" and body["failing"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["database"]["write_ms"] >= 0
    assert body["checks"]["outbox"] == {"ok": True, "oldest_pending_s": None}
    assert body["checks"]["screens"] == {"ok": True, "connected": 0}
    assert body["checks"]["files"] == {"ok": True}
    assert "ami" not in body["checks"]  # channels not configured are not checked
    assert "13800138000" not in str(body)


async def settled(hall: HallClient) -> None:
    """Until the background tasks' start-up writes are done (one that fails stops its task for good)."""
    seen = -1
    while seen != hall.db.writer.units:
        seen = hall.db.writer.units
        await asyncio.sleep(0.05)


async def test_a_read_only_database_fails_the_check_and_recovers(hall: HallClient):
    def read_only(tx):
        tx.execute("PRAGMA query_only = ON")  # the writer's own connection refuses writes from now on
        return tx.conn

    await settled(hall)
    writer_conn = await hall.db.write(read_only)
    status, body = await hall.get("/healthz")
    assert status == 503, body
    assert body["failing"] == ["database"] and "readonly" in body["checks"]["database"]["error"]
    writer_conn.execute("PRAGMA query_only = OFF")  # writable again (BEGIN itself is refused until then)
    assert (await hall.get("/healthz"))[0] == 200


async def test_a_database_locked_by_another_process_fails_in_time(hall: HallClient, db_path, monkeypatch):
    monkeypatch.setattr(health, "WRITE_TIMEOUT_S", 0.3)
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock, as a stray sqlite3 shell would
    try:
        status, body = await asyncio.wait_for(hall.get("/healthz"), 3)
        assert status == 503 and body["failing"] == ["database"], body
        assert "did not commit" in body["checks"]["database"]["error"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    await asyncio.sleep(0)  # the queued probe commits once the lock is gone
    status, body = await hall.get("/healthz")
    assert status == 200, body


async def test_a_stuck_outbox_fails_the_check(hall: HallClient):
    now = hall.clock.now()
    await hall.db.write(
        lambda tx: tx.execute(
            "INSERT INTO outbox (kind, ref, channel, recipient, body, next_attempt_at, created_at) "
            "VALUES ('sms', 'x1', 'sms', '13800138000', 'hi', ?, ?)",
            (now, now),
        )
    )
    assert (await hall.get("/healthz"))[1]["checks"]["outbox"] == {"ok": True, "oldest_pending_s": 0}
    hall.clock.advance(health.OUTBOX_STUCK_S + 60)
    status, body = await hall.get("/healthz")
    assert status == 503 and body["failing"] == ["outbox"]
    assert body["checks"]["outbox"]["oldest_pending_s"] == health.OUTBOX_STUCK_S + 60


async def test_a_folder_hall_cannot_write_fails_the_check_and_recovers(hall: HallClient, db_path):
    """Attachments go beside the database: a deployment that left no writable place there is found before
    a citizen's photo is refused."""
    blocked = db_path.parent / "attachments"
    blocked.write_text("not a folder")  # (root ignores permissions, so a file stands in the folder's way)
    status, body = await hall.get("/healthz")
    assert status == 503 and body["failing"] == ["files"], body
    assert set(body["checks"]["files"]["error"]) == {"attachments"}
    assert str(blocked) in body["checks"]["files"]["error"]["attachments"]
    blocked.unlink()
    status, body = await hall.get("/healthz")
    assert status == 200 and body["checks"]["files"] == {"ok": True}
    assert blocked.is_dir() and list(blocked.iterdir()) == []  # the probe file is gone
