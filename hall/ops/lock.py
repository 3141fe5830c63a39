"""A lock file beside the database: shared by running servers, exclusive for a restore.

The kernel drops an flock when its process dies, even by SIGKILL, so a
crashed server never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from aiohttp import web

from ..errors import HallError
from ..keys import DB_PATH

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; restore relies on the operator
    fcntl = None  # type: ignore[assignment]


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextlib.contextmanager
def hold(db_path: Path, exclusive: bool) -> Iterator[None]:
    """Hold the database's lock file; raise HallError at once if the other kind holds it."""
    if fcntl is None:
        yield
        return
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(db_path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            if exclusive:
                raise HallError("database_in_use", f"服务器正在使用数据库 {db_path},请先停止服务再恢复") from None
            raise HallError("restore_in_progress", f"数据库 {db_path} 正在恢复,请稍后再启动") from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


async def server_lock_ctx(app: web.Application) -> AsyncIterator[None]:
    """While the server runs, `python -m hall restore` refuses to swap its database."""
    with hold(app[DB_PATH], exclusive=False):
        yield
