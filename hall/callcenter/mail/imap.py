"""Polling the complaint mailbox: Python's imaplib, run in a thread, one message at a time.

A message is handed to the case core, and only once the core has committed
it is the UID cursor moved past it and the message marked \\Seen. A crash in
between fetches it again on restart, and the core's Message-ID dedupe drops
the copy: nothing is lost, nothing doubled. The cursor (UIDVALIDITY and the last UID
imported, kept in a small file) means a restart does not re-import, even mail
someone has marked unread by hand; with no cursor yet, UNSEEN mail is taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import json
import logging
import os
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from .settings import MailSettings

log = logging.getLogger("hall.callcenter.mail")

MAX_BACKOFF_S = 300.0
GIVE_UP_AFTER = 5  # a message the core refuses this many times in a row is flagged and passed by
FAILED_FLAG = "$HallFailed"

# Hands one raw message (or only its header, with the size left out) to the core; returns once committed.
Deliver = Callable[[bytes, "int | None"], Awaitable[object]]


class MailboxError(Exception):
    """The IMAP server refused or broke off; the poller reconnects after a pause."""


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int
    last_uid: int


class CursorFile:
    """The last imported UID, kept across restarts (written atomically)."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key  # host, user and mailbox: a cursor for another mailbox is not used

    def load(self) -> Cursor | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("mailbox") != self.key:
                return None
            return Cursor(int(data["uidvalidity"]), int(data["last_uid"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self, cursor: Cursor) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = {"mailbox": self.key, "uidvalidity": cursor.uidvalidity, "last_uid": cursor.last_uid}
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def fetch_limit(settings: MailSettings) -> int:
    """Mails larger than this are fetched header only: base64 makes attachments a third larger, plus the text."""
    return settings.max_message_bytes * 3 // 2 + 64_000


def _check(result: tuple[str, list], what: str) -> list:
    status, data = result
    if status != "OK":
        raise MailboxError(f"{what}: {status} {data!r}"[:300])
    return data


class Mailbox:
    """One IMAP connection; blocking calls, meant for `asyncio.to_thread`."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.imap: imaplib.IMAP4 | None = None
        self.uidvalidity = 0

    def connect(self) -> None:
        s = self.settings
        if s.imap_security == "ssl":
            imap = imaplib.IMAP4_SSL(
                s.imap_host, s.imap_port, ssl_context=ssl.create_default_context(), timeout=s.timeout_seconds
            )
        else:
            imap = imaplib.IMAP4(s.imap_host, s.imap_port, timeout=s.timeout_seconds)
        self.imap = imap
        try:
            if s.imap_security == "starttls":
                _check(imap.starttls(ssl.create_default_context()), "STARTTLS")
            login(imap, s.imap_user, s.imap_password())
            _check(imap.select(_quote(s.imap_mailbox)), f"SELECT {s.imap_mailbox}")
            validity = imap.response("UIDVALIDITY")[1]
            self.uidvalidity = int(validity[0]) if validity and validity[0] else 0
        except Exception:
            self.abort()
            raise

    def new_uids(self, cursor: Cursor | None) -> list[int]:
        """UIDs to import, oldest first: above the cursor, or UNSEEN when there is no cursor for this mailbox."""
        imap = self._imap()
        _check(imap.noop(), "NOOP")  # also notices a connection the server dropped
        if cursor and cursor.uidvalidity == self.uidvalidity:
            data = _check(imap.uid("SEARCH", f"UID {cursor.last_uid + 1}:*"), "UID SEARCH")
            floor = cursor.last_uid
        else:
            data = _check(imap.uid("SEARCH", "UNSEEN"), "UID SEARCH UNSEEN")
            floor = 0
        uids = {int(u) for chunk in data if chunk for u in chunk.split()}
        return sorted(u for u in uids if u > floor)  # "n:*" always matches the highest UID, even below n

    def fetch(self, uid: int) -> tuple[bytes, int | None] | None:
        """The whole message (without setting \\Seen), or only its header and its size when it is too large."""
        imap = self._imap()
        data = _check(imap.uid("FETCH", str(uid), "(RFC822.SIZE)"), "FETCH SIZE")
        size = _size(data)
        if size is None:
            return None  # expunged meanwhile
        if size > fetch_limit(self.settings):
            return _literal(_check(imap.uid("FETCH", str(uid), "(BODY.PEEK[HEADER])"), "FETCH HEADER")), size
        return _literal(_check(imap.uid("FETCH", str(uid), "(BODY.PEEK[])"), "FETCH")), None

    def mark_seen(self, uid: int) -> None:
        _check(self._imap().uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)"), "STORE \\Seen")

    def flag_failed(self, uid: int) -> None:
        """Mark a message the core would not take, so people see it in the mailbox (best effort)."""
        with contextlib.suppress(Exception):
            self._imap().uid("STORE", str(uid), "+FLAGS.SILENT", f"({FAILED_FLAG})")

    def logout(self) -> None:
        imap, self.imap = self.imap, None
        if imap is None:
            return
        try:
            imap.logout()
        except Exception:
            with contextlib.suppress(Exception):
                imap.shutdown()

    def abort(self) -> None:
        """Drop the connection at once, also from another thread while a call blocks on it."""
        imap, self.imap = self.imap, None
        if imap is None:
            return
        with contextlib.suppress(Exception):
            imap.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            imap.shutdown()

    def _imap(self) -> imaplib.IMAP4:
        if self.imap is None:
            raise MailboxError("not connected")
        return self.imap


def login(imap: imaplib.IMAP4, user: str, password: str) -> None:
    """LOGIN, or AUTHENTICATE PLAIN in UTF-8 for credentials imaplib's LOGIN cannot send (it is ASCII only)."""
    if (user + password).isascii():
        _check(imap.login(user, password), "LOGIN")
    else:
        _check(imap.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode()), "AUTHENTICATE PLAIN")


def _quote(mailbox: str) -> str:
    return mailbox if re.fullmatch(r"[A-Za-z0-9_.-]+", mailbox) else '"' + mailbox.replace('"', '\\"') + '"'


def _size(data: list) -> int | None:
    for item in data:
        head = item[0] if isinstance(item, tuple) else item
        if isinstance(head, bytes):
            match = re.search(rb"RFC822\.SIZE (\d+)", head)
            if match:
                return int(match.group(1))
    return None


def _literal(data: list) -> bytes:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    raise MailboxError("FETCH answered without the message")


class Poller:
    """Looks at the mailbox every `poll_seconds`, hands new mail to `deliver`, and survives any failure."""

    def __init__(self, settings: MailSettings, deliver: Deliver, cursor_file: CursorFile) -> None:
        self.settings = settings
        self.deliver = deliver
        self.cursor_file = cursor_file
        self.box = Mailbox(settings)
        self.failures: dict[int, int] = {}
        self.imported = 0
        self.polled = asyncio.Event()  # set after every round, for whoever waits on one (tests, status)
        self.retry_base = 2.0  # seconds before the first reconnect; doubled each failure up to MAX_BACKOFF_S
        self.last_ok: float | None = None  # time.monotonic() of the last poll that worked, for /healthz
        self.last_error: str | None = None  # why the last poll failed; None once one works again

    async def poll_once(self) -> int:
        """One look at the mailbox: import everything new; return how many messages the core took."""
        if self.box.imap is None:
            await asyncio.to_thread(self.box.connect)
            log.info("mailbox %s@%s connected", self.settings.imap_user, self.settings.imap_host)
        cursor = await asyncio.to_thread(self.cursor_file.load)
        uids = await asyncio.to_thread(self.box.new_uids, cursor)
        taken = 0
        for uid in uids:
            fetched = await asyncio.to_thread(self.box.fetch, uid)
            delivered = False
            if fetched is not None:
                try:
                    await self.deliver(*fetched)
                    delivered = True
                except Exception:
                    count = self.failures.get(uid, 0) + 1
                    self.failures[uid] = count
                    if count < GIVE_UP_AFTER:
                        log.exception("mail UID %d not taken by the core (try %d): retried next round", uid, count)
                        break  # keep the cursor before it
                    log.error("mail UID %d refused %d times: flagged %s and passed by", uid, count, FAILED_FLAG)
                    await asyncio.to_thread(self.box.flag_failed, uid)
                self.failures.pop(uid, None)
            # The cursor first: once the core has a mail it is not fetched again, even if \Seen never gets stored.
            await asyncio.to_thread(self.cursor_file.save, Cursor(self.box.uidvalidity, uid))
            if delivered:
                taken += 1
                self.imported += 1
                await asyncio.to_thread(self.box.mark_seen, uid)
        return taken

    async def run(self) -> None:
        failures = 0
        try:
            while True:
                try:
                    await self.poll_once()
                    failures = 0
                    self.last_ok, self.last_error = time.monotonic(), None
                    pause = float(self.settings.poll_seconds)
                except (imaplib.IMAP4.error, MailboxError, OSError, TimeoutError, ValueError, EOFError) as e:
                    failures += 1
                    self.last_error = f"{type(e).__name__} {e}"[:200]
                    pause = min(MAX_BACKOFF_S, self.retry_base * 2 ** (failures - 1))
                    log.warning(
                        "mailbox %s: %s %s; again in %.0f s", self.settings.imap_host, type(e).__name__, e, pause
                    )
                    await asyncio.to_thread(self.box.abort)
                except Exception as e:  # never take the server down with the mailbox
                    failures += 1
                    self.last_error = type(e).__name__
                    pause = min(MAX_BACKOFF_S, self.retry_base * 2 ** (failures - 1))
                    log.exception("mailbox poll failed; again in %.0f s", pause)
                    await asyncio.to_thread(self.box.abort)
                self.polled.set()
                await asyncio.sleep(pause)
        finally:
            # cancelled: a call may still block in its thread; dropping the socket ends it
            self.box.abort()
