"""SQL for accounts, sessions and devices.

Write functions take the writer's `Tx` and run inside a unit; read functions
take the `Database` and use a reader connection.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from typing import Any

from ..errors import Conflict, NotFound
from ..storage import Database, Tx
from . import lockout
from .principal import Principal

SESSION_PREFIX = "hs_"
TOUCH_S = 60.0  # a session's last use is written at most this often
DEVICE_PREFIX = "hd_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def user_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "username": row["username"],
        "display_name": row["display_name"],
        "staff_no": row["staff_no"],
        "role": row["role"],
        "department": row["department"],
        "active": bool(row["active"]),
    }


def device_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "window": row["window_no"],
        "revoked": row["revoked_at"] is not None,
    }


# -- writes (units run by the writer) -------------------------------------------


def create_user(
    tx: Tx, username: str, display_name: str, role: str, password_hash: str, staff_no: str | None, department: str
) -> dict[str, Any]:
    if tx.one("SELECT 1 FROM users WHERE username = ?", (username,)):
        raise Conflict("username_taken", f"用户名 {username} 已存在")
    if staff_no and tx.one("SELECT 1 FROM users WHERE staff_no = ?", (staff_no,)):
        raise Conflict("staff_no_taken", f"工号 {staff_no} 已被使用")
    cur = tx.execute(
        "INSERT INTO users (username, display_name, staff_no, role, department, password_hash, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (username, display_name, staff_no, role, department, password_hash, tx.now),
    )
    row = tx.one("SELECT * FROM users WHERE id = ?", (cur.lastrowid,))
    user = user_json(row)
    tx.emit("user.created", {"user": {k: user[k] for k in ("id", "username", "role")}})
    return user


def set_password(tx: Tx, username: str, password_hash: str) -> None:
    cur = tx.execute("UPDATE users SET password_hash = ? WHERE username = ?", (password_hash, username))
    if cur.rowcount != 1:
        raise NotFound("user_not_found", f"没有用户 {username}")
    user_id = tx.value("SELECT id FROM users WHERE username = ?", (username,))
    # A changed password ends every open session of that user, and lifts a login lock.
    tx.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", (tx.now, user_id))
    lockout.unlock(tx, username)
    tx.emit("user.password_changed", {"user_id": user_id})


def open_session(tx: Tx, user_id: int, hours: int) -> dict[str, Any]:
    token = new_token(SESSION_PREFIX)
    csrf = secrets.token_urlsafe(24)
    expires = tx.now + hours * 3600
    cur = tx.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (token_hash(token), user_id, csrf, tx.now, expires),
    )
    tx.emit("session.opened", {"session_id": cur.lastrowid, "user_id": user_id})
    return {"token": token, "csrf_token": csrf, "expires_at": expires}


def revoke_session(tx: Tx, session_id: int) -> None:
    cur = tx.execute("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (tx.now, session_id))
    if cur.rowcount:
        tx.emit("session.closed", {"session_id": session_id})


def user_by_id(tx: Tx, user_id: int) -> sqlite3.Row:
    row = tx.one("SELECT * FROM users WHERE id = ?", (user_id,))
    if row is None:
        raise NotFound("user_not_found", f"没有编号为 {user_id} 的用户")
    return row


def revoke_user_sessions(tx: Tx, user_id: int) -> int:
    """End every open session of a user (stolen laptop, someone leaving); returns how many."""
    user_by_id(tx, user_id)
    cur = tx.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", (tx.now, user_id))
    tx.emit("sessions.revoked", {"user_id": user_id, "count": cur.rowcount})
    return cur.rowcount


def deactivate_user(tx: Tx, user_id: int) -> dict[str, Any]:
    """Switch an account off: it can no longer sign in, and its open sessions end at once."""
    row = user_by_id(tx, user_id)
    if row["role"] == "admin" and row["active"]:
        if tx.value("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1") <= 1:
            raise Conflict("last_admin", "不能停用唯一的系统管理员账号")
    tx.execute("UPDATE users SET active = 0 WHERE id = ?", (user_id,))
    revoke_user_sessions(tx, user_id)
    tx.emit("user.deactivated", {"user_id": user_id})
    return user_json(tx.one("SELECT * FROM users WHERE id = ?", (user_id,)))


def activate_user(tx: Tx, user_id: int) -> dict[str, Any]:
    """Switch a deactivated account back on (its old sessions stay ended: it signs in afresh)."""
    row = user_by_id(tx, user_id)
    if not row["active"]:
        tx.execute("UPDATE users SET active = 1 WHERE id = ?", (user_id,))
        tx.emit("user.activated", {"user_id": user_id})
    return user_json(tx.one("SELECT * FROM users WHERE id = ?", (user_id,)))


def unlock_user(tx: Tx, user_id: int) -> dict[str, Any]:
    """Lift a user's login lock (a colleague mistyped, or someone guessed at the name)."""
    row = user_by_id(tx, user_id)
    was_locked = lockout.unlock(tx, row["username"])
    tx.emit("user.unlocked", {"user_id": user_id, "was_locked": was_locked})
    return {"user_id": user_id, "username": row["username"], "was_locked": was_locked}


def touch_session(tx: Tx, session_id: int) -> None:
    tx.execute("UPDATE sessions SET last_seen_at = ? WHERE id = ?", (tx.now, session_id))


def create_device(tx: Tx, name: str, kind: str, window_no: int | None) -> dict[str, Any]:
    token = new_token(DEVICE_PREFIX)
    cur = tx.execute(
        "INSERT INTO devices (name, kind, window_no, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        (name, kind, window_no, token_hash(token), tx.now),
    )
    device = device_json(tx.one("SELECT * FROM devices WHERE id = ?", (cur.lastrowid,)))
    tx.emit("device.created", {"device": device})
    return {**device, "token": token}


def revoke_device(tx: Tx, device_id: int) -> dict[str, Any]:
    row = tx.one("SELECT * FROM devices WHERE id = ?", (device_id,))
    if row is None:
        raise NotFound("device_not_found", f"没有编号为 {device_id} 的设备")
    if row["revoked_at"] is None:
        tx.execute("UPDATE devices SET revoked_at = ? WHERE id = ?", (tx.now, device_id))
        tx.emit("device.revoked", {"device_id": device_id})
    return device_json(tx.one("SELECT * FROM devices WHERE id = ?", (device_id,)))


# -- reads -----------------------------------------------------------------------


async def user_by_name(db: Database, username: str) -> sqlite3.Row | None:
    return await db.fetchone("SELECT * FROM users WHERE username = ?", (username,))


async def list_users(db: Database) -> list[dict[str, Any]]:
    return [user_json(r) for r in await db.fetchall("SELECT * FROM users ORDER BY id")]


async def open_sessions(db: Database, now: float) -> dict[int, int]:
    """Each user's sessions not ended, revoked or expired (idle ones included: they end on next use)."""
    rows = await db.fetchall(
        "SELECT user_id, COUNT(*) AS n FROM sessions WHERE revoked_at IS NULL AND expires_at > ? GROUP BY user_id",
        (now,),
    )
    return {r["user_id"]: r["n"] for r in rows}


async def list_devices(db: Database) -> list[dict[str, Any]]:
    return [device_json(r) for r in await db.fetchall("SELECT * FROM devices ORDER BY id")]


async def count_admins(db: Database) -> int:
    return await db.fetchval("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1")


async def principal_for_token(
    db: Database, token: str, now: float, idle_s: float = 0.0
) -> tuple[Principal, float] | None:
    """The caller a bearer token stands for, and until when; None if it is not valid.

    A session also ends when it has not been used for `idle_s` seconds (0: never idle out);
    each use found here moves its last use forward (at most once a minute: a write each time
    would cost the writer for nothing).
    """
    digest = token_hash(token)
    if token.startswith(SESSION_PREFIX):
        row = await db.fetchone(
            "SELECT s.id AS session_id, s.csrf_token, s.expires_at, COALESCE(s.last_seen_at, s.created_at) AS seen, "
            "u.id, u.username, u.role, u.staff_no "
            "FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND u.active = 1",
            (digest, now),
        )
        if row is None or (idle_s and row["seen"] <= now - idle_s):
            return None
        until = row["expires_at"]
        if idle_s:
            seen = row["seen"]
            if now - seen >= TOUCH_S:
                await db.write(touch_session, row["session_id"])
                seen = now
            until = min(until, seen + idle_s)
        return (
            Principal(
                kind="user",
                id=row["id"],
                name=row["username"],
                role=row["role"],
                staff_no=row["staff_no"],
                session_id=row["session_id"],
                csrf_token=row["csrf_token"],
            ),
            until,
        )
    if token.startswith(DEVICE_PREFIX):
        row = await db.fetchone(
            "SELECT id, name, kind, window_no FROM devices WHERE token_hash = ? AND revoked_at IS NULL", (digest,)
        )
        if row is None:
            return None
        principal = Principal(
            kind="device", id=row["id"], name=row["name"], device_kind=row["kind"], window_no=row["window_no"]
        )
        return principal, float("inf")
    return None


def staff_brief(tx: Tx, user_id: int | None) -> tuple[str | None, str | None]:
    """(name, staff number) of an account, for records that must name the person."""
    if user_id is None:
        return None, None
    row = tx.one("SELECT display_name, staff_no FROM users WHERE id = ?", (user_id,))
    return (row["display_name"], row["staff_no"]) if row is not None else (None, None)
