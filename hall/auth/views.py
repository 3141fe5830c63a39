"""HTTP API of accounts: login, logout, who am I, users and devices."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ..clock import iso
from ..errors import BadRequest, NotFound, Unauthorized
from ..keys import CLOCK, CONFIG, DB
from ..storage import Tx
from ..web import validation as v
from ..web.forwarded import client_address, over_https
from ..web.jsonio import read_json, respond
from . import lockout, store
from .middleware import AUTHENTICATOR, COOKIE, PRINCIPAL
from .passwords import dummy_hash, hash_password, verify_password
from .principal import ADMINS, DEVICE_KINDS, MANAGERS, ROLES, access

USERNAME = r"[A-Za-z0-9_.-]{2,32}"

MIN_PASSWORD = 8


async def check_login(request: web.Request, username: str, password: str) -> dict:
    """Verify a username and password and open a session; raise 401 if they do not match."""
    app = request.app
    config = app[CONFIG]
    row = await store.user_by_name(app[DB], username)
    auth = app[AUTHENTICATOR]
    if auth.dummy_hash is None:
        auth.dummy_hash = await asyncio.to_thread(dummy_hash, config.auth.scrypt_n)
    keys = lockout.Keys.of(username, client_address(request, config.server.trusted_proxies))
    now = app[CLOCK].now()
    until = await lockout.locked_until(app[DB], keys)
    if until > now:  # refused before the hash: a locked name learns nothing, not even from timing
        raise lockout.locked(until - now)
    stored = row["password_hash"] if row is not None else auth.dummy_hash
    async with auth.hashing:
        ok = await asyncio.to_thread(verify_password, password, stored)
    if row is None or not ok or not row["active"]:
        until = await app[DB].write(lockout.record_failure, keys, config.auth)
        if until > now:
            raise lockout.locked(until - now)
        raise Unauthorized("invalid_credentials", "用户名或密码错误")

    def succeed(tx: Tx) -> dict:
        lockout.clear(tx, keys)
        return store.open_session(tx, row["id"], config.auth.session_hours)

    session = await app[DB].write(succeed)
    return {**session, "user": store.user_json(row)}


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    config = request.app[CONFIG]
    secure = over_https(request, config.server.trusted_proxies)
    max_age = config.auth.session_hours * 3600
    response.set_cookie(COOKIE, token, max_age=max_age, httponly=True, samesite="Lax", path="/", secure=secure)


@access(public=True, session=False)
async def login(request: web.Request) -> web.Response:
    body = await read_json(request)
    v.only(body, ("username", "password"))
    username = v.text(body, "username", required=True, max_len=32)
    password = body.get("password")
    if not isinstance(password, str) or not password or len(password) > 256:
        raise BadRequest("invalid_field", "缺少字段 password,或密码格式不正确", field="password")
    result = await check_login(request, username, password)
    response = respond(result)
    set_session_cookie(request, response, result["token"])
    return response


@access(roles=frozenset(ROLES))
async def logout(request: web.Request) -> web.Response:
    who = request[PRINCIPAL]
    await request.app[DB].write(store.revoke_session, who.session_id)
    request.app[AUTHENTICATOR].forget()
    response = respond({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


@access(roles=frozenset(ROLES), devices=DEVICE_KINDS)
async def me(request: web.Request) -> web.Response:
    return respond(request[PRINCIPAL].as_json())


async def users_with_state(app: web.Application) -> list[dict]:
    """Every account with its open sessions and, when locked out, until when."""
    db, tz, now = app[DB], app[CONFIG].tz, app[CLOCK].now()
    users = await store.list_users(db)
    sessions = await store.open_sessions(db, now)
    locks = await lockout.user_locks(db, now)
    for user in users:
        user["open_sessions"] = sessions.get(user["id"], 0)
        user["locked_until"] = iso(locks.get(user["username"].lower()), tz)
    return users


@access(roles=MANAGERS)
async def list_users(request: web.Request) -> web.Response:
    return respond({"users": await users_with_state(request.app)})


@access(roles=ADMINS)
async def create_user(request: web.Request) -> web.Response:
    body = await read_json(request)
    v.only(body, ("username", "password", "role", "display_name", "staff_no", "department"))
    username = v.text(body, "username", required=True, max_len=32, pattern=USERNAME)
    role = v.choice(body, "role", ROLES, required=True)
    password = body.get("password")
    validate_password(password)
    user = await add_user(
        request.app,
        username,
        password,
        role,
        v.text(body, "display_name", max_len=40) or username,
        v.text(body, "staff_no", max_len=20, pattern=r"[A-Za-z0-9-]+"),
        v.text(body, "department", max_len=60) or "",
    )
    return respond(user, status=201)


def validate_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD or len(password) > 256:
        raise BadRequest("weak_password", f"密码至少 {MIN_PASSWORD} 位", field="password")
    return password


async def hash_for(app: web.Application, password: str) -> str:
    """A scrypt hash, off the event loop and at most two at once (each takes 16 MiB)."""
    async with app[AUTHENTICATOR].hashing:
        return await asyncio.to_thread(hash_password, password, app[CONFIG].auth.scrypt_n)


async def add_user(
    app: web.Application,
    username: str,
    password: str,
    role: str,
    display_name: str,
    staff_no: str | None,
    department: str,
) -> dict:
    hashed = await hash_for(app, password)
    return await app[DB].write(store.create_user, username, display_name, role, hashed, staff_no, department)


def _user_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise NotFound("user_not_found", f"没有编号为 {raw[:20]} 的用户")
    return int(raw)


@access(roles=ADMINS)
async def revoke_user_sessions(request: web.Request) -> web.Response:
    """Sign a user out everywhere (a lost phone or laptop); the account itself stays."""
    user_id = _user_id(request)
    count = await request.app[DB].write(store.revoke_user_sessions, user_id)
    request.app[AUTHENTICATOR].forget()
    return respond({"user_id": user_id, "revoked_sessions": count})


@access(roles=ADMINS)
async def deactivate_user(request: web.Request) -> web.Response:
    user = await request.app[DB].write(store.deactivate_user, _user_id(request))
    request.app[AUTHENTICATOR].forget()
    return respond(user)


@access(roles=ADMINS)
async def reset_password(request: web.Request) -> web.Response:
    """An admin sets a new password (a forgotten one): the user's sessions end and a login lock is lifted."""
    user_id = _user_id(request)
    body = await read_json(request)
    v.only(body, ("password",))
    password = validate_password(body.get("password"))
    app = request.app
    hashed = await hash_for(app, password)

    def change(tx: Tx) -> dict:
        row = store.user_by_id(tx, user_id)
        store.set_password(tx, row["username"], hashed)
        return {"user_id": user_id, "username": row["username"]}

    result = await app[DB].write(change)
    app[AUTHENTICATOR].forget()
    return respond(result)


@access(roles=ADMINS)
async def activate_user(request: web.Request) -> web.Response:
    user = await request.app[DB].write(store.activate_user, _user_id(request))
    request.app[AUTHENTICATOR].forget()
    return respond(user)


@access(roles=ADMINS)
async def unlock_user(request: web.Request) -> web.Response:
    """Lift a login lock before it runs out (the locks of addresses stay)."""
    return respond(await request.app[DB].write(store.unlock_user, _user_id(request)))


async def locked_addresses(app: web.Application) -> list[dict]:
    tz = app[CONFIG].tz
    locks = await lockout.address_locks(app[DB], app[CLOCK].now())
    return [{**lock, "locked_until": iso(lock["locked_until"], tz)} for lock in locks]


@access(roles=ADMINS)
async def list_address_locks(request: web.Request) -> web.Response:
    return respond({"addresses": await locked_addresses(request.app)})


@access(roles=ADMINS)
async def unlock_address(request: web.Request) -> web.Response:
    """Lift the lock of a client address (the people behind it may all be staff)."""
    body = await read_json(request)
    v.only(body, ("address",))
    address = v.text(body, "address", required=True, max_len=64, pattern=r"[0-9A-Fa-f.:]+")
    was_locked = await request.app[DB].write(lockout.unlock_address, address)
    return respond({"address": address, "was_locked": was_locked})


@access(roles=MANAGERS)
async def list_devices(request: web.Request) -> web.Response:
    return respond({"devices": await store.list_devices(request.app[DB])})


@access(roles=MANAGERS)
async def create_device(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    body = await read_json(request)
    v.only(body, ("name", "kind", "window"))
    name = v.text(body, "name", required=True, max_len=60)
    kind = v.choice(body, "kind", DEVICE_KINDS, required=True)
    window = v.integer(body, "window", low=1)
    if window is not None and config.window(window) is None:
        raise BadRequest("window_not_found", f"没有 {window} 号窗口", field="window")
    return respond(await request.app[DB].write(store.create_device, name, kind, window), status=201)


@access(roles=MANAGERS)
async def revoke_device(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise NotFound("device_not_found", f"没有编号为 {raw} 的设备")
    device = await request.app[DB].write(store.revoke_device, int(raw))
    request.app[AUTHENTICATOR].forget()
    return respond(device)


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/auth/login", login, name="login")
    r.add_post("/api/auth/logout", logout, name="logout")
    r.add_get("/api/auth/me", me, name="me")
    r.add_get("/api/users", list_users, name="list_users")
    r.add_post("/api/users", create_user, name="create_user")
    r.add_post("/api/users/{id}/deactivate", deactivate_user, name="deactivate_user")
    r.add_post("/api/users/{id}/activate", activate_user, name="activate_user")
    r.add_post("/api/users/{id}/password", reset_password, name="reset_password")
    r.add_post("/api/users/{id}/unlock", unlock_user, name="unlock_user")
    r.add_post("/api/users/{id}/revoke-sessions", revoke_user_sessions, name="revoke_user_sessions")
    r.add_get("/api/login-locks", list_address_locks, name="list_address_locks")
    r.add_post("/api/login-locks/unlock", unlock_address, name="unlock_address")
    r.add_get("/api/devices", list_devices, name="list_devices")
    r.add_post("/api/devices", create_device, name="create_device")
    r.add_post("/api/devices/{id}/revoke", revoke_device, name="revoke_device")
