"""The citizen's rating page `/r/{token}`: the QR code on the ticket, or the link on the tracking page."""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from ..auth.principal import access
from ..errors import NotFound
from ..keys import CLOCK, CONFIG, DB
from ..queue import overview
from ..queue import store as queue_store
from ..web.pages import render
from . import service_detail


def page_state(status: str, expired: bool, rated: bool, follow_up: bool, closed: bool) -> str:
    """What the page offers: wait (not served yet), none (never served), rate, closed, rated, follow_up."""
    if status != "done":
        return "none" if expired or status == "cancelled" else "wait"
    if rated:  # the server checks the rating period before the 追评 rule
        return "follow_up" if follow_up and not closed else "rated"
    return "closed" if closed else "rate"


@access(public=True, session=False)
async def rate_page(request: web.Request) -> web.Response:
    """No login: the ticket's secret token is the key, as on the tracking page."""
    config, db, now = request.app[CONFIG], request.app[DB], request.app[CLOCK].now()
    token = request.match_info["token"]
    row = await queue_store.get_ticket_by_token(db, token) if len(token) < 64 else None
    if row is None or not hmac.compare_digest(row["token"].encode(), token.encode()):
        raise NotFound("ticket_not_found", "没有这张号票,请核对号票上的二维码或链接")
    ticket = await overview.ticket_with_wait(db, config, row, now)
    served = await service_detail.served(db, config, row["id"]) if row["status"] == "done" else None
    data: dict[str, Any] = {"token": row["token"], "service": None, "ratings": []}
    rated = follow_up = closed = False
    if served is not None:
        rows, follow_up = await service_detail.ratings_of(db, row["id"])
        rated = bool(rows)
        closed = now - served["finished_at"] > config.evaluation.rate_days * 86400
        data["service"] = service_detail.service_json(served, config)
        data["ratings"] = [service_detail.rating_for_citizen(r, config) for r in rows]
    data["state"] = page_state(row["status"], ticket["expired"], rated, follow_up, closed)
    return render(
        request,
        "evaluation/rate.html",
        ticket=ticket,
        data=data,
        grades=service_detail.grade_choices(config),
        rate_days=config.evaluation.rate_days,
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/r/{token}", rate_page, name="rate_page")
