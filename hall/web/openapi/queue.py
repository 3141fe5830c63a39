"""The queue (排队叫号): tickets, windows, the hall, appointments, statistics and the event log."""

from __future__ import annotations

from ...queue.appointment_rules import STATUS_NAMES as BOOKING_STATUSES
from ...queue.issuing import ISSUE_FIELDS, STAFF_CHANNELS
from ...queue.rules import LANES, OUTCOMES, STATUSES
from ...queue.stats import GROUPINGS
from ...queue.stats_views import FORMATS
from .components import (
    BOOL,
    DATE,
    ID_NUMBER,
    INT,
    NO_CONTENT,
    NUM,
    PHONE,
    STR,
    answer,
    array,
    enum,
    integer,
    maybe,
    obj,
    op,
    path,
    query,
    text,
)

TAG = "排队叫号"

TICKET = obj(
    {
        "id": INT,
        "number": STR,
        "section": STR,
        "section_name": STR,
        "status": enum(STATUSES),
        "status_name": STR,
        "priority": maybe("string"),
        "channel": STR,
        "day": STR,
        "issued_at": STR,
        "window": maybe("integer"),
        "token": STR,
    },
    ["id", "number", "section", "status"],
)
SECTION = obj(
    {
        "id": STR,
        "name": STR,
        "state": STR,
        "waiting": INT,
        "daily_cap": INT,
        "remaining": INT,
        "id_required": {"type": "boolean", "description": "实名取号:取号机和远程取号须提供身份证号码"},
    }
)
WINDOW = obj({"no": INT, "name": STR, "state": STR, "sections": array(STR)}, ["no"])
HALL = obj({"sections": array(SECTION), "windows": array(WINDOW)}, ["sections", "windows"])
BOOKING = obj(
    {
        "code": STR,
        "section": STR,
        "date": STR,
        "slot": STR,
        "status": enum(BOOKING_STATUSES),
        "name": STR,
        "phone": STR,
        "ticket_id": maybe("integer"),
    },
    ["code", "section", "date", "slot", "status"],
)

TICKET_ID = path("id", description="号票编号")
WINDOW_NO = path("no", description="窗口号")
CODE = path("code", text(20), "预约码:8 位字母和数字,大小写、空格和短横不计")
TICKET_TOKEN = query("token", text(64), "号票上的查询码(群众不登录时)")
BY_TICKET = obj({"ticket_id": integer(1)}, closed=True)

# Each window action: its summary and the fields its body may carry (queue/views.py ACTIONS).
WINDOW_ACTIONS = {
    "open": ("开窗", obj({}, closed=True)),
    "pause": ("暂停", obj({}, closed=True)),
    "resume": ("恢复", obj({}, closed=True)),
    "close": ("关窗", obj({}, closed=True)),
    "call": ("叫下一位(或指定 ticket_id)", BY_TICKET),
    "recall": ("重呼", BY_TICKET),
    "start": ("开始办理", BY_TICKET),
    "no-show": ("过号", BY_TICKET),
    "hold": ("挂起(补材料)", BY_TICKET),
    "finish": (
        "办结",
        obj(
            {
                "outcome": enum(OUTCOMES),
                "matter": text(100),
                "note": text(500),
                "assisted_by": text(32),
                "ticket_id": integer(1),
            },
            closed=True,
        ),
    ),
    "transfer": (
        "转窗口或转业务",
        obj(
            {"section": text(8), "window": integer(1, 999_999), "note": text(500), "ticket_id": integer(1)},
            closed=True,
        ),
    ),
    "requeue": ("重新排队(挂起或过号的号票)", obj({"ticket_id": integer(1)}, ["ticket_id"], closed=True)),
}


def _window_action(summary: str, body: dict) -> dict:
    return op(
        f"窗口:{summary}",
        params=[WINDOW_NO],
        body=body,
        optional_body=True,
        answer=obj(),
        also=NO_CONTENT,
        description="回答窗口和号票的新状态;没有可叫的号时为 204。",
    )


ISSUE = obj(
    {
        "section": text(8, description="业务板块编号,如 A"),
        "request_id": text(64, pattern=r"[A-Za-z0-9_.:-]+", description="幂等键:同一请求重发得到同一张号票"),
        "priority": enum([k for k in LANES if k != "appointment"]),
        "id_number": ID_NUMBER,
        "phone": PHONE,
        "channel": enum(STAFF_CHANNELS),
    },
    ["section"],
    closed=True,
)
assert set(ISSUE["properties"]) == set(ISSUE_FIELDS)

PATHS = {
    "/api/tickets": {
        "post": op(
            "取号",
            body=ISSUE,
            answer=TICKET,
            status=201,
            also={"200": answer(TICKET, "同一 request_id 的重发:原来的号票")},
            description="取号机、工作人员或群众远程取号(web/wechat,需手机号)。",
        ),
        "get": op(
            "当天(或某天)的号票",
            params=[
                query("day", DATE),
                query("status", enum(STATUSES)),
                query("section", text(8)),
                query("limit", integer(1, 1000), "默认 200"),
            ],
            answer=obj({"day": STR, "tickets": array(TICKET)}, ["day", "tickets"]),
        ),
    },
    "/api/tickets/{id}": {
        "get": op("一张号票和预计等待", params=[TICKET_ID, TICKET_TOKEN], answer=TICKET),
    },
    "/api/tickets/{id}/cancel": {
        "post": op(
            "取消号票",
            params=[TICKET_ID],
            body=obj({"token": text(64)}, closed=True),
            optional_body=True,
            answer=TICKET,
        ),
    },
    "/api/tickets/{id}/print": {
        "post": op(
            "在取号机的小票打印机上打印",
            params=[TICKET_ID],
            answer=obj({"printed": BOOL, "printer": STR, "bytes": INT}, ["printed"]),
        ),
    },
    "/api/hall": {"get": op("大厅概况:各板块和窗口", answer=HALL)},
    "/api/windows": {"get": op("所有窗口", answer=obj({"windows": array(WINDOW)}, ["windows"]))},
    "/api/windows/{no}": {
        "get": op(
            "一个窗口,和它能叫的等待中、过号的号票",
            params=[WINDOW_NO],
            answer=obj({"window": WINDOW, "waiting": array(TICKET), "missed": array(TICKET)}, ["window"]),
        )
    },
    **{
        f"/api/windows/{{no}}/{name}": {"post": _window_action(summary, body)}
        for name, (summary, body) in WINDOW_ACTIONS.items()
    },
    "/api/appointments/slots": {
        "get": op(
            "某板块某天的预约时段和余量",
            params=[
                {**query("section", text(8)), "required": True},
                {**query("date", DATE), "required": True},
            ],
            answer=obj(
                {
                    "section": STR,
                    "section_name": STR,
                    "date": STR,
                    "slots": array(
                        obj(
                            {
                                "slot": STR,
                                "capacity": INT,
                                "booked": INT,
                                "remaining": INT,
                                "bookable": BOOL,
                                "reason": maybe("string"),
                            }
                        )
                    ),
                },
                ["section", "date", "slots"],
            ),
        )
    },
    "/api/appointments": {
        "post": op(
            "预约",
            body=obj(
                {
                    "section": text(8),
                    "date": DATE,
                    "slot": text(20, description="如 09:00-10:00"),
                    "name": text(30),
                    "phone": PHONE,
                    "id_number": ID_NUMBER,
                },
                ["section", "date", "slot", "name", "phone", "id_number"],
                closed=True,
            ),
            answer=BOOKING,
            status=201,
        ),
        "get": op(
            "某天的预约",
            params=[query("date", DATE), query("section", text(8)), query("status", enum(BOOKING_STATUSES))],
            answer=obj({"date": STR, "appointments": array(BOOKING)}, ["date", "appointments"]),
        ),
    },
    "/api/appointments/check-in": {
        "post": op(
            "凭手机号签到取号",
            body=obj({"phone": PHONE}, ["phone"], closed=True),
            answer=obj(),
            status=201,
            also={"200": answer(obj(), "已签到过:原来的号票")},
        ),
    },
    "/api/appointments/{code}": {
        "get": op("一个预约", params=[CODE, query("phone", text(20), "预约时的手机号(群众)")], answer=BOOKING),
    },
    "/api/appointments/{code}/cancel": {
        "post": op(
            "取消预约",
            params=[CODE],
            body=obj({"phone": text(20)}, closed=True),
            optional_body=True,
            answer=BOOKING,
        ),
    },
    "/api/appointments/{code}/check-in": {
        "post": op(
            "凭预约码签到取号",
            params=[CODE],
            body=obj({}, closed=True),
            optional_body=True,
            answer=obj(),
            status=201,
            also={"200": answer(obj(), "已签到过:原来的号票")},
        ),
    },
    "/api/stats": {
        "get": op(
            "业务量统计(JSON,或 CSV / Excel 下载)",
            params=[
                query("from", DATE),
                query("to", DATE),
                query("by", enum(GROUPINGS)),
                query("format", enum(FORMATS)),
            ],
            answer=obj(),
            also={
                "200": {
                    "description": "统计结果",
                    "content": {
                        "application/json": {"schema": obj()},
                        "text/csv": {"schema": STR},
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                            "schema": {"type": "string", "format": "binary"}
                        },
                    },
                }
            },
        )
    },
    "/api/stats/live": {"get": op("今天此刻:等待、叫号和各窗口", answer=obj())},
    "/api/events": {
        "get": op(
            "事件日志(按编号增量读取)",
            params=[query("after", integer(0, 2**62)), query("limit", integer(1, 1000), "默认 500")],
            answer=obj(
                {"events": array(obj({"id": INT, "type": STR, "at": NUM})), "last_id": INT, "more": BOOL},
                ["events", "last_id", "more"],
            ),
        )
    },
    "/api/health": {"get": op("存活检查", answer=obj({"status": STR}, ["status"]))},
}
