"""Turning every failure into a clear answer, and headers every page carries."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..auth.middleware import is_api
from ..errors import HallError
from ..keys import CONFIG
from ..ops.logs import CURRENT, RequestInfo
from ..ops.metrics import HTTP_STATS, route_of
from .jsonio import respond

log = logging.getLogger(__name__)
access_log = logging.getLogger("hall.access")

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


REQUEST_ID = "X-Request-Id"
REQUEST_ID_KEY: web.RequestKey[str] = web.RequestKey("request_id", str)
_GOOD_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # a proxy's id is kept only if it cannot forge a log line


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Name the request (the proxy's X-Request-Id, or a new one) in its answer, its log lines and the metrics."""
    sent = request.headers.get(REQUEST_ID, "")
    request_id = sent if _GOOD_ID.fullmatch(sent) else secrets.token_hex(8)
    token = CURRENT.set(RequestInfo(request_id, request.method, request.path))
    start = time.perf_counter()
    status = 500
    request[REQUEST_ID_KEY] = request_id
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as e:  # redirects and the like, answered by aiohttp
        status = e.status
        raise
    finally:
        seconds = time.perf_counter() - start
        if HTTP_STATS in request.app:
            request.app[HTTP_STATS].observe(request.method, route_of(request), status, seconds)
        if request.app[CONFIG].server.access_log:
            access_log.info(
                "%s %s %d %.1f ms",
                request.method,
                request.path,
                status,
                seconds * 1000,
                extra={"status": status, "duration_ms": round(seconds * 1000, 1)},
            )
        CURRENT.reset(token)


async def stamp_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every answer names its request, streamed ones and WebSockets too."""
    if REQUEST_ID_KEY in request:
        response.headers[REQUEST_ID] = request[REQUEST_ID_KEY]
