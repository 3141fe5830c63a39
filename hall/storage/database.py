"""The hall's SQLite database: one writer thread, concurrent aiosqlite readers.

WAL mode lets readers run while the writer commits; `synchronous=FULL`
makes every answered write survive a power cut, not only a killed process.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from ..clock import Clock
from .migrations import Schema, migrate
from .writer import Event, Tx, Writer

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000


def _configure(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")


class Database:
    def __init__(self, path: str | Path, clock: Clock, schemas: list[Schema], readers: int = 2) -> None:
        self.path = Path(path)
        self.clock = clock
        self.schemas = schemas
        self._reader_count = readers
        self._readers: list[aiosqlite.Connection] = []
        self._next_reader = itertools.cycle([0])
        self.writer = Writer(self._connect_writer, clock)
        self.applied: list[str] = []

    def _connect_writer(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        _configure(conn)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise RuntimeError(f"{self.path}: could not switch to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        # A day's tickets and events stay in the writer's page cache (64 MiB),
        # so inserts do not slow down as the day fills.
        conn.execute("PRAGMA cache_size = -65536")
        return conn

    async def open(self) -> None:
        def setup(conn: sqlite3.Connection) -> None:
            self.applied = migrate(conn, self.schemas)

        await asyncio.to_thread(self.writer.start, setup)
        for _ in range(self._reader_count):
            reader = await aiosqlite.connect(self.path, isolation_level=None)
            reader.row_factory = sqlite3.Row
            await reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await reader.execute("PRAGMA query_only = ON")
            self._readers.append(reader)
        self._next_reader = itertools.cycle(range(len(self._readers)))

    async def close(self) -> None:
        for reader in self._readers:
            await reader.close()
        self._readers.clear()
        await asyncio.to_thread(self.writer.stop)

    def on_commit(self, listener: Callable[[list[Event]], None]) -> None:
        """Call `listener` with each committed batch's events, in id order."""
        self.writer.on_commit.append(listener)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run the unit `fn(tx, *args, **kwargs)` in the writer; return once it is committed."""
        if kwargs:
            fn = functools.partial(fn, **kwargs)
        return await self.writer.submit(fn, args)

    # -- reads ------------------------------------------------------------------

    def _reader(self) -> aiosqlite.Connection:
        return self._readers[next(self._next_reader)]

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return list(await self._reader().execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        async with self._reader().execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchval(self, sql: str, params: tuple | dict = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


__all__ = ["Database", "Event", "Tx"]
