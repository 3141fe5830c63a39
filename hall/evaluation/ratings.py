"""Writer units: services as they finish, ratings (一次一评, 追评), voids and default grades."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..auth import store as auth_store
from ..clock import business_day, local
from ..config import Config
from ..errors import Conflict, NotFound
from ..personal import mask_id_number, mask_name, mask_phone
from ..queue import store as queue_store
from ..storage import Tx
from . import cases, store
from .rules import CHANNELS, Rater, RatingInput, is_bad
from .settings import GRADES

SERVICE_KINDS = ("first", "follow_up")


def record_service(tx: Tx, config: Config, ticket_id: int) -> store.Row | None:
    """The finished service of a ticket, recorded from the queue the first time it is asked for.

    None when the ticket was not (or not yet) served: it never finished.
    """
    known = store.service(tx, ticket_id)
    if known is not None:
        return known
    ticket = queue_store.ticket(tx, ticket_id)
    if ticket is None or ticket["status"] != "done" or ticket["window_no"] is None:
        return None
    window = config.window(ticket["window_no"])
    staff_name, staff_no = auth_store.staff_brief(tx, ticket["staff_user_id"])
    assisted_name, assisted_no = auth_store.staff_brief(tx, ticket["assisted_by"])
    store.insert_service(
        tx,
        {
            "ticket_id": ticket_id,
            "day": business_day(ticket["finished_at"], config.tz),
            "finished_at": ticket["finished_at"],
            "ticket_number": ticket["number"],
            "section": ticket["section"],
            "matter": ticket["matter"] or "",
            "outcome": ticket["outcome"],
            "issued_at": ticket["issued_at"],
            "called_at": ticket["called_at"],
            "started_at": ticket["started_at"],
            "window_no": ticket["window_no"],
            "window_name": window.name if window else f"{ticket['window_no']}号窗口",
            "department": (window.department if window else "") or "",
            "staff_user_id": ticket["staff_user_id"],
            "staff_no": staff_no,
            "staff_name": staff_name,
            "assisted_by": ticket["assisted_by"],
            "assisted_no": assisted_no,
            "assisted_name": assisted_name,
        },
    )
    return store.service(tx, ticket_id)


def project(tx: Tx, config: Config, ticket_ids: list[int], position: int) -> None:
    """Writer unit: record the services of finished tickets, and move the cursor to event `position`."""
    for ticket_id in ticket_ids:
        record_service(tx, config, ticket_id)
    store.set_cursor(tx, position)


@dataclass(frozen=True)
class Source:
    """Where a rating comes from."""

    channel: str
    device_id: int | None = None  # the window's pad
    pad_window: int | None = None
    entered_by: int | None = None  # staff entering an SMS or hotline rating


PAD_WINDOW_S = 30 * 60  # a pad rates the services its window finished in the last half hour


def rate(tx: Tx, config: Config, ticket_id: int, given: RatingInput, source: Source) -> dict[str, Any]:
    """Writer unit: store a rating of a served ticket; a second one is refused (追评 aside)."""
    settings = config.evaluation
    served = record_service(tx, config, ticket_id)
    if served is None:
        raise Conflict("not_served", "这张号票还没有办理完毕,办结后才能评价")
    if source.pad_window is not None:
        if served["window_no"] != source.pad_window:
            raise Conflict("not_this_window", "这项业务不是在本窗口办理的,不能在本窗口评价器上评价")
        if tx.now - served["finished_at"] > PAD_WINDOW_S:
            raise Conflict("rating_closed", "评价器只能评价本窗口刚办结的业务,请扫描号票上的二维码评价")
    elif source.channel in ("qr", "web") and tx.now - served["finished_at"] > settings.rate_days * 86400:
        raise Conflict("rating_closed", f"已超过评价期限(办结后 {settings.rate_days} 天内可评价)")
    first = store.rating_for(tx, ticket_id, "first")
    kind = "first"
    if first is not None:
        kind = "follow_up"
        if store.rating_for(tx, ticket_id, "follow_up") is not None:
            raise Conflict("already_rated", "这次服务已经评价过,也已追评,不能再评价")
        if not cases.fixed(tx, first["id"]):
            raise Conflict("already_rated", "这次服务已经评价过(一次一评);差评整改完成并回访后,可以追加一次评价")
    row = store.insert_rating(tx, _fields(tx, served, given, source, kind, settings.tag_set))
    if kind == "first":
        store.set_rated(tx, ticket_id, 1)
    store.roll_up(
        tx,
        served["day"],
        served,
        source.channel,
        grade=given.grade,
        follow_up=kind == "follow_up",
        real_name_bad=is_bad(given.grade) and not given.rater.anonymous and kind == "first",
    )
    tx.emit(
        "rating.created",
        {
            "rating": {"id": row["id"], "kind": kind, "grade": given.grade, "channel": source.channel},
            "ticket": {"id": ticket_id, "number": served["ticket_number"], "section": served["section"]},
            "window": {"no": served["window_no"], "name": served["window_name"]},
            "department": served["department"],
            "staff": served["staff_user_id"],
        },
    )
    if is_bad(given.grade) and kind == "first":
        cases.open_case(tx, config, row)
    return rating_json(row, config)


def _fields(tx: Tx, s: store.Row, given: RatingInput, source: Source, kind: str, tag_set: str) -> dict[str, Any]:
    return {
        "ticket_id": s["ticket_id"],
        "kind": kind,
        "grade": given.grade,
        "tags": json.dumps(list(given.tags), ensure_ascii=False),
        "tag_set": tag_set,
        "comment": given.comment,
        "channel": source.channel,
        "device_id": source.device_id,
        "entered_by": source.entered_by,
        "created_at": tx.now,
        "day": s["day"],  # counted on the day of the service, like the service itself
        "service_day": s["day"],
        **{
            k: s[k]
            for k in (
                "ticket_number",
                "section",
                "matter",
                "outcome",
                "issued_at",
                "called_at",
                "finished_at",
                "window_no",
                "window_name",
                "department",
                "staff_user_id",
                "staff_no",
                "staff_name",
                "assisted_by",
                "assisted_no",
                "assisted_name",
            )
        },  # fmt: skip
        "anonymous": int(given.rater.anonymous),
        "rater_name": given.rater.name,
        "rater_phone": given.rater.phone,
        "rater_id_number": given.rater.id_number,
    }


def void(tx: Tx, config: Config, rating_id: int, reason: str, user_id: int) -> dict[str, Any]:
    """Writer unit: void a rating after an appeal; the original stays, with the reason."""
    row = store.rating(tx, rating_id)
    if row is None:
        raise NotFound("rating_not_found", f"没有编号为 {rating_id} 的评价")
    if row["voided_at"] is not None:
        raise Conflict("already_voided", "这条评价已经作废")
    row = store.void_rating(tx, rating_id, reason, user_id)
    s = store.service(tx, row["ticket_id"])
    store.roll_up(
        tx,
        row["day"],
        s,
        row["channel"],
        grade=row["grade"],
        sign=-1,
        follow_up=row["kind"] == "follow_up",
        real_name_bad=is_bad(row["grade"]) and not row["anonymous"] and row["kind"] == "first",
    )
    if row["kind"] == "first":
        # 3: voided. Not rated any more (the roll-up took it out), but not unrated either: the
        # default grade must not stand in for a withdrawn rating, and no second one can be given.
        store.set_rated(tx, row["ticket_id"], VOIDED)
    tx.emit("rating.voided", {"rating": {"id": rating_id, "grade": row["grade"]}, "reason": reason, "by": user_id})
    cases.rating_voided(tx, rating_id)
    return rating_json(row, config)


def apply_defaults(tx: Tx, config: Config, limit: int = 500) -> int:
    """Writer unit: give the default grade to services unrated for `default_after_days` (when configured)."""
    settings = config.evaluation
    if settings.unrated != "default":
        return 0
    due = store.unrated_before(tx, tx.now - settings.default_after_days * 86400, limit)
    for s in due:
        given = RatingInput(settings.default_grade, (), "", _ANONYMOUS)
        row = store.insert_rating(tx, _fields(tx, s, given, Source("default"), "first", settings.tag_set))
        store.set_rated(tx, s["ticket_id"], 2)
        store.roll_up(tx, s["day"], s, "default", grade=settings.default_grade)
        tx.emit(
            "rating.defaulted",
            {"rating": {"id": row["id"], "grade": settings.default_grade}, "ticket": {"id": s["ticket_id"]}},
        )
    return len(due)


_ANONYMOUS = Rater(anonymous=True)
VOIDED = 3  # services.rated: 0 unrated, 1 rated by the citizen, 2 default grade, 3 rating voided


def rating_json(row: store.Row, config: Config, unmasked: bool = False) -> dict[str, Any]:
    """A rating with every detail it records; the rater masked unless `unmasked` (audited by the caller)."""
    tz = config.tz

    def when(ts: float | None) -> str | None:
        return local(ts, tz).replace(microsecond=0).isoformat() if ts is not None else None

    rater = {"anonymous": bool(row["anonymous"]), "name": None, "phone": None, "id_number": None}
    if not row["anonymous"]:
        if unmasked:
            rater.update(name=row["rater_name"], phone=row["rater_phone"], id_number=row["rater_id_number"])
        else:
            rater.update(
                name=mask_name(row["rater_name"]),
                phone=mask_phone(row["rater_phone"]),
                id_number=mask_id_number(row["rater_id_number"]),
            )
    return {
        "id": row["id"],
        "kind": row["kind"],
        "grade": row["grade"],
        "grade_name": GRADES[row["grade"]],
        "tags": json.loads(row["tags"]),
        "comment": row["comment"],
        "channel": row["channel"],
        "channel_name": CHANNELS.get(row["channel"], row["channel"]),
        "device_id": row["device_id"],
        "created_at": when(row["created_at"]),
        "ticket": {
            "id": row["ticket_id"],
            "number": row["ticket_number"],
            "section": row["section"],
            "section_name": (config.section(row["section"]).name if config.section(row["section"]) else row["section"]),
            "matter": row["matter"],
            "outcome": row["outcome"],
            "issued_at": when(row["issued_at"]),
            "called_at": when(row["called_at"]),
            "finished_at": when(row["finished_at"]),
            "day": row["service_day"],
        },
        "window": {"no": row["window_no"], "name": row["window_name"], "department": row["department"]},
        "staff": {"id": row["staff_user_id"], "staff_no": row["staff_no"], "name": row["staff_name"]},
        "assisted_by": (
            {"id": row["assisted_by"], "staff_no": row["assisted_no"], "name": row["assisted_name"]}
            if row["assisted_by"] is not None
            else None
        ),
        "rater": rater,
        "voided": row["voided_at"] is not None,
        "voided_at": when(row["voided_at"]),
        "void_reason": row["void_reason"],
    }
