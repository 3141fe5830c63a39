"""Who read personal data unmasked: one log over the audited reveals (a rater's name, phone and ID
number; a case's contact), for managers — `GET /api/audit/personal-reads` and `/manage/audit`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from ..auth.principal import MANAGERS, access
from ..clock import at_local, iso
from ..errors import BadRequest
from ..keys import CLOCK, CONFIG, DB
from ..storage import Database
from ..web import validation as v
from ..web.jsonio import respond
from ..web.pages import render

KINDS = {"rater": "评价人(好差评)", "contact": "工单联系人"}
READS = """
    SELECT 'rater' AS kind, r.id, r.at, r.user_id, r.rating_id AS record_id, r.purpose FROM rater_reads r
    UNION ALL
    SELECT 'contact' AS kind, c.id, c.at, c.user_id, c.case_id AS record_id, c.purpose FROM contact_reads c
"""


async def reads(db: Database, start: float, end: float, user_id: int | None, limit: int) -> list[Any]:
    where, params = "at >= ? AND at < ?", [start, end]
    if user_id is not None:
        where += " AND user_id = ?"
        params.append(user_id)
    return await db.fetchall(
        f"SELECT a.*, u.username, u.display_name, u.role FROM ({READS}) a LEFT JOIN users u ON u.id = a.user_id "
        f"WHERE {where} ORDER BY at DESC, kind, id DESC LIMIT ?",
        (*params, limit),
    )


def _day(query: Any, name: str, default: dt.date) -> dt.date:
    raw = query.get(name)
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest("invalid_date", "日期应为 YYYY-MM-DD 格式,如 2026-11-23", field=name) from None


async def _ask(request: web.Request) -> dict[str, Any]:
    config, now = request.app[CONFIG], request.app[CLOCK].now()
    today = dt.datetime.fromtimestamp(now, config.tz).date()
    first = _day(request.query, "from", today - dt.timedelta(days=30))
    last = _day(request.query, "to", today)
    if first > last:
        raise BadRequest("invalid_range", "开始日期不能晚于结束日期", field="from")
    user = v.query_int(request.query, "user", 0, 0, 10**12) or None
    limit = v.query_int(request.query, "limit", 500, 1, 5000)
    start = at_local(first, 0, config.tz).timestamp()
    end = at_local(last + dt.timedelta(days=1), 0, config.tz).timestamp()
    rows = await reads(request.app[DB], start, end, user, limit)
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "reads": [
            {
                "at": iso(r["at"], config.tz),
                "kind": r["kind"],
                "kind_name": KINDS[r["kind"]],
                "record_id": r["record_id"],
                "purpose": r["purpose"],
                "user": {"id": r["user_id"], "username": r["username"], "name": r["display_name"], "role": r["role"]},
            }
            for r in rows
        ],
    }


@access(roles=MANAGERS)
async def audit_api(request: web.Request) -> web.Response:
    return respond(await _ask(request))


@access(roles=MANAGERS)
async def audit_page(request: web.Request) -> web.Response:
    try:
        data, error = await _ask(request), None
    except BadRequest as e:
        data, error = {"from": request.query.get("from", ""), "to": request.query.get("to", ""), "reads": []}, e.message
    return render(request, "privacy/audit.html", status=400 if error else 200, data=data, error=error)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/audit/personal-reads", audit_api, name="personal_reads")
    app.router.add_get("/manage/audit", audit_page, name="audit_page")
