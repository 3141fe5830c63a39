"""The queue's pages: kiosk (取号机), window caller (叫号器) and the citizen's tracking page."""

from __future__ import annotations

from aiohttp import web

from ..auth.middleware import PRINCIPAL
from ..auth.principal import STAFF, access
from ..errors import NotFound
from ..keys import CLOCK, CONFIG, DB
from ..web.jsonio import respond
from ..web.pages import render
from . import overview, printing, store
from .rules import LANES, OUTCOMES


def tracking_url(request: web.Request, token: str) -> str:
    """The tracking page's address as a citizen's phone reaches it (for QR codes)."""
    base = request.app[CONFIG].server.public_url.rstrip("/") or f"{request.scheme}://{request.host}"
    return f"{base}/t/{token}"


def _kiosk_user(request: web.Request) -> bool:
    who = request[PRINCIPAL]
    return who is not None and (who.device_kind == "kiosk" or (who.kind == "user" and who.role in STAFF))


@access(public=True)
async def kiosk(request: web.Request) -> web.Response:
    """The kiosk: enrolled kiosks (device cookie) and staff at reception use it."""
    if not _kiosk_user(request):
        return render(request, "queue/kiosk_unenrolled.html", status=403)
    config = request.app[CONFIG]
    data = await overview.hall(request.app[DB], config, request.app[CLOCK].now())
    lanes = [(lane, LANES[lane]) for lane in config.queue.priority.lanes]
    return render(
        request,
        "queue/kiosk.html",
        data=data,
        lanes=lanes,
        elderly_age=config.queue.priority.elderly_age,
        kiosk=config.kiosk,
        printer=config.printer_for(request[PRINCIPAL].name) if request[PRINCIPAL].kind == "device" else None,
    )


@access(roles=STAFF)
async def counter(request: web.Request) -> web.Response:
    """The window caller of one window."""
    config = request.app[CONFIG]
    raw = request.match_info["no"]
    window = config.window(int(raw)) if raw.isdigit() and len(raw) < 7 else None
    if window is None:
        raise NotFound("window_not_found", f"没有 {raw} 号窗口")
    detail = await overview.window_detail(request.app[DB], config, window.no, request.app[CLOCK].now())
    others = [w for w in config.windows if w.no != window.no]
    return render(
        request,
        "queue/counter.html",
        window=window,
        detail=detail,
        sections=config.sections,
        others=others,
        outcomes=OUTCOMES,
        recall_limit=config.queue.recall_limit,
        grace=config.queue.no_show_grace_minutes,
    )


async def _ticket_by_token(request: web.Request) -> store.Row:
    token = request.match_info["token"]
    row = await store.get_ticket_by_token(request.app[DB], token) if len(token) < 64 else None
    if row is None:
        raise NotFound("ticket_not_found", "没有这张号票,请核对号票上的二维码或链接")
    return row


@access(public=True, session=False)
async def track(request: web.Request) -> web.Response:
    """The citizen's tracking page: the QR link on the ticket, no login."""
    config = request.app[CONFIG]
    row = await _ticket_by_token(request)
    ticket = await overview.ticket_with_wait(request.app[DB], config, row, request.app[CLOCK].now())
    return render(
        request,
        "queue/track.html",
        ticket=ticket,
        token=row["token"],
        grace=config.queue.no_show_grace_minutes,
    )


@access(public=True, session=False)
async def track_qr(request: web.Request) -> web.Response:
    row = await _ticket_by_token(request)
    svg = printing.qr_svg(tracking_url(request, row["token"]))
    return web.Response(text=svg, content_type="image/svg+xml", headers={"Cache-Control": "private, max-age=86400"})


@access(devices=("kiosk",))
async def print_ticket(request: web.Request) -> web.Response:
    """Print a ticket slip on the kiosk's thermal printer (ESC/POS over TCP)."""
    config = request.app[CONFIG]
    who = request[PRINCIPAL]
    printer = printing.printer_of(config, who.name)
    raw = request.match_info["id"]
    row = await store.get_ticket(request.app[DB], int(raw)) if raw.isdigit() and len(raw) < 13 else None
    if row is None or row["issuer"] != who.key:
        raise NotFound("ticket_not_found", "这台取号机没有发出这张号票")
    ticket = await overview.ticket_with_wait(request.app[DB], config, row, request.app[CLOCK].now())
    ticket["windows"] = list(config.serving(row["section"]))
    data = printing.slip_bytes(ticket, config, tracking_url(request, row["token"]))
    await printing.send_to_printer(printer, data)
    return respond({"printed": True, "printer": f"{printer.host}:{printer.port}", "bytes": len(data)})


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/kiosk", kiosk, name="kiosk")
    r.add_get("/counter/{no}", counter, name="counter")
    r.add_get("/t/{token}", track, name="track")
    r.add_get("/t/{token}/qr.svg", track_qr, name="track_qr")
    r.add_post("/api/tickets/{id}/print", print_ticket, name="print_ticket")
