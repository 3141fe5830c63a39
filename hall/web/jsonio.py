"""Reading JSON bodies and writing JSON answers the same way everywhere."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from aiohttp import web

from ..errors import BadRequest

dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def respond(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


async def read_json(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is `{}` when optional."""
    raw = await request.read()
    if not raw.strip():
        if optional:
            return {}
        raise BadRequest("invalid_json", "请求体不能为空,需要一个 JSON 对象")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("invalid_json", "请求体不是有效的 JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("invalid_json", "请求体必须是一个 JSON 对象")
    return body
