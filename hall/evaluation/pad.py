"""The rating pad (评价器) of a window: its page and the service detail it shows."""

from __future__ import annotations

from aiohttp import web

from ..auth.middleware import PRINCIPAL
from ..auth.principal import STAFF, Principal, access
from ..config import Config, Window
from ..errors import Conflict, Forbidden, NotFound
from ..keys import CLOCK, CONFIG, DB
from ..queue import store as queue_store
from ..web.jsonio import respond
from ..web.pages import render
from . import service_detail
from .ratings import PAD_WINDOW_S

THANKS_SECONDS = 6  # the thank-you screen, before the pad returns to idle


def _window(config: Config, raw: str) -> Window:
    window = config.window(int(raw)) if raw.isdigit() and len(raw) < 7 else None
    if window is None:
        raise NotFound("window_not_found", f"没有 {raw} 号窗口")
    return window


def _bound_window(who: Principal) -> int:
    if who.window_no is None:
        raise Forbidden("pad_not_bound", "这台评价器没有绑定窗口,请管理员登记时指定窗口(--window)")
    return who.window_no


@access(roles=STAFF, devices=("pad",))
async def pad_page(request: web.Request) -> web.Response:
    """The pad's page: a pad opens only its own window's; staff may preview any."""
    config = request.app[CONFIG]
    window = _window(config, request.match_info["no"])
    who = request[PRINCIPAL]
    if who.kind == "device" and _bound_window(who) != window.no:
        raise Forbidden(
            "not_this_window", f"这台评价器属于 {who.window_no} 号窗口,不能打开 {window.no} 号窗口的评价页面"
        )
    return render(
        request,
        "evaluation/pad.html",
        window=window,
        grades=service_detail.grade_choices(config),
        idle_seconds=config.evaluation.pad_idle_seconds,
        thanks_seconds=min(THANKS_SECONDS, config.evaluation.pad_idle_seconds),
        preview=who.kind == "user",
    )


@access(roles=STAFF, devices=("pad",))
async def service(request: web.Request) -> web.Response:
    """`GET /api/ratings/service/{ticket_id}`: the service a rating of this ticket would record.

    A pad sees only the services of its own window.
    """
    config, db = request.app[CONFIG], request.app[DB]
    raw = request.match_info["ticket_id"]
    ticket_id = int(raw) if raw.isdigit() and len(raw) < 13 else 0
    who = request[PRINCIPAL]
    pad_window = _bound_window(who) if who.kind == "device" else None
    row = await service_detail.served(db, config, ticket_id) if ticket_id else None
    if row is None:
        if ticket_id and await queue_store.get_ticket(db, ticket_id) is not None:
            raise Conflict("not_served", "这张号票还没有办理完毕,办结后才能评价")
        raise NotFound("ticket_not_found", f"没有编号为 {raw} 的号票")
    if pad_window is not None and row["window_no"] != pad_window:
        raise Forbidden("not_this_window", "这项业务不是在本窗口办理的,不能在本窗口评价器上评价")
    rated = row["rated"] != 0
    recent = request.app[CLOCK].now() - row["finished_at"] <= PAD_WINDOW_S
    return respond({**service_detail.service_json(row, config), "rated": rated, "pad_open": recent and not rated})


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/pad/{no}", pad_page, name="pad_page")
    r.add_get("/api/ratings/service/{ticket_id}", service, name="rating_service")
