"""Field checks for request bodies, with messages a person can act on."""

from __future__ import annotations

import re
from typing import Any

from ..errors import BadRequest

_MISSING = object()


def _bad(field: str, message: str) -> BadRequest:
    return BadRequest("invalid_field", message, field=field)


def text(
    body: dict[str, Any], field: str, *, required: bool = False, max_len: int = 200, pattern: str | None = None
) -> str | None:
    value = body.get(field, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise _bad(field, f"缺少字段 {field}")
        return None
    if not isinstance(value, str):
        raise _bad(field, f"字段 {field} 必须是字符串")
    value = value.strip()
    if required and not value:
        raise _bad(field, f"字段 {field} 不能为空")
    if len(value) > max_len:
        raise _bad(field, f"字段 {field} 过长(最多 {max_len} 个字符)")
    if "\x00" in value:
        raise _bad(field, f"字段 {field} 含有非法字符")
    if pattern is not None and value and not re.fullmatch(pattern, value):
        raise _bad(field, f"字段 {field} 格式不正确")
    return value or None


def integer(
    body: dict[str, Any], field: str, *, required: bool = False, low: int | None = None, high: int | None = None
) -> int | None:
    value = body.get(field, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise _bad(field, f"缺少字段 {field}")
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(field, f"字段 {field} 必须是整数")
    if (low is not None and value < low) or (high is not None and value > high):
        raise _bad(field, f"字段 {field} 超出允许范围")
    return value


def choice(
    body: dict[str, Any], field: str, options: tuple[str, ...] | list[str], *, required: bool = False
) -> str | None:
    value = text(body, field, required=required, max_len=40)
    if value is not None and value not in options:
        raise _bad(field, f"字段 {field} 只能是:{'、'.join(options)}")
    return value


def only(body: dict[str, Any], fields: tuple[str, ...]) -> None:
    """Refuse fields the endpoint does not know, so a typo is not silently ignored."""
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise BadRequest("unknown_field", f"不认识的字段:{', '.join(unknown)}", field=unknown[0])


def query_int(query: Any, field: str, default: int, low: int, high: int) -> int:
    raw = query.get(field)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(field, f"参数 {field} 必须是整数") from None
    if not low <= value <= high:
        raise _bad(field, f"参数 {field} 必须在 {low} 到 {high} 之间")
    return value
