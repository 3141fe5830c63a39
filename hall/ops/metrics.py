"""`GET /metrics`: the hall in Prometheus text format (exposition format 0.0.4).

Queue, case and outbox figures are read from the database at each scrape,
so they are right after a restart; HTTP requests are counted in memory by
the request middleware since the process started.

Who may read it: managers (their session or bearer token), or a scraper
sending `Authorization: Bearer $HALL_METRICS_TOKEN`. The scrape token is
checked before the auth layer (which knows only user and device tokens)
and opens this one route only.
"""

from __future__ import annotations

import bisect
import hmac
import os
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from ..auth.principal import MANAGERS, access
from ..clock import business_day
from ..display.hub import HUB
from ..display.registry import REGISTRY
from ..keys import CLOCK, CONFIG, DB
from . import process

TOKEN_ENV = "HALL_METRICS_TOKEN"
PATH = "/metrics"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class HttpStats:
    """Requests by route and status, and a latency histogram by route."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.buckets: dict[tuple[str, str], list[int]] = {}
        self.sums: dict[tuple[str, str], float] = defaultdict(float)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, status)] += 1
        key = (method, route)
        counts = self.buckets.get(key)
        if counts is None:
            counts = self.buckets[key] = [0] * (len(BUCKETS) + 1)
        counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.sums[key] += seconds


HTTP_STATS: web.AppKey[HttpStats] = web.AppKey("http_stats", HttpStats)


def route_of(request: web.Request) -> str:
    """The route's pattern (`/api/tickets/{id}`), so one label does not become thousands."""
    info = request.match_info
    if info.http_exception is not None or info.route.resource is None:
        return "unmatched"
    return info.route.resource.canonical


# -- exposition ------------------------------------------------------------------------------


def _escape(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, Any]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


class Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_: str, samples: Iterable[tuple[dict[str, Any], float]]) -> None:
        self.lines.append(f"# HELP {name} {help_}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self.sample(name, labels, value)

    def sample(self, name: str, labels: dict[str, Any], value: float) -> None:
        number = str(int(value)) if float(value).is_integer() else repr(round(float(value), 6))
        self.lines.append(f"{name}{_labels(labels)} {number}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


async def collect(app: web.Application) -> str:
    db, config = app[DB], app[CONFIG]
    now = app[CLOCK].now()
    day = business_day(now, config.tz)
    sections = [s.id for s in config.sections]
    out = Exposition()

    def per_section(rows: list, column: int = 1) -> list[tuple[dict[str, Any], float]]:
        found = {row[0]: row[column] or 0 for row in rows}
        return [({"section": s}, found.get(s, 0)) for s in sections]

    issued = await db.fetchall("SELECT origin_section, count(*) FROM tickets WHERE day = ? GROUP BY 1", (day,))
    out.family(
        "hall_tickets_issued_today",
        "gauge",
        "Tickets issued today (by the section they were taken for)",
        per_section(issued),
    )
    served = await db.fetchall(
        "SELECT section, count(*) FROM tickets WHERE day = ? AND status = 'done' GROUP BY 1", (day,)
    )
    out.family("hall_tickets_served_today", "gauge", "Tickets served to the end today", per_section(served))
    waiting = await db.fetchall("SELECT section, sum(waiting) FROM queue_counts WHERE day = ? GROUP BY 1", (day,))
    out.family("hall_tickets_waiting", "gauge", "Tickets waiting now", per_section(waiting))
    called = await db.fetchall(
        "SELECT section, count(*), avg(called_at - issued_at) FROM tickets "
        "WHERE day = ? AND called_at IS NOT NULL GROUP BY 1",
        (day,),
    )
    out.family("hall_calls_today", "gauge", "Tickets called to a window today", per_section(called))
    out.family(
        "hall_wait_seconds_average_today",
        "gauge",
        "Average wait from issue to first call, today",
        per_section(called, 2),
    )

    screens = len(app[HUB].connections) if HUB in app else 0
    out.family("hall_screens_connected", "gauge", "Screen connections open now", [({}, screens)])
    if REGISTRY in app:
        out.family(
            "hall_screens_registered_online", "gauge", "Screens known to be online", [({}, len(app[REGISTRY].live))]
        )

    backlog = await db.fetchall("SELECT status, count(*) FROM cases WHERE status != 'closed' GROUP BY 1")
    out.family(
        "hall_cases_open", "gauge", "Open cases (咨询投诉) by state", [({"state": row[0]}, row[1]) for row in backlog]
    )
    overdue = await db.fetchval(
        "SELECT count(*) FROM cases WHERE status != 'closed' AND due_at IS NOT NULL AND due_at < ?", (now,)
    )
    out.family("hall_cases_overdue", "gauge", "Open cases past their answer deadline", [({}, overdue or 0)])

    outbox = await db.fetchall("SELECT channel, status, count(*) FROM outbox GROUP BY 1, 2")
    out.family(
        "hall_outbox_messages",
        "gauge",
        "Outgoing messages by channel and status",
        [({"channel": r[0], "status": r[1]}, r[2]) for r in outbox],
    )
    oldest = await db.fetchval("SELECT min(created_at) FROM outbox WHERE status = 'pending'")
    out.family(
        "hall_outbox_oldest_pending_seconds",
        "gauge",
        "Age of the oldest message waiting to go (0: none)",
        [({}, 0 if oldest is None else max(0.0, now - oldest))],
    )

    rss, fds, sqlite_bytes = process.resident_bytes(), process.open_fds(), process.sqlite_memory_bytes()
    if rss is not None:
        out.family("process_resident_memory_bytes", "gauge", "Resident memory of the server process", [({}, rss)])
    if fds is not None:
        out.family("process_open_fds", "gauge", "Open file descriptors of the server process", [({}, fds)])
    if sqlite_bytes is not None:
        out.family(
            "hall_sqlite_memory_bytes",
            "gauge",
            "Memory SQLite holds in the process: page caches (bounded by cache_size), schemas, statements",
            [({}, sqlite_bytes)],
        )
    out.family(
        "hall_python_allocated_blocks",
        "gauge",
        "Memory blocks Python has allocated (objects); flat when nothing leaks",
        [({}, process.python_allocated_blocks())],
    )

    writer = db.writer
    out.family("hall_db_write_batches_total", "counter", "Transactions the writer committed", [({}, writer.batches)])
    out.family("hall_db_write_units_total", "counter", "Write units the writer committed", [({}, writer.units)])

    stats = app[HTTP_STATS]
    out.family(
        "hall_http_requests_total",
        "counter",
        "HTTP requests by route and status",
        [({"method": m, "route": r, "status": s}, n) for (m, r, s), n in sorted(stats.requests.items())],
    )
    out.lines.append("# HELP hall_http_request_duration_seconds Time to answer an HTTP request, by route")
    out.lines.append("# TYPE hall_http_request_duration_seconds histogram")
    for (method, route), counts in sorted(stats.buckets.items()):
        running = 0
        for bound, n in zip((*BUCKETS, float("inf")), counts, strict=True):
            running += n
            le = "+Inf" if bound == float("inf") else repr(bound)
            out.sample(
                "hall_http_request_duration_seconds_bucket", {"method": method, "route": route, "le": le}, running
            )
        labels = {"method": method, "route": route}
        out.sample("hall_http_request_duration_seconds_sum", labels, stats.sums[(method, route)])
        out.sample("hall_http_request_duration_seconds_count", labels, running)
    return out.text()


async def _answer(request: web.Request) -> web.Response:
    text = await collect(request.app)
    return web.Response(text=text, content_type="text/plain", charset="utf-8", headers={"Cache-Control": "no-store"})


@access(roles=MANAGERS)
async def metrics(request: web.Request) -> web.Response:
    return await _answer(request)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def scrape_token_matches(request: web.Request) -> bool:
    expected = os.environ.get(TOKEN_ENV, "")
    sent = request.headers.get("Authorization", "")
    return bool(expected) and hmac.compare_digest(sent.encode(), f"Bearer {expected}".encode())


@web.middleware
async def scrape_token_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let a scraper holding HALL_METRICS_TOKEN read /metrics (only /metrics) without a user account."""
    if request.path == PATH and request.method == "GET" and scrape_token_matches(request):
        return await _answer(request)
    return await handler(request)


def setup_routes(app: web.Application) -> None:
    app[HTTP_STATS] = HttpStats()
    app.router.add_get(PATH, metrics, name="metrics")
