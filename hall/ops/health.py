"""`GET /healthz`: is every part of the hall working? No personal data, JSON, 200 or 503.

Each check answers `{"ok": bool, ...}`; the channels (phone, mailbox, WeChat)
are checked only when configured. Any failing check makes the answer 503 and
is named in `failing`, for the monitoring that pages the operator.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from ..auth.principal import access
from ..callcenter import intake
from ..callcenter.ami.service import PHONE
from ..callcenter.mail.service import MAIL_POLLER
from ..callcenter.wechat.inbox import WECHAT
from ..display.hub import HUB
from ..display.speech import RENDERER
from ..errors import StorageUnavailable
from ..keys import CLOCK, DB
from ..storage import Tx
from ..web.jsonio import respond

WRITE_TIMEOUT_S = 2.0
OUTBOX_STUCK_S = 900.0  # a message pending longer than this means a channel is not delivering
MAIL_STALE_POLLS = 3  # the mailbox is failing if no poll succeeded for this many intervals


def _probe(tx: Tx) -> None:
    tx.execute(
        "INSERT INTO health_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at", (tx.now,)
    )


async def database(app: web.Application) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        async with asyncio.timeout(WRITE_TIMEOUT_S):
            await app[DB].write(_probe)
    except TimeoutError:
        return {"ok": False, "error": f"a write did not commit in {WRITE_TIMEOUT_S:.0f} s"}
    except StorageUnavailable as e:
        return {"ok": False, "error": f"not writable: {e.detail.get('reason', e.code)}"}
    return {"ok": True, "write_ms": round((time.perf_counter() - start) * 1000, 1)}


def _writable(folder: Path) -> str | None:
    """None when a file can be created in `folder` (made if missing); else why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".healthz-"):
            pass
    except OSError as e:
        return f"{folder}: {e.strerror or e}"
    return None


async def files(app: web.Application) -> dict[str, Any]:
    """The folders Hall writes besides the database: citizens' attachments and the spoken calls."""
    folders = {"attachments": intake.attachment_dir(app)}
    if RENDERER in app:
        folders["announcements"] = app[RENDERER].cache_dir
    problems = await asyncio.to_thread(lambda: {k: e for k, f in folders.items() if (e := _writable(f))})
    return {"ok": not problems, **({"error": problems} if problems else {})}


def phone(app: web.Application) -> dict[str, Any] | None:
    if PHONE not in app:
        return None
    client = app[PHONE].client
    return {"ok": client.ready, "state": "logged_in" if client.ready else "disconnected", "logins": client.logins}


def mailbox(app: web.Application) -> dict[str, Any] | None:
    if MAIL_POLLER not in app:
        return None
    poller = app[MAIL_POLLER]
    now = time.monotonic()
    last = poller.last_ok
    stale = MAIL_STALE_POLLS * max(float(poller.settings.poll_seconds), 1.0) + 60.0
    if last is None:
        ok = poller.last_error is None  # still on its first poll
    else:
        ok = now - last < stale
    return {
        "ok": ok,
        "last_poll_ok_s_ago": None if last is None else round(now - last),
        "last_error": poller.last_error,
    }


def wechat(app: web.Application) -> dict[str, Any] | None:
    if WECHAT not in app:
        return None
    api = app[WECHAT].api
    return {"ok": api.token_error is None, "token": api.token_state, "error": api.token_error}


async def outbox(app: web.Application) -> dict[str, Any]:
    oldest = await app[DB].fetchval("SELECT min(created_at) FROM outbox WHERE status = 'pending'")
    age = None if oldest is None else max(0.0, app[CLOCK].now() - oldest)
    return {"ok": age is None or age < OUTBOX_STUCK_S, "oldest_pending_s": None if age is None else round(age)}


def screens(app: web.Application) -> dict[str, Any]:
    return {"ok": True, "connected": len(app[HUB].connections) if HUB in app else 0}


@access(public=True)
async def healthz(request: web.Request) -> web.Response:
    app = request.app
    checks: dict[str, Any] = {"database": await database(app)}
    for name, check in (("ami", phone), ("imap", mailbox), ("wechat", wechat)):
        result = check(app)
        if result is not None:
            checks[name] = result
    checks["files"] = await files(app)
    checks["outbox"] = await outbox(app)
    checks["screens"] = screens(app)
    failing = [name for name, c in checks.items() if not c["ok"]]
    body = {"status": "failing" if failing else "ok", "failing": failing, "checks": checks}
    response = respond(body, status=503 if failing else 200)
    response.headers["Cache-Control"] = "no-store"
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz, name="healthz")
