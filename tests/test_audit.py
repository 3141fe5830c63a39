"""Who read personal data unmasked: one log over the audited reveals, for managers."""

from __future__ import annotations

from .callcenter.helpers import case_by_no, desk, web_case
from .evaluation.test_cases import bad_case
from .helpers import HallClient


async def test_every_unmasked_read_is_listed_with_who_when_what_and_why(hall: HallClient):
    review = await bad_case(hall)  # a real-name bad rating
    people = await desk(hall)
    case = await case_by_no(hall, people["agent"], (await web_case(hall))["no"])
    await hall.create_user("zhou", "manager", display_name="周主任")
    zhou = await hall.login("zhou")
    assert (await hall.get(f"/api/ratings/{review['rating']['id']}/rater?purpose=差评核实", zhou))[0] == 200
    hall.clock.advance(60)
    assert (await hall.get(f"/api/cases/{case['id']}/contact?purpose=回访", people["agent"]))[0] == 200

    status, log = await hall.get("/api/audit/personal-reads", zhou)
    assert status == 200
    assert [(r["kind"], r["record_id"], r["purpose"], r["user"]["name"]) for r in log["reads"]] == [
        ("contact", case["id"], "回访", "李坐席"),
        ("rater", review["rating"]["id"], "差评核实", "周主任"),
    ]  # newest first
    assert log["reads"][0]["at"] == "2026-11-23T09:06:00+08:00"
    status, only = await hall.get(f"/api/audit/personal-reads?user={log['reads'][1]['user']['id']}", zhou)
    assert [r["kind"] for r in only["reads"]] == ["rater"]
    assert "13800138000" not in str(log)  # the log names the record, never the data

    async with hall.client.get("/manage/audit", headers=zhou) as resp:
        page = await resp.text()
        assert resp.status == 200 and "李坐席" in page and "工单联系人" in page and "差评核实" in page
    status, refused = await hall.get("/api/audit/personal-reads?from=2026-11-30&to=2026-11-01", zhou)
    assert status == 400 and refused["error"]["code"] == "invalid_range"
    assert (await hall.get("/api/audit/personal-reads", people["agent"]))[0] == 403
    assert (await hall.get("/api/audit/personal-reads"))[0] == 401
