"""What the rating pad and the QR page show of a service, and what they offer to rate it with."""

from __future__ import annotations

import json
from typing import Any

from ..clock import iso
from ..config import Config
from ..queue.rules import OUTCOMES
from ..storage import Database
from . import page_store, ratings, store
from .settings import BAD_GRADES, GRADES


async def served(db: Database, config: Config, ticket_id: int) -> store.Row | None:
    """The finished service of a ticket, recorded now if the projection has not reached it yet.

    None when the ticket does not exist or was not served (yet).
    """
    row = await store.get_service(db, ticket_id)
    if row is None:
        row = await db.write(ratings.record_service, config, ticket_id)
    return row


def service_json(row: store.Row, config: Config) -> dict[str, Any]:
    """The service as the rating will record it: ticket, matter, window, staff member."""
    section = config.section(row["section"])
    return {
        "ticket": {
            "id": row["ticket_id"],
            "number": row["ticket_number"],
            "section": row["section"],
            "section_name": section.name if section else row["section"],
            "matter": row["matter"],
            "outcome": row["outcome"],
            "outcome_name": OUTCOMES.get(row["outcome"], row["outcome"]),
            "issued_at": iso(row["issued_at"], config.tz),
            "finished_at": iso(row["finished_at"], config.tz),
        },
        "window": {"no": row["window_no"], "name": row["window_name"], "department": row["department"]},
        "staff": {"name": row["staff_name"], "staff_no": row["staff_no"]},
    }


def grade_choices(config: Config) -> list[dict[str, Any]]:
    """The five grades, best first, each with the tags it offers; a bad grade needs a tag or a comment."""
    settings = config.evaluation
    return [
        {"grade": g, "name": GRADES[g], "bad": g in BAD_GRADES, "tags": list(settings.tags(g))}
        for g in sorted(GRADES, reverse=True)
    ]


def rating_for_citizen(row: store.Row, config: Config) -> dict[str, Any]:
    """A rating as the citizen who gave it sees it again (no rater detail: the link is not a login)."""
    return {
        "kind": row["kind"],
        "grade": row["grade"],
        "grade_name": GRADES[row["grade"]],
        "tags": json.loads(row["tags"]),
        "comment": row["comment"],
        "created_at": iso(row["created_at"], config.tz),
        "voided": row["voided_at"] is not None,
    }


async def ratings_of(db: Database, ticket_id: int) -> tuple[list[store.Row], bool]:
    """The ratings of a service, oldest first, and whether one more (追评) would be accepted now.

    The same rule as `ratings.rate`: after a first rating, only a bad review whose
    follow-up case closed with the return visit may be rated once more.
    """
    rows = await store.ratings_of_ticket(db, ticket_id)
    first = next((r for r in rows if r["kind"] == "first"), None)
    followed = any(r["kind"] == "follow_up" for r in rows)
    allowed = first is not None and not followed and await page_store.case_closed(db, first["id"])
    return rows, allowed
