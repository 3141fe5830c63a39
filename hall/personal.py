"""Citizens' personal data: checking ID numbers and phones, and masking them.

Pages, exports and logs show only the masked forms; the whole value is kept
where a rule needs it (one unfinished ticket per ID number, the elderly lane).
"""

from __future__ import annotations

import datetime as dt
import re

_ID = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_id_number(value: str) -> str | None:
    """The 18-character resident ID (GB 11643) with a valid check digit and birth date, or None."""
    value = value.strip().upper()
    if not _ID.match(value):
        return None
    total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != value[17]:
        return None
    if birth_date(value) is None:
        return None
    return value


def birth_date(id_number: str) -> dt.date | None:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def age_on(id_number: str, day: dt.date) -> int:
    born = birth_date(id_number)
    if born is None:
        raise ValueError("ID number has no valid birth date")
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def normalize_phone(value: str) -> str | None:
    """A mainland mobile number (11 digits starting with 1), without spaces, +86 or dashes."""
    digits = re.sub(r"[\s-]", "", value.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits if _MOBILE.match(digits) else None


def mask_id_number(value: str | None) -> str | None:
    if not value:
        return None
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(name: str | None) -> str | None:
    """张三 → 张*, 欧阳娜娜 → 欧***: the first character only."""
    if not name:
        return None
    return name[:1] + "*" * (len(name) - 1)


def mask_phone(value: str | None) -> str | None:
    if not value:
        return None
    return value[:3] + "****" + value[-4:]
