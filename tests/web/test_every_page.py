"""Every page, as the person it is for sees it: renders without errors and passes axe-core.

The table is checked against the routes, so a new page without an entry here
fails this test.
"""

from aiohttp import web

from ..helpers import PASSWORD, HallClient
from .a11y import serious_violations, snapshot

# path pattern -> (who opens it, concrete path); "{token}" is a ticket's token
PAGES = {
    "/": ("anyone", "/"),
    "/login": ("anyone", "/login"),
    "/hall": ("staff", "/hall"),
    "/kiosk": ("kiosk", "/kiosk"),
    "/counter/{no}": ("staff", "/counter/1"),
    "/t/{token}": ("anyone", "/t/{token}"),
    "/appointments": ("anyone", "/appointments"),
    "/contact": ("anyone", "/contact"),
    "/manage": ("manager", "/manage"),
    "/manage/stats": ("manager", "/manage/stats"),
    "/manage/screens": ("manager", "/manage/screens"),
    "/manage/bad-reviews": ("manager", "/manage/bad-reviews"),
    "/manage/audit": ("manager", "/manage/audit"),
    "/manage/users": ("admin", "/manage/users"),
    "/manage/ratings": ("manager", "/manage/ratings"),
    "/manage/ratings/list": ("manager", "/manage/ratings/list?on=service"),
    "/manage/ratings/{id}": ("manager", "/manage/ratings/{rating}"),
    "/desk": ("agent", "/desk"),
    "/desk/supervisor": ("manager", "/desk/supervisor"),
    "/department": ("department", "/department"),
    "/ratings/summary": ("anyone", "/ratings/summary"),
    "/screen/hall": ("display", "/screen/hall"),
    "/screen/window/{no}": ("display", "/screen/window/2"),
    "/pad/{no}": ("pad", "/pad/2"),
    "/r/{token}": ("anyone", "/r/{token}"),
}
# a redirect, images, and the operators' /healthz (JSON) and /metrics (Prometheus text)
NOT_PAGES = {"/device", "/t/{token}/qr.svg", "/screen/photo/{staff_no}", "/healthz", "/metrics"}


def page_routes(app: web.Application) -> set[str]:
    return {
        r.resource.canonical
        for r in app.router.routes()
        if r.method == "GET" and not r.resource.canonical.startswith(("/api", "/static", "/ws"))
    }


async def test_the_table_names_every_page(hall: HallClient):
    assert page_routes(hall.app) == set(PAGES) | NOT_PAGES


async def test_every_page_renders_and_passes_axe(hall: HallClient, browser):
    ticket = await hall.issue("A", phone="13800138000")
    await hall.create_user("pages-staff", "staff")
    await hall.create_user("pages-manager", "manager")
    await hall.create_user("pages-admin", "admin")
    await hall.create_user("pages-agent", "agent")
    await hall.create_user("pages-department", "department", department="人力社保局")
    kiosk_token = (await hall.device("kiosk"))["Authorization"].split()[1]
    display_token = (await hall.device("display"))["Authorization"].split()[1]
    pad_token = (await hall.device("pad", window=2))["Authorization"].split()[1]
    served, at_window = await hall.issue("A"), await hall.staff_at(1)  # a rated service, for its detail page
    assert (await hall.call(at_window, 1, ticket_id=served["id"]))["id"] == served["id"]
    assert (await hall.act(at_window, 1, "finish"))[0] == 200
    status, rating = await hall.post("/api/ratings", {"ticket_token": served["token"], "grade": 4})
    assert status == 201, rating
    contexts = {}

    async def context_for(who: str):
        if who not in contexts:
            context = await browser.new_context(locale="zh-CN", viewport={"width": 1920, "height": 1080})
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            if who in ("kiosk", "display", "pad"):
                token = {"kiosk": kiosk_token, "display": display_token, "pad": pad_token}[who]
                await page.goto(str(hall.client.make_url(f"/device?token={token}")))
            elif who in ("staff", "manager", "agent", "department", "admin"):
                await page.goto(str(hall.client.make_url("/login")))
                await page.fill("input[name=username]", f"pages-{who}")
                await page.fill("input[name=password]", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_url(lambda u: "/login" not in u)  # each role's home page
            contexts[who] = (context, page, errors)
        return contexts[who]

    for pattern, (who, path) in PAGES.items():
        _, page, errors = await context_for(who)
        path = path.replace("{token}", ticket["token"]).replace("{rating}", str(rating["id"]))
        response = await page.goto(str(hall.client.make_url(path)))
        assert response.status == 200, f"{pattern} as {who}: {response.status}"
        await page.wait_for_load_state("networkidle")
        name = "page" + pattern.replace("/", "-").replace("{", "").replace("}", "") if pattern != "/" else "page-index"
        await snapshot(page, name)
        assert await serious_violations(page) == [], pattern
        assert errors == [], f"{pattern}: {errors}"
    for context, _, _ in contexts.values():
        await context.close()
