"""Accounts (账号): login, logout, who am I, users and devices."""

from __future__ import annotations

from ...auth.principal import DEVICE_KINDS, ROLES
from ...auth.views import USERNAME
from .components import BOOL, INT, OK, STR, array, enum, integer, maybe, obj, op, path, text

TAG = "账号与设备"

USER = obj(
    {
        "id": INT,
        "username": STR,
        "display_name": STR,
        "staff_no": maybe("string"),
        "role": enum(ROLES),
        "department": maybe("string"),
        "active": {"type": ["boolean", "integer"]},
    },
    ["id", "username", "role"],
)
LISTED_USER = obj(
    {
        **USER["properties"],
        "open_sessions": INT,
        "locked_until": {**maybe("string"), "description": "登录锁定到何时(ISO 8601);未锁定为 null"},
    },
    ["id", "username", "role", "open_sessions", "locked_until"],
)
DEVICE = obj(
    {"id": INT, "name": STR, "kind": enum(DEVICE_KINDS), "window": maybe("integer")},
    ["id", "name", "kind"],
)
CALLER = obj(
    {
        "kind": enum(("user", "device")),
        "id": INT,
        "username": STR,
        "role": enum(ROLES),
        "staff_no": maybe("string"),
        "name": STR,
        "device_kind": enum(DEVICE_KINDS),
        "window": maybe("integer"),
    },
    ["kind", "id"],
)

PATHS = {
    "/api/auth/login": {
        "post": op(
            "登录,得到令牌(也设置页面会话 Cookie)",
            body=obj({"username": text(32), "password": text(256, min_len=1)}, ["username", "password"], closed=True),
            answer=obj(
                {"token": STR, "csrf_token": STR, "expires_at": {}, "user": USER},
                ["token", "user"],
            ),
        )
    },
    "/api/auth/logout": {"post": op("退出登录:吊销本次会话的令牌", answer=OK)},
    "/api/auth/me": {"get": op("我是谁(用户或设备)", answer=CALLER)},
    "/api/users": {
        "get": op("所有账号,及其未退出的登录数和登录锁定", answer=obj({"users": array(LISTED_USER)}, ["users"])),
        "post": op(
            "新建账号",
            body=obj(
                {
                    "username": text(32, pattern=USERNAME),
                    "password": text(256, min_len=8),
                    "role": enum(ROLES),
                    "display_name": text(40),
                    "staff_no": text(20, pattern=r"[A-Za-z0-9-]+"),
                    "department": text(60),
                },
                ["username", "password", "role"],
                closed=True,
            ),
            answer=USER,
            status=201,
        ),
    },
    "/api/users/{id}/deactivate": {
        "post": op("停用账号(并吊销它的令牌)", params=[path("id", description="用户编号")], answer=USER),
    },
    "/api/users/{id}/activate": {
        "post": op("重新启用停用的账号(需重新登录)", params=[path("id", description="用户编号")], answer=USER),
    },
    "/api/users/{id}/password": {
        "post": op(
            "重设账号的密码(该账号所有登录失效,登录锁定解除)",
            params=[path("id", description="用户编号")],
            body=obj({"password": text(256, min_len=8)}, ["password"], closed=True),
            answer=obj({"user_id": INT, "username": STR}, ["user_id", "username"]),
        ),
    },
    "/api/users/{id}/unlock": {
        "post": op(
            "解除账号的登录锁定(来源地址的锁定不变)",
            params=[path("id", description="用户编号")],
            answer=obj({"user_id": INT, "username": STR, "was_locked": BOOL}, ["user_id", "username", "was_locked"]),
        ),
    },
    "/api/login-locks": {
        "get": op(
            "被锁定的来源地址(连续输错密码过多)",
            answer=obj(
                {
                    "addresses": array(
                        obj(
                            {"address": STR, "failures": INT, "locked_until": STR},
                            ["address", "failures", "locked_until"],
                        )
                    )
                },
                ["addresses"],
            ),
        ),
    },
    "/api/login-locks/unlock": {
        "post": op(
            "解除一个来源地址的登录锁定",
            body=obj({"address": text(64, min_len=1, pattern=r"[0-9A-Fa-f.:]+")}, ["address"], closed=True),
            answer=obj({"address": STR, "was_locked": BOOL}, ["address", "was_locked"]),
        ),
    },
    "/api/users/{id}/revoke-sessions": {
        "post": op(
            "让一个账号在所有地方退出登录",
            params=[path("id", description="用户编号")],
            answer=obj({"user_id": INT, "revoked_sessions": INT}, ["user_id", "revoked_sessions"]),
        ),
    },
    "/api/devices": {
        "get": op("所有设备", answer=obj({"devices": array(DEVICE)}, ["devices"])),
        "post": op(
            "登记设备:回答中的令牌只出现这一次",
            body=obj(
                {"name": text(60, min_len=1), "kind": enum(DEVICE_KINDS), "window": integer(1)},
                ["name", "kind"],
                closed=True,
            ),
            answer=obj({"device": DEVICE, "token": STR}, ["token"]),
            status=201,
        ),
    },
    "/api/devices/{id}/revoke": {
        "post": op("吊销设备令牌", params=[path("id", description="设备编号")], answer=obj({"active": BOOL})),
    },
}
