"""`GET /api/events?after=ID`: the event log, in order, for staff tools."""

from aiohttp import web

from ..auth.principal import STAFF, access
from ..events import events_after
from ..keys import DB
from . import validation as v
from .jsonio import respond


@access(roles=STAFF)
async def list_events(request: web.Request) -> web.Response:
    after = v.query_int(request.query, "after", 0, 0, 2**62)
    limit = v.query_int(request.query, "limit", 500, 1, 1000)
    events = await events_after(request.app[DB], after, limit)
    last = events[-1].id if events else after
    return respond({"events": [e.as_json() for e in events], "last_id": last, "more": len(events) == limit})


@access(public=True)
async def health(request: web.Request) -> web.Response:
    return respond({"status": "ok"})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/events", list_events, name="events")
    app.router.add_get("/api/health", health, name="health")
