"""Issuing tickets through the API, as a kiosk, reception staff or a phone would."""

import asyncio

from ..conftest import at
from ..helpers import HallClient

ELDER_ID = "110101195001011239"  # born 1950-01-01
YOUNG_ID = "330802199003074528"  # born 1990-03-07


async def test_numbers_run_per_section_from_001(hall: HallClient):
    numbers = [(await hall.issue(s))["number"] for s in ("A", "A", "B", "A", "B", "C")]
    assert numbers == ["A001", "A002", "B001", "A003", "B002", "C001"]


async def test_answer_tells_people_ahead_estimated_wait_and_secret_token(hall: HallClient):
    first = await hall.issue("A")
    second = await hall.issue("A")
    assert first["status"] == "waiting" and first["ahead"] == 0
    assert second["ahead"] == 1
    # No service measured yet: 10 min default × 1 ahead ÷ 2 windows serving A (none open yet)
    assert second["estimated_wait_s"] == 300
    assert len(second["token"]) >= 16 and second["token"] != first["token"]
    assert second["windows"] == [1, 2]
    status, seen = await hall.get(f"/api/tickets/{second['id']}?token={second['token']}")
    assert status == 200 and seen["number"] == "A002" and seen["ahead"] == 1


async def test_estimate_uses_recent_service_times_and_open_windows(hall: HallClient):
    staff = await hall.staff_at(1)
    for _ in range(2):  # two services of 4 and 6 minutes: average 5 minutes
        await hall.issue("A")
    await hall.call(staff, 1)
    hall.clock.advance(240)
    await hall.act(staff, 1, "finish")
    await hall.call(staff, 1)
    hall.clock.advance(360)
    await hall.act(staff, 1, "finish")
    for _ in range(3):
        await hall.issue("A")
    fourth = await hall.issue("A")
    # 3 ahead × 300 s ÷ 1 open window serving A
    assert fourth["ahead"] == 3 and fourth["estimated_wait_s"] == 900


async def test_a_double_tap_with_the_same_request_id_gives_the_same_ticket(hall: HallClient):
    kiosk = await hall.kiosk()
    body = {"section": "A", "request_id": "kiosk1-0001"}
    first = await hall.post("/api/tickets", body, kiosk)
    again = await hall.post("/api/tickets", body, kiosk)
    assert first[0] == 201 and again[0] == 200
    assert again[1]["id"] == first[1]["id"] and again[1]["number"] == "A001"
    assert again[1]["token"] == first[1]["token"]
    assert (await hall.counts())[0] == 1


async def test_concurrent_double_tap_still_makes_one_ticket(hall: HallClient):
    kiosk = await hall.kiosk()
    body = {"section": "B", "request_id": "tap-42"}
    answers = await asyncio.gather(*(hall.post("/api/tickets", body, kiosk) for _ in range(10)))
    assert sorted(s for s, _ in answers) == [200] * 9 + [201]
    assert {b["number"] for _, b in answers} == {"B001"}


async def test_request_id_reused_for_another_section_is_refused(hall: HallClient):
    kiosk = await hall.kiosk()
    await hall.post("/api/tickets", {"section": "A", "request_id": "r1"}, kiosk)
    status, body = await hall.post("/api/tickets", {"section": "C", "request_id": "r1"}, kiosk)
    assert status == 409 and body["error"]["code"] == "request_id_reused"


async def test_request_ids_of_different_kiosks_do_not_collide(hall: HallClient):
    one, two = await hall.device("kiosk"), await hall.device("kiosk")
    a = await hall.post("/api/tickets", {"section": "A", "request_id": "1"}, one)
    b = await hall.post("/api/tickets", {"section": "A", "request_id": "1"}, two)
    assert (a[0], b[0]) == (201, 201) and a[1]["number"] != b[1]["number"]


async def test_outside_issuing_hours_is_refused_with_the_next_opening(hall: HallClient):
    hall.clock.set(at("2026-11-23 12:10"))  # lunch break
    status, body = await hall.post("/api/tickets", {"section": "A"}, await hall.kiosk())
    assert status == 409 and body["error"]["code"] == "section_closed"
    assert "08:30-12:00、13:30-17:00" in body["error"]["message"]
    assert body["error"]["opens_at"] == "2026-11-23T13:30:00+08:00"
    hall.clock.set(at("2026-11-23 13:30"))
    assert (await hall.issue("A"))["number"] == "A001"


async def test_holidays_and_local_closures_are_closed_days(hall: HallClient):
    kiosk = await hall.kiosk()
    hall.clock.set(at("2026-10-01 10:00"))  # National Day
    status, body = await hall.post("/api/tickets", {"section": "A"}, kiosk)
    assert status == 409 and body["error"]["code"] == "section_closed"
    status, _ = await hall.post("/api/tickets", {"section": "C"}, kiosk)  # C issues daily, around the clock
    assert status == 201
    hall.clock.set(at("2026-11-27 10:00"))  # a Friday the test hall closes (closed_dates): every section
    for section in ("A", "C"):
        status, body = await hall.post("/api/tickets", {"section": section}, kiosk)
        assert status == 409 and body["error"]["code"] == "section_closed"
    assert body["error"]["opens_at"] == "2026-11-28T00:00:00+08:00"
    status, body = await hall.post("/api/tickets", {"section": "A"}, kiosk)
    assert body["error"]["opens_at"] == "2026-11-30T08:30:00+08:00"  # A: after the weekend


async def test_make_up_working_day_issues_numbers(hall: HallClient):
    hall.clock.set(at("2026-10-10 09:00"))  # a Saturday worked in exchange for the National Day week (调休)
    assert (await hall.issue("A"))["number"] == "A001"
    hall.clock.set(at("2026-11-28 09:00"))  # an ordinary Saturday
    status, body = await hall.post("/api/tickets", {"section": "A"}, await hall.kiosk())
    assert status == 409 and body["error"]["code"] == "section_closed"


async def test_daily_cap_refuses_more_and_warns_before(hall: HallClient):
    for _ in range(5):
        await hall.issue("B")
    status, body = await hall.post("/api/tickets", {"section": "B"}, await hall.kiosk())
    assert status == 409 and body["error"]["code"] == "daily_cap_reached"
    types = await hall.event_types()
    assert types.count("section.nearly_full") == 1 and types.count("section.full") == 1
    assert types.index("section.nearly_full") < types.index("section.full")
    _, overview = await hall.get("/api/hall", await hall.viewer())
    b = next(s for s in overview["sections"] if s["id"] == "B")
    assert (b["state"], b["remaining"], b["warning"]) == ("full", 0, True)


async def test_same_id_number_cannot_hold_two_unfinished_tickets_in_a_section(hall: HallClient):
    await hall.issue("A", id_number=YOUNG_ID)
    status, body = await hall.post("/api/tickets", {"section": "A", "id_number": YOUNG_ID}, await hall.kiosk())
    assert status == 409 and body["error"]["code"] == "already_holding_ticket"
    assert (await hall.issue("C", id_number=YOUNG_ID))["number"] == "C001"  # another section is fine
    staff = await hall.staff_at(1)
    await hall.call(staff, 1)
    await hall.act(staff, 1, "finish")
    assert (await hall.issue("A", id_number=YOUNG_ID))["number"] == "A002"  # once served, again


async def test_elderly_lane_from_the_id_number(hall: HallClient):
    auto = await hall.issue("A", id_number=ELDER_ID)
    assert auto["priority"] == "elderly" and auto["priority_name"] == "老年人"
    kiosk = await hall.kiosk()
    status, body = await hall.post(
        "/api/tickets", {"section": "C", "priority": "elderly", "id_number": YOUNG_ID}, kiosk
    )
    assert status == 400 and body["error"]["code"] == "priority_not_eligible"
    status, body = await hall.post("/api/tickets", {"section": "C", "priority": "elderly"}, kiosk)
    assert status == 400 and body["error"]["code"] == "priority_not_eligible"


async def test_reception_staff_may_vouch_for_priority_lanes(hall: HallClient):
    staff = await hall.user("staff")
    for lane in ("elderly", "disabled", "military", "pregnant"):
        status, body = await hall.post("/api/tickets", {"section": "C", "priority": lane}, staff)
        assert status == 201 and body["priority"] == lane and body["channel"] == "reception"
    status, body = await hall.post("/api/tickets", {"section": "C", "priority": "vip"}, staff)
    assert status == 400 and body["error"]["field"] == "priority"


async def test_priority_ticket_is_ahead_of_ordinary_ones(hall: HallClient):
    for _ in range(3):
        await hall.issue("A")
    elder = await hall.issue("A", priority="disabled")
    assert elder["ahead"] == 0
    later = await hall.issue("A")
    assert later["ahead"] == 4


async def test_a_citizen_s_request_id_cannot_be_replayed_by_someone_else(hall: HallClient):
    mine = {"section": "C", "request_id": "r-1", "phone": "13800138000"}
    first = await hall.post("/api/tickets", mine)
    again = await hall.post("/api/tickets", mine)
    assert (first[0], again[0]) == (201, 200) and again[1]["token"] == first[1]["token"]
    status, other = await hall.post("/api/tickets", {**mine, "phone": "13900139000"})
    assert status == 201 and other["id"] != first[1]["id"] and other["token"] != first[1]["token"]


async def test_staff_record_how_the_citizen_asked(hall: HallClient):
    staff = await hall.user("staff")
    status, body = await hall.post("/api/tickets", {"section": "C", "channel": "phone"}, staff)
    assert status == 201 and body["channel"] == "phone"
    status, body = await hall.post("/api/tickets", {"section": "C", "channel": "web"}, staff)
    assert status == 400 and body["error"]["field"] == "phone"  # a remote ticket still needs the phone
    status, body = await hall.post("/api/tickets", {"section": "C", "channel": "appointment"}, staff)
    assert status == 400 and body["error"]["field"] == "channel"


async def test_remote_ticket_needs_a_phone_and_is_masked_in_answers(hall: HallClient):
    status, body = await hall.post("/api/tickets", {"section": "C", "channel": "wechat"})
    assert status == 400 and body["error"]["field"] == "phone"
    status, body = await hall.post("/api/tickets", {"section": "C", "channel": "wechat", "phone": "138 0013 8000"})
    assert status == 201 and body["channel"] == "wechat" and body["phone"] == "138****8000"
    status, body = await hall.post("/api/tickets", {"section": "C", "phone": "13800138000"})
    assert status == 409 and body["error"]["code"] == "already_holding_ticket"


async def test_id_number_is_masked_everywhere_it_is_shown(hall: HallClient):
    ticket = await hall.issue("A", id_number=YOUNG_ID, phone="13912345678")
    assert ticket["id_number"] == "3308**********4528" and ticket["phone"] == "139****5678"
    _, listed = await hall.get("/api/tickets", await hall.viewer())
    assert YOUNG_ID not in str(listed) and "13912345678" not in str(listed)
    _, events = await hall.get("/api/events", await hall.viewer())
    assert YOUNG_ID not in str(events) and "13912345678" not in str(events)
    issued = next(e for e in events["events"] if e["type"] == "ticket.issued")
    assert set(issued["payload"]["ticket"]) == {
        "id",
        "number",
        "section",
        "status",
        "priority",
        "window",
        "window_name",
    }


async def test_only_kiosks_staff_and_remote_citizens_issue(hall: HallClient):
    screen = await hall.device("display")
    status, body = await hall.post("/api/tickets", {"section": "A"}, screen)
    assert status == 403 and body["error"]["code"] == "forbidden"
    kiosk = await hall.kiosk()
    status, body = await hall.post("/api/tickets", {"section": "A", "channel": "web"}, kiosk)
    assert status == 400 and body["error"]["field"] == "channel"


async def test_citizen_cancels_with_the_token(hall: HallClient):
    ticket = await hall.issue("A")
    status, body = await hall.post(f"/api/tickets/{ticket['id']}/cancel", {"token": "wrong"})
    assert status == 404
    status, body = await hall.post(f"/api/tickets/{ticket['id']}/cancel", {"token": ticket["token"]})
    assert status == 200 and body["status"] == "cancelled"
    assert "ticket.cancelled" in await hall.event_types()
