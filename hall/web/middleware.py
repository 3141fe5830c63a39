"""Turning every failure into a clear answer, and headers every page carries."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..auth.middleware import is_api
from ..errors import HallError
from ..keys import CONFIG
from .jsonio import respond

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_CODES = {
    400: ("bad_request", "请求格式不正确"),
    404: ("not_found", "没有这个地址"),
    405: ("method_not_allowed", "该地址不支持这种请求方式"),
    413: ("body_too_large", "请求体过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except HallError as e:
        return _error(request, e.status, e.as_json())
    except web.HTTPException as e:
        if e.status < 400 or e.status not in _HTTP_CODES:
            raise
        code, message = _HTTP_CODES[e.status]
        if e.status == 413:
            message = f"请求体过大(上限 {request.app[CONFIG].server.max_body_kb} KiB)"
        response = _error(request, e.status, {"error": {"code": code, "message": message}})
        if e.status == 405 and "Allow" in e.headers:
            response.headers["Allow"] = e.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(request, 500, {"error": {"code": "internal_error", "message": "系统内部错误,已记录,请稍后重试"}})


def _error(request: web.Request, status: int, body: dict) -> web.Response:
    if is_api(request):
        return respond(body, status=status)
    from .pages import render_error  # pages import the auth layer; keep this one lazy

    return render_error(request, status, body["error"]["message"])


CSP = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if is_api(request):
        response.headers.setdefault("Cache-Control", "no-store")
    return response
