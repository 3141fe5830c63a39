"""Issuing tickets (取号): who may ask, what they may ask for, and the number.

`parse_issue` checks a request before it reaches the writer; `issue` is the
writer unit. The number is MAX(seq)+1 for the section's prefix and business
day, read and written in one transaction by the only writer, and the table's
UNIQUE (day, prefix, seq) makes a repeat impossible even after a crash.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from ..auth.principal import STAFF, Principal
from ..calendar import is_issuing, next_opening
from ..clock import business_day, local
from ..config import Config
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..personal import age_on, normalize_id_number, normalize_phone
from ..storage import Tx
from ..web import validation as v
from . import notices, store
from .present import public_ticket, ticket_json
from .rules import RECENT_S, check_lane, expected_wait, format_number

ISSUE_FIELDS = ("section", "request_id", "priority", "id_number", "phone", "channel")
REMOTE_CHANNELS = ("web", "wechat")
# Staff at reception may record how the citizen asked (e.g. by phone); they
# vouch for it, as for the priority lanes.
STAFF_CHANNELS = ("reception", "phone", "kiosk", "web", "wechat")


@dataclass(frozen=True)
class IssueRequest:
    section: str
    channel: str
    issuer: str
    request_id: str | None = None
    lane: str | None = None
    id_number: str | None = None
    phone: str | None = None
    # A checked-in appointment: its place was reserved when it was booked,
    # so the daily cap does not refuse it.
    reserved: bool = False


def parse_issue(body: dict[str, Any], who: Principal | None, config: Config, now: float) -> IssueRequest:
    """Check an issue request against the caller and the hall; raise a clear error if it is wrong."""
    v.only(body, ISSUE_FIELDS)
    section_id = v.text(body, "section", required=True, max_len=8)
    if config.section(section_id) is None:
        known = "、".join(f"{s.id}({s.name})" for s in config.sections)
        raise BadRequest("unknown_section", f"没有业务板块 {section_id},可选:{known}", field="section")
    channel = _channel(v.text(body, "channel", max_len=20), who)
    request_id = v.text(body, "request_id", max_len=64, pattern=r"[A-Za-z0-9_.:-]+")
    lane = v.text(body, "priority", max_len=20)
    check_lane(lane, config.queue.priority.lanes)
    id_number = v.text(body, "id_number", max_len=18)
    if id_number is not None:
        id_number = normalize_id_number(id_number)
        if id_number is None:
            raise BadRequest("invalid_field", "身份证号码不正确,请核对 18 位号码", field="id_number")
    phone = v.text(body, "phone", max_len=20)
    if phone is not None:
        phone = normalize_phone(phone)
        if phone is None:
            raise BadRequest("invalid_field", "手机号码不正确,应为 11 位手机号", field="phone")
    if channel in REMOTE_CHANNELS and phone is None:
        raise BadRequest("invalid_field", "远程取号需要填写手机号码,以便通知您", field="phone")
    vouched = who is not None and who.kind == "user"
    section = config.section(section_id)
    if section.id_required and id_number is None and not vouched:
        # One ID holds one unfinished ticket per section: a kiosk cannot be used to drain the day's numbers.
        raise BadRequest("id_required", f"{section.name}实行实名取号,请刷身份证或输入身份证号码", field="id_number")
    lane = _elderly_lane(lane, id_number, vouched, config, local(now, config.tz).date())
    # Without an account, a request_id is the citizen's own only together with
    # their phone: nobody else can replay it to obtain their ticket and token.
    issuer = who.key if who is not None else f"citizen:{phone}"
    return IssueRequest(section_id, channel, issuer, request_id, lane, id_number, phone)


def _channel(asked: str | None, who: Principal | None) -> str:
    if who is None:
        allowed = REMOTE_CHANNELS
    elif who.kind == "device":
        if who.device_kind != "kiosk":
            raise Forbidden("forbidden", "只有取号机可以为群众取号")
        allowed = ("kiosk",)
    elif who.role in STAFF:
        allowed = STAFF_CHANNELS
    else:
        raise Forbidden("forbidden", "您的账号无权取号")
    if asked is None:
        return allowed[0]
    if asked not in allowed:
        raise BadRequest("invalid_field", f"此处取号的渠道只能是:{'、'.join(allowed)}", field="channel")
    return asked


def _elderly_lane(lane: str | None, id_number: str | None, vouched: bool, config: Config, today: dt.date) -> str | None:
    """The elderly lane is proven by the ID number, or vouched for by staff at reception."""
    policy = config.queue.priority
    age = age_on(id_number, today) if id_number else None
    if lane == "elderly":
        if age is None and not vouched:
            raise BadRequest("priority_not_eligible", "老年人绿色通道需要刷身份证或填写身份证号码", field="id_number")
        if age is not None and age < policy.elderly_age:
            raise BadRequest(
                "priority_not_eligible",
                f"根据身份证号码,年龄未满 {policy.elderly_age} 周岁,不能使用老年人绿色通道",
                field="priority",
            )
    if lane is None and age is not None and age >= policy.elderly_age and "elderly" in policy.lanes:
        return "elderly"
    return lane


def issue(tx: Tx, config: Config, req: IssueRequest) -> tuple[dict[str, Any], bool]:
    """Writer unit: issue a ticket, or return the one this request_id already got.

    Returns the answer and whether it is a replay of an earlier request.
    """
    tz = config.tz
    if req.request_id is not None:
        earlier = store.ticket_by_request(tx, req.issuer, req.request_id)
        if earlier is not None:
            if earlier["origin_section"] != req.section:
                raise Conflict(
                    "request_id_reused", "这个 request_id 已用于另一个业务板块的取号,请换一个新的 request_id"
                )
            return answer(tx, config, earlier, store.count_ahead(tx, earlier)), True
    section = config.section(req.section)
    now_local = local(tx.now, tz)
    if not is_issuing(section, now_local, config):
        opens = next_opening(section, now_local, config)
        when = f",下次取号时间 {opens:%m月%d日 %H:%M}" if opens else ""
        raise Conflict(
            "section_closed",
            f"{section.name}现在不在取号时间(取号时间 {section.hours_text()}){when}",
            opens_at=opens.isoformat() if opens else None,
        )
    day = business_day(tx.now, tz)
    seq = store.last_seq(tx, day, section.id)
    if seq >= section.daily_cap and not req.reserved:
        raise Conflict(
            "daily_cap_reached", f"{section.name}今日号源已取完(每日 {section.daily_cap} 个),请改日再来或预约办理"
        )
    for column, value in (
        ("id_number", req.id_number),
        ("phone", req.phone if req.channel in REMOTE_CHANNELS else None),
    ):
        if value is not None and store.holds_unfinished(tx, day, section.id, column, value):
            raise Conflict("already_holding_ticket", f"您在{section.name}已有一个未办结的号票,请勿重复取号")
    seq += 1
    row = store.insert_ticket(
        tx,
        {
            "day": day,
            "prefix": section.id,
            "seq": seq,
            "number": format_number(section.id, seq),
            "section": section.id,
            "origin_section": section.id,
            "status": "waiting",
            "priority": req.lane,
            "priority_class": 1 if req.lane else 0,
            "channel": req.channel,
            "issuer": req.issuer,
            "request_id": req.request_id,
            "token": secrets.token_urlsafe(16),
            "id_number": req.id_number,
            "phone": req.phone,
            "queue_key": tx.now,
            "issued_at": tx.now,
        },
    )
    # The newest ticket of its class: everyone of its class or higher waits before it.
    ahead = store.waiting_count(tx, day, section.id, row["priority_class"]) - 1
    result = answer(tx, config, row, ahead)
    tx.emit("ticket.issued", {"ticket": public_ticket(row, config), "ahead": result["ahead"], "channel": req.channel})
    if seq == section.warn_at and seq < section.daily_cap:
        tx.emit("section.nearly_full", {"section": section.id, "issued": seq, "cap": section.daily_cap})
    if seq == section.daily_cap:
        tx.emit("section.full", {"section": section.id, "cap": section.daily_cap})
    return result, False


def answer(tx: Tx, config: Config, row: store.Row, ahead: int) -> dict[str, Any]:
    """The issue answer: the ticket with people ahead, estimated wait and its secret token."""
    section = config.section(row["section"])
    serving = config.serving(section.id)
    wait = None
    if row["status"] != "waiting":
        ahead = None
    else:
        measured = store.average_service(tx, section.id, tx.now - RECENT_S, config.queue.estimate_sample)
        opened = store.open_windows(tx, serving)
        wait = expected_wait(ahead, measured, config.service_seconds(section), opened, len(serving))
    issued = store.last_seq(tx, row["day"], row["prefix"])
    return ticket_json(
        row,
        config,
        ahead=ahead,
        estimated_wait_s=wait,
        token=row["token"],
        windows=list(serving),
        remaining=max(0, section.daily_cap - issued) if row["prefix"] == section.id else None,
    )


def cancel(tx: Tx, config: Config, ticket_id: int, by: str) -> dict[str, Any]:
    """Writer unit: the citizen (or staff for them) gives up a ticket that is not being served."""
    row = store.ticket(tx, ticket_id)
    if row is None:
        raise NotFound("ticket_not_found", f"没有编号为 {ticket_id} 的号票")
    if row["status"] == "cancelled":
        return ticket_json(row, config)
    if row["status"] not in ("waiting", "held", "missed"):
        raise Conflict("ticket_not_cancellable", f"{row['number']} 号正在办理或已办结,不能取消")
    was_waiting = row["status"] == "waiting"
    row = store.update_ticket(
        tx, ticket_id, ("waiting", "held", "missed"), status="cancelled", cancelled_at=tx.now, target_window=None
    )
    tx.emit("ticket.cancelled", {"ticket": public_ticket(row, config), "by": by})
    if was_waiting:
        notices.queue_moved(tx, config, row["day"], row["section"])
    return ticket_json(row, config)
