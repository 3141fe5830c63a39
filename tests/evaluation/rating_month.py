"""A scripted month of ratings for the statistics tests (hand-computed figures in test_stats.py).

The clock starts on Monday 12 October 2026 (the previous range's data), moves to
Monday 16 November, then to Monday 23 November 09:00 (the "today" of the
report: this month so far is 1–23 November, compared with 1–23 October).

Windows (tests/hall.toml): 1 综合窗口1 and 2 综合窗口2 (行政服务中心, section A),
3 不动产窗口 (自然资源和规划局, B), 4 社保窗口 (人力社保局, C); 员工N (工号 00N) at
window N. Services and their ratings (grade, channel, rater):

October 12   W1 a1 户籍迁入 5 qr · a2 户籍迁入 4 qr      W3 a3 不动产转移登记 2 qr anonymous

November 16  W1 s1 户籍迁入 5 qr · s2 户籍迁入 5 pad · s3 身份证换领 4 web · s4 身份证换领 3 sms
                · s5 户籍迁入 never rated → default 5 (unrated = default after 3 days)
             W2 t1 户籍迁入 1 qr real-name 张三丰: verified 属实, rectified, fed back, revisited
                   satisfied → closed; then 追评 4
                · t2 户籍迁入 2 qr real-name 李四: verified 部分属实, explained, fed back, revisited
                   NOT satisfied → reopened (round 2, rectify awaited)
November 23  W2 t3 身份证换领 5 hotline · t4 身份证换领 5 qr, voided on appeal
             W3 u1 不动产转移登记 2 qr anonymous: verified 不属实, fed back, revisited (anonymous) →
                   closed · u2 不动产转移登记 4 pad · u3 不动产转移登记 never rated (too recent)
             W4 v1 社保卡申领 1 qr real-name 王五: verified 不属实, fed back, revisited satisfied
                   → closed · v2 社保卡申领 5 qr
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from hall.config import Config
from hall.evaluation import ratings as ratings_mod

from ..conftest import at
from ..helpers import HallClient

ID_ZHANG = "110101195001011239"
RATERS = {
    "zhang": {"name": "张三丰", "phone": "13800138000", "id_number": ID_ZHANG},
    "li": {"name": "李四", "phone": "13900139000"},
    "wang": {"name": "王五", "phone": "13700137000"},
}
SECTION = {1: "A", 2: "A", 3: "B", 4: "C"}
START = at("2026-10-12 09:00")


def with_default_grades(config: Config) -> Config:
    """The hall gives a service unrated for 3 days the default grade 5 (so the month has a 默认评价)."""
    settings = dataclasses.replace(config.evaluation, unrated="default", default_after_days=3, default_grade=5)
    return dataclasses.replace(config, evaluation=settings)


@dataclass
class Month:
    tickets: dict[str, dict] = field(default_factory=dict)
    ratings: dict[str, dict] = field(default_factory=dict)
    staff: dict[int, dict] = field(default_factory=dict)
    staff_ids: dict[int, int] = field(default_factory=dict)


async def _signed_in(hall: HallClient, month: Month, no: int) -> dict:
    if no not in month.staff:
        month.staff[no] = await hall.staff_at(no, display_name=f"员工{no}", staff_no=f"00{no}")
        month.staff_ids[no] = await hall.db.fetchval("SELECT id FROM users WHERE staff_no = ?", (f"00{no}",))
    else:
        await hall.act(month.staff[no], no, "open")  # a new day: the window opens again (no harm if open)
    return month.staff[no]


async def serve(hall: HallClient, month: Month, name: str, no: int, matter: str) -> dict:
    staff = await _signed_in(hall, month, no)
    ticket = await hall.issue(SECTION[no])
    assert (await hall.call(staff, no, ticket_id=ticket["id"]))["id"] == ticket["id"]
    hall.clock.advance(300)
    status, body = await hall.act(staff, no, "finish", matter=matter)
    assert status == 200, body
    month.tickets[name] = ticket
    return ticket


async def rate(hall: HallClient, month: Month, name: str, grade: int, how: str = "qr", **fields) -> dict:
    ticket = month.tickets[name]
    if how in ("qr", "web"):
        body = {"ticket_token": ticket["token"], "grade": grade, "channel": how, **fields}
        status, rating = await hall.post("/api/ratings", body)
    elif how == "pad":
        pad = await hall.device("pad", window=fields.pop("window"))
        status, rating = await hall.post("/api/ratings", {"ticket_id": ticket["id"], "grade": grade, **fields}, pad)
    else:  # sms, hotline: entered by staff
        agent = await hall.user("staff")
        body = {"ticket_id": ticket["id"], "grade": grade, "channel": how, **fields}
        status, rating = await hall.post("/api/ratings", body, agent)
    assert status == 201, rating
    key = name if rating["kind"] == "first" else f"{name}+"
    month.ratings[key] = rating
    return rating


async def case_of(hall: HallClient, rating: dict) -> int:
    return await hall.db.fetchval("SELECT id FROM bad_reviews WHERE rating_id = ?", (rating["id"],))


async def step(hall: HallClient, case_id: int, stage: str, **body) -> None:
    status, answer = await hall.post(f"/api/bad-reviews/{case_id}/{stage}", body, await hall.viewer())
    assert status == 200, answer


async def play(hall: HallClient) -> Month:
    """Play the month; the clock ends at Monday 23 November 2026, about 10:00."""
    assert hall.clock.now() == START, "the month starts on Monday 12 October"
    m = Month()
    for name, no, matter in (("a1", 1, "户籍迁入"), ("a2", 1, "户籍迁入"), ("a3", 3, "不动产转移登记")):
        await serve(hall, m, name, no, matter)
    await rate(hall, m, "a1", 5)
    await rate(hall, m, "a2", 4)
    await rate(hall, m, "a3", 2, tags=["效率低"])

    hall.clock.set(at("2026-11-16 09:00"))
    await serve(hall, m, "s1", 1, "户籍迁入")
    await rate(hall, m, "s1", 5)
    await serve(hall, m, "s2", 1, "户籍迁入")
    await rate(hall, m, "s2", 5, "pad", window=1)
    await serve(hall, m, "s3", 1, "身份证换领")
    await rate(hall, m, "s3", 4, "web")
    await serve(hall, m, "s4", 1, "身份证换领")
    await rate(hall, m, "s4", 3, "sms")
    await serve(hall, m, "s5", 1, "户籍迁入")
    await serve(hall, m, "t1", 2, "户籍迁入")
    await rate(hall, m, "t1", 1, tags=["态度恶劣"], comment="窗口人员态度差", rater=RATERS["zhang"])
    await serve(hall, m, "t2", 2, "户籍迁入")
    await rate(hall, m, "t2", 2, tags=["多次跑"], rater=RATERS["li"])
    t1, t2 = await case_of(hall, m.ratings["t1"]), await case_of(hall, m.ratings["t2"])
    await step(hall, t1, "verify", outcome="true", note="调取录像,属实")
    await step(hall, t1, "rectify", kind="rectify", note="批评教育,窗口服务规范再培训")
    await step(hall, t1, "feedback", note="电话告知整改情况")
    await step(hall, t1, "revisit", satisfied=True, note="群众表示满意")
    await step(hall, t2, "verify", outcome="partly", note="部分属实")
    await step(hall, t2, "rectify", kind="explain", note="向群众说明材料要求")
    await step(hall, t2, "feedback", note="已告知")
    await step(hall, t2, "revisit", satisfied=False, note="群众仍不满意")
    await rate(hall, m, "t1", 4, tags=["服务较好"], rater=RATERS["zhang"])  # 追评 after the fix

    hall.clock.set(at("2026-11-23 09:00"))
    await serve(hall, m, "t3", 2, "身份证换领")
    await rate(hall, m, "t3", 5, "hotline")
    await serve(hall, m, "t4", 2, "身份证换领")
    await rate(hall, m, "t4", 5)
    status, _ = await hall.post(
        f"/api/ratings/{m.ratings['t4']['id']}/void", {"reason": "申诉:误点"}, await hall.viewer()
    )
    assert status == 200
    await serve(hall, m, "u1", 3, "不动产转移登记")
    await rate(hall, m, "u1", 2, tags=["效率低"], rater={"anonymous": True})
    await serve(hall, m, "u2", 3, "不动产转移登记")
    await rate(hall, m, "u2", 4, "pad", window=3)
    await serve(hall, m, "u3", 3, "不动产转移登记")
    u1 = await case_of(hall, m.ratings["u1"])
    await step(hall, u1, "verify", outcome="false", note="核查办件记录,不属实")
    await step(hall, u1, "feedback", note="匿名,无法告知,已记录")
    await step(hall, u1, "revisit", note="匿名评价,无法回访")
    await serve(hall, m, "v1", 4, "社保卡申领")
    await rate(hall, m, "v1", 1, tags=["态度恶劣"], rater=RATERS["wang"])
    await serve(hall, m, "v2", 4, "社保卡申领")
    await rate(hall, m, "v2", 5)
    v1 = await case_of(hall, m.ratings["v1"])
    await step(hall, v1, "verify", outcome="false", note="不属实")
    await step(hall, v1, "feedback", note="已电话说明")
    await step(hall, v1, "revisit", satisfied=True, note="群众表示理解")
    while await hall.db.write(ratings_mod.apply_defaults, hall.config) > 0:
        pass
    return m
