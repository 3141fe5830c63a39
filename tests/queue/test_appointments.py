"""Booking, looking up and cancelling appointments through the API, as a citizen or staff would."""

import dataclasses
import json

import pytest
from aiohttp import DummyCookieJar

from hall.server import create_app

from ..helpers import HallClient
from .appointment_helpers import MONDAY, book, check_in, id_number, person


async def test_a_citizen_books_a_slot_and_gets_a_code(hall: HallClient):
    status, slots = await hall.get(f"/api/appointments/slots?section=A&date={MONDAY}")
    assert status == 200 and [s["slot"] for s in slots["slots"]] == ["09:00-10:00", "10:00-11:00", "14:00-15:00"]
    # It is 09:00: the first slot has started
    assert [(s["bookable"], s["reason"]) for s in slots["slots"]] == [(False, "slot_past"), (True, None), (True, None)]
    booked = await book(hall, slot="10:00-11:00", name="张三")
    assert len(booked["code"]) == 8 and booked["status"] == "booked" and booked["status_name"] == "已预约"
    assert (booked["section"], booked["section_name"], booked["date"], booked["slot"]) == (
        "A",
        "综合受理",
        MONDAY,
        "10:00-11:00",
    )
    # Personal data leaves masked
    assert booked["name"] == "张*" and booked["phone"] == "138****0001"
    assert booked["id_number"] == id_number(1)[:4] + "*" * 10 + id_number(1)[-4:]
    assert booked["check_in_opens_at"] == "2026-11-23T09:30:00+08:00"
    assert booked["on_time_until"] == "2026-11-23T10:15:00+08:00"
    status, slots = await hall.get(f"/api/appointments/slots?section=A&date={MONDAY}")
    assert slots["slots"][1] | {"slot": None} == {
        "slot": None,
        "capacity": 2,
        "booked": 1,
        "remaining": 1,
        "bookable": True,
        "reason": None,
    }


async def test_a_full_slot_refuses_the_next_booking_until_one_is_cancelled(hall: HallClient):
    first = await book(hall, n=1)
    await book(hall, n=2)
    status, body = await hall.post(
        "/api/appointments", {"section": "A", "date": MONDAY, "slot": "10:00-11:00", **person(3)}
    )
    assert status == 409 and body["error"]["code"] == "slot_full" and "约满" in body["error"]["message"]
    slot = (await hall.get(f"/api/appointments/slots?section=A&date={MONDAY}"))[1]["slots"][1]
    assert (slot["remaining"], slot["bookable"], slot["reason"]) == (0, False, "slot_full")
    status, _ = await hall.post(f"/api/appointments/{first['code']}/cancel", {"phone": person(1)["phone"]})
    assert status == 200
    await book(hall, n=3)


async def test_one_booking_per_person_section_and_day(hall: HallClient):
    await book(hall, slot="10:00-11:00")
    status, body = await hall.post(
        "/api/appointments", {"section": "A", "date": MONDAY, "slot": "14:00-15:00", **person(1)}
    )
    assert status == 409 and body["error"]["code"] == "already_booked"
    await book(hall, section="B", slot="14:00-15:00")  # another section the same day
    await book(hall, date="2026-11-24")  # the same section another day


async def test_at_most_so_many_bookings_per_person_and_day(aiohttp_client, config, clock, tmp_path):
    strict = dataclasses.replace(
        config, appointments=dataclasses.replace(config.appointments, max_per_person_per_day=1)
    )
    hall = HallClient(await aiohttp_client(create_app(strict, clock=clock, db_path=tmp_path / "h.db")), clock)
    await book(hall, section="A")
    status, body = await hall.post(
        "/api/appointments", {"section": "B", "date": MONDAY, "slot": "14:00-15:00", **person(1)}
    )
    assert status == 409 and body["error"]["code"] == "too_many_bookings"
    assert "最多预约 1 次" in body["error"]["message"]


@pytest.mark.parametrize(
    ("changes", "status", "code", "field"),
    [
        ({"phone": "12345"}, 400, "invalid_field", "phone"),
        ({"id_number": "330802199003070010"}, 400, "invalid_field", "id_number"),  # wrong check digit
        ({"name": "张"}, 400, "invalid_field", "name"),
        ({"name": "<b>张三</b>"}, 400, "invalid_field", "name"),
        ({"name": None}, 400, "invalid_field", "name"),
        ({"slot": "10:30-11:30"}, 400, "invalid_field", "slot"),
        ({"date": "23/11/2026"}, 400, "invalid_field", "date"),
        ({"date": "2026-02-30"}, 400, "invalid_field", "date"),
        ({"section": "Z"}, 400, "unknown_section", "section"),
        ({"section": "C"}, 400, "no_appointments", "section"),  # C offers no appointments
        ({"note": "x"}, 400, "unknown_field", "note"),
        ({"slot": "09:00-10:00"}, 409, "slot_past", None),  # started at 09:00
        ({"date": "2026-11-20"}, 409, "slot_past", None),
        ({"date": "2026-11-28"}, 409, "section_closed_that_day", None),  # Saturday
        ({"date": "2026-12-02"}, 409, "too_far_ahead", None),  # six open days ahead
    ],
)
async def test_bookings_that_are_refused_change_nothing(hall: HallClient, changes, status, code, field):
    body = {"section": "A", "date": MONDAY, "slot": "10:00-11:00", **person(1), **changes}
    body = {k: v for k, v in body.items() if v is not None}
    answer = await hall.post("/api/appointments", body)
    assert answer[0] == status and answer[1]["error"]["code"] == code, answer
    assert answer[1]["error"].get("field") == field and answer[1]["error"]["message"]
    assert await hall.db.fetchval("SELECT COUNT(*) FROM appointments") == 0
    assert await hall.event_types() == ["window.added"] * 4


async def test_a_booking_is_seen_with_its_phone_or_by_staff(hall: HallClient):
    booked = await book(hall)
    code, phone = booked["code"], person(1)["phone"]
    status, seen = await hall.get(f"/api/appointments/{code.lower()[:4]}-{code.lower()[4:]}?phone={phone}")
    assert status == 200 and seen == booked  # codes are read in any case, with a dash
    wrong = await hall.get(f"/api/appointments/{code}?phone=13900000000")
    assert wrong[0] == 404 and wrong[1]["error"]["code"] == "appointment_not_found"
    assert (await hall.get(f"/api/appointments/{code}"))[0] == 401
    assert (await hall.get(f"/api/appointments/ABCDEFGH?phone={phone}"))[0] == 404
    status, seen = await hall.get(f"/api/appointments/{code}", await hall.user("staff"))
    assert status == 200 and seen["code"] == code and seen["phone"] == "138****0001"


async def test_cancelling_needs_the_phone_and_happens_once(hall: HallClient):
    booked = await book(hall)
    code = booked["code"]
    status, body = await hall.post(f"/api/appointments/{code}/cancel", {"phone": "13900000000"})
    assert status == 404 and body["error"]["code"] == "appointment_not_found"
    status, body = await hall.post(f"/api/appointments/{code}/cancel", {"phone": person(1)["phone"]})
    assert status == 200 and body["status"] == "cancelled" and body["cancelled_at"] == "2026-11-23T09:00:00+08:00"
    again = await hall.post(f"/api/appointments/{code}/cancel", {"phone": person(1)["phone"]})
    assert again == (200, body)
    assert (await hall.event_types()).count("appointment.cancelled") == 1
    # cancelled, the place is free again and the citizen may book anew
    assert (await book(hall))["code"] != code


async def test_staff_cancel_for_a_citizen_and_a_checked_in_booking_cannot_be_cancelled(hall: HallClient):
    staff = await hall.user("staff")
    one = await book(hall, n=1)
    status, body = await hall.post(f"/api/appointments/{one['code']}/cancel", None, staff)
    assert status == 200 and body["status"] == "cancelled"
    two = await book(hall, n=2)
    hall.clock.advance(40 * 60)
    assert (await check_in(hall, two["code"]))[0] == 201
    status, body = await hall.post(f"/api/appointments/{two['code']}/cancel", None, staff)
    assert status == 409 and body["error"]["code"] == "appointment_not_cancellable"


async def test_staff_list_the_days_bookings_masked(hall: HallClient):
    await book(hall, n=1, slot="14:00-15:00")
    await book(hall, n=2, slot="10:00-11:00")
    await book(hall, n=3, section="B", slot="14:00-15:00")
    await book(hall, n=4, date="2026-11-24")
    assert (await hall.get("/api/appointments"))[0] == 401
    staff = await hall.user("staff")
    status, body = await hall.get("/api/appointments?section=A", staff)
    assert status == 200 and body["date"] == MONDAY
    assert [(a["section"], a["slot"]) for a in body["appointments"]] == [("A", "10:00-11:00"), ("A", "14:00-15:00")]
    assert all(a["name"] == "张**" and "*" in a["phone"] and "*" in a["id_number"] for a in body["appointments"])
    status, body = await hall.get("/api/appointments?date=2026-11-24", staff)
    assert len(body["appointments"]) == 1
    assert (await hall.get("/api/appointments?status=lost", staff))[0] == 400


async def test_events_carry_no_personal_data_nor_the_code(hall: HallClient):
    who = person(1, name="李四光")
    one = await book(hall, n=1, name="李四光")
    two = await book(hall, n=2, slot="14:00-15:00")
    await book(hall, n=3, slot="14:00-15:00")
    await hall.post(f"/api/appointments/{two['code']}/cancel", {"phone": person(2)["phone"]})
    hall.clock.advance(40 * 60)
    assert (await check_in(hall, one["code"]))[0] == 201
    hall.clock.advance(8 * 3600)  # 17:40: the 14:00 booking never came
    from hall.queue.appointment_sweep import sweep

    assert await sweep(hall.app) == 1
    rows = await hall.db.fetchall("SELECT type, payload FROM events WHERE type LIKE 'appointment.%' ORDER BY id")
    assert [r[0] for r in rows] == [
        "appointment.booked",
        "appointment.booked",
        "appointment.booked",
        "appointment.cancelled",
        "appointment.checked_in",
        "appointment.no_show",
    ]
    payloads = [json.loads(r[1]) for r in rows]
    assert payloads[0] == {
        "appointment": {"id": 1, "section": "A", "date": MONDAY, "slot": "10:00-11:00", "status": "booked"},
        "by": "citizen",
    }
    assert payloads[4]["ticket"]["number"] == "A001" and payloads[4]["on_time"] is True
    text = " ".join(r[0] for r in await hall.db.fetchall("SELECT payload FROM events"))
    for secret in (who["name"], "李", who["phone"], who["id_number"], person(2)["phone"], one["code"], two["code"]):
        assert secret not in text


async def test_booking_as_staff_records_who_booked(hall: HallClient):
    staff = await hall.user("staff")
    status, body = await hall.post(
        "/api/appointments", {"section": "A", "date": MONDAY, "slot": "10:00-11:00", **person(1)}, staff
    )
    assert status == 201
    booked_by = await hall.db.fetchval("SELECT booked_by FROM appointments WHERE code = ?", (body["code"],))
    assert booked_by.startswith("user:")


async def test_the_page_and_slots_need_no_login(aiohttp_client, config, clock, tmp_path):
    client = await aiohttp_client(
        create_app(config, clock=clock, db_path=tmp_path / "h.db"), cookie_jar=DummyCookieJar()
    )
    async with client.get("/appointments") as resp:
        page = await resp.text()
    assert resp.status == 200 and "预约办事" in page and 'data-days="[[&#34;2026-11-23&#34;' in page
    assert "请于预约时段开始前 30 分钟内到大厅取号机签到" in page
    assert "<script>" not in page  # the CSP allows only scripts from files
    async with client.get("/api/appointments/slots?section=A") as resp:
        assert resp.status == 400 and (await resp.json())["error"]["field"] == "date"
