"""Server-rendered pages (Jinja2, autoescaped) and the login form."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from ..auth import store as auth_store
from ..auth.middleware import AUTHENTICATOR, COOKIE, DEVICE_COOKIE, PRINCIPAL
from ..auth.principal import ROLES, STAFF, access
from ..auth.views import check_login, set_session_cookie
from ..errors import HallError
from ..keys import CLOCK, CONFIG, DB
from ..queue import overview
from .forwarded import over_https

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
LOGIN_CSRF = "hall_login_csrf"
# Where a sign-in without a `next` lands: the page each role works in (others: /hall).
ROLE_HOMES = {"agent": "/desk", "department": "/department"}

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined)

# Every page of the server, for the home page and the start-up banner.
PAGES = (
    ("/", "首页"),
    ("/login", "工作人员登录"),
    ("/hall", "大厅概况(工作人员)"),
    ("/kiosk", "取号机(登记的取号机)"),
    ("/counter/{窗口号}", "窗口叫号器(工作人员)"),
    ("/t/{号票查询码}", "排队进度(号票二维码)"),
    ("/appointments", "预约办事"),
    ("/contact", "咨询投诉(市民留言)"),
    ("/manage", "统计与实时概况(管理人员)"),
    ("/manage/screens", "屏幕与公告(管理人员)"),
    ("/manage/bad-reviews", "差评整改(管理人员)"),
    ("/manage/audit", "个人信息查看记录(管理人员)"),
    ("/manage/users", "账号管理(系统管理员)"),
    ("/manage/ratings", "评价统计(管理人员)"),
    ("/manage/ratings/list", "评价明细(管理人员)"),
    ("/manage/ratings/{评价编号}", "一条评价的详情(管理人员)"),
    ("/desk", "坐席工作台(坐席)"),
    ("/desk/supervisor", "坐席监控(管理人员)"),
    ("/department", "部门工单(部门经办人)"),
    ("/ratings/summary", "本月服务评价(公开,大厅公告屏)"),
    ("/screen/hall", "大厅综合屏(登记的屏幕)"),
    ("/screen/window/{窗口号}", "窗口屏(登记的屏幕)"),
    ("/pad/{窗口号}", "窗口评价器(登记的评价器)"),
    ("/r/{号票查询码}", "服务评价(号票二维码)"),
    ("/device?token={设备令牌}", "登记取号机等设备"),
)


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    config = request.app[CONFIG]
    html = _env.get_template(template).render(hall_name=config.name, principal=request.get(PRINCIPAL), **context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def render_error(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "error.html", status=status, status_code=status, message=message)


@access(public=True)
async def index(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    links = [(path, name) for path, name in PAGES if "{" not in path]
    return render(request, "index.html", pages=links, sections=config.sections, windows=config.windows)


@access(public=True)
async def login_page(request: web.Request) -> web.Response:
    return _login_form(request, error=None)


def _login_form(request: web.Request, error: str | None, status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", status=status, csrf_token=token, error=error, next=_safe_next(request.query.get("next"))
    )
    secure = over_https(request, request.app[CONFIG].server.trusted_proxies)
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="Strict", path="/login", secure=secure)
    return response


@access(public=True, session=False)
async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    sent, expected = form.get("csrf_token", ""), request.cookies.get(LOGIN_CSRF, "")
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_form(request, "页面已过期,请重新输入", status=403)
    username, password = form.get("username", ""), form.get("password", "")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        return _login_form(request, "请输入用户名和密码")
    try:
        session = await check_login(request, username.strip()[:32], password[:256])
    except HallError as e:  # shown on the form; the form itself was delivered fine
        if e.status != 429:
            return _login_form(request, e.message)
        response = _login_form(request, e.message, status=429)  # locked: the form says for how long
        response.headers["Retry-After"] = str(e.detail.get("retry_after", 60))
        return response
    home = ROLE_HOMES.get(session["user"]["role"], "/hall")
    response = web.HTTPSeeOther(_safe_next(form.get("next")) or home)
    set_session_cookie(request, response, session["token"])
    response.del_cookie(LOGIN_CSRF, path="/login")
    raise response


@access(roles=frozenset(ROLES))
async def logout_submit(request: web.Request) -> web.Response:
    who = request[PRINCIPAL]
    if who.session_id is not None:
        await request.app[DB].write(auth_store.revoke_session, who.session_id)
        request.app[AUTHENTICATOR].forget()
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


# Where an enrolled device's browser goes: each kind has its page; one bound to a window, that window's.
DEVICE_HOMES = {"kiosk": "/kiosk", "display": "/screen/hall"}
WINDOW_HOMES = {"display": "/screen/window/{no}", "pad": "/pad/{no}"}
DEVICE_COOKIE_DAYS = 3650


@access(public=True, session=False)
async def enroll_device(request: web.Request) -> web.Response:
    """`/device?token=hd_…`, opened once on a kiosk, screen or pad: remembers the device in a cookie."""
    token = request.query.get("token", "")
    device = await request.app[AUTHENTICATOR].resolve(token) if token.startswith("hd_") else None
    if device is None or device.kind != "device":
        return render_error(request, 401, "设备令牌无效或已被吊销,请联系管理员重新登记此设备")
    home = DEVICE_HOMES.get(device.device_kind, "/")
    if device.window_no is not None and device.device_kind in WINDOW_HOMES:
        home = WINDOW_HOMES[device.device_kind].format(no=device.window_no)  # a window's screen or pad
    elif device.device_kind == "pad":
        return render_error(request, 403, "这台评价器没有绑定窗口,请管理员重新登记并指定窗口(--window 窗口号)")
    response = web.HTTPSeeOther(home)
    secure = over_https(request, request.app[CONFIG].server.trusted_proxies)
    age = DEVICE_COOKIE_DAYS * 86400
    response.set_cookie(DEVICE_COOKIE, token, max_age=age, httponly=True, samesite="Strict", path="/", secure=secure)
    raise response


@access(roles=STAFF)
async def hall_page(request: web.Request) -> web.Response:
    data = await overview.hall(request.app[DB], request.app[CONFIG], request.app[CLOCK].now())
    return render(request, "hall.html", data=data)


def _safe_next(target: Any) -> str | None:
    if isinstance(target, str) and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", index, name="index")
    r.add_get("/login", login_page, name="login_page")
    r.add_post("/login", login_submit, name="login_submit")
    r.add_post("/logout", logout_submit, name="logout_submit")
    r.add_get("/hall", hall_page, name="hall_page")
    r.add_get("/device", enroll_device, name="enroll_device")
    r.add_static("/static", STATIC, name="static")
