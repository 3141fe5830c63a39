"""HTTP of cases (工单): `/api/cases` (register, list, one with its history, every move, replies),
the agents' presence and the supervisor's overview."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ..auth.middleware import PRINCIPAL
from ..auth.principal import AGENTS, DEPARTMENTS, Principal, access
from ..errors import BadRequest, Conflict, Forbidden, HallError, NotFound
from ..keys import CLOCK, CONFIG, DB
from ..personal import normalize_phone
from ..web import validation as v
from ..web.jsonio import read_json, respond
from . import cases, intake, replies, rules, store
from .ami.client import AmiError
from .ami.service import PHONE
from .present import cases_json, contact_json, detail_json
from .rules import CHANNELS, STATES
from .settings import TYPES
from .steps import Actor, Message

log = logging.getLogger(__name__)
CASE_READERS = AGENTS | DEPARTMENTS
MANUAL_CHANNELS = ("phone", "walk_in", "qq", "web", "email", "wechat")
PRESENCE = {"online": "在线", "busy": "示忙", "wrap_up": "话后整理", "offline": "离线"}
EMAIL = r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,20}"


def known_departments(config: Any) -> list[str]:
    return sorted({w.department for w in config.windows if w.department} | set(config.callcenter.departments))


async def actor_of(request: web.Request) -> Actor:
    who: Principal = request[PRINCIPAL]
    department = ""
    if who.role == "department":
        department = await request.app[DB].fetchval("SELECT department FROM users WHERE id = ?", (who.id,)) or ""
        if not department:
            raise Forbidden("no_department", "您的账号没有所属部门,请管理员设置后再办理工单")
    return Actor(who.id, who.role or "", department)


def _case_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise NotFound("case_not_found", f"没有编号为 {raw} 的工单")
    return int(raw)


async def _visible(request: web.Request, case_id: int, actor: Actor) -> Any:
    """The case, if this caller may see it: agents every case; a department those sent to it."""
    db = request.app[DB]
    row = await store.get(db, case_id)
    if row is None:
        raise NotFound("case_not_found", f"没有编号为 {case_id} 的工单")
    if actor.role == "department":
        shared = await db.fetchval(
            "SELECT 1 FROM case_dispatches WHERE case_id = ? AND department = ?", (case_id, actor.department)
        )
        if not shared:
            raise Forbidden("not_your_case", "这件工单没有转办给您的部门")
    return row


# -- registration -----------------------------------------------------------------------------------


@access(roles=AGENTS, public=True)
async def create_case(request: web.Request) -> web.Response:
    """A citizen's web form (no login), or an agent registering a call or a walk-in by hand."""
    body = await read_json(request)
    who = request[PRINCIPAL]
    content = rules.text(body, "content", "反映内容", max_len=rules.TEXT_MAX)
    phone_raw = v.text(body, "phone", max_len=20)
    phone = normalize_phone(phone_raw) if phone_raw else None
    if phone_raw and phone is None:
        raise BadRequest("invalid_field", "手机号码格式不正确", field="phone")
    email = v.text(body, "email", max_len=254, pattern=EMAIL)
    fields: dict[str, Any] = {
        "title": v.text(body, "title", max_len=60) or content[:60],
        "contact_name": v.text(body, "name", max_len=40),
        "contact_phone": phone,
        "contact_email": email,
    }
    if who is None:
        v.only(body, ("type", "content", "name", "phone", "email", "title"))
        if not phone and not email:
            raise BadRequest("contact_required", "请留下手机号码或电子邮箱,以便我们答复和回访", field="phone")
        fields |= {"channel": "web", "type": rules.case_type(body, required=True)}
        actor = None
    else:
        v.only(body, ("type", "content", "name", "phone", "email", "title", "channel", "ticket_id", "window_no",
                      "staff_user_id", "matter"))  # fmt: skip
        fields |= {
            "channel": v.choice(body, "channel", MANUAL_CHANNELS) or "phone",
            "type": rules.case_type(body, required=False),
            "ticket_id": v.integer(body, "ticket_id", low=1),
            "window_no": v.integer(body, "window_no", low=1, high=999),
            "staff_user_id": v.integer(body, "staff_user_id", low=1),
            "matter": v.text(body, "matter", max_len=60),
        }
        if fields["window_no"] and request.app[CONFIG].window(fields["window_no"]) is None:
            raise BadRequest("window_not_found", f"没有 {fields['window_no']} 号窗口", field="window_no")
        actor = await actor_of(request)
    config, db = request.app[CONFIG], request.app[DB]
    row = await db.write(intake.register, config, fields, Message(body=content), actor)
    now = request.app[CLOCK].now()
    if who is None:  # the citizen gets the number to quote, not the desk's view
        return respond({"no": row["no"], "status": row["status"], "status_name": STATES[row["status"]]}, 201)
    return respond(await detail_json(db, config, row, now), 201)


# -- reading ----------------------------------------------------------------------------------------


@access(roles=CASE_READERS)
async def list_cases(request: web.Request) -> web.Response:
    q, config, db, now = request.query, request.app[CONFIG], request.app[DB], request.app[CLOCK].now()
    actor = await actor_of(request)
    status = q.get("status") or None
    if status is not None and status not in (*STATES, "open", "overdue", "visit_owed"):
        raise BadRequest("invalid_field", "参数 status 不正确", field="status")
    channel = q.get("channel") or None
    if channel is not None and channel not in CHANNELS:
        raise BadRequest("invalid_field", f"参数 channel 只能是:{'、'.join(CHANNELS)}", field="channel")
    kind = q.get("type") or None
    if kind is not None and kind not in TYPES:
        raise BadRequest("invalid_field", f"参数 type 只能是:{'、'.join(TYPES)}", field="type")
    department = actor.department if actor.role == "department" else (q.get("department") or None)
    phone = normalize_phone(q["phone"]) if q.get("phone") else None
    f = store.CaseFilter(
        status=status,
        channel=channel,
        type=kind,
        assigned_to=actor.id if q.get("mine") in ("1", "true") else None,
        department=department,
        phone=phone,
    )
    limit = v.query_int(q, "limit", 100, 1, 500)
    offset = v.query_int(q, "offset", 0, 0, 10**9)
    rows = await store.find(db, f, now, limit, offset)
    total = await store.count(db, f, now)
    return respond({"cases": await cases_json(db, config, rows, now), "total": total, "limit": limit})


@access(roles=CASE_READERS)
async def get_case(request: web.Request) -> web.Response:
    row = await _visible(request, _case_id(request), await actor_of(request))
    return respond(await detail_json(request.app[DB], request.app[CONFIG], row, request.app[CLOCK].now()))


@access(roles=AGENTS)
async def get_contact(request: web.Request) -> web.Response:
    """The contact unmasked, to call the citizen back: every read is logged with its purpose."""
    case_id = _case_id(request)
    row = await _visible(request, case_id, await actor_of(request))
    purpose = request.query.get("purpose") or "回访联系"
    await request.app[DB].write(_log_read, request[PRINCIPAL].id, case_id, purpose[:40])
    return respond(contact_json(row, masked=False))


def _log_read(tx: Any, user_id: int, case_id: int, purpose: str) -> None:
    tx.execute(
        "INSERT INTO contact_reads (user_id, case_id, at, purpose) VALUES (?, ?, ?, ?)",
        (user_id, case_id, tx.now, purpose),
    )
    tx.emit("case.contact_read", {"case": {"id": case_id}, "by": user_id})


# -- the moves --------------------------------------------------------------------------------------

Parse = Callable[[dict[str, Any], Any], tuple[Any, ...]]


def _accept(body: dict[str, Any], config: Any) -> tuple[Any, ...]:
    rules.only(body, ("type", "title"))
    return (rules.case_type(body, required=False), rules.text(body, "title", "标题", False, 60))


def _dispatch(body: dict[str, Any], config: Any) -> tuple[Any, ...]:
    rules.only(body, ("departments", "instructions"))
    return (rules.departments(body, known_departments(config)), rules.text(body, "instructions", "转办意见", False))


def _reason(body: dict[str, Any], config: Any) -> tuple[Any, ...]:
    rules.only(body, ("reason",))
    return (rules.text(body, "reason", "退单理由"),)


def _answer(body: dict[str, Any], config: Any) -> tuple[Any, ...]:
    rules.only(body, ("answer",))
    return (rules.text(body, "answer", "办理结果", max_len=rules.TEXT_MAX),)


def _review(body: dict[str, Any], config: Any) -> tuple[Any, ...]:
    rules.only(body, ("approve", "note"))
    approve = rules.flag(body, "approve", required=True)
    return (approve, rules.text(body, "note", "审核意见", required=not approve))


def _visit(body: dict[str, Any], config: Any) -> tuple[Any, ...]:
    rules.only(body, ("reached", "satisfied", "note"))
    reached = rules.flag(body, "reached", required=True)
    satisfied = rules.flag(body, "satisfied")
    return (reached, satisfied, rules.text(body, "note", "回访情况", required=not reached))


def _note(body: dict[str, Any], config: Any) -> tuple[Any, ...]:
    rules.only(body, ("note",))
    return (rules.text(body, "note", "说明", required=False),)


def _extend(body: dict[str, Any], config: Any) -> tuple[Any, ...]:
    rules.only(body, ("days", "reason", "approve"))
    days = rules.days(body, config.callcenter.extension_max_days)
    approve = rules.flag(body, "approve")
    return (days, rules.text(body, "reason", "延期理由", required=days is not None), approve)


def _nothing(body: dict[str, Any], config: Any) -> tuple[Any, ...]:
    rules.only(body, ())
    return ()


def _escalate(body: dict[str, Any], config: Any) -> tuple[Any, ...]:
    rules.only(body, ("note",))
    return (rules.text(body, "note", "督办意见"),)


MOVES: dict[str, tuple[frozenset[str], Parse, Callable[..., Any]]] = {
    "accept": (AGENTS, _accept, cases.accept),
    "dispatch": (AGENTS, _dispatch, cases.dispatch),
    "sign": (DEPARTMENTS, _nothing, cases.sign),
    "return": (DEPARTMENTS, _reason, cases.return_),
    "feedback": (AGENTS | DEPARTMENTS, _answer, cases.feedback),
    "review": (AGENTS, _review, cases.review),
    "return-visit": (AGENTS, _visit, cases.return_visit),
    "close": (AGENTS, _note, cases.close),
    "extend": (AGENTS | DEPARTMENTS, _extend, cases.extend),
    "escalate": (AGENTS, _escalate, cases.escalate),
}


def _move_handler(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    roles, parse, unit = MOVES[name]

    @access(roles=roles)  # the step's own roles, so the access table shows who really may take it
    async def handler(request: web.Request) -> web.Response:
        actor = await actor_of(request)
        if actor.role not in roles:
            raise Forbidden("forbidden", "您的账号无权办理这一步")
        case_id = _case_id(request)
        row = await _visible(request, case_id, actor)
        rules.check_kind(row["type"], name)
        config, db = request.app[CONFIG], request.app[DB]
        args = parse(await read_json(request, optional=True), config)
        row = await db.write(unit, config, case_id, actor, *args)
        return respond(await detail_json(db, config, row, request.app[CLOCK].now()))

    handler.__name__ = f"{name.replace('-', '_')}_case"
    return handler


@access(roles=AGENTS)
async def post_message(request: web.Request) -> web.Response:
    """The agent's reply, through the case's own channel."""
    body = await read_json(request)
    rules.only(body, ("text",))
    text = rules.text(body, "text", "回复内容", max_len=rules.TEXT_MAX)
    case_id = _case_id(request)
    config, db = request.app[CONFIG], request.app[DB]
    row = await db.write(replies.reply, config, case_id, text, await actor_of(request))
    return respond(await detail_json(db, config, row, request.app[CLOCK].now()), 201)


@access(roles=CASE_READERS)
async def get_attachment(request: web.Request) -> web.StreamResponse:
    """A message's attachment, always as a download (never shown inline: an HTML mail body or an
    image is not rendered by the desk's browser), to those who may read the case."""
    case_id = _case_id(request)
    await _visible(request, case_id, await actor_of(request))
    raw_message, raw_n = request.match_info["message"], request.match_info["n"]
    if not (raw_message.isdigit() and raw_n.isdigit()) or len(raw_message) > 12 or len(raw_n) > 3:
        raise NotFound("attachment_not_found", "没有这个附件")
    row = await request.app[DB].fetchone(
        "SELECT attachments FROM case_messages WHERE id = ? AND case_id = ?", (int(raw_message), case_id)
    )
    files = json.loads(row["attachments"]) if row else []
    n = int(raw_n)
    if n >= len(files) or not files[n].get("file"):
        raise NotFound("attachment_not_found", "没有这个附件")
    path = intake.attachment_dir(request.app) / files[n]["file"]
    if not path.is_file():
        raise NotFound("attachment_not_found", "附件文件已不在服务器上")
    name = quote(files[n]["name"] or files[n]["file"])
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
        "Content-Type": "application/octet-stream",
        "X-Content-Type-Options": "nosniff",
    }
    return web.FileResponse(path, headers=headers)


@access(roles=CASE_READERS)
async def post_note(request: web.Request) -> web.Response:
    body = await read_json(request)
    rules.only(body, ("text",))
    text = rules.text(body, "text", "备注", max_len=rules.TEXT_MAX)
    actor = await actor_of(request)
    case_id = _case_id(request)
    await _visible(request, case_id, actor)
    config, db = request.app[CONFIG], request.app[DB]
    row = await db.write(replies.note, case_id, text, actor)
    return respond(await detail_json(db, config, row, request.app[CLOCK].now()), 201)


# -- the desk ---------------------------------------------------------------------------------------


@access(roles=AGENTS)
async def set_presence(request: web.Request) -> web.Response:
    body = await read_json(request)
    rules.only(body, ("status", "reason"))
    status = v.choice(body, "status", tuple(PRESENCE), required=True)
    reason = rules.text(body, "reason", "示忙原因", required=status == "busy", max_len=40)
    config = request.app[CONFIG]
    routed = await request.app[DB].write(cases_presence, config, await actor_of(request), status, reason)
    phone = None
    if PHONE in request.app:  # mirrored to Asterisk's queue (QueuePause); Hall's own state stands either way
        try:
            await request.app[PHONE].presence(request[PRINCIPAL].name, status, reason)
            phone = "synced"
        except (AmiError, OSError, TimeoutError) as e:
            log.warning("presence of %s not mirrored to Asterisk: %s", request[PRINCIPAL].name, e)
            phone = "unreachable"
    answer = {"status": status, "status_name": PRESENCE[status], "reason": reason, "routed": routed, "phone": phone}
    return respond(answer)


def cases_presence(tx: Any, config: Any, actor: Actor, status: str, reason: str) -> int:
    return intake.set_presence(tx, config, actor, status, reason)


@access(roles=AGENTS)
async def call_citizen(request: web.Request) -> web.Response:
    """A return-visit call through Asterisk: the agent's phone rings, then the citizen's. The number
    never reaches the page; the call is logged as a read of the contact."""
    case_id = _case_id(request)
    row = await _visible(request, case_id, await actor_of(request))
    if PHONE not in request.app:
        raise Conflict("phone_not_configured", "没有接入电话系统(Asterisk),请用话机直接拨打")
    if not row["contact_phone"]:
        raise Conflict("no_phone", "这件工单没有联系电话")
    who = request[PRINCIPAL]
    await request.app[DB].write(_log_read, who.id, case_id, "外呼回访")
    try:
        result = await request.app[PHONE].return_visit(case_id, who.name, row["contact_phone"])
    except LookupError:
        raise Conflict("no_extension", "您的账号没有配置坐席话机([callcenter.ami] agents)") from None
    except (AmiError, OSError, TimeoutError) as e:
        raise HallError("phone_unreachable", f"电话系统没有响应:{e}", status=503) from None
    return respond({"ok": result.ok, "reason": result.reason, "reason_text": result.reason_text})


@access(roles=AGENTS)
async def overview(request: web.Request) -> web.Response:
    """The supervisor's view: agents and their load, what waits, what is late, the return-visit rate."""
    config, db, now = request.app[CONFIG], request.app[DB], request.app[CLOCK].now()
    agents = await store.presence(db)
    loads = dict(
        await db.fetchall(
            "SELECT assigned_to, COUNT(*) FROM cases WHERE status <> 'closed' AND assigned_to IS NOT NULL "
            "GROUP BY assigned_to"
        )
    )
    rate = await store.visit_rate(db)
    owed = await store.find(db, store.CaseFilter(status="visit_owed"), now, 200, 0)
    overdue = await store.find(db, store.CaseFilter(status="overdue"), now, 200, 0)
    waiting = await store.count(db, store.CaseFilter(status="registered"), now)
    return respond(
        {
            "agents": [
                {
                    "id": a["user_id"],
                    "name": a["display_name"],
                    "status": a["status"],
                    "status_name": PRESENCE.get(a["status"], a["status"]),
                    "reason": a["reason"],
                    "open_cases": loads.get(a["user_id"], 0),
                }
                for a in agents
            ],
            "waiting": waiting,
            "overdue": await cases_json(db, config, overdue, now),
            "visit_owed": await cases_json(db, config, owed, now),
            "return_visits": {
                "due": rate["due"] or 0,
                "done": rate["visited"] or 0,
                "rate": round(rate["visited"] / rate["due"], 4) if rate["due"] else None,
                "target": 1.0,
            },
        }
    )


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/cases", create_case, name="create_case")
    r.add_get("/api/cases", list_cases, name="list_cases")
    r.add_get("/api/cases/{id}", get_case, name="get_case")
    r.add_get("/api/cases/{id}/contact", get_contact, name="case_contact")
    for name in MOVES:
        r.add_post(f"/api/cases/{{id}}/{name}", _move_handler(name), name=f"case_{name.replace('-', '_')}")
    r.add_post("/api/cases/{id}/messages", post_message, name="case_message")
    r.add_post("/api/cases/{id}/notes", post_note, name="case_note")
    r.add_get("/api/cases/{id}/messages/{message}/attachments/{n}", get_attachment, name="case_attachment")
    r.add_post("/api/cases/{id}/call", call_citizen, name="case_call")
    r.add_post("/api/desk/presence", set_presence, name="desk_presence")
    r.add_get("/api/desk/overview", overview, name="desk_overview")
