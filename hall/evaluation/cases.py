"""Bad reviews (差评) followed to the end: each opens a case for the window's department.

Stages, each with a deadline in Chinese working days from config:
open → verified (return call: 属实 / 部分属实 / 不属实 / 误评) → rectified (or explained)
→ fed back (the citizen is told) → revisited (return visit: satisfied with the fix?) = closed.
Verify and rectify count from the bad review; feedback from the rectification; the
return visit from the feedback.
"""

from __future__ import annotations

from ..clock import local
from ..config import Config
from ..storage import Tx
from .deadlines import add_working_days


def open_case(tx: Tx, config: Config, rating: object) -> int:
    """Writer step: a bad rating opens its follow-up case."""
    settings = config.evaluation
    opened = local(tx.now, config.tz)
    verify_due = add_working_days(opened, settings.verify_days, config).timestamp()
    rectify_due = add_working_days(opened, settings.rectify_days, config).timestamp()
    cur = tx.execute(
        "INSERT INTO bad_reviews (rating_id, ticket_id, department, window_no, staff_user_id, real_name, status, "
        "opened_at, verify_due, rectify_due) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
        (
            rating["id"],
            rating["ticket_id"],
            rating["department"],
            rating["window_no"],
            rating["staff_user_id"],
            0 if rating["anonymous"] else 1,
            tx.now,
            verify_due,
            rectify_due,
        ),
    )
    tx.emit(
        "bad_review.opened",
        {
            "case": {"id": cur.lastrowid, "rating_id": rating["id"], "grade": rating["grade"]},
            "department": rating["department"],
            "window": {"no": rating["window_no"], "name": rating["window_name"]},
            "verify_due": verify_due,
            "rectify_due": rectify_due,
        },
    )
    return cur.lastrowid


def fixed(tx: Tx, rating_id: int) -> bool:
    """A bad review whose case is closed after the return visit: the citizen may rate once more (追评)."""
    row = tx.one("SELECT status FROM bad_reviews WHERE rating_id = ?", (rating_id,))
    return row is not None and row["status"] == "closed"


def rating_voided(tx: Tx, rating_id: int) -> None:
    """A voided bad rating needs no follow-up: its open case is closed as void."""
    cur = tx.execute(
        "UPDATE bad_reviews SET status = 'void', closed_at = ? "
        "WHERE rating_id = ? AND status NOT IN ('closed', 'void')",
        (tx.now, rating_id),
    )
    if cur.rowcount:
        case_id = tx.value("SELECT id FROM bad_reviews WHERE rating_id = ?", (rating_id,))
        tx.emit("bad_review.voided", {"case": {"id": case_id, "rating_id": rating_id}})
