"""`python -m hall`: serve the hall, and manage accounts and devices.

Every command takes --config and --db, so several halls can run side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import getpass
import logging
import os
import signal
import sys
import unicodedata
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from . import config as config_mod
from .auth import lockout
from .auth import store as auth_store
from .auth.bootstrap import ensure_admin
from .auth.passwords import hash_password
from .auth.principal import DEVICE_KINDS, ROLES
from .auth.startup import refuse_unsafe_start
from .auth.views import MIN_PASSWORD
from .clock import Clock
from .errors import HallError
from .evaluation.settings import EVALUATION_SETTINGS
from .ops import logs as ops_logs
from .ops.backup import cmd_backup, cmd_restore
from .privacy import retention
from .server import SCHEMAS, create_app
from .storage import Database
from .web.pages import PAGES

log = logging.getLogger("hall")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        config = config_mod.load(args.config)
    except config_mod.ConfigError as e:
        print(f"配置错误 / config error: {e}", file=sys.stderr)
        return 2
    db_path = Path(args.db) if args.db else config.db_path()
    try:
        return _run(args.run(args, config, db_path))
    except HallError as e:
        print(f"{e.code}: {e.message}", file=sys.stderr)
        return 1


def _run(coro: Awaitable[int]) -> int:
    try:
        import uvloop
    except ImportError:  # Windows: the standard loop
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hall", description="Hall 政务服务大厅排队叫号系统")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default="config.toml", help="hall config file (default: config.toml)")
    common.add_argument("--db", help="SQLite database file (default: [server] db in the config)")
    sub = parser.add_subparsers(metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="start the server")
    serve.add_argument("--host", help="address to listen on (default: [server] host)")
    serve.add_argument("--port", type=int, help="port to listen on (default: [server] port)")
    serve.add_argument(
        "--log-format",
        choices=ops_logs.FORMATS,
        default=os.environ.get("HALL_LOG_FORMAT", "text"),
        help="text, or json: one JSON object a line (default: $HALL_LOG_FORMAT or text)",
    )
    serve.set_defaults(run=cmd_serve)

    user = sub.add_parser("user", help="staff accounts").add_subparsers(metavar="ACTION")
    add = user.add_parser("add", parents=[common], help="add an account; the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--display-name", help="the person's name as shown on screens")
    add.add_argument("--staff-no", help="staff number (工号)")
    add.add_argument("--department", default="")
    add.set_defaults(run=cmd_user_add)
    passwd = user.add_parser("passwd", parents=[common], help="set a password (read from stdin)")
    passwd.add_argument("name")
    passwd.set_defaults(run=cmd_user_passwd)
    unlock = user.add_parser("unlock", parents=[common], help="lift a login lock after too many wrong passwords")
    unlock.add_argument("name", nargs="?", help="the username")
    unlock.add_argument("--address", help="instead of a name, a client address locked for too many failures")
    unlock.set_defaults(run=cmd_user_unlock)
    user.add_parser("list", parents=[common], help="list accounts").set_defaults(run=cmd_user_list)

    device = sub.add_parser("device", help="kiosks, screens and rating pads").add_subparsers(metavar="ACTION")
    dadd = device.add_parser("add", parents=[common], help="register a device; prints its token once")
    dadd.add_argument("name")
    dadd.add_argument("--kind", required=True, choices=DEVICE_KINDS)
    dadd.add_argument("--window", type=int, help="the window a pad or window screen belongs to")
    dadd.set_defaults(run=cmd_device_add)
    device.add_parser("list", parents=[common], help="list devices").set_defaults(run=cmd_device_list)
    revoke = device.add_parser("revoke", parents=[common], help="revoke a device token")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=cmd_device_revoke)

    backup = sub.add_parser("backup", parents=[common], help="copy the database while the server runs; verify it")
    backup.add_argument("out", help="the backup file to write")
    backup.set_defaults(run=cmd_backup)
    restore = sub.add_parser("restore", parents=[common], help="put a backup in place of the database (server stopped)")
    restore.add_argument("backup", help="the backup file to restore")
    restore.set_defaults(run=cmd_restore)

    privacy = sub.add_parser("privacy", help="citizens' personal data").add_subparsers(metavar="ACTION")
    anon = privacy.add_parser(
        "anonymise", parents=[common], help="anonymise personal data older than a date (as the daily sweep does)"
    )
    anon.add_argument("--before", required=True, type=dt.date.fromisoformat, help="first day kept, YYYY-MM-DD")
    anon.set_defaults(run=cmd_privacy_anonymise)

    sub.add_parser("settings", parents=[common], help="list every setting with its default").set_defaults(
        run=cmd_settings
    )
    return parser


# -- serve ------------------------------------------------------------------------------


async def cmd_serve(args: argparse.Namespace, config: config_mod.Config, db_path: Path) -> int:
    refuse_unsafe_start(config, os.environ)  # outside demo mode: no demo, weak or committed secrets
    ops_logs.configure(args.log_format)
    host = args.host or config.server.host
    port = args.port or config.server.port
    app = create_app(config, db_path=db_path)
    # [server] access_log: one line a request, with its id, from the request middleware
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        admin = await ensure_admin(app, os.environ.get("HALL_ADMIN_PASSWORD") or None)
        site = web.TCPSite(runner, host, port, backlog=1024)
        try:
            await site.start()
        except OSError as e:
            print(f"无法监听 {host}:{port}: {e.strerror}", file=sys.stderr)
            return 1
        _banner(config, db_path, host, port, admin)
        tune_gc()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except NotImplementedError:  # Windows
                pass
        await stop.wait()
        print("Hall 正在停止 / stopping", flush=True)
    finally:
        await runner.cleanup()
    return 0


def tune_gc() -> None:
    """Fewer, cheaper garbage collections for a long-running server.

    What start-up created lives as long as the process: frozen, full
    collections no longer walk it. A larger first generation means fewer
    collections under load (a full one measured 100–200 ms with a thousand
    screens connected, stalling every call).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _banner(config: config_mod.Config, db_path: Path, host: str, port: int, admin: Any) -> None:
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    lines = [
        "",
        f"Hall — {config.name}",
        f"  running at {base}   (database {db_path})",
        "  pages:",
        *[f"    {_pad(name, 22)} {base}{path}" for path, name in PAGES],
        f"    {_pad('API', 22)} {base}/api/…  (README.md, section API)",
        "  first admin login:",
    ]
    if admin.password is not None and admin.source == "generated":
        lines.append(f"    user {admin.username}   password {admin.password}   (generated, shown only this once)")
    elif admin.password is not None:
        lines.append(f"    user {admin.username}   password from HALL_ADMIN_PASSWORD")
    else:
        lines.append(
            f"    user {admin.username}   (password shown at first start; reset: "
            "python -m hall user passwd admin, or start with HALL_ADMIN_PASSWORD)"
        )
    lines.append("")
    print("\n".join(lines), flush=True)


def _pad(text: str, width: int) -> str:
    """Pad to a terminal width, counting Chinese characters as two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)


# -- accounts and devices ------------------------------------------------------------------


async def _with_db(db_path: Path, fn: Callable[[Database], Awaitable[int]]) -> int:
    db = Database(db_path, Clock(), SCHEMAS, readers=1)
    await db.open()
    try:
        return await fn(db)
    finally:
        await db.close()


def _read_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("密码 / password: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        raise HallError("weak_password", f"密码至少 {MIN_PASSWORD} 位")
    return password


async def cmd_user_add(args: argparse.Namespace, config: config_mod.Config, db_path: Path) -> int:
    password = _read_password()
    hashed = await asyncio.to_thread(hash_password, password, config.auth.scrypt_n)

    async def add(db: Database) -> int:
        user = await db.write(
            auth_store.create_user,
            args.name,
            args.display_name or args.name,
            args.role,
            hashed,
            args.staff_no,
            args.department,
        )
        print(f"added {user['role']} {user['username']} (id {user['id']})")
        return 0

    return await _with_db(db_path, add)


async def cmd_user_passwd(args: argparse.Namespace, config: config_mod.Config, db_path: Path) -> int:
    password = _read_password()
    hashed = await asyncio.to_thread(hash_password, password, config.auth.scrypt_n)

    async def change(db: Database) -> int:
        await db.write(auth_store.set_password, args.name, hashed)
        print(f"password of {args.name} changed; their open sessions are ended and any login lock lifted")
        return 0

    return await _with_db(db_path, change)


async def cmd_user_unlock(args: argparse.Namespace, config: config_mod.Config, db_path: Path) -> int:
    if (args.name is None) == (args.address is None):
        raise HallError("invalid_arguments", "请给出一个用户名,或用 --address 给出一个地址 / give a NAME or --address")

    async def unlock(db: Database) -> int:
        if args.address is not None:
            was_locked = await db.write(lockout.unlock_address, args.address)
            print(f"address {args.address}: " + ("login lock lifted" if was_locked else "was not locked"))
            return 0
        row = await auth_store.user_by_name(db, args.name)
        if row is None:
            raise HallError("user_not_found", f"没有用户 {args.name}")
        result = await db.write(auth_store.unlock_user, row["id"])
        print(f"{args.name}: " + ("login lock lifted" if result["was_locked"] else "was not locked"))
        return 0

    return await _with_db(db_path, unlock)


async def cmd_user_list(args: argparse.Namespace, config: config_mod.Config, db_path: Path) -> int:
    async def show(db: Database) -> int:
        for u in await auth_store.list_users(db):
            state = "" if u["active"] else "  (disabled)"
            print(f"{u['id']:>4}  {u['username']:<16} {u['role']:<8} {u['display_name']}  {u['staff_no'] or ''}{state}")
        return 0

    return await _with_db(db_path, show)


async def cmd_device_add(args: argparse.Namespace, config: config_mod.Config, db_path: Path) -> int:
    if args.window is not None and config.window(args.window) is None:
        raise HallError("window_not_found", f"没有 {args.window} 号窗口")

    async def add(db: Database) -> int:
        device = await db.write(auth_store.create_device, args.name, args.kind, args.window)
        print(f"added {device['kind']} {device['name']} (id {device['id']})", file=sys.stderr)
        print("token (shown only this once):", file=sys.stderr)
        print(device["token"], flush=True)
        return 0

    return await _with_db(db_path, add)


async def cmd_device_list(args: argparse.Namespace, config: config_mod.Config, db_path: Path) -> int:
    async def show(db: Database) -> int:
        for d in await auth_store.list_devices(db):
            state = "  (revoked)" if d["revoked"] else ""
            window = f" window {d['window']}" if d["window"] else ""
            print(f"{d['id']:>4}  {d['kind']:<8} {d['name']}{window}{state}")
        return 0

    return await _with_db(db_path, show)


async def cmd_device_revoke(args: argparse.Namespace, config: config_mod.Config, db_path: Path) -> int:
    async def revoke(db: Database) -> int:
        device = await db.write(auth_store.revoke_device, args.id)
        print(f"revoked {device['kind']} {device['name']} (id {device['id']})")
        return 0

    return await _with_db(db_path, revoke)


async def cmd_privacy_anonymise(args: argparse.Namespace, config: config_mod.Config, db_path: Path) -> int:
    async def run(db: Database) -> int:
        counts = await retention.anonymise(db, args.before, config.tz)
        print(f"anonymised before {args.before}: " + ", ".join(f"{k} {n}" for k, n in counts.items()))
        return 0

    return await _with_db(db_path, run)


async def cmd_settings(args: argparse.Namespace, config: config_mod.Config, db_path: Path) -> int:
    groups = {
        "server": config_mod.SERVER_SETTINGS,
        "queue": config_mod.QUEUE_SETTINGS,
        "queue.priority": config_mod.PRIORITY_SETTINGS,
        "auth": config_mod.AUTH_SETTINGS,
        "limits": config_mod.LIMIT_SETTINGS,
        "kiosk": config_mod.KIOSK_SETTINGS,
        "notify": config_mod.NOTIFY_SETTINGS,
        "appointments": config_mod.APPOINTMENT_SETTINGS,
        "voice": config_mod.VOICE_SETTINGS,
        "privacy": config_mod.PRIVACY_SETTINGS,
        "evaluation": EVALUATION_SETTINGS,
    }
    for table, settings in groups.items():
        print(f"[{table}]")
        for s in settings:
            print(f"  {s.name} = {s.default!r}\n      {s.help}")
    return 0
