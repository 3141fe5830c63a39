"""Personal data is masked on every page, export, API answer and log line (issue 7, item 2).

A scripted day puts known whole phones, ID numbers, names and an email into every place that
holds them: a kiosk ticket with phone and ID number, a booking checked in at the kiosk, a rating
with a named rater, a web complaint with name, phone and email, and a reply that goes out by SMS.
Then every role (and a device of each kind, and nobody) opens every page, every GET of the API
(from the OpenAPI description, so new endpoints are walked too), the live event stream and
every CSV/XLSX export; none of the values may appear whole. Every log line of the day is
checked for phones and ID numbers too.

Exceptions (whole values on purpose):
- the audited reveals `GET /api/ratings/{id}/rater` and `GET /api/cases/{id}/contact`: each
  read is recorded in the personal-reads audit log;
- free text the citizen wrote (a complaint's content, a message) is shown as written; the
  scripted day puts no personal data in free text.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import zipfile

from aiohttp import WSMsgType, WSServerHandshakeError

from hall.personal import mask_name, mask_phone

from .callcenter.helpers import desk, web_case
from .evaluation.service_helpers import finish_one
from .helpers import HallClient
from .queue.appointment_helpers import MONDAY, id_number

TICKET = {"phone": "13912345678", "id_number": id_number(41)}
BOOKING = {"name": "欧阳娜娜", "phone": "13722223333", "id_number": id_number(42)}
RATER = {"name": "司马相如", "phone": "13611112222", "id_number": id_number(43)}
CONTACT = {"name": "诸葛孔明", "phone": "13544445555", "email": "kongming.zhuge@example.com"}
SECRETS = [v for d in (TICKET, BOOKING, RATER, CONTACT) for v in d.values()]
WHOLE_NUMBERS = re.compile(r"(?<!\d)(1[3-9]\d{9}|\d{17}[\dX])(?!\d)")

REVEALS = {"/api/ratings/{id}/rater", "/api/cases/{id}/contact"}
NOT_WALKED = {
    "/ws/screen",  # the screens' WebSocket: the same events as /api/live, walked below
    "/api/announcements/{event_id}.wav",  # audio
    "/api/cases/{id}/messages/{message}/attachments/{n}",  # files the citizen sent
    "/api/openapi.json",
}
PAGE_PATHS = [
    "/", "/hall", "/kiosk", "/counter/1", "/t/{token}", "/appointments", "/contact", "/manage",
    "/manage/stats", "/manage/screens", "/manage/bad-reviews", "/manage/ratings", "/manage/ratings/list?on=service",
    "/manage/ratings/list?on=rating", "/manage/ratings/{rating}", "/desk", "/desk/supervisor", "/department",
    "/ratings/summary", "/screen/hall", "/screen/window/1", "/pad/1", "/r/{token}", "/manage/audit",
    "/manage/users",
]  # fmt: skip


async def scripted_day(hall: HallClient) -> dict:
    people = await desk(hall)
    kiosk = await hall.kiosk()
    ticket = await hall.issue("A", headers=kiosk, **TICKET)
    status, booked = await hall.post(
        "/api/appointments", {"section": "A", "date": MONDAY, "slot": "10:00-11:00", **BOOKING}
    )
    assert status == 201, booked
    hall.clock.advance(45 * 60)  # 09:45: within the check-in window of the 10:00 slot
    status, checked = await hall.post(f"/api/appointments/{booked['code']}/check-in", None, kiosk)
    assert status in (200, 201), checked
    served = await finish_one(hall, no=1)
    status, rating = await hall.post(
        "/api/ratings", {"ticket_token": served["token"], "grade": 1, "comment": "等太久了", "rater": RATER}
    )
    assert status == 201, rating
    case = await web_case(hall, **CONTACT)  # the citizen's answer names only the case number
    case["id"] = await hall.db.fetchval("SELECT id FROM cases WHERE no = ?", (case["no"],))
    status, answer = await hall.post(f"/api/cases/{case['id']}/accept", {}, people["agent"])
    assert status == 200, answer
    status, answer = await hall.post(f"/api/cases/{case['id']}/messages", {"text": "您好,已收到"}, people["agent"])
    assert status in (200, 201), answer
    bad_review = await hall.db.fetchval("SELECT id FROM bad_reviews ORDER BY id DESC LIMIT 1")
    return {
        "people": people,
        "ticket": ticket,
        "served": served,
        "booking": booked,
        "rating": rating,
        "case": case,
        "bad_review": bad_review,
    }


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


async def get_text(hall: HallClient, url: str, headers: dict | None) -> tuple[int, str]:
    async with hall.client.get(url, headers=headers, allow_redirects=False) as resp:
        data = await resp.read()
        if data[:2] == b"PK":  # an XLSX: its sheets and shared strings
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return resp.status, "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        return resp.status, data.decode("utf-8", "replace")


def api_urls(document: dict, day: dict) -> list[tuple[str, str]]:
    ids = {
        "/api/tickets/{id}": day["ticket"]["id"],
        "/api/ratings/{id}": day["rating"]["id"],
        "/api/bad-reviews/{id}": day["bad_review"],
        "/api/cases/{id}": day["case"]["id"],
    }
    urls = []
    for path, ops in document["paths"].items():
        if "get" not in ops or path in NOT_WALKED | REVEALS or path == "/api/live":
            continue
        url = path
        for prefix, value in ids.items():
            if path.startswith(prefix):
                url = url.replace("{id}", str(value))
        url = url.replace("{code}", day["booking"]["code"]).replace("{no}", "1")
        url = url.replace("{ticket_id}", str(day["served"]["id"]))
        variants = [url]
        if path in ("/api/stats", "/api/ratings/stats"):
            bys = ("section", "window", "staff") if path == "/api/stats" else ("window", "staff", "matter", "channel")
            variants = [
                f"{url}?from={MONDAY}&to={MONDAY}&by={b}&format={f}" for b in bys for f in ("json", "csv", "xlsx")
            ]
        elif path == "/api/ratings":
            variants = [f"{url}?on=rating", f"{url}?on=service", f"{url}?on=rating&bad=1"]
        elif path in ("/api/tickets", "/api/appointments"):
            variants = [f"{url}?day={MONDAY}", f"{url}?date={MONDAY}"]
        elif path == "/api/appointments/slots":
            variants = [f"{url}?section=A&date={MONDAY}"]
        elif path == "/api/cases":
            variants = [url, f"{url}?phone={CONTACT['phone']}"]
        elif path == "/api/desk/inbox":
            variants = [f"{url}?scope=all", f"{url}?scope=mine"]
        urls += [(path, v) for v in variants]
    return urls


async def live_replay(hall: HallClient, headers: dict | None) -> str:
    """What /api/live sends a subscriber who asks for every event of the day."""
    received = []
    try:
        async with hall.client.ws_connect("/api/live?after=1", headers=headers) as ws:
            while True:
                try:
                    msg = await asyncio.wait_for(ws.receive(), 0.3)
                except TimeoutError:
                    break
                if msg.type != WSMsgType.TEXT:
                    break
                received.append(msg.data)
    except WSServerHandshakeError as e:
        assert e.status in (401, 403)
    return "\n".join(received)


async def test_no_page_export_answer_or_log_line_shows_personal_data_whole(hall: HallClient, caplog):
    caplog.set_level(logging.DEBUG)  # every logger at its most talkative, as far as the server allows
    day = await scripted_day(hall)
    who = {
        "admin": await hall.user("admin"),
        "manager": await hall.user("manager"),
        "staff": await hall.user("staff"),
        **day["people"],
        "kiosk": await hall.kiosk(),
        "pad": await hall.device("pad", window=1),
        "display": await hall.device("display"),
        "nobody": None,
    }
    _, document = await hall.get("/api/openapi.json")
    urls = api_urls(document, day)
    pages = [
        p.replace("{token}", day["ticket"]["token"]).replace("{rating}", str(day["rating"]["id"])) for p in PAGE_PATHS
    ]
    found, read, shown = [], 0, set()
    masked = {mask_phone(TICKET["phone"]), mask_phone(CONTACT["phone"]), mask_name(RATER["name"])}
    for role, headers in who.items():
        for _path, url in urls + [(p, p) for p in pages]:
            status, text = await get_text(hall, url, headers)
            if status == 200:
                read += 1
                found += [(role, url, s) for s in leaks(text)]
                shown |= {m for m in masked if m in text}
        found += [(role, "/api/live", s) for s in leaks(await live_replay(hall, headers))]
    assert found == [], "\n".join(map(str, found))
    assert read > 150
    assert shown == masked  # the walk did reach the data, shown masked

    # the audited reveals do show the whole values, and say so in the audit log
    reveal = f"/api/cases/{day['case']['id']}/contact?purpose=回电"
    status, text = await get_text(hall, reveal, who["agent"])
    assert status == 200 and CONTACT["phone"] in text

    # aiohttp.access is the test server's own access log (the real server runs with access_log=None
    # and logs the path without the query string, in hall.access)
    lines = [f"{r.name} {r.levelname} {r.getMessage()}" for r in caplog.records if r.name != "aiohttp.access"]
    assert [line for line in lines if WHOLE_NUMBERS.search(line) or leaks(line)] == []
