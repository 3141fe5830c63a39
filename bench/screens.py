"""Hall benchmark of the screens' push (/ws/screen): how long until the last of 1,000 screens shows a call.

Run it with `make bench` (after bench/run.py) or `.venv/bin/python bench/screens.py` from
the project root; it stops by itself in two to three minutes. `--help` lists the knobs.

Against a fresh hall in a temporary directory (the bench config of bench/run.py), served
by `python -m hall serve` on 127.0.0.1. The server inherits this process's open-file
limit, raised to SCREENS + 1,024 when lower (checked in /proc/<pid>/limits).

1. Setup over the API as admin: a kiosk, one staff member per window serving section A
   (the 7 windows of the demo hall that do), each signed in at their window, DEVICES
   display devices (one per screen, as in a hall), and an A ticket for every call. All
   tickets are issued before any screen connects.
2. SCREENS WebSocket clients connect to /ws/screen?token=<a display device's token>, split
   over WORKERS client processes (aiohttp on uvloop), offering permessage-deflate as every
   browser does (--no-deflate: not). Each reads hello and snapshot, says hello as a screen
   (`{"type": "hello", "name": "bench-N", "kind": "screen", …, "last_id"}`), acks at most
   every 2 s and on pings as static/js/screen.js does, and otherwise only records each
   event's id (sliced from the text, not parsed) and time.perf_counter() at its arrival.
   Sound is off, as on a screen nobody switched it on: no WAV is fetched.
3. Once every screen has received every event for screens so far (the hub sends screens
   only the event types they use, hall.display.hub.for_screens), the staff call:
   LONE_CALLS calls LONE_INTERVAL_S apart (one call's fan-out on its own), PACED_CALLS calls
   INTERVAL_S apart, then BURST_CALLS back to back (every window loops call → finish as fast
   as it is answered). Paced calls rotate
   over the windows and each ticket is finished half an interval after its call. The
   caller records when each request left and its answer arrived; CLOCK_MONOTONIC
   (perf_counter) is the same clock in every process on Linux.

For each call event, latency = its arrival at a screen − the arrival of the call's HTTP
answer. The call is committed before it is answered, so this is a lower bound of commit →
screen (negative when a screen has it before the caller has its answer); measured from the
event's `at` instead (the writer's clock when the unit began, before the commit) it is an
upper bound, printed too. Reported: p50/p99 over the calls of the latency to the LAST of the
screens, per phase, and p50/p99 over all (screen, call) pairs. Checked against the events
table: every screen received every event for screens after its snapshot exactly once, in id order, and
none fell behind (a second snapshot). Measured: the server's RSS (/proc/<pid>/status) fresh,
after the setup, with every screen connected and at its peak during the calls (sampled
every 20 ms); CPU seconds of the server, of each client process, of the caller and of every
other process on the machine (/proc/stat) while connecting and while calling.

Prints a summary, writes bench/out/screens.json and PASS/FAIL against the target (last-screen
p99 < 100 ms with 1,000 screens, server RSS < 200 MB). The exit status is 1 only when
something crashed or a correctness check failed.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import json
import multiprocessing
import os
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from run import (
    ADMIN_PASSWORD,
    ROOT,
    SOURCE_CONFIG,
    BenchError,
    Check,
    Server,
    bench_config,
    free_port,
    ms,
    percentile,
    read_only,
    running,
    write_config,
)

sys.path.insert(0, str(ROOT))
from hall.display.hub import for_screens  # noqa: E402  (the project, beside bench/)

RESULTS = ROOT / "bench" / "out" / "screens.json"

SCREENS = 1000
DEVICES = 1000
WORKERS = 2
LONE_CALLS = 20
LONE_INTERVAL_S = 0.5
PACED_CALLS = 200
INTERVAL_S = 0.05
BURST_CALLS = 50
SECTION = "A"
CONNECT_AT_ONCE = 50  # WebSocket handshakes in flight per client process
ACK_EVERY_S = 2.0  # as static/js/screen.js
READY_TIMEOUT_S = 120.0
DRAIN_TIMEOUT_S = 30.0
SETTLE_TIMEOUT_S = 180.0
TARGET_P99_MS = 100.0
TARGET_RSS_MB = 200.0


@dataclass
class Settings:
    screens: int = SCREENS
    devices: int = DEVICES
    workers: int = WORKERS
    lone_calls: int = LONE_CALLS
    paced_calls: int = PACED_CALLS
    interval_s: float = INTERVAL_S
    burst_calls: int = BURST_CALLS
    deflate: bool = True  # offer permessage-deflate, as every browser does


# -- the processes: file limits, RSS and CPU from /proc ---------------------------------------


def raise_fd_limit(needed: int) -> int:
    """Raise this process's open-file limit (the server inherits it) to at least `needed`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise BenchError(f"the open-file limit is {hard}, {needed} are needed (ulimit -Hn)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def fd_limit_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise BenchError(f"no 'Max open files' in /proc/{pid}/limits")


def status_kb(pid: int, key: str) -> int:
    """A kB figure of /proc/<pid>/status (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise BenchError(f"no {key} in /proc/{pid}/status")


def rss_mb(pid: int) -> float:
    return status_kb(pid, "VmRSS") / 1024


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """The peak RSS of a process, sampled every `every` seconds in a thread."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.pid, self.every, self.peak_mb = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, BenchError):
                self.peak_mb = max(self.peak_mb, rss_mb(self.pid))
            self._stop.wait(self.every)

    @contextlib.contextmanager
    def running(self) -> Iterator[RssSampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


# -- setup over the API ------------------------------------------------------------------------


@dataclass
class Hall:
    """What the setup made: tokens of the staff (by window) and of the display devices."""

    staff: dict[int, str]
    displays: list[str]


async def expect(response: aiohttp.ClientResponse, status: int, what: str) -> Any:
    body = await response.json() if response.content_type == "application/json" else await response.text()
    if response.status != status:
        raise BenchError(f"{what} answered {response.status}: {body}")
    return body


async def login(http: aiohttp.ClientSession, username: str, password: str) -> str:
    async with http.post("/api/auth/login", json={"username": username, "password": password}) as r:
        return (await expect(r, 200, f"login of {username}"))["token"]


async def create(http: aiohttp.ClientSession, admin: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(path, json=body, headers=bearer(admin)) as r:
        return await expect(r, 201, f"POST {path} {body.get('name') or body.get('username')}")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def issue(http: aiohttp.ClientSession, kiosk: str, count: int) -> None:
    for i in range(count):
        body = {"section": SECTION, "request_id": f"screens-{i}"}
        async with http.post("/api/tickets", json=body, headers=bearer(kiosk)) as r:
            await expect(r, 201, "issuing a ticket")


async def setup_hall(base: str, windows: list[int], devices: int, tickets: int) -> Hall:
    """Kiosk, staff signed in at their windows, display devices and waiting tickets, over the API."""
    connector = aiohttp.TCPConnector(limit=32)
    async with aiohttp.ClientSession(base, connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        admin = await login(http, "admin", ADMIN_PASSWORD)
        kiosk = (await create(http, admin, "/api/devices", {"name": "bench-kiosk", "kind": "kiosk"}))["token"]
        users = [(f"staff{no:02d}", f"benchpass-{no:02d}", no) for no in windows]
        for username, password, _ in users:  # one at a time: concurrent scrypt hashes would swell the RSS
            await create(http, admin, "/api/users", {"username": username, "password": password, "role": "staff"})
        staff = {}
        for username, password, no in users:
            staff[no] = await login(http, username, password)
            async with http.post(f"/api/windows/{no}/open", headers=bearer(staff[no])) as r:
                await expect(r, 200, f"opening window {no}")
        made = await asyncio.gather(
            *(
                create(http, admin, "/api/devices", {"name": f"bench-screen-{i:04d}", "kind": "display"})
                for i in range(devices)
            )
        )
        await issue(http, kiosk, tickets)
    return Hall(staff, [d["token"] for d in made])


def windows_serving(cfg: dict[str, Any], section: str) -> list[int]:
    return sorted(w["no"] for w in cfg["windows"] if "*" in w["sections"] or section in w["sections"])


# -- the screens (client processes) -----------------------------------------------------------


@dataclass
class Screen:
    """One screen's connection and what it received: event ids and their arrival times."""

    n: int
    start_id: int = 0  # the snapshot's event id
    ids: array.array = field(default_factory=lambda: array.array("q"))
    times: array.array = field(default_factory=lambda: array.array("d"))
    resyncs: int = 0  # snapshots after the first: the screen fell behind
    error: str = ""
    deflated: bool = False  # the server accepted permessage-deflate


def event_id(text: str) -> int:
    """The id of an event message (`{"id":N,…}`, as hub.encode writes it), 0 for other messages."""
    if text.startswith('{"id":'):
        return int(text[6 : text.index(",", 6)])
    return 0


async def connect(
    http: aiohttp.ClientSession, url: str, screen: Screen, deflate: bool
) -> aiohttp.ClientWebSocketResponse:
    """Open the socket, read hello and snapshot, and say hello as a screen does."""
    ws = await http.ws_connect(url, autoping=True, max_msg_size=0, compress=15 if deflate else 0)
    hello = json.loads(await ws.receive_str(timeout=60))
    snapshot = json.loads(await ws.receive_str(timeout=60))
    if hello.get("type") != "hello" or snapshot.get("type") != "snapshot":
        raise BenchError(
            f"screen {screen.n}: expected hello and snapshot, got {hello.get('type')}, {snapshot.get('type')}"
        )
    screen.start_id = snapshot["id"]
    screen.deflated = bool(ws.compress)
    hello = {
        "type": "hello",
        "name": f"bench-{screen.n}",
        "kind": "screen",
        "version": "bench",
        "last_id": screen.start_id,
    }
    await ws.send_str(json.dumps(hello))
    return ws


class Progress:
    """Set `event` once every screen of this process got its snapshot, then once each received `target`."""

    def __init__(self, screens: int) -> None:
        self.screens, self.event = screens, asyncio.Event()
        self.target = sys.maxsize
        self.counted: set[int] = set()

    def count(self, screen: Screen) -> None:
        self.counted.add(screen.n)
        if len(self.counted) == self.screens:
            self.event.set()

    async def wait(self, within: float | None = None) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self.event.wait()

    def drain(self, target: int, screens: list[Screen]) -> None:
        """Count again, now the screens that received event `target`."""
        self.target, self.counted = target, set()
        self.event.clear()
        for screen in screens:
            if screen.error or max(screen.start_id, screen.ids[-1] if screen.ids else 0) >= target:
                self.count(screen)


async def listen(ws: aiohttp.ClientWebSocketResponse, screen: Screen, progress: Progress) -> None:
    """Record each event's id and arrival time; ack at most every ACK_EVERY_S, and on pings."""
    loop = asyncio.get_running_loop()
    ack_due: asyncio.TimerHandle | None = None

    acks: set[asyncio.Task] = set()  # acks being sent (a task keeps no reference to itself)

    async def send_ack() -> None:
        with contextlib.suppress(aiohttp.ClientError, ConnectionError):
            await ws.send_str(json.dumps({"type": "ack", "last_id": screen.ids[-1] if screen.ids else screen.start_id}))

    def ack() -> None:
        nonlocal ack_due
        ack_due = None
        if not ws.closed:
            task = loop.create_task(send_ack())
            acks.add(task)
            task.add_done_callback(acks.discard)

    async for message in ws:
        now = time.perf_counter()
        if message.type != aiohttp.WSMsgType.TEXT:
            continue
        text = message.data
        eid = event_id(text)
        if eid:
            screen.ids.append(eid)
            screen.times.append(now)
            if eid >= progress.target:
                progress.count(screen)
            if ack_due is None:
                ack_due = loop.call_later(ACK_EVERY_S, ack)
        elif text.startswith('{"type":"snapshot"'):
            screen.resyncs += 1
        elif text.startswith('{"type":"ping"'):
            ack()
    if ack_due is not None:
        ack_due.cancel()


async def client_main(pipe: Connection, url: str, tokens: list[str], first: int, deflate: bool) -> None:
    """One client process: open its screens, report ready, then wait for event ids as told, until told to stop."""
    screens = [Screen(first + i) for i in range(len(tokens))]
    progress = Progress(len(screens))
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:

        async def one(screen: Screen, token: str) -> None:
            try:
                async with gate:
                    ws = await connect(http, f"{url}?token={token}", screen, deflate)
                progress.count(screen)
                await listen(ws, screen, progress)
                raise BenchError(f"the server closed the socket ({ws.close_code})")
            except Exception as e:  # reported per screen; the orchestrator fails the run
                screen.error = f"{type(e).__name__}: {e}"
                progress.count(screen)

        tasks = [asyncio.create_task(one(s, t)) for s, t in zip(screens, tokens, strict=True)]
        await progress.wait()
        pipe.send(([s.error for s in screens if s.error], sum(s.deflated for s in screens)))
        loop = asyncio.get_running_loop()
        while (order := await loop.run_in_executor(None, pipe.recv)) is not None:
            target, within = order
            progress.drain(target, screens)
            await progress.wait(within)
            pipe.send(len(progress.counted))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send([(s.n, s.start_id, s.ids.tobytes(), s.times.tobytes(), s.resyncs, s.error) for s in screens])


def client_process(pipe: Connection, url: str, tokens: list[str], first: int, deflate: bool) -> None:
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    run(client_main(pipe, url, tokens, first, deflate))


class Clients:
    """The client processes and their pipes."""

    def __init__(self, url: str, tokens: list[str], workers: int, deflate: bool) -> None:
        ctx = multiprocessing.get_context("fork")
        share = -(-len(tokens) // workers)
        self.pipes, self.procs = [], []
        for w in range(workers):
            ours, theirs = ctx.Pipe()
            part = tokens[w * share : (w + 1) * share]
            proc = ctx.Process(target=client_process, args=(theirs, url, part, w * share, deflate), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def receive(self, pipe: Connection, timeout: float) -> Any:
        if not pipe.poll(timeout):
            raise BenchError(f"a client process did not answer within {timeout:.0f} s")
        return pipe.recv()

    def wait_ready(self) -> tuple[list[str], int]:
        """Wait until every screen has its snapshot: the errors of those that could not connect, and
        how many connections are compressed (permessage-deflate accepted by the server)."""
        errors, deflated = [], 0
        for pipe in self.pipes:
            failed, compressed = self.receive(pipe, READY_TIMEOUT_S)
            errors, deflated = errors + failed, deflated + compressed
        return errors, deflated

    def drain(self, last_id: int, within: float) -> int:
        """Wait until every screen received event `last_id` (at most `within` s); how many did."""
        for pipe in self.pipes:
            pipe.send((last_id, within))
        return sum(self.receive(pipe, within + 30) for pipe in self.pipes)

    def finish(self) -> list[Screen]:
        """Close the screens; what each received."""
        for pipe in self.pipes:
            pipe.send(None)
        screens = []
        for pipe in self.pipes:
            for n, start_id, ids, times, resyncs, error in self.receive(pipe, 60):
                screen = Screen(n, start_id, array.array("q"), array.array("d"), resyncs, error)
                screen.ids.frombytes(ids)
                screen.times.frombytes(times)
                screens.append(screen)
        return screens

    def stop(self) -> None:
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()


# -- the calls ---------------------------------------------------------------------------------


@dataclass
class Call:
    phase: str
    window: int
    sent: float  # perf_counter when the request left
    answered: float = 0.0  # perf_counter when its answer arrived
    ticket_id: int = 0


async def post(http: aiohttp.ClientSession, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    async with http.post(path, json=body, headers=bearer(token)) as r:
        return r.status, (await r.json() if r.content_type == "application/json" else await r.text())


async def call(http: aiohttp.ClientSession, hall: Hall, no: int, phase: str) -> Call:
    made = Call(phase, no, time.perf_counter())
    status, body = await post(http, f"/api/windows/{no}/call", hall.staff[no])
    made.answered = time.perf_counter()
    if status != 200:
        raise BenchError(f"call at window {no} answered {status}: {body}")
    made.ticket_id = body["ticket"]["id"]
    return made


async def finish(http: aiohttp.ClientSession, hall: Hall, no: int) -> None:
    status, body = await post(http, f"/api/windows/{no}/finish", hall.staff[no], {"outcome": "done"})
    if status != 200:
        raise BenchError(f"finish at window {no} answered {status}: {body}")


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.perf_counter()))


async def paced(http: aiohttp.ClientSession, hall: Hall, count: int, interval: float, phase: str) -> list[Call]:
    """`count` calls `interval` apart over the windows in turn; each ticket finished half an interval later."""
    windows, calls = sorted(hall.staff), []
    start = time.perf_counter()
    for i in range(count):
        no = windows[i % len(windows)]
        await sleep_until(start + i * interval)
        calls.append(await call(http, hall, no, phase))
        await sleep_until(start + (i + 0.5) * interval)
        await finish(http, hall, no)
    return calls


async def burst(http: aiohttp.ClientSession, hall: Hall, count: int) -> list[Call]:
    """`count` calls back to back: every window loops call → finish until `count` calls were made."""
    calls: list[Call] = []
    left = [count]

    async def desk(no: int) -> None:
        while left[0] > 0:
            left[0] -= 1
            calls.append(await call(http, hall, no, "burst"))
            await finish(http, hall, no)

    await asyncio.gather(*(desk(no) for no in sorted(hall.staff)))
    return calls


async def make_calls(base: str, hall: Hall, settings: Settings) -> list[Call]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(base, connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        calls = await paced(http, hall, settings.lone_calls, LONE_INTERVAL_S, "lone")
        calls += await paced(http, hall, settings.paced_calls, settings.interval_s, "paced")
        await asyncio.sleep(1.0)
        calls += await burst(http, hall, settings.burst_calls)
    return calls


# -- analysis ----------------------------------------------------------------------------------


@dataclass
class Event:
    id: int
    type: str
    at: float
    ticket_id: int | None


def events_since(db: Path, after: int) -> list[Event]:
    with closing(read_only(db)) as conn:
        rows = conn.execute("SELECT id, type, at, payload FROM events WHERE id > ? ORDER BY id", (after,)).fetchall()
    return [Event(i, t, at, json.loads(p).get("ticket", {}).get("id")) for i, t, at, p in rows]


def last_event_id(db: Path) -> int:
    """The last event screens are sent (they are not sent the others)."""
    with closing(read_only(db)) as conn:
        rows = conn.execute("SELECT id, type FROM events ORDER BY id DESC LIMIT 5000").fetchall()
    return next((i for i, t in rows if for_screens(t)), 0)


def delivery_checks(screens: list[Screen], events: list[Event], call_ids: set[int]) -> tuple[dict, list[Check]]:
    """Every screen got every event after its snapshot once, in order, and never fell behind."""
    all_ids = [e.id for e in events if for_screens(e.type)]
    failed, in_order, exact, resynced = [], 0, 0, 0
    for s in screens:
        ids = list(s.ids)
        expected = [i for i in all_ids if i > s.start_id]
        in_order += all(a < b for a, b in zip(ids, ids[1:], strict=False))
        exact += ids == expected
        resynced += s.resyncs > 0
        if s.error:
            failed.append(f"screen {s.n}: {s.error}")
    received = [set(s.ids) for s in screens]
    calls_everywhere = sum(all(cid in got for got in received) for cid in call_ids)
    n = len(screens)
    figures = {
        "screens": n,
        "screen_errors": failed[:10],
        "in_order": in_order,
        "every_event_once": exact,
        "resynced": resynced,
        "calls_at_every_screen": calls_everywhere,
        "calls": len(call_ids),
    }
    checks = [
        Check("screen_errors", not failed, f"screen errors {len(failed)}"),
        Check(
            "calls_delivered",
            calls_everywhere == len(call_ids) and exact == n,
            f"{calls_everywhere}/{len(call_ids)} calls delivered to all {n} screens, every event once, "
            f"in order at {in_order}/{n}",
        ),
        Check("no_resync", resynced == 0, f"screens that fell behind {resynced}"),
    ]
    return figures, checks


def latencies(screens: list[Screen], calls: list[Call], events: list[Event], wall_offset: float) -> dict[str, Any]:
    """Per call: arrival at the last screen and at every screen, from the call's answer and from its `at`."""
    by_ticket = {e.ticket_id: e for e in events if e.type == "ticket.called"}
    arrivals: dict[int, list[float]] = {}
    wanted = {by_ticket[c.ticket_id].id for c in calls}
    for s in screens:
        for eid, t in zip(s.ids, s.times, strict=True):
            if eid in wanted:
                arrivals.setdefault(eid, []).append(t)
    out: dict[str, Any] = {}
    for phase in ("lone", "paced", "burst", "all"):
        chosen = [c for c in calls if phase in ("all", c.phase)]
        last, every, last_at, answer = [], [], [], []
        for c in chosen:
            event = by_ticket[c.ticket_id]
            times = arrivals.get(event.id, [])
            if not times:
                continue
            last.append((max(times) - c.answered) * 1000)
            every += [(t - c.answered) * 1000 for t in times]
            last_at.append((max(times) - (event.at - wall_offset)) * 1000)
            answer.append((c.answered - c.sent) * 1000)
        out[phase] = {
            "calls": len(chosen),
            "last_screen_p50_ms": percentile(last, 50),
            "last_screen_p99_ms": percentile(last, 99),
            "last_screen_max_ms": max(last, default=None),
            "every_screen_p50_ms": percentile(every, 50),
            "every_screen_p99_ms": percentile(every, 99),
            "last_screen_from_at_p50_ms": percentile(last_at, 50),
            "last_screen_from_at_p99_ms": percentile(last_at, 99),
            "call_answer_p50_ms": percentile(answer, 50),
            "call_answer_p99_ms": percentile(answer, 99),
        }
    return out


# -- report ------------------------------------------------------------------------------------


def target_met(result: dict[str, Any]) -> bool:
    p99 = result["latency"]["all"]["last_screen_p99_ms"]
    return p99 is not None and p99 < TARGET_P99_MS and result["memory"]["server_peak_mb"] < TARGET_RSS_MB


def cpu_line(usage: dict[str, Any]) -> str:
    clients = " + ".join(f"{c:.1f}" for c in usage["clients_s"])
    return (
        f"server {usage['server_s']:.1f} s, screen clients {clients} s, caller {usage['caller_s']:.1f} s, "
        f"other processes {usage['others_s']:.1f} s"
    )


def phase_line(name: str, figures: dict[str, Any]) -> str:
    return f"{name}: p50 {ms(figures['last_screen_p50_ms'])} p99 {ms(figures['last_screen_p99_ms'])}"


def summary(result: dict[str, Any], checks: list[Check]) -> str:
    s, lat, mem, cpu, d = result["settings"], result["latency"], result["memory"], result["cpu"], result["delivery"]
    by_name = {c.name: c for c in checks}
    a = lat["all"]
    if not s["deflate"]:
        deflate = "no compression"
    elif result["deflated_connections"]:
        deflate = f"permessage-deflate ({result['deflated_connections']} compressed)"
    else:
        deflate = "permessage-deflate offered, declined by the server"
    lines = [
        f"screens ({s['screens']} WebSocket clients with {deflate}, {s['devices']} display devices, "
        f"{s['workers']} client processes; {a['calls']} calls): last-screen latency p50 "
        f"{ms(a['last_screen_p50_ms'])} p99 {ms(a['last_screen_p99_ms'])}; all deliveries "
        f"p50 {ms(a['every_screen_p50_ms'])} p99 {ms(a['every_screen_p99_ms'])}",
        "  last screen, "
        + "; ".join(
            (
                phase_line(f"{s['lone_calls']} calls {LONE_INTERVAL_S * 1000:.0f} ms apart", lat["lone"]),
                phase_line(f"{s['paced_calls']} calls {s['interval_s'] * 1000:.0f} ms apart", lat["paced"]),
                phase_line(f"burst of {s['burst_calls']}", lat["burst"]),
            )
        ),
        f"  calls answered in p50 {ms(a['call_answer_p50_ms'])} p99 {ms(a['call_answer_p99_ms'])}; from the event's "
        f"`at` (before the commit) instead of the answer, last screen p50 {ms(a['last_screen_from_at_p50_ms'])} "
        f"p99 {ms(a['last_screen_from_at_p99_ms'])}",
        f"  {by_name['calls_delivered'].line()}; {by_name['no_resync'].line()}; {by_name['screen_errors'].line()}; "
        f"{d['messages']} event messages received",
        f"  server RSS {mem['server_fresh_mb']:.0f} MB fresh, {mem['server_idle_mb']:.0f} MB after setup, "
        f"{mem['server_connected_mb']:.0f} MB with {s['screens']} screens, peak {mem['server_peak_mb']:.0f} MB "
        f"during the calls; open-file limit {result['server_fd_limit']}",
        f"  CPU during the {cpu['calls']['elapsed_s']:.1f} s of calls: {cpu_line(cpu['calls'])} "
        f"({result['environment']['cpus']} CPUs)",
        f"  connecting: every snapshot after {cpu['connect']['elapsed_s']:.1f} s, every screen caught up "
        f"after {cpu['settle']['elapsed_s']:.1f} s more; {cpu_line(cpu['settle'])}",
    ]
    verdict = "PASS" if target_met(result) else "FAIL"
    lines.append(
        f"target last-screen p99 < {TARGET_P99_MS:.0f} ms with {s['screens']} screens and server RSS < "
        f"{TARGET_RSS_MB:.0f} MB: {verdict} (p99 {ms(a['last_screen_p99_ms'])}, peak {mem['server_peak_mb']:.0f} MB)"
    )
    return "\n".join(lines)


def write_results(result: dict[str, Any], checks: list[Check]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = {
        **result,
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        "target": {"p99_ms": TARGET_P99_MS, "rss_mb": TARGET_RSS_MB, "met": target_met(result)},
    }
    RESULTS.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# -- main --------------------------------------------------------------------------------------


def system_busy_s() -> float:
    """CPU seconds all processes of the machine have used (/proc/stat: everything but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


@dataclass
class Usage:
    """CPU seconds of the server, the client processes and everything else over a stretch of wall time."""

    pids: list[int]
    started: float = field(default_factory=time.perf_counter)
    cpu: list[float] = field(default_factory=list)
    caller: float = field(default_factory=time.process_time)
    system: float = field(default_factory=system_busy_s)

    def __post_init__(self) -> None:
        self.cpu = [cpu_s(p) for p in self.pids]

    def since(self) -> dict[str, Any]:
        used = [cpu_s(p) - before for p, before in zip(self.pids, self.cpu, strict=True)]
        caller = time.process_time() - self.caller
        return {
            "elapsed_s": time.perf_counter() - self.started,
            "server_s": used[0],
            "clients_s": used[1:],
            "caller_s": caller,
            "others_s": max(0.0, system_busy_s() - self.system - sum(used) - caller),
        }


@dataclass
class Measured:
    calls: list[Call]
    screens: list[Screen]
    last_id: int
    cpu: dict[str, Any]
    memory: dict[str, float]
    deflated: int
    wall_offset: float = field(default_factory=lambda: time.time() - time.perf_counter())


def screens_and_calls(server: Server, hall: Hall, db: Path, settings: Settings) -> Measured:
    """Connect the screens, then make the calls while they listen; what every screen received."""
    pid = server.proc.pid
    memory, cpu = {"server_idle_mb": rss_mb(pid)}, {}
    tokens = [hall.displays[i % len(hall.displays)] for i in range(settings.screens)]
    url = server.base.replace("http://", "ws://") + "/ws/screen"
    print(f"screens: connecting {settings.screens} in {settings.workers} client processes …", flush=True)
    clients = Clients(url, tokens, settings.workers, settings.deflate)
    try:
        usage = Usage([pid, *clients.pids])
        errors, deflated = clients.wait_ready()
        if errors:
            raise BenchError(f"{len(errors)} screens could not connect, e.g. {errors[0]}")
        cpu["connect"] = usage.since()
        time.sleep(1.0)  # the last hellos registered
        clients.drain(last_event_id(db), SETTLE_TIMEOUT_S)  # every screen caught up
        cpu["settle"] = usage.since()
        memory["server_connected_mb"] = rss_mb(pid)
        phases = f"{settings.lone_calls} alone, {settings.paced_calls} paced, then a burst of {settings.burst_calls}"
        print(f"calls: {phases} …", flush=True)
        usage = Usage([pid, *clients.pids])
        with RssSampler(pid).running() as sampler:
            calls = asyncio.run(make_calls(server.base, hall, settings))
            time.sleep(0.5)  # the last finish committed
            last_id = last_event_id(db)
            clients.drain(last_id, DRAIN_TIMEOUT_S)
            cpu["calls"] = usage.since()
        screens = clients.finish()
    finally:
        clients.stop()
    memory["server_peak_mb"] = max(sampler.peak_mb, memory["server_connected_mb"])
    memory["server_hwm_mb"] = status_kb(pid, "VmHWM") / 1024
    return Measured(calls, screens, last_id, cpu, memory, deflated)


def measure(server: Server, cfg: dict[str, Any], db: Path, settings: Settings) -> tuple[dict[str, Any], list[Check]]:
    pid = server.proc.pid
    fresh_mb = rss_mb(pid)
    windows = windows_serving(cfg, SECTION)
    fd_limit = fd_limit_of(pid)
    if fd_limit < settings.screens + 64:
        raise BenchError(f"the server may open only {fd_limit} files, {settings.screens} screens need more")
    print(f"setup: {settings.devices} display devices, {len(windows)} staff, tickets …", flush=True)
    tickets = settings.lone_calls + settings.paced_calls + settings.burst_calls + len(windows)
    hall = asyncio.run(setup_hall(server.base, windows, settings.devices, tickets))
    time.sleep(1.0)
    m = screens_and_calls(server, hall, db, settings)
    start = min(s.start_id for s in m.screens)
    events = [e for e in events_since(db, start) if e.id <= m.last_id]
    by_ticket = {e.ticket_id: e.id for e in events if e.type == "ticket.called"}
    delivery, checks = delivery_checks(m.screens, events, {by_ticket[c.ticket_id] for c in m.calls})
    delivery["messages"] = sum(len(s.ids) for s in m.screens)
    delivery["events_by_type"] = dict(Counter(e.type for e in events).most_common())
    result = {
        "settings": vars(settings),
        "server_fd_limit": fd_limit,
        "deflated_connections": m.deflated,
        "latency": latencies(m.screens, m.calls, events, m.wall_offset),
        "delivery": delivery,
        "memory": {"server_fresh_mb": fresh_mb, **m.memory},
        "cpu": m.cpu,
        "load": Path("/proc/loadavg").read_text().split()[:3],
    }
    return result, checks


def run(workdir: Path, settings: Settings) -> int:
    cfg_path, db = workdir / "bench.toml", workdir / "bench.db"
    cfg = bench_config(SOURCE_CONFIG)
    write_config(cfg, cfg_path)
    raise_fd_limit(settings.screens + 1024)
    server = Server(cfg_path, db, free_port(), workdir)
    with running(server):
        result, checks = measure(server, cfg, db, settings)
    result["environment"] = {
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
    }
    print()
    print(summary(result, checks))
    write_results(result, checks)
    print(f"results: {RESULTS.relative_to(ROOT)}")
    return 0 if all(c.ok for c in checks) else 1


def arguments() -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--screens", type=int, default=SCREENS, help="WebSocket clients (default %(default)s)")
    parser.add_argument("--devices", type=int, default=DEVICES, help="display devices they share (%(default)s)")
    parser.add_argument("--workers", type=int, default=WORKERS, help="client processes (%(default)s)")
    parser.add_argument("--lone", type=int, default=LONE_CALLS, help="calls 0.5 s apart first (%(default)s)")
    parser.add_argument("--calls", type=int, default=PACED_CALLS, help="paced calls (%(default)s)")
    parser.add_argument("--interval-ms", type=float, default=INTERVAL_S * 1000, help="between paced calls")
    parser.add_argument("--burst", type=int, default=BURST_CALLS, help="calls back to back (%(default)s)")
    parser.add_argument("--no-deflate", action="store_true", help="screens that do not offer permessage-deflate")
    a = parser.parse_args()
    devices = min(a.devices, a.screens)
    return Settings(a.screens, devices, a.workers, a.lone, a.calls, a.interval_ms / 1000, a.burst, not a.no_deflate)


def main() -> int:
    settings = arguments()
    try:
        with tempfile.TemporaryDirectory(prefix="hall-bench-screens-") as tmp:
            return run(Path(tmp), settings)
    except BenchError as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
