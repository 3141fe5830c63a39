"""HTTP API of the queue: tickets, windows and the hall overview."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..auth.middleware import PRINCIPAL
from ..auth.principal import STAFF, access
from ..clock import business_day
from ..errors import BadRequest, NotFound, Unauthorized
from ..keys import CLOCK, CONFIG, DB
from ..web import validation as v
from ..web.jsonio import read_json, respond
from . import issuing, overview, store, windows
from .present import ticket_json
from .rules import OUTCOMES, STATUSES


@access(roles=STAFF, devices=("kiosk",), public=True)
async def issue_ticket(request: web.Request) -> web.Response:
    config, db = request.app[CONFIG], request.app[DB]
    body = await read_json(request)
    req = issuing.parse_issue(body, request[PRINCIPAL], config, request.app[CLOCK].now())
    result, replay = await db.write(issuing.issue, config, req)
    return respond(result, status=200 if replay else 201)


@access(roles=STAFF)
async def list_tickets(request: web.Request) -> web.Response:
    config, db = request.app[CONFIG], request.app[DB]
    q = request.query
    day = q.get("day") or business_day(request.app[CLOCK].now(), config.tz)
    v.text({"day": day}, "day", pattern=r"\d{4}-\d{2}-\d{2}")
    status = v.choice(dict(q), "status", STATUSES)
    section = q.get("section")
    if section is not None and config.section(section) is None:
        raise BadRequest("unknown_section", f"没有业务板块 {section}", field="section")
    limit = v.query_int(q, "limit", 200, 1, 1000)
    rows = await store.list_tickets(db, day, section, status, limit)
    return respond({"day": day, "tickets": [ticket_json(r, config) for r in rows]})


def _ticket_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise NotFound("ticket_not_found", f"没有编号为 {raw} 的号票")
    return int(raw)


async def _ticket_for(request: web.Request, token: Any) -> store.Row:
    """The ticket named in the path, if the caller is staff or holds its secret token."""
    db = request.app[DB]
    row = await store.get_ticket(db, _ticket_id(request))
    who = request[PRINCIPAL]
    if who is not None and who.kind == "user" and who.role in STAFF:
        if row is None:
            raise NotFound("ticket_not_found", "没有这张号票")
        return row
    if token is None:
        raise Unauthorized("unauthenticated", "查看号票需要登录,或提供号票上的查询码 token")
    if row is None or not isinstance(token, str) or not hmac.compare_digest(row["token"].encode(), token.encode()):
        raise NotFound("ticket_not_found", "没有这张号票,或查询码不正确")
    return row


@access(roles=STAFF, public=True)
async def get_ticket(request: web.Request) -> web.Response:
    config, db = request.app[CONFIG], request.app[DB]
    row = await _ticket_for(request, request.query.get("token"))
    return respond(await overview.ticket_with_wait(db, config, row, request.app[CLOCK].now()))


@access(roles=STAFF, public=True)
async def cancel_ticket(request: web.Request) -> web.Response:
    config, db = request.app[CONFIG], request.app[DB]
    body = await read_json(request, optional=True)
    v.only(body, ("token",))
    row = await _ticket_for(request, body.get("token"))
    who = request[PRINCIPAL]
    by = who.key if who is not None and who.kind == "user" else "citizen"
    return respond(await db.write(issuing.cancel, config, row["id"], by))


@access(roles=STAFF, devices=("kiosk", "display", "pad"))
async def hall_overview(request: web.Request) -> web.Response:
    return respond(await overview.hall(request.app[DB], request.app[CONFIG], request.app[CLOCK].now()))


@access(roles=STAFF)
async def list_windows(request: web.Request) -> web.Response:
    data = await overview.hall(request.app[DB], request.app[CONFIG], request.app[CLOCK].now())
    return respond({"windows": data["windows"]})


@access(roles=STAFF)
async def get_window(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    no = _window_no(request)
    return respond(await overview.window_detail(request.app[DB], config, no, request.app[CLOCK].now()))


def _window_no(request: web.Request) -> int:
    raw = request.match_info["no"]
    if not raw.isdigit() or len(raw) > 6 or request.app[CONFIG].window(int(raw)) is None:
        raise NotFound("window_not_found", f"没有 {raw} 号窗口")
    return int(raw)


# -- window actions: each is (fields accepted, how to call the unit) ---------------------

TICKET_ID = ("ticket_id",)


def _ticket_arg(body: dict[str, Any]) -> dict[str, Any]:
    return {"ticket_id": v.integer(body, "ticket_id", low=1)}


def _finish_args(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "outcome": v.choice(body, "outcome", tuple(OUTCOMES)) or "done",
        "matter": v.text(body, "matter", max_len=100),
        "note": v.text(body, "note", max_len=500),
        "assisted_by": v.text(body, "assisted_by", max_len=32),
        **_ticket_arg(body),
    }


def _transfer_args(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "to_section": v.text(body, "section", max_len=8),
        "to_window": v.integer(body, "window", low=1, high=999_999),
        "note": v.text(body, "note", max_len=500),
        **_ticket_arg(body),
    }


def _requeue_args(body: dict[str, Any]) -> dict[str, Any]:
    return {"ticket_id": v.integer(body, "ticket_id", required=True, low=1)}


ACTIONS: dict[str, tuple[tuple[str, ...], Callable, Callable[[dict], dict]]] = {
    "open": ((), windows.open_window, lambda b: {}),
    "pause": ((), windows.pause, lambda b: {}),
    "resume": ((), windows.resume, lambda b: {}),
    "close": ((), windows.close, lambda b: {}),
    "call": (TICKET_ID, windows.call, _ticket_arg),
    "recall": (TICKET_ID, windows.recall, _ticket_arg),
    "start": (TICKET_ID, windows.start, _ticket_arg),
    "no-show": (TICKET_ID, windows.no_show, _ticket_arg),
    "hold": (TICKET_ID, windows.hold, _ticket_arg),
    "finish": (("outcome", "matter", "note", "assisted_by", "ticket_id"), windows.finish, _finish_args),
    "transfer": (("section", "window", "note", "ticket_id"), windows.transfer, _transfer_args),
    "requeue": (TICKET_ID, windows.requeue, _requeue_args),
}


def window_action(action: str) -> Callable:
    fields, unit, parse = ACTIONS[action]

    @access(roles=STAFF)
    async def handler(request: web.Request) -> web.Response:
        config, db = request.app[CONFIG], request.app[DB]
        no = _window_no(request)
        body = await read_json(request, optional=True)
        v.only(body, fields)
        result = await db.write(unit, config, no, request[PRINCIPAL], **parse(body))
        if result is None:
            return web.Response(status=204)
        return respond(result)

    handler.__name__ = f"window_{action.replace('-', '_')}"
    return handler


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/tickets", issue_ticket, name="issue_ticket")
    r.add_get("/api/tickets", list_tickets, name="list_tickets")
    r.add_get("/api/tickets/{id}", get_ticket, name="get_ticket")
    r.add_post("/api/tickets/{id}/cancel", cancel_ticket, name="cancel_ticket")
    r.add_get("/api/hall", hall_overview, name="hall")
    r.add_get("/api/windows", list_windows, name="list_windows")
    r.add_get("/api/windows/{no}", get_window, name="get_window")
    for action in ACTIONS:
        r.add_post(f"/api/windows/{{no}}/{action}", window_action(action), name=f"window_{action}")
