"""Typed keys for what the application holds (aiohttp AppKey)."""

from pathlib import Path

from aiohttp import web

from .clock import Clock
from .config import Config
from .events import EventBus
from .storage import Database

CONFIG: web.AppKey[Config] = web.AppKey("config", Config)
CLOCK: web.AppKey[Clock] = web.AppKey("clock", Clock)
DB: web.AppKey[Database] = web.AppKey("db", Database)
BUS: web.AppKey[EventBus] = web.AppKey("bus", EventBus)
DB_PATH: web.AppKey[Path] = web.AppKey("db_path", Path)
