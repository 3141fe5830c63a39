"""A scripted day in the test hall, driven through the real API at known times.

Monday 2026-11-23 (tests/hall.toml: window 1 serves A, B, C; window 2 A, B;
window 3 B; window 4 C). Staff: 李娜 (工号 0101) at window 1, 王芳 (0102) at
window 2, 张伟 (0103) at window 3, 赵敏 (0104) assists and later opens window 4.

    08:30 A001 issued                     09:12 w1 calls B001 (in C now: not a first call)
    08:31 A002 issued                     09:13 w1 starts B001
    08:40 B001 issued                     09:15 w2 pauses
    08:50 w1 and w2 open                  09:20 w3 opens
    08:55 w1 calls A001   wait 1500       09:25 w1 finishes B001 done, assisted by 赵敏   service 720
    08:56 w1 starts A001                  09:30 B002 issued
    08:57 w2 calls A002   wait 1560       09:35 w2 resumes
    09:00 A003 issued                     09:40 w3 calls B002   wait 600
    09:01 w2: A002 no-show                09:42 w3 holds B002 (never started)
    09:02 w2 calls B001   wait 1320       09:45 w3 calls B002 back
    09:03 w2 starts B001                  09:46 w3 recalls B002 (moves nothing)
    09:05 w1 finishes A001 done, assisted by 赵敏   service 540 (from 08:56)
    09:06 w1 calls A003   wait 360        09:50 C001 issued
    09:10 w2 transfers B001 to section C  09:51 w3 finishes B002 rejected   service 360 (from the call back)
    09:11 w1 finishes A003 supplement, never started: service 300 (from 09:06)
    09:55 A004 issued   10:00 w2 closes   10:02 C002 issued   10:05 w1 pauses
    10:06 赵敏 opens w4  10:07 w4 calls C001   wait 1020      10:08 w4 starts C001
    … and the figures are read at 10:10.

`finish_monday` and `play_tuesday` continue it for the two-day range.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..conftest import at
from ..helpers import HallClient

MONDAY = "2026-11-23"
TUESDAY = "2026-11-24"
READ_AT = "2026-11-23 10:10"


@dataclass
class Staff:
    lina: dict
    wangfang: dict
    zhangwei: dict
    zhaomin: dict
    ids: dict[str, int]


def _at(hall: HallClient, when: str) -> None:
    hall.clock.set(at(f"{MONDAY} {when}") if len(when) == 5 else at(when))


async def _ok(hall: HallClient, headers: dict, no: int, action: str, **body) -> dict:
    status, answer = await hall.act(headers, no, action, **body)
    assert status == 200, answer
    return answer


async def play_monday(hall: HallClient) -> Staff:
    """Play Monday up to 10:10 (the clock is left there)."""
    _at(hall, "08:00")
    people = {}
    for username, staff_no, name in (
        ("lina", "0101", "李娜"),
        ("wangfang", "0102", "王芳"),
        ("zhangwei", "0103", "张伟"),
        ("zhaomin", "0104", "赵敏"),
    ):
        people[username] = await hall.user("staff", username=username, staff_no=staff_no, display_name=name)
    ids = {r["username"]: r["id"] for r in await hall.db.fetchall("SELECT id, username FROM users")}
    s = Staff(people["lina"], people["wangfang"], people["zhangwei"], people["zhaomin"], ids)
    w1, w2, w3, w4 = s.lina, s.wangfang, s.zhangwei, s.zhaomin

    async def issue(when: str, section: str, number: str) -> None:
        _at(hall, when)
        assert (await hall.issue(section))["number"] == number

    async def act(when: str, headers: dict, no: int, action: str, number: str | None = None, **body) -> None:
        _at(hall, when)
        answer = await _ok(hall, headers, no, action, **body)
        if number is not None:
            assert answer["ticket"]["number"] == number, (action, answer["ticket"])

    await issue("08:30", "A", "A001")
    await issue("08:31", "A", "A002")
    await issue("08:40", "B", "B001")
    await act("08:50", w1, 1, "open")
    await act("08:50", w2, 2, "open")
    await act("08:55", w1, 1, "call", "A001")
    await act("08:56", w1, 1, "start", "A001")
    await act("08:57", w2, 2, "call", "A002")
    await issue("09:00", "A", "A003")
    await act("09:01", w2, 2, "no-show", "A002")
    await act("09:02", w2, 2, "call", "B001")
    await act("09:03", w2, 2, "start", "B001")
    await act("09:05", w1, 1, "finish", "A001", outcome="done", matter="居民身份证换领", assisted_by="0104")
    await act("09:06", w1, 1, "call", "A003")
    await act("09:10", w2, 2, "transfer", "B001", section="C")
    await act("09:11", w1, 1, "finish", "A003", outcome="supplement")
    await act("09:12", w1, 1, "call", "B001")
    await act("09:13", w1, 1, "start", "B001")
    await act("09:15", w2, 2, "pause")
    await act("09:20", w3, 3, "open")
    await act("09:25", w1, 1, "finish", "B001", outcome="done", assisted_by="zhaomin")
    await issue("09:30", "B", "B002")
    await act("09:35", w2, 2, "resume")
    await act("09:40", w3, 3, "call", "B002")
    await act("09:42", w3, 3, "hold", "B002")
    b002 = (await hall.db.fetchone("SELECT id FROM tickets WHERE number = 'B002'"))["id"]
    await act("09:45", w3, 3, "call", "B002", ticket_id=b002)
    await act("09:46", w3, 3, "recall", "B002")
    await issue("09:50", "C", "C001")
    await act("09:51", w3, 3, "finish", "B002", outcome="rejected")
    await issue("09:55", "A", "A004")
    await act("10:00", w2, 2, "close")
    await issue("10:02", "C", "C002")
    await act("10:05", w1, 1, "pause")
    await act("10:06", w4, 4, "open")
    await act("10:07", w4, 4, "call", "C001")
    await act("10:08", w4, 4, "start", "C001")
    _at(hall, "10:10")
    return s


async def finish_monday(hall: HallClient, s: Staff) -> None:
    """10:20 w4 finishes C001 (done, service 720 from 10:08); 10:30 windows 1 (still paused), 3 and 4 close."""
    _at(hall, "10:20")
    await _ok(hall, s.zhaomin, 4, "finish", outcome="done")
    _at(hall, "10:30")
    for headers, no in ((s.lina, 1), (s.zhangwei, 3), (s.zhaomin, 4)):
        await _ok(hall, headers, no, "close")


async def play_tuesday(hall: HallClient, s: Staff) -> None:
    """09:00 A001 issued; 09:10 w1 opens; 09:15 calls it (wait 900); 09:20 finishes, never started
    (service 300); 09:30 closes. The clock is left at 12:00."""
    _at(hall, f"{TUESDAY} 09:00")
    assert (await hall.issue("A"))["number"] == "A001"
    _at(hall, f"{TUESDAY} 09:10")
    await _ok(hall, s.lina, 1, "open")
    _at(hall, f"{TUESDAY} 09:15")
    await _ok(hall, s.lina, 1, "call")
    _at(hall, f"{TUESDAY} 09:20")
    await _ok(hall, s.lina, 1, "finish", outcome="done")
    _at(hall, f"{TUESDAY} 09:30")
    await _ok(hall, s.lina, 1, "close")
    _at(hall, f"{TUESDAY} 12:00")
