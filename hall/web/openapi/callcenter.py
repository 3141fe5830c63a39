"""The call centre (12345 坐席): cases, their steps, the seat desk, the WeChat channel."""

from __future__ import annotations

from ...callcenter.rules import CHANNELS, NOTE_MAX, STATES, TEXT_MAX
from ...callcenter.settings import TYPES
from ...callcenter.views import EMAIL, MANUAL_CHANNELS, PRESENCE
from .components import BOOL, INT, PHONE, STR, UNAVAILABLE, array, enum, integer, maybe, obj, op, paging, path, query
from .components import text as text_field

TAG = "咨询投诉"

CASE_ID = path("id", description="工单编号")
CASE = obj(
    {"id": INT, "no": STR, "status": enum(STATES), "type": maybe("string"), "title": STR}, ["id", "no", "status"]
)
CITIZEN_TYPES = [t for t in TYPES if t != "bad_review"]


def text(max_len: int = NOTE_MAX, required: bool = False) -> dict:
    """A field as `rules.text` checks it: blank counts as missing."""
    return text_field(max_len, pattern=r"[\s\S]*\S[\s\S]*" if required else None)


def note(max_len: int = NOTE_MAX) -> dict:
    return text_field(max_len)


# Each step of a case (callcenter/views.py MOVES): its summary and body.
STEPS = {
    "accept": ("受理", obj({"type": enum(CITIZEN_TYPES), "title": note(60)}, closed=True)),
    "dispatch": (
        "转办给部门",
        obj(
            {"departments": {"type": "array", "items": STR, "minItems": 1}, "instructions": note()},
            ["departments"],
            closed=True,
        ),
    ),
    "sign": ("部门签收", obj({}, closed=True)),
    "return": ("部门退单", obj({"reason": text(required=True)}, ["reason"], closed=True)),
    "feedback": ("反馈办理结果", obj({"answer": text(TEXT_MAX, required=True)}, ["answer"], closed=True)),
    "review": ("审核部门的反馈", obj({"approve": BOOL, "note": note()}, ["approve"], closed=True)),
    "return-visit": ("回访", obj({"reached": BOOL, "satisfied": BOOL, "note": note()}, ["reached"], closed=True)),
    "close": ("办结", obj({"note": note()}, closed=True)),
    "extend": ("申请或批准延期", obj({"days": integer(1), "reason": note(), "approve": BOOL}, closed=True)),
    "escalate": ("督办", obj({"note": text(required=True)}, ["note"], closed=True)),
}

NEW_CASE = obj(
    {
        "type": enum(CITIZEN_TYPES),
        "content": text(TEXT_MAX, required=True),
        "title": note(60),
        "name": note(40),
        "phone": PHONE,
        "email": text_field(254, pattern=EMAIL),
        "channel": enum(MANUAL_CHANNELS),
        "ticket_id": integer(1),
        "window_no": integer(1, 999),
        "staff_user_id": integer(1),
        "matter": note(60),
    },
    ["content"],
    closed=True,
)

PATHS = {
    "/api/cases": {
        "post": op(
            "登记工单",
            body=NEW_CASE,
            answer=obj({"no": STR, "status": STR}, ["no", "status"]),
            status=201,
            description="群众(网页表单,不登录):type、content 和手机或邮箱必填,只回答工单号;"
            "坐席登记来电、来访等:回答工单详情。",
        ),
        "get": op(
            "工单列表",
            params=[
                query("status", enum([*STATES, "open", "overdue", "visit_owed"])),
                query("channel", enum(CHANNELS)),
                query("type", enum(TYPES)),
                query("department", note(60)),
                query("phone", note(20)),
                query("mine", enum(("0", "1", "true", "false"))),
                *paging(100, 500),
            ],
            answer=obj({"cases": array(CASE), "total": INT, "limit": INT}, ["cases", "total"]),
        ),
    },
    "/api/cases/{id}": {"get": op("一件工单的详情和经过", params=[CASE_ID], answer=CASE)},
    "/api/cases/{id}/contact": {
        "get": op(
            "联系方式(不打码,每次读取都记录)",
            params=[CASE_ID, query("purpose", note(100), "读取目的,记入审计")],
            answer=obj(),
        )
    },
    **{
        f"/api/cases/{{id}}/{name}": {"post": op(summary, params=[CASE_ID], body=body, optional_body=True, answer=CASE)}
        for name, (summary, body) in STEPS.items()
    },
    "/api/cases/{id}/messages": {
        "post": op(
            "回复市民(经原渠道发出)",
            params=[CASE_ID],
            body=obj({"text": text(TEXT_MAX, required=True)}, ["text"], closed=True),
            answer=CASE,
            status=201,
        )
    },
    "/api/cases/{id}/notes": {
        "post": op(
            "内部备注",
            params=[CASE_ID],
            body=obj({"text": text(TEXT_MAX, required=True)}, ["text"], closed=True),
            answer=CASE,
            status=201,
        )
    },
    "/api/cases/{id}/messages/{message}/attachments/{n}": {
        "get": {
            "summary": "往来消息的附件(图片、语音、文件)",
            "parameters": [CASE_ID, path("message", description="消息编号"), path("n", integer(0), "第几个附件")],
            "responses": {
                "200": {
                    "description": "附件文件",
                    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                },
                "4XX": {"$ref": "#/components/responses/Error"},
            },
        }
    },
    "/api/cases/{id}/call": {
        "post": op(
            "经电话系统回拨市民(先接通坐席话机)",
            params=[CASE_ID],
            answer=obj({"ok": BOOL, "reason": maybe("string"), "reason_text": maybe("string")}, ["ok"]),
            also=UNAVAILABLE,
        )
    },
    "/api/desk/presence": {
        "post": op(
            "坐席状态:在线、示忙、话后整理、离线",
            body=obj({"status": enum(PRESENCE), "reason": note(40)}, ["status"], closed=True),
            answer=obj(),
        )
    },
    "/api/desk/overview": {"get": op("坐席台概况:待回访、超期、待受理", answer=obj())},
    "/api/desk/inbox": {
        "get": op(
            "待办工单:自己的在前,然后是待分派的(scope=all:所有人的)",
            params=[query("scope", enum(("mine", "all")))],
            answer=obj({"cases": array(CASE), "scope": STR, "department": maybe("string")}, ["cases", "scope"]),
        )
    },
}

SIGNED = [
    query("signature", STR),
    query("timestamp", STR),
    query("nonce", STR),
    query("msg_signature", STR),
    query("encrypt_type", enum(("aes", "raw"))),
]

# Only when [callcenter.wechat] is enabled: the server adds these routes then.
WECHAT_PATHS = {
    "/wechat": {
        "get": {
            "summary": "微信公众号服务器地址校验:签名正确时原样回答 echostr",
            "parameters": [*SIGNED, query("echostr", STR)],
            "responses": {
                "200": {"description": "echostr", "content": {"text/plain": {"schema": STR}}},
                "4XX": {"$ref": "#/components/responses/Error"},
            },
        },
        "post": {
            "summary": "微信公众号消息推送(XML,明文或安全模式)",
            "parameters": SIGNED,
            "requestBody": {"required": True, "content": {"text/xml": {"schema": STR}}},
            "responses": {
                "200": {"description": "被动回复(XML)或 success", "content": {"text/xml": {"schema": STR}}},
                "4XX": {"$ref": "#/components/responses/Error"},
            },
        },
    }
}
