"""What every part of the description shares: field schemas, parameters, the error answer, operations.

Operations are small dicts built by `op()`; each domain module lists its paths with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Schema = dict[str, Any]

# -- field schemas -------------------------------------------------------------------------------


def text(max_len: int, *, min_len: int = 0, pattern: str | None = None, **extra: Any) -> Schema:
    """A string as `validation.text` checks it: at most `max_len` characters, optionally a pattern."""
    schema: Schema = {"type": "string", "maxLength": max_len, **extra}
    if min_len:
        schema["minLength"] = min_len
    if pattern:
        schema["pattern"] = f"^{pattern}$"
    return schema


def integer(low: int | None = None, high: int | None = None, **extra: Any) -> Schema:
    schema: Schema = {"type": "integer", **extra}
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return schema


def enum(values: Iterable[str]) -> Schema:
    return {"type": "string", "enum": list(values)}


def maybe(kind: str | Schema) -> Schema:
    """A value of `kind`, or null (a field the answer always has, empty when there is nothing)."""
    if isinstance(kind, str):
        return {"type": [kind, "null"]}
    return {"anyOf": [kind, {"type": "null"}]}


def obj(properties: dict[str, Any] | None = None, required: Iterable[str] = (), *, closed: bool = False) -> Schema:
    schema: Schema = {"type": "object", "properties": properties or {}}
    if required:
        schema["required"] = list(required)
    if closed:  # `validation.only`: a field the endpoint does not know is refused
        schema["additionalProperties"] = False
    return schema


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


BOOL, INT, NUM, STR = ({"type": t} for t in ("boolean", "integer", "number", "string"))
DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
PHONE = text(20, description="11 位手机号,可含空格、短横或 +86")
ID_NUMBER = text(18, description="18 位居民身份证号")
OK = obj({"ok": BOOL}, ["ok"])

# -- parameters ----------------------------------------------------------------------------------


def query(name: str, schema: Schema, description: str = "") -> dict[str, Any]:
    param = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


def path(name: str, schema: Schema | None = None, description: str = "") -> dict[str, Any]:
    param = {"name": name, "in": "path", "required": True, "schema": schema or integer(1)}
    if description:
        param["description"] = description
    return param


def day_range(description: str = "本地日期 YYYY-MM-DD") -> list[dict[str, Any]]:
    return [query("from", DATE, description), query("to", DATE, description)]


def paging(limit: int, high: int) -> list[dict[str, Any]]:
    return [
        query("limit", integer(1, high), f"默认 {limit}"),
        query("offset", integer(0, 10**9)),
    ]


# -- operations ----------------------------------------------------------------------------------

ERROR = obj(
    {
        "error": obj(
            {
                "code": {"type": "string", "description": "稳定的错误代码,如 section_closed"},
                "message": {"type": "string", "description": "给人看的中文说明"},
                "field": {"type": "string", "description": "出错的字段(有时)"},
            },
            ["code", "message"],
        )
    },
    ["error"],
)

ERROR_RESPONSE = {
    "description": "请求被拒绝:`{error: {code, message, field?}}`",
    "content": {"application/json": {"schema": ref("Error")}},
}


def json_body(schema: Schema, *, optional: bool = False) -> dict[str, Any]:
    return {"required": not optional, "content": {"application/json": {"schema": schema}}}


def op(
    summary: str,
    *,
    params: Iterable[dict[str, Any]] = (),
    body: Schema | None = None,
    optional_body: bool = False,
    answer: Schema | None = None,
    status: int = 200,
    also: dict[str, Any] | None = None,
    description: str = "",
) -> dict[str, Any]:
    """One operation: its parameters, its JSON body, its answer at `status`, errors as `Error`.

    `also` adds answers (another 2xx, a file, a 503) by status.
    """
    responses: dict[str, Any] = {
        str(status): {"description": "成功", "content": {"application/json": {"schema": answer or obj()}}},
        "4XX": {"$ref": "#/components/responses/Error"},
        **(also or {}),
    }
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if description:
        operation["description"] = description
    if params:
        operation["parameters"] = list(params)
    if body is not None:
        operation["requestBody"] = json_body(body, optional=optional_body)
    return operation


def answer(schema: Schema, description: str = "成功") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


NO_CONTENT = {"204": {"description": "完成,没有内容"}}
UNAVAILABLE = {"503": {"$ref": "#/components/responses/Error"}}

SECURITY_SCHEMES = {
    "userToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "工作人员登录后得到的令牌 `hs_…`(POST /api/auth/login)",
    },
    "deviceToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "设备令牌 `hd_…`:取号机 kiosk、屏幕 display、评价器 pad(管理员登记时发放)",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "hall_session",
        "description": "页面会话;非 GET 请求还需 X-CSRF-Token 头",
    },
    "deviceSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "hall_device",
        "description": "在本机登记过的设备页面;非 GET 请求还需 X-CSRF-Token 头",
    },
}
