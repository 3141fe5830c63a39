"""Booking appointments in tests: valid ID numbers on demand, and a booking call that insists."""

from __future__ import annotations

from typing import Any

from ..helpers import HallClient

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
MONDAY = "2026-11-23"


def id_number(n: int = 1, born: str = "19900307") -> str:
    """A valid 18-digit ID number (Quzhou, Kecheng), different for each `n`."""
    body = f"330802{born}{n:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def person(n: int = 1, **changes: Any) -> dict[str, str]:
    return {"name": "张三丰", "phone": f"138{n:08d}", "id_number": id_number(n), **changes}


async def book(
    hall: HallClient, section: str = "A", date: str = MONDAY, slot: str = "10:00-11:00", n: int = 1, **fields: Any
) -> dict:
    """Book as citizen `n` and insist it was booked."""
    body = {"section": section, "date": date, "slot": slot, **person(n), **fields}
    status, answer = await hall.post("/api/appointments", body)
    assert status == 201, answer
    return answer


async def check_in(hall: HallClient, code: str, headers: dict | None = None) -> tuple[int, Any]:
    return await hall.post(f"/api/appointments/{code}/check-in", None, headers or await hall.kiosk())
