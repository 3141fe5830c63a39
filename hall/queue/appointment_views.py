"""HTTP API and page of appointments (预约).

Citizens book, look up and cancel without an account: a booking is theirs
with its code and the phone it was booked with. Kiosks and staff check in;
staff see the day's bookings.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from aiohttp import web

from ..auth.middleware import PRINCIPAL
from ..auth.principal import STAFF, access
from ..clock import local
from ..config import Config, Section
from ..errors import BadRequest, HallError, NotFound, Unauthorized
from ..keys import CLOCK, CONFIG, DB
from ..personal import normalize_phone
from ..web import validation as v
from ..web.jsonio import read_json, respond
from ..web.pages import render
from . import appointment_store as astore
from . import appointments
from .appointment_rules import STATUS_NAMES, bookable_days, check_bookable, day_label, normalize_code, slot_text


def _section(config: Config, section_id: str | None) -> Section:
    """A section that offers appointments, named in a query or body."""
    if section_id is None:
        raise BadRequest("invalid_field", "缺少参数 section(业务板块)", field="section")
    section = config.section(section_id)
    if section is None:
        raise BadRequest("unknown_section", f"没有业务板块 {section_id}", field="section")
    if not section.appointment_slots:
        raise BadRequest("no_appointments", f"{section.name}不提供预约,请直接到大厅取号", field="section")
    return section


def _caller(request: web.Request) -> str:
    """Who acts, for the booking's record: a staff member's or device's key, or "citizen"."""
    who = request[PRINCIPAL]
    return who.key if who is not None else "citizen"


def _is_staff(request: web.Request) -> bool:
    who = request[PRINCIPAL]
    return who is not None and who.kind == "user" and who.role in STAFF


@access(public=True, session=False)
async def list_slots(request: web.Request) -> web.Response:
    config, db = request.app[CONFIG], request.app[DB]
    section = _section(config, request.query.get("section"))
    day = appointments.parse_date(request.query.get("date"), "date")
    taken = await astore.taken_per_slot(db, day.isoformat(), section.id)
    now = local(request.app[CLOCK].now(), config.tz)
    slots = []
    for start, end in section.appointment_slots:
        booked = taken.get(start, 0)
        try:
            check_bookable(config, section, day, start, now)
            reason = "slot_full" if booked >= section.appointment_capacity else None
        except HallError as e:
            reason = e.code
        slots.append(
            {
                "slot": slot_text(start, end),
                "capacity": section.appointment_capacity,
                "booked": booked,
                "remaining": max(0, section.appointment_capacity - booked),
                "bookable": reason is None,
                "reason": reason,
            }
        )
    return respond({"section": section.id, "section_name": section.name, "date": day.isoformat(), "slots": slots})


@access(public=True)
async def book(request: web.Request) -> web.Response:
    config, db = request.app[CONFIG], request.app[DB]
    req = appointments.parse_booking(await read_json(request), config, _caller(request))
    return respond(await db.write(appointments.book, config, req), status=201)


async def _booking_for(request: web.Request, phone: Any) -> astore.Row:
    """The booking named in the path, if the caller is staff or knows the phone it was booked with."""
    code = normalize_code(request.match_info["code"])
    row = await astore.get_by_code(request.app[DB], code) if code else None
    if _is_staff(request):
        if row is None:
            raise NotFound("appointment_not_found", "没有这个预约码的预约,请核对")
        return row
    if phone is None:
        raise Unauthorized("unauthenticated", "查询或取消预约需要填写预约时的手机号码")
    phone = normalize_phone(phone) if isinstance(phone, str) else None
    if row is None or phone is None or not hmac.compare_digest(row["phone"].encode(), phone.encode()):
        raise NotFound("appointment_not_found", "没有找到该预约,请核对预约码和预约时填写的手机号码")
    return row


@access(roles=STAFF, public=True)
async def get_booking(request: web.Request) -> web.Response:
    row = await _booking_for(request, request.query.get("phone"))
    return respond(appointments.appointment_json(row, request.app[CONFIG]))


@access(roles=STAFF, public=True)
async def cancel_booking(request: web.Request) -> web.Response:
    config, db = request.app[CONFIG], request.app[DB]
    body = await read_json(request, optional=True)
    v.only(body, ("phone",))
    row = await _booking_for(request, body.get("phone"))
    by = _caller(request) if _is_staff(request) else "citizen"
    return respond(await db.write(appointments.cancel, config, row["code"], by))


@access(roles=STAFF, devices=("kiosk",))
async def check_in_by_code(request: web.Request) -> web.Response:
    raw = request.match_info["code"]
    code = normalize_code(raw)
    if code is None:
        raise NotFound("appointment_not_found", f"预约码 {raw[:20]} 不正确,应为 8 位字母和数字")
    v.only(await read_json(request, optional=True), ())
    result, replay = await request.app[DB].write(appointments.check_in, request.app[CONFIG], code=code)
    return respond(result, status=200 if replay else 201)


@access(roles=STAFF, devices=("kiosk",))
async def check_in_by_phone(request: web.Request) -> web.Response:
    body = await read_json(request)
    v.only(body, ("phone",))
    phone = normalize_phone(v.text(body, "phone", required=True, max_len=20))
    if phone is None:
        raise BadRequest("invalid_field", "手机号码不正确,应为 11 位手机号", field="phone")
    result, replay = await request.app[DB].write(appointments.check_in, request.app[CONFIG], phone=phone)
    return respond(result, status=200 if replay else 201)


@access(roles=STAFF)
async def list_bookings(request: web.Request) -> web.Response:
    config, db = request.app[CONFIG], request.app[DB]
    q = request.query
    day = q.get("date")
    day = appointments.parse_date(day, "date") if day else local(request.app[CLOCK].now(), config.tz).date()
    section = q.get("section")
    if section is not None and config.section(section) is None:
        raise BadRequest("unknown_section", f"没有业务板块 {section}", field="section")
    status = v.choice(dict(q), "status", tuple(STATUS_NAMES))
    rows = await astore.list_day(db, day.isoformat(), section, status)
    return respond({"date": day.isoformat(), "appointments": [appointments.appointment_json(r, config) for r in rows]})


@access(public=True)
async def appointments_page(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    today = local(request.app[CLOCK].now(), config.tz).date()
    sections = [
        {
            "id": s.id,
            "name": s.name,
            "days": json.dumps(
                [[d.isoformat(), *day_label(d, today)] for d in bookable_days(config, s, today)], ensure_ascii=False
            ),
        }
        for s in config.sections
        if s.appointment_slots
    ]
    return render(request, "appointments.html", sections=sections, policy=config.appointments)


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/appointments/slots", list_slots, name="appointment_slots")
    r.add_post("/api/appointments/check-in", check_in_by_phone, name="appointment_check_in_by_phone")
    r.add_get("/api/appointments", list_bookings, name="list_appointments")
    r.add_post("/api/appointments", book, name="book_appointment")
    r.add_get("/api/appointments/{code}", get_booking, name="get_appointment")
    r.add_post("/api/appointments/{code}/cancel", cancel_booking, name="cancel_appointment")
    r.add_post("/api/appointments/{code}/check-in", check_in_by_code, name="appointment_check_in")
    r.add_get("/appointments", appointments_page, name="appointments_page")
