"""Bad reviews (差评) followed to the end: each opens a case for the window's department.

Writer units, one per stage, each refusing a step out of order (409 `wrong_stage`):
verify (return call: 属实 / 部分属实 / 不属实 / 误评) → rectify (整改, or explain: 说明)
→ feedback (the citizen is told) → revisit (return visit: satisfied with the fix?) = closed.
Not true and mistaken reviews skip the rectification; a citizen not satisfied reopens it
once; the rules are in `case_rules`. Deadlines count Chinese working days from config:
verify and rectify from the bad review (a reopened rectification from the return visit),
feedback from the rectification (or from the verification when it was skipped), the
return visit from the feedback. Events carry ids, outcomes and deadlines, never notes
(free text may name people) nor the rater.
"""

from __future__ import annotations

from typing import Any

from ..auth import store as auth_store
from ..calendar import add_working_days
from ..clock import local
from ..config import Config
from ..errors import NotFound
from ..storage import Tx
from . import case_store
from . import store as rating_store
from .case_rules import (
    NOTHING_TO_FIX,
    Feedback,
    Rectification,
    Revisit,
    Verification,
    check_kind,
    contact,
    expect_stage,
    revisit_result,
    stage_after_verify,
)


def _due(tx: Tx, config: Config, days: int) -> float:
    return add_working_days(local(tx.now, config.tz), days, config).timestamp()


def open_case(tx: Tx, config: Config, rating: Any) -> int:
    """Writer step: a bad rating opens its follow-up case."""
    settings = config.evaluation
    verify_due = _due(tx, config, settings.verify_days)
    rectify_due = _due(tx, config, settings.rectify_days)
    case_id = case_store.insert_case(
        tx,
        {
            "rating_id": rating["id"],
            "ticket_id": rating["ticket_id"],
            "department": rating["department"],
            "window_no": rating["window_no"],
            "staff_user_id": rating["staff_user_id"],
            "real_name": 0 if rating["anonymous"] else 1,
            "status": "open",
            "opened_at": tx.now,
            "verify_due": verify_due,
            "rectify_due": rectify_due,
            "stage": "verify",
            "due_at": verify_due,
        },
    )
    case_store.add_step(tx, case_store.case(tx, case_id), "opened", (None, None))
    tx.emit(
        "bad_review.opened",
        {
            "case": {"id": case_id, "rating_id": rating["id"], "grade": rating["grade"]},
            "department": rating["department"],
            "window": {"no": rating["window_no"], "name": rating["window_name"]},
            "verify_due": verify_due,
            "rectify_due": rectify_due,
        },
    )
    return case_id


def follow_up_counts(row: Any) -> tuple[int, int, int, int]:
    """What a case adds to the roll-ups' bad_* counters, the statistics' 回复率, 整改回访率 and
    整改满意率: verified; real-name, rectified (or nothing to rectify) and revisited; revisited
    with an answer; revisited and satisfied. Nothing once void (its rating was withdrawn)."""
    if row is None or row["status"] == "void":
        return (0, 0, 0, 0)
    revisited = row["revisited_at"] is not None
    dealt_with = row["rectified_at"] is not None or row["verify_outcome"] in NOTHING_TO_FIX
    return (
        int(row["verified_at"] is not None),
        int(bool(row["real_name"]) and revisited and dealt_with),
        int(revisited and row["revisit_satisfied"] is not None),
        int(revisited and row["revisit_satisfied"] == 1),
    )


def _count(tx: Tx, rating_id: int, before: Any, after: Any) -> None:
    """Roll up what a step changed in the case's counters, on its rating's service day and detail."""
    delta = tuple(a - b for a, b in zip(follow_up_counts(after), follow_up_counts(before), strict=True))
    if any(delta):
        rating = rating_store.rating(tx, rating_id)
        service = rating_store.service(tx, rating["ticket_id"])
        rating_store.roll_up(tx, service["day"], service, rating["channel"], bad=delta)


def fixed(tx: Tx, rating_id: int) -> bool:
    """A bad review whose case is closed after the return visit: the citizen may rate once more (追评)."""
    row = case_store.case_of_rating(tx, rating_id)
    return row is not None and row["status"] == "closed"


def rating_voided(tx: Tx, rating_id: int) -> None:
    """A voided bad rating needs no follow-up: its case, unless already closed, ends as void."""
    row = case_store.case_of_rating(tx, rating_id)
    if row is not None and row["status"] == "closed":
        _count(tx, rating_id, row, None)  # the rating no longer counts, nor does how its case ended
    if row is None or row["status"] in ("closed", "void"):
        return
    ended = {"status": "void", "stage": None, "due_at": None, "overdue_stage": None, "result": "void"}
    case_store.add_step(tx, row, "voided", (None, None))
    after = case_store.update(tx, row["id"], {**ended, "closed_at": tx.now})
    _count(tx, rating_id, row, after)
    tx.emit("bad_review.voided", {"case": {"id": row["id"], "rating_id": rating_id}})


def _case(tx: Tx, case_id: int) -> Any:
    row = case_store.case(tx, case_id)
    if row is None:
        raise NotFound("case_not_found", f"没有编号为 {case_id} 的差评工单")
    return row


def _step(tx: Tx, row: Any, action: str, by: int, fields: dict[str, Any], note: str, **public: Any) -> Any:
    """Apply a step: the columns, the history row (with the note) and the event (without it)."""
    actor = (by, auth_store.staff_brief(tx, by)[0])
    case_store.add_step(tx, row, action, actor, note=note, **public)
    after = case_store.update(tx, row["id"], {**fields, "handled_by": by, "overdue_stage": None})
    _count(tx, row["rating_id"], row, after)
    next_stage = {"stage": after["stage"], "due": after["due_at"]}
    tx.emit(f"bad_review.{action}", {**_ids(after), "by": by, **public, **next_stage})
    return after


def _ids(row: Any) -> dict[str, Any]:
    return {
        "case": {"id": row["id"], "rating_id": row["rating_id"]},
        "department": row["department"],
        "window": {"no": row["window_no"]},
        "round": row["round"],
    }


def verify(tx: Tx, config: Config, case_id: int, given: Verification, by: int) -> Any:
    """Writer unit: the verification; not true and mistaken reviews go straight to feedback."""
    row = _case(tx, case_id)
    expect_stage(row["status"], row["stage"], "verify")
    how = contact(bool(row["real_name"]), given.reached)
    fields: dict[str, Any] = {
        "status": "verified",
        "verified_at": tx.now,
        "verified_by": by,
        "verify_outcome": given.outcome,
        "verify_note": given.note,
        "verify_contact": how,
        "stage": stage_after_verify(given.outcome),
        "due_at": row["rectify_due"],
    }
    if fields["stage"] == "feedback":
        fields["feedback_due"] = fields["due_at"] = _due(tx, config, config.evaluation.feedback_days)
    return _step(tx, row, "verified", by, fields, given.note, outcome=given.outcome, contact=how)


def rectify(tx: Tx, config: Config, case_id: int, given: Rectification, by: int) -> Any:
    """Writer unit: rectified (整改) or explained (说明); a true review must be rectified."""
    row = _case(tx, case_id)
    expect_stage(row["status"], row["stage"], "rectify")
    check_kind(row["verify_outcome"], given.kind)
    feedback_due = _due(tx, config, config.evaluation.feedback_days)
    fields = {
        "status": "rectified",
        "rectified_at": tx.now,
        "rectified_by": by,
        "rectify_kind": given.kind,
        "rectify_note": given.note,
        "stage": "feedback",
        "feedback_due": feedback_due,
        "due_at": feedback_due,
    }
    return _step(tx, row, "rectified", by, fields, given.note, kind=given.kind)


def feedback(tx: Tx, config: Config, case_id: int, given: Feedback, by: int) -> Any:
    """Writer unit: the citizen was told the result; the return visit is due `revisit_days` later."""
    row = _case(tx, case_id)
    expect_stage(row["status"], row["stage"], "feedback")
    how = contact(bool(row["real_name"]), None)
    revisit_due = _due(tx, config, config.evaluation.revisit_days)
    fields = {
        "status": "fed_back",
        "fed_back_at": tx.now,
        "fed_back_by": by,
        "feedback_note": given.note,
        "feedback_contact": how,
        "stage": "revisit",
        "revisit_due": revisit_due,
        "due_at": revisit_due,
    }
    return _step(tx, row, "fed_back", by, fields, given.note, contact=how)


_ROUND_COLUMNS = (
    "rectified_at", "rectified_by", "rectify_kind", "rectify_note", "feedback_due", "fed_back_at", "fed_back_by",
    "feedback_note", "feedback_contact", "revisit_due", "revisited_at", "revisited_by", "revisit_satisfied",
    "revisit_note", "revisit_contact", "revisit_attempts",
)  # fmt: skip


def revisit(tx: Tx, config: Config, case_id: int, given: Revisit, by: int) -> Any:
    """Writer unit: the return visit closes the case, or (not satisfied, first round) reopens the rectification."""
    row = _case(tx, case_id)
    expect_stage(row["status"], row["stage"], "revisit")
    result = revisit_result(bool(row["real_name"]), given, row["round"])
    how = contact(bool(row["real_name"]), given.reached)
    satisfied = None if given.satisfied is None else int(given.satisfied)
    visited = {
        "revisited_at": tx.now,
        "revisited_by": by,
        "revisit_satisfied": satisfied,
        "revisit_note": given.note,
        "revisit_contact": how,
        "revisit_attempts": given.attempts,
    }
    public = {"contact": how, "satisfied": given.satisfied, "attempts": given.attempts}
    if result is not None:
        closing = {"status": "closed", "stage": None, "due_at": None, "closed_at": tx.now, "result": result}
        after = _step(tx, row, "revisited", by, {**visited, **closing}, given.note, **public)
        case_store.add_step(tx, after, "closed", (None, None), result=result)
        tx.emit("bad_review.closed", {**_ids(after), "by": by, "result": result})
        return after
    visited_row = _step(tx, row, "revisited", by, visited, given.note, **public)
    rectify_due = _due(tx, config, config.evaluation.rectify_days)
    reopened = {
        **dict.fromkeys(_ROUND_COLUMNS),
        "round": row["round"] + 1,
        "status": "verified",
        "stage": "rectify",
        "rectify_due": rectify_due,
        "due_at": rectify_due,
    }
    after = case_store.update(tx, row["id"], reopened)
    _count(tx, row["rating_id"], visited_row, after)  # the reopening visit counts no more
    case_store.add_step(tx, after, "reopened", (None, None))
    tx.emit("bad_review.reopened", {**_ids(after), "by": by, "stage": "rectify", "due": rectify_due})
    return after
