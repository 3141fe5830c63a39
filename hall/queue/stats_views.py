"""Statistics over HTTP for managers: `/api/stats`, `/api/stats/live`, `/manage`, `/manage/stats`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..auth.principal import MANAGERS, access
from ..clock import local
from ..config import Config
from ..errors import BadRequest
from ..keys import CLOCK, CONFIG, DB
from ..storage import Database, Event
from ..web import validation as v
from ..web.jsonio import respond
from ..web.pages import render
from . import overview, stats, stats_export, stats_store
from .stats_live import live

FORMATS = ("json", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Query:
    first: dt.date
    last: dt.date
    by: str
    format: str


def parse_query(query: Any, today: dt.date) -> Query:
    """`from`, `to` (local dates, default today), `by` and `format`; a clear 400 when wrong."""
    first = query_date(query, "from", today)
    last = query_date(query, "to", today)
    if first > last:
        raise BadRequest("invalid_range", "开始日期不能晚于结束日期", field="from")
    if (last - first).days + 1 > stats.MAX_DAYS:
        raise BadRequest("range_too_long", f"统计范围最长 {stats.MAX_DAYS} 天,请缩短日期范围", field="to")
    by = v.choice(dict(query), "by", stats.GROUPINGS) or "section"
    fmt = v.choice(dict(query), "format", FORMATS) or "json"
    return Query(first, last, by, fmt)


def query_date(query: Any, field: str, default: dt.date) -> dt.date:
    """A YYYY-MM-DD query parameter (`default` when absent); 400 `invalid_date` otherwise."""
    raw = query.get(field)
    if raw is None or raw == "":
        return default
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(
            "invalid_date", f"参数 {field} 应为 YYYY-MM-DD 格式的日期,如 2026-11-23", field=field
        ) from None


async def _replay(db: Database, span: stats.Span, tallies: list[stats.Tally]) -> None:
    """Feed the span's events, and the look-back before it, to the tallies a page at a time."""
    async for page in stats_store.events_between(db, span.start - stats.LOOKBACK_S, span.end):
        _feed(tallies, page)


def _feed(tallies: list[stats.Tally], page: list[Event]) -> None:
    for event in page:
        for tally in tallies:
            tally.add(event)


async def build_report(db: Database, config: Config, q: Query, now: float) -> dict[str, Any]:
    span = stats.span(q.first, q.last, config)
    tally = stats.Tally(config, span, q.by, now)
    await _replay(db, span, [tally])
    return tally.result(await stats_store.staff_names(db))


async def build_live(db: Database, config: Config, now: float) -> dict[str, Any]:
    today = local(now, config.tz).date()
    span = stats.span(today, today, config)
    by_section = stats.Tally(config, span, "section", now)
    by_window = stats.Tally(config, span, "window", now)
    await _replay(db, span, [by_section, by_window])
    names = await stats_store.staff_names(db)
    hall = await overview.hall(db, config, now)
    oldest = await stats_store.oldest_waiting(db, today.isoformat())
    return live(hall, oldest, by_section.result(names), by_window.result(names), now)


def _today(request: web.Request) -> dt.date:
    return local(request.app[CLOCK].now(), request.app[CONFIG].tz).date()


@access(roles=MANAGERS)
async def stats_api(request: web.Request) -> web.Response:
    q = parse_query(request.query, _today(request))
    report = await build_report(request.app[DB], request.app[CONFIG], q, request.app[CLOCK].now())
    if q.format == "json":
        return respond(report)
    name = f"hall-stats-{q.first}_{q.last}-{q.by}.{q.format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if q.format == "csv":
        return web.Response(body=stats_export.to_csv(report), content_type="text/csv", charset="utf-8", headers=headers)
    return web.Response(body=stats_export.to_xlsx(report), content_type=XLSX, headers=headers)


@access(roles=MANAGERS)
async def live_api(request: web.Request) -> web.Response:
    return respond(await build_live(request.app[DB], request.app[CONFIG], request.app[CLOCK].now()))


# -- pages ---------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    """Seconds for people: 45秒, 12分05秒, 1小时05分; — when there is no figure."""
    if seconds is None:
        return "—"
    s = round(seconds)
    if s < 60:
        return f"{s}秒"
    if s < 3600:
        return f"{s // 60}分{s % 60:02d}秒"
    return f"{s // 3600}小时{s % 3600 // 60:02d}分"


def presets(today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """Ranges a manager asks for most: today, yesterday, the last 7 days, this month, last month."""
    month = today.replace(day=1)
    last_month = (month - dt.timedelta(days=1)).replace(day=1)
    return [
        ("今天", today, today),
        ("昨天", today - dt.timedelta(days=1), today - dt.timedelta(days=1)),
        ("最近7天", today - dt.timedelta(days=6), today),
        ("本月", month, today),
        ("上月", last_month, month - dt.timedelta(days=1)),
    ]


@access(roles=MANAGERS)
async def manage_page(request: web.Request) -> web.Response:
    data = await build_live(request.app[DB], request.app[CONFIG], request.app[CLOCK].now())
    return render(request, "manage/live.html", data=data, duration=duration, presets=presets(_today(request)))


@access(roles=MANAGERS)
async def stats_page(request: web.Request) -> web.Response:
    today = _today(request)
    context: dict[str, Any] = {"duration": duration, "presets": presets(today), "report": None, "error": None}
    try:
        q = parse_query(request.query, today)
    except BadRequest as e:
        form = {k: request.query.get(k, "") for k in ("from", "to", "by")}
        return render(request, "manage/stats.html", status=400, form=form, **{**context, "error": e.message})
    report = await build_report(request.app[DB], request.app[CONFIG], q, request.app[CLOCK].now())
    form = {"from": q.first.isoformat(), "to": q.last.isoformat(), "by": q.by}
    return render(request, "manage/stats.html", form=form, **{**context, "report": report})


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/stats", stats_api, name="stats")
    r.add_get("/api/stats/live", live_api, name="stats_live")
    r.add_get("/manage", manage_page, name="manage_page")
    r.add_get("/manage/stats", stats_page, name="manage_stats_page")
