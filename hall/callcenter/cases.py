"""The moves of a case (工单) as writer units: each checks the move against `rules`, changes the
case (and its departments' shares), keeps the step in `case_steps` and emits one event, in one
transaction. Deadlines count Chinese working days; `sweep` flags warnings and overdue cases.
"""

from __future__ import annotations

from typing import Any

from ..calendar import add_working_days
from ..clock import local
from ..config import Config
from ..errors import BadRequest, Conflict, Forbidden
from ..storage import Tx
from . import rules, steps, store


def accept(tx: Tx, config: Config, case_id: int, actor: steps.Actor, case_type: str | None, title: str) -> Any:
    row = steps.get_case(tx, case_id)
    rules.check_move(row["status"], "accept")
    kind = case_type or row["type"]
    if kind is None:
        raise BadRequest("field_required", "受理时请选择工单类型 type(咨询、投诉、举报、建议、求助)", field="type")
    due, warn = steps.deadline(tx, config, row["created_at"], kind)
    after = {
        "status": "accepted",
        "type": kind,
        "accepted_at": tx.now,
        "accepted_by": actor.id,
        "due_at": due,
        "warn_at": warn,
        "assigned_to": row["assigned_to"] or actor.id,
    }
    if title:
        after["title"] = title
    return steps.move(tx, row, "accept", after, actor, type=kind)


def dispatch(
    tx: Tx, config: Config, case_id: int, actor: steps.Actor, departments: list[str], instructions: str
) -> Any:
    row = steps.get_case(tx, case_id)
    rules.check_move(row["status"], "dispatch")
    for department in departments:
        store.insert(
            tx,
            "case_dispatches",
            {
                "case_id": case_id,
                "round": row["round"],
                "department": department,
                "status": "pending",
                "instructions": instructions,
                "dispatched_at": tx.now,
                "dispatched_by": actor.id,
            },
        )
    return steps.move(
        tx, row, "dispatch", {"status": "dispatched"}, actor, departments=departments, instructions=instructions
    )


def _own_share(tx: Tx, row: Any, actor: steps.Actor, wanted: tuple[str, ...]) -> Any:
    """The share of the acting department (a manager acts for `actor.department` if given)."""
    shares = [d for d in store.dispatches(tx, row["id"], row["round"]) if d["department"] == actor.department]
    if not shares:
        raise Forbidden("not_your_case", "这件工单没有转办给您的部门")
    share = shares[-1]
    if share["status"] not in wanted:
        names = "、".join(rules.DISPATCH_STATES[s] for s in wanted)
        raise Conflict(
            "illegal_move",
            f"本部门的这件工单现在是「{rules.DISPATCH_STATES[share['status']]}」,只有{names}的才能办理这一步",
        )
    return share


def _after_shares(tx: Tx, row: Any) -> str:
    return rules.status_from_dispatches(d["status"] for d in store.dispatches(tx, row["id"], row["round"]))


def sign(tx: Tx, config: Config, case_id: int, actor: steps.Actor) -> Any:
    row = steps.get_case(tx, case_id)
    rules.check_move(row["status"], "sign")
    share = _own_share(tx, row, actor, ("pending",))
    store.update_dispatch(tx, share["id"], {"status": "signed", "signed_at": tx.now, "signed_by": actor.id})
    return steps.move(tx, row, "sign", {"status": _after_shares(tx, row)}, actor, department=actor.department)


def return_(tx: Tx, config: Config, case_id: int, actor: steps.Actor, reason: str) -> Any:
    """退单: the department hands its share back with a reason; the agent dispatches again."""
    row = steps.get_case(tx, case_id)
    rules.check_move(row["status"], "return")
    share = _own_share(tx, row, actor, ("pending", "signed"))
    store.update_dispatch(tx, share["id"], {"status": "returned", "returned_at": tx.now, "return_reason": reason})
    return steps.move(
        tx, row, "return", {"status": _after_shares(tx, row)}, actor, department=actor.department, reason=reason
    )


def feedback(tx: Tx, config: Config, case_id: int, actor: steps.Actor, answer: str) -> Any:
    """A department's result on its signed share, or (an accepted case) the agent's direct answer."""
    row = steps.get_case(tx, case_id)
    rules.check_move(row["status"], "feedback")
    if row["status"] == "accepted":
        if actor.role == "department":
            raise Forbidden("not_your_case", "这件工单没有转办给您的部门")
        return steps.move(tx, row, "answer", {"status": "answered"}, actor, answer=answer)
    share = _own_share(tx, row, actor, ("signed",))
    store.update_dispatch(
        tx, share["id"], {"status": "answered", "answer": answer, "answered_at": tx.now, "answered_by": actor.id}
    )
    return steps.move(
        tx, row, "feedback", {"status": _after_shares(tx, row)}, actor, department=actor.department, answer=answer
    )


def review(tx: Tx, config: Config, case_id: int, actor: steps.Actor, approve: bool, note_text: str) -> Any:
    """审核: the agent accepts the departments' answers, or sends them back to redo (signed again)."""
    row = steps.get_case(tx, case_id)
    rules.check_move(row["status"], "review")
    if approve:
        return steps.move(tx, row, "review", {"status": "reviewed"}, actor, approved=True, note=note_text)
    for share in store.dispatches(tx, row["id"], row["round"]):
        if share["status"] == "answered":
            store.update_dispatch(tx, share["id"], {"status": "signed"})
    return steps.move(tx, row, "review", {"status": "signed"}, actor, approved=False, note=note_text)


def return_visit(
    tx: Tx, config: Config, case_id: int, actor: steps.Actor, reached: bool, satisfied: bool | None, note_text: str
) -> Any:
    """回访: satisfied → visited; not satisfied → 重办 (accepted, next round); not reached → an
    attempt, and after `visit_attempts` of them the case counts as visited (unreached)."""
    row = steps.get_case(tx, case_id)
    rules.check_move(row["status"], "return-visit")
    outcome = rules.visit_outcome(reached, satisfied, row["visit_attempts"], config.callcenter.visit_attempts)
    store.insert(
        tx,
        "case_visits",
        {
            "case_id": case_id,
            "round": row["round"],
            "at": tx.now,
            "by_user": actor.id,
            "reached": int(reached),
            "satisfied": None if satisfied is None else int(satisfied),
            "note": note_text,
        },
    )
    attempts = row["visit_attempts"] + (0 if reached else 1)
    detail = {"reached": reached, "satisfied": satisfied, "attempt": attempts, "note": note_text}
    if outcome is None:
        return steps.move(tx, row, "return-visit", {"visit_attempts": attempts}, actor, **detail, result=None)
    if outcome == "unsatisfied":
        after = {"status": "accepted", "round": row["round"] + 1, "visit_attempts": 0, "visit_result": None}
        return steps.move(tx, row, "reopen", after, actor, **detail, result=outcome)
    after = {"status": "visited", "visit_attempts": attempts, "visit_result": outcome, "visited_at": tx.now}
    return steps.move(tx, row, "return-visit", after, actor, **detail, result=outcome)


def close(tx: Tx, config: Config, case_id: int, actor: steps.Actor, note_text: str) -> Any:
    row = steps.get_case(tx, case_id)
    rules.check_move(row["status"], "close")
    return steps.move(
        tx,
        row,
        "close",
        {"status": "closed", "closed_at": tx.now, "closed_by": actor.id},
        actor,
        result=row["visit_result"],
        note=note_text,
    )


def extend(
    tx: Tx, config: Config, case_id: int, actor: steps.Actor, days: int | None, reason: str, approve: bool | None
) -> Any:
    """延期: a department asks (days and reason); an agent or manager approves or refuses the request,
    or extends directly (days and reason). The deadline moves by working days from the old one."""
    row = steps.get_case(tx, case_id)
    rules.check_move(row["status"], "extend")
    if actor.role == "department":
        if days is None:
            raise BadRequest("field_required", "申请延期请填写天数 days 和理由 reason", field="days")
        share = _own_share(tx, row, actor, ("pending", "signed"))
        store.update_dispatch(tx, share["id"], {"extension_days": days, "extension_reason": reason})
        return steps.move(tx, row, "extend", {}, actor, requested=days, department=actor.department, reason=reason)
    if days is None:
        asked = [d for d in store.dispatches(tx, row["id"], row["round"]) if d["extension_days"]]
        if not asked or approve is None:
            raise Conflict("no_extension_requested", "没有待审批的延期申请;直接延期请填写天数 days 和理由 reason")
        days = max(d["extension_days"] for d in asked)
        for d in asked:
            store.update_dispatch(tx, d["id"], {"extension_days": None})
        if not approve:
            return steps.move(tx, row, "extend", {}, actor, approved=False, days=days, reason=reason)
    due = add_working_days(local(row["due_at"], config.tz), days, config).timestamp()
    warn = row["created_at"] + (due - row["created_at"]) * config.callcenter.warn_ratio
    return steps.move(
        tx,
        row,
        "extend",
        {"due_at": due, "warn_at": warn, "warned_at": None, "overdue_at": None},
        actor,
        approved=True,
        days=days,
        reason=reason,
    )


def escalate(tx: Tx, config: Config, case_id: int, actor: steps.Actor | None, note_text: str) -> Any:
    """督办: flagged for the supervisor (by a person, or by the sweep when a case runs overdue)."""
    row = steps.get_case(tx, case_id)
    rules.check_move(row["status"], "escalate")
    after = {"escalated_at": tx.now, "escalations": row["escalations"] + 1}
    return steps.move(tx, row, "escalate", after, actor, note=note_text, automatic=actor is None)


SWEEP_BATCH = 200


def sweep(tx: Tx, config: Config) -> int:
    """Writer unit: cases past their warning time get one `case.warning`; past their deadline one
    `case.overdue` and an automatic escalation (督办)."""
    done = 0
    for row in store.due_for(tx, "warned_at", "warn_at", tx.now, SWEEP_BATCH):
        steps.move(tx, row, "warning", {"warned_at": tx.now}, None, due=row["due_at"])
        done += 1
    for row in store.due_for(tx, "overdue_at", "due_at", tx.now, SWEEP_BATCH):
        row = steps.move(
            tx, row, "overdue", {"overdue_at": tx.now, "warned_at": row["warned_at"] or tx.now}, None, due=row["due_at"]
        )
        escalate(tx, config, row["id"], None, "超期自动督办")
        done += 1
    return done
