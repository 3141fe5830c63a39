"""`python -m hall backup` and `restore`: a consistent online copy, and putting one back.

The copy uses SQLite's backup API from its own connection. In WAL mode the
server's writer is never blocked by it: each step reads a snapshot. A step
that sees the server commit meanwhile makes SQLite start over, so on a busy
hall the copy falls back, after a few restarts, to a single step, which is
one read transaction and still does not block the writer.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..errors import HallError
from .lock import hold

STEP_PAGES = 1024  # 4 MiB a step with 4 KiB pages
MAX_RESTARTS = 3
REQUIRED_TABLES = ("schema_versions", "events", "tickets")


@dataclass(frozen=True)
class Checked:
    """What a verified database file holds."""

    path: Path
    size: int
    last_event_id: int
    versions: dict[str, int]
    tickets: int


class _Restarted(Exception):
    pass


def backup(db_path: Path, out: Path, step_pages: int = STEP_PAGES) -> Checked:
    """Copy the live database at `db_path` to `out`, verified, or raise HallError."""
    if not db_path.exists():
        raise HallError("database_not_found", f"没有数据库文件 {db_path}")
    if out.exists() and out.is_dir():
        raise HallError("backup_target_is_dir", f"{out} 是目录,请给出备份文件名")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(db_path)
    try:
        source.execute("PRAGMA busy_timeout = 5000")
        source.execute("PRAGMA query_only = ON")
        target = sqlite3.connect(partial)
        try:
            _copy(source, target, step_pages)
            # The copy inherits WAL mode; a backup is one self-contained file.
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
    finally:
        source.close()
    try:
        checked = verify(partial)
    except HallError:
        partial.unlink(missing_ok=True)
        raise
    _fsync(partial)
    os.replace(partial, out)
    _fsync_dir(out.parent)
    return Checked(out, checked.size, checked.last_event_id, checked.versions, checked.tickets)


def _copy(source: sqlite3.Connection, target: sqlite3.Connection, step_pages: int) -> None:
    seen = {"remaining": None, "restarts": 0}

    def progress(status: int, remaining: int, total: int) -> None:
        if seen["remaining"] is not None and remaining > seen["remaining"]:
            seen["restarts"] += 1
            if seen["restarts"] > MAX_RESTARTS:
                raise _Restarted
        seen["remaining"] = remaining

    try:
        source.backup(target, pages=step_pages, progress=progress)
    except _Restarted:
        source.backup(target, pages=-1)


def verify(path: Path) -> Checked:
    """Check that `path` is a whole Hall database; raise HallError saying what is wrong."""
    if not path.is_file():
        raise HallError("backup_not_found", f"没有备份文件 {path}")
    with path.open("rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise HallError("backup_invalid", f"{path} 不是 SQLite 数据库文件,拒绝使用")
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as e:
            raise HallError("backup_invalid", f"{path} 已损坏,拒绝使用:{e}") from None
        if problems != ["ok"]:
            raise HallError("backup_invalid", f"{path} 完整性检查未通过,拒绝使用:{'; '.join(problems[:5])}")
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            raise HallError("backup_invalid", f"{path} 不是 Hall 的数据库(缺少表 {', '.join(missing)}),拒绝使用")
        versions = {row[0]: row[1] for row in conn.execute("SELECT domain, version FROM schema_versions")}
        if not versions:
            raise HallError("backup_invalid", f"{path} 没有数据结构版本记录,拒绝使用")
        last = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
        tickets = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
    finally:
        conn.close()
    return Checked(path, path.stat().st_size, last, versions, tickets)


def restore(backup_file: Path, db_path: Path, now: dt.datetime | None = None) -> tuple[Checked, Path | None]:
    """Put a verified backup in place of the stopped server's database; return it and where the old file went."""
    checked = verify(backup_file)
    with hold(db_path, exclusive=True):
        aside = None
        if db_path.exists():
            stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
            aside = db_path.with_name(f"{db_path.name}.before-restore-{stamp}")
            # The WAL and shared memory go with it, so the old file still opens whole.
            for suffix in ("-wal", "-shm"):
                side = db_path.with_name(db_path.name + suffix)
                if side.exists():
                    os.replace(side, aside.with_name(aside.name + suffix))
            os.replace(db_path, aside)
        incoming = db_path.with_name(db_path.name + ".restoring")
        shutil.copyfile(backup_file, incoming)
        _fsync(incoming)
        os.replace(incoming, db_path)
        _fsync_dir(db_path.parent)
    return checked, aside


def _fsync(path: Path) -> None:
    with path.open("rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def describe(checked: Checked) -> str:
    versions = ", ".join(f"{d} v{v}" for d, v in sorted(checked.versions.items()))
    return (
        f"{checked.path}: {checked.size / 1024 / 1024:.1f} MiB, {checked.tickets} tickets, "
        f"last event id {checked.last_event_id}\n  schema: {versions}"
    )


# -- the commands ---------------------------------------------------------------------------


async def cmd_backup(args: argparse.Namespace, config: object, db_path: Path) -> int:
    checked = await asyncio.to_thread(backup, db_path, Path(args.out))
    print(f"backup verified (integrity ok)\n{describe(checked)}")
    return 0


async def cmd_restore(args: argparse.Namespace, config: object, db_path: Path) -> int:
    checked, aside = await asyncio.to_thread(restore, Path(args.backup), db_path)
    print(f"restored into {db_path}\n{describe(checked)}")
    if aside is not None:
        print(f"  the previous database is kept as {aside}")
    print("  start the server: it migrates the restored database to this version")
    return 0
