"""A reply goes to its case by In-Reply-To, References, or the case number in its subject."""

from __future__ import annotations

import pytest

from hall.callcenter.mail.decode import parse
from hall.callcenter.mail.threads import CaseHint, CaseRef, find_case

from .samples import b_word, gb2312_mail

CITIZEN = "wang.kun@citizen.example.cn"


class Cases:
    """The lookup the case store provides, over two known cases."""

    def __init__(self) -> None:
        self.by_id = {
            "<c1@citizen.example.cn>": CaseRef(7, "2026112300007", frozenset({CITIZEN})),
            "<hall.r1@hall.example.gov.cn>": CaseRef(7, "2026112300007", frozenset({CITIZEN})),
            "<hall.r9@hall.example.gov.cn>": CaseRef(9, "2026112300009", frozenset({"other@example.cn"})),
        }
        self.numbers = {ref.number: ref for ref in self.by_id.values()}

    async def by_message_ids(self, message_ids):
        return next((self.by_id[i] for i in message_ids if i in self.by_id), None)

    async def by_number(self, number):
        return self.numbers.get(number)


def reply(subject: str = "Re: " + b_word("投诉"), **headers: str):
    return parse(gb2312_mail(message_id="<new@citizen.example.cn>", subject=subject, **headers))


@pytest.mark.parametrize(
    "headers, hint",
    [
        ({"in_reply_to": "<hall.r1@hall.example.gov.cn>"}, CaseHint(7, "2026112300007", "in-reply-to")),
        # a client that sets only References (the latest id last)
        ({"references": "<c1@citizen.example.cn> <unknown@x>"}, CaseHint(7, "2026112300007", "references")),
        # In-Reply-To names a mail Hall never saw, References still know the thread
        (
            {"in_reply_to": "<unknown@x>", "references": "<c1@citizen.example.cn> <unknown@x>"},
            CaseHint(7, "2026112300007", "references"),
        ),
        ({}, None),
        ({"in_reply_to": "<unknown@x>"}, None),
    ],
)
async def test_by_headers(headers, hint):
    assert await find_case(reply(**headers), Cases()) == hint


async def test_headers_win_over_the_subject():
    mail = reply(subject="Re: [工单 2026112300009]", in_reply_to="<hall.r1@hall.example.gov.cn>")
    assert await find_case(mail, Cases()) == CaseHint(7, "2026112300007", "in-reply-to")


async def test_by_case_number_in_the_subject():
    mail = reply(subject="Re: " + b_word("投诉") + " [工单 2026112300007]")
    assert await find_case(mail, Cases()) == CaseHint(7, "2026112300007", "subject")


async def test_a_case_number_from_a_stranger_opens_a_new_case():
    mail = reply(subject="Re: [工单 2026112300009]")  # case 9 belongs to other@example.cn
    assert await find_case(mail, Cases()) is None


async def test_an_unknown_case_number_opens_a_new_case():
    assert await find_case(reply(subject="[工单 2099010100001]"), Cases()) is None
