"""HTTP API of ratings: rate, read with full detail (masked), read a rater (audited), void."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from aiohttp import web

from ..auth.middleware import PRINCIPAL
from ..auth.principal import MANAGERS, STAFF, access
from ..clock import at_local, local
from ..errors import BadRequest, Forbidden, NotFound
from ..keys import CLOCK, CONFIG, DB
from ..queue import store as queue_store
from ..web import validation as v
from ..web.jsonio import read_json, respond
from . import ratings, store
from .rules import CHANNELS, CITIZEN_CHANNELS, STAFF_CHANNELS, check_rating

RATING_FIELDS = ("ticket_token", "ticket_id", "grade", "tags", "comment", "channel", "rater")


@access(roles=STAFF, devices=("pad",), public=True)
async def post_rating(request: web.Request) -> web.Response:
    """A citizen with the ticket's token (QR, web), a window's pad, or staff entering an SMS/hotline rating."""
    config, db = request.app[CONFIG], request.app[DB]
    body = await read_json(request)
    v.only(body, RATING_FIELDS)
    given = check_rating(body, config.evaluation)
    who = request[PRINCIPAL]
    ticket_id, source = await _ticket_and_source(request, body, who)
    answer = await db.write(ratings.rate, config, ticket_id, given, source)
    return respond(answer, status=201)


async def _ticket_and_source(request: web.Request, body: dict[str, Any], who: Any) -> tuple[int, ratings.Source]:
    db = request.app[DB]
    token = v.text(body, "ticket_token", max_len=64)
    if who is not None and who.kind == "device":  # a pad: the ticket its window just finished
        if who.window_no is None:
            raise Forbidden("pad_not_bound", "这台评价器没有绑定窗口,请管理员登记时指定窗口")
        ticket_id = v.integer(body, "ticket_id", required=True, low=1)
        _no_channel_or(body, "pad")
        return ticket_id, ratings.Source("pad", device_id=who.id, pad_window=who.window_no)
    if who is not None and who.kind == "user":  # staff entering a rating given by SMS or on the hotline
        channel = v.choice(body, "channel", STAFF_CHANNELS, required=True)
        ticket_id = v.integer(body, "ticket_id", low=1)
        if ticket_id is None:
            ticket_id = (await _by_token(db, token))["id"]
        return ticket_id, ratings.Source(channel, entered_by=who.id)
    channel = v.choice(body, "channel", CITIZEN_CHANNELS) or "qr"
    if token is None:
        raise BadRequest("invalid_field", "评价需要号票上的查询码 ticket_token", field="ticket_token")
    return (await _by_token(db, token))["id"], ratings.Source(channel)


def _no_channel_or(body: dict[str, Any], channel: str) -> None:
    if body.get("channel") not in (None, channel):
        raise BadRequest("invalid_field", f"此处评价的渠道只能是 {channel}", field="channel")


async def _by_token(db: Any, token: str | None) -> Any:
    row = await queue_store.get_ticket_by_token(db, token) if token else None
    if row is None or not hmac.compare_digest(row["token"].encode(), (token or "").encode()):
        raise NotFound("ticket_not_found", "没有这张号票,请核对号票上的二维码")
    return row


@access(roles=MANAGERS)
async def list_ratings(request: web.Request) -> web.Response:
    """Ratings with their full detail (raters masked), filtered; newest first, paged by `before`."""
    config = request.app[CONFIG]
    q = request.query
    start, end = date_range(q, config, request.app[CLOCK].now())
    filters: dict[str, Any] = {}
    for key in ("window", "staff", "grade"):
        value = v.query_int(q, key, 0, 0, 2**31) if key in q else None
        if value is not None:
            filters[key] = value
    for key in ("department", "section", "matter"):
        if q.get(key):
            filters[key] = q[key]
    if q.get("channel"):
        filters["channel"] = v.choice(dict(q), "channel", tuple(CHANNELS))
    limit = v.query_int(q, "limit", 100, 1, 1000)
    before = v.query_int(q, "before", 0, 0, 2**62) or None
    rows = await store.find_ratings(request.app[DB], start, end, filters, limit, before)
    return respond(
        {
            "ratings": [ratings.rating_json(r, config) for r in rows],
            "next_before": rows[-1]["id"] if len(rows) == limit else None,
        }
    )


def date_range(query: Any, config: Any, now: float) -> tuple[float, float]:
    """[from, to] local dates (default: the last 30 days) as POSIX seconds [start, end)."""
    tz = config.tz
    today = local(now, tz).date()
    try:
        to = dt.date.fromisoformat(query["to"]) if query.get("to") else today
        start = dt.date.fromisoformat(query["from"]) if query.get("from") else to - dt.timedelta(days=29)
    except ValueError:
        raise BadRequest("invalid_date", "日期应为 YYYY-MM-DD 格式,如 2026-11-23", field="from") from None
    if start > to:
        raise BadRequest("invalid_date", "开始日期不能晚于结束日期", field="from")
    if (to - start).days > 3660:
        raise BadRequest("invalid_date", "日期范围最长十年", field="from")
    return at_local(start, 0, tz).timestamp(), at_local(to + dt.timedelta(days=1), 0, tz).timestamp()


async def _rating_row(request: web.Request) -> Any:
    raw = request.match_info["id"]
    row = await store.get_rating(request.app[DB], int(raw)) if raw.isdigit() and len(raw) < 13 else None
    if row is None:
        raise NotFound("rating_not_found", f"没有编号为 {raw} 的评价")
    return row


@access(roles=MANAGERS)
async def get_rating(request: web.Request) -> web.Response:
    return respond(ratings.rating_json(await _rating_row(request), request.app[CONFIG]))


@access(roles=MANAGERS)
async def get_rater(request: web.Request) -> web.Response:
    """The rater unmasked (to call them back about a bad review): every read is logged."""
    row = await _rating_row(request)
    purpose = v.text(dict(request.query), "purpose", max_len=100) or "核实回访"
    await request.app[DB].write(store.log_rater_read, request[PRINCIPAL].id, row["id"], purpose)
    rater = ratings.rating_json(row, request.app[CONFIG], unmasked=True)["rater"]
    return respond({"rating_id": row["id"], "rater": rater, "logged": True})


@access(roles=MANAGERS)
async def void_rating(request: web.Request) -> web.Response:
    row = await _rating_row(request)
    body = await read_json(request)
    v.only(body, ("reason",))
    reason = v.text(body, "reason", required=True, max_len=500)
    answer = await request.app[DB].write(ratings.void, request.app[CONFIG], row["id"], reason, request[PRINCIPAL].id)
    return respond(answer)


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/ratings", post_rating, name="post_rating")
    r.add_get("/api/ratings", list_ratings, name="list_ratings")
    r.add_get("/api/ratings/{id:\\d+}", get_rating, name="get_rating")
    r.add_get("/api/ratings/{id:\\d+}/rater", get_rater, name="get_rater")
    r.add_post("/api/ratings/{id:\\d+}/void", void_rating, name="void_rating")
