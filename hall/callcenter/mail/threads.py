"""Which case a mail belongs to: by the Message-IDs it answers, else by the case number in its subject."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .decode import ParsedMail


@dataclass(frozen=True)
class CaseRef:
    """What the case store tells about a case, enough to thread a mail into it."""

    case_id: int
    number: str
    emails: frozenset[str] = frozenset()  # addresses already in the case (its contact, earlier mail)


@dataclass(frozen=True)
class CaseHint:
    case_id: int
    number: str
    via: str  # in-reply-to, references or subject


class CaseLookup(Protocol):
    async def by_message_ids(self, message_ids: tuple[str, ...]) -> CaseRef | None:
        """The case that sent or received any of these Message-IDs (the first one found, in order)."""
        ...

    async def by_number(self, number: str) -> CaseRef | None: ...


async def find_case(mail: ParsedMail, lookup: CaseLookup) -> CaseHint | None:
    """The case `mail` answers, or None for a new case.

    Headers thread exactly: In-Reply-To first, then References. A case number in
    the subject threads only a mail from an address the case already knows, so
    nobody adds to a stranger's case by typing its number.
    """
    if mail.in_reply_to:
        ref = await lookup.by_message_ids((mail.in_reply_to,))
        if ref:
            return CaseHint(ref.case_id, ref.number, "in-reply-to")
    others = tuple(i for i in mail.thread_ids if i != mail.in_reply_to)
    if others:
        ref = await lookup.by_message_ids(others)
        if ref:
            return CaseHint(ref.case_id, ref.number, "references")
    if mail.case_number:
        ref = await lookup.by_number(mail.case_number)
        if ref and mail.from_address and mail.from_address in {e.lower() for e in ref.emails}:
            return CaseHint(ref.case_id, ref.number, "subject")
    return None
