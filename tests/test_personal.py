"""ID numbers and phones: checked, aged and masked."""

import datetime as dt

import pytest

from hall.personal import age_on, mask_id_number, mask_name, mask_phone, normalize_id_number, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("110101195001011239", "110101195001011239"),
        (" 11010119500101123x ", None),  # wrong check digit
        ("110101195001011234", None),
        ("11010119500101123", None),  # 17 digits
        ("110101195002301231", None),  # 30 February
        ("abcdefghijklmnopqr", None),
    ],
)
def test_id_numbers_need_a_valid_check_digit_and_birth_date(raw, expected):
    assert normalize_id_number(raw) == expected


def test_x_check_digit_is_accepted_in_either_case():
    # 11010519491231002X is the standard's own example
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"


def test_age_from_the_id_number():
    assert age_on("110101195001011239", dt.date(2010, 1, 1)) == 60
    assert age_on("110101195001011239", dt.date(2009, 12, 31)) == 59


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("13800138000", "13800138000"), ("+86 138-0013-8000", "13800138000"), ("12800138000", None), ("1380013800", None)],
)
def test_mobile_numbers(raw, expected):
    assert normalize_phone(raw) == expected


def test_masks_keep_only_the_ends():
    assert mask_id_number("110101195001011239") == "1101**********1239"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone(None) is None and mask_id_number("") is None


@pytest.mark.parametrize(("name", "masked"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("阿依古丽·买买提", "阿*******")])
def test_names_keep_only_their_first_character(name, masked):
    assert mask_name(name) == masked
