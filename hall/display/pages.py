"""Screen pages: the hall screen (大厅综合屏), a window's screen (窗口屏) and the managers' screen page."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ..auth import store as auth_store
from ..auth.middleware import PRINCIPAL
from ..auth.principal import MANAGERS, STAFF, access
from ..errors import NotFound
from ..keys import CONFIG, DB
from ..web.pages import render
from . import store
from .registry import REGISTRY
from .views import layout_of

PHOTO_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


@access(roles=STAFF, devices=("display",))
async def hall_screen(request: web.Request) -> web.Response:
    """The hall screen of an enrolled display device (staff may preview it)."""
    config = request.app[CONFIG]
    layout = await layout_of(request, request[PRINCIPAL])
    return render(
        request,
        "display/hall_screen.html",
        layout=layout,
        sections=[s for s in config.sections if not layout["sections"] or s.id in layout["sections"]],
        windows=[w for w in config.windows if not layout["area"] or w.area == layout["area"]],
        section_names={s.id: s.name for s in config.sections},
        notice=await store.notice(request.app[DB]),
    )


@access(roles=STAFF, devices=("display",))
async def window_screen(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    raw = request.match_info["no"]
    window = config.window(int(raw)) if raw.isdigit() and len(raw) < 7 else None
    if window is None:
        raise NotFound("window_not_found", f"没有 {raw} 号窗口")
    names = {s.id: s.name for s in config.sections}
    return render(
        request,
        "display/window_screen.html",
        window=window,
        section_names=[names[s] for s in window.sections],
    )


@access(roles=STAFF, devices=("display",))
async def staff_photo(request: web.Request) -> web.StreamResponse:
    """A staff member's photo for the window screen, from `[display] photo_dir` (工号.jpg / .png)."""
    staff_no = request.match_info["staff_no"]
    config = request.app[CONFIG]
    folder = Path(config.photo_dir)
    if not folder.is_absolute() and config.path is not None:
        folder = config.path.parent / folder
    if staff_no.isalnum() and len(staff_no) <= 20:
        for suffix, kind in PHOTO_TYPES.items():
            path = folder / f"{staff_no}{suffix}"
            if path.is_file():
                return web.FileResponse(path, headers={"Content-Type": kind, "Cache-Control": "max-age=3600"})
    raise NotFound("photo_not_found", "没有这位工作人员的照片")


@access(roles=MANAGERS)
async def manage_screens(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    screens = await request.app[REGISTRY].listing()
    layouts = await store.layouts(request.app[DB])
    for screen in screens:
        screen["layout"] = layouts.get(screen["device_id"]) or config.layout_for(screen["name"]).as_json()
    return render(
        request,
        "display/manage_screens.html",
        screens=screens,
        devices=await auth_store.list_devices(request.app[DB]),
        notice=await store.notice(request.app[DB]),
        sections=config.sections,
        areas=sorted({w.area for w in config.windows if w.area}),
    )


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/screen/hall", hall_screen, name="hall_screen")
    r.add_get("/screen/window/{no}", window_screen, name="window_screen")
    r.add_get("/screen/photo/{staff_no}", staff_photo, name="staff_photo")
    r.add_get("/manage/screens", manage_screens, name="manage_screens")
