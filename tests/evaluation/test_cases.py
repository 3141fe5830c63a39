"""Bad reviews (差评) followed to the end: verify → rectify → feedback → return visit, on working-day deadlines."""

import asyncio
import json

import pytest

from hall.evaluation import tasks

from ..conftest import at
from ..helpers import HallClient

PHONE, NAME = "13800138000", "张三丰"
REAL = {"name": NAME, "phone": PHONE}


async def served(hall: HallClient, no: int) -> dict:
    """A ticket issued, called and finished at window `no` by 员工N, five minutes later."""
    signed_in = hall.__dict__.setdefault("window_staff", {})
    if no not in signed_in:
        signed_in[no] = await hall.staff_at(no, display_name=f"员工{no}", staff_no=f"00{no}")
    ticket = await hall.issue("C" if no == 4 else "A")
    assert (await hall.call(signed_in[no], no))["id"] == ticket["id"]
    hall.clock.advance(300)
    status, body = await hall.act(signed_in[no], no, "finish")
    assert status == 200, body
    return ticket


async def bad_case(hall: HallClient, rater: dict | None = REAL, no: int = 1, comment: str = "") -> dict:
    """A ticket served at window `no` and rated 1 (非常不满意): its case as the API shows it."""
    ticket = await served(hall, no)
    fields = {"tags": ["态度恶劣"], "comment": comment} | ({"rater": rater} if rater else {})
    status, rating = await hall.post("/api/ratings", {"ticket_token": ticket["token"], "grade": 1, **fields})
    assert status == 201, rating
    status, listed = await hall.get(f"/api/bad-reviews?status=open&department={rating['window']['department']}",
                                    await hall.viewer())  # fmt: skip
    assert status == 200, listed
    case = next(c for c in listed["cases"] if c["rating"]["id"] == rating["id"])
    case["ticket"] = ticket
    return case


async def step(hall: HallClient, case: dict, stage: str, headers: dict | None = None, **body) -> tuple[int, dict]:
    return await hall.post(f"/api/bad-reviews/{case['id']}/{stage}", body, headers or await hall.viewer())


async def ok(hall: HallClient, case: dict, stage: str, **body) -> dict:
    status, answer = await step(hall, case, stage, **body)
    assert status == 200, answer
    return answer


def stages(case: dict) -> dict[str, dict]:
    return {s["stage"]: s for s in case["stages"]}


async def test_a_bad_review_opens_a_case_with_the_rating_detail_and_deadlines(hall: HallClient):
    case = await bad_case(hall, comment="窗口人员态度差")  # rated Monday Nov 23, 09:05
    assert (case["status"], case["status_name"], case["stage"], case["stage_name"]) == (
        "open",
        "待核实",
        "verify",
        "核实",
    )
    assert case["department"] == "行政服务中心" and case["window_no"] == 1 and case["real_name"] is True
    assert case["due_at"] == "2026-11-24T09:05:00+08:00" and case["overdue"] is False
    r = case["rating"]
    assert (r["grade"], r["tags"], r["comment"], r["ticket"]["number"]) == (1, ["态度恶劣"], "窗口人员态度差", "A001")
    assert r["staff"]["name"] == "员工1" and r["window"]["name"] == "综合窗口1"
    assert r["rater"]["phone"] == "138****8000" and r["rater"]["name"] == "张**"  # masked
    s = stages(case)
    assert s["verify"]["due"] == "2026-11-24T09:05:00+08:00" and s["verify"]["current"] is True
    # 15 working days, the hall's closed Friday Nov 27 not among them: Nov 24 25 26 30, Dec 1–4, 7–11, 14 15
    assert s["rectify"]["due"] == "2026-12-15T09:05:00+08:00"
    assert s["feedback"]["due"] is None and s["revisit"]["due"] is None
    assert [h["action"] for h in case["history"]] == ["opened"]
    status, one = await hall.get(f"/api/bad-reviews/{case['id']}", await hall.viewer())
    assert status == 200 and one["id"] == case["id"] and one["rating"]["rater"]["phone"] == "138****8000"


async def test_a_true_review_is_verified_rectified_fed_back_and_revisited(hall: HallClient):
    case = await bad_case(hall)
    await hall.create_user("wang", "manager", display_name="王科长")
    wang = await hall.login("wang")
    first_event = await hall.db.fetchval("SELECT MAX(id) FROM events")

    hall.clock.set(at("2026-11-23 14:00"))
    status, done = await step(hall, case, "verify", wang, outcome="true", note=f"电话回访 {PHONE},查看录像属实")
    assert status == 200, done
    assert (done["status"], done["stage"], done["due_at"]) == ("verified", "rectify", "2026-12-15T09:05:00+08:00")
    v = stages(done)["verify"]
    assert (v["outcome"], v["outcome_name"], v["contact_name"], v["by"]["name"]) == (
        "true",
        "属实",
        "已联系评价人",
        "王科长",
    )
    assert v["done_at"] == "2026-11-23T14:00:00+08:00" and v["late"] is False

    status, refused = await step(hall, case, "rectify", kind="explain", note="解释政策")
    assert status == 409 and refused["error"]["code"] == "rectify_required"

    hall.clock.set(at("2026-11-25 10:00"))  # Wednesday
    done = await ok(hall, case, "rectify", kind="rectify", note="批评教育,服务规范再培训")
    assert (done["status"], done["stage"]) == ("rectified", "feedback")
    assert done["due_at"] == "2026-11-30T10:00:00+08:00"  # 2 working days: Thursday, (Friday closed), Monday

    hall.clock.set(at("2026-11-26 10:00"))
    done = await ok(hall, case, "feedback", note="已电话告知整改情况")
    assert (done["status"], done["stage"], done["due_at"]) == ("fed_back", "revisit", "2026-12-02T10:00:00+08:00")

    hall.clock.set(at("2026-11-30 10:00"))
    done = await ok(hall, case, "revisit", reached=True, satisfied=True)
    assert (done["status"], done["stage"], done["result"], done["result_name"]) == (
        "closed",
        None,
        "satisfied",
        "回访满意",
    )
    assert done["closed_at"] == "2026-11-30T10:00:00+08:00" and done["overdue"] is False
    names = [s["by"]["name"] for s in done["stages"]]
    assert names[0] == "王科长" and names[1] == names[2] == names[3] != "王科长"  # the other manager did the rest
    assert all(s["done_at"] for s in done["stages"]) and not any(s["late"] for s in done["stages"])
    assert [h["action"] for h in done["history"]] == [
        "opened", "verified", "rectified", "fed_back", "revisited", "closed"
    ]  # fmt: skip
    assert done["history"][1]["note"].startswith("电话回访") and done["history"][1]["summary"] == "属实;已联系评价人"

    events = await hall.db.fetchall("SELECT type, payload FROM events WHERE id > ? AND type LIKE 'bad_review.%'",
                                    (first_event,))  # fmt: skip
    assert [e["type"] for e in events] == [
        "bad_review.verified", "bad_review.rectified", "bad_review.fed_back", "bad_review.revisited",
        "bad_review.closed",
    ]  # fmt: skip
    text = " ".join(e["payload"] for e in events)
    assert (
        PHONE not in text and NAME not in text and "录像" not in text and "培训" not in text
    )  # no personal data, no notes
    assert '"outcome":"true"' in text and '"result":"satisfied"' in text


async def test_every_step_records_who_did_it(hall: HallClient):
    case = await bad_case(hall)
    people = {}
    for who in ("甲", "乙", "丙", "丁"):
        await hall.create_user(f"m{who}", "manager", display_name=f"经办{who}")
        people[who] = await hall.login(f"m{who}")
    assert (await step(hall, case, "verify", people["甲"], outcome="partly", note="部分属实"))[0] == 200
    assert (await step(hall, case, "rectify", people["乙"], kind="explain", note="解释材料要求"))[0] == 200
    assert (await step(hall, case, "feedback", people["丙"], note="已告知"))[0] == 200
    status, done = await step(hall, case, "revisit", people["丁"], satisfied=True)
    assert status == 200
    assert [s["by"]["name"] for s in done["stages"]] == ["经办甲", "经办乙", "经办丙", "经办丁"]
    assert stages(done)["rectify"]["kind_name"] == "说明"
    row = await hall.db.fetchone("SELECT * FROM bad_reviews WHERE id = ?", (case["id"],))
    assert len({row["verified_by"], row["rectified_by"], row["fed_back_by"], row["revisited_by"]}) == 4
    assert row["handled_by"] == row["revisited_by"]


@pytest.mark.parametrize("outcome", ["false", "mistaken"])
async def test_not_true_and_mistaken_reviews_go_straight_to_feedback(hall: HallClient, outcome):
    case = await bad_case(hall)
    hall.clock.set(at("2026-11-25 16:00"))
    done = await ok(hall, case, "verify", outcome=outcome, note="查看录像,窗口人员按规范办理")
    assert (done["status"], done["stage"]) == ("verified", "feedback")
    assert done["due_at"] == "2026-11-30T16:00:00+08:00"  # 2 working days from the verification
    assert stages(done)["rectify"]["skipped"] is True and stages(done)["rectify"]["due"] is None
    status, refused = await step(hall, case, "rectify", kind="explain", note="x")
    assert status == 409 and refused["error"]["code"] == "wrong_stage" and refused["error"]["stage"] == "feedback"
    await ok(hall, case, "feedback", note="向评价人说明核实情况")
    done = await ok(hall, case, "revisit", satisfied=True)
    assert done["result"] == "satisfied"


async def test_steps_out_of_order_are_refused(hall: HallClient):
    case = await bad_case(hall)
    for stage, body in (
        ("rectify", {"kind": "rectify", "note": "x"}),
        ("feedback", {"note": "x"}),
        ("revisit", {"satisfied": True}),
    ):
        status, answer = await step(hall, case, stage, **body)
        assert status == 409, stage
        assert answer["error"]["code"] == "wrong_stage" and answer["error"]["stage"] == "verify"
        assert "核实" in answer["error"]["message"]
    await ok(hall, case, "verify", outcome="true", note="属实")
    status, answer = await step(hall, case, "verify", outcome="true", note="再核实")
    assert status == 409 and answer["error"]["code"] == "wrong_stage" and answer["error"]["stage"] == "rectify"
    await ok(hall, case, "rectify", kind="rectify", note="整改")
    await ok(hall, case, "feedback", note="已告知")
    await ok(hall, case, "revisit", satisfied=True)
    status, answer = await step(hall, case, "revisit", satisfied=True)
    assert status == 409 and answer["error"]["code"] == "case_closed"
    status, answer = await hall.post(
        "/api/bad-reviews/999/verify", {"outcome": "true", "note": "x"}, await hall.viewer()
    )
    assert status == 404 and answer["error"]["code"] == "case_not_found"
    assert (await hall.get("/api/bad-reviews/999", await hall.viewer()))[1]["error"]["code"] == "case_not_found"


@pytest.mark.parametrize(
    ("stage", "body", "code", "field"),
    [
        ("verify", {"outcome": "yes", "note": "x"}, "invalid_field", "outcome"),
        ("verify", {"outcome": "true"}, "note_required", "note"),
        ("verify", {"outcome": "true", "note": "   "}, "note_required", "note"),
        ("verify", {"outcome": "true", "note": "x" * 1001}, "invalid_field", "note"),
        ("verify", {"outcome": "true", "note": 5}, "invalid_field", "note"),
        ("verify", {"outcome": "true", "note": "x", "reached": "yes"}, "invalid_field", "reached"),
        ("verify", {"outcome": "true", "note": "x", "phone": "1"}, "unknown_field", "phone"),
        ("rectify", {"kind": "fix", "note": "x"}, "invalid_field", "kind"),
        ("feedback", {}, "note_required", "note"),
        ("revisit", {"reached": False, "satisfied": True, "attempts": 3, "note": "x"}, "invalid_field", "satisfied"),
        ("revisit", {"satisfied": True, "attempts": "3"}, "invalid_field", "attempts"),
        ("revisit", {"satisfied": True, "attempts": 0}, "invalid_field", "attempts"),
        ("revisit", {"satisfied": False}, "note_required", "note"),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(hall: HallClient, stage, body, code, field):
    case = await bad_case(hall)
    before = await hall.counts()
    status, answer = await step(hall, case, stage, **body)
    assert status == 400, answer
    assert (answer["error"]["code"], answer["error"]["field"]) == (code, field) and answer["error"]["message"]
    assert await hall.counts() == before


async def test_not_satisfied_reopens_the_rectification_once_then_closes_as_unsatisfied(hall: HallClient):
    case = await bad_case(hall)
    await ok(hall, case, "verify", outcome="false", note="录像显示按规范办理")
    await ok(hall, case, "feedback", note="说明核实情况")
    hall.clock.set(at("2026-11-24 10:00"))
    done = await ok(hall, case, "revisit", reached=True, satisfied=False, note="群众仍认为等候太久")
    assert (done["status"], done["stage"], done["round"], done["result"]) == ("verified", "rectify", 2, None)
    assert done["due_at"] == "2026-12-16T10:00:00+08:00"  # 15 working days from the return visit (Tuesday)
    s = stages(done)
    assert s["rectify"]["skipped"] is False and s["feedback"]["done_at"] is None and s["revisit"]["done_at"] is None
    assert [h["action"] for h in done["history"]][-2:] == ["revisited", "reopened"]
    assert done["history"][-2]["note"] == "群众仍认为等候太久"  # round 1 is kept in the history
    await ok(hall, case, "rectify", kind="explain", note="再次解释并致歉")  # not true: an explanation may do
    await ok(hall, case, "feedback", note="已告知")
    done = await ok(hall, case, "revisit", satisfied=False, note="仍不满意")
    assert (done["status"], done["result"], done["result_name"]) == ("closed", "unsatisfied", "回访不满意")
    assert done["history"][-1]["summary"] == "回访不满意"


async def test_a_true_review_reopened_must_be_rectified_again(hall: HallClient):
    case = await bad_case(hall)
    await ok(hall, case, "verify", outcome="true", note="属实")
    await ok(hall, case, "rectify", kind="rectify", note="整改")
    await ok(hall, case, "feedback", note="已告知")
    await ok(hall, case, "revisit", satisfied=False, note="不满意")
    status, answer = await step(hall, case, "rectify", kind="explain", note="说明")
    assert status == 409 and answer["error"]["code"] == "rectify_required"


async def test_a_citizen_who_cannot_be_reached_closes_after_documented_attempts(hall: HallClient):
    case = await bad_case(hall)
    await ok(hall, case, "verify", outcome="partly", reached=False, note="三次未接通,据录像核实部分属实")
    assert (
        stages((await hall.get(f"/api/bad-reviews/{case['id']}", await hall.viewer()))[1])["verify"]["contact_name"]
        == "未联系上"
    )
    await ok(hall, case, "rectify", kind="rectify", note="整改")
    await ok(hall, case, "feedback", note="短信告知")
    status, answer = await step(hall, case, "revisit", reached=False, attempts=2, note="两次未接")
    assert status == 400 and answer["error"]["code"] == "attempts_required" and "3" in answer["error"]["message"]
    status, answer = await step(hall, case, "revisit", reached=False, attempts=3)
    assert status == 400 and answer["error"]["code"] == "note_required"
    done = await ok(hall, case, "revisit", reached=False, attempts=3, note="11-30 9:00、14:00,12-01 10:00 均未接通")
    assert (done["status"], done["result"], done["result_name"]) == ("closed", "unreached", "多次联系不上")
    r = stages(done)["revisit"]
    assert (r["attempts"], r["contact"], r["satisfied"]) == (3, "unreached", None)


async def test_an_anonymous_review_records_that_it_cannot_be_called_back(hall: HallClient):
    case = await bad_case(hall, rater=None)
    assert case["real_name"] is False and case["rating"]["rater"]["anonymous"] is True
    status, answer = await step(hall, case, "verify", outcome="true", reached=True, note="x")
    assert status == 409 and answer["error"]["code"] == "rater_anonymous"
    done = await ok(hall, case, "verify", outcome="true", note="据录像核实属实")
    assert stages(done)["verify"]["contact_name"] == "无法联系(匿名)"
    await ok(hall, case, "rectify", kind="rectify", note="整改")
    done = await ok(hall, case, "feedback", note="整改结果已存档")
    assert stages(done)["feedback"]["contact"] == "anonymous"
    status, answer = await step(hall, case, "revisit", satisfied=True, note="x")
    assert status == 409 and answer["error"]["code"] == "rater_anonymous"
    status, answer = await step(hall, case, "revisit")
    assert status == 400 and answer["error"]["code"] == "note_required"
    done = await ok(hall, case, "revisit", note="匿名评价,无法回访")
    assert (done["status"], done["result"], stages(done)["revisit"]["contact_name"]) == (
        "closed", "anonymous", "无法联系(匿名)"
    )  # fmt: skip


async def test_overdue_stages_are_flagged_and_escalated_once_each(hall: HallClient):
    case = await bad_case(hall)  # verify due Tuesday 09:05
    late = await bad_case(hall)
    manager = await hall.viewer()
    first_event = await hall.db.fetchval("SELECT MAX(id) FROM events")

    async def overdue_events() -> list[tuple[int, str]]:
        rows = await hall.db.fetchall("SELECT payload FROM events WHERE id > ? AND type = 'bad_review.overdue'",
                                      (first_event,))  # fmt: skip
        return [(p["case"]["id"], p["stage"]) for p in (json.loads(r["payload"]) for r in rows)]

    await ok(hall, late, "verify", outcome="true", note="属实")  # `late` waits for its rectification (Dec 15)
    hall.clock.set(at("2026-11-24 09:04"))
    await tasks.sweep_once(hall.app)
    assert await overdue_events() == []
    hall.clock.set(at("2026-11-24 09:06"))
    await tasks.sweep_once(hall.app)
    await tasks.sweep_once(hall.app)  # a second sweep escalates nothing twice
    assert await overdue_events() == [(case["id"], "verify")]
    status, listed = await hall.get("/api/bad-reviews?status=overdue", manager)
    assert status == 200 and [c["id"] for c in listed["cases"]] == [case["id"]]
    listed = (await hall.get("/api/bad-reviews", manager))[1]["cases"]
    assert [c["id"] for c in listed] == [case["id"], late["id"]]  # overdue first
    flagged = listed[0]
    assert flagged["overdue"] and flagged["overdue_stage"] == "verify"
    assert flagged["escalated_at"] == "2026-11-24T09:06:00+08:00" == stages(flagged)["verify"]["escalated_at"]
    assert flagged["history"][-1]["action"] == "overdue" and flagged["history"][-1]["action_name"] == "超期,已督办"

    done = await ok(hall, case, "verify", outcome="true", note="迟了一些")  # done late: the flag clears
    assert done["overdue_stage"] is None and done["overdue"] is False and stages(done)["verify"]["late"] is True
    assert stages(done)["verify"]["escalated_at"] == "2026-11-24T09:06:00+08:00"

    hall.clock.set(at("2026-12-15 09:11"))  # both rectifications (due 09:05 and 09:10) are now late
    await tasks.sweep_once(hall.app)
    await tasks.sweep_once(hall.app)
    assert sorted(await overdue_events()) == sorted(
        [(case["id"], "verify"), (case["id"], "rectify"), (late["id"], "rectify")]
    )
    await ok(hall, case, "rectify", kind="rectify", note="整改")  # feedback due Dec 17 09:11
    hall.clock.set(at("2026-12-17 09:10"))
    await tasks.sweep_once(hall.app)
    assert len(await overdue_events()) == 3
    hall.clock.set(at("2026-12-17 09:12"))
    await tasks.sweep_once(hall.app)
    assert (await overdue_events())[-1] == (case["id"], "feedback")
    assert len(await overdue_events()) == 4


@pytest.fixture
def fast_sweep(monkeypatch):
    monkeypatch.setattr(tasks, "SWEEP_S", 0.02)


async def test_the_background_sweep_escalates_on_the_app_clock(fast_sweep, hall: HallClient):
    case = await bad_case(hall)
    hall.clock.set(at("2026-11-25 09:00"))
    for _ in range(250):  # the sweep started with the app and sleeps SWEEP_S between rounds
        if await hall.db.fetchval("SELECT overdue_stage FROM bad_reviews WHERE id = ?", (case["id"],)):
            break
        await asyncio.sleep(0.02)
    status, one = await hall.get(f"/api/bad-reviews/{case['id']}", await hall.viewer())
    assert one["overdue_stage"] == "verify" and one["escalated_at"] == "2026-11-25T09:00:00+08:00"


async def test_a_follow_up_rating_only_once_after_the_case_is_closed(hall: HallClient):
    case = await bad_case(hall)
    token = case["ticket"]["token"]

    async def follow_up(grade: int = 4) -> tuple[int, dict]:
        return await hall.post("/api/ratings", {"ticket_token": token, "grade": grade})

    for stage, body in (
        ("verify", {"outcome": "true", "note": "属实"}),
        ("rectify", {"kind": "rectify", "note": "整改"}),
        ("feedback", {"note": "已告知"}),
    ):
        await ok(hall, case, stage, **body)
        status, answer = await follow_up()
        assert status == 409 and answer["error"]["code"] == "already_rated", stage
    await ok(hall, case, "revisit", satisfied=True)
    status, answer = await follow_up(4)
    assert status == 201 and answer["kind"] == "follow_up" and answer["grade"] == 4
    status, answer = await follow_up(5)
    assert status == 409 and answer["error"]["code"] == "already_rated"
    cases = await hall.db.fetchval("SELECT COUNT(*) FROM bad_reviews")
    assert cases == 1


async def test_a_voided_bad_rating_voids_its_case(hall: HallClient):
    case = await bad_case(hall)
    await ok(hall, case, "verify", outcome="mistaken", note="群众误点")
    manager = await hall.viewer()
    status, _ = await hall.post(f"/api/ratings/{case['rating']['id']}/void", {"reason": "误评,已申诉"}, manager)
    assert status == 200
    status, one = await hall.get(f"/api/bad-reviews/{case['id']}", manager)
    assert (one["status"], one["stage"], one["result"], one["overdue"]) == ("void", None, "void", False)
    assert one["rating"]["voided"] is True and one["history"][-1]["action"] == "voided"
    status, answer = await step(hall, case, "feedback", note="x")
    assert status == 409 and answer["error"]["code"] == "case_void"
    hall.clock.set(at("2026-12-31 09:00"))
    await tasks.sweep_once(hall.app)
    assert await hall.db.fetchval("SELECT COUNT(*) FROM events WHERE type = 'bad_review.overdue'") == 0
    listed = (await hall.get("/api/bad-reviews?status=void", manager))[1]["cases"]
    assert [c["id"] for c in listed] == [case["id"]]
    assert (await hall.get("/api/bad-reviews?status=active", manager))[1]["cases"] == []


async def test_the_list_filters_by_status_department_and_day(hall: HallClient):
    a = await bad_case(hall, no=1)  # Monday, 行政服务中心
    await ok(hall, a, "verify", outcome="true", note="属实")  # rectification due Dec 15
    hall.clock.set(at("2026-11-24 10:00"))
    c = await bad_case(hall, no=4)  # Tuesday, 人力社保局: verification due Wednesday
    manager = await hall.viewer()

    async def ids(query: str) -> list[int]:
        status, body = await hall.get(f"/api/bad-reviews?{query}", manager)
        assert status == 200, body
        return [x["id"] for x in body["cases"]]

    assert await ids("") == [c["id"], a["id"]]  # the nearest deadline first
    assert await ids("status=open") == [c["id"]]
    assert await ids("status=verified") == [a["id"]]
    assert await ids("status=active") == [c["id"], a["id"]]
    assert await ids("status=closed") == []
    assert await ids("department=人力社保局") == [c["id"]]
    assert await ids("from=2026-11-24") == [c["id"]]
    assert await ids("to=2026-11-23") == [a["id"]]
    assert await ids("from=2026-11-23&to=2026-11-24") == [c["id"], a["id"]]
    assert await ids("overdue=1") == [] and await ids("status=overdue") == []
    status, body = await hall.get("/api/bad-reviews?limit=1&offset=1", manager)
    assert [x["id"] for x in body["cases"]] == [a["id"]] and body["total"] == 2


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ("status=done", "invalid_field", "status"),
        ("overdue=maybe", "invalid_field", "overdue"),
        ("from=2026-13-01", "invalid_date", "from"),
        ("from=2026-11-24&to=2026-11-23", "invalid_range", "from"),
        ("limit=0", "invalid_field", "limit"),
    ],
)
async def test_bad_list_queries(hall: HallClient, query, code, field):
    status, body = await hall.get(f"/api/bad-reviews?{query}", await hall.viewer())
    assert status == 400 and (body["error"]["code"], body["error"]["field"]) == (code, field)


async def test_only_managers_work_the_cases(hall: HallClient):
    case = await bad_case(hall)
    staff = await hall.user("staff")
    assert (await hall.get("/api/bad-reviews", staff))[0] == 403
    assert (await hall.get(f"/api/bad-reviews/{case['id']}", staff))[0] == 403
    status, answer = await step(hall, case, "verify", staff, outcome="false", note="x")
    assert status == 403 and answer["error"]["code"] == "forbidden"
    assert (await hall.get(f"/api/bad-reviews/{case['id']}", await hall.viewer()))[1]["status"] == "open"
