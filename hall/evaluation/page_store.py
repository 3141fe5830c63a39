"""Reads of the rating pad and the QR rating page (all their SQL)."""

from __future__ import annotations

from ..storage import Database


async def case_closed(db: Database, rating_id: int) -> bool:
    """Whether the bad review's follow-up case is closed (return visit made): a 追评 may follow."""
    status = await db.fetchval("SELECT status FROM bad_reviews WHERE rating_id = ?", (rating_id,))
    return status == "closed"
