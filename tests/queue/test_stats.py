"""The statistics rules as pure functions of hand-written event lists (no server)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from hall.queue import stats
from hall.queue.stats_export import _safe
from hall.queue.stats_views import duration
from hall.queue.stats_windows import window_times
from hall.storage import Event

from ..conftest import at

DAY = dt.date(2026, 11, 23)
_ids = itertools.count(1)


def T(ticket: int, section: str = "A") -> dict:
    return {"id": ticket, "number": f"{section}{ticket:03d}", "section": section, "status": "x", "priority": None,
            "window": None, "window_name": None}  # fmt: skip


def ev(type_: str, when: str, **payload) -> Event:
    """An event at local time `when` ('09:00' on DAY, or a full 'YYYY-MM-DD HH:MM')."""
    return Event(next(_ids), type_, at(when if len(when) > 5 else f"{DAY} {when}"), payload)


def issued(when: str, ticket: int, section: str = "A") -> Event:
    return ev("ticket.issued", when, ticket=T(ticket, section), ahead=0, channel="kiosk")


def at_window(type_: str, when: str, ticket: int, window: int = 1, staff: int = 7, section: str = "A", **extra):
    return ev(f"ticket.{type_}", when, ticket=T(ticket, section), window={"no": window, "name": "w"}, staff=staff,
              **extra)  # fmt: skip


def finished(when: str, ticket: int, window: int = 1, staff: int = 7, section: str = "A", **extra) -> Event:
    extra = {"outcome": "done", "matter": None, "assisted_by": None, **extra}
    return at_window("finished", when, ticket, window, staff, section, **extra)


def window_event(type_: str, when: str, window: int = 1, staff: int | None = 7) -> Event:
    person = {"id": staff, "name": "n", "staff_no": None} if staff else None
    state = {"opened": "open", "paused": "paused", "resumed": "open", "closed": "closed"}[type_]
    return ev(f"window.{type_}", when, window={"no": window, "name": "w", "state": state, "staff": person})


def report(config, events, by="section", first=DAY, last=DAY, now=None) -> dict:
    span = stats.span(first, last, config)
    return stats.report(events, config, span, by, now if now is not None else span.end, {})


def total(config, events, **kw) -> dict:
    return report(config, events, **kw)["total"]


def test_wait_counts_the_first_call_only(config):
    events = [
        issued("09:00", 1),
        at_window("called", "09:10", 1),  # wait 600
        at_window("started", "09:11", 1),
        at_window("transferred", "09:12", 1, section="B", from_section="A", to_window=None),
        at_window("called", "09:30", 1, window=2, section="B"),  # not a first call
        finished("09:40", 1, window=2, section="B"),
    ]
    by_section = report(config, events)
    a, b = by_section["groups"][0], by_section["groups"][1]
    assert (a["called"], a["wait_avg_s"], a["transfers"], a["served"]) == (1, 600, 1, 0)
    assert (b["called"], b["wait_avg_s"], b["transfers"], b["served"]) == (0, None, 0, 1)
    # After the transfer, service counts from the call at window 2 (09:30), not from the start at window 1.
    assert b["service_avg_s"] == 600


def test_service_time_is_from_the_latest_start_else_the_latest_call(config):
    events = [
        issued("09:00", 1),
        at_window("called", "09:01", 1),
        at_window("recalled", "09:02", 1, recalls=1),  # moves nothing
        at_window("finished", "09:05", 1, outcome="done", matter=None, assisted_by=None),  # 240 from the call
        issued("09:00", 2),
        at_window("called", "09:10", 2),
        at_window("started", "09:11", 2),
        at_window("held", "09:12", 2),
        at_window("called", "09:20", 2, call_back=True),  # started before the hold: still counts from 09:11
        finished("09:21", 2),  # 600
        issued("09:00", 3),
        at_window("called", "09:30", 3),
        at_window("held", "09:31", 3),
        at_window("called", "09:40", 3, call_back=True),  # never started: from the call back
        finished("09:43", 3),  # 180
    ]
    t = total(config, events)
    assert (t["served"], t["service_count"], t["service_avg_s"]) == (3, 3, round((240 + 600 + 180) / 3, 1))


def test_a_requeued_no_show_is_timed_from_its_new_call(config):
    events = [
        issued("09:00", 1),
        at_window("called", "09:05", 1),
        at_window("missed", "09:06", 1),
        at_window("requeued", "09:10", 1, behind=2),
        at_window("called", "09:20", 1, window=2),
        finished("09:25", 1, window=2),
    ]
    windows = {g["key"]: g for g in report(config, events, by="window")["groups"]}
    assert (windows[1]["no_shows"], windows[1]["called"], windows[1]["wait_avg_s"]) == (1, 1, 300)
    assert (windows[2]["served"], windows[2]["called"], windows[2]["service_avg_s"]) == (1, 0, 300)


def test_assisted_counts_for_the_helper_by_staff_and_for_the_service_otherwise(config):
    events = [
        issued("09:00", 1),
        at_window("called", "09:01", 1, staff=7),
        finished("09:02", 1, staff=7, assisted_by=9),
    ]
    by_staff = {g["key"]: g for g in report(config, events, by="staff")["groups"]}
    assert (by_staff[7]["served"], by_staff[7]["assisted"]) == (1, 0)
    assert (by_staff[9]["served"], by_staff[9]["assisted"], by_staff[9]["name"]) == (0, 1, "用户 9")
    assert report(config, events, by="window")["groups"][0]["assisted"] == 1
    assert report(config, events)["assisted"] == [{"staff": 9, "name": "用户 9", "staff_no": None, "count": 1}]


def test_staff_are_named_from_the_users_table(config):
    events = [issued("09:00", 1), at_window("called", "09:01", 1, staff=7)]
    span = stats.span(DAY, DAY, config)
    answer = stats.report(events, config, span, "staff", span.end, {7: stats.StaffName("李娜", "0101")})
    assert [(g["key"], g["name"], g["staff_no"]) for g in answer["groups"]] == [(7, "李娜", "0101")]


def test_events_outside_the_range_only_give_context(config):
    events = [
        issued("2026-11-22 23:50", 1, "C"),
        at_window("called", "2026-11-22 23:55", 1, section="C"),
        finished("2026-11-23 00:05", 1, section="C"),  # 600 from the call
        issued("2026-11-24 00:01", 2),  # after the range
    ]
    t = total(config, events)
    assert (t["issued"], t["called"], t["served"], t["service_avg_s"]) == (0, 0, 1, 600)


def test_a_call_whose_issue_is_not_in_the_log_has_no_wait_but_its_service_counts(config):
    t = total(config, [at_window("called", "09:00", 1), finished("09:04", 1)])
    assert (t["called"], t["wait_avg_s"], t["served"], t["service_avg_s"]) == (0, None, 1, 240)


def test_unknown_outcomes_count_as_other_and_cancelled_tickets_are_forgotten(config):
    events = [issued("09:00", 1), at_window("called", "09:01", 1), finished("09:02", 1, outcome="weird")]
    events += [issued("09:03", 2), ev("ticket.cancelled", "09:04", ticket=T(2), by="citizen")]
    t = total(config, events)
    assert t["outcomes"] == {"done": 0, "supplement": 0, "rejected": 0, "other": 1}
    assert (t["issued"], t["served"]) == (2, 1)


def test_hours_are_local_and_summed_over_days(config):
    events = [issued(f"{d} {h}", i) for i, (d, h) in enumerate([("2026-11-23", "08:59"), ("2026-11-24", "08:00"),
                                                                 ("2026-11-24", "23:59")], start=1)]  # fmt: skip
    answer = report(config, events, last=dt.date(2026, 11, 24))
    assert answer["by_hour"]["issued"][8] == 2 and answer["by_hour"]["issued"][23] == 1
    assert [d["issued"] for d in answer["by_day"]] == [1, 2]


def test_sections_and_windows_not_in_the_config_come_after_the_configured_ones(config):
    events = [issued("09:00", 1, "Z"), at_window("called", "09:01", 1, window=99, section="Z")]
    assert [g["key"] for g in report(config, events)["groups"]] == ["A", "B", "C", "Z"]
    windows = report(config, events, by="window")["groups"]
    assert [(g["key"], g["name"]) for g in windows][-1] == (99, "99 号窗口")


def test_a_span_covers_local_days_even_across_a_clock_change(config):
    berlin = dataclasses.replace(config, timezone="Europe/Berlin")
    span = stats.span(dt.date(2026, 3, 29), dt.date(2026, 3, 29), berlin)  # clocks go forward: 23 hours
    assert span.end - span.start == 23 * 3600
    shanghai = stats.span(DAY, dt.date(2026, 11, 24), config)
    assert (shanghai.start, shanghai.end) == (at("2026-11-23 00:00"), at("2026-11-25 00:00"))


def test_tally_refuses_an_unknown_grouping(config):
    with pytest.raises(ValueError):
        stats.Tally(config, stats.span(DAY, DAY, config), "floor", 0)


# -- time on duty ---------------------------------------------------------------------------


def test_window_time_on_duty_paused_and_idle():
    events = [
        window_event("opened", "08:00"),
        at_window("called", "08:10", 1),  # idle 08:00–08:10
        at_window("finished", "08:30", 1, outcome="done", matter=None, assisted_by=None),
        window_event("paused", "08:40"),  # idle 08:30–08:40
        window_event("resumed", "09:00"),  # paused 20 min
        window_event("closed", "09:15"),  # idle 09:00–09:15
        window_event("opened", "10:00", staff=8),
    ]
    clock = window_times(events, at(f"{DAY} 00:00"), at(f"{DAY} 10:30"))
    assert clock.by_window[1].as_json() == {"on_duty_s": 75 * 60 + 30 * 60, "paused_s": 1200, "idle_s": 35 * 60 + 1800}
    assert clock.by_staff[7].as_json() == {"on_duty_s": 75 * 60, "paused_s": 1200, "idle_s": 35 * 60}
    assert clock.by_staff[8].as_json() == {"on_duty_s": 1800, "paused_s": 0, "idle_s": 1800}


@pytest.mark.parametrize(
    ("first", "state_before", "busy_before"),
    [
        (window_event("paused", "09:00"), "open", False),
        (window_event("resumed", "09:00"), "paused", False),
        (window_event("closed", "09:00"), "open", False),
        (at_window("finished", "09:00", 1, outcome="done", matter=None, assisted_by=None), "open", True),
        (at_window("called", "09:00", 1), "open", False),
        (window_event("opened", "09:00"), "closed", False),
    ],
)
def test_a_window_open_before_the_span_is_inferred_from_its_first_event(first, state_before, busy_before):
    clock = window_times([first], at(f"{DAY} 08:00"), at(f"{DAY} 09:00"))
    times = clock.by_window.get(1)
    hour = 3600.0
    expected = {
        ("open", False): {"on_duty_s": hour, "paused_s": 0, "idle_s": hour},
        ("open", True): {"on_duty_s": hour, "paused_s": 0, "idle_s": 0},
        ("paused", False): {"on_duty_s": hour, "paused_s": hour, "idle_s": 0},
    }.get((state_before, busy_before))
    assert (times.as_json() if times else None) == expected


def test_window_time_is_clipped_to_the_span():
    events = [window_event("opened", "2026-11-22 20:00"), window_event("paused", "2026-11-23 00:30")]
    clock = window_times(events, at(f"{DAY} 00:00"), at(f"{DAY} 01:00"))
    assert clock.by_window[1].as_json() == {"on_duty_s": 3600, "paused_s": 1800, "idle_s": 1800}


# -- presentation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "0秒"),
        (59.4, "59秒"),
        (60, "1分00秒"),
        (1140, "19分00秒"),
        (1037.1, "17分17秒"),
        (3600, "1小时00分"),
        (4800, "1小时20分"),
    ],  # fmt: skip
)
def test_durations_read_in_chinese(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize("cell", ["=1+1", "+86", "-3", "@SUM(A1)"])
def test_formula_like_text_is_escaped_for_spreadsheets(cell):
    assert _safe(cell) == "'" + cell
    assert _safe("李娜") == "李娜" and _safe(-3) == -3
