"""Who may call what: one reviewed table for every route, checked with real requests.

The table below is written by hand (bootstrapped once from the handlers'
`@access`, then reviewed): it is the hall's access policy in one place. A new
route without an entry, an entry for a route that is gone, or a handler whose
declaration differs from its entry fails here; then every route is called as
every role, every device kind and an anonymous caller.
"""

from __future__ import annotations

import re

import pytest
from aiohttp import DummyCookieJar, web

from hall.auth import store as auth_store
from hall.auth.principal import Access
from hall.callcenter.wechat import views as wechat_views
from hall.server import create_app

from ..callcenter.wechat.wechat_app import wechat_settings
from ..helpers import HallClient

ROLES = ("admin", "manager", "staff", "agent", "department")
DEVICES = ("kiosk", "display", "pad")
CALLERS = ROLES + DEVICES + ("anonymous",)

# "everyone": the access layer lets anybody through, anonymous callers included; such a
# handler asks for its own proof where it needs one (a ticket's or booking's secret, a device
# token in the query of a WebSocket, a WeChat signature, the login form's CSRF cookie).
EXPECTED: dict[tuple[str, str], str] = {
    # accounts and devices
    ("POST", "/api/auth/login"): "everyone",
    ("POST", "/api/auth/logout"): "admin manager staff agent department",
    ("GET", "/api/auth/me"): "admin manager staff agent department kiosk display pad",
    ("GET", "/api/users"): "admin manager",
    ("POST", "/api/users"): "admin",
    ("POST", "/api/users/{id}/deactivate"): "admin",
    ("POST", "/api/users/{id}/activate"): "admin",
    ("POST", "/api/users/{id}/unlock"): "admin",
    ("POST", "/api/users/{id}/password"): "admin",
    ("GET", "/api/login-locks"): "admin",
    ("POST", "/api/login-locks/unlock"): "admin",
    ("POST", "/api/users/{id}/revoke-sessions"): "admin",
    ("GET", "/api/devices"): "admin manager",
    ("POST", "/api/devices"): "admin manager",
    ("POST", "/api/devices/{id}/revoke"): "admin manager",
    # the queue
    ("POST", "/api/tickets"): "everyone",  # kiosks and staff; citizens remotely with their phone
    ("GET", "/api/tickets"): "admin manager staff",
    ("GET", "/api/tickets/{id}"): "everyone",  # staff, or the ticket's secret token
    ("POST", "/api/tickets/{id}/cancel"): "everyone",  # staff, or the ticket's secret token
    ("POST", "/api/tickets/{id}/print"): "kiosk",
    ("GET", "/api/hall"): "admin manager staff kiosk display pad",
    ("GET", "/api/windows"): "admin manager staff",
    ("GET", "/api/windows/{no}"): "admin manager staff",
    ("POST", "/api/windows/{no}/open"): "admin manager staff",
    ("POST", "/api/windows/{no}/pause"): "admin manager staff",
    ("POST", "/api/windows/{no}/resume"): "admin manager staff",
    ("POST", "/api/windows/{no}/close"): "admin manager staff",
    ("POST", "/api/windows/{no}/call"): "admin manager staff",
    ("POST", "/api/windows/{no}/recall"): "admin manager staff",
    ("POST", "/api/windows/{no}/start"): "admin manager staff",
    ("POST", "/api/windows/{no}/no-show"): "admin manager staff",
    ("POST", "/api/windows/{no}/hold"): "admin manager staff",
    ("POST", "/api/windows/{no}/finish"): "admin manager staff",
    ("POST", "/api/windows/{no}/transfer"): "admin manager staff",
    ("POST", "/api/windows/{no}/requeue"): "admin manager staff",
    ("GET", "/api/events"): "admin manager staff",
    ("GET", "/api/health"): "everyone",
    ("GET", "/api/openapi.json"): "everyone",
    ("GET", "/healthz"): "everyone",  # for the load balancer and monitoring: states, no data
    ("GET", "/metrics"): "admin manager",  # Prometheus scrapes with its own token ([ops])
    ("GET", "/api/stats"): "admin manager",
    ("GET", "/api/stats/live"): "admin manager",
    # appointments
    ("GET", "/api/appointments/slots"): "everyone",
    ("POST", "/api/appointments"): "everyone",
    ("GET", "/api/appointments"): "admin manager staff",
    ("GET", "/api/appointments/{code}"): "everyone",  # staff, or the phone it was booked with
    ("POST", "/api/appointments/{code}/cancel"): "everyone",  # staff, or the phone it was booked with
    ("POST", "/api/appointments/check-in"): "admin manager staff kiosk",
    ("POST", "/api/appointments/{code}/check-in"): "admin manager staff kiosk",
    # screens and voice
    ("GET", "/api/live"): "everyone",  # staff and devices; a citizen's page with its ticket's token
    ("GET", "/ws/screen"): "everyone",  # display and pad devices (header, cookie or ?token=), staff previews
    ("GET", "/api/announcements/{event_id}.wav"): "admin manager staff display",
    ("GET", "/api/voice"): "admin manager staff display",
    ("GET", "/api/screens"): "admin manager",
    ("PUT", "/api/screens/{device_id}/layout"): "admin manager",
    ("GET", "/api/notice"): "admin manager staff kiosk display pad",
    ("PUT", "/api/notice"): "admin manager",
    # ratings and bad reviews
    ("POST", "/api/ratings"): "everyone",  # pads, staff entering a rating, the ticket's token
    ("GET", "/api/ratings"): "admin manager",
    ("GET", "/api/ratings/stats"): "admin manager",
    ("GET", "/api/ratings/{id}"): "admin manager",
    ("GET", "/api/audit/personal-reads"): "admin manager",
    ("GET", "/api/ratings/{id}/rater"): "admin manager agent department",  # department: its own windows'
    ("POST", "/api/ratings/{id}/void"): "admin manager",
    ("GET", "/api/ratings/service/{ticket_id}"): "admin manager staff pad",
    ("GET", "/api/bad-reviews"): "admin manager agent department",
    ("GET", "/api/bad-reviews/{id}"): "admin manager agent department",
    ("POST", "/api/bad-reviews/{id}/verify"): "admin manager department",
    ("POST", "/api/bad-reviews/{id}/rectify"): "admin manager department",
    ("POST", "/api/bad-reviews/{id}/feedback"): "admin manager agent",
    ("POST", "/api/bad-reviews/{id}/revisit"): "admin manager agent",
    # cases (咨询投诉) and the seat desk
    ("POST", "/api/cases"): "everyone",  # the citizen's web form; agents registering a call
    ("GET", "/api/cases"): "admin manager agent department",
    ("GET", "/api/cases/{id}"): "admin manager agent department",
    ("GET", "/api/cases/{id}/contact"): "admin manager agent",
    ("POST", "/api/cases/{id}/accept"): "admin manager agent",
    ("POST", "/api/cases/{id}/dispatch"): "admin manager agent",
    ("POST", "/api/cases/{id}/sign"): "department",
    ("POST", "/api/cases/{id}/return"): "department",
    ("POST", "/api/cases/{id}/feedback"): "admin manager agent department",
    ("POST", "/api/cases/{id}/review"): "admin manager agent",
    ("POST", "/api/cases/{id}/return-visit"): "admin manager agent",
    ("POST", "/api/cases/{id}/close"): "admin manager agent",
    ("POST", "/api/cases/{id}/extend"): "admin manager agent department",
    ("POST", "/api/cases/{id}/escalate"): "admin manager agent",
    ("POST", "/api/cases/{id}/messages"): "admin manager agent",
    ("POST", "/api/cases/{id}/notes"): "admin manager agent department",
    ("GET", "/api/cases/{id}/messages/{message}/attachments/{n}"): "admin manager agent department",
    ("POST", "/api/cases/{id}/call"): "admin manager agent",
    ("POST", "/api/desk/presence"): "admin manager agent",
    ("GET", "/api/desk/overview"): "admin manager agent",
    ("GET", "/api/desk/inbox"): "admin manager agent department",
    ("GET", "/wechat"): "everyone",  # WeChat's servers, checked by signature
    ("POST", "/wechat"): "everyone",
    # pages
    ("GET", "/"): "everyone",
    ("GET", "/login"): "everyone",
    ("POST", "/login"): "everyone",
    ("POST", "/logout"): "admin manager staff agent department",
    ("GET", "/device"): "everyone",
    ("GET", "/hall"): "admin manager staff",
    ("GET", "/kiosk"): "everyone",  # the page itself; issuing needs the kiosk's device token
    ("GET", "/counter/{no}"): "admin manager staff",
    ("GET", "/t/{token}"): "everyone",
    ("GET", "/t/{token}/qr.svg"): "everyone",
    ("GET", "/appointments"): "everyone",
    ("GET", "/contact"): "everyone",
    ("GET", "/r/{token}"): "everyone",
    ("GET", "/ratings/summary"): "everyone",  # the month's ratings, shown on the hall's screens
    ("GET", "/screen/hall"): "admin manager staff display",
    ("GET", "/screen/window/{no}"): "admin manager staff display",
    ("GET", "/screen/photo/{staff_no}"): "admin manager staff display",
    ("GET", "/pad/{no}"): "admin manager staff pad",
    ("GET", "/manage"): "admin manager",
    ("GET", "/manage/stats"): "admin manager",
    ("GET", "/manage/screens"): "admin manager",
    ("GET", "/manage/audit"): "admin manager",
    ("GET", "/manage/users"): "admin",
    ("GET", "/manage/ratings"): "admin manager",
    ("GET", "/manage/ratings/list"): "admin manager",
    ("GET", "/manage/ratings/{id}"): "admin manager",
    ("GET", "/manage/bad-reviews"): "admin manager agent department",
    ("GET", "/desk"): "admin manager agent",
    ("GET", "/desk/supervisor"): "admin manager",
    ("GET", "/department"): "department",
}

# Requests that would end the caller's own session, or revoke something the table test still uses:
# they get a fresh login, or a victim of their own.
ENDS_OWN_SESSION = {("POST", "/api/auth/logout"), ("POST", "/logout")}
UNAUTHENTICATED = "请先登录或提供有效的访问令牌"  # the access layer's own refusals, word for word
FORBIDDEN = "您的账号或设备无权进行此操作"


def admitted(entry: str) -> set[str]:
    names = set(entry.split())
    return set(CALLERS) if names == {"everyone"} else names


def declared(rule: Access) -> str:
    if rule.public:
        return "everyone"
    return " ".join(c for c in CALLERS if c in rule.roles or c in rule.devices)


def routes(app: web.Application) -> dict[tuple[str, str], Access]:
    out = {}
    for route in app.router.routes():
        if isinstance(route.resource, web.StaticResource) or route.method == "HEAD":
            continue
        out[(route.method, route.resource.canonical)] = getattr(route.handler, "hall_access", Access())
    return out


@pytest.fixture
async def full(aiohttp_client, config, clock, tmp_path) -> HallClient:
    """The server with every optional route on (the WeChat endpoint as well)."""
    app = create_app(config, clock=clock, db_path=tmp_path / "roles.db")
    if "wechat_message" not in app.router.named_resources():
        wechat_views.setup_routes(app, wechat_settings())
    return HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)


async def test_the_table_names_every_route_and_only_routes(full: HallClient):
    present = routes(full.app)
    assert sorted(set(present) - set(EXPECTED)) == [], "new routes: add them to EXPECTED, reviewed"
    assert sorted(set(EXPECTED) - set(present)) == [], "gone routes: remove them from EXPECTED"


async def test_every_handler_declares_what_the_table_says(full: HallClient):
    differ = {
        f"{m} {p}": (declared(rule), EXPECTED[(m, p)])
        for (m, p), rule in routes(full.app).items()
        if (m, p) in EXPECTED and admitted(declared(rule)) != admitted(EXPECTED[(m, p)])
    }
    assert differ == {}, "declared vs reviewed"


async def test_every_caller_is_let_in_or_kept_out_as_the_table_says(full: HallClient):
    hall = full
    callers: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in ROLES:
        callers[role] = await hall.user(role, department="行政服务中心" if role == "department" else "")
    for kind in DEVICES:
        callers[kind] = await hall.device(kind, window=None if kind == "kiosk" else 1)
    victim = await hall.db.write(auth_store.create_device, "victim", "kiosk", None)
    ids = {"id": "1", "no": "1", "ticket_id": "1", "device_id": "1", "event_id": "1", "message": "1", "n": "0"}
    ids |= {"code": "ABCD2345", "token": "x" * 20, "staff_no": "0001"}
    wrong = []
    for (method, pattern), entry in sorted(EXPECTED.items()):
        path = re.sub(r"\{([^}]+)\}", lambda m: ids[m.group(1)], pattern)
        for who in CALLERS:
            headers = callers[who]
            if (method, pattern) in ENDS_OWN_SESSION and who in ROLES:
                headers = await hall.login(await _fresh_user(hall, who))
            if pattern == "/api/devices/{id}/revoke":
                path = f"/api/devices/{victim['id']}/revoke"
            elif pattern.startswith("/api/users/{id}"):
                path = pattern.replace("{id}", str((await hall.create_user(_fresh_name("victim")))["id"]))
            outcome = await _outcome(hall, method, path, headers)
            expected = "in" if who in admitted(entry) else _kept_out(who, pattern)
            if outcome != expected:
                wrong.append(f"{method} {pattern} as {who}: {outcome}, expected {expected}")
    assert wrong == [], "\n".join(wrong)


_fresh = iter(range(1, 10_000))


def _fresh_name(prefix: str) -> str:
    return f"{prefix}{next(_fresh)}"


async def _fresh_user(hall: HallClient, role: str) -> str:
    name = _fresh_name(role)
    await hall.create_user(name, role)
    return name


def _kept_out(who: str, pattern: str) -> str:
    """How the access layer refuses a caller the table does not admit."""
    if who != "anonymous":
        return "forbidden"  # 403
    return "unauthenticated" if pattern.startswith("/api/") else "login"  # 401, or 303 to the login page


async def _outcome(hall: HallClient, method: str, path: str, headers: dict[str, str]) -> str:
    """ "in", or how the access layer refused: "unauthenticated" (401), "forbidden" (403), "login" (303)."""
    async with hall.client.request(method, path, headers=headers, allow_redirects=False) as resp:
        text = await resp.text()
        if resp.status >= 500:
            return f"error {resp.status}"
        if resp.status == 303 and resp.headers.get("Location", "").startswith("/login?next="):
            return "login"
        if resp.status == 401 and UNAUTHENTICATED in text:
            return "unauthenticated"
        if resp.status == 403 and (FORBIDDEN in text or '"code":"forbidden"' in text.replace(" ", "")):
            return "forbidden"
        return "in"
