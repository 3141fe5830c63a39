"""Bad-review cases as JSON: the rating's full detail (rater masked), each stage's deadline and
completion, the overdue flag and the history of steps."""

from __future__ import annotations

import json
from typing import Any

from ..clock import iso
from ..config import Config
from ..storage import Database
from . import case_store, ratings
from .case_rules import CONTACTS, NOTHING_TO_FIX, RECTIFY_KINDS, RESULTS, STAGES, STATUSES
from .case_store import Row
from .rules import VERIFY_OUTCOMES

ACTIONS = {
    "opened": "差评生成工单",
    "verified": "核实",
    "rectified": "整改/说明",
    "fed_back": "反馈评价人",
    "revisited": "回访",
    "reopened": "回访不满意,重新整改",
    "closed": "办结",
    "overdue": "超期,已督办",
    "voided": "评价作废,工单作废",
}


# What a stage may record besides its deadline and completion; a stage sets its own.
STAGE_FIELDS: dict[str, Any] = dict.fromkeys(
    ("outcome", "outcome_name", "kind", "kind_name", "contact", "contact_name", "satisfied", "attempts", "note")
) | {"skipped": False}


def _named(table: dict[str, str], key: str | None) -> str | None:
    return table.get(key, key) if key is not None else None


async def cases_json(db: Database, config: Config, rows: list[Row], now: float) -> list[dict[str, Any]]:
    """Cases with their ratings and histories: three reads however many cases."""
    by_id = await case_store.ratings_by_id(db, [r["rating_id"] for r in rows])
    steps = await case_store.steps_of(db, [r["id"] for r in rows])
    return [case_json(r, by_id[r["rating_id"]], steps[r["id"]], config, now) for r in rows]


def case_json(row: Row, rating: Row, steps: list[Row], config: Config, now: float) -> dict[str, Any]:
    tz = config.tz
    names = {s["by_user"]: s["by_name"] for s in steps if s["by_user"] is not None}
    escalations = {s["stage"]: s["at"] for s in steps if s["action"] == "overdue" and s["round"] == row["round"]}

    def stage(key: str, due: float | None, done: float | None, by: int | None, **extra: Any) -> dict[str, Any]:
        current = row["stage"] == key
        return {
            "stage": key,
            "name": STAGES[key],
            "current": current,
            "due": iso(due, tz),
            "done_at": iso(done, tz),
            "by": {"id": by, "name": names.get(by)} if by is not None else None,
            "late": done is not None and due is not None and done > due,
            "overdue": current and due is not None and due < now,
            "escalated_at": iso(escalations.get(key), tz),
            **STAGE_FIELDS,  # every stage has every field (null where it does not apply)
            **extra,
        }

    skipped = row["verify_outcome"] in NOTHING_TO_FIX and row["round"] == 1
    stages = [
        stage(
            "verify",
            row["verify_due"],
            row["verified_at"],
            row["verified_by"],
            outcome=row["verify_outcome"],
            outcome_name=_named(VERIFY_OUTCOMES, row["verify_outcome"]),
            contact=row["verify_contact"],
            contact_name=_named(CONTACTS, row["verify_contact"]),
            note=row["verify_note"],
        ),
        stage(
            "rectify",
            None if skipped else row["rectify_due"],
            row["rectified_at"],
            row["rectified_by"],
            skipped=skipped,
            kind=row["rectify_kind"],
            kind_name=_named(RECTIFY_KINDS, row["rectify_kind"]),
            note=row["rectify_note"],
        ),
        stage(
            "feedback",
            row["feedback_due"],
            row["fed_back_at"],
            row["fed_back_by"],
            contact=row["feedback_contact"],
            contact_name=_named(CONTACTS, row["feedback_contact"]),
            note=row["feedback_note"],
        ),
        stage(
            "revisit",
            row["revisit_due"],
            row["revisited_at"],
            row["revisited_by"],
            satisfied=None if row["revisit_satisfied"] is None else bool(row["revisit_satisfied"]),
            contact=row["revisit_contact"],
            contact_name=_named(CONTACTS, row["revisit_contact"]),
            attempts=row["revisit_attempts"],
            note=row["revisit_note"],
        ),
    ]
    return {
        "id": row["id"],
        "status": row["status"],
        "status_name": STATUSES.get(row["status"], row["status"]),
        "stage": row["stage"],
        "stage_name": _named(STAGES, row["stage"]),
        "due_at": iso(row["due_at"], tz),
        "overdue": row["stage"] is not None and row["due_at"] is not None and row["due_at"] < now,
        "overdue_stage": row["overdue_stage"],
        "escalated_at": iso(row["escalated_at"], tz),
        "round": row["round"],
        "result": row["result"],
        "result_name": _named(RESULTS, row["result"]),
        "real_name": bool(row["real_name"]),
        "department": row["department"],
        "window_no": row["window_no"],
        "opened_at": iso(row["opened_at"], tz),
        "closed_at": iso(row["closed_at"], tz),
        "handled_by": row["handled_by"],
        "stages": stages,
        "history": [_step_json(s, tz) for s in steps],
        "rating": ratings.rating_json(rating, config),
    }


def _step_json(s: Row, tz: Any) -> dict[str, Any]:
    detail = json.loads(s["detail"])
    return {
        "at": iso(s["at"], tz),
        "round": s["round"],
        "stage": s["stage"],
        "stage_name": _named(STAGES, s["stage"]),
        "action": s["action"],
        "action_name": ACTIONS.get(s["action"], s["action"]),
        "by": {"id": s["by_user"], "name": s["by_name"]} if s["by_user"] is not None else None,
        "summary": _summary(detail),
        "note": detail.get("note") or None,
    }


def _summary(detail: dict[str, Any]) -> str:
    """What a step decided, in words: 属实;已联系评价人 …"""
    parts = [
        _named(VERIFY_OUTCOMES, detail.get("outcome")),
        _named(RECTIFY_KINDS, detail.get("kind")),
        {True: "满意", False: "不满意"}.get(detail.get("satisfied")),
        _named(CONTACTS, detail.get("contact")),
        f"联系 {detail['attempts']} 次" if detail.get("attempts") else None,
        _named(RESULTS, detail.get("result")),
        f"期限 {detail['due'][:16].replace('T', ' ')}" if detail.get("due") else None,
    ]
    return ";".join(p for p in parts if p)
