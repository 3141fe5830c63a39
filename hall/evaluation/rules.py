"""Rating rules as plain functions: what a rating must say, and when one may be given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from ..personal import normalize_id_number, normalize_phone
from .settings import BAD_GRADES, GRADES, EvaluationSettings

# Where a rating comes from: the window's pad, the QR code of the ticket, the web, an SMS
# or the hotline (entered by staff for the citizen), or the configured default for a
# service left unrated.
CHANNELS = {
    "pad": "窗口评价器",
    "qr": "扫码评价",
    "web": "网上评价",
    "sms": "短信评价",
    "hotline": "电话评价",
    "default": "默认评价",
}
CITIZEN_CHANNELS = ("qr", "web")
STAFF_CHANNELS = ("sms", "hotline")
VERIFY_OUTCOMES = {"true": "属实", "partly": "部分属实", "false": "不属实", "mistaken": "误评"}


@dataclass(frozen=True)
class Rater:
    anonymous: bool
    name: str | None = None
    phone: str | None = None
    id_number: str | None = None


@dataclass(frozen=True)
class RatingInput:
    grade: int
    tags: tuple[str, ...]
    comment: str
    rater: Rater


def is_bad(grade: int) -> bool:
    return grade in BAD_GRADES


def check_rating(body: dict[str, Any], settings: EvaluationSettings) -> RatingInput:
    """Grade, tags and comment as the national practice wants them; a clear error otherwise."""
    grade = body.get("grade")
    if not isinstance(grade, int) or isinstance(grade, bool) or grade not in GRADES:
        raise BadRequest("invalid_field", "评价等级 grade 应为 1 到 5(5 非常满意 … 1 非常不满意)", field="grade")
    tags = body.get("tags", [])
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags) or len(tags) > 10:
        raise BadRequest("invalid_field", "标签 tags 应为字符串列表", field="tags")
    allowed = settings.tags(grade)
    unknown = [t for t in tags if t not in allowed]
    if unknown:
        raise BadRequest(
            "invalid_tag", f"「{unknown[0]}」不是{GRADES[grade]}可选的标签,可选:{'、'.join(allowed)}", field="tags"
        )
    comment = body.get("comment", "") or ""
    if not isinstance(comment, str) or len(comment) > 500 or "\x00" in comment:
        raise BadRequest("invalid_field", "评价内容 comment 应为 500 字以内的文字", field="comment")
    comment = comment.strip()
    if is_bad(grade) and not tags and not comment:
        raise BadRequest(
            "reason_required", "差评(不满意、非常不满意)请选择至少一个标签或写下原因,以便我们整改", field="tags"
        )
    return RatingInput(grade, tuple(dict.fromkeys(tags)), comment, check_rater(body.get("rater")))


def check_rater(raw: Any) -> Rater:
    """Who rates: anonymous unless a name or phone is given (both are optional)."""
    if raw is None:
        return Rater(anonymous=True)
    if not isinstance(raw, dict):
        raise BadRequest("invalid_field", "评价人 rater 应为对象", field="rater")
    unknown = set(raw) - {"name", "phone", "id_number", "anonymous"}
    if unknown:
        raise BadRequest("unknown_field", f"评价人信息中不认识的字段:{sorted(unknown)[0]}", field="rater")
    anonymous = raw.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise BadRequest("invalid_field", "rater.anonymous 应为 true 或 false", field="rater.anonymous")
    if anonymous:
        return Rater(anonymous=True)
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or not 0 < len(name.strip()) <= 40):
        raise BadRequest("invalid_field", "评价人姓名不正确", field="rater.name")
    phone = raw.get("phone")
    if phone is not None:
        phone = normalize_phone(phone) if isinstance(phone, str) else None
        if phone is None:
            raise BadRequest("invalid_field", "评价人手机号码不正确,应为 11 位手机号", field="rater.phone")
    id_number = raw.get("id_number")
    if id_number is not None:
        id_number = normalize_id_number(id_number) if isinstance(id_number, str) else None
        if id_number is None:
            raise BadRequest("invalid_field", "评价人身份证号码不正确", field="rater.id_number")
    if not (name or phone or id_number):
        return Rater(anonymous=True)
    return Rater(False, name.strip() if name else None, phone, id_number)
