"""Bad reviews (差评) on the desk: each follow-up case of the ratings becomes a case of type 差评.

The follow-up itself is worked where the ratings keep it (`hall.evaluation.cases`:
verify → rectify → feedback → return visit, with its working-day deadlines), by
the window's department and the desk; the desk case mirrors it so it sits in
the same inbox, the same overdue list and the same return-visit rate as every
other case:

    verify → 转办 (dispatched to the window's department)   rectify → 签收 (being fixed)
    feedback → 反馈 (to tell the citizen)                   revisit → 审核通过 (return visit owed)
    closed → 办结 (with the return visit's result)          void (rating withdrawn) → 办结

Its deadline is the current stage's. The desk's own moves do not apply to it
(409 `bad_review_case`): the steps are the follow-up's, so nothing is done twice.
A projector follows `bad_review.*` events from a cursor kept in the database, so
a case opened just before a crash reaches the desk on the next start.
"""

from __future__ import annotations

import json
from typing import Any

from ..config import Config
from ..evaluation import case_store as review_store
from ..evaluation import store as rating_store
from ..evaluation.settings import GRADES
from ..storage import Tx
from . import intake, steps

CURSOR = "bad_reviews"
MIRROR = {"verify": "dispatched", "rectify": "signed", "feedback": "fed_back", "revisit": "reviewed"}
RESULTS = {"satisfied": "satisfied", "unsatisfied": "unsatisfied", "unreached": "unreached",
           "anonymous": "unreached", "void": None}  # fmt: skip


def desk_status(review: Any) -> str:
    if review["stage"] is None:
        return "closed"
    return MIRROR[review["stage"]]


def cursor(tx: Tx) -> int:
    row = tx.one("SELECT event_id FROM callcenter_cursors WHERE name = ?", (CURSOR,))
    return row["event_id"] if row else 0


def mirror(tx: Tx, config: Config, review_ids: list[int], position: int) -> int:
    """Writer unit: bring the desk cases of these follow-up cases up to date; move the cursor."""
    for review_id in dict.fromkeys(review_ids):
        review = review_store.case(tx, review_id)
        if review is not None:
            _mirror_one(tx, config, review)
    tx.execute(
        "INSERT INTO callcenter_cursors (name, event_id) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET event_id = MAX(event_id, excluded.event_id)",
        (CURSOR, position),
    )
    return len(review_ids)


def _mirror_one(tx: Tx, config: Config, review: Any) -> None:
    row = tx.one("SELECT * FROM cases WHERE rating_id = ?", (review["rating_id"],))
    if row is None:
        row = _register(tx, config, review)
    status = desk_status(review)
    after: dict[str, Any] = {"status": status, "due_at": review["due_at"], "round": review["round"]}
    if review["due_at"] is not None:
        after["warn_at"] = review["opened_at"] + (review["due_at"] - review["opened_at"]) * config.callcenter.warn_ratio
    if status in ("reviewed", "closed") and review["revisited_at"] is not None:
        after["visited_at"] = review["revisited_at"]
    if status == "closed":
        after |= {"closed_at": review["closed_at"], "visit_result": RESULTS.get(review["result"])}
    if row["status"] == status and row["due_at"] == after["due_at"]:
        return
    steps.move(tx, row, "mirror", after, None, stage=review["stage"], review=review["id"], result=review["result"])


def _register(tx: Tx, config: Config, review: Any) -> Any:
    rating = rating_store.rating(tx, review["rating_id"])
    tags = json.loads(rating["tags"])
    words = "、".join(tags) + (f";{rating['comment']}" if rating["comment"] else "")
    fields = {
        "channel": "rating",
        "type": "bad_review",
        "title": f"差评:{rating['window_no']}号窗口 {GRADES[rating['grade']]}",
        "contact_name": None if rating["anonymous"] else rating["rater_name"],
        "contact_phone": None if rating["anonymous"] else rating["rater_phone"],
        "ticket_id": rating["ticket_id"],
        "window_no": rating["window_no"],
        "staff_user_id": rating["staff_user_id"],
        "matter": rating["matter"] or None,
        "rating_id": rating["id"],
    }
    body = f"{GRADES[rating['grade']]}({rating['grade']} 分):{words or '(未填写)'}"
    message = steps.Message(body=body, kind="rating", external_id=f"rating:{rating['id']}")
    return intake.register(tx, config, fields, message, None)
