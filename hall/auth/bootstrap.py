"""The first admin login, so a fresh hall can be used at once."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from aiohttp import web

from ..keys import CONFIG, DB
from . import store
from .passwords import hash_password, verify_password
from .views import add_user

ADMIN = "admin"


@dataclass(frozen=True)
class AdminLogin:
    username: str
    password: str | None  # shown once: None when it was set earlier and is not known
    source: str  # "generated", "env" or "existing"


async def ensure_admin(app: web.Application, env_password: str | None) -> AdminLogin:
    """Create the admin account on first start; with HALL_ADMIN_PASSWORD, keep its password equal to it."""
    db = app[DB]
    row = await store.user_by_name(db, ADMIN)
    if row is None and await store.count_admins(db) == 0:
        password = env_password or secrets.token_urlsafe(12)
        await add_user(app, ADMIN, password, "admin", "系统管理员", None, "")
        return AdminLogin(ADMIN, password, "env" if env_password else "generated")
    if row is not None and env_password:
        if not await asyncio.to_thread(verify_password, env_password, row["password_hash"]):
            hashed = await asyncio.to_thread(hash_password, env_password, app[CONFIG].auth.scrypt_n)
            await db.write(store.set_password, ADMIN, hashed)
        return AdminLogin(ADMIN, env_password, "env")
    return AdminLogin(ADMIN if row is not None else "(an admin account)", None, "existing")
