"""Bad-review deadlines in Chinese working days: holidays off, make-up days (调休) on, the hall's closures off."""

import dataclasses
import datetime as dt

import pytest

from hall import config as config_mod
from hall.calendar import add_working_days

from ..conftest import SHANGHAI, TEST_CONFIG

HALL = config_mod.load(TEST_CONFIG)  # closed_dates = 2026-11-27 (a Friday)


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("given", "days", "due"),
    [
        ("2026-11-18 10:00", 1, "2026-11-19 10:00"),  # Wednesday → Thursday, the same time of day
        ("2026-11-20 16:30", 1, "2026-11-23 16:30"),  # Friday → Monday: the weekend does not count
        ("2026-11-21 11:00", 1, "2026-11-24 00:00"),  # Saturday: counts from Monday's start, due by its end
        # The 2026 National Day week: Oct 1–7 off; Sunday Sep 20 and Saturday Oct 10 are make-up working days.
        ("2026-09-30 10:00", 1, "2026-10-08 10:00"),  # the eve of the holiday → the first day after it
        ("2026-09-18 15:00", 1, "2026-09-20 15:00"),  # Friday → the make-up Sunday
        ("2026-09-19 11:00", 1, "2026-09-21 00:00"),  # a Saturday off → by the end of the make-up Sunday
        ("2026-10-03 09:00", 1, "2026-10-09 00:00"),  # in the holiday → by the end of Oct 8
        ("2026-10-09 10:00", 1, "2026-10-10 10:00"),  # Friday → the make-up Saturday
        ("2026-09-30 10:00", 3, "2026-10-10 10:00"),  # Oct 8, 9, 10
        # 15 working days from Sep 30: Oct 8 9 10 12 13 14 15 16 19 20 21 22 23 26 27
        ("2026-09-30 10:00", 15, "2026-10-27 10:00"),
        # The test hall's own closed day, Friday Nov 27, is not a working day.
        ("2026-11-26 10:00", 1, "2026-11-30 10:00"),
        ("2026-11-25 10:00", 2, "2026-11-30 10:00"),
        ("2026-11-27 14:00", 1, "2026-12-01 00:00"),
    ],
)
def test_working_day_deadlines(given, days, due):
    assert add_working_days(local(given), days, HALL) == local(due)


def test_a_hall_without_the_closure_works_that_friday():
    open_hall = dataclasses.replace(HALL, closed_dates=frozenset())
    assert add_working_days(local("2026-11-26 10:00"), 1, open_hall) == local("2026-11-27 10:00")


def test_an_extra_opening_day_counts():
    weekend_hall = dataclasses.replace(HALL, open_dates=frozenset({dt.date(2026, 11, 21)}))
    assert add_working_days(local("2026-11-20 16:30"), 1, weekend_hall) == local("2026-11-21 16:30")
