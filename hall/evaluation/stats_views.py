"""Rating statistics over HTTP: `GET /api/ratings/stats` (and its CSV / XLSX), read from the roll-up."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..auth.principal import MANAGERS, access
from ..clock import local
from ..config import Config
from ..errors import BadRequest
from ..keys import CLOCK, CONFIG, DB
from ..queue.stats_views import query_date
from ..storage import Database
from ..web import validation as v
from ..web.jsonio import respond
from . import stats, stats_export, stats_store
from .rules import CHANNELS

FORMATS = ("json", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT_FILTERS = ("department", "section", "matter")
KNOWN = ("by", "from", "to", "period", "min_sample", "format", "window", "staff", "channel", *TEXT_FILTERS)
GROUP_NAMES = {"window": "窗口", "staff": "工作人员", "department": "部门", "section": "业务板块", "matter": "事项",
               "channel": "评价渠道"}  # fmt: skip


def today(request: web.Request) -> dt.date:
    return local(request.app[CLOCK].now(), request.app[CONFIG].tz).date()


def parse_ask(query: Any, day: dt.date, config: Config) -> tuple[stats.Ask, str]:
    """The question in a query string (default: this month so far, by window) and the format asked for."""
    unknown = sorted(set(query) - set(KNOWN))
    if unknown:
        raise BadRequest("unknown_field", f"不认识的参数:{unknown[0]}(可用:{'、'.join(KNOWN)})", field=unknown[0])
    last = query_date(query, "to", day)
    first = query_date(query, "from", last.replace(day=1))
    if first > last:
        raise BadRequest("invalid_range", "开始日期不能晚于结束日期", field="from")
    q = dict(query)
    by = v.choice(q, "by", stats.GROUPINGS) or "window"
    period = v.choice(q, "period", stats.PERIODS)
    days = (last - first).days + 1
    if days > stats.MAX_DAYS:
        raise BadRequest("invalid_range", f"统计范围最长 {stats.MAX_DAYS} 天,请缩短日期范围", field="to")
    if period == "day" and days > stats.MAX_TREND_DAYS:
        raise BadRequest(
            "invalid_range", f"按日的趋势最长 {stats.MAX_TREND_DAYS} 天,更长的范围请按月(period=month)", field="period"
        )
    filters: dict[str, Any] = {}
    for name in ("window", "staff"):
        if query.get(name, "") != "":
            filters[name] = v.query_int(query, name, 0, 0, 2**31 - 1)
    for name in TEXT_FILTERS:
        value = v.text(q, name, max_len=100)
        if value is not None:
            filters[name] = value
    if query.get("channel"):
        filters["channel"] = v.choice(q, "channel", tuple(CHANNELS))
    min_sample = v.query_int(query, "min_sample", config.evaluation.min_sample, 1, 1_000_000)
    fmt = v.choice(q, "format", FORMATS) or "json"
    ask = stats.Ask(first, last, by, period, filters, min_sample, config.evaluation.good_grades)
    return ask, fmt


def namer(config: Config, by: str, staff: dict[int, tuple[str, str | None]]) -> Callable[[Any], str]:
    """How a group is called on pages and in exports: 5号窗口 综合窗口5, 陈静(0207), 扫码评价…"""

    def window(no: int) -> str:
        w = config.window(no)
        return f"{no}号窗口 {w.name}" if w else f"{no}号窗口"

    def person(user_id: int) -> str:
        if user_id not in staff:
            return "未记录工作人员" if not user_id else f"工作人员 {user_id}"
        name, staff_no = staff[user_id]
        return f"{name}({staff_no})" if staff_no else name

    def section(key: str) -> str:
        s = config.section(key)
        return f"{key} {s.name}" if s else key

    return {
        "window": window,
        "staff": person,
        "department": lambda key: key or "未设部门",
        "section": section,
        "matter": lambda key: key or "未填事项",
        "channel": lambda key: CHANNELS.get(key, key),
    }[by]


async def build(db: Database, config: Config, ask: stats.Ask) -> dict[str, Any]:
    """Read what `ask` needs (the roll-up and the bad-review join, grouped in SQL) and assemble the answer."""
    filters = dict(ask.filters)

    async def read(first: dt.date, last: dt.date, period: str | None) -> stats.Tallies:
        # The two reads go to two reader connections at once (SQLite runs them in parallel).
        rows, bad = await asyncio.gather(
            stats_store.roll_up(db, first, last, ask.by, period, filters),
            stats_store.bad_reviews(db, first, last, ask.by, period, filters),
        )
        return stats.tallies(rows, bad)

    async def nothing() -> None:
        return None

    wanted_trend = read(*ask.trend_span(), ask.period) if ask.period else nothing()
    trend, previous_tallies = await asyncio.gather(wanted_trend, read(*stats.previous_range(ask.first, ask.last), None))
    if ask.range_in_trend and trend is not None:
        current = stats.collapse(trend, stats.periods(ask.first, ask.last, ask.period or "month"))
    else:
        current = stats.collapse(await read(ask.first, ask.last, None))
    previous = stats.collapse(previous_tallies)
    names = namer(config, ask.by, await stats_store.staff_names(db) if ask.by == "staff" else {})
    return stats.report(ask, current, previous, names, trend)


@access(roles=MANAGERS)
async def stats_api(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    ask, fmt = parse_ask(request.query, today(request), config)
    answer = await build(request.app[DB], config, ask)
    if fmt == "json":
        return respond(answer)
    return download(answer, fmt)


def download(answer: dict[str, Any], fmt: str) -> web.Response:
    """The report's table as a file: CSV (UTF-8 with BOM, for Excel) or XLSX."""
    name = f"ratings-{answer['from']}_{answer['to']}-{answer['by']}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        body = stats_export.to_csv(answer)
        return web.Response(body=body, content_type="text/csv", charset="utf-8", headers=headers)
    return web.Response(body=stats_export.to_xlsx(answer), content_type=XLSX, headers=headers)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/ratings/stats", stats_api, name="rating_stats")
