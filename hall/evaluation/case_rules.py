"""Bad-review case rules as plain functions: the stages, what each step must say, what follows it.

The path of a case (`stage` is the step it waits for):

    verify → rectify → feedback → revisit → closed
    verify (不属实 / 误评) ────→ feedback        nothing to rectify: the verification explains it
    revisit, not satisfied, first round → rectify again (round 2), once
    revisit, not satisfied, round 2 → closed as unsatisfied

Anonymous bad reviews cannot be called back: their verify, feedback and return
visit record "无法联系(匿名)" instead of a call, and the return visit closes
them as `anonymous`. A real-name citizen who cannot be reached closes the case
as `unreached` once MIN_ATTEMPTS calls are documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest, Conflict
from .rules import VERIFY_OUTCOMES

STAGES = {"verify": "核实", "rectify": "整改/说明", "feedback": "反馈", "revisit": "回访"}
STATUSES = {
    "open": "待核实",
    "verified": "已核实",
    "rectified": "已整改/说明",
    "fed_back": "已反馈",
    "closed": "已办结",
    "void": "已作废",
}
RECTIFY_KINDS = {"rectify": "整改", "explain": "说明"}
CONTACTS = {"reached": "已联系评价人", "unreached": "未联系上", "anonymous": "无法联系(匿名)"}
RESULTS = {
    "satisfied": "回访满意",
    "unsatisfied": "回访不满意",
    "unreached": "多次联系不上",
    "anonymous": "匿名,无法回访",
    "void": "评价作废",
}
NOTHING_TO_FIX = ("false", "mistaken")  # 不属实 / 误评: straight to feedback, the verification explains
MUST_RECTIFY = ("true",)  # 属实: an explanation alone is not enough
MIN_ATTEMPTS = 3  # calls before a return visit may close a real-name case as unreached
MAX_ROUNDS = 2  # a not-satisfied return visit reopens the rectification once
NOTE_MAX = 1000


@dataclass(frozen=True)
class Verification:
    outcome: str
    note: str
    reached: bool | None  # None: not said (a real-name citizen is taken as reached)


@dataclass(frozen=True)
class Rectification:
    kind: str
    note: str


@dataclass(frozen=True)
class Feedback:
    note: str


@dataclass(frozen=True)
class Revisit:
    reached: bool | None  # None: not said (reached for a real-name citizen)
    satisfied: bool | None
    attempts: int | None
    note: str


def _only(body: dict[str, Any], fields: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise BadRequest("unknown_field", f"不认识的字段:{', '.join(unknown)}", field=unknown[0])


def _note(body: dict[str, Any], required: bool = True) -> str:
    note = body.get("note")
    if note is None:
        note = ""
    if not isinstance(note, str) or len(note) > NOTE_MAX or "\x00" in note:
        raise BadRequest("invalid_field", f"办理说明 note 应为 {NOTE_MAX} 字以内的文字", field="note")
    note = note.strip()
    if required and not note:
        raise BadRequest("note_required", "请填写办理说明(核实了什么、做了什么、告知了什么)", field="note")
    return note


def _flag(body: dict[str, Any], field: str) -> bool | None:
    value = body.get(field)
    if value is not None and not isinstance(value, bool):
        raise BadRequest("invalid_field", f"字段 {field} 应为 true 或 false", field=field)
    return value


def check_verify(body: dict[str, Any]) -> Verification:
    _only(body, ("outcome", "note", "reached"))
    outcome = body.get("outcome")
    if outcome not in VERIFY_OUTCOMES:
        choices = "、".join(f"{k}({v})" for k, v in VERIFY_OUTCOMES.items())
        raise BadRequest("invalid_field", f"核实结果 outcome 只能是:{choices}", field="outcome")
    return Verification(outcome, _note(body), _flag(body, "reached"))


def check_rectify(body: dict[str, Any]) -> Rectification:
    _only(body, ("kind", "note"))
    kind = body.get("kind")
    if kind not in RECTIFY_KINDS:
        raise BadRequest("invalid_field", "办理方式 kind 只能是:rectify(整改)、explain(说明)", field="kind")
    return Rectification(kind, _note(body))


def check_feedback(body: dict[str, Any]) -> Feedback:
    _only(body, ("note",))
    return Feedback(_note(body))


def check_revisit(body: dict[str, Any]) -> Revisit:
    _only(body, ("reached", "satisfied", "attempts", "note"))
    reached, satisfied = _flag(body, "reached"), _flag(body, "satisfied")
    attempts = body.get("attempts")
    if attempts is not None and (type(attempts) is not int or not 1 <= attempts <= 20):
        raise BadRequest("invalid_field", "联系次数 attempts 应为 1 到 20 的整数", field="attempts")
    if reached is False and satisfied is not None:
        raise BadRequest("invalid_field", "没有联系上评价人,就不能记录是否满意", field="satisfied")
    return Revisit(reached, satisfied, attempts, _note(body, required=satisfied is not True))


def expect_stage(status: str, stage: str | None, wanted: str) -> None:
    """Refuse a step out of order, with a code a program can act on."""
    if status == "void":
        raise Conflict("case_void", "这条差评已作废(评价已被撤销),无需再办理")
    if status == "closed":
        raise Conflict("case_closed", "这条差评已经办结")
    if stage != wanted:
        raise Conflict(
            "wrong_stage",
            f"这条差评现在应当先「{STAGES.get(stage or '', stage)}」,还不能「{STAGES[wanted]}」",
            stage=stage,
        )


def contact(real_name: bool, reached: bool | None) -> str:
    """How the citizen was contacted: an anonymous rater cannot be, which is recorded, not refused."""
    if not real_name:
        if reached:
            raise Conflict("rater_anonymous", "这是匿名评价,无法联系评价人;请如实记录为「无法联系(匿名)」")
        return "anonymous"
    return "unreached" if reached is False else "reached"


def stage_after_verify(outcome: str) -> str:
    return "feedback" if outcome in NOTHING_TO_FIX else "rectify"


def check_kind(outcome: str, kind: str) -> None:
    if outcome in MUST_RECTIFY and kind != "rectify":
        raise Conflict("rectify_required", "核实属实的差评必须整改,不能只作说明")


def revisit_result(real_name: bool, visit: Revisit, round_: int) -> str | None:
    """How a return visit ends the case (a RESULTS key), or None when it reopens the rectification."""
    how = contact(real_name, visit.reached)
    if how == "anonymous":
        if visit.satisfied is not None:
            raise Conflict("rater_anonymous", "这是匿名评价,无法回访,不能记录是否满意")
        return "anonymous"
    if how == "unreached":
        if (visit.attempts or 0) < MIN_ATTEMPTS:
            raise BadRequest(
                "attempts_required",
                f"联系不上评价人时,须至少联系 {MIN_ATTEMPTS} 次并记录(attempts),才能结束回访",
                field="attempts",
            )
        return "unreached"
    if visit.satisfied is None:
        raise BadRequest("invalid_field", "回访联系上了评价人,请记录是否满意 satisfied", field="satisfied")
    if visit.satisfied:
        return "satisfied"
    return None if round_ < MAX_ROUNDS else "unsatisfied"
