"""The timing rules of appointments, as plain functions of the config and the time."""

import dataclasses
import datetime as dt

import pytest

from hall.clock import local
from hall.config import Config
from hall.errors import HallError
from hall.queue import appointment_rules as rules

from ..conftest import SHANGHAI, at

MONDAY = dt.date(2026, 11, 23)


def moment(text: str) -> dt.datetime:
    return local(at(text), SHANGHAI)


def with_policy(config: Config, **changes) -> Config:
    return dataclasses.replace(config, appointments=dataclasses.replace(config.appointments, **changes))


def test_check_in_opens_early_and_is_on_time_until_the_grace_ends(config):
    times = rules.check_in_times(config, config.section("A"), MONDAY, 10 * 60)
    assert times.opens == moment("2026-11-23 09:30")
    assert times.on_time_until == moment("2026-11-23 10:15")
    assert times.closes == moment("2026-11-23 17:00")  # A closes at 17:00: late check-in until then


def test_check_in_does_not_open_before_the_section_does(config):
    early = with_policy(config, early_minutes=60)
    # 14:00 slot, 60 minutes early would be 13:00, but A reopens only at 13:30
    assert rules.check_in_times(early, early.section("A"), MONDAY, 14 * 60).opens == moment("2026-11-23 13:30")
    assert rules.check_in_times(early, early.section("A"), MONDAY, 10 * 60).opens == moment("2026-11-23 09:00")


def test_bookable_days_are_today_and_the_next_open_days(config):
    days = rules.bookable_days(config, config.section("A"), MONDAY)
    # days_ahead = 5: Friday 27th is a local closure, then the weekend
    assert [d.isoformat() for d in days] == [
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
        "2026-11-26",
        "2026-11-30",
        "2026-12-01",
    ]
    saturday = dt.date(2026, 11, 28)
    assert rules.bookable_days(config, config.section("A"), saturday)[0] == dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("day", "start", "now", "code"),
    [
        ("2026-11-23", 9 * 60, "2026-11-23 09:00", "slot_past"),  # starts now
        ("2026-11-20", 10 * 60, "2026-11-23 09:00", "slot_past"),
        ("2026-11-28", 10 * 60, "2026-11-23 09:00", "section_closed_that_day"),  # Saturday
        ("2026-11-27", 10 * 60, "2026-11-23 09:00", "section_closed_that_day"),  # local closure
        ("2026-12-02", 10 * 60, "2026-11-23 09:00", "too_far_ahead"),
    ],
)
def test_days_and_slots_that_cannot_be_booked(config, day, start, now, code):
    with pytest.raises(HallError) as refused:
        rules.check_bookable(config, config.section("A"), dt.date.fromisoformat(day), start, moment(now))
    assert refused.value.code == code and refused.value.message


def test_a_slot_not_yet_started_can_be_booked(config):
    rules.check_bookable(config, config.section("A"), MONDAY, 10 * 60, moment("2026-11-23 09:59"))
    rules.check_bookable(config, config.section("A"), dt.date(2026, 12, 1), 9 * 60, moment("2026-11-23 16:00"))


def test_codes_avoid_characters_people_confuse():
    codes = {rules.new_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(c) == 8 and not set(c) & set("0O1I") for c in codes)
    assert rules.normalize_code(" abcd-efgh ") == "ABCDEFGH"
    assert rules.normalize_code("ABCDEFG0") is None and rules.normalize_code("ABC") is None
    assert rules.normalize_code(None) is None


def booking(section: str, start: int, status: str = "booked", code: str = "X") -> dict:
    return {"section": section, "slot_start": start, "status": status, "code": code}


@pytest.mark.parametrize(
    ("now", "chosen"),
    [
        ("2026-11-23 09:40", "ten"),  # on time for 10:00
        ("2026-11-23 09:00", "ten"),  # neither open: the next one (the kiosk says when it opens)
        ("2026-11-23 10:30", "two"),  # late for 10:00, 14:00 not open yet: the next slot
        ("2026-11-23 14:20", "two"),  # both late: the latest
    ],
)
def test_check_in_by_phone_means_the_next_slot(config, now, chosen):
    rows = [booking("A", 10 * 60, code="ten"), booking("B", 14 * 60, code="two")]
    assert rules.choose_for_phone(rows, config, moment(now))["code"] == chosen


def test_check_in_by_phone_repeated_finds_the_checked_in_booking(config):
    rows = [booking("A", 10 * 60, "checked_in", "ten"), booking("B", 14 * 60, "checked_in", "two")]
    assert rules.choose_for_phone(rows, config, moment("2026-11-23 14:10"))["code"] == "two"
    assert rules.choose_for_phone([], config, moment("2026-11-23 14:10")) is None
