"""Ways to rate: the window's pad (its page, the service it shows) and the citizen's QR page."""

import asyncio
import json
import re

import pytest

from hall.auth.middleware import DEVICE_COOKIE
from hall.evaluation.qr import page_state

from ..helpers import HallClient
from .service_helpers import finish_one


def token_of(headers: dict) -> str:
    return headers["Authorization"].split()[1]


async def test_a_pad_reads_the_service_its_window_just_finished(hall: HallClient):
    ticket = await finish_one(hall, 2, matter="不动产登记资料查询")
    pad = await hall.device("pad", window=2)
    status, body = await hall.get(f"/api/ratings/service/{ticket['id']}", pad)
    assert status == 200, body
    assert body["ticket"]["id"] == ticket["id"] and body["ticket"]["number"] == ticket["number"]
    assert body["ticket"]["matter"] == "不动产登记资料查询" and body["ticket"]["section_name"] == "综合受理"
    assert body["ticket"]["outcome_name"] == "办结" and body["ticket"]["finished_at"].startswith("2026-11-23T09:05")
    assert body["window"] == {"no": 2, "name": "综合窗口2", "department": "行政服务中心"}
    assert body["staff"] == {"name": "员工2", "staff_no": "002"}
    assert (body["rated"], body["pad_open"]) == (False, True)

    status, _ = await hall.post("/api/ratings", {"ticket_id": ticket["id"], "grade": 5}, pad)
    assert status == 201
    _, body = await hall.get(f"/api/ratings/service/{ticket['id']}", pad)
    assert (body["rated"], body["pad_open"]) == (True, False)


async def test_a_pad_never_reads_another_windows_service(hall: HallClient):
    ticket = await finish_one(hall, 3, section="B")
    status, body = await hall.get(f"/api/ratings/service/{ticket['id']}", await hall.device("pad", window=2))
    assert status == 403 and body["error"]["code"] == "not_this_window"
    status, body = await hall.get(f"/api/ratings/service/{ticket['id']}", await hall.device("pad"))
    assert status == 403 and body["error"]["code"] == "pad_not_bound"
    status, _ = await hall.get(f"/api/ratings/service/{ticket['id']}", await hall.device("display", window=3))
    assert status == 403
    status, body = await hall.get(f"/api/ratings/service/{ticket['id']}", await hall.user("staff"))
    assert status == 200 and body["window"]["no"] == 3  # staff read any service (hotline entry)


async def test_the_service_of_an_unserved_or_unknown_ticket(hall: HallClient):
    pad = await hall.device("pad", window=1)
    waiting = await hall.issue("A")
    status, body = await hall.get(f"/api/ratings/service/{waiting['id']}", pad)
    assert status == 409 and body["error"]["code"] == "not_served"
    for raw in ("999999", "abc", "0"):
        status, body = await hall.get(f"/api/ratings/service/{raw}", pad)
        assert status == 404 and body["error"]["code"] == "ticket_not_found", raw


async def test_a_pad_stops_offering_a_service_after_half_an_hour(hall: HallClient):
    ticket = await finish_one(hall, 1)
    hall.clock.advance(31 * 60)
    _, body = await hall.get(f"/api/ratings/service/{ticket['id']}", await hall.device("pad", window=1))
    assert (body["rated"], body["pad_open"]) == (False, False)


async def test_the_service_is_read_before_the_projection_reaches_it(hall: HallClient):
    """The pad asks the moment the ticket finishes: the service is recorded on the spot, once."""
    ticket = await finish_one(hall, 1)
    await hall.db.write(lambda tx: tx.execute("DELETE FROM services WHERE ticket_id = ?", (ticket["id"],)))
    status, body = await hall.get(f"/api/ratings/service/{ticket['id']}", await hall.device("pad", window=1))
    assert status == 200 and body["ticket"]["number"] == ticket["number"]
    assert await hall.db.fetchval("SELECT COUNT(*) FROM services WHERE ticket_id = ?", (ticket["id"],)) == 1


async def page(hall: HallClient, path: str, device: dict | None = None) -> tuple[int, str]:
    """A page as a browser gets it: a device by its enrolled cookie, not a bearer token."""
    cookies = {DEVICE_COOKIE: token_of(device)} if device else None
    async with hall.client.get(path, cookies=cookies, allow_redirects=False) as resp:
        return resp.status, await resp.text()


@pytest.fixture
async def browser_hall(aiohttp_client, config, clock, db_path):
    """The app with a client that keeps cookies (enrolment sets one)."""
    from hall.server import create_app

    return HallClient(await aiohttp_client(create_app(config, clock=clock, db_path=db_path)), clock)


async def test_a_pad_is_enrolled_to_its_windows_page(browser_hall: HallClient):
    hall = browser_hall
    pad = await hall.device("pad", window=3)
    async with hall.client.get(f"/device?token={token_of(pad)}", allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/pad/3"
    unbound = await hall.device("pad")
    async with hall.client.get(f"/device?token={token_of(unbound)}", allow_redirects=False) as resp:
        assert resp.status == 403 and "没有绑定窗口" in await resp.text()
        assert DEVICE_COOKIE not in resp.cookies


async def test_a_pad_opens_only_its_own_windows_page(hall: HallClient):
    pad = await hall.device("pad", window=2)
    status, html = await page(hall, "/pad/2", pad)
    assert status == 200 and "综合窗口2" in html and 'name="csrf-token"' in html
    assert all(name in html for name in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"))
    status, html = await page(hall, "/pad/3", pad)
    assert status == 403 and "属于 2 号窗口" in html
    status, _ = await page(hall, "/pad/99", pad)
    assert status == 404
    status, _ = await page(hall, "/pad/2", await hall.device("kiosk"))
    assert status == 403
    status, _ = await page(hall, "/pad/2")
    assert status == 303  # to the login page


async def test_staff_preview_any_pad_page(hall: HallClient):
    staff = await hall.user("staff")
    async with hall.client.get("/pad/3", headers=staff) as resp:
        html = await resp.text()
    assert resp.status == 200 and "预览" in html and "不动产窗口" in html


async def test_the_pad_offers_the_configured_tags_of_each_grade(hall: HallClient):
    status, html = await page(hall, "/pad/1", await hall.device("pad", window=1))
    assert status == 200
    for grade in (1, 2, 3, 4, 5):
        group = re.search(rf'data-for="{grade}"[^>]*>(.*?)</div>', html, re.S).group(1)
        assert re.findall(r'class="r-tag"[^>]*>([^<]+)<', group) == list(hall.config.evaluation.tags(grade))


async def test_a_pad_connects_to_the_screen_hub_and_is_listed_as_a_pad(hall: HallClient):
    pad = await hall.device("pad", window=4)
    ws = await hall.client.ws_connect("/ws/screen", headers=pad)
    hello = await ws.receive_json()
    assert hello["type"] == "hello"
    snapshot = await ws.receive_json()
    assert snapshot["type"] == "snapshot"
    await ws.send_json({"type": "hello", "name": "评价器 4", "kind": "screen", "version": "t", "last_id": 0})
    staff = await hall.staff_at(4)
    ticket = await hall.issue("C")
    await hall.call(staff, 4)
    await hall.act(staff, 4, "finish")
    while (message := await asyncio.wait_for(ws.receive_json(), 5))["type"] != "ticket.finished":
        pass
    assert message["payload"]["ticket"]["id"] == ticket["id"] and message["payload"]["window"]["no"] == 4
    _, body = await hall.get("/api/screens", await hall.viewer())
    (listed,) = [s for s in body["screens"] if s["name"] == "评价器 4"]
    assert listed["kind"] == "pad" and listed["window"] == 4 and listed["online"]
    await ws.close()


# -- the QR page /r/{token} -------------------------------------------------------------------------


async def rate_page(hall: HallClient, token: str) -> tuple[int, str]:
    async with hall.client.get(f"/r/{token}") as resp:
        return resp.status, await resp.text()


def state_of(html: str) -> str:
    return re.search(r'id="rate" data-state="(\w+)"', html).group(1)


def data_of(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="rate-data">(.*?)</script>', html, re.S).group(1))


async def test_the_qr_page_waits_until_the_service_is_finished(hall: HallClient):
    ticket = await hall.issue("A")
    status, html = await rate_page(hall, ticket["token"])
    assert status == 200 and state_of(html) == "wait" and "办结后可评价" in html
    assert ticket["number"] in html and 'name="csrf-token"' not in html


async def test_the_qr_page_shows_the_service_and_the_form(hall: HallClient):
    ticket = await finish_one(hall, 2, matter="户籍迁入")
    status, html = await rate_page(hall, ticket["token"])
    assert status == 200 and state_of(html) == "rate"
    for text in (ticket["number"], "综合受理", "户籍迁入", "2号窗口 综合窗口2", "员工2(工号 002)", "2026-11-23 09:05"):
        assert text in html, text
    assert "实名评价" in html


async def test_the_qr_page_shows_the_rating_once_given(hall: HallClient):
    ticket = await finish_one(hall, 1)
    status, _ = await hall.post(
        "/api/ratings", {"ticket_token": ticket["token"], "grade": 2, "tags": ["效率低"], "comment": "等太久"}
    )
    assert status == 201
    _, html = await rate_page(hall, ticket["token"])
    assert state_of(html) == "rated"
    (shown,) = data_of(html)["ratings"]
    assert (shown["kind"], shown["grade_name"], shown["tags"]) == ("first", "不满意", ["效率低"])
    assert shown["comment"] == "等太久"


async def test_the_qr_page_offers_a_follow_up_only_when_the_server_takes_one(hall: HallClient):
    ticket = await finish_one(hall, 1)
    _, rating = await hall.post("/api/ratings", {"ticket_token": ticket["token"], "grade": 1, "tags": ["效率低"]})
    _, html = await rate_page(hall, ticket["token"])
    assert state_of(html) == "rated"
    # The bad review's case is closed after its return visit (the follow-up workflow's last step).
    await hall.db.write(
        lambda tx: tx.execute("UPDATE bad_reviews SET status = 'closed' WHERE rating_id = ?", (rating["id"],))
    )
    _, html = await rate_page(hall, ticket["token"])
    assert state_of(html) == "follow_up" and "追评" in html
    status, _ = await hall.post("/api/ratings", {"ticket_token": ticket["token"], "grade": 4})
    assert status == 201  # the server agrees: the page offered what it takes
    _, html = await rate_page(hall, ticket["token"])
    assert state_of(html) == "rated"


async def test_the_qr_page_after_the_rating_period(hall: HallClient):
    ticket = await finish_one(hall, 1)
    hall.clock.advance(7 * 86400 + 60)
    _, html = await rate_page(hall, ticket["token"])
    assert state_of(html) == "closed" and "7 天内可评价" in html
    status, body = await hall.post("/api/ratings", {"ticket_token": ticket["token"], "grade": 5})
    assert status == 409 and body["error"]["code"] == "rating_closed"


async def test_the_qr_page_of_a_cancelled_or_unknown_ticket(hall: HallClient):
    ticket = await hall.issue("A")
    await hall.post(f"/api/tickets/{ticket['id']}/cancel", {"token": ticket["token"]})
    _, html = await rate_page(hall, ticket["token"])
    assert state_of(html) == "none"
    for token in ("no-such-token", "x" * 80):
        status, html = await rate_page(hall, token)
        assert status == 404 and "没有这张号票" in html


@pytest.mark.parametrize(
    ("status", "expired", "rated", "follow_up", "closed", "state"),
    [
        ("waiting", False, False, False, False, "wait"),
        ("serving", False, False, False, False, "wait"),
        ("waiting", True, False, False, False, "none"),
        ("cancelled", False, False, False, False, "none"),
        ("done", False, False, False, False, "rate"),
        ("done", False, False, False, True, "closed"),
        ("done", False, True, False, False, "rated"),
        ("done", False, True, True, False, "follow_up"),
        ("done", False, True, True, True, "rated"),  # the period is checked before the 追评 rule
    ],
)
def test_page_state(status, expired, rated, follow_up, closed, state):
    assert page_state(status, expired, rated, follow_up, closed) == state


async def test_the_tracking_page_links_to_the_rating_once_done(hall: HallClient):
    ticket = await hall.issue("A")
    async with hall.client.get(f"/t/{ticket['token']}") as resp:
        html = await resp.text()
    assert re.search(rf'<a id="t-rate"[^>]*href="/r/{ticket["token"]}"[^>]*hidden', html)
    staff = await hall.staff_at(1)
    await hall.call(staff, 1)
    await hall.act(staff, 1, "finish")
    async with hall.client.get(f"/t/{ticket['token']}") as resp:
        html = await resp.text()
    link = re.search(r'<a id="t-rate"[^>]*>', html).group(0)
    assert "hidden" not in link
