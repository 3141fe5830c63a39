"""A finished service to rate: issued, called and finished at a window by a named staff member."""

from __future__ import annotations

from ..helpers import HallClient


async def staff_of(hall: HallClient, no: int) -> dict[str, str]:
    """The staff member signed in at window `no` (员工N, 工号 00N), signed in on first use."""
    signed_in = hall.__dict__.setdefault("window_staff", {})
    if no not in signed_in:
        signed_in[no] = await hall.staff_at(no, display_name=f"员工{no}", staff_no=f"00{no}")
    return signed_in[no]


async def finish_one(hall: HallClient, no: int = 1, section: str = "A", **finish: str) -> dict:
    """A ticket issued, called at window `no` and finished there five minutes later; returns the ticket."""
    staff = await staff_of(hall, no)
    ticket = await hall.issue(section)
    called = await hall.call(staff, no, ticket_id=ticket["id"])
    assert called["id"] == ticket["id"]
    hall.clock.advance(300)
    status, body = await hall.act(staff, no, "finish", **({"matter": "户籍迁入"} | finish))
    assert status == 200, body
    return ticket
