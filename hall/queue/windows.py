"""Window actions (叫号器): writer units for everything staff do at a window.

Every action but `open` requires the caller to be the staff member signed in
at that window (managers may also close any window). Each returns the
window's state after the change, so a caller page never shows a stale one.
"""

from __future__ import annotations

from typing import Any

from ..auth.principal import MANAGERS, Principal
from ..clock import business_day
from ..config import Config, Window
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..storage import Tx
from . import notices, store
from .present import public_ticket, ticket_json, window_json
from .rules import ACTION_FROM, STATUS_NAMES, Candidate, choose_next, next_streak, requeue_key


def _config_window(config: Config, no: int) -> Window:
    window = config.window(no)
    if window is None:
        raise NotFound("window_not_found", f"没有 {no} 号窗口")
    return window


def _signed_in(tx: Tx, config: Config, no: int, who: Principal) -> tuple[Window, store.Row]:
    window = _config_window(config, no)
    row = store.window(tx, no)
    if row["staff_user_id"] != who.id or who.kind != "user":
        raise Forbidden("not_at_window", f"您没有在 {no} 号窗口登录上岗,不能操作该窗口")
    return window, row


def state(tx: Tx, config: Config, no: int, ticket: store.Row | None = None) -> dict[str, Any]:
    """The answer of every action: the window now, and the ticket acted on."""
    row = store.window(tx, no)
    current = store.current_ticket(tx, no)
    held = tx.all("SELECT * FROM tickets WHERE window_no = ? AND status = 'held' ORDER BY held_at", (no,))
    return {
        "window": window_json(row, config, current, held),
        "ticket": ticket_json(ticket, config) if ticket is not None else None,
    }


def _window_event(tx: Tx, type_: str, window: Window, state_: str, staff_row: store.Row) -> None:
    """A window event names the staff member on duty (for `closed`: the one who just left)."""
    staff = None
    if staff_row["staff_user_id"] is not None:
        staff = {"id": staff_row["staff_user_id"], "name": staff_row["staff_name"], "staff_no": staff_row["staff_no"]}
    tx.emit(type_, {"window": {"no": window.no, "name": window.name, "state": state_, "staff": staff}})


def _ticket_event(
    tx: Tx, type_: str, config: Config, ticket: store.Row, window: Window, who: Principal, **extra: Any
) -> None:
    """A ticket event at a window names the window and the staff member (user id) who acted."""
    tx.emit(
        type_,
        {
            "ticket": public_ticket(ticket, config),
            "window": {"no": window.no, "name": window.name},
            "staff": who.id,
            **extra,
        },
    )


# -- opening hours of a window ------------------------------------------------------


def open_window(tx: Tx, config: Config, no: int, who: Principal) -> dict[str, Any]:
    """Sign `who` in at the window and open it for calling (开窗上岗)."""
    window = _config_window(config, no)
    row = store.window(tx, no)
    if row["staff_user_id"] == who.id:
        if row["state"] == "closed":  # cannot happen: closing signs out; kept for safety
            store.update_window(tx, no, state="open", opened_at=tx.now, paused_at=None)
        return state(tx, config, no)
    if row["staff_user_id"] is not None:
        raise Conflict("window_taken", f"{no} 号窗口已由 {row['staff_name']} 登录,请先由其关闭窗口")
    elsewhere = store.window_of_staff(tx, who.id)
    if elsewhere is not None:
        raise Conflict("already_at_window", f"您已在 {elsewhere} 号窗口上岗,请先关闭该窗口")
    store.update_window(tx, no, state="open", staff_user_id=who.id, opened_at=tx.now, paused_at=None, priority_streak=0)
    _window_event(tx, "window.opened", window, "open", store.window(tx, no))
    return state(tx, config, no)


def pause(tx: Tx, config: Config, no: int, who: Principal) -> dict[str, Any]:
    window, row = _signed_in(tx, config, no, who)
    if row["state"] == "open":
        store.update_window(tx, no, state="paused", paused_at=tx.now)
        _window_event(tx, "window.paused", window, "paused", row)
    return state(tx, config, no)


def resume(tx: Tx, config: Config, no: int, who: Principal) -> dict[str, Any]:
    window, row = _signed_in(tx, config, no, who)
    if row["state"] == "paused":
        store.update_window(tx, no, state="open", paused_at=None)
        _window_event(tx, "window.resumed", window, "open", row)
    return state(tx, config, no)


def close(tx: Tx, config: Config, no: int, who: Principal) -> dict[str, Any]:
    """Close the window and sign its staff out; a manager may close any window."""
    window = _config_window(config, no)
    row = store.window(tx, no)
    if row["staff_user_id"] != who.id and who.role not in MANAGERS:
        raise Forbidden("not_at_window", f"您没有在 {no} 号窗口登录上岗,不能操作该窗口")
    if row["state"] == "closed":
        return state(tx, config, no)
    current = store.current_ticket(tx, no)
    if current is not None:
        raise Conflict(
            "window_busy",
            f"当前号票 {current['number']}({STATUS_NAMES[current['status']]})尚未处理完,请先办结、挂起或转窗",
        )
    store.update_window(tx, no, state="closed", staff_user_id=None, opened_at=None, paused_at=None)
    _window_event(tx, "window.closed", window, "closed", row)
    return state(tx, config, no)


# -- calling ------------------------------------------------------------------------


def call(tx: Tx, config: Config, no: int, who: Principal, ticket_id: int | None = None) -> dict[str, Any] | None:
    """Call the next ticket, or the one named; None when nobody waits for this window."""
    window, row = _signed_in(tx, config, no, who)
    if row["state"] != "open":
        raise Conflict("window_paused", f"{no} 号窗口已暂停服务,请先恢复服务再叫号")
    current = store.current_ticket(tx, no)
    if current is not None:
        raise Conflict(
            "window_busy",
            f"当前号票 {current['number']}({STATUS_NAMES[current['status']]})尚未处理完,请先办结、过号、挂起或转窗",
        )
    day = business_day(tx.now, config.tz)
    if ticket_id is None:
        chosen = _choose(tx, config, window, day, row["priority_streak"])
        if chosen is None:
            return None
        ticket = store.ticket(tx, chosen.id)
        call_back = False
    else:
        ticket = _named(tx, ticket_id, day)
        call_back = ticket["status"] == "held"
        if call_back:
            if ticket["window_no"] != no:
                raise Conflict("ticket_not_for_window", f"{ticket['number']} 号挂起在 {ticket['window_no']} 号窗口")
        elif ticket["status"] != "waiting":
            raise Conflict("ticket_not_waiting", f"{ticket['number']} 号当前{STATUS_NAMES[ticket['status']]},不能叫号")
        elif not _eligible(ticket, window):
            raise Conflict("ticket_not_for_window", f"{ticket['number']} 号不由 {no} 号窗口办理")
        chosen = Candidate(ticket["id"], ticket["section"], ticket["priority_class"], ticket["queue_key"])
    ticket = store.update_ticket(
        tx,
        ticket["id"],
        ("held",) if call_back else ("waiting",),
        status="called",
        window_no=no,
        staff_user_id=who.id,
        called_at=tx.now,
        target_window=None,
        recalls=0,
        held_at=None,
    )
    if not call_back:
        store.update_window(tx, no, priority_streak=next_streak(row["priority_streak"], chosen))
        notices.queue_moved(tx, config, day, ticket["section"])
    _ticket_event(tx, "ticket.called", config, ticket, window, who, call_back=call_back)
    return state(tx, config, no, ticket)


def _choose(tx: Tx, config: Config, window: Window, day: str, streak: int) -> Candidate | None:
    heads = []
    for section in window.sections:
        for priority_class in (1, 0):
            head = store.queue_head(tx, day, section, priority_class, window.no)
            if head is not None:
                heads.append(head)
    heads.extend(store.targeted_at(tx, day, window.no))
    candidates = [
        Candidate(h["id"], h["section"], h["priority_class"], h["queue_key"], h["target_window"]) for h in heads
    ]
    return choose_next(candidates, window, streak, config.queue.priority.max_consecutive, tx.now)


def _named(tx: Tx, ticket_id: int, day: str) -> store.Row:
    ticket = store.ticket(tx, ticket_id)
    if ticket is None:
        raise NotFound("ticket_not_found", f"没有编号为 {ticket_id} 的号票")
    if ticket["day"] != day:
        raise Conflict("ticket_expired", f"{ticket['number']} 号不是今天的号票")
    return ticket


def _eligible(ticket: store.Row, window: Window) -> bool:
    if ticket["target_window"] is not None:
        return ticket["target_window"] == window.no
    return window.serves(ticket["section"])


# -- acting on the current ticket -------------------------------------------------------


def _current(tx: Tx, no: int, action: str, ticket_id: int | None) -> store.Row:
    current = store.current_ticket(tx, no)
    if current is None:
        raise Conflict("no_current_ticket", f"{no} 号窗口当前没有正在叫号或办理的号票")
    if ticket_id is not None and current["id"] != ticket_id:
        raise Conflict("ticket_not_current", f"号票 {ticket_id} 不是本窗口当前的号票({current['number']})")
    if current["status"] not in ACTION_FROM[action]:
        raise Conflict(
            "ticket_wrong_state", f"{current['number']} 号当前{STATUS_NAMES[current['status']]},不能进行此操作"
        )
    return current


def recall(tx: Tx, config: Config, no: int, who: Principal, ticket_id: int | None = None) -> dict[str, Any]:
    window, _ = _signed_in(tx, config, no, who)
    current = _current(tx, no, "recall", ticket_id)
    limit = config.queue.recall_limit
    if current["recalls"] >= limit:
        raise Conflict("recall_limit_reached", f"{current['number']} 号已重呼 {limit} 次,请按过号处理", limit=limit)
    ticket = store.update_ticket(tx, current["id"], ("called",), recalls=current["recalls"] + 1, called_at=tx.now)
    _ticket_event(tx, "ticket.recalled", config, ticket, window, who, recalls=ticket["recalls"])
    return state(tx, config, no, ticket)


def start(tx: Tx, config: Config, no: int, who: Principal, ticket_id: int | None = None) -> dict[str, Any]:
    window, _ = _signed_in(tx, config, no, who)
    current = _current(tx, no, "start", ticket_id)
    ticket = store.update_ticket(tx, current["id"], ("called",), status="serving", started_at=tx.now)
    _ticket_event(tx, "ticket.started", config, ticket, window, who)
    return state(tx, config, no, ticket)


def no_show(tx: Tx, config: Config, no: int, who: Principal, ticket_id: int | None = None) -> dict[str, Any]:
    window, _ = _signed_in(tx, config, no, who)
    current = _current(tx, no, "no-show", ticket_id)
    ticket = store.update_ticket(tx, current["id"], ("called",), status="missed", missed_at=tx.now)
    _ticket_event(tx, "ticket.missed", config, ticket, window, who)
    return state(tx, config, no, ticket)


def hold(tx: Tx, config: Config, no: int, who: Principal, ticket_id: int | None = None) -> dict[str, Any]:
    """Set the current ticket aside (挂起), e.g. while the citizen fetches a document."""
    window, _ = _signed_in(tx, config, no, who)
    current = _current(tx, no, "hold", ticket_id)
    ticket = store.update_ticket(tx, current["id"], ("called", "serving"), status="held", held_at=tx.now)
    _ticket_event(tx, "ticket.held", config, ticket, window, who)
    return state(tx, config, no, ticket)


def finish(
    tx: Tx,
    config: Config,
    no: int,
    who: Principal,
    outcome: str,
    matter: str | None = None,
    note: str | None = None,
    assisted_by: str | None = None,
    ticket_id: int | None = None,
) -> dict[str, Any]:
    window, _ = _signed_in(tx, config, no, who)
    current = _current(tx, no, "finish", ticket_id)
    helper = None
    if assisted_by is not None:
        helper = store.user_at(tx, assisted_by)
        if helper is None:
            raise BadRequest("unknown_staff", f"没有工号或用户名为 {assisted_by} 的在岗人员", field="assisted_by")
    ticket = store.update_ticket(
        tx,
        current["id"],
        ("called", "serving"),
        status="done",
        finished_at=tx.now,
        started_at=current["started_at"] or current["called_at"],
        outcome=outcome,
        matter=matter,
        note=note,
        assisted_by=helper["id"] if helper else None,
    )
    _ticket_event(
        tx,
        "ticket.finished",
        config,
        ticket,
        window,
        who,
        outcome=outcome,
        matter=matter,
        assisted_by=helper["id"] if helper else None,
    )
    return state(tx, config, no, ticket)


def transfer(
    tx: Tx,
    config: Config,
    no: int,
    who: Principal,
    to_section: str | None,
    to_window: int | None,
    note: str | None = None,
    ticket_id: int | None = None,
) -> dict[str, Any]:
    """Send the current ticket to another section or window (转窗), keeping its number and issue time."""
    window, _ = _signed_in(tx, config, no, who)
    current = _current(tx, no, "transfer", ticket_id)
    if to_section is None and to_window is None:
        raise BadRequest("invalid_field", "转窗需要指定目标业务板块 section 或目标窗口 window", field="section")
    if to_section is not None and config.section(to_section) is None:
        raise BadRequest("unknown_section", f"没有业务板块 {to_section}", field="section")
    if to_window is not None:
        if config.window(to_window) is None:
            raise BadRequest("window_not_found", f"没有 {to_window} 号窗口", field="window")
        if to_window == no:
            raise BadRequest("invalid_field", "不能转到本窗口", field="window")
    section = to_section or current["section"]
    if to_window is None and section == current["section"] and window.serves(section):
        raise BadRequest("invalid_field", "目标业务板块与当前相同,请选择其他板块或指定窗口", field="section")
    ticket = store.update_ticket(
        tx,
        current["id"],
        ("called", "serving"),
        status="waiting",
        section=section,
        target_window=to_window,
        window_no=None,
        staff_user_id=None,
        queue_key=current["issued_at"],
        transfers=current["transfers"] + 1,
        note=note,
        started_at=None,
    )
    _ticket_event(
        tx, "ticket.transferred", config, ticket, window, who, from_section=current["section"], to_window=to_window
    )
    return state(tx, config, no, ticket)


def requeue(tx: Tx, config: Config, no: int, who: Principal, ticket_id: int) -> dict[str, Any]:
    """Put a missed ticket back in the queue within the grace period, behind a few people."""
    window, _ = _signed_in(tx, config, no, who)
    ticket = _named(tx, ticket_id, business_day(tx.now, config.tz))
    if ticket["status"] != "missed":
        raise Conflict("ticket_not_missed", f"{ticket['number']} 号当前{STATUS_NAMES[ticket['status']]},不是过号")
    if not window.serves(ticket["section"]) and ticket["window_no"] != no:
        raise Conflict("ticket_not_for_window", f"{ticket['number']} 号不由 {no} 号窗口办理")
    grace = config.queue.no_show_grace_minutes * 60
    if tx.now - ticket["missed_at"] > grace:
        raise Conflict(
            "grace_expired", f"{ticket['number']} 号过号已超过 {config.queue.no_show_grace_minutes} 分钟,请重新取号"
        )
    keys = store.waiting_keys(tx, ticket["day"], ticket["section"], ticket["priority_class"])
    key = requeue_key(keys, config.queue.requeue_behind, tx.now)
    ticket = store.update_ticket(
        tx,
        ticket["id"],
        ("missed",),
        status="waiting",
        queue_key=key,
        window_no=None,
        staff_user_id=None,
        target_window=None,
    )
    _ticket_event(
        tx, "ticket.requeued", config, ticket, window, who, behind=min(len(keys), config.queue.requeue_behind)
    )
    return state(tx, config, no, ticket)
