"""Polling a real Dovecot over IMAP: mail taken once, marked read only after the core has it, nothing lost."""

from __future__ import annotations

import asyncio
import socket

import pytest

from hall.callcenter.mail.decode import parse
from hall.callcenter.mail.imap import FAILED_FLAG, GIVE_UP_AFTER, CursorFile, Poller, fetch_limit

from .conftest import free_port
from .samples import GBK_TEXT, gb2312_mail, multipart_mail


class Core:
    """Stands in for the case core: keeps what it is handed, by Message-ID, and can be made to fail."""

    def __init__(self) -> None:
        self.taken: list[tuple[bytes, int | None]] = []
        self.fail = 0
        self.changed = asyncio.Event()

    async def deliver(self, raw: bytes, omitted: int | None) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("database is locked")
        self.taken.append((raw, omitted))
        self.changed.set()

    async def wait_taken(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.taken) < count:
                self.changed.clear()
                await self.changed.wait()

    @property
    def ids(self) -> list[str]:
        return [parse(raw).message_id for raw, _ in self.taken]


def poller(dovecot, mailbox, tmp_path, core, **changes) -> Poller:
    settings = dovecot.settings(mailbox, **changes)
    p = Poller(settings, core.deliver, CursorFile(tmp_path / "cursor.json", f"{settings.imap_user}@{mailbox}"))
    p.retry_base = 0.05
    return p


async def close(p: Poller) -> None:
    await asyncio.to_thread(p.box.logout)


async def test_new_mail_is_taken_and_marked_read_after(dovecot, mailbox, tmp_path):
    dovecot.deliver(mailbox, gb2312_mail("<c1@citizen.example.cn>"))
    dovecot.deliver(mailbox, gb2312_mail("<c2@citizen.example.cn>"))
    dovecot.deliver(mailbox, gb2312_mail("<old@citizen.example.cn>"), flags="(\\Seen)")  # read before Hall ran
    core = Core()
    p = poller(dovecot, mailbox, tmp_path, core)
    try:
        assert await p.poll_once() == 2
    finally:
        await close(p)
    assert core.ids == ["<c1@citizen.example.cn>", "<c2@citizen.example.cn>"]
    assert parse(core.taken[0][0]).text == GBK_TEXT  # the bytes as sent, through a real IMAP server
    assert all("\\Seen" in flags for flags in dovecot.flags(mailbox).values())


async def test_a_restart_does_not_import_again_even_mail_marked_unread(dovecot, mailbox, tmp_path):
    dovecot.deliver(mailbox, gb2312_mail("<c1@citizen.example.cn>"))
    core = Core()
    first = poller(dovecot, mailbox, tmp_path, core)
    try:
        assert await first.poll_once() == 1
    finally:
        await close(first)
    imap = dovecot.imap()  # somebody marks it unread in the mail client
    try:
        imap.select(mailbox)
        imap.uid("STORE", "1:*", "-FLAGS", "(\\Seen)")
    finally:
        imap.logout()
    dovecot.deliver(mailbox, gb2312_mail("<c2@citizen.example.cn>"), flags="(\\Seen)")  # and reads a new one
    restarted = poller(dovecot, mailbox, tmp_path, core)  # a new process: only the cursor file is shared
    try:
        assert await restarted.poll_once() == 1
        assert await restarted.poll_once() == 0
    finally:
        await close(restarted)
    assert core.ids == ["<c1@citizen.example.cn>", "<c2@citizen.example.cn>"]


async def test_mail_the_core_could_not_take_stays_unread_and_comes_again(dovecot, mailbox, tmp_path):
    for n in (1, 2):
        dovecot.deliver(mailbox, gb2312_mail(f"<c{n}@citizen.example.cn>"))
    core = Core()
    core.fail = 1
    p = poller(dovecot, mailbox, tmp_path, core)
    try:
        assert await p.poll_once() == 0  # the first failed: the round stops before it, nothing skipped
        assert not any("\\Seen" in f for f in dovecot.flags(mailbox).values())
        assert await p.poll_once() == 2
    finally:
        await close(p)
    assert core.ids == ["<c1@citizen.example.cn>", "<c2@citizen.example.cn>"]


async def test_a_mail_the_core_always_refuses_is_flagged_and_passed_by(dovecot, mailbox, tmp_path):
    dovecot.deliver(mailbox, gb2312_mail("<poison@citizen.example.cn>"))
    dovecot.deliver(mailbox, gb2312_mail("<c2@citizen.example.cn>"))
    core = Core()
    core.fail = GIVE_UP_AFTER
    p = poller(dovecot, mailbox, tmp_path, core)
    try:
        for _ in range(GIVE_UP_AFTER - 1):
            assert await p.poll_once() == 0
        assert await p.poll_once() == 1
    finally:
        await close(p)
    assert core.ids == ["<c2@citizen.example.cn>"]
    poison, taken = dovecot.flags(mailbox).values()
    assert FAILED_FLAG in poison and "\\Seen" not in poison  # left unread and visibly flagged for people
    assert "\\Seen" in taken


async def test_an_oversized_mail_is_fetched_header_only(dovecot, mailbox, tmp_path):
    big = multipart_mail([("扫描件.pdf", "application/pdf", b"%PDF" + b"x" * 100_000)], message_id="<big@example.cn>")
    dovecot.deliver(mailbox, big)
    core = Core()
    p = poller(dovecot, mailbox, tmp_path, core, max_message_bytes=10_000)
    assert len(big) > fetch_limit(p.settings)
    try:
        assert await p.poll_once() == 1
    finally:
        await close(p)
    ((raw, omitted),) = core.taken
    assert omitted >= len(big) and len(raw) < 1000  # the size as the server counts it (CRLF line ends)
    mail = parse(raw, omitted_size=omitted)
    assert mail.message_id == "<big@example.cn>" and mail.subject == "附件" and str(omitted) in mail.text


async def test_the_loop_reconnects_when_the_connection_drops(dovecot, mailbox, tmp_path):
    core = Core()
    p = poller(dovecot, mailbox, tmp_path, core, poll_seconds=1)
    task = asyncio.create_task(p.run())
    try:
        dovecot.deliver(mailbox, gb2312_mail("<c1@citizen.example.cn>"))
        await core.wait_taken(1)
        p.box.imap.sock.shutdown(socket.SHUT_RDWR)  # the server, or a NAT box, cuts the line
        dovecot.deliver(mailbox, gb2312_mail("<c2@citizen.example.cn>"))
        await core.wait_taken(2)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert core.ids == ["<c1@citizen.example.cn>", "<c2@citizen.example.cn>"]
    assert p.box.imap is None


@pytest.mark.parametrize("bad", ["no server", "wrong password"])
async def test_the_loop_survives_a_mailbox_it_cannot_reach(dovecot, mailbox, tmp_path, bad, monkeypatch):
    core = Core()
    if bad == "no server":
        p = poller(dovecot, mailbox, tmp_path, core, imap_port=free_port())
    else:
        monkeypatch.setenv("HALL_WRONG_PW", "wrong")
        p = poller(dovecot, mailbox, tmp_path, core, imap_password_env="HALL_WRONG_PW")
    task = asyncio.create_task(p.run())
    try:
        for _ in range(2):  # failed rounds, backing off, and still running (Dovecot delays failed logins)
            p.polled.clear()
            await asyncio.wait_for(p.polled.wait(), 10)
        assert not task.done()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert core.taken == [] and p.box.imap is None
