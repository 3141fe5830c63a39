"""queue_counts: the waiting counts kept beside the tickets, and the check that watches them."""

from hall.queue import store

from ..helpers import HallClient


async def test_counts_follow_every_move_of_a_ticket(hall: HallClient):
    staff = await hall.staff_at(1)
    reception = await hall.user("staff")
    await hall.issue("A")
    await hall.issue("B", priority="military", headers=reception)
    counts = await hall.db.fetchall("SELECT section, priority_class, waiting FROM queue_counts ORDER BY section")
    assert [tuple(r) for r in counts] == [("A", 0, 1), ("B", 1, 1)]
    await hall.call(staff, 1)  # B001 (priority) leaves the queue
    await hall.act(staff, 1, "transfer", section="A")  # and comes back, in A
    counts = await hall.db.fetchall("SELECT section, priority_class, waiting FROM queue_counts ORDER BY section")
    assert [tuple(r) for r in counts] == [("A", 0, 1), ("A", 1, 1), ("B", 1, 0)]
    assert await store.counts_drift(hall.db) == []


async def test_the_check_sees_a_count_that_drifted(hall: HallClient):
    await hall.issue("A")
    await hall.db.write(lambda tx: tx.execute("UPDATE queue_counts SET waiting = 5"))
    assert await store.counts_drift(hall.db) == [("2026-11-23", "A", 0, 1, 5)]
    await hall.db.write(lambda tx: tx.execute("UPDATE queue_counts SET waiting = 1"))  # leave it right for teardown
