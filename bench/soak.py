"""Hall soak run (`make soak`, not part of `make test`): a busy day at ten times its real rate,
for an hour by default, against one real server; its memory and open files must stay flat.

A busy city hall issues about 3,000 numbers in an 8-hour day (0.1 a second); at 10× a kiosk
takes one a second. Sixteen windows call, serve for 10–40 s (a 2–7 minute service at 10×) and
finish; four in five citizens rate by their ticket's QR token; a citizen's web-form complaint
arrives about every 20 s; 20 hall and window screens stay on `/ws/screen` (acking as they go)
and one in four drops its connection every few minutes and comes back, resuming by event id;
five pages follow `/api/live`. The hotline (about 100 calls an hour in a busy hall) rings every
3.6 s: the loopback Asterisk 20 of the tests plays each queue call event for event to Hall's AMI
client (one in seven callers gives up waiting, the rest talk 5–30 s to one of six agents); and
a WeChat message (encrypted and signed as WeChat does) arrives about every 7 s, each answer
checked. Every 30 s the server process's resident memory (VmRSS), open file descriptors,
sockets and the database's size are sampled from /proc.

Verdict, after a warm-up of a tenth of the run: the last tenth's median RSS within 25 % (and
64 MB) of the first tenth's after warm-up, open files within 20 of it; no request failed with
5xx and no error in the server's log; the screens received the calls; every WeChat message
answered with its case number in under 5 s; every phone call recorded (join, answer or abandon,
end) and every answered one popped up (`call.answered`). Writes bench/out/soak.json; exit 1 when it fails.

    .venv/bin/python bench/soak.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ami import QUEUE, USERNAME, Call, interfaces, people_of, serving  # noqa: E402 - the phone bench's pieces
from ami import SECRET as AMI_SECRET  # noqa: E402
from run import (  # noqa: E402 - the issuing bench's helpers: config, CLI, server process
    ROOT,
    Desk,
    Server,
    add_kiosk,
    add_staff,
    bench_config,
    free_port,
    hall_cli,
    read_only,
    sign_in,
    write_config,
)
from wechat import APP_ID, Load  # noqa: E402 - WeChat's side of the WeChat bench
from wechat import ENV as WECHAT_ENV  # noqa: E402

from tests.callcenter.ami.fake_asterisk import FakeAsterisk, Member  # noqa: E402

OUT = ROOT / "bench" / "out"
WINDOWS = 16
SCREENS = 20
LIVE_PAGES = 5
SAMPLE_S = 30.0
TICKET_EVERY_S = 1.0
CASE_EVERY_S = 20.0
PHONE_CALL_EVERY_S = 3.6
ABANDON_SHARE = 1 / 7
WECHAT_EVERY_S = 7.0
WECHAT_FOLLOWERS = 300
METRICS_TOKEN = "soak-metrics-token-0123456789"


@dataclass
class Tally:
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    tickets: int = 0
    calls: int = 0
    ratings: int = 0
    cases: int = 0
    screen_calls: int = 0
    reconnects: int = 0
    phone_calls: list[Call] = field(default_factory=list)
    wechat: Load | None = None

    def answered(self, what: str, status: int, body: Any) -> None:
        self.requests += 1
        if status >= 500:
            self.server_errors.append(f"{what}: {status} {str(body)[:200]}")


async def request(http: aiohttp.ClientSession, tally: Tally, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    async with http.request(method, path, **kw) as r:
        body = await r.json() if r.content_type == "application/json" else await r.text()
        tally.answered(f"{method} {path}", r.status, body)
        return r.status, body


async def kiosk(http: aiohttp.ClientSession, token: str, sections: list[str], tally: Tally, tokens: dict,
                until: float) -> None:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < until:
        status, body = await request(http, tally, "POST", "/api/tickets", json={"section": random.choice(sections)},
                                     headers=headers)  # fmt: skip
        if status == 201:
            tally.tickets += 1
            tokens[body["id"]] = body["token"]
        await asyncio.sleep(random.expovariate(1 / TICKET_EVERY_S))


async def window(http: aiohttp.ClientSession, desk: Desk, tally: Tally, tokens: dict, until: float) -> None:
    while time.monotonic() < until:
        status, body = await request(http, tally, "POST", f"/api/windows/{desk.window}/call", headers=desk.auth)
        if status != 200:
            await asyncio.sleep(3)
            continue
        tally.calls += 1
        await asyncio.sleep(random.uniform(10, 40))
        status, _ = await request(http, tally, "POST", f"/api/windows/{desk.window}/finish",
                                  json={"outcome": "done"}, headers=desk.auth)  # fmt: skip
        token = tokens.pop(body["ticket"]["id"], None)
        if status == 200 and token and random.random() < 0.8:
            grade = random.choice((5, 5, 5, 4, 4, 3, 2))
            rating = {"ticket_token": token, "grade": grade, "channel": "qr"}
            if grade <= 2:
                rating["tags"] = ["效率低"]
            status, _ = await request(http, tally, "POST", "/api/ratings", json=rating)
            tally.ratings += status == 201


async def citizens(http: aiohttp.ClientSession, tally: Tally, until: float) -> None:
    n = 0
    while time.monotonic() < until:
        await asyncio.sleep(random.expovariate(1 / CASE_EVERY_S))
        n += 1
        body = {"type": "consult", "content": f"请问公积金提取需要带什么材料?({n})", "phone": f"139{n % 10**8:08d}"}
        status, _ = await request(http, tally, "POST", "/api/cases", json=body)
        tally.cases += status == 201


async def screen(base: str, token: str, tally: Tally, until: float, flaky: bool) -> None:
    """A screen on the hub: acks what it gets, resumes by the last event id; a flaky one drops now and then."""
    last = 0
    ws_base = base.replace("http://", "ws://")
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < until:
            try:
                async with http.ws_connect(f"{ws_base}/ws/screen?token={token}&after={last}", heartbeat=20) as ws:
                    await ws.send_json({"type": "hello", "name": "soak", "kind": "display", "last_id": last})
                    drop_at = time.monotonic() + (random.uniform(120, 420) if flaky else 10**9)
                    while time.monotonic() < min(until, drop_at):
                        try:
                            message = await ws.receive(timeout=5)
                        except TimeoutError:
                            continue
                        if message.type != aiohttp.WSMsgType.TEXT:
                            break
                        data = json.loads(message.data)
                        if isinstance(data.get("id"), int) and "." in str(data.get("type", "")):  # an event
                            last = max(last, data["id"])
                            tally.screen_calls += data["type"] == "ticket.called"
                            await ws.send_json({"type": "ack", "last_id": last})
            except (aiohttp.ClientError, OSError):
                await asyncio.sleep(1)
            tally.reconnects += 1


async def live_page(base: str, token: str, until: float) -> None:
    ws_base = base.replace("http://", "ws://")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        while time.monotonic() < until:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.ws_connect(f"{ws_base}/api/live", heartbeat=20) as ws:
                    while time.monotonic() < until:
                        with contextlib.suppress(TimeoutError):
                            if (await ws.receive(timeout=5)).type != aiohttp.WSMsgType.TEXT:
                                break
            await asyncio.sleep(1)


async def phone_call(asterisk: FakeAsterisk, call: Call, free: asyncio.Queue[str]) -> None:
    """One queue call as Asterisk 20's app_queue reports it: join, then abandon, or answer, talk and hang up."""
    caller = await asterisk.caller_joins(call.number, call.name, QUEUE)
    call.uid = caller.uniqueid
    await asyncio.sleep(random.uniform(1, 8))  # waiting in the queue
    if call.abandon:
        await asterisk.caller_abandons(caller)
        return
    interface = await free.get()
    try:
        call.interface = interface
        await asterisk.agent_answers(caller, interface)
        await asyncio.sleep(random.uniform(5, 30))
        await asterisk.call_completes(caller, reason=random.choice(["caller", "agent"]), talk=random.randrange(60, 300))
    finally:
        free.put_nowait(interface)


async def hotline(asterisk: FakeAsterisk, tally: Tally, until: float) -> None:
    people = people_of(random.Random(2026))
    numbers = list(people)
    free: asyncio.Queue[str] = asyncio.Queue()
    for interface in interfaces().values():
        free.put_nowait(interface)
    calls = []
    while time.monotonic() < until:
        await asyncio.sleep(random.expovariate(1 / PHONE_CALL_EVERY_S))
        number = random.choice(numbers)
        call = Call(number, people[number], random.random() < ABANDON_SHARE)
        tally.phone_calls.append(call)
        calls.append(asyncio.create_task(phone_call(asterisk, call, free)))
    await asyncio.gather(*calls)


async def wechat_messages(base: str, tally: Tally, until: float) -> None:
    load = tally.wechat = Load(base)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        while time.monotonic() < until:
            await asyncio.sleep(random.expovariate(1 / WECHAT_EVERY_S))
            openid = f"oSoak{random.randrange(WECHAT_FOLLOWERS):023d}"
            msg_id = str(10**15 + load.next_id)
            load.next_id += 1
            await load.post(http, openid, msg_id, record=True)


def channel_checks(db: Path, tally: Tally) -> dict[str, Any]:
    """What the phone and WeChat traffic left in the database: every call and message, once."""
    with contextlib.closing(read_only(db)) as conn:
        phone = {r[0] for r in conn.execute("SELECT external_id FROM case_messages WHERE channel = 'phone'")}
        pops = conn.execute("SELECT COUNT(*) FROM events WHERE type = 'call.answered'").fetchone()[0]
        wechat = conn.execute(
            "SELECT COUNT(DISTINCT external_id) FROM case_messages WHERE channel = 'wechat' AND direction = 'in'"
        ).fetchone()[0]
    calls = [c for c in tally.phone_calls if c.uid]
    answered = [c for c in calls if not c.abandon]
    expected = {
        f"{c.uid}/{step}" for c in calls for step in (("join", "abandon") if c.abandon else ("join", "answer", "end"))
    }
    load = tally.wechat
    answers = len(load.latencies) if load else 0
    return {
        "phone_calls": len(calls),
        "phone_abandoned": len(calls) - len(answered),
        "phone_events_missing": len(expected - phone),
        "phone_pops": pops,
        "phone_answered": len(answered),
        "wechat_answers": answers,
        "wechat_stored": wechat,
        "wechat_late": sum(1 for t in load.latencies if t >= 5.0) if load else 0,
        "wechat_wrong": dict(load.wrong) if load else {},
        "wechat_p99_ms": round(1000 * sorted(load.latencies)[int(0.99 * (answers - 1))], 1) if answers else None,
    }


def sample(pid: int, db: Path) -> dict[str, Any]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    fds = os.listdir(f"/proc/{pid}/fd")
    sockets = sum(1 for fd in fds if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"))
    # The database and its WAL: the writer's page cache (64 MiB at most) grows with it, which is
    # the server's one intended growth over a day.
    db_bytes = sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.exists())
    return {"rss_mb": round(rss_kb / 1024, 1), "fds": len(fds), "sockets": sockets, "db_mb": round(db_bytes / 2**20, 1)}


async def memory_split(base: str) -> dict[str, Any]:
    """SQLite's share of the memory and Python's allocated blocks, from the server's /metrics."""
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics", headers=headers) as r:
        text = await r.text()
    found = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {
        "sqlite_mb": round(float(found["hall_sqlite_memory_bytes"]) / 2**20, 1),
        "py_blocks_k": round(float(found["hall_python_allocated_blocks"]) / 1000, 1),
    }


async def watch(pid: int, db: Path, base: str, start: float, until: float, samples: list[dict[str, Any]]) -> None:
    while time.monotonic() < until:
        with contextlib.suppress(OSError, StopIteration, aiohttp.ClientError, KeyError):
            row = {"t": round(time.monotonic() - start), **sample(pid, db)}
            row.update(await memory_split(base))
            samples.append(row)
            s = samples[-1]
            print(f"  {s['t']:>5} s  RSS {s['rss_mb']:>7.1f} MB (SQLite {s['sqlite_mb']:>5.1f} MB, Python "
                  f"{s['py_blocks_k']:>6.1f}k blocks)  open files {s['fds']:>4}  sockets {s['sockets']:>4}"
                  f"  database {s['db_mb']:>6.1f} MB", flush=True)  # fmt: skip
        await asyncio.sleep(SAMPLE_S)


async def soak(
    server: Server, asterisk: FakeAsterisk, cfg: dict, cfg_path: Path, db: Path, minutes: float
) -> dict[str, Any]:
    # Set up off the event loop: the loopback Asterisk on it must keep answering Hall's Pings.
    kiosk_token = await asyncio.to_thread(add_kiosk, cfg_path, db)
    screen_tokens = [
        (await asyncio.to_thread(hall_cli, ["device", "add", f"soak-screen-{i}", "--kind", "display",
                                            "--config", str(cfg_path), "--db", str(db)])).split()[0]
        for i in range(SCREENS)
    ]  # fmt: skip
    staff = await asyncio.to_thread(add_staff, cfg_path, db, WINDOWS)
    tally, tokens, samples = Tally(), {}, []
    start = time.monotonic()
    until = start + minutes * 60
    sections = [s["id"] for s in cfg["sections"]]
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(server.base, connector=connector) as http:
        desks = []
        for (name, password), no in zip(staff, [w["no"] for w in cfg["windows"]][:WINDOWS], strict=False):
            desk = Desk(window=no)
            await sign_in(http, desk, name, password)
            desks.append(desk)
        tasks = [
            kiosk(http, kiosk_token, sections, tally, tokens, until),
            citizens(http, tally, until),
            watch(server.proc.pid, db, server.base, start, until, samples),
            *(window(http, d, tally, tokens, until) for d in desks),
            *(screen(server.base, t, tally, until, flaky=i % 4 == 0) for i, t in enumerate(screen_tokens)),
            *(live_page(server.base, desks[i].token, until) for i in range(LIVE_PAGES)),
            hotline(asterisk, tally, until),
            wechat_messages(server.base, tally, until),
        ]
        await asyncio.gather(*tasks)
    return {"tally": tally, "samples": samples, "minutes": minutes}


def verdict(samples: list[dict[str, Any]]) -> tuple[bool, dict[str, Any]]:
    n = len(samples)
    warm = max(1, n // 10)
    early = samples[warm : warm + max(1, n // 10)]
    late = samples[-max(1, n // 10) :]
    rss0, rss1 = statistics.median(s["rss_mb"] for s in early), statistics.median(s["rss_mb"] for s in late)
    fd0, fd1 = statistics.median(s["fds"] for s in early), statistics.median(s["fds"] for s in late)
    flat = rss1 <= max(rss0 * 1.25, rss0 + 64) and abs(fd1 - fd0) <= 20
    figures = {"rss_after_warmup_mb": rss0, "rss_at_end_mb": rss1, "fds_after_warmup": fd0, "fds_at_end": fd1}
    for key in ("sqlite_mb", "py_blocks_k"):  # where a change in RSS comes from
        figures[f"{key}_after_warmup"] = round(statistics.median(s[key] for s in early), 1)
        figures[f"{key}_at_end"] = round(statistics.median(s[key] for s in late), 1)
    return flat, {**figures, "database_at_end_mb": samples[-1].get("db_mb")}


async def run(workdir: Path, minutes: float) -> tuple[dict[str, Any], dict[str, Any]]:
    agents = interfaces()
    members = [Member(interface, f"坐席{agent[-2:]}") for agent, interface in agents.items()]
    async with FakeAsterisk(USERNAME, AMI_SECRET, {QUEUE: members}) as asterisk:
        cfg = bench_config(ROOT / "config.toml")
        cfg.setdefault("limits", {}).update(tickets=100_000, ratings=100_000, public=100_000, login=100_000)
        cfg.setdefault("privacy", {})["retention_days"] = 0
        center = cfg.setdefault("callcenter", {})
        center["ami"] = {"enabled": True, "host": "127.0.0.1", "port": asterisk.port, "username": USERNAME,
                         "queues": [QUEUE], "agents": agents}  # fmt: skip
        # WeChat's API is not reachable here; Hall only answers messages in the soak, it sends none
        center["wechat"] = {
            "enabled": True,
            "app_id": APP_ID,
            "mode": "safe",
            "base_url": f"http://127.0.0.1:{free_port()}",
        }
        cfg_path, db = workdir / "soak.toml", workdir / "soak.db"
        write_config(cfg, cfg_path)
        # secrets in the environment only
        os.environ.update({"HALL_AMI_SECRET": AMI_SECRET, "HALL_METRICS_TOKEN": METRICS_TOKEN, **WECHAT_ENV})
        for agent in agents:
            await asyncio.to_thread(
                hall_cli, ["user", "add", agent, "--role", "agent", "--config", str(cfg_path), "--db", str(db)],
                f"soak-{agent}-password\n",
            )  # fmt: skip
        server = Server(cfg_path, db, free_port(), workdir)
        print(f"soak: {minutes:g} min against {server.base}, sampling every {SAMPLE_S:.0f} s")
        async with serving(server):
            await asterisk.wait_for_logins(1, seconds=15)
            result = await soak(server, asterisk, cfg, cfg_path, db, minutes)
            await asyncio.sleep(5)  # the last events committed
            channels = channel_checks(db, result["tally"])
    log = server.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()
    channels["log_errors"] = [line[:300] for line in log if " ERROR " in line or line.startswith("Traceback")]
    channels["log_warnings"] = [line[:300] for line in log if " WARNING " in line]
    return result, channels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="how long to run (default: an hour)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hall-soak-") as tmp:
        result, channels = asyncio.run(run(Path(tmp), args.minutes))
    tally, samples = result["tally"], result["samples"]
    flat, figures = verdict(samples)
    phone_ok = channels["phone_events_missing"] == 0 and channels["phone_pops"] == channels["phone_answered"]
    wechat_ok = (
        channels["wechat_answers"] > 0
        and not channels["wechat_wrong"]
        and channels["wechat_late"] == 0
        and channels["wechat_stored"] == channels["wechat_answers"]
    )
    ok = flat and not tally.server_errors and tally.screen_calls > 0 and phone_ok and wechat_ok
    ok = ok and not channels["log_errors"]
    report = {
        "minutes": args.minutes,
        "requests": tally.requests,
        "tickets": tally.tickets,
        "calls": tally.calls,
        "ratings": tally.ratings,
        "cases": tally.cases,
        "screen_calls_received": tally.screen_calls,
        "screen_reconnects": tally.reconnects,
        "server_errors": tally.server_errors[:20],
        **channels,
        **figures,
        "samples": samples,
        "pass": ok,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "soak.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    if tally.server_errors:
        print("server errors (first 20):", *tally.server_errors[:20], sep="\n  ")
    if channels["log_warnings"]:
        print("warnings in the server's log (first 10):", *channels["log_warnings"][:10], sep="\n  ")
    if channels["log_errors"]:
        print("errors in the server's log (first 20):", *channels["log_errors"][:20], sep="\n  ")
    print(
        f"soak {args.minutes:g} min: {tally.requests} requests ({tally.tickets} tickets, {tally.calls} calls, "
        f"{tally.ratings} ratings, {tally.cases} cases), {len(tally.server_errors)} server errors; screens got "
        f"{tally.screen_calls} calls over {tally.reconnects} (re)connections; phone: {channels['phone_calls']} calls "
        f"({channels['phone_abandoned']} abandoned), {channels['phone_events_missing']} events missing, "
        f"{channels['phone_pops']} of {channels['phone_answered']} answered popped up; WeChat: "
        f"{channels['wechat_answers']} answered (p99 {channels['wechat_p99_ms']} ms, {channels['wechat_late']} late, "
        f"{sum(channels['wechat_wrong'].values())} wrong), {channels['wechat_stored']} stored; "
        f"server log: {len(channels['log_errors'])} errors, {len(channels['log_warnings'])} warnings; "
        f"RSS {figures['rss_after_warmup_mb']} → {figures['rss_at_end_mb']} MB "
        f"(SQLite {figures['sqlite_mb_after_warmup']} → {figures['sqlite_mb_at_end']} MB, "
        f"Python {figures['py_blocks_k_after_warmup']}k → {figures['py_blocks_k_at_end']}k blocks), "
        f"open files {figures['fds_after_warmup']} → {figures['fds_at_end']}, "
        f"database {figures['database_at_end_mb']} MB: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
