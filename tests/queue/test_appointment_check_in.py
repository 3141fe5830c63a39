"""Check-in at the kiosk gives a ticket; bookings never checked in become no-shows."""

import asyncio

from aiohttp import DummyCookieJar

from hall.clock import FakeClock
from hall.queue.appointment_sweep import sweep
from hall.server import create_app

from ..conftest import at
from ..helpers import HallClient
from .appointment_helpers import book, check_in, id_number, person


async def test_on_time_check_in_is_called_before_an_earlier_walk_in(hall: HallClient):
    booked = await book(hall, slot="10:00-11:00")
    walk_in = await hall.issue("A")
    hall.clock.set(at("2026-11-23 09:40"))
    status, ticket = await check_in(hall, booked["code"])
    assert status == 201 and ticket["on_time"] is True
    assert (ticket["number"], ticket["priority"], ticket["priority_name"], ticket["channel"]) == (
        "A002",
        "appointment",
        "预约",
        "appointment",
    )
    assert ticket["ahead"] == 0 and ticket["token"]
    assert ticket["appointment"]["status"] == "checked_in" and ticket["appointment"]["ticket_number"] == "A002"
    assert ticket["id_number"] == booked["id_number"] and ticket["phone"] == booked["phone"]  # masked, as booked
    # the answer is the ticket as POST /api/tickets gives it, plus the booking
    assert set(ticket) == set(walk_in) | {"appointment", "on_time"}
    staff = await hall.staff_at(1)
    assert (await hall.call(staff, 1))["number"] == "A002"
    await hall.act(staff, 1, "finish")
    assert (await hall.call(staff, 1))["number"] == walk_in["number"]


async def test_late_check_in_gives_an_ordinary_ticket(hall: HallClient):
    booked = await book(hall, slot="10:00-11:00")
    walk_in = await hall.issue("A")
    hall.clock.set(at("2026-11-23 10:15"))  # the 15 minutes' grace are over
    status, ticket = await check_in(hall, booked["code"])
    assert status == 201 and ticket["on_time"] is False and ticket["priority"] is None
    assert ticket["ahead"] == 1 and ticket["appointment"]["on_time"] is False
    staff = await hall.staff_at(1)
    assert (await hall.call(staff, 1))["number"] == walk_in["number"]


async def test_an_elderly_citizen_checking_in_late_keeps_the_elderly_lane(hall: HallClient):
    booked = await book(hall, id_number=id_number(7, born="19500101"))
    hall.clock.set(at("2026-11-23 11:00"))
    status, ticket = await check_in(hall, booked["code"])
    assert status == 201 and ticket["on_time"] is False and ticket["priority"] == "elderly"


async def test_a_repeated_check_in_gives_the_same_ticket(hall: HallClient):
    booked = await book(hall)
    hall.clock.set(at("2026-11-23 09:45"))
    first = await check_in(hall, booked["code"])
    hall.clock.set(at("2026-11-23 10:30"))  # even once it would be late
    again = await check_in(hall, booked["code"].lower())
    assert first[0] == 201 and again[0] == 200
    assert (again[1]["id"], again[1]["number"], again[1]["token"]) == (first[1]["id"], "A001", first[1]["token"])
    assert again[1]["on_time"] is True and again[1]["priority"] == "appointment"
    assert (await hall.counts())[0] == 1


async def test_a_double_tap_at_the_same_instant_makes_one_ticket(hall: HallClient):
    booked = await book(hall)
    hall.clock.set(at("2026-11-23 09:45"))
    kiosk = await hall.kiosk()
    answers = await asyncio.gather(*(check_in(hall, booked["code"], kiosk) for _ in range(5)))
    assert sorted(s for s, _ in answers) == [200, 200, 200, 200, 201]
    assert {b["number"] for _, b in answers} == {"A001"}
    assert (await hall.event_types()).count("appointment.checked_in") == 1


async def test_check_in_by_phone_takes_todays_next_booking(hall: HallClient):
    phone = person(1)["phone"]
    await book(hall, n=1, section="A", slot="10:00-11:00")
    await book(hall, n=2, section="B", slot="14:00-15:00", phone=phone)  # a relative, booked with the same phone
    await book(hall, n=3, date="2026-11-24", phone=phone)
    hall.clock.set(at("2026-11-23 09:40"))
    kiosk = await hall.kiosk()
    status, ticket = await hall.post("/api/appointments/check-in", {"phone": phone}, kiosk)
    assert status == 201 and ticket["number"] == "A001" and ticket["appointment"]["slot"] == "10:00-11:00"
    status, body = await hall.post("/api/appointments/check-in", {"phone": phone}, kiosk)
    assert status == 409 and body["error"]["code"] == "check_in_not_open_yet"  # the next one: B at 14:00
    assert body["error"]["opens_at"] == "2026-11-23T13:30:00+08:00" and "13:30" in body["error"]["message"]
    hall.clock.set(at("2026-11-23 13:45"))
    status, ticket = await hall.post("/api/appointments/check-in", {"phone": "138 0000 0001"}, kiosk)
    assert status == 201 and ticket["number"] == "B001" and ticket["priority"] == "appointment"
    status, again = await hall.post("/api/appointments/check-in", {"phone": phone}, kiosk)
    assert status == 200 and again["id"] == ticket["id"]
    status, body = await hall.post("/api/appointments/check-in", {"phone": "13999999999"}, kiosk)
    assert status == 404 and body["error"]["code"] == "appointment_not_found"
    status, body = await hall.post("/api/appointments/check-in", {"phone": "123"}, kiosk)
    assert status == 400 and body["error"]["field"] == "phone"


async def test_check_in_before_it_opens_says_when(hall: HallClient):
    booked = await book(hall, slot="10:00-11:00")
    hall.clock.set(at("2026-11-23 09:29"))
    status, body = await check_in(hall, booked["code"])
    assert status == 409 and body["error"]["code"] == "check_in_not_open_yet"
    assert body["error"]["opens_at"] == "2026-11-23T09:30:00+08:00"
    hall.clock.set(at("2026-11-23 09:30"))
    assert (await check_in(hall, booked["code"]))[0] == 201


async def test_check_in_on_another_day_or_after_cancelling_is_refused(hall: HallClient):
    tomorrow = await book(hall, n=1, date="2026-11-24")
    status, body = await check_in(hall, tomorrow["code"])
    assert status == 409 and body["error"]["code"] == "appointment_not_today" and body["error"]["date"] == "2026-11-24"
    cancelled = await book(hall, n=2)
    await hall.post(f"/api/appointments/{cancelled['code']}/cancel", {"phone": person(2)["phone"]})
    hall.clock.set(at("2026-11-23 09:45"))
    status, body = await check_in(hall, cancelled["code"])
    assert status == 409 and body["error"]["code"] == "appointment_cancelled"
    assert (await check_in(hall, "ABCDEFGH"))[1]["error"]["code"] == "appointment_not_found"
    assert (await check_in(hall, "nonsense"))[0] == 404
    assert (await hall.counts())[0] == 0


async def test_only_kiosks_and_staff_check_in(hall: HallClient):
    booked = await book(hall)
    hall.clock.set(at("2026-11-23 09:45"))
    assert (await hall.post(f"/api/appointments/{booked['code']}/check-in"))[0] == 401
    assert (await check_in(hall, booked["code"], await hall.device("display")))[0] == 403
    status, ticket = await check_in(hall, booked["code"], await hall.user("staff"))
    assert status == 201 and ticket["channel"] == "appointment"


async def test_a_checked_in_appointment_passes_the_daily_cap(hall: HallClient):
    booked = await book(hall, section="B", slot="10:00-11:00")
    for _ in range(5):  # B issues 5 a day
        await hall.issue("B")
    status, body = await hall.post("/api/tickets", {"section": "B"}, await hall.kiosk())
    assert status == 409 and body["error"]["code"] == "daily_cap_reached"
    hall.clock.set(at("2026-11-23 09:50"))
    status, ticket = await check_in(hall, booked["code"])
    assert status == 201 and ticket["number"] == "B006" and ticket["remaining"] == 0
    status, body = await hall.post("/api/tickets", {"section": "B"}, await hall.kiosk())
    assert status == 409 and body["error"]["code"] == "daily_cap_reached"  # walk-ins still may not


async def test_a_citizen_already_holding_a_ticket_is_told_so(hall: HallClient):
    booked = await book(hall)
    await hall.issue("A", id_number=id_number(1))
    hall.clock.set(at("2026-11-23 09:45"))
    status, body = await check_in(hall, booked["code"])
    assert status == 409 and body["error"]["code"] == "already_holding_ticket"
    assert await hall.db.fetchval("SELECT status FROM appointments") == "booked"


async def test_bookings_never_checked_in_become_no_shows_when_the_section_closes(hall: HallClient):
    today = await book(hall, n=1, slot="14:00-15:00")
    came = await book(hall, n=2, slot="10:00-11:00")
    later = await book(hall, n=3, date="2026-11-24")
    other = await book(hall, n=4, slot="14:00-15:00")
    hall.clock.set(at("2026-11-23 10:00"))
    await check_in(hall, came["code"])
    hall.clock.set(at("2026-11-23 16:59:59"))
    assert await sweep(hall.app) == 0
    status, ticket = await check_in(hall, today["code"])  # late, yet before closing: an ordinary ticket
    assert status == 201 and ticket["priority"] is None
    hall.clock.set(at("2026-11-23 17:00"))
    status, body = await check_in(hall, other["code"])
    assert status == 409 and body["error"]["code"] == "appointment_no_show"
    assert await sweep(hall.app) == 1
    assert await sweep(hall.app) == 0
    staff = await hall.user("staff")
    statuses = {
        a["code"]: a["status"] for a in (await hall.get("/api/appointments?section=A", staff))[1]["appointments"]
    }
    assert statuses == {today["code"]: "checked_in", came["code"]: "checked_in", other["code"]: "no_show"}
    assert (await hall.get(f"/api/appointments/{later['code']}", staff))[1]["status"] == "booked"
    seen = (await hall.get(f"/api/appointments/{other['code']}", staff))[1]
    assert seen["status_name"] == "未到(爽约)" and seen["no_show_at"] == "2026-11-23T17:00:00+08:00"
    assert (await hall.event_types()).count("appointment.no_show") == 1
    assert (await check_in(hall, other["code"]))[1]["error"]["code"] == "appointment_no_show"
    status, body = await hall.post(f"/api/appointments/{other['code']}/cancel", None, staff)
    assert status == 409 and body["error"]["code"] == "appointment_not_cancellable"


async def test_the_server_catches_up_on_no_shows_at_start_up(hall: HallClient, aiohttp_client, config, db_path):
    booked = await book(hall, slot="14:00-15:00")
    # The server was down over night; a new one starts the next morning on the same database.
    restarted = create_app(config, clock=FakeClock(at("2026-11-24 08:00")), db_path=db_path)
    await aiohttp_client(restarted, cookie_jar=DummyCookieJar())
    status = await hall.db.fetchval("SELECT status FROM appointments WHERE code = ?", (booked["code"],))
    assert status == "no_show"
