"""Pages of the seat desk: `/desk` (agents), `/department` (a department's handlers) and
`/desk/supervisor` (managers), and `GET /api/desk/inbox`, the desk's inbox in one request.

The pages are shells: their scripts read the case API (`views`) and follow `/api/live`.
The inbox adds what a list of cases lacks for a desk: each case's last message (a
snippet) and, for a department, the state of its own share.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..auth.middleware import PRINCIPAL
from ..auth.principal import AGENTS, DEPARTMENTS, MANAGERS, access
from ..keys import CLOCK, CONFIG, DB
from ..storage import Database
from ..web import validation as v
from ..web.jsonio import respond
from ..web.pages import render
from . import store, views
from .present import cases_json
from .rules import CHANNELS, DISPATCH_STATES, STATES
from .settings import TYPES

BUSY_REASONS = ("会议", "培训", "用餐", "休息", "处理来信", "其他")
SNIPPET = 60
INBOX_LIMIT = 500
SHARE_ORDER = {"pending": 0, "signed": 1, "answered": 2, "returned": 3}


def _context(request: web.Request, **extra: Any) -> dict[str, Any]:
    """What every desk page's script needs from the server, as one JSON object."""
    config = request.app[CONFIG]
    who = request[PRINCIPAL]
    return {
        "me": {"id": who.id, "username": who.name, "role": who.role},
        "types": [[k, name] for k, name in TYPES.items() if k != "bad_review"],  # a list: tojson sorts keys
        "states": STATES,
        "channels": CHANNELS,
        "visit_attempts": config.callcenter.visit_attempts,
        "extension_max_days": config.callcenter.extension_max_days,
        **extra,
    }


@access(roles=AGENTS)
async def desk_page(request: web.Request) -> web.Response:
    db, config = request.app[DB], request.app[CONFIG]
    me = request[PRINCIPAL].id
    row = await db.fetchone("SELECT status, reason FROM agent_presence WHERE user_id = ?", (me,))
    data = _context(
        request,
        presence={"status": row["status"] if row else "offline", "reason": row["reason"] if row else ""},
        presence_names=views.PRESENCE,
        busy_reasons=BUSY_REASONS,
        departments=views.known_departments(config),
    )
    return render(request, "callcenter/desk.html", data=data, busy_reasons=BUSY_REASONS)


@access(roles=DEPARTMENTS)
async def department_page(request: web.Request) -> web.Response:
    actor = await views.actor_of(request)
    data = _context(request, department=actor.department)
    return render(request, "callcenter/department.html", data=data, department=actor.department)


@access(roles=MANAGERS)
async def supervisor_page(request: web.Request) -> web.Response:
    return render(request, "callcenter/supervisor.html", data=_context(request))


# -- the inbox --------------------------------------------------------------------------------------


@access(roles=views.CASE_READERS)
async def inbox(request: web.Request) -> web.Response:
    """Open cases for the desk: an agent's own first, then those waiting for an agent (`scope=all`:
    everyone's after them); a department's cases with its share, those to sign for first."""
    db, config, now = request.app[DB], request.app[CONFIG], request.app[CLOCK].now()
    actor = await views.actor_of(request)
    scope = v.choice(dict(request.query), "scope", ("mine", "all")) or "mine"
    department = actor.department if actor.role == "department" else None
    rows = await store.find(db, store.CaseFilter(status="open", department=department), now, INBOX_LIMIT, 0)
    if department is None:
        rank = {actor.id: 0, None: 1}
        rows = [r for r in rows if scope == "all" or r["assigned_to"] in (actor.id, None)]
        rows.sort(key=lambda r: rank.get(r["assigned_to"], 2))  # stable: due order kept within each
    cases = await cases_json(db, config, rows, now)
    last = await _last_messages(db, [c["id"] for c in cases])
    for c in cases:
        c["last_message"] = last.get(c["id"])
    if department is not None:
        shares = await _shares(db, department, rows)
        for c in cases:
            c["share"] = shares.get(c["id"])
        cases.sort(key=lambda c: SHARE_ORDER.get((c["share"] or {}).get("status"), 9))
    return respond({"cases": cases, "scope": scope, "department": department})


async def _last_messages(db: Database, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The newest message to or from the citizen of each case (internal notes left out)."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = await db.fetchall(
        "SELECT m.case_id, m.direction, m.kind, m.body, m.at FROM case_messages m JOIN ("
        f"SELECT case_id, MAX(id) AS id FROM case_messages WHERE case_id IN ({marks}) AND direction <> 'note' "
        "GROUP BY case_id) newest ON newest.id = m.id",
        tuple(ids),
    )
    return {
        r["case_id"]: {"direction": r["direction"], "kind": r["kind"], "snippet": (r["body"] or "")[:SNIPPET]}
        for r in rows
    }


async def _shares(db: Database, department: str, rows: list[Any]) -> dict[int, dict[str, Any]]:
    """The department's share of each case in the case's current round."""
    rounds = {r["id"]: r["round"] for r in rows}
    if not rounds:
        return {}
    marks = ", ".join("?" for _ in rounds)
    found = await db.fetchall(
        f"SELECT * FROM case_dispatches WHERE department = ? AND case_id IN ({marks}) ORDER BY id",
        (department, *rounds),
    )
    out: dict[int, dict[str, Any]] = {}
    for d in found:
        if d["round"] == rounds[d["case_id"]]:  # the newest of the round wins
            out[d["case_id"]] = {
                "status": d["status"],
                "status_name": DISPATCH_STATES[d["status"]],
                "extension_requested": d["extension_days"],
            }
    return out


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/desk", desk_page, name="desk_page")
    r.add_get("/desk/supervisor", supervisor_page, name="supervisor_page")
    r.add_get("/department", department_page, name="department_page")
    r.add_get("/api/desk/inbox", inbox, name="desk_inbox")
