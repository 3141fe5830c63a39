"""Window actions as staff at a window use them: open, call, recall, … finish."""

from ..helpers import HallClient


async def test_open_signs_the_staff_member_in_and_close_signs_out(hall: HallClient):
    staff = await hall.user("staff", staff_no="1001", display_name="李娜")
    status, body = await hall.act(staff, 2, "open")
    assert status == 200
    assert body["window"]["state"] == "open"
    assert body["window"]["staff"] == {"id": body["window"]["staff"]["id"], "name": "李娜", "staff_no": "1001"}
    status, body = await hall.act(staff, 2, "close")
    assert status == 200 and body["window"]["state"] == "closed" and body["window"]["staff"] is None
    assert await hall.event_types() == [
        *["window.added"] * 4,
        "user.created",
        "session.opened",
        "window.opened",
        "window.closed",
    ]


async def test_one_window_per_staff_member_and_one_staff_member_per_window(hall: HallClient):
    first = await hall.staff_at(1)
    second = await hall.user("staff")
    status, body = await hall.act(second, 1, "open")
    assert status == 409 and body["error"]["code"] == "window_taken"
    status, body = await hall.act(first, 2, "open")
    assert status == 409 and body["error"]["code"] == "already_at_window"


async def test_actions_need_the_staff_member_signed_in_at_that_window(hall: HallClient):
    await hall.staff_at(1)
    other = await hall.user("staff")
    for action in ("pause", "resume", "call", "recall", "start", "no-show", "hold", "finish", "close"):
        status, body = await hall.act(other, 1, action)
        assert status == 403 and body["error"]["code"] == "not_at_window", action


async def test_a_manager_may_close_a_window_someone_else_left_open(hall: HallClient):
    await hall.staff_at(3)
    manager = await hall.user("manager")
    status, body = await hall.act(manager, 3, "close")
    assert status == 200 and body["window"]["state"] == "closed"


async def test_call_next_gives_the_oldest_ticket_and_204_when_nobody_waits(hall: HallClient):
    staff = await hall.staff_at(2)
    assert await hall.call(staff, 2) is None
    await hall.issue("A")
    hall.clock.advance(5)
    await hall.issue("B")
    ticket = await hall.call(staff, 2)
    assert ticket["number"] == "A001" and ticket["status"] == "called" and ticket["window"] == 2
    assert ticket["window_name"] == "综合窗口2"
    current = (await hall.get("/api/windows/2", staff))[1]["window"]["current"]
    assert current["number"] == "A001"


async def test_a_busy_window_must_deal_with_its_current_ticket_first(hall: HallClient):
    staff = await hall.staff_at(1)
    await hall.issue("A")
    await hall.issue("A")
    await hall.call(staff, 1)
    status, body = await hall.act(staff, 1, "call")
    assert status == 409 and body["error"]["code"] == "window_busy" and "A001" in body["error"]["message"]
    status, body = await hall.act(staff, 1, "close")
    assert status == 409 and body["error"]["code"] == "window_busy"


async def test_paused_window_does_not_call_until_resumed(hall: HallClient):
    staff = await hall.staff_at(1)
    await hall.issue("A")
    status, body = await hall.act(staff, 1, "pause")
    assert body["window"]["state"] == "paused" and body["window"]["paused_at"] is not None
    status, body = await hall.act(staff, 1, "call")
    assert status == 409 and body["error"]["code"] == "window_paused"
    await hall.act(staff, 1, "resume")
    assert (await hall.call(staff, 1))["number"] == "A001"


async def test_recall_is_limited(hall: HallClient):
    staff = await hall.staff_at(1)
    await hall.issue("A")
    await hall.call(staff, 1)
    for n in (1, 2):
        status, body = await hall.act(staff, 1, "recall")
        assert status == 200 and body["ticket"]["recalls"] == n
    status, body = await hall.act(staff, 1, "recall")
    assert status == 409 and body["error"]["code"] == "recall_limit_reached"
    assert (await hall.event_types()).count("ticket.recalled") == 2


async def test_start_then_finish_with_outcome_matter_and_assisting_staff(hall: HallClient):
    await hall.create_user("helper", staff_no="2002")
    staff = await hall.staff_at(1)
    await hall.issue("A")
    await hall.call(staff, 1)
    hall.clock.advance(30)
    status, body = await hall.act(staff, 1, "start")
    assert body["ticket"]["status"] == "serving"
    hall.clock.advance(600)
    status, body = await hall.act(
        staff, 1, "finish", outcome="supplement", matter="不动产转移登记", assisted_by="2002", note="缺身份证复印件"
    )
    assert status == 200
    ticket = body["ticket"]
    assert (ticket["status"], ticket["outcome"], ticket["outcome_name"]) == ("done", "supplement", "补正材料")
    assert ticket["matter"] == "不动产转移登记"
    assert body["window"]["current"] is None
    finished = (await hall.get("/api/events?after=0", staff))[1]["events"][-1]
    assert finished["type"] == "ticket.finished" and finished["payload"]["assisted_by"] is not None


async def test_finish_refuses_unknown_outcome_or_helper_and_changes_nothing(hall: HallClient):
    staff = await hall.staff_at(1)
    await hall.issue("A")
    await hall.call(staff, 1)
    before = await hall.counts()
    status, body = await hall.act(staff, 1, "finish", outcome="maybe")
    assert status == 400 and body["error"]["field"] == "outcome"
    status, body = await hall.act(staff, 1, "finish", assisted_by="nobody")
    assert status == 400 and body["error"]["code"] == "unknown_staff"
    assert await hall.counts() == before
    assert (await hall.get("/api/windows/1", staff))[1]["window"]["current"]["status"] == "called"


async def test_no_show_then_put_back_behind_n_people_within_grace(hall: HallClient):
    staff = await hall.staff_at(2)
    missed = await hall.issue("A")
    for _ in range(3):
        hall.clock.advance(1)
        await hall.issue("A")
    await hall.call(staff, 2)
    status, body = await hall.act(staff, 2, "no-show")
    assert body["ticket"]["status"] == "missed"
    _, desk = await hall.get("/api/windows/2", staff)
    assert [t["number"] for t in desk["missed"]] == ["A001"]
    hall.clock.advance(600)
    status, body = await hall.act(staff, 2, "requeue", ticket_id=missed["id"])
    assert status == 200 and body["ticket"]["status"] == "waiting"
    # requeue_behind = 2 in the test hall: A002 and A003 go first, then A001, then A004
    order = []
    for _ in range(4):
        order.append((await hall.call(staff, 2))["number"])
        await hall.act(staff, 2, "finish")
    assert order == ["A002", "A003", "A001", "A004"]


async def test_missed_ticket_cannot_come_back_after_the_grace_period(hall: HallClient):
    staff = await hall.staff_at(2)
    ticket = await hall.issue("A")
    await hall.call(staff, 2)
    await hall.act(staff, 2, "no-show")
    hall.clock.advance(31 * 60)
    status, body = await hall.act(staff, 2, "requeue", ticket_id=ticket["id"])
    assert status == 409 and body["error"]["code"] == "grace_expired"


async def test_hold_then_call_back_the_same_citizen(hall: HallClient):
    staff = await hall.staff_at(1)
    held = await hall.issue("A")
    await hall.issue("A")
    await hall.call(staff, 1)
    status, body = await hall.act(staff, 1, "hold")
    assert body["ticket"]["status"] == "held" and [t["number"] for t in body["window"]["held"]] == ["A001"]
    assert (await hall.call(staff, 1))["number"] == "A002"  # the window serves others meanwhile
    await hall.act(staff, 1, "finish")
    back = await hall.call(staff, 1, ticket_id=held["id"])
    assert back["number"] == "A001" and back["status"] == "called"
    called = (await hall.get("/api/events?after=0", staff))[1]["events"][-1]
    assert called["type"] == "ticket.called" and called["payload"]["call_back"] is True


async def test_another_window_cannot_call_back_a_held_ticket(hall: HallClient):
    one, two = await hall.staff_at(1), await hall.staff_at(2)
    held = await hall.issue("A")
    await hall.call(one, 1)
    await hall.act(one, 1, "hold")
    status, body = await hall.act(two, 2, "call", ticket_id=held["id"])
    assert status == 409 and body["error"]["code"] == "ticket_not_for_window"


async def test_call_a_specific_waiting_ticket(hall: HallClient):
    staff = await hall.staff_at(2)
    await hall.issue("A")
    chosen = await hall.issue("B")
    assert (await hall.call(staff, 2, ticket_id=chosen["id"]))["number"] == "B001"
    await hall.act(staff, 2, "finish")
    c = await hall.issue("C")
    status, body = await hall.act(staff, 2, "call", ticket_id=c["id"])  # window 2 does not serve C
    assert status == 409 and body["error"]["code"] == "ticket_not_for_window"
    status, body = await hall.act(staff, 2, "call", ticket_id=chosen["id"])
    assert status == 409 and body["error"]["code"] == "ticket_not_waiting"


async def test_transfer_to_another_section_keeps_number_and_place_by_issue_time(hall: HallClient):
    comprehensive = await hall.staff_at(1)
    social = await hall.staff_at(4)  # serves C only
    early = await hall.issue("A")
    hall.clock.advance(60)
    await hall.issue("C")
    await hall.call(comprehensive, 1)
    status, body = await hall.act(comprehensive, 1, "transfer", section="C")
    assert status == 200
    moved = body["ticket"]
    assert (moved["number"], moved["section"], moved["origin_section"], moved["status"]) == (
        "A001",
        "C",
        "A",
        "waiting",
    )
    assert moved["issued_at"] == early["issued_at"] and moved["transfers"] == 1
    assert body["window"]["current"] is None
    # issued before C001, so the social-insurance window calls it first
    assert (await hall.call(social, 4))["number"] == "A001"


async def test_transfer_to_a_specific_window(hall: HallClient):
    one, two, three = await hall.staff_at(1), await hall.staff_at(2), await hall.staff_at(3)
    await hall.issue("A")
    await hall.call(one, 1)
    status, body = await hall.act(one, 1, "transfer", window=3)
    assert status == 200 and body["ticket"]["target_window"] == 3
    assert await hall.call(two, 2) is None  # A001 now waits for window 3 only
    ticket = await hall.call(three, 3)  # window 3 serves only B, but A001 was sent to it
    assert ticket["number"] == "A001" and ticket["target_window"] is None


async def test_transfer_needs_a_real_destination(hall: HallClient):
    staff = await hall.staff_at(1)
    await hall.issue("A")
    await hall.call(staff, 1)
    for body, field in (
        ({}, "section"),
        ({"section": "Z"}, "section"),
        ({"window": 99}, "window"),
        ({"window": 1}, "window"),
    ):
        status, answer = await hall.act(staff, 1, "transfer", **body)
        assert status == 400 and answer["error"]["field"] == field, body


async def test_actions_without_a_current_ticket_are_refused(hall: HallClient):
    staff = await hall.staff_at(1)
    for action in ("recall", "start", "no-show", "hold", "finish", "transfer"):
        status, body = await hall.act(staff, 1, action)
        assert status == 409 and body["error"]["code"] == "no_current_ticket", action


async def test_no_show_only_from_called_and_start_only_once(hall: HallClient):
    staff = await hall.staff_at(1)
    await hall.issue("A")
    await hall.call(staff, 1)
    await hall.act(staff, 1, "start")
    for action in ("no-show", "start", "recall"):
        status, body = await hall.act(staff, 1, action)
        assert status == 409 and body["error"]["code"] == "ticket_wrong_state", action


async def test_hall_overview_shows_sections_and_windows(hall: HallClient):
    staff = await hall.staff_at(1, display_name="王芳", staff_no="0007")
    await hall.issue("A")
    await hall.issue("A")
    await hall.call(staff, 1)
    screen = await hall.device("display")
    status, data = await hall.get("/api/hall", screen)
    assert status == 200
    a = data["sections"][0]
    assert (a["id"], a["name"], a["waiting"], a["issued"], a["state"], a["windows_open"]) == (
        "A",
        "综合受理",
        1,
        2,
        "open",
        1,
    )
    w1 = data["windows"][0]
    assert (w1["no"], w1["state"], w1["staff"]["name"], w1["current"]["number"]) == (1, "open", "王芳", "A001")
    assert w1["sections"] == ["A", "B", "C"] and w1["comprehensive"] is True
    assert [w["state"] for w in data["windows"][1:]] == ["closed", "closed", "closed"]
