"""Working days and issuing hours."""

import datetime as dt

from hall import config as config_mod
from hall.calendar import is_issuing, is_working_day, next_opening

from .conftest import SHANGHAI, TEST_CONFIG

HALL = config_mod.load(TEST_CONFIG)
A = HALL.section("A")


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_chinese_working_days():
    assert is_working_day(dt.date(2026, 11, 23), HALL)  # Monday
    assert not is_working_day(dt.date(2026, 11, 28), HALL)  # Saturday
    assert not is_working_day(dt.date(2026, 10, 1), HALL)  # National Day
    assert is_working_day(dt.date(2026, 10, 10), HALL)  # make-up Saturday (调休)
    assert not is_working_day(dt.date(2026, 11, 27), HALL)  # the hall's own closure


def test_years_the_calendar_does_not_know_fall_back_to_weekdays():
    assert is_working_day(dt.date(2031, 3, 3), HALL)  # a Monday
    assert not is_working_day(dt.date(2031, 3, 1), HALL)  # a Saturday


def test_issuing_hours_are_half_open_periods():
    assert not is_issuing(A, local("2026-11-23 08:29"), HALL)
    assert is_issuing(A, local("2026-11-23 08:30"), HALL)
    assert is_issuing(A, local("2026-11-23 11:59"), HALL)
    assert not is_issuing(A, local("2026-11-23 12:00"), HALL)
    assert is_issuing(A, local("2026-11-23 16:59"), HALL)
    assert not is_issuing(A, local("2026-11-23 17:00"), HALL)


def test_next_opening():
    assert next_opening(A, local("2026-11-23 07:00"), HALL) == local("2026-11-23 08:30")
    assert next_opening(A, local("2026-11-23 10:00"), HALL) == local("2026-11-23 10:00")  # open now
    assert next_opening(A, local("2026-11-23 12:30"), HALL) == local("2026-11-23 13:30")
    assert next_opening(A, local("2026-11-26 18:00"), HALL) == local("2026-11-30 08:30")  # Fri closed, weekend
    assert next_opening(A, local("2026-09-30 18:00"), HALL) == local("2026-10-08 08:30")  # after the Golden Week
