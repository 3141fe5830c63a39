"""The citizen's web form (`/contact`, 咨询投诉): a case registered without logging in."""

from __future__ import annotations

from aiohttp import web

from ..auth.principal import access
from ..keys import CONFIG
from ..web.pages import render
from .rules import TEXT_MAX
from .settings import TYPES


@access(public=True, session=False)
async def contact_page(request: web.Request) -> web.Response:
    settings = request.app[CONFIG].callcenter
    types = [(key, name, settings.deadlines[key]) for key, name in TYPES.items() if key != "bad_review"]
    return render(request, "callcenter/contact.html", types=types, text_max=TEXT_MAX)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/contact", contact_page, name="contact_page")
