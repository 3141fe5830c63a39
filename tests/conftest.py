"""Fixtures: the real app on a temporary database, driven by a fake clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import DummyCookieJar

from hall import config as config_mod
from hall.clock import FakeClock
from hall.queue import store as queue_store
from hall.server import create_app

from .helpers import HallClient

ROOT = Path(__file__).resolve().parent.parent
TEST_CONFIG = Path(__file__).resolve().parent / "hall.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> float:
    """A local Shanghai time like '2026-11-23 09:00' as POSIX seconds."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp()


# Monday 23 November 2026, 09:00 in the hall: a working day, during office hours.
MONDAY_9AM = at("2026-11-23 09:00")


@pytest.fixture
def config() -> config_mod.Config:
    return config_mod.load(TEST_CONFIG)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_9AM)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hall.db"


@pytest.fixture
async def hall(aiohttp_client, config, clock, db_path) -> HallClient:
    app = create_app(config, clock=clock, db_path=db_path)
    client = await aiohttp_client(app, cookie_jar=DummyCookieJar())  # API callers send tokens, not cookies
    hall = HallClient(client, clock)
    yield hall
    # Whatever a test did, the waiting counts must still match the tickets.
    assert await queue_store.counts_drift(hall.db) == []
