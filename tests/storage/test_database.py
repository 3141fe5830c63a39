"""The database: WAL, one writer with group commit, events in the same transaction."""

import asyncio
import sqlite3

import pytest

from hall.clock import FakeClock
from hall.errors import Conflict, StorageUnavailable
from hall.events import SCHEMA as EVENTS
from hall.storage import Database, Schema

NOTES = Schema("notes", ("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)",))


@pytest.fixture
async def db(tmp_path):
    database = Database(tmp_path / "t.db", FakeClock(1_000_000.0), [EVENTS, NOTES])
    await database.open()
    yield database
    await database.close()


def add_note(tx, text: str, fail: bool = False) -> int:
    cur = tx.execute("INSERT INTO notes (text) VALUES (?)", (text,))
    tx.emit("note.added", {"text": text})
    if fail:
        raise Conflict("nope", "这条不要")
    return cur.lastrowid


async def test_the_database_is_in_wal_mode_with_full_sync(db, tmp_path):
    with sqlite3.connect(tmp_path / "t.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert await db.write(lambda tx: tx.value("PRAGMA synchronous")) == 2  # FULL


async def test_concurrent_writes_share_commits(db):
    ids = await asyncio.gather(*(db.write(add_note, f"n{i}") for i in range(200)))
    assert sorted(ids) == list(range(1, 201))
    assert db.writer.units == 200 and db.writer.batches < 50  # grouped, not one fsync each
    assert await db.fetchval("SELECT COUNT(*) FROM events WHERE type = 'note.added'") == 200


async def test_a_failing_unit_leaves_no_trace_and_spares_its_batch(db):
    results = await asyncio.gather(
        db.write(add_note, "keep-1"),
        db.write(add_note, "drop", True),
        db.write(add_note, "keep-2"),
        return_exceptions=True,
    )
    assert isinstance(results[1], Conflict)
    assert [r[0] for r in await db.fetchall("SELECT text FROM notes ORDER BY id")] == ["keep-1", "keep-2"]
    payloads = [r[0] for r in await db.fetchall("SELECT payload FROM events ORDER BY id")]
    assert payloads == ['{"text":"keep-1"}', '{"text":"keep-2"}']


async def test_a_constraint_error_is_the_unit_s_own(db):
    await db.write(add_note, "same")
    with pytest.raises(sqlite3.IntegrityError):
        await db.write(add_note, "same")
    assert await db.write(add_note, "next") == 2  # the writer carries on
    assert await db.fetchval("SELECT COUNT(*) FROM notes") == 2


async def test_events_are_published_after_commit_in_order(db):
    seen = []
    db.on_commit(lambda events: seen.extend((e.id, e.type, e.payload["text"]) for e in events))
    units = [db.write(add_note, f"n{i}", i == 2) for i in range(6)]  # n2 fails
    await asyncio.gather(*units, return_exceptions=True)
    assert [s[0] for s in seen] == sorted(s[0] for s in seen) and len(seen) == 5
    assert {s[2] for s in seen} == {"n0", "n1", "n3", "n4", "n5"}
    stored = await db.fetchall("SELECT id FROM events ORDER BY id")
    assert [s[0] for s in seen] == [r[0] for r in stored]


async def test_event_time_is_the_writer_clock(db):
    await db.write(add_note, "t")
    assert await db.fetchval("SELECT at FROM events") == 1_000_000.0


async def test_disk_full_is_a_clear_503_and_the_store_recovers(db):
    pages = await db.write(lambda tx: tx.value("PRAGMA page_count"))
    await db.write(lambda tx: tx.execute(f"PRAGMA max_page_count = {pages}"))
    with pytest.raises(StorageUnavailable) as failed:
        await db.write(add_note, "x" * 100_000)
    assert failed.value.status == 503 and failed.value.code == "storage_unavailable"
    assert failed.value.detail["reason"] == "full"
    await db.write(lambda tx: tx.execute("PRAGMA max_page_count = 1073741823"))
    assert await db.write(add_note, "after") == 1
    assert await db.fetchval("SELECT COUNT(*) FROM events") == 1
