"""Rate limits for the hall's public faces: kiosks, pads, citizens' forms, logins.

A token bucket per (group, caller): a device by its id, anyone else by client
address. Each group allows `[limits] <group>` requests a minute, in a burst of
that many, refilled evenly. Signed-in staff are not limited (they are named
and accountable); devices and anonymous callers are. Buckets live in memory:
a restart forgets them, which costs an attacker nothing they could not get by
waiting a minute. Time comes from the app's clock, so tests are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aiohttp import web

from ..auth.principal import Principal
from ..clock import Clock
from ..config import LimitSettings
from ..errors import HallError
from .forwarded import client_address

# The routes each group covers, by (method, route pattern).
GROUPS: dict[tuple[str, str], str] = {
    ("POST", "/api/tickets"): "tickets",
    ("POST", "/api/appointments/check-in"): "check_in",
    ("POST", "/api/appointments/{code}/check-in"): "check_in",
    ("POST", "/api/ratings"): "ratings",
    ("POST", "/api/cases"): "public",
    ("POST", "/api/appointments"): "public",
    ("GET", "/api/appointments/{code}"): "public",
    ("POST", "/api/appointments/{code}/cancel"): "public",
    ("POST", "/api/tickets/{id}/cancel"): "public",
    ("POST", "/api/auth/login"): "login",
    ("POST", "/login"): "login",
    ("GET", "/wechat"): "wechat",
    ("POST", "/wechat"): "wechat",
}
MAX_BUCKETS = 50_000  # past this, full (idle) buckets are dropped


class RateLimited(HallError):
    status = 429

    def __init__(self, code: str, message: str, retry_after: int) -> None:
        super().__init__(code, message, retry_after=retry_after)
        self.retry_after = retry_after


@dataclass
class Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(self, settings: LimitSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.buckets: dict[tuple[str, str], Bucket] = {}

    def take(self, group: str, caller: str) -> None:
        """Spend one request of `caller` in `group`, or raise RateLimited with the wait."""
        if not self.settings.enabled:
            return
        per_minute = getattr(self.settings, group)
        now = self.clock.now()
        key = (group, caller)
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= MAX_BUCKETS:
                self._sweep(now)
            bucket = self.buckets[key] = Bucket(float(per_minute), now)
        bucket.tokens = min(float(per_minute), bucket.tokens + (now - bucket.at) * per_minute / 60.0)
        bucket.at = now
        if bucket.tokens < 1.0:
            wait = math.ceil((1.0 - bucket.tokens) * 60.0 / per_minute)
            raise RateLimited("rate_limited", f"操作过于频繁,请 {wait} 秒后再试", retry_after=max(1, wait))
        bucket.tokens -= 1.0

    def _sweep(self, now: float) -> None:
        """Forget buckets that have refilled: they hold nothing a new bucket would not."""
        for key, bucket in list(self.buckets.items()):
            if now - bucket.at >= 60.0:
                del self.buckets[key]
        if len(self.buckets) >= MAX_BUCKETS:
            self.buckets.clear()  # a flood of addresses: start afresh rather than grow without end


def check(request: web.Request, limiter: RateLimiter, who: Principal | None, trusted_proxies: list[str]) -> None:
    """Apply the route's group, if it has one, to the device or the client address calling."""
    group = GROUPS.get((request.method, request.match_info.route.resource.canonical))
    if group is None:
        return
    if who is not None and who.kind == "user" and group != "login":
        return
    caller = (
        f"device:{who.id}" if who is not None and who.kind == "device" else client_address(request, trusted_proxies)
    )
    limiter.take(group, caller)
