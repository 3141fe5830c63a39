"""Authentication and role checks for every request.

A bearer token (users: `hs_…`, devices: `hd_…`) or the page session cookie
says who is calling; each handler declares who it admits with `@access`. A
wrong token is refused even on public routes, and a handler without a
declaration admits nobody, so a forgotten check fails closed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from ..clock import Clock
from ..config import Config, LimitSettings
from ..errors import Forbidden, Unauthorized
from ..storage import Database
from ..web import ratelimit
from ..web.jsonio import respond
from . import store
from .principal import Access, Principal
from .watch import SocketWatch

COOKIE = "hall_session"
DEVICE_COOKIE = "hall_device"  # a kiosk, screen or pad browser, enrolled once with its token
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CACHE_SECONDS = 10.0

AUTHENTICATOR: web.AppKey[Authenticator] = web.AppKey("authenticator", object)
PRINCIPAL: web.RequestKey[Principal | None] = web.RequestKey("principal", object)


class Authenticator:
    """Resolves tokens to principals, caching answers for a few seconds; holds the rate limits."""

    def __init__(self, db: Database, clock: Clock, config: Config | None = None) -> None:
        self.db = db
        self.clock = clock
        self.idle_s = config.auth.idle_minutes * 60.0 if config is not None else 0.0
        self.trusted_proxies = list(config.server.trusted_proxies) if config is not None else []
        self.limiter = ratelimit.RateLimiter(config.limits if config is not None else LimitSettings(), clock)
        self._cache: dict[str, tuple[Principal | None, float]] = {}
        self.sockets = SocketWatch(db, clock)  # WebSockets closed when their device or session is revoked
        self.dummy_hash: str | None = None  # see passwords.dummy_hash
        # scrypt takes 16 MiB a hash, which the allocator keeps: at most two at once, so
        # a crowd of logins at opening time does not grow the server by hundreds of MB.
        self.hashing = asyncio.Semaphore(2)

    async def resolve(self, token: str) -> Principal | None:
        hit = self._cache.get(token)
        mono, now = time.monotonic(), self.clock.now()
        if hit is not None and hit[1] > mono:  # by real time: tests moving the hall's clock call forget()
            return hit[0]
        found = await store.principal_for_token(self.db, token, now, self.idle_s)
        principal = found[0] if found else None
        keep = CACHE_SECONDS if found is None else min(CACHE_SECONDS, found[1] - now)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (principal, mono + max(0.0, keep))
        return principal

    def forget(self) -> None:
        """Drop cached answers after a logout or revocation, and check open sockets at once."""
        self._cache.clear()
        self.sockets.wake()


PUBLIC = Access(public=True)


def access_of(request: web.Request) -> Access | None:
    if isinstance(request.match_info.route.resource, web.StaticResource):
        return PUBLIC  # the pages' CSS and scripts
    return getattr(request.match_info.handler, "hall_access", None)


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


@web.middleware
async def auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if request.match_info.http_exception is not None:
        return await handler(request)  # 404 / 405: nothing to protect
    auth = request.app[AUTHENTICATOR]
    rule = access_of(request)
    principal = await _principal(request, auth, cookie=rule is None or rule.session)
    request[PRINCIPAL] = principal
    if rule is None or not rule.admits(principal):
        if principal is None and (rule is None or not rule.public):
            if not is_api(request):
                # quoted: the page's own query (with its & and =) must come back whole after login
                raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='/')}")
            raise Unauthorized("unauthenticated", "请先登录或提供有效的访问令牌")
        raise Forbidden("forbidden", "您的账号或设备无权进行此操作")
    if principal is not None and principal.via_cookie and request.method not in SAFE_METHODS:
        await _check_csrf(request, principal)
    try:
        ratelimit.check(request, auth.limiter, principal, auth.trusted_proxies)
        return await handler(request)
    except ratelimit.RateLimited as e:  # a login lockout as well: both say when to come back
        return _too_many(request, e)


def _too_many(request: web.Request, e: ratelimit.RateLimited) -> web.Response:
    if is_api(request):
        response = respond(e.as_json(), status=429)
    else:
        from ..web.pages import render_error  # pages import this module; kept lazy

        response = render_error(request, 429, e.message)
    response.headers["Retry-After"] = str(e.retry_after)
    return response


async def _principal(request: web.Request, auth: Authenticator, cookie: bool) -> Principal | None:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("invalid_token", "访问令牌格式不正确,应为 Authorization: Bearer <令牌>")
        principal = await auth.resolve(token.strip())
        if principal is None:
            raise Unauthorized("invalid_token", "访问令牌无效、已过期或已被吊销,请重新登录")
        return principal
    if not cookie:
        return None
    token = request.cookies.get(COOKIE)
    if token:
        principal = await auth.resolve(token)
        if principal is not None and principal.kind == "user":
            return dataclasses.replace(principal, via_cookie=True)
    token = request.cookies.get(DEVICE_COOKIE)
    if token:
        principal = await auth.resolve(token)
        if principal is not None and principal.kind == "device":
            return dataclasses.replace(principal, via_cookie=True, csrf_token=device_csrf(token))
    return None


def device_csrf(token: str) -> str:
    """The CSRF token of a device page: derived from the device token, which only the cookie holds."""
    return hashlib.sha256(b"hall-device-csrf:" + token.encode()).hexdigest()[:32]


async def _check_csrf(request: web.Request, principal: Principal) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type == "application/x-www-form-urlencoded":
        sent = (await request.post()).get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), (principal.csrf_token or "").encode()):
        raise Forbidden("csrf_failed", "页面已过期,请刷新后重试")
