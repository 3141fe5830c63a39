"""The case (工单) state machine and what each step must carry, as plain functions.

    registered 登记 ─accept→ accepted 受理 ─feedback (agent answers directly)→ answered 已答复
                                        └─dispatch→ dispatched 转办 ─sign→ signed 签收
                                                    ─feedback (every department)→ fed_back 反馈
                                                    ─review (approved)→ reviewed 审核
    answered / reviewed ─return-visit (reached, satisfied)→ visited 已回访 ─close→ closed 办结

Side paths: a department returns its share (退单, with a reason): with no
department left on it the case is back with the agent (accepted) to dispatch
again. A review that sends the answers back (redo) returns the case to signed.
A return visit that reaches a citizen who is not satisfied reopens it (重办:
accepted, round + 1); one that does not reach the citizen is recorded as an
attempt, and after `visit_attempts` documented attempts the case counts as
visited (unreached). Extension (延期) moves the deadline; escalation (督办)
flags the case for the supervisor. **Nothing closes without a return visit.**
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import BadRequest, Conflict
from .settings import TYPES

STATES = {
    "registered": "登记",
    "accepted": "受理",
    "answered": "已答复",
    "dispatched": "转办",
    "signed": "签收",
    "fed_back": "反馈",
    "reviewed": "审核通过",
    "visited": "已回访",
    "closed": "办结",
}
OPEN_STATES = tuple(s for s in STATES if s != "closed")
WITH_DEPARTMENTS = ("dispatched", "signed", "fed_back")

# action -> the states it may start from
MOVES: dict[str, tuple[str, ...]] = {
    "accept": ("registered",),
    "dispatch": ("accepted",),
    "sign": ("dispatched",),
    "return": ("dispatched", "signed"),
    "feedback": ("accepted", "signed"),  # the agent answers an accepted case; a department its signed share
    "review": ("fed_back",),
    "return-visit": ("answered", "reviewed"),
    "close": ("visited",),
    "extend": ("dispatched", "signed"),
    "escalate": OPEN_STATES,
}
ACTION_NAMES = {
    "register": "登记",
    "assign": "分派坐席",
    "accept": "受理",
    "dispatch": "转办",
    "sign": "签收",
    "return": "退单",
    "feedback": "反馈",
    "answer": "直接答复",
    "review": "审核",
    "return-visit": "回访",
    "reopen": "重办",
    "close": "办结",
    "extend": "延期",
    "escalate": "督办",
    "message": "留言",
    "reply": "回复",
    "warning": "临近期限",
    "overdue": "超期",
}
DISPATCH_STATES = {"pending": "待签收", "signed": "已签收", "answered": "已反馈", "returned": "已退单"}
VISIT_RESULTS = {"satisfied": "满意", "unreached": "多次联系未果", "unsatisfied": "不满意(重办)"}
CHANNELS = {
    "phone": "电话",
    "wechat": "微信",
    "email": "邮件",
    "web": "网页",
    "qq": "QQ",
    "walk_in": "现场",
    "rating": "差评跟踪",
}
TEXT_MAX = 5000
NOTE_MAX = 1000


def check_move(status: str, action: str) -> None:
    """Refuse a step the case's state does not allow, with a code a program can act on."""
    if status in MOVES[action]:
        return
    if status == "closed":
        raise Conflict("case_closed", "这件工单已经办结")
    if action == "close" and status in ("answered", "reviewed"):
        raise Conflict("return_visit_required", "工单还没有回访记录,回访(满意,或多次联系未果)后才能办结")
    allowed = "、".join(STATES[s] for s in MOVES[action])
    raise Conflict(
        "illegal_move", f"工单现在是「{STATES[status]}」,不能「{ACTION_NAMES[action]}」(只有{allowed}的工单可以)"
    )


def check_kind(case_type: str | None, action: str) -> None:
    """A bad review's steps are its follow-up's (verify, rectify, feedback, return visit): the desk
    mirrors them and only escalates."""
    if case_type == "bad_review" and action != "escalate":
        raise Conflict(
            "bad_review_case", "差评工单按差评整改流程办理(核实、整改、反馈、回访),请在「差评整改」中办理这一步"
        )


def status_from_dispatches(statuses: Iterable[str]) -> str:
    """The case's state from its departments' shares in this round (returned ones left out)."""
    active = [s for s in statuses if s != "returned"]
    if not active:
        return "accepted"  # back with the agent, to dispatch again
    if "pending" in active:
        return "dispatched"
    if all(s == "answered" for s in active):
        return "fed_back"
    return "signed"


def visit_outcome(reached: bool, satisfied: bool | None, attempts_before: int, needed: int) -> str | None:
    """What a return visit does: 'satisfied', 'unsatisfied' (重办), 'unreached' (enough attempts
    to count as visited) or None (an attempt recorded, the case still owes a visit)."""
    if reached:
        if satisfied is None:
            raise BadRequest("invalid_field", "联系上市民时,请记录是否满意 satisfied", field="satisfied")
        return "satisfied" if satisfied else "unsatisfied"
    if satisfied is not None:
        raise BadRequest("invalid_field", "没有联系上市民,就不能记录是否满意", field="satisfied")
    return "unreached" if attempts_before + 1 >= needed else None


# -- request bodies --------------------------------------------------------------------------------


def only(body: dict[str, Any], fields: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise BadRequest("unknown_field", f"不认识的字段:{', '.join(unknown)}", field=unknown[0])


def text(body: dict[str, Any], field: str, name: str, required: bool = True, max_len: int = NOTE_MAX) -> str:
    value = body.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > max_len or "\x00" in value:
        raise BadRequest("invalid_field", f"{name}({field})应为 {max_len} 字以内的文字", field=field)
    value = value.strip()
    if required and not value:
        raise BadRequest("field_required", f"请填写{name}({field})", field=field)
    return value


def flag(body: dict[str, Any], field: str, required: bool = False) -> bool | None:
    value = body.get(field)
    if value is None and required:
        raise BadRequest("field_required", f"请给出 {field}(true 或 false)", field=field)
    if value is not None and not isinstance(value, bool):
        raise BadRequest("invalid_field", f"字段 {field} 应为 true 或 false", field=field)
    return value


def case_type(body: dict[str, Any], required: bool) -> str | None:
    value = body.get("type")
    if value is None and not required:
        return None
    if not isinstance(value, str) or value not in TYPES or value == "bad_review":  # {} or [] is not hashable
        choices = "、".join(f"{k}({v})" for k, v in TYPES.items() if k != "bad_review")
        raise BadRequest("invalid_field", f"工单类型 type 只能是:{choices}", field="type")
    return value


def departments(body: dict[str, Any], known: Iterable[str]) -> list[str]:
    value = body.get("departments")
    known = set(known)
    if not isinstance(value, list) or not value or not all(isinstance(d, str) for d in value):
        raise BadRequest("field_required", "请选择要转办的部门 departments(至少一个)", field="departments")
    names = list(dict.fromkeys(d.strip() for d in value))
    unknown = [d for d in names if d not in known]
    if unknown:
        raise BadRequest("unknown_department", f"没有这个部门:{'、'.join(unknown)}", field="departments")
    return names


def days(body: dict[str, Any], most: int) -> int | None:
    value = body.get("days")
    if value is None:
        return None
    if type(value) is not int or not 1 <= value <= most:
        raise BadRequest("invalid_field", f"延期天数 days 应为 1 到 {most} 个工作日", field="days")
    return value
