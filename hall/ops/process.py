"""The server process's memory and files, with SQLite's share of the memory told apart.

A server whose resident memory climbs may be leaking Python objects, or only
filling SQLite's page caches (bounded: `cache_size` per connection). The
metrics say which: SQLite reports what it holds (`sqlite3_status64`, read
from the very library the `sqlite3` module uses), Python how many memory
blocks it has allocated.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

SQLITE_STATUS_MEMORY_USED = 0


def _sqlite_status():
    """`sqlite3_status64` of the SQLite inside Python's sqlite3 module, or None where it cannot be reached."""
    try:
        import _sqlite3

        function = ctypes.CDLL(_sqlite3.__file__).sqlite3_status64  # its own SQLite, linked or built in
    except (ImportError, OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_int64), ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_STATUS = _sqlite_status()


def sqlite_memory_bytes() -> int | None:
    """Bytes SQLite has allocated in this process now (page caches, schemas, statements)."""
    if _STATUS is None:
        return None
    current, highest = ctypes.c_int64(), ctypes.c_int64()
    if _STATUS(SQLITE_STATUS_MEMORY_USED, ctypes.byref(current), ctypes.byref(highest), 0) != 0:
        return None
    return current.value


def python_allocated_blocks() -> int:
    return sys.getallocatedblocks()


def resident_bytes() -> int | None:
    """VmRSS from /proc (Linux); None elsewhere."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None


def open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None
