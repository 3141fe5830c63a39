"""Bad reviews from the ratings on the desk: a case of type 差评 that follows its follow-up case."""

from __future__ import annotations

import asyncio

from hall.callcenter import tasks

from ..evaluation.test_cases import bad_case, ok
from ..helpers import HallClient
from .helpers import desk


async def desk_case(hall: HallClient, headers: dict, rating_id: int, status: str) -> dict:
    """The desk case of a rating once the projector has brought it to `status` (it runs beside the API)."""
    for _ in range(250):
        case_id = await hall.db.fetchval("SELECT id FROM cases WHERE rating_id = ?", (rating_id,))
        if case_id is not None:
            code, case = await hall.get(f"/api/cases/{case_id}", headers)
            assert code == 200, case
            if case["status"] == status:
                return case
        await asyncio.sleep(0.02)
    raise AssertionError(f"the desk case of rating {rating_id} never reached {status}")


async def test_a_bad_review_is_followed_on_the_desk_to_its_return_visit(hall: HallClient):
    agent = (await desk(hall))["agent"]
    review = await bad_case(hall, comment="窗口人员态度差")
    rating = review["rating"]
    case = await desk_case(hall, agent, rating["id"], "dispatched")
    assert (case["type"], case["type_name"], case["channel_name"]) == ("bad_review", "差评", "差评跟踪")
    ticket, staff = rating["ticket"]["id"], rating["staff"]["id"]
    assert case["links"] == {
        "ticket_id": ticket, "window_no": 1, "staff_user_id": staff, "matter": None, "rating_id": rating["id"]
    }  # fmt: skip
    assert case["contact"]["phone"] == "138****8000" and case["due_at"] == review["due_at"]
    assert case["messages"][0]["body"] == "非常不满意(1 分):态度恶劣;窗口人员态度差"

    # The desk's own moves do not apply: the steps are the follow-up's.
    status, refused = await hall.post(f"/api/cases/{case['id']}/dispatch", {"departments": ["人力社保局"]}, agent)
    assert status == 409 and refused["error"]["code"] == "bad_review_case"

    await ok(hall, review, "verify", outcome="true", note="电话回访,属实")
    case = await desk_case(hall, agent, rating["id"], "signed")
    await ok(hall, review, "rectify", kind="rectify", note="批评教育")
    await desk_case(hall, agent, rating["id"], "fed_back")
    await ok(hall, review, "feedback", note="已告知整改情况")
    case = await desk_case(hall, agent, rating["id"], "reviewed")
    assert case["visit_owed"]
    _, overview = await hall.get("/api/desk/overview", agent)
    assert [c["id"] for c in overview["visit_owed"]] == [case["id"]]
    await ok(hall, review, "revisit", reached=True, satisfied=True, note="满意")
    case = await desk_case(hall, agent, rating["id"], "closed")
    assert case["visit_result"] == "satisfied" and case["history"][-1]["action"] == "mirror"
    _, overview = await hall.get("/api/desk/overview", agent)
    assert overview["return_visits"] == {"due": 1, "done": 1, "rate": 1.0, "target": 1.0}


async def test_a_bad_review_reaches_the_desk_after_a_restart(hall: HallClient):
    """The projector keeps a cursor: catching up from it finds what the live feed missed."""
    agent = (await desk(hall))["agent"]
    review = await bad_case(hall)
    await desk_case(hall, agent, review["rating"]["id"], "dispatched")
    await hall.db.write(lambda tx: tx.execute("DELETE FROM case_messages"))
    await hall.db.write(lambda tx: tx.execute("DELETE FROM case_steps"))
    await hall.db.write(lambda tx: tx.execute("DELETE FROM cases"))
    await hall.db.write(lambda tx: tx.execute("DELETE FROM callcenter_cursors"))
    await tasks.catch_up(hall.app)
    assert await hall.db.fetchval("SELECT COUNT(*) FROM cases WHERE type = 'bad_review'") == 1
