"""Cases (工单) through the API as the desk, the departments and the citizen use them."""

from __future__ import annotations

from hall.callcenter import tasks

from ..conftest import at
from ..helpers import HallClient
from .helpers import LAND, SOCIAL, case_by_no, desk, move, web_case


async def test_a_complaint_from_the_web_form_to_closed_after_a_return_visit(hall: HallClient):
    people = await desk(hall)
    agent, land, social = people["agent"], people["land"], people["social"]
    given = await web_case(hall)
    assert given["no"] == "2026112300001" and given["status"] == "registered"  # the number the citizen quotes
    case = await case_by_no(hall, agent, given["no"])
    assert case["contact"] == {"name": "张**", "phone": "138****8000", "wechat": None, "email": None, "masked": True}
    # 5 working days: Tue 24, Wed 25, Thu 26, (the hall is closed on Friday 27), Mon 30, Tue 1 Dec
    assert case["type_name"] == "投诉" and case["due_at"] == "2026-12-01T09:00:00+08:00"

    cid = case["id"]
    await move(hall, agent, cid, "accept")
    case = await move(hall, agent, cid, "dispatch", departments=[LAND, SOCIAL], instructions="请核实窗口一次性告知情况")
    assert case["status"] == "dispatched" and [d["department"] for d in case["dispatches"]] == [LAND, SOCIAL]
    await move(hall, land, cid, "sign")
    assert (await move(hall, social, cid, "sign"))["status"] == "signed"
    case = await move(hall, land, cid, "feedback", answer="已调阅录像,窗口未一次性告知,已批评教育")
    assert case["status"] == "signed"  # 社保 has not answered yet
    case = await move(hall, social, cid, "feedback", answer="本部门无相关业务")
    assert case["status"] == "fed_back"

    # The agent sends the answers back once, then approves them.
    case = await move(hall, agent, cid, "review", approve=False, note="请写明整改措施")
    assert case["status"] == "signed" and {d["status"] for d in case["dispatches"]} == {"signed"}
    await move(hall, land, cid, "feedback", answer="已批评教育,并组织一次性告知制度培训")
    await move(hall, social, cid, "feedback", answer="本部门无相关业务")
    assert (await move(hall, agent, cid, "review", approve=True))["status"] == "reviewed"

    # No closing without a return visit.
    status, refused = await hall.post(f"/api/cases/{cid}/close", {}, agent)
    assert status == 409 and refused["error"]["code"] == "return_visit_required"
    case = await move(hall, agent, cid, "return-visit", reached=False, note="无人接听")
    assert case["status"] == "reviewed" and case["visit_attempts"] == 1 and case["visit_owed"]
    case = await move(hall, agent, cid, "return-visit", reached=True, satisfied=True)
    assert case["status"] == "visited" and case["visit_result"] == "satisfied"
    case = await move(hall, agent, cid, "close", note="市民满意")
    assert case["status"] == "closed" and case["closed_at"]

    actions = [h["action"] for h in case["history"]]
    assert actions == ["register", "accept", "dispatch", "sign", "sign", "feedback", "feedback", "review", "feedback",
                       "feedback", "review", "return-visit", "return-visit", "close"]  # fmt: skip
    assert case["history"][5]["by"] == "王不动产" and case["visits"][1] == {
        "round": 1, "at": "2026-11-23T09:00:00+08:00", "by": "李坐席", "reached": True, "satisfied": True, "note": ""
    }  # fmt: skip
    assert [m["body"] for m in case["messages"]] == ["窗口让我来回跑了三次,材料一次没说清楚"]
    events = await hall.event_types()
    assert events.count("case.sign") == 2 and "case.close" in events and "case.registered" in events
    _, listed = await hall.get("/api/events", agent)
    assert "13800138000" not in str(listed) and "张三丰" not in str(listed)  # contacts stay out of the log


async def test_departments_see_and_act_on_their_own_cases_only(hall: HallClient):
    people = await desk(hall)
    agent, land, social = people["agent"], people["land"], people["social"]
    cid = (await case_by_no(hall, agent, (await web_case(hall))["no"]))["id"]
    await move(hall, agent, cid, "accept")
    await move(hall, agent, cid, "dispatch", departments=[LAND])
    assert (await hall.get(f"/api/cases/{cid}", social))[0] == 403
    status, listed = await hall.get("/api/cases", social)
    assert status == 200 and listed["cases"] == []
    status, listed = await hall.get("/api/cases", land)
    assert [c["id"] for c in listed["cases"]] == [cid]
    status, refused = await hall.post(f"/api/cases/{cid}/sign", {}, social)
    assert status == 403 and refused["error"]["code"] == "not_your_case"
    status, refused = await hall.post(f"/api/cases/{cid}/sign", {}, agent)
    assert status == 403 and refused["error"]["code"] == "forbidden"  # agents do not sign for departments
    status, refused = await hall.post(f"/api/cases/{cid}/review", {"approve": True}, land)
    assert status == 403
    assert (await hall.get(f"/api/cases/{cid}/contact", land))[0] == 403  # departments never see it whole
    staff = await hall.user("staff")
    assert (await hall.get("/api/cases", staff))[0] == 403
    assert (await hall.get("/api/cases"))[0] == 401


async def test_a_department_returns_its_share_and_the_agent_dispatches_again(hall: HallClient):
    people = await desk(hall)
    agent, social = people["agent"], people["social"]
    cid = (await case_by_no(hall, agent, (await web_case(hall))["no"]))["id"]
    await move(hall, agent, cid, "accept")
    await move(hall, agent, cid, "dispatch", departments=[SOCIAL])
    status, refused = await hall.post(f"/api/cases/{cid}/return", {}, social)
    assert status == 400 and refused["error"]["code"] == "field_required"  # a reason is required
    case = await move(hall, social, cid, "return", reason="不属于本部门职责,应由不动产登记中心办理")
    assert case["status"] == "accepted" and case["dispatches"][0]["status"] == "returned"
    case = await move(hall, agent, cid, "dispatch", departments=[LAND])
    assert case["status"] == "dispatched" and [d["status"] for d in case["dispatches"]] == ["returned", "pending"]


async def test_an_unsatisfied_citizen_reopens_the_case(hall: HallClient):
    agent = (await desk(hall))["agent"]
    cid = (await case_by_no(hall, agent, (await web_case(hall, type="consult"))["no"]))["id"]
    await move(hall, agent, cid, "accept")
    case = await move(hall, agent, cid, "feedback", answer="需携带身份证和户口本原件")
    assert case["status"] == "answered"  # answered directly by the agent
    case = await move(hall, agent, cid, "return-visit", reached=True, satisfied=False, note="市民认为答复不完整")
    assert (case["status"], case["round"], case["visit_owed"]) == ("accepted", 2, False)
    assert case["history"][-1]["action"] == "reopen"
    await move(hall, agent, cid, "feedback", answer="补充:还需近期一寸照片两张")
    for _ in range(3):  # three documented failed calls: visited, unreached
        case = await move(hall, agent, cid, "return-visit", reached=False, note="电话关机")
    assert (case["status"], case["visit_result"]) == ("visited", "unreached")
    assert (await move(hall, agent, cid, "close"))["status"] == "closed"


async def test_illegal_moves_and_bad_input_are_refused_clearly(hall: HallClient):
    people = await desk(hall)
    agent = people["agent"]
    status, body = await hall.post("/api/cases", {"type": "complaint", "content": "没有联系方式"})
    assert status == 400 and body["error"]["code"] == "contact_required"
    status, body = await hall.post("/api/cases", {"type": "gossip", "content": "x", "phone": "13800138000"})
    assert status == 400 and body["error"]["field"] == "type"
    status, body = await hall.post("/api/cases", {"type": "consult", "content": "x", "phone": "123"})
    assert status == 400 and body["error"]["field"] == "phone"
    assert await hall.db.fetchval("SELECT COUNT(*) FROM cases") == 0  # nothing half-written
    cid = (await case_by_no(hall, agent, (await web_case(hall))["no"]))["id"]
    status, body = await hall.post(f"/api/cases/{cid}/dispatch", {"departments": [LAND]}, agent)
    assert status == 409 and body["error"]["code"] == "illegal_move" and "登记" in body["error"]["message"]
    await move(hall, agent, cid, "accept")
    status, body = await hall.post(f"/api/cases/{cid}/dispatch", {"departments": ["外星局"]}, agent)
    assert status == 400 and body["error"]["code"] == "unknown_department"
    status, body = await hall.post(f"/api/cases/{cid}/dispatch", {"departments": []}, agent)
    assert status == 400 and body["error"]["code"] == "field_required"
    assert (await hall.post("/api/cases/999/accept", {}, agent))[0] == 404
    assert (await hall.get("/api/cases/abc", agent))[0] == 404


async def test_working_day_deadlines_across_the_national_day_and_an_extension(hall: HallClient):
    people = await desk(hall)
    agent, land = people["agent"], people["land"]
    hall.clock.set(at("2026-09-30 10:00"))  # the eve of the National Day week
    cid = (await case_by_no(hall, agent, (await web_case(hall))["no"]))["id"]
    case = (await hall.get(f"/api/cases/{cid}", agent))[1]
    # Oct 1–7 off; Oct 8, 9, Saturday Oct 10 (a make-up day), Monday 12, Tuesday 13.
    assert case["due_at"] == "2026-10-13T10:00:00+08:00"
    await move(hall, agent, cid, "accept")
    await move(hall, agent, cid, "dispatch", departments=[LAND])
    await move(hall, land, cid, "sign")
    case = await move(hall, land, cid, "extend", days=3, reason="需调取档案")
    assert case["due_at"] == "2026-10-13T10:00:00+08:00" and case["dispatches"][0]["extension_requested"] == 3
    case = await move(hall, agent, cid, "extend", approve=True)
    assert case["due_at"] == "2026-10-16T10:00:00+08:00"  # Wednesday 14, Thursday 15, Friday 16
    status, body = await hall.post(f"/api/cases/{cid}/extend", {"approve": True}, agent)
    assert status == 409 and body["error"]["code"] == "no_extension_requested"


async def test_late_cases_are_warned_then_flagged_overdue_and_escalated_once(hall: HallClient):
    agent = (await desk(hall))["agent"]
    cid = (await case_by_no(hall, agent, (await web_case(hall, type="consult"))["no"]))["id"]  # due Tue 09:00
    hall.clock.set(at("2026-11-24 05:00"))  # past 80 % of the time
    await tasks.sweep_once(hall.app)
    case = (await hall.get(f"/api/cases/{cid}", agent))[1]
    assert case["warning"] and not case["overdue"] and case["escalations"] == 0
    hall.clock.set(at("2026-11-24 09:01"))
    await tasks.sweep_once(hall.app)
    await tasks.sweep_once(hall.app)  # a second sweep changes nothing
    case = (await hall.get(f"/api/cases/{cid}", agent))[1]
    assert case["overdue"] and case["escalations"] == 1
    assert [h["action"] for h in case["history"]][-3:] == ["warning", "overdue", "escalate"]
    _, overview = await hall.get("/api/desk/overview", agent)
    assert [c["id"] for c in overview["overdue"]] == [cid]
    events = await hall.event_types()
    assert events.count("case.overdue") == 1 and events.count("case.escalate") == 1


async def test_the_contact_is_revealed_only_through_an_audited_read(hall: HallClient):
    agent = (await desk(hall))["agent"]
    cid = (await case_by_no(hall, agent, (await web_case(hall))["no"]))["id"]
    status, contact = await hall.get(f"/api/cases/{cid}/contact?purpose=回访", agent)
    assert status == 200 and contact["phone"] == "13800138000" and contact["name"] == "张三丰"
    reads = await hall.db.fetchall("SELECT case_id, purpose FROM contact_reads")
    assert [(r["case_id"], r["purpose"]) for r in reads] == [(cid, "回访")]


async def test_a_type_that_is_not_a_string_is_refused_not_a_crash(hall: HallClient):
    """Found by schemathesis: `"type": {}` raised TypeError (a 500) in the membership test."""
    status, answer = await hall.post("/api/cases", {"type": {}, "content": "窗口不开", "phone": "13800138000"})
    assert status == 400 and answer["error"]["field"] == "type", answer
    agent = await hall.user("agent")
    case = await case_by_no(hall, agent, (await web_case(hall))["no"])
    status, answer = await hall.post(f"/api/cases/{case['id']}/accept", {"type": []}, agent)
    assert status == 400 and answer["error"]["field"] == "type", answer
