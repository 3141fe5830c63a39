"""HTTP API of ratings: rate, read with full detail (masked), read a rater (audited), void."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..auth.middleware import PRINCIPAL
from ..auth.principal import AGENTS, DEPARTMENTS, MANAGERS, STAFF, access
from ..clock import at_local, local
from ..errors import BadRequest, Forbidden, NotFound
from ..keys import CLOCK, CONFIG, DB
from ..queue import store as queue_store
from ..web import validation as v
from ..web.jsonio import read_json, respond
from . import ratings, store
from .case_rules import RESULTS, STAGES, STATUSES
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
    found = await find(request.app[DB], config, request.query, request.app[CLOCK].now())
    return respond({"ratings": [ratings.rating_json(r, config) for r in found.rows], "next_before": found.next_before})


@dataclass(frozen=True)
class Found:
    rows: list[Any]
    next_before: int | None


async def find(db: Any, config: Any, q: Any, now: float) -> Found:
    """The ratings a query string asks for (the list API, and the manager's drill-down page).

    `from`/`to` are the days the ratings were given, or with `on=service` the days of
    the services rated (as the statistics count them). A figure of the statistics is
    a filter: `kind` (first, follow_up), `grade` (one or a list: 5,4), `bad=1`,
    `active=1` (not the default grade), `voided=0` or `1`.
    """
    start, end = date_range(q, config, now)
    filters: dict[str, Any] = {}
    for key in ("window", "staff"):
        if q.get(key, "") != "":
            filters[key] = v.query_int(q, key, 0, 0, 2**31)
    for key in ("department", "section", "matter"):
        if q.get(key):
            filters[key] = v.text(dict(q), key, max_len=100)
    if q.get("channel"):
        filters["channel"] = v.choice(dict(q), "channel", tuple(CHANNELS))
    if q.get("kind"):
        filters["kind"] = v.choice(dict(q), "kind", ratings.SERVICE_KINDS)
    grades = _grades(q.get("grade", ""))
    flags = [name for name in ("bad", "active") if _flag(q, name)]
    voided = q.get("voided", "")
    if voided not in ("", "0", "1"):
        raise BadRequest("invalid_field", "参数 voided 只能是 0(不含作废)或 1(只看作废)", field="voided")
    flags += {"": [], "0": ["valid"], "1": ["voided"]}[voided]
    on = v.choice(dict(q), "on", ("rating", "service")) or "rating"
    days = None
    if on == "service":
        days = (local(start, config.tz).date().isoformat(), local(end - 1, config.tz).date().isoformat())
    limit = v.query_int(q, "limit", 100, 1, 1000)
    before = v.query_int(q, "before", 0, 0, 2**62) or None
    rows = await store.find_ratings(db, start, end, filters, limit, before, days, grades, tuple(flags))
    return Found(rows, rows[-1]["id"] if len(rows) == limit else None)


def _grades(raw: str) -> tuple[int, ...]:
    parts = [p for p in raw.split(",") if p.strip()] if raw else []
    if not all(p.strip() in ("1", "2", "3", "4", "5") for p in parts) or len(parts) > 5:
        raise BadRequest("invalid_field", "参数 grade 应为 1 到 5 的等级,多个用逗号分隔,如 5,4", field="grade")
    return tuple(sorted({int(p) for p in parts}))


def _flag(q: Any, name: str) -> bool:
    raw = q.get(name, "")
    if raw not in ("", "0", "1"):
        raise BadRequest("invalid_field", f"参数 {name} 只能是 1 或 0", field=name)
    return raw == "1"


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
    """One rating with every detail, and the state of its bad-review case if it opened one."""
    return respond(await rating_detail(request.app[DB], request.app[CONFIG], await _rating_row(request)))


async def rating_detail(db: Any, config: Any, row: Any) -> dict[str, Any]:
    answer = ratings.rating_json(row, config)
    case = await store.case_of_rating(db, row["id"])
    answer["bad_review"] = None
    if case is not None:
        tz = config.tz
        answer["bad_review"] = {
            "id": case["id"],
            "status": case["status"],
            "status_name": STATUSES.get(case["status"], case["status"]),
            "stage": case["stage"],
            "stage_name": STAGES.get(case["stage"]) if case["stage"] else None,
            "result": case["result"],
            "result_name": RESULTS.get(case["result"]) if case["result"] else None,
            "round": case["round"],
            "due_at": local(case["due_at"], tz).replace(microsecond=0).isoformat() if case["due_at"] else None,
            "overdue": case["overdue_stage"] is not None,
        }
    return answer


@access(roles=AGENTS | DEPARTMENTS)
async def get_rater(request: web.Request) -> web.Response:
    """The rater unmasked (to call them back about a bad review): managers, the desk's agents and the
    window's own department (verification calls); every read is logged."""
    row = await _rating_row(request)
    who = request[PRINCIPAL]
    if who.role in DEPARTMENTS:
        department = await request.app[DB].fetchval("SELECT department FROM users WHERE id = ?", (who.id,))
        if not department or department != row["department"]:
            raise Forbidden("not_your_case", "这条评价不是您部门窗口的")
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
