"""Ratings (好差评): one per service, from a served ticket only, with every detail; voids keep the original."""

import asyncio
import dataclasses

import pytest
from aiohttp import DummyCookieJar

from hall.evaluation import ratings as ratings_mod
from hall.evaluation import tasks as evaluation_tasks
from hall.server import create_app

from ..helpers import HallClient

ID = "110101195001011239"


async def staff_for(hall: HallClient, no: int) -> dict:
    """The staff member signed in at window `no` (signed in on first use)."""
    signed_in = hall.__dict__.setdefault("window_staff", {})
    if no not in signed_in:
        signed_in[no] = await hall.staff_at(no, display_name=f"员工{no}", staff_no=f"00{no}")
    return signed_in[no]


async def served(hall: HallClient, no: int = 1, section: str = "A", **finish) -> tuple[dict, dict]:
    """A ticket issued, called and finished at window `no`; returns (ticket, staff headers)."""
    staff = await staff_for(hall, no)
    ticket = await hall.issue(section)
    called = await hall.call(staff, no, ticket_id=ticket["id"])
    assert called["id"] == ticket["id"]
    hall.clock.advance(300)
    status, body = await hall.act(staff, no, "finish", **({"matter": "户籍迁入"} | finish))
    assert status == 200, body
    return ticket, staff


async def rate(hall: HallClient, ticket: dict, grade: int = 5, **fields) -> tuple[int, dict]:
    return await hall.post("/api/ratings", {"ticket_token": ticket["token"], "grade": grade, **fields})


async def test_a_rating_records_everything_the_centre_needs(hall: HallClient):
    await hall.create_user("helper", staff_no="0900", display_name="帮办员")
    ticket, _ = await served(hall, 1, assisted_by="0900", outcome="supplement")
    status, rating = await rate(
        hall,
        ticket,
        2,
        tags=["效率低", "多次跑"],
        comment="材料要求没有一次说清",
        rater={"name": "张三丰", "phone": "13800138000", "id_number": ID},
    )
    assert status == 201
    assert (rating["grade"], rating["grade_name"], rating["kind"]) == (2, "不满意", "first")
    assert rating["tags"] == ["效率低", "多次跑"] and rating["comment"] == "材料要求没有一次说清"
    assert rating["channel"] == "qr" and rating["channel_name"] == "扫码评价"
    t = rating["ticket"]
    assert (t["number"], t["section"], t["section_name"], t["matter"], t["outcome"]) == (
        ticket["number"], "A", "综合受理", "户籍迁入", "supplement"
    )  # fmt: skip
    assert t["issued_at"] and t["called_at"] and t["finished_at"] > t["called_at"] >= t["issued_at"]
    assert rating["window"] == {"no": 1, "name": "综合窗口1", "department": "行政服务中心"}
    assert rating["staff"]["name"] == "员工1" and rating["staff"]["staff_no"]
    assert rating["assisted_by"]["staff_no"] == "0900" and rating["assisted_by"]["name"] == "帮办员"
    assert rating["rater"] == {
        "anonymous": False,
        "name": "张**",
        "phone": "138****8000",
        "id_number": "1101**********1239",
    }
    assert rating["created_at"].startswith("2026-11-23")
    _, events = await hall.get("/api/events", await hall.viewer())
    assert "13800138000" not in str(events) and "张三丰" not in str(events) and ID not in str(events)


async def test_one_rating_per_service(hall: HallClient):
    ticket, _ = await served(hall)
    assert (await rate(hall, ticket))[0] == 201
    status, body = await rate(hall, ticket, 4)
    assert status == 409 and body["error"]["code"] == "already_rated"


async def test_only_a_served_ticket_can_be_rated(hall: HallClient):
    waiting = await hall.issue("A")
    status, body = await rate(hall, waiting)
    assert status == 409 and body["error"]["code"] == "not_served"
    status, body = await hall.post("/api/ratings", {"ticket_token": "nope", "grade": 5})
    assert status == 404 and body["error"]["code"] == "ticket_not_found"
    assert await hall.db.fetchval("SELECT COUNT(*) FROM ratings") == 0


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"grade": 1}, "reason_required", "tags"),
        ({"grade": 2, "comment": "  "}, "reason_required", "tags"),
        ({"grade": 5, "tags": ["态度不好"]}, "invalid_tag", "tags"),
        ({"grade": 6}, "invalid_field", "grade"),
        ({"grade": "5"}, "invalid_field", "grade"),
        ({"grade": 5, "rater": {"phone": "123"}}, "invalid_field", "rater.phone"),
        ({"grade": 5, "rater": {"id_number": "110101195001011234"}}, "invalid_field", "rater.id_number"),
        ({"grade": 5, "comment": "x" * 501}, "invalid_field", "comment"),
        ({"grade": 5, "channel": "pad"}, "invalid_field", "channel"),
    ],
)
async def test_bad_ratings_are_refused_with_a_reason(hall: HallClient, fields, code, field):
    ticket, _ = await served(hall)
    status, body = await hall.post("/api/ratings", {"ticket_token": ticket["token"], **fields})
    assert status == 400 and body["error"]["code"] == code and body["error"]["field"] == field
    assert await hall.db.fetchval("SELECT COUNT(*) FROM ratings") == 0


async def test_a_bad_rating_with_a_comment_alone_is_enough(hall: HallClient):
    ticket, _ = await served(hall)
    status, rating = await rate(hall, ticket, 1, comment="窗口人员玩手机")
    assert status == 201 and rating["tags"] == []
    case = await hall.db.fetchone("SELECT * FROM bad_reviews WHERE rating_id = ?", (rating["id"],))
    assert case["status"] == "open" and case["department"] == "行政服务中心" and case["real_name"] == 0


async def test_the_window_pad_rates_what_its_window_just_finished(hall: HallClient):
    ticket, _ = await served(hall, 1)
    pad = await hall.device("pad", window=1)
    status, rating = await hall.post("/api/ratings", {"ticket_id": ticket["id"], "grade": 5}, pad)
    assert status == 201 and rating["channel"] == "pad" and rating["device_id"] is not None
    other, _ = await served(hall, 2, section="B")
    status, body = await hall.post("/api/ratings", {"ticket_id": other["id"], "grade": 5}, pad)
    assert status == 409 and body["error"]["code"] == "not_this_window"
    late, _ = await served(hall, 1)
    hall.clock.advance(31 * 60)
    status, body = await hall.post("/api/ratings", {"ticket_id": late["id"], "grade": 5}, pad)
    assert status == 409 and body["error"]["code"] == "rating_closed"
    unbound = await hall.device("pad")
    status, body = await hall.post("/api/ratings", {"ticket_id": late["id"], "grade": 5}, unbound)
    assert status == 403 and body["error"]["code"] == "pad_not_bound"


async def test_the_qr_link_rates_for_a_few_days_after_the_service(hall: HallClient):
    ticket, _ = await served(hall)
    hall.clock.advance(7 * 86400 + 60)
    status, body = await rate(hall, ticket)
    assert status == 409 and body["error"]["code"] == "rating_closed" and "7 天" in body["error"]["message"]


async def test_staff_enter_ratings_given_by_sms_or_on_the_hotline(hall: HallClient):
    ticket, _ = await served(hall)
    agent = await hall.user("staff")
    status, body = await hall.post("/api/ratings", {"ticket_token": ticket["token"], "grade": 4}, agent)
    assert status == 400 and body["error"]["field"] == "channel"
    status, rating = await hall.post(
        "/api/ratings", {"ticket_id": ticket["id"], "grade": 4, "channel": "hotline"}, agent
    )
    assert status == 201 and rating["channel"] == "hotline"
    kiosk = await hall.kiosk()
    assert (await hall.post("/api/ratings", {"ticket_token": ticket["token"], "grade": 4}, kiosk))[0] == 403


async def test_a_void_keeps_the_original_with_its_reason(hall: HallClient):
    ticket, _ = await served(hall)
    _, rating = await rate(hall, ticket, 1, tags=["态度恶劣"])
    manager = await hall.user("manager")
    status, body = await hall.post(f"/api/ratings/{rating['id']}/void", {"reason": "申诉核实为误评:群众误点"}, manager)
    assert status == 200 and body["voided"] is True and body["void_reason"] == "申诉核实为误评:群众误点"
    assert body["grade"] == 1 and body["tags"] == ["态度恶劣"]  # the original, unchanged
    status, again = await hall.post(f"/api/ratings/{rating['id']}/void", {"reason": "x"}, manager)
    assert status == 409 and again["error"]["code"] == "already_voided"
    case = await hall.db.fetchone("SELECT status FROM bad_reviews WHERE rating_id = ?", (rating["id"],))
    assert case["status"] == "void"
    assert (await hall.post(f"/api/ratings/{rating['id']}/void", {"reason": "x"}, await hall.user("staff")))[0] == 403
    status, body = await rate(hall, ticket, 5)  # a voided rating still used the service's one rating
    assert status == 409 and body["error"]["code"] == "already_rated"
    assert await roll_up_drift(hall) == []


async def test_reading_a_rater_unmasked_is_logged(hall: HallClient):
    ticket, _ = await served(hall)
    _, rating = await rate(hall, ticket, 2, tags=["效率低"], rater={"name": "李四", "phone": "13900139000"})
    manager = await hall.user("manager")
    status, listed = await hall.get("/api/ratings?window=1", manager)
    assert status == 200 and listed["ratings"][0]["rater"]["phone"] == "139****9000"
    status, body = await hall.get(f"/api/ratings/{rating['id']}/rater?purpose=差评核实", manager)
    assert status == 200 and body["rater"]["phone"] == "13900139000" and body["logged"] is True
    reads = await hall.db.fetchall("SELECT user_id, rating_id, purpose FROM rater_reads")
    assert [(r["rating_id"], r["purpose"]) for r in reads] == [(rating["id"], "差评核实")]
    assert (await hall.get(f"/api/ratings/{rating['id']}/rater", await hall.user("staff")))[0] == 403
    assert (await hall.get("/api/ratings", await hall.user("staff")))[0] == 403  # staff never see who rated


async def test_every_finished_service_is_recorded_even_if_never_rated(hall: HallClient):
    ticket, _ = await served(hall)
    for _ in range(100):
        row = await hall.db.fetchone("SELECT * FROM services WHERE ticket_id = ?", (ticket["id"],))
        if row is not None:
            break
        await asyncio.sleep(0.02)
    assert row is not None and row["rated"] == 0 and row["matter"] == "户籍迁入"
    served_count = await hall.db.fetchval("SELECT SUM(served) FROM rating_days")
    assert served_count == 1


async def test_unrated_services_get_the_default_grade_when_the_hall_says_so(aiohttp_client, config, clock, db_path):
    settings = dataclasses.replace(config.evaluation, unrated="default", default_after_days=10, default_grade=5)
    app = create_app(dataclasses.replace(config, evaluation=settings), clock=clock, db_path=db_path)
    hall = HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)
    rated, _ = await served(hall)
    unrated, _ = await served(hall)
    await rate(hall, rated, 4)
    hall.clock.advance(9 * 86400)
    assert await hall.db.write(ratings_mod.apply_defaults, hall.config) == 0
    hall.clock.advance(2 * 86400)
    assert await hall.db.write(ratings_mod.apply_defaults, hall.config) == 1
    row = await hall.db.fetchone("SELECT * FROM ratings WHERE ticket_id = ?", (unrated["id"],))
    assert (row["grade"], row["channel"], row["anonymous"]) == (5, "default", 1)
    assert await hall.db.write(ratings_mod.apply_defaults, hall.config) == 0  # once
    assert await roll_up_drift(hall) == []

    # A voided rating is not replaced by the default grade (once this crashed every sweep).
    withdrawn, _ = await served(hall)
    status, first = await rate(hall, withdrawn, 1, tags=["态度恶劣"])
    assert status == 201, first
    manager = await hall.user("manager")
    status, _ = await hall.post(f"/api/ratings/{first['id']}/void", {"reason": "申诉核实为误评"}, manager)
    assert status == 200
    hall.clock.advance(11 * 86400)
    await evaluation_tasks.sweep_once(hall.app)
    kinds = await hall.db.fetchall("SELECT channel FROM ratings WHERE ticket_id = ?", (withdrawn["id"],))
    assert [k["channel"] for k in kinds] == ["qr"]  # the voided one only
    assert await roll_up_drift(hall) == []


async def roll_up_drift(hall: HallClient) -> list:
    """Where the daily roll-up disagrees with the ratings it adds up (first ratings, not voided)."""
    rows = await hall.db.fetchall(
        """
        SELECT r.window_no, r.grade, r.n, COALESCE(d.n, 0) FROM
          (SELECT window_no, grade, COUNT(*) AS n FROM ratings WHERE kind = 'first' AND voided_at IS NULL
           GROUP BY window_no, grade) r
        LEFT JOIN (SELECT window_no, 1 AS grade, SUM(g1) AS n FROM rating_days GROUP BY window_no
                   UNION ALL SELECT window_no, 2, SUM(g2) FROM rating_days GROUP BY window_no
                   UNION ALL SELECT window_no, 3, SUM(g3) FROM rating_days GROUP BY window_no
                   UNION ALL SELECT window_no, 4, SUM(g4) FROM rating_days GROUP BY window_no
                   UNION ALL SELECT window_no, 5, SUM(g5) FROM rating_days GROUP BY window_no) d
          ON d.window_no = r.window_no AND d.grade = r.grade
        WHERE r.n != COALESCE(d.n, 0)
        """
    )
    return [tuple(r) for r in rows]
