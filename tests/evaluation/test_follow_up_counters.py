"""The bad reviews' follow-up counted in the roll-ups (bad_replied, bad_fixed, bad_answered,
bad_satisfied): always what the cases themselves say, so the statistics need no join."""

from __future__ import annotations

import pytest

from hall.clock import FakeClock
from hall.evaluation.schema import SCHEMA
from hall.storage.migrations import _statements

from ..helpers import HallClient
from . import rating_month
from .rating_month import play
from .test_rating_months import COUNTS, month_drift


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(rating_month.START)


JOIN_BY_DAY = """
    SELECT r.day, r.window_no, COALESCE(r.staff_user_id, 0), r.section, r.matter, r.channel,
        SUM(b.verified_at IS NOT NULL),
        SUM(b.real_name = 1 AND b.revisited_at IS NOT NULL
            AND (b.rectified_at IS NOT NULL OR b.verify_outcome IN ('false', 'mistaken'))),
        SUM(b.revisited_at IS NOT NULL AND b.revisit_satisfied IS NOT NULL),
        SUM(b.revisited_at IS NOT NULL AND b.revisit_satisfied IS 1)
    FROM ratings r JOIN bad_reviews b ON b.rating_id = r.id
    WHERE r.grade <= 2 AND r.kind = 'first' AND r.voided_at IS NULL AND b.status <> 'void'
    GROUP BY 1, 2, 3, 4, 5, 6
"""
COUNTERS_BY_DAY = """
    SELECT day, window_no, staff_user_id, section, matter, channel,
        SUM(bad_replied), SUM(bad_fixed), SUM(bad_answered), SUM(bad_satisfied)
    FROM rating_days GROUP BY 1, 2, 3, 4, 5, 6
    HAVING SUM(bad_replied) OR SUM(bad_fixed) OR SUM(bad_answered) OR SUM(bad_satisfied)
"""


async def counter_drift(db) -> list:
    """Where the roll-ups' bad_* counters differ from the cases they count (either way; all-zero rows aside)."""
    joined, counters = f"SELECT * FROM ({JOIN_BY_DAY})", f"SELECT * FROM ({COUNTERS_BY_DAY})"
    rows = await db.fetchall(
        f"SELECT * FROM ({joined} EXCEPT {counters}) UNION ALL SELECT * FROM ({counters} EXCEPT {joined})"
    )
    return [tuple(r) for r in rows if any(r[6:])]


async def test_the_follow_up_counters_are_the_cases_they_count_through_voids_and_a_refill(hall: HallClient):
    await play(hall)
    assert await hall.db.fetchval("SELECT SUM(bad_replied) + SUM(bad_fixed) FROM rating_days") > 0
    drift = await counter_drift(hall.db)
    assert drift == [], drift
    # Withdraw a bad rating whose case is closed and one whose case is still open: neither counts.
    manager = await hall.user("manager")
    for status in ("closed", "open", "verified", "rectified", "fed_back"):
        rating_id = await hall.db.fetchval(
            "SELECT b.rating_id FROM bad_reviews b JOIN ratings r ON r.id = b.rating_id "
            "WHERE b.status = ? AND r.voided_at IS NULL LIMIT 1",
            (status,),
        )
        if rating_id is not None:
            code, body = await hall.post(f"/api/ratings/{rating_id}/void", {"reason": "申诉核实为误评"}, manager)
            assert code == 200, body
    drift = await counter_drift(hall.db)
    assert drift == [] and await month_drift(hall.db) == [], drift
    # The migration's fill gives the same counters from the cases as they stand.
    names = ("bad_replied", "bad_fixed", "bad_answered", "bad_satisfied")
    before = await hall.db.fetchall(f"SELECT {COUNTS} FROM rating_days ORDER BY rowid")
    fill = [st for st in _statements(SCHEMA.steps[4]) if st.lstrip().startswith("UPDATE")]

    def refill(tx) -> None:
        for table in ("rating_days", "rating_months"):
            tx.execute(f"UPDATE {table} SET " + ", ".join(f"{n} = 0" for n in names))
        for statement in fill:
            tx.execute(statement)

    await hall.db.write(refill)
    after = await hall.db.fetchall(f"SELECT {COUNTS} FROM rating_days ORDER BY rowid")
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
    assert await month_drift(hall.db) == []
