"""The single writer: every change to the database goes through one thread.

A write is a *unit*: a plain function `fn(tx, *args)` that reads and writes
through `tx` and may record events with `tx.emit`. The writer runs whatever
units are queued as one transaction (group commit), each inside a savepoint
so a unit that raises leaves no trace, and answers them only after COMMIT:
an answered write is on disk. One fsync is shared by the whole batch, which
is what lets a 2-core machine commit thousands of tickets a second.

Running units as synchronous code in the writer's own thread, instead of one
awaited round trip per statement, matters. In a prototype of the issue path
on this 2-core machine (wrk, 64 connections), one awaited aiosqlite round trip
per statement gave 1,750 tickets/s (p99 74 ms), whole units in the thread
4,100/s (p99 27 ms). The full server's figures are in README, Benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..clock import Clock
from ..errors import StorageUnavailable

log = logging.getLogger(__name__)

MAX_BATCH = 256

# SQLite primary result codes that mean "the store cannot write now", not "the
# unit is wrong": the request is refused with 503 and the server stays up.
_UNAVAILABLE = {
    3: "permission",
    5: "busy",
    6: "locked",
    8: "readonly",
    10: "ioerr",
    11: "corrupt",
    13: "full",
    14: "cantopen",
}


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    at: float
    payload: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "at": self.at, "payload": self.payload}


class Tx:
    """The connection a unit writes through, plus the events it records."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.now = 0.0
        self.events: list[Event] = []

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def value(self, sql: str, params: tuple | dict = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def emit(self, type_: str, payload: dict[str, Any]) -> Event:
        """Record an event in the same transaction as the change it describes."""
        cur = self.conn.execute(
            "INSERT INTO events (type, at, payload) VALUES (?, ?, ?)",
            (type_, self.now, json.dumps(payload, ensure_ascii=False, separators=(",", ":"))),
        )
        event = Event(cur.lastrowid, type_, self.now, payload)
        self.events.append(event)
        return event


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the store refuses writes, if `exc` is that kind of failure."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _UNAVAILABLE:
            return _UNAVAILABLE[code & 0xFF]
    return None


_STOP = object()


class Writer:
    def __init__(self, connect: Callable[[], sqlite3.Connection], clock: Clock) -> None:
        self._connect = connect
        self._clock = clock
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="hall-writer", daemon=True)
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self.on_commit: list[Callable[[list[Event]], None]] = []
        self.batches = 0
        self.units = 0

    def start(self, setup: Callable[[sqlite3.Connection], None]) -> None:
        """Start the thread and run `setup` (migrations) in it before any unit."""
        self._setup = setup
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:
            raise self._start_error

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def submit(self, fn: Callable[..., Any], args: tuple) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((fn, args, future, loop))
        return future

    # -- the thread -----------------------------------------------------------

    def _run(self) -> None:
        try:
            conn = self._connect()
            self._setup(conn)
        except BaseException as e:  # reported to start()
            self._start_error = e
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                batch = [item]
                while len(batch) < MAX_BATCH:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        self._queue.put(_STOP)
                        break
                    batch.append(more)
                try:
                    self._run_batch(conn, batch)
                except Exception as e:  # the writer must outlive any failure, or every later write would hang
                    log.exception("write batch failed unexpectedly")
                    self._abort(conn, batch, e)
        finally:
            conn.close()

    def _run_batch(self, conn: sqlite3.Connection, batch: list) -> None:
        tx = Tx(conn)
        done: list[tuple] = []  # (future, loop, result, exception)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            self._fail_all(batch, e)
            return
        for fn, args, future, loop in batch:
            tx.now = self._clock.now()
            mark = len(tx.events)
            conn.execute("SAVEPOINT unit")
            try:
                result = fn(tx, *args)
            except BaseException as e:
                del tx.events[mark:]
                # Disk full, I/O errors and the like roll the whole transaction
                # back (SQLite may already have): the batch fails as one.
                if unavailable_reason(e) or not conn.in_transaction:
                    self._abort(conn, batch, e)
                    return
                try:
                    conn.execute("ROLLBACK TO unit")
                    conn.execute("RELEASE unit")
                except sqlite3.Error as e2:
                    self._abort(conn, batch, e2)
                    return
                done.append((future, loop, None, e))
                continue
            conn.execute("RELEASE unit")
            done.append((future, loop, result, None))
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            self._abort(conn, batch, e)
            return
        self.batches += 1
        self.units += len(batch)
        by_loop: dict[Any, list] = {}
        for item in done:
            by_loop.setdefault(item[1], []).append(item)
        events = list(tx.events)
        for loop, items in by_loop.items():
            loop.call_soon_threadsafe(self._deliver, events, items)
            events = []  # published once, on the first loop

    def _deliver(self, events: list[Event], items: list[tuple]) -> None:
        if events:
            for listener in self.on_commit:
                try:
                    listener(events)
                except Exception:  # a listener must never lose a write's answer
                    log.exception("event listener failed")
        for future, _loop, result, exc in items:
            if future.done():
                continue
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def _abort(self, conn: sqlite3.Connection, batch: list, exc: BaseException) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("rollback failed")
        self._fail_all(batch, exc)

    def _fail_all(self, batch: list, exc: BaseException) -> None:
        reason = unavailable_reason(exc) or type(exc).__name__
        log.error("write batch of %d failed: %s", len(batch), exc)
        for _fn, _args, future, loop in batch:
            loop.call_soon_threadsafe(_set_exception, future, StorageUnavailable(reason))


def _set_exception(future: asyncio.Future, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
