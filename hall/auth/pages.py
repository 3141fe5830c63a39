"""The administrator's accounts page `/manage/users`: who can sign in, who is signed in, who is locked out."""

from __future__ import annotations

from aiohttp import web

from ..web.pages import render
from .principal import ADMINS, access
from .views import locked_addresses, users_with_state

ROLE_NAMES = {
    "admin": "系统管理员",
    "manager": "管理人员",
    "staff": "窗口工作人员",
    "agent": "坐席",
    "department": "部门经办人",
}


@access(roles=ADMINS)
async def users_page(request: web.Request) -> web.Response:
    users = await users_with_state(request.app)
    addresses = await locked_addresses(request.app)
    return render(request, "manage/users.html", users=users, addresses=addresses, role_names=ROLE_NAMES)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/manage/users", users_page, name="users_page")
