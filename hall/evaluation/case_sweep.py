"""Overdue bad-review cases: flagged and escalated to the managers once per stage.

A periodic writer unit (run by `tasks.sweep` every minute, on the app's clock):
each case whose current stage is past its deadline gets `overdue_stage` set to
that stage, `escalated_at` to now, a step in its history and one
`bad_review.overdue` event, which the managers' view shows. Completing the
stage clears the flag, so the next stage (or a reopened rectification) is
flagged again when it, too, runs late; a stage is never flagged twice.
"""

from __future__ import annotations

from ..clock import iso
from ..config import Config
from ..storage import Tx
from . import case_store

BATCH = 200


def flag_overdue(tx: Tx, config: Config, limit: int = BATCH) -> int:
    """Writer unit: flag and escalate the cases that ran past their current stage's deadline."""
    rows = case_store.due_unflagged(tx, tx.now, limit)
    for row in rows:
        case_store.add_step(tx, row, "overdue", (None, None), due=iso(row["due_at"], config.tz))
        case_store.update(tx, row["id"], {"overdue_stage": row["stage"], "escalated_at": tx.now})
        tx.emit(
            "bad_review.overdue",
            {
                "case": {"id": row["id"], "rating_id": row["rating_id"]},
                "department": row["department"],
                "window": {"no": row["window_no"]},
                "round": row["round"],
                "stage": row["stage"],
                "due": row["due_at"],
                "escalated_to": "managers",
            },
        )
    return len(rows)
