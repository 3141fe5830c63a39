"""Appointment slots and settings in config.toml, and clear errors when they are impossible."""

import pytest

from hall import config as config_mod
from hall.config import ConfigError

from .conftest import ROOT
from .test_config import demo_raw


def test_demo_hall_offers_slots_inside_every_sections_hours():
    hall = config_mod.load(ROOT / "config.toml")
    for section in hall.sections:
        assert section.appointment_slots and section.appointment_capacity >= 1, section.name
        for start, end in section.appointment_slots:
            assert any(a <= start and end <= b for a, b in section.hours)
    assert hall.section("G").appointment_slots[0] == (8 * 60 + 30, 9 * 60 + 30)  # 公积金 keeps office hours
    assert hall.appointments.days_ahead == 7 and hall.appointments.early_minutes == 30


def test_appointments_are_optional_with_defaults():
    hall = config_mod.parse(
        {
            "hall": {"name": "小厅"},
            "sections": [{"id": "A", "name": "综合", "daily_cap": 100, "hours": ["09:00-17:00"]}],
            "windows": [{"no": 1, "sections": ["*"]}],
        }
    )
    assert hall.sections[0].appointment_slots == () and hall.sections[0].appointment_capacity == 0
    policy = hall.appointments
    assert (policy.days_ahead, policy.early_minutes, policy.late_minutes, policy.max_per_person_per_day) == (
        7,
        30,
        15,
        2,
    )


def test_every_appointment_setting_has_a_default_and_help():
    for setting in config_mod.APPOINTMENT_SETTINGS:
        assert setting.help and setting.default is not None


def test_slots_are_kept_in_order():
    raw = demo_raw()
    raw["sections"][0]["appointment_slots"] = ["14:00-15:00", "09:00-10:00"]
    assert config_mod.parse(raw).sections[0].appointment_slots == ((540, 600), (840, 900))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r["sections"][0].update(appointment_slots=["9:00-10:00"]),
            r"sections\[0\].appointment_slots.*not a",
        ),
        (
            lambda r: r["sections"][0].update(appointment_slots="09:00-10:00"),
            r"sections\[0\].appointment_slots must be",
        ),
        (
            lambda r: r["sections"][6].update(appointment_slots=["08:00-09:00"]),
            r"sections\[6\].appointment_slots: 08:00-09:00 is not inside the section's hours",
        ),
        (
            lambda r: r["sections"][6].update(appointment_slots=["11:00-14:00"]),  # over 公积金's lunch break
            "not inside the section's hours",
        ),
        (
            lambda r: r["sections"][0].update(appointment_slots=["09:00-10:00", "09:30-10:30"]),
            r"sections\[0\].appointment_slots: periods overlap at 09:30",
        ),
        (lambda r: r["sections"][1].update(appointment_capacity=0), r"sections\[1\].appointment_capacity must be"),
        (lambda r: r["sections"][1].pop("appointment_capacity"), r"sections\[1\].appointment_capacity must be"),
        (
            lambda r: r["sections"][2].pop("appointment_slots"),
            r"sections\[2\].appointment_capacity is set but the section has no appointment_slots",
        ),
        (lambda r: r["appointments"].update(days_ahead="7"), "appointments.days_ahead must be int"),
        (lambda r: r["appointments"].update(days_ahead=120), "appointments.days_ahead must be at most 90"),
        (lambda r: r["appointments"].update(early_minutes=-5), "appointments.early_minutes must not be negative"),
        (lambda r: r["appointments"].update(late_minutes=-1), "appointments.late_minutes must not be negative"),
        (lambda r: r["appointments"].update(max_per_person_per_day=0), "max_per_person_per_day must be at least 1"),
        (lambda r: r["appointments"].update(early_mins=30), "appointments: unknown setting 'early_mins'"),
        (lambda r: r.update(appointments=[1]), "appointments must be a table"),
    ],
)
def test_impossible_appointments_are_refused_with_the_place_named(change, message):
    raw = demo_raw()
    change(raw)
    with pytest.raises(ConfigError, match=message):
        config_mod.parse(raw)
