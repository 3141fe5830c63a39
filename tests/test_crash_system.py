"""Nothing acknowledged is lost across the whole hall: SIGKILL at random moments under mixed load.

A real server process (`python -m hall serve`) with WeChat and the phone channel (AMI) enabled against
loopback peers (tests/callcenter/wechat/fake_api.py, tests/callcenter/ami/fake_asterisk.py), under a
mixed load: kiosks issuing, two windows calling and finishing, citizens rating finished tickets by the
QR code's ticket token, WeChat followers sending signed, encrypted messages, and queue calls on the
hotline (answered, abandoned, and callers left waiting). The process is killed with SIGKILL at a random
moment, three times, and started again. A screen (`/ws/screen`, display device token) and a desk
(`/api/live`, staff token) stay connected throughout and reconnect by themselves, resuming from the last
event id they saw, as hall/display/agent.py and the desk page do.

"Acknowledged" means the server answered for it before the kill:
- a ticket: 201 from POST /api/tickets (its number as answered);
- a call: 200 from POST /api/windows/N/call (that ticket at that window);
- a rating: 201 from POST /api/ratings;
- a WeChat message: 200 with an encrypted, signed reply naming a case number (a message not saved within
  answer_seconds is answered "success" without a number, which WeChat does not take as an answer);
- a phone call: AMI events are not acknowledged to Asterisk at all, so events in flight at the kill may
  be lost by nature. What is promised instead: (a) every phone case message (join / answer / end /
  abandon of a call) that was committed before the kill, as read from the database just before it, is
  still there after the restart; (b) every caller still waiting in Asterisk's queue when Hall comes back
  is known again from QueueStatus, its join recorded (once) on its case within seconds of the login,
  whether or not its QueueCallerJoin was seen before the kill; (c) no step of a call is recorded twice.

After each restart: each acknowledged thing above is in the database, no ticket number was handed out
twice, no window holds two tickets, the waiting counts match the tickets, and everything committed
before the kill is still there. At the end: the screen saw every call event (ticket.called / recalled)
exactly once, counted as received, without deduplicating on the client, and the desk every event
exactly once, with no snapshot or resync needed.

Run it with `.venv/bin/pytest tests/test_crash_system.py -v` (~30–50 s on two cores).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from hall import config as config_mod
from hall.callcenter.wechat import crypto
from hall.callcenter.wechat.messages import parse_xml
from hall.queue.store import COUNTS_DRIFT_SQL

from .callcenter.ami.fake_asterisk import FakeAsterisk, Member
from .callcenter.wechat.fake_api import APP_ID, FakeWechatApi
from .server_process import ServerProcess, hall_cli

TOKEN = "crashToken2026"
AES_KEY = "Crash0EncodingAESKey0for0the0hall0WeChat012"
# Fresh secrets each run: the server refuses to start with demo or published ones (the fake API's own
# default AppSecret is published in tests/callcenter/wechat/fake_api.py).
SECRET = secrets.token_hex(16)
AMI_SECRET = secrets.token_urlsafe(18)
PASSWORD = "crash-pass-1"
KILLS = 3
AGENTS = {"agent1": "PJSIP/8001", "agent2": "PJSIP/8002"}

HALL = """
[hall]
name = "断电测试大厅"

[auth]
scrypt_n = 1024

[[sections]]
id = "A"
name = "综合受理"
daily_cap = 100000
hours = ["00:00-24:00"]
days = "daily"

[[sections]]
id = "B"
name = "不动产登记"
daily_cap = 100000
hours = ["00:00-24:00"]
days = "daily"

[[windows]]
no = 1
sections = ["*"]

[[windows]]
no = 2
sections = ["*"]

[callcenter.wechat]
enabled = true
app_id = "{app_id}"
mode = "safe"
base_url = "{wechat_url}"

[callcenter.ami]
enabled = true
port = {ami_port}
queues = ["hotline"]
reconnect_max_seconds = 1
agents = {{ agent1 = "PJSIP/8001", agent2 = "PJSIP/8002" }}
"""

# The rate limiter (hall/web/ratelimit.py) would throttle one kiosk issuing at full speed: off here.
LIMITS_OFF = "\n[limits]\nenabled = false\n" if hasattr(config_mod, "LIMIT_SETTINGS") else ""


@dataclass
class Acked:
    tickets: dict[int, str] = field(default_factory=dict)  # id -> number answered
    tokens: dict[int, str] = field(default_factory=dict)  # id -> the QR code's ticket token
    calls: dict[int, int] = field(default_factory=dict)  # ticket id -> window that called it
    finished: list[int] = field(default_factory=list)  # tickets finished (200), to be rated
    ratings: dict[int, int] = field(default_factory=dict)  # ticket id -> grade
    wechat: dict[str, str] = field(default_factory=dict)  # MsgId -> case number answered
    phone_calls: int = 0
    waiting_rebuilt: int = 0


# -- the load ---------------------------------------------------------------------------------------------


async def issue_forever(session, url, kiosk, acked: Acked, section: str) -> None:
    headers = {"Authorization": f"Bearer {kiosk}"}
    while True:
        try:
            async with session.post(f"{url}/api/tickets", json={"section": section}, headers=headers) as resp:
                if resp.status == 201:
                    body = await resp.json()
                    acked.tickets[body["id"]] = body["number"]
                    acked.tokens[body["id"]] = body["token"]
            await asyncio.sleep(0.01)
        except (TimeoutError, aiohttp.ClientError):
            return  # the server is gone


async def call_forever(session, url, headers, no: int, acked: Acked) -> None:
    while True:
        try:
            async with session.post(f"{url}/api/windows/{no}/call", headers=headers) as resp:
                ticket_id = None
                if resp.status == 200:
                    ticket_id = (await resp.json())["ticket"]["id"]
                    acked.calls[ticket_id] = no
                elif resp.status != 204:
                    raise AssertionError(f"call answered {resp.status}: {await resp.text()}")
            async with session.post(f"{url}/api/windows/{no}/finish", headers=headers) as resp:
                assert resp.status in (200, 409), await resp.text()
                if resp.status == 200 and ticket_id is not None:
                    acked.finished.append(ticket_id)
            await asyncio.sleep(0.02)
        except (TimeoutError, aiohttp.ClientError):
            return


async def rate_forever(session, url, acked: Acked, rng: random.Random, killed: asyncio.Event) -> None:
    """Citizens scanning the QR code on their ticket once it is finished."""
    while not killed.is_set():
        todo = [t for t in acked.finished if t not in acked.ratings and t in acked.tokens]
        if not todo:
            await asyncio.sleep(0.02)
            continue
        ticket_id = todo[0]
        grade = rng.choice([1, 3, 4, 5, 5, 5])
        body = {"ticket_token": acked.tokens[ticket_id], "grade": grade}
        if grade <= 2:
            body["comment"] = "等了很久,窗口还让我再跑一趟"  # a bad grade needs a reason
        try:
            async with session.post(f"{url}/api/ratings", json=body) as resp:
                if resp.status == 201:
                    acked.ratings[ticket_id] = grade
                elif resp.status == 409:  # rated before the kill, answer lost: the database says
                    acked.ratings[ticket_id] = -1
                else:
                    raise AssertionError(f"rating answered {resp.status}: {await resp.text()}")
        except (TimeoutError, aiohttp.ClientError):
            return


class Wechat:
    """Signs, encrypts and posts messages as WeChat's servers do; reads the encrypted reply."""

    def __init__(self, acked: Acked) -> None:
        self.box = crypto.MessageCrypto(AES_KEY, APP_ID)
        self.acked = acked
        self.serial = 0

    async def send(self, session, url: str, openid: str) -> None:
        self.serial += 1
        msg_id = str(7 * 10**15 + self.serial)
        body = (
            f"<xml><ToUserName><![CDATA[gh_crash000001]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
            f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[断电测试留言 {msg_id}:请问办理进度?]]></Content><MsgId>{msg_id}</MsgId></xml>"
        ).encode()
        timestamp, nonce = str(int(time.time())), str(random.randrange(10**9))
        encrypt = self.box.encrypt(body)
        params = {
            "signature": crypto.signature(TOKEN, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": openid,
            "encrypt_type": "aes",
            "msg_signature": crypto.signature(TOKEN, timestamp, nonce, encrypt),
        }
        envelope = (
            f"<xml><ToUserName><![CDATA[gh_crash000001]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        )
        async with session.post(f"{url}/wechat", params=params, data=envelope.encode()) as resp:
            text = await resp.text()
            if resp.status != 200 or text == "success":
                return  # not answered with a case number: not acknowledged
        outer = parse_xml(text.encode())
        assert outer["MsgSignature"] == crypto.signature(TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
        content = parse_xml(self.box.decrypt(outer["Encrypt"]))["Content"]
        self.acked.wechat[msg_id] = content.split("工单号 ")[1].split(",")[0]

    async def forever(self, session, url: str, rng: random.Random) -> None:
        while True:
            try:
                await self.send(session, url, f"oCrash{rng.randrange(12):022d}")
                await asyncio.sleep(0.02)
            except (TimeoutError, aiohttp.ClientError):
                return


async def phone_forever(asterisk: FakeAsterisk, acked: Acked, rng: random.Random) -> None:
    """Hotline calls as app_queue sends them: answered by a free agent, or abandoned."""
    while True:
        caller = await asterisk.caller_joins(f"138{rng.randrange(10**8):08d}", "王先生")
        acked.phone_calls += 1
        await asyncio.sleep(0.01)
        if rng.random() < 0.3:
            await asterisk.caller_abandons(caller)
        else:
            interface = rng.choice(list(AGENTS.values()))
            await asterisk.agent_answers(caller, interface)
            await asyncio.sleep(0.01)
            await asterisk.call_completes(caller, talk=rng.randrange(20, 300))
        await asyncio.sleep(0.03)


# -- the screen and the desk, reconnecting by themselves --------------------------------------------------


class Screen:
    """A hall screen on /ws/screen: resumes after the last event id it saw, as the display agent does."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.last = 0
        self.first_snapshot: int | None = None
        self.snapshots = 0
        self.calls: Counter[int] = Counter()  # call event id -> times received (no client-side dedupe)
        self.connects = 0

    async def run(self, session: aiohttp.ClientSession) -> None:
        while True:
            try:
                params = {"token": self.token, "after": str(self.last)}
                async with session.ws_connect(f"{self.url}/ws/screen", params=params, heartbeat=5) as ws:
                    self.connects += 1
                    await ws.send_json(
                        {"type": "hello", "name": "crash-screen", "kind": "screen", "last_id": self.last}
                    )
                    async for msg in ws:
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            break
                        await self.handle(ws, json.loads(msg.data))
            except (aiohttp.ClientError, OSError, TimeoutError):
                pass
            await asyncio.sleep(0.1)

    async def handle(self, ws, m: dict) -> None:
        kind = m.get("type")
        if kind == "snapshot":
            self.snapshots += 1
            self.first_snapshot = m["id"] if self.first_snapshot is None else self.first_snapshot
            self.last = max(self.last, m["id"])
        elif isinstance(m.get("payload"), dict):
            if kind in ("ticket.called", "ticket.recalled"):
                self.calls[m["id"]] += 1
            self.last = max(self.last, m["id"])
        elif kind == "ping":
            await ws.send_json({"type": "ack", "last_id": self.last})


class Desk:
    """A desk page on /api/live: resumes with ?after=<last event id>."""

    def __init__(self, url: str, headers: dict) -> None:
        self.url, self.headers = url, headers
        self.last = 0
        self.start: int | None = None
        self.seen: Counter[int] = Counter()
        self.resyncs = 0
        self.connects = 0

    async def run(self, session: aiohttp.ClientSession) -> None:
        while True:
            try:
                async with session.ws_connect(
                    f"{self.url}/api/live", params={"after": str(self.last)}, headers=self.headers, heartbeat=5
                ) as ws:
                    self.connects += 1
                    async for msg in ws:
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            break
                        m = json.loads(msg.data)
                        if m["type"] == "hello" and self.start is None:
                            self.start = self.last = m["last_id"]
                        elif m["type"] == "resync":
                            self.resyncs += 1
                            self.last = m["last_id"]
                        elif m["type"] == "event":
                            self.seen[m["event"]["id"]] += 1
                            self.last = max(self.last, m["event"]["id"])
            except (aiohttp.ClientError, OSError, TimeoutError):
                pass
            await asyncio.sleep(0.1)


# -- the database, read after the restart (the ground truth) ---------------------------------------------


def read(db: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def committed(db: Path) -> dict[str, set]:
    """What is on disk now: read just before a kill, it must all be there after the restart."""
    return {
        "tickets": {r[0] for r in read(db, "SELECT id FROM tickets")},
        "ratings": {r[0] for r in read(db, "SELECT id FROM ratings")},
        "events": {r[0] for r in read(db, "SELECT id FROM events")},
        "messages": {(r[0], r[1]) for r in read(db, "SELECT channel, external_id FROM case_messages")},
    }


async def until(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        await asyncio.sleep(0.05)


async def login(session, url: str, username: str) -> dict:
    async with session.post(f"{url}/api/auth/login", json={"username": username, "password": PASSWORD}) as r:
        assert r.status == 200, await r.text()
        return {"Authorization": f"Bearer {(await r.json())['token']}"}


def check_after_restart(db: Path, acked: Acked, before_kill: dict[str, set]) -> None:
    tickets = {r["id"]: dict(r) for r in read(db, "SELECT id, number, status, window_no FROM tickets")}
    lost = {i: n for i, n in acked.tickets.items() if tickets.get(i, {}).get("number") != n}
    assert not lost, f"{len(lost)} acknowledged tickets lost or renumbered"
    for ticket_id, no in acked.calls.items():
        t = tickets[ticket_id]
        assert t["status"] in ("called", "serving", "done") and t["window_no"] == no, t
    numbers = [t["number"] for t in tickets.values()]
    assert len(numbers) == len(set(numbers)), "a number was issued twice"
    held = [t["window_no"] for t in tickets.values() if t["status"] in ("called", "serving")]
    assert len(held) == len(set(held)), "a window holds two tickets"
    assert read(db, COUNTS_DRIFT_SQL) == [], "waiting counts drifted"
    rated = {r["ticket_id"]: r["grade"] for r in read(db, "SELECT ticket_id, grade FROM ratings WHERE kind = 'first'")}
    for ticket_id, grade in acked.ratings.items():
        if grade > 0:
            assert rated.get(ticket_id) == grade, f"acknowledged rating of ticket {ticket_id} lost"
        elif grade == -1:
            assert ticket_id in rated, f"ticket {ticket_id} said already rated, yet no rating"
    stored = {
        r["external_id"]: r["no"]
        for r in read(
            db,
            "SELECT m.external_id, c.no FROM case_messages m JOIN cases c ON c.id = m.case_id "
            "WHERE m.channel = 'wechat' AND m.direction = 'in'",
        )
    }
    lost_messages = {m: n for m, n in acked.wechat.items() if stored.get(m) != n}
    assert not lost_messages, f"answered WeChat messages lost or on another case: {lost_messages}"
    now = committed(db)
    for what, rows in before_kill.items():
        gone = rows - now[what]
        assert not gone, f"{len(gone)} {what} committed before the kill are gone: {sorted(gone)[:5]}"
    steps = read(
        db, "SELECT external_id, COUNT(*) AS n FROM case_messages WHERE channel = 'phone' GROUP BY external_id"
    )
    assert all(r["n"] == 1 for r in steps), "a call's step recorded twice"
    pops = read(
        db,
        "SELECT json_extract(payload, '$.call_id') AS c, COUNT(*) AS n FROM events "
        "WHERE type = 'call.answered' GROUP BY c HAVING n > 1",
    )
    assert pops == [], "a call popped up on the desk twice"


@pytest.mark.timeout(170)
async def test_sigkill_under_mixed_load_loses_nothing_acknowledged(tmp_path):
    rng = random.Random(20261122)
    members = [Member(iface, f"坐席{agent[-1]}") for agent, iface in AGENTS.items()]
    async with FakeAsterisk("hall", AMI_SECRET, {"hotline": members}, auth_fail_delay=0.05) as asterisk:
        wechat_api = await FakeWechatApi(app_id=APP_ID, secret=SECRET).start()
        try:
            await run(tmp_path, rng, asterisk, wechat_api)
        finally:
            await wechat_api.close()


async def run(tmp_path: Path, rng: random.Random, asterisk: FakeAsterisk, wechat_api: FakeWechatApi) -> None:
    config = tmp_path / "crash.toml"
    text = HALL.format(app_id=APP_ID, wechat_url=wechat_api.base_url, ami_port=asterisk.port) + LIMITS_OFF
    config.write_text(text, encoding="utf-8")
    db = tmp_path / "crash.db"
    env = {
        "HALL_WECHAT_TOKEN": TOKEN,
        "HALL_WECHAT_AES_KEY": AES_KEY,
        "HALL_WECHAT_SECRET": SECRET,
        "HALL_AMI_SECRET": AMI_SECRET,
        "HALL_ADMIN_PASSWORD": "crash-admin-pw",
    }

    def cli(*args: str, stdin: str = "") -> str:
        done = hall_cli(*args, "--config", str(config), "--db", str(db), stdin=stdin, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    kiosk = cli("device", "add", "kiosk", "--kind", "kiosk")
    display = cli("device", "add", "screen", "--kind", "display")
    for name, role in (("staff1", "staff"), ("staff2", "staff"), ("desk", "staff"), *((a, "agent") for a in AGENTS)):
        cli("user", "add", name, "--role", role, stdin=PASSWORD + "\n")

    server = ServerProcess(config, db, env=env)
    acked = Acked()
    wechat = Wechat(acked)
    figures: dict[str, float] = {"downtime_s": 0.0}
    started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=10)
    try:
        mark = asterisk.logins
        server.start()
        async with aiohttp.ClientSession(timeout=timeout) as watch:
            screen = Screen(server.url, display)
            desk = Desk(server.url, await login(watch, server.url, "desk"))
            watchers = [asyncio.create_task(screen.run(watch)), asyncio.create_task(desk.run(watch))]
            try:
                for cycle in range(KILLS):
                    await until(lambda n=mark: asterisk.logins > n, 15, "AMI login")
                    await asyncio.sleep(0.3)  # QueueStatus answered: the hall follows the queue
                    # callers who join now and are still waiting when the server dies
                    waiting = [await asterisk.caller_joins(f"139{cycle:04d}{i:04d}", "李女士") for i in range(2)]
                    gone = asyncio.Event()
                    async with aiohttp.ClientSession(timeout=timeout) as session:
                        windows = []
                        for no in (1, 2):
                            headers = await login(session, server.url, f"staff{no}")
                            async with session.post(f"{server.url}/api/windows/{no}/open", headers=headers) as r:
                                assert r.status == 200, await r.text()
                            windows.append(headers)
                        tasks = [
                            asyncio.create_task(issue_forever(session, server.url, kiosk, acked, "AB"[i % 2]))
                            for i in range(6)
                        ]
                        tasks += [
                            asyncio.create_task(call_forever(session, server.url, h, no, acked))
                            for no, h in zip((1, 2), windows, strict=True)
                        ]
                        tasks.append(asyncio.create_task(rate_forever(session, server.url, acked, rng, gone)))
                        tasks += [asyncio.create_task(wechat.forever(session, server.url, rng)) for _ in range(2)]
                        phone = asyncio.create_task(phone_forever(asterisk, acked, rng))
                        await asyncio.sleep(rng.uniform(1.5, 3.0))
                        before_kill = await asyncio.to_thread(committed, db)
                        await asyncio.to_thread(server.kill)
                        killed = time.monotonic()
                        gone.set()
                        phone.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await phone
                        await asyncio.wait_for(asyncio.gather(*tasks), 30)
                    # Callers hang on in the queue while the hall is down; more join meanwhile.
                    waiting += [await asterisk.caller_joins(f"137{cycle:04d}{i:04d}", "赵先生") for i in range(2)]
                    mark = asterisk.logins
                    server.start()
                    figures["downtime_s"] += time.monotonic() - killed
                    check_after_restart(db, acked, before_kill)
                    # Everyone waiting in Asterisk's queue is known again from QueueStatus, once.
                    in_queue = [c.uniqueid for c in asterisk.queues["hotline"].entries]
                    assert {c.uniqueid for c in waiting} <= set(in_queue)

                    def rebuilt(ids=tuple(in_queue)) -> bool:
                        joins = {
                            r[0] for r in read(db, "SELECT external_id FROM case_messages WHERE channel = 'phone'")
                        }
                        return all(f"{uid}/join" in joins for uid in ids)

                    await until(rebuilt, 10, "callers waiting in the queue known again after the restart")
                    acked.waiting_rebuilt += len(in_queue)
                    # They are answered now; the next cycle's load carries on.
                    for caller in waiting:
                        await asterisk.agent_answers(caller, AGENTS["agent1"])
                        await asterisk.call_completes(caller, talk=60)
                    async with aiohttp.ClientSession(timeout=timeout) as session:
                        for no in (1, 2):
                            headers = await login(session, server.url, f"staff{no}")
                            async with session.post(f"{server.url}/api/windows/{no}/finish", headers=headers):
                                pass
                            async with session.post(f"{server.url}/api/windows/{no}/close", headers=headers) as r:
                                assert r.status == 200, await r.text()
                # The screen and the desk catch up by themselves, then every call event was seen once.
                top = read(db, "SELECT max(id) FROM events")[0][0]
                await until(lambda: screen.last >= top and desk.last >= top, 15, "screen and desk caught up")
            finally:
                for task in watchers:
                    task.cancel()
                await asyncio.gather(*watchers, return_exceptions=True)
        check_after_restart(db, acked, committed(db))
        assert screen.first_snapshot is not None and screen.snapshots == 1, "the screen needed a fresh snapshot"
        calls = {
            r[0]
            for r in read(
                db,
                "SELECT id FROM events WHERE type IN ('ticket.called', 'ticket.recalled') AND id > ?",
                (screen.first_snapshot,),
            )
        }
        assert set(screen.calls) == calls, f"screen missed {len(calls - set(screen.calls))} call events"
        assert all(n == 1 for n in screen.calls.values()), "the screen was sent a call event twice"
        everything = {r[0] for r in read(db, "SELECT id FROM events WHERE id > ?", (desk.start,))}
        assert desk.resyncs == 0 and set(desk.seen) == everything, f"desk missed {len(everything - set(desk.seen))}"
        assert all(n == 1 for n in desk.seen.values()), "the desk was sent an event twice"
        assert screen.connects >= KILLS + 1 and desk.connects >= KILLS + 1
        # the load was real
        assert len(acked.tickets) > 150 and len(acked.calls) > 30, (len(acked.tickets), len(acked.calls))
        assert sum(g > 0 for g in acked.ratings.values()) > 10 and len(acked.wechat) > 20 and acked.phone_calls > 30
        figures.update(
            kills=KILLS,
            seconds=round(time.monotonic() - started, 1),
            tickets=len(acked.tickets),
            calls=len(acked.calls),
            ratings=sum(g > 0 for g in acked.ratings.values()),
            wechat=len(acked.wechat),
            phone_calls=acked.phone_calls,
            waiting_rebuilt=acked.waiting_rebuilt,
            call_events_on_screen=len(screen.calls),
            desk_events=len(desk.seen),
        )
        print("crash figures:", json.dumps(figures, ensure_ascii=False))
    finally:
        server.kill()
