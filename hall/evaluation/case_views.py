"""HTTP of bad-review cases: `/api/bad-reviews` (list, one, the four steps) and `/manage/bad-reviews`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..auth.middleware import PRINCIPAL
from ..auth.principal import AGENTS, DEPARTMENTS, MANAGERS, access
from ..clock import at_local
from ..errors import BadRequest, Forbidden, NotFound
from ..keys import CLOCK, CONFIG, DB
from ..web import validation as v
from ..web.jsonio import read_json, respond
from ..web.pages import render
from . import case_rules, case_store, cases
from .case_present import cases_json
from .case_rules import STATUSES
from .rules import VERIFY_OUTCOMES

# Who works bad-review cases: managers every step of every case; the window's department verifies
# and rectifies its own cases; the seat desk's agents tell the citizen and make the return visit
# (the desk shows each bad review as a case of type 差评).
CASE_ROLES = AGENTS | DEPARTMENTS
STEP_ROLES = {
    "verify": MANAGERS | DEPARTMENTS,
    "rectify": MANAGERS | DEPARTMENTS,
    "feedback": AGENTS,
    "revisit": AGENTS,
}

STATUS_FILTERS = (*STATUSES, "active", "overdue")


def _date(query: Any, field: str) -> dt.date | None:
    raw = query.get(field)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest("invalid_date", "日期应为 YYYY-MM-DD 格式,如 2026-11-23", field=field) from None


def _filter(query: Any, config: Any) -> case_store.CaseFilter:
    """The list's filters: status, overdue, department, and the day range the bad reviews came in."""
    status = query.get("status") or None
    if status is not None and status not in STATUS_FILTERS:
        raise BadRequest("invalid_field", f"参数 status 只能是:{'、'.join(STATUS_FILTERS)}", field="status")
    overdue = query.get("overdue", "")
    if overdue not in ("", "0", "1", "true", "false"):
        raise BadRequest("invalid_field", "参数 overdue 只能是 1 或 0", field="overdue")
    department = v.text(dict(query), "department", max_len=60)
    first, last = _date(query, "from"), _date(query, "to")
    if first and last and first > last:
        raise BadRequest("invalid_range", "开始日期不能晚于结束日期", field="from")
    return case_store.CaseFilter(
        status=status,
        overdue=overdue in ("1", "true"),
        department=department,
        opened_from=at_local(first, 0, config.tz).timestamp() if first else None,
        opened_before=at_local(last + dt.timedelta(days=1), 0, config.tz).timestamp() if last else None,
    )


async def own_department(request: web.Request) -> str | None:
    """A department's account sees its own department's cases only (None: every department)."""
    who = request[PRINCIPAL]
    if who.role not in DEPARTMENTS:
        return None
    department = await request.app[DB].fetchval("SELECT department FROM users WHERE id = ?", (who.id,))
    if not department:
        raise Forbidden("no_department", "您的账号没有所属部门,请管理员设置后再办理")
    return department


@access(roles=CASE_ROLES)
async def list_cases(request: web.Request) -> web.Response:
    """Cases, overdue first, with their ratings' detail (raters masked), stages and histories."""
    config, db, now = request.app[CONFIG], request.app[DB], request.app[CLOCK].now()
    f = _filter(request.query, config)
    mine = await own_department(request)
    if mine is not None:
        f = dataclasses.replace(f, department=mine)
    limit = v.query_int(request.query, "limit", 100, 1, 500)
    offset = v.query_int(request.query, "offset", 0, 0, 10**9)
    rows = await case_store.find_cases(db, f, now, limit, offset)
    total = await case_store.count_cases(db, f, now)
    cases_out = await cases_json(db, config, rows, now)
    return respond({"cases": cases_out, "total": total, "limit": limit, "offset": offset})


def _case_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise NotFound("case_not_found", f"没有编号为 {raw} 的差评工单")
    return int(raw)


async def _one(request: web.Request, case_id: int) -> dict[str, Any]:
    db, config = request.app[DB], request.app[CONFIG]
    row = await case_store.get_case(db, case_id)
    if row is None:
        raise NotFound("case_not_found", f"没有编号为 {case_id} 的差评工单")
    mine = await own_department(request)
    if mine is not None and row["department"] != mine:
        raise Forbidden("not_your_case", "这条差评不是您部门的")
    return (await cases_json(db, config, [row], request.app[CLOCK].now()))[0]


@access(roles=CASE_ROLES)
async def get_case(request: web.Request) -> web.Response:
    return respond(await _one(request, _case_id(request)))


Step = Callable[[web.Request], Awaitable[web.Response]]


def _step(stage: str, check: Callable[[dict[str, Any]], Any], unit: Callable[..., Any]) -> Step:
    """The handler of one stage: the body checked, the unit run by the writer, the case answered."""

    @access(roles=STEP_ROLES[stage])  # the stage's own roles, so the access table shows who really may
    async def handler(request: web.Request) -> web.Response:
        who = request[PRINCIPAL]
        if who.role not in STEP_ROLES[stage]:
            raise Forbidden("forbidden", "您的账号无权办理这一环节")
        case_id = _case_id(request)
        await _one(request, case_id)  # a department's own cases only
        given = check(await read_json(request))
        await request.app[DB].write(unit, request.app[CONFIG], case_id, given, who.id)
        return respond(await _one(request, case_id))

    handler.__name__ = f"{stage}_case"
    return handler


verify_case = _step("verify", case_rules.check_verify, cases.verify)
rectify_case = _step("rectify", case_rules.check_rectify, cases.rectify)
feedback_case = _step("feedback", case_rules.check_feedback, cases.feedback)
revisit_case = _step("revisit", case_rules.check_revisit, cases.revisit)


@access(roles=CASE_ROLES)
async def manage_page(request: web.Request) -> web.Response:
    """差评整改: the cases (filtered as the list API), each with its detail and the form of its next step."""
    config, db, now = request.app[CONFIG], request.app[DB], request.app[CLOCK].now()
    form = {k: request.query.get(k, "") for k in ("status", "department", "from", "to", "overdue")}
    if "status" not in request.query:
        form["status"] = "active"  # what needs doing, unless the manager asks for more
    mine = await own_department(request)
    if mine is not None:
        form["department"] = mine
    error, rows, total = None, [], 0
    try:
        f = _filter(form, config)
        rows = await case_store.find_cases(db, f, now, 200, 0)
        total = await case_store.count_cases(db, f, now)
    except BadRequest as e:
        error = e.message
    counts = {
        "active": await case_store.count_cases(db, case_store.CaseFilter(status="active", department=mine), now),
        "overdue": await case_store.count_cases(db, case_store.CaseFilter(status="overdue", department=mine), now),
    }
    departments = sorted({w.department for w in config.windows if w.department} | set(await case_store.departments(db)))
    if mine is not None:
        departments = [mine]
    role = request[PRINCIPAL].role
    return render(
        request,
        "evaluation/bad_reviews.html",
        status=400 if error else 200,
        cases=await cases_json(db, config, rows, now),
        total=total,
        counts=counts,
        form=form,
        error=error,
        statuses=STATUSES,
        departments=departments,
        outcomes=VERIFY_OUTCOMES,
        min_attempts=case_rules.MIN_ATTEMPTS,
        my_stages={stage for stage, roles in STEP_ROLES.items() if role in roles},
        can_reveal=role in AGENTS | DEPARTMENTS,
    )


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/bad-reviews", list_cases, name="list_bad_reviews")
    r.add_get("/api/bad-reviews/{id}", get_case, name="get_bad_review")
    for stage, handler in (
        ("verify", verify_case),
        ("rectify", rectify_case),
        ("feedback", feedback_case),
        ("revisit", revisit_case),
    ):
        r.add_post(f"/api/bad-reviews/{{id}}/{stage}", handler, name=f"{stage}_bad_review")
    r.add_get("/manage/bad-reviews", manage_page, name="manage_bad_reviews")
