"""Hall benchmark: Asterisk Manager Interface events processed per second by the phone channel.

Run it with `make bench` or `.venv/bin/python bench/ami.py` from the project root; 30–90 s,
depending on what else the machine is doing.

The real server (`python -m hall serve`) runs the demo hall with `[callcenter.ami]` enabled, pointed at
the loopback Asterisk 20 AMI server of the tests (tests/callcenter/ami/fake_asterisk.py) running in this
process, its secret in HALL_AMI_SECRET and AGENTS agents (Hall accounts of role agent, one queue member
interface each). Once Hall has logged in (MD5 challenge) and read QueueStatus, queue calls are played
exactly as Asterisk 20's app_queue sends them: an answered call is QueueCallerJoin, AgentCalled,
QueueCallerLeave, AgentConnect, AgentComplete and two Hangups (7 events), an abandoned one
QueueCallerJoin, QueueCallerAbandon, QueueCallerLeave, Hangup (4 events). Callers come from NUMBERS
phone numbers drawn with a skew, so most numbers call once and some call many times; ABANDON_SHARE of the
calls give up waiting. LINES calls are in progress at once; a caller waits for a free agent.

0. Warm-up: WARMUP_CALLS calls as in 1., not measured.
1. Burst: BURST_CALLS calls written as fast as the TCP connection takes them. Reported: AMI events
   processed per second, from the first event written to the last resulting row committed (the
   `at` stamps of case_messages and events, read from the database read-only: same clock, same machine),
   and the AgentConnect → `call.answered` latency, which here is mostly time spent in the backlog.
2. Paced: PACED_CALLS calls started PACED_RATE a second (still far above any hall's hotline), so
   nothing queues up: the latency from an AgentConnect written to its `call.answered` event (the screen
   pop) committed, p50/p99/max.

Checked afterwards in the database: every call's messages (join, answer, end / abandon) stored once,
on the phone case of the caller's number, one open case per number and nothing else stored; exactly one
`call.answered` per answered call naming that case and the answering agent; exactly one
`call.callback_due` per abandoned call naming that case; no phone error in the server's log.

Only queue call events are sent, each one Hall tracks or acts on (a real Asterisk also sends Newchannel,
VarSet and the like unless manager.conf filters them; Hall drops those unread by the tracker).

Target: >= 1,000 AMI events/s in the burst and a paced screen pop p99 under 1 s. A busy hall's hotline
takes ~100 calls an hour (~0.2 events/s); a city 12345 centre's peak, a few thousand calls an hour, is
~10 events/s. 1,000/s is that peak a hundred times over, so a backlog left by a stalled disk drains in
seconds. Prints PASS/FAIL, writes bench/out/ami.json, exits 1 only when something crashed or a check
failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from run import (
    ROOT,
    SOURCE_CONFIG,
    BenchError,
    Check,
    Server,
    bench_config,
    free_port,
    hall_cli,
    percentile,
    read_only,
    running,
    write_config,
)

sys.path.insert(0, str(ROOT))

from tests.callcenter.ami.fake_asterisk import Caller, FakeAsterisk, Member  # noqa: E402  (reused, not copied)

RESULTS = ROOT / "bench" / "out" / "ami.json"
SECRET = "bench-ami-secret"
USERNAME = "hall"
QUEUE = "hotline"
AGENTS = 6
LINES = 16
NUMBERS = 1200
ABANDON_SHARE = 0.15
REPEAT_SHARE = 0.3
WARMUP_CALLS = 100  # played first, not measured (checked like the others)
BURST_CALLS = 2000
PACED_CALLS = 200
PACED_RATE = 20.0  # calls started per second
SETTLE_S = 90.0  # longest wait for Hall to catch up after the last event
TARGET_EVENTS_PER_S = 1000
TARGET_POP_P99_MS = 1000.0
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超"]


class TimedAsterisk(FakeAsterisk):
    """The loopback Asterisk, noting when each event is written and when each AgentConnect was."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.sent = 0
        self.connect_sent: dict[str, float] = {}  # caller Uniqueid -> wall clock when AgentConnect was written

    async def emit(
        self, event: str, privilege: str, fields: list[tuple[str, str]], *, split_at: tuple[int, ...] = ()
    ) -> None:
        now = time.time()
        if event == "AgentConnect":
            self.connect_sent[dict(fields)["Uniqueid"]] = now
        await super().emit(event, privilege, fields, split_at=split_at)
        self.sent += 1


@dataclass
class Call:
    number: str
    name: str
    abandon: bool
    uid: str = ""
    interface: str = ""


@dataclass
class Phase:
    name: str
    calls: list[Call]
    first_sent: float = 0.0
    events: int = 0
    last_at: float = 0.0
    sent_s: float = 0.0

    @property
    def seconds(self) -> float:
        return self.last_at - self.first_sent

    def commits(self) -> int:
        """Writes the phone channel makes, one after the other: join, answer, call.answered, end / join,
        abandon, call.callback_due."""
        abandoned = sum(c.abandon for c in self.calls)
        return 4 * (len(self.calls) - abandoned) + 3 * abandoned

    def expected_rows(self) -> tuple[int, int]:
        """(case messages, answered + callback events) this phase's calls leave."""
        abandoned = sum(c.abandon for c in self.calls)
        return 3 * (len(self.calls) - abandoned) + 2 * abandoned, len(self.calls)


def interfaces() -> dict[str, str]:
    return {f"agent{i:02d}": f"PJSIP/80{i:02d}" for i in range(1, AGENTS + 1)}


def plan_calls(rng: random.Random, count: int, people: dict[str, str]) -> list[Call]:
    """Calls from the numbers: REPEAT_SHARE from a heavy-tailed few (callers who ring back), the rest uniform."""
    numbers = list(people)
    calls = []
    for _ in range(count):
        if rng.random() < REPEAT_SHARE:
            number = numbers[min(int(rng.paretovariate(1.0)) - 1, len(numbers) - 1)]
        else:
            number = rng.choice(numbers)
        calls.append(Call(number, people[number], rng.random() < ABANDON_SHARE))
    return calls


def people_of(rng: random.Random) -> dict[str, str]:
    people: dict[str, str] = {}
    while len(people) < NUMBERS:
        number = rng.choice(["138", "139", "150", "158", "177", "186", "0570"]) + f"{rng.randrange(10**8):08d}"
        people[number] = rng.choice(SURNAMES) + rng.choice(GIVEN)
    return people


async def play(asterisk: TimedAsterisk, call: Call, free: asyncio.Queue[str], rng: random.Random) -> None:
    """One queue call, event for event as app_queue sends it."""
    caller: Caller = await asterisk.caller_joins(call.number, call.name, QUEUE)
    call.uid = caller.uniqueid
    await asyncio.sleep(0)
    if call.abandon:
        await asterisk.caller_abandons(caller)
        return
    interface = await free.get()  # the caller waits for an agent
    try:
        call.interface = interface
        await asterisk.agent_answers(caller, interface)
        await asyncio.sleep(0)
        await asterisk.call_completes(caller, reason=rng.choice(["caller", "agent"]), talk=rng.randrange(30, 600))
    finally:
        free.put_nowait(interface)


async def burst(asterisk: TimedAsterisk, calls: list[Call], free: asyncio.Queue[str], rng: random.Random) -> None:
    pending = iter(calls)

    async def line() -> None:
        for call in pending:
            await play(asterisk, call, free, rng)

    await asyncio.gather(*(line() for _ in range(LINES)))


async def paced(asterisk: TimedAsterisk, calls: list[Call], free: asyncio.Queue[str], rng: random.Random) -> None:
    started = time.monotonic()
    tasks = []
    for i, call in enumerate(calls):
        await asyncio.sleep(max(0.0, started + i / PACED_RATE - time.monotonic()))
        tasks.append(asyncio.create_task(play(asterisk, call, free, rng)))
    await asyncio.gather(*tasks)


def stored(conn: sqlite3.Connection) -> tuple[int, int, float]:
    """Phone call messages, answered/callback events, and the latest commit stamp among them."""
    messages, m_at = conn.execute(
        "SELECT COUNT(*), MAX(at) FROM case_messages WHERE channel = 'phone' AND kind = 'call'"
    ).fetchone()
    events, e_at = conn.execute(
        "SELECT COUNT(*), MAX(at) FROM events WHERE type IN ('call.answered', 'call.callback_due')"
    ).fetchone()
    return messages, events, max(m_at or 0.0, e_at or 0.0)


async def settle(db: Path, want: tuple[int, int], server: Server) -> float:
    """Poll the database until Hall has stored what was sent; the last row's commit stamp."""
    deadline = time.monotonic() + SETTLE_S
    with contextlib.closing(read_only(db)) as conn:
        while True:
            messages, events, last_at = stored(conn)
            if (messages, events) >= want:
                return last_at
            if server.died():
                raise BenchError("the server died while processing AMI events")
            if time.monotonic() > deadline:
                raise BenchError(
                    f"Hall stored {messages} of {want[0]} call messages and {events} of {want[1]} answered/"
                    f"callback events {SETTLE_S:.0f} s after the last AMI event"
                )
            await asyncio.sleep(0.05)


async def run_phase(
    phase: Phase, player: Any, asterisk: TimedAsterisk, free: asyncio.Queue[str], db: Path, server: Server, base: tuple
) -> tuple[int, int]:
    sent_before = asterisk.sent
    t0 = time.time()
    await player(asterisk, phase.calls, free, random.Random(len(phase.calls)))
    phase.sent_s = time.time() - t0
    phase.events = asterisk.sent - sent_before
    phase.first_sent = t0
    want = (base[0] + phase.expected_rows()[0], base[1] + phase.expected_rows()[1])
    phase.last_at = await settle(db, want, server)
    return want


def answered_latencies(conn: sqlite3.Connection, asterisk: TimedAsterisk, calls: list[Call]) -> list[float]:
    at = {}
    for payload, when in conn.execute("SELECT payload, at FROM events WHERE type = 'call.answered'"):
        at[json.loads(payload)["call_id"]] = when
    return [at[c.uid] - asterisk.connect_sent[c.uid] for c in calls if not c.abandon and c.uid in at]


def db_checks(db: Path, calls: list[Call], agent_of: dict[str, str], server: Server) -> tuple[dict, list[Check]]:
    with contextlib.closing(read_only(db)) as conn:
        conn.row_factory = sqlite3.Row
        messages = conn.execute(
            "SELECT m.external_id, m.case_id, c.contact_phone, c.status FROM case_messages m "
            "JOIN cases c ON c.id = m.case_id WHERE m.channel = 'phone'"
        ).fetchall()
        cases_per_number = conn.execute(
            "SELECT contact_phone, COUNT(*) AS n FROM cases WHERE channel = 'phone' GROUP BY contact_phone"
        ).fetchall()
        pops = [json.loads(r[0]) for r in conn.execute("SELECT payload FROM events WHERE type = 'call.answered'")]
        dues = [json.loads(r[0]) for r in conn.execute("SELECT payload FROM events WHERE type = 'call.callback_due'")]
    by_id: dict[str, list[Any]] = defaultdict(list)
    for m in messages:
        by_id[m["external_id"]].append(m)
    expected_ids = set()
    misplaced = missing = twice = 0
    case_of: dict[str, int] = {}
    for call in calls:
        steps = ("join", "abandon") if call.abandon else ("join", "answer", "end")
        cases = set()
        for step in steps:
            key = f"{call.uid}/{step}"
            expected_ids.add(key)
            rows = by_id.get(key, [])
            missing += not rows
            twice += len(rows) > 1
            for r in rows:
                cases.add(r["case_id"])
                misplaced += r["contact_phone"] != call.number
        if len(cases) > 1:
            misplaced += 1
        if cases:
            case_of[call.uid] = min(cases)
    extra = sum(len(rows) for key, rows in by_id.items() if key not in expected_ids)
    numbers = {c.number for c in calls}
    per_number = {r["contact_phone"]: r["n"] for r in cases_per_number}
    split_numbers = sum(1 for n in numbers if per_number.get(n, 0) != 1)
    stray_cases = sum(1 for n in per_number if n not in numbers)

    call_of = {c.uid: c for c in calls}

    def tally(payloads: list[dict], wanted: list[Call], agent_too: bool) -> tuple[int, int]:
        seen = Counter(p["call_id"] for p in payloads)
        wrong = sum(1 for c in wanted if seen[c.uid] != 1) + sum(1 for uid in seen if uid not in case_of)
        for p in payloads:
            if p["call_id"] in case_of and p["case_id"] != case_of[p["call_id"]]:
                wrong += 1
            if agent_too:
                call = call_of.get(p["call_id"])
                if call is None or p["agent"] != agent_of.get(call.interface) or p["agent_id"] is None:
                    wrong += 1
        return len(payloads), wrong

    answered = [c for c in calls if not c.abandon]
    abandoned = [c for c in calls if c.abandon]
    pop_count, pop_wrong = tally(pops, answered, agent_too=True)
    due_count, due_wrong = tally(dues, abandoned, agent_too=False)
    log = server.stderr_path.read_text(encoding="utf-8", errors="replace")
    errors = log.count("phone: could not record") + log.count("AMI: the event handler failed")
    figures = {
        "calls": len(calls),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "numbers": len(numbers),
        "messages_missing": missing,
        "messages_twice": twice,
        "messages_misplaced": misplaced,
        "messages_extra": extra,
        "numbers_not_on_one_case": split_numbers,
        "stray_cases": stray_cases,
        "call_answered_events": pop_count,
        "call_answered_wrong": pop_wrong,
        "callback_due_events": due_count,
        "callback_due_wrong": due_wrong,
        "server_phone_errors": errors,
    }
    return figures, [
        Check(
            "messages",
            missing == twice == extra == 0,
            f"every call's messages stored once: {missing} missing, {twice} twice, {extra} unexpected",
        ),
        Check(
            "right case",
            misplaced == 0 and split_numbers == 0 and stray_cases == 0,
            f"on the caller's one phone case: {misplaced} misplaced, {split_numbers} numbers not on exactly one "
            f"case, {stray_cases} cases of no caller ({len(numbers)} numbers)",
        ),
        Check(
            "screen pops",
            pop_wrong == 0 and pop_count == len(answered),
            f"one call.answered per answered call, right case and agent: {pop_count} of {len(answered)}, "
            f"{pop_wrong} wrong",
        ),
        Check(
            "callbacks",
            due_wrong == 0 and due_count == len(abandoned),
            f"one call.callback_due per abandoned call, right case: {due_count} of {len(abandoned)}, {due_wrong} wrong",
        ),
        Check("log", errors == 0, f"no phone error in the server's log: {errors}"),
    ]


@contextlib.asynccontextmanager
async def serving(server: Server) -> AsyncIterator[Server]:
    """bench/run.py's `running`, its blocking parts off the event loop the loopback Asterisk runs on."""
    cm = running(server)
    await asyncio.to_thread(cm.__enter__)
    try:
        yield server
    except BaseException as e:
        if not await asyncio.to_thread(cm.__exit__, type(e), e, e.__traceback__):
            raise
    else:
        await asyncio.to_thread(cm.__exit__, None, None, None)


def ms(values: list[float], q: float) -> float:
    return round(1000 * (percentile(values, q) or 0.0), 1)


async def bench(work: Path, burst_calls: int, paced_calls: int) -> tuple[dict, list[Check]]:
    agent_iface = interfaces()
    agent_of = {iface: agent for agent, iface in agent_iface.items()}
    raw = bench_config(SOURCE_CONFIG)
    rng = random.Random(20260)
    people = people_of(rng)
    warm_plan = plan_calls(rng, WARMUP_CALLS, people)
    burst_plan = plan_calls(rng, burst_calls, people)
    paced_plan = plan_calls(rng, paced_calls, people)
    members = [Member(iface, f"坐席{agent[-2:]}") for agent, iface in agent_iface.items()]
    async with TimedAsterisk(USERNAME, SECRET, {QUEUE: members}) as asterisk:
        raw.setdefault("callcenter", {})["ami"] = {
            "enabled": True,
            "host": "127.0.0.1",
            "port": asterisk.port,
            "username": USERNAME,
            "queues": [QUEUE],
            "agents": agent_iface,
        }
        cfg, db = work / "hall.toml", work / "hall.db"
        write_config(raw, cfg)
        # The secret only in the environment, as in production: `hall user add` and `hall serve` inherit it.
        os.environ["HALL_AMI_SECRET"] = SECRET
        for agent in agent_iface:
            await asyncio.to_thread(
                hall_cli,
                ["user", "add", agent, "--role", "agent", "--config", str(cfg), "--db", str(db)],
                f"bench-{agent}-password\n",
            )
        server = Server(cfg, db, free_port(), work)
        async with serving(server):
            try:
                await asterisk.wait_for_logins(1, seconds=15)
                async with asyncio.timeout(15):
                    while not any(a.get("Action", "").lower() == "queuestatus" for a in asterisk.actions):  # noqa: ASYNC110
                        await asyncio.sleep(0.02)
            except TimeoutError:
                raise BenchError("Hall did not log in to the loopback Asterisk and ask QueueStatus") from None
            await asyncio.sleep(0.2)  # its QueueStatus answered and applied
            free: asyncio.Queue[str] = asyncio.Queue()
            for iface in agent_iface.values():
                free.put_nowait(iface)
            base = await run_phase(Phase("warm-up", warm_plan), burst, asterisk, free, db, server, (0, 0))
            one = Phase("burst", burst_plan)
            base = await run_phase(one, burst, asterisk, free, db, server, base)
            two = Phase("paced", paced_plan)
            await run_phase(two, paced, asterisk, free, db, server, base)
            with contextlib.closing(read_only(db)) as conn:
                burst_lat = answered_latencies(conn, asterisk, one.calls)
                paced_lat = answered_latencies(conn, asterisk, two.calls)
        figures, checks = db_checks(db, warm_plan + burst_plan + paced_plan, agent_of, server)
    rate = one.events / one.seconds if one.seconds > 0 else 0.0
    result = {
        "machine": f"{platform.machine()} {platform.system()}, Python {platform.python_version()}",
        "agents": AGENTS,
        "lines": LINES,
        "burst": {
            "calls": len(one.calls),
            "abandoned": sum(c.abandon for c in one.calls),
            "numbers": len({c.number for c in one.calls}),
            "events": one.events,
            "written_s": round(one.sent_s, 2),
            "processed_s": round(one.seconds, 2),
            "events_per_s": round(rate, 1),
            "calls_per_s": round(len(one.calls) / one.seconds, 1) if one.seconds > 0 else 0.0,
            # one durable commit (synchronous=FULL) per happening, in order: 4 per answered call, 3 per abandoned
            "commits_per_s": round(one.commits() / one.seconds, 1) if one.seconds > 0 else 0.0,
            "pop_p50_ms": ms(burst_lat, 50),
            "pop_p99_ms": ms(burst_lat, 99),
        },
        "paced": {
            "calls": len(two.calls),
            "rate_calls_per_s": PACED_RATE,
            "events": two.events,
            "pop_p50_ms": ms(paced_lat, 50),
            "pop_p99_ms": ms(paced_lat, 99),
            "pop_max_ms": round(1000 * max(paced_lat, default=0.0), 1),
        },
        **figures,
    }
    targets = [
        Check(
            "rate",
            rate >= TARGET_EVENTS_PER_S,
            f"target: >= {TARGET_EVENTS_PER_S:,} AMI events/s in the burst: {rate:,.0f}",
        ),
        Check(
            "pop",
            result["paced"]["pop_p99_ms"] < TARGET_POP_P99_MS,
            f"target: paced screen pop p99 < {TARGET_POP_P99_MS:.0f} ms: {result['paced']['pop_p99_ms']} ms",
        ),
    ]
    return result, [*checks, *targets]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=BURST_CALLS, help="calls in the burst")
    parser.add_argument("--paced", type=int, default=PACED_CALLS, help="calls in the paced phase")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="hall-bench-ami-") as tmp:
        result, checks = asyncio.run(bench(Path(tmp), args.calls, args.paced))
    # The phone channel commits each happening before the next (a chain of short waits), so other work on
    # the machine slows it more than it slows a concurrent load: the load average goes into the results.
    result["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2), os.cpu_count()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**result, "checks": [c.__dict__ for c in checks]}, ensure_ascii=False, indent=2))
    b, p = result["burst"], result["paced"]
    print(
        f"AMI burst: {b['events_per_s']:,} events/s ({b['calls_per_s']} calls/s): {b['events']} events of "
        f"{b['calls']} calls ({b['abandoned']} abandoned, from {b['numbers']} numbers) written in "
        f"{b['written_s']} s, all processed in {b['processed_s']} s ({b['commits_per_s']:,} commits/s); "
        f"AgentConnect → call.answered p50 {b['pop_p50_ms']} ms, p99 {b['pop_p99_ms']} ms (backlog included)"
    )
    print(
        f"AMI paced: {p['calls']} calls at {PACED_RATE:g}/s; AgentConnect → call.answered committed "
        f"p50 {p['pop_p50_ms']} ms, p99 {p['pop_p99_ms']} ms, max {p['pop_max_ms']} ms"
    )
    before, after, cpus = result["load_average"]
    print(f"machine load average {before} before, {after} after ({cpus} CPUs)")
    for check in checks:
        print(check.line())
    correct = all(c.ok for c in checks if c.name not in ("rate", "pop"))
    ok = all(c.ok for c in checks)
    print("PASS" if ok else "FAIL")
    return 0 if correct else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"bench failed: {e}", file=sys.stderr)
        sys.exit(1)
