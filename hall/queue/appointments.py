"""Appointments (预约): booking, cancelling, check-in and no-shows as writer units.

A booking holds one place in a section's slot on one day. Check-in at a
kiosk (or by staff) issues the ticket through `issuing.issue`, in the same
transaction as the booking's change: on time, in the appointment lane that
is called before walk-ins; late, an ordinary ticket. Either passes the daily
cap, because the place was reserved when it was booked. The timing rules
are in `appointment_rules`. Personal data leaves only masked; events carry
none (screens receive them), not even the booking code, which checks in.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from ..clock import business_day, iso, local
from ..config import Config
from ..errors import BadRequest, Conflict, NotFound
from ..personal import age_on, mask_id_number, mask_name, mask_phone, normalize_id_number, normalize_phone
from ..storage import Tx
from ..web import validation as v
from . import appointment_store as astore
from . import issuing, store
from .appointment_rules import (
    STATUS_NAMES,
    check_bookable,
    check_in_times,
    choose_for_phone,
    find_slot,
    new_code,
    slot_text,
)
from .present import public_ticket

BOOK_FIELDS = ("section", "date", "slot", "name", "phone", "id_number")
_NAME = re.compile(r"^[\u3400-\u9fff\uf900-\ufaffA-Za-z·•. ]{2,30}$")


@dataclass(frozen=True)
class BookingRequest:
    section: str
    day: dt.date
    slot: tuple[int, int]
    name: str
    phone: str
    id_number: str
    by: str  # who booked: "citizen" or a staff member's key


def parse_booking(body: dict[str, Any], config: Config, by: str) -> BookingRequest:
    """Check a booking's fields; raise a clear 400 naming the field that is wrong."""
    v.only(body, BOOK_FIELDS)
    section_id = v.text(body, "section", required=True, max_len=8)
    section = config.section(section_id)
    if section is None:
        known = "、".join(f"{s.id}({s.name})" for s in config.sections if s.appointment_slots)
        raise BadRequest("unknown_section", f"没有业务板块 {section_id},可预约的有:{known}", field="section")
    if not section.appointment_slots:
        raise BadRequest("no_appointments", f"{section.name}不提供预约,请直接到大厅取号", field="section")
    day = parse_date(v.text(body, "date", required=True, max_len=10), "date")
    slot_raw = v.text(body, "slot", required=True, max_len=20)
    slot = find_slot(section, slot_raw)
    if slot is None:
        offered = "、".join(slot_text(*s) for s in section.appointment_slots)
        raise BadRequest("invalid_field", f"{section.name}没有 {slot_raw} 这个时段,可选:{offered}", field="slot")
    name = re.sub(r"\s+", " ", v.text(body, "name", required=True, max_len=30))
    if not _NAME.match(name):
        raise BadRequest("invalid_field", "姓名应为 2 至 30 个汉字或字母(可含间隔号·)", field="name")
    phone = normalize_phone(v.text(body, "phone", required=True, max_len=20))
    if phone is None:
        raise BadRequest("invalid_field", "手机号码不正确,应为 11 位手机号", field="phone")
    id_number = normalize_id_number(v.text(body, "id_number", required=True, max_len=18))
    if id_number is None:
        raise BadRequest("invalid_field", "身份证号码不正确,请核对 18 位号码", field="id_number")
    return BookingRequest(section.id, day, slot, name, phone, id_number, by)


def parse_date(text: str | None, field: str) -> dt.date:
    try:
        if text is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadRequest("invalid_field", f"日期 {field} 应写作 2026-11-24", field=field) from None


# -- writer units -----------------------------------------------------------------


def book(tx: Tx, config: Config, req: BookingRequest) -> dict[str, Any]:
    """Writer unit: book a place, if the slot can still be booked and has room."""
    section = config.section(req.section)
    check_bookable(config, section, req.day, req.slot[0], local(tx.now, config.tz))
    day = req.day.isoformat()
    if astore.active_in_section(tx, req.id_number, day, section.id) is not None:
        raise Conflict("already_booked", f"该身份证号码{req.day.month}月{req.day.day}日在{section.name}已有预约")
    limit = config.appointments.max_per_person_per_day
    if astore.active_on_day(tx, req.id_number, day) >= limit:
        raise Conflict("too_many_bookings", f"每人每天最多预约 {limit} 次,该身份证号码当天的预约已满")
    if astore.taken(tx, day, section.id, req.slot[0]) >= section.appointment_capacity:
        raise Conflict("slot_full", f"{slot_text(*req.slot)} 已约满,请选择其他时段")
    code = new_code()
    while astore.code_exists(tx, code):  # 2^40 codes: a repeat is rare, but must not fail a booking
        code = new_code()
    row = astore.insert(
        tx,
        {
            "code": code,
            "section": section.id,
            "day": day,
            "slot_start": req.slot[0],
            "slot_end": req.slot[1],
            "name": req.name,
            "phone": req.phone,
            "id_number": req.id_number,
            "status": "booked",
            "booked_by": req.by,
            "booked_at": tx.now,
        },
    )
    tx.emit("appointment.booked", {"appointment": public_appointment(row), "by": _actor(req.by)})
    return appointment_json(row, config)


def cancel(tx: Tx, config: Config, code: str, by: str) -> dict[str, Any]:
    """Writer unit: give a booked place back (repeating a cancel changes nothing)."""
    row = _by_code(tx, code)
    if row["status"] == "cancelled":
        return appointment_json(row, config)
    if row["status"] != "booked":
        raise Conflict("appointment_not_cancellable", f"该预约{STATUS_NAMES[row['status']]},不能取消")
    row = astore.update(tx, row["id"], "booked", status="cancelled", cancelled_at=tx.now, cancelled_by=by)
    tx.emit("appointment.cancelled", {"appointment": public_appointment(row), "by": _actor(by)})
    return appointment_json(row, config)


def check_in(tx: Tx, config: Config, code: str | None = None, phone: str | None = None) -> tuple[dict[str, Any], bool]:
    """Writer unit: check a booking in and issue its ticket; again, the same ticket.

    By code, or by phone (today's booking of that phone, see
    `choose_for_phone`). Returns the ticket answer with the booking and
    whether this repeats an earlier check-in.
    """
    now = local(tx.now, config.tz)
    today = now.date()
    if code is not None:
        row = _by_code(tx, code)
    else:
        row = choose_for_phone(astore.of_phone_on(tx, phone, today.isoformat()), config, now)
        if row is None:
            raise NotFound("appointment_not_found", "今天没有这个手机号码的预约,请核对或输入预约码")
    if row["status"] == "checked_in":
        ticket = store.ticket(tx, row["ticket_id"])
        answer = issuing.answer(tx, config, ticket, store.count_ahead(tx, ticket))
        return _with_booking(answer, row, config), True
    if row["status"] == "cancelled":
        raise Conflict("appointment_cancelled", "该预约已取消,请重新预约或直接取号")
    if row["status"] == "no_show":
        raise Conflict("appointment_no_show", "该预约已过签到时间,记为未到,请直接取号")
    day = dt.date.fromisoformat(row["day"])
    section = config.section(row["section"])
    if day != today:
        when = f"{day.month}月{day.day}日 {slot_text(row['slot_start'], row['slot_end'])}"
        raise Conflict("appointment_not_today", f"该预约是{when}的,请在预约当天签到", date=row["day"])
    if section is None:
        raise Conflict("no_appointments", "该业务板块已不再提供预约,请直接取号")
    times = check_in_times(config, section, day, row["slot_start"])
    if now < times.opens:
        raise Conflict(
            "check_in_not_open_yet", f"还未到签到时间,请于 {times.opens:%H:%M} 后签到", opens_at=times.opens.isoformat()
        )
    if now >= times.closes:
        raise Conflict("appointment_no_show", "今天的签到时间已过,该预约记为未到,请改日再约")
    on_time = now < times.on_time_until
    req = issuing.IssueRequest(
        section=section.id,
        channel="appointment",
        issuer=f"appointment:{row['code']}",
        request_id=row["code"],
        lane="appointment" if on_time else _walk_in_lane(config, row["id_number"], today),
        id_number=row["id_number"],
        phone=row["phone"],
        reserved=True,
    )
    answer, _ = issuing.issue(tx, config, req)
    row = astore.update(
        tx, row["id"], "booked", status="checked_in", ticket_id=answer["id"], on_time=on_time, checked_in_at=tx.now
    )
    ticket = store.ticket(tx, answer["id"])
    tx.emit(
        "appointment.checked_in",
        {"appointment": public_appointment(row), "ticket": public_ticket(ticket, config), "on_time": on_time},
    )
    return _with_booking(answer, row, config), False


def sweep_no_shows(tx: Tx, config: Config) -> int:
    """Writer unit: record as no-shows the bookings whose check-in closed; how many."""
    recorded = 0
    for row in astore.booked_until(tx, business_day(tx.now, config.tz)):
        day = dt.date.fromisoformat(row["day"])
        closes = check_in_times(config, config.section(row["section"]), day, row["slot_start"]).closes
        if tx.now < closes.timestamp():
            continue
        row = astore.update(tx, row["id"], "booked", status="no_show", no_show_at=tx.now)
        tx.emit("appointment.no_show", {"appointment": public_appointment(row)})
        recorded += 1
    return recorded


def _by_code(tx: Tx, code: str) -> store.Row:
    row = astore.by_code(tx, code)
    if row is None:
        raise NotFound("appointment_not_found", "没有这个预约码的预约,请核对")
    return row


def _walk_in_lane(config: Config, id_number: str, today: dt.date) -> str | None:
    """What a walk-in with this ID card gets at the kiosk: the elderly lane from its age, or none."""
    policy = config.queue.priority
    if "elderly" in policy.lanes and age_on(id_number, today) >= policy.elderly_age:
        return "elderly"
    return None


def _actor(by: str) -> str | int:
    """Who acted, for events: a staff member's user id, or "citizen"."""
    kind, _, ident = by.partition(":")
    return int(ident) if kind == "user" and ident.isdigit() else by


def _with_booking(answer: dict[str, Any], row: store.Row, config: Config) -> dict[str, Any]:
    return {**answer, "appointment": appointment_json(row, config), "on_time": bool(row["on_time"])}


# -- how bookings look ---------------------------------------------------------------


def public_appointment(row: store.Row) -> dict[str, Any]:
    """A booking in events: no personal data and no code."""
    return {
        "id": row["id"],
        "section": row["section"],
        "date": row["day"],
        "slot": slot_text(row["slot_start"], row["slot_end"]),
        "status": row["status"],
    }


def appointment_json(row: store.Row, config: Config) -> dict[str, Any]:
    """A booking for its holder and staff: name, phone and ID number masked."""
    tz = config.tz
    section = config.section(row["section"])
    times = check_in_times(config, section, dt.date.fromisoformat(row["day"]), row["slot_start"])
    return {
        "code": row["code"],
        "section": row["section"],
        "section_name": section.name if section else row["section"],
        "date": row["day"],
        "slot": slot_text(row["slot_start"], row["slot_end"]),
        "status": row["status"],
        "status_name": STATUS_NAMES[row["status"]],
        "name": mask_name(row["name"]),
        "phone": mask_phone(row["phone"]),
        "id_number": mask_id_number(row["id_number"]),
        "check_in_opens_at": times.opens.isoformat(),
        "on_time_until": times.on_time_until.isoformat(),
        "check_in_closes_at": times.closes.isoformat(),
        "ticket_id": row["ticket_id"],
        "ticket_number": row["ticket_number"],
        "on_time": None if row["on_time"] is None else bool(row["on_time"]),
        "booked_at": iso(row["booked_at"], tz),
        "checked_in_at": iso(row["checked_in_at"], tz),
        "cancelled_at": iso(row["cancelled_at"], tz),
        "no_show_at": iso(row["no_show_at"], tz),
    }
