"""A real Dovecot IMAP server on loopback (started once per session) and a real aiosmtpd SMTP server per test.

Dovecot missing or not starting fails the tests, it does not skip them:
`make test` installs it (`scripts/apt-ensure dovecot-imapd`).
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import imaplib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope

from hall.callcenter.mail.imap import login
from hall.callcenter.mail.settings import MailSettings

USER, PASSWORD = "hall", "s3cret-测试"
PASSWORD_ENV = "HALL_TEST_IMAP_PASSWORD"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dovecot_binary() -> str:
    found = shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)
    if not found:
        pytest.fail("dovecot is not installed: run `scripts/apt-ensure dovecot-imapd` (make test does)", pytrace=False)
    return found


def _config(root: Path, port: int, internal: str, login: str) -> str:
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass
class Dovecot:
    port: int
    root: Path

    def settings(self, mailbox: str, **changes) -> MailSettings:
        base = MailSettings(
            enabled=True,
            imap_host="127.0.0.1",
            imap_port=self.port,
            imap_security="none",
            imap_user=USER,
            imap_password_env=PASSWORD_ENV,
            imap_mailbox=mailbox,
            poll_seconds=1,
            timeout_seconds=10,
            smtp_host="127.0.0.1",
            smtp_port=25,
            smtp_security="none",
            from_address="12345@hall.example.gov.cn",
        )
        return replace(base, **changes)

    def imap(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            login(imap, USER, PASSWORD)
        except BaseException:
            imap.shutdown()
            raise
        return imap

    def create(self, mailbox: str) -> None:
        imap = self.imap()
        try:
            assert imap.create(mailbox)[0] == "OK"
        finally:
            imap.logout()

    def deliver(self, mailbox: str, raw: bytes, flags: str | None = None) -> None:
        """Put a message in the mailbox as the mail server would (IMAP APPEND, unread)."""
        imap = self.imap()
        try:
            status, data = imap.append(mailbox, flags, None, raw)
            assert status == "OK", data
        finally:
            imap.logout()

    def flags(self, mailbox: str) -> dict[int, str]:
        imap = self.imap()
        try:
            imap.select(mailbox)
            status, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            out = {}
            for line in data:
                if isinstance(line, bytes) and b"UID" in line:
                    parts = line.decode().split("UID ", 1)[1]
                    uid = int(parts.split()[0].strip(")"))
                    out[uid] = line.decode().split("FLAGS (", 1)[1].split(")", 1)[0]
            return out
        finally:
            imap.logout()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = _dovecot_binary()
    root = Path(tempfile.mkdtemp(prefix="hall-dovecot-"))
    root.chmod(0o755)  # the mail processes run as the mail user and must reach the maildir
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        internal, login = "dovecot", "dovenull"
        for name in (internal, login):
            try:
                pwd.getpwnam(name)
            except KeyError:
                pytest.fail(f"user {name} missing: is dovecot-core installed properly?", pytrace=False)
        mail_user = pwd.getpwnam(internal)
        os.chown(root / "mail", mail_user.pw_uid, mail_user.pw_gid)
    else:
        internal = login = pwd.getpwuid(os.getuid()).pw_name
        mail_user = pwd.getpwuid(os.getuid())
    (root / "users").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{mail_user.pw_uid}:{mail_user.pw_gid}::{root}/mail/{USER}\n"
    )
    port = free_port()
    (root / "dovecot.conf").write_text(_config(root, port, internal, login))
    with open(root / "stderr.log", "wb") as stderr:
        proc = subprocess.Popen(
            [binary, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL, stderr=stderr
        )
    os.environ[PASSWORD_ENV] = PASSWORD
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                log = (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
                err = (root / "stderr.log").read_text(errors="replace")
                pytest.fail(f"dovecot exited with {proc.returncode}:\n{err}\n{log}", pytrace=False)
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                pytest.fail("dovecot did not listen within 15 s", pytrace=False)
            time.sleep(0.1)
        yield Dovecot(port, root)
    finally:
        os.environ.pop(PASSWORD_ENV, None)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)


_folders = itertools.count(1)


@pytest.fixture
def mailbox(dovecot: Dovecot) -> str:
    """A fresh, empty folder of the test mailbox: each test sees only its own mail."""
    name = f"T{os.getpid()}x{next(_folders)}x{time.monotonic_ns()}"
    dovecot.create(name)
    return name


@dataclass
class Collector:
    """The loopback SMTP server's inbox."""

    envelopes: list[Envelope] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: SMTP, session: object, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        self.arrived.set()
        return "250 OK"


@dataclass
class SmtpServer:
    port: int
    inbox: Collector


@pytest.fixture
async def smtp_server() -> AsyncIterator[SmtpServer]:
    inbox = Collector()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(inbox, hostname="mx.test", ident="test"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield SmtpServer(port, inbox)
    finally:
        server.close()
        await server.wait_closed()
