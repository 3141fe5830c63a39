"""Hall benchmark: how fast one server issues and calls queue numbers.

Run it with `make bench` (or `.venv/bin/python bench/run.py` from the project
root); it needs wrk (`apt-get install wrk`) and stops by itself in about a minute.

Against a fresh hall in a temporary directory (config.toml with every section
open around the clock and no daily cap, same windows), listening on 127.0.0.1:

1. Issuing: wrk -t2 -c64 POSTs /api/tickets with a kiosk token for 15 s, after
   a 3 s warm-up, cycling over the sections, every request_id unique. Reported:
   requests/s, p50/p99 latency, errors. Then SQLite is checked: every answered
   ticket is committed (at most the requests in flight when wrk stopped more)
   and no number (day, prefix, seq) was handed out twice.
2. Calling: 16 staff sign in at 16 windows and each loops "call next" then
   "finish" for 10 s. Reported: calls/s, p50/p99 latency of the call and of the
   call+finish pair. Checked: no ticket was called twice, every finish committed.

Prints a summary, writes bench/out/results.json, and prints PASS/FAIL against
the target (>= 2,000 tickets/s, p99 < 50 ms, no errors). The exit status is 1
only when something crashed or a correctness check failed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "issue.lua"
RESULTS = BENCH / "out" / "results.json"
SOURCE_CONFIG = ROOT / "config.toml"

WRK_THREADS = 2
WRK_CONNECTIONS = 64
WARMUP_S = 3
MEASURE_S = 15
STAFF = 16
CALL_S = 10
TARGET_RATE = 2000
TARGET_P99_MS = 50.0
ADMIN_PASSWORD = "bench-admin-password"


class BenchError(Exception):
    """Something the benchmark depends on failed; the message says what."""


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.detail} {'✓' if self.ok else '✗ FAILED'}"


# -- the bench hall --------------------------------------------------------------------------


def bench_config(source: Path) -> dict[str, Any]:
    """The demo hall's config with every section issuing around the clock, without a cap."""
    with source.open("rb") as f:
        raw = tomllib.load(f)
    raw.setdefault("hall", {})["closed_dates"] = []
    for section in raw.get("sections", []):
        section.update(hours=["00:00-24:00"], days="daily", daily_cap=1_000_000, warn_at=999_999)
    return raw


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def toml_lines(table: dict[str, Any], path: tuple[str, ...] = ()) -> list[str]:
    """A table as TOML: its plain keys, then its sub-tables, then its arrays of tables."""
    name = ".".join(toml_key(p) for p in path)
    lines = [f"[{name}]"] if path else []
    subtables = {k: v for k, v in table.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in table.items() if _is_table_array(v)}
    for key, value in table.items():
        if key not in subtables and key not in arrays:
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for key, value in subtables.items():
        lines += ["", *toml_lines(value, (*path, key))]
    for key, items in arrays.items():
        array_name = ".".join(toml_key(p) for p in (*path, key))
        for item in items:
            lines += ["", f"[[{array_name}]]"]
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in item.items()]
    return lines


def write_config(raw: dict[str, Any], path: Path) -> None:
    text = "\n".join(toml_lines(raw)) + "\n"
    if tomllib.loads(text) != raw:
        raise BenchError("the bench config did not survive a TOML round trip")
    path.write_text(text, encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hall_cli(args: list[str], stdin: str | None = None) -> str:
    """Run `python -m hall ARGS` and return its stdout."""
    proc = subprocess.run(
        [sys.executable, "-m", "hall", *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        raise BenchError(f"python -m hall {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def add_kiosk(cfg: Path, db: Path) -> str:
    out = hall_cli(["device", "add", "bench-kiosk", "--kind", "kiosk", "--config", str(cfg), "--db", str(db)])
    lines = out.split()
    if len(lines) != 1:
        raise BenchError(f"device add printed {out!r}, expected only the token")
    return lines[0]


def add_staff(cfg: Path, db: Path, count: int) -> list[tuple[str, str]]:
    users = [(f"staff{i:02d}", f"benchpass-{i:02d}") for i in range(1, count + 1)]
    for name, password in users:
        hall_cli(["user", "add", name, "--role", "staff", "--config", str(cfg), "--db", str(db)], stdin=password + "\n")
    return users


# -- the server ------------------------------------------------------------------------------


class Server:
    """`python -m hall serve` as a subprocess, its output kept in files."""

    def __init__(self, cfg: Path, db: Path, port: int, workdir: Path) -> None:
        self.args = [sys.executable, "-m", "hall", "serve", "--config", str(cfg), "--db", str(db), "--port", str(port)]
        self.base = f"http://127.0.0.1:{port}"
        self.stdout_path = workdir / "server.out"
        self.stderr_path = workdir / "server.err"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "HALL_ADMIN_PASSWORD": ADMIN_PASSWORD}
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=env, stdout=out, stderr=err)

    def died(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.died():
                raise BenchError(f"the server exited with status {self.proc.returncode} before answering")
            try:
                with urllib.request.urlopen(self.base + "/api/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise BenchError(f"the server did not answer GET /api/health within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is None or self.died():
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def stderr_tail(self, lines: int = 30) -> str:
        try:
            text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """Start the server, wait until it answers, and always stop it again."""
    failed = False
    try:
        server.start()
        server.wait_ready()
        yield server
    except BaseException:
        failed = True
        raise
    finally:
        died = server.died()
        server.stop()
        if died or failed:
            state = f"died with status {server.proc.returncode}" if died else "was running"
            print(f"\n-- server {state}; last lines of its stderr:\n{server.stderr_tail()}\n", file=sys.stderr)


# -- issuing with wrk ------------------------------------------------------------------------

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def wrk_binary() -> str:
    found = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None)
    if found is None:
        raise BenchError("wrk is not installed (apt-get install -y wrk)")
    return found


def run_wrk(url: str, token: str, run: str, seconds: int, sections: list[str]) -> dict[str, Any]:
    cmd = [wrk_binary(), f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(LUA), url]
    env = {**os.environ, "HALL_TOKEN": token, "HALL_RUN": run, "HALL_SECTIONS": ",".join(sections)}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0 or proc.stderr.strip():
        raise BenchError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return parse_wrk(proc.stdout)


def _duration_ms(number: str, unit: str) -> float:
    return float(number) * UNITS_MS[unit]


def parse_wrk(text: str) -> dict[str, Any]:
    """The figures of wrk's report (with --latency)."""

    def find(pattern: str) -> re.Match | None:
        return re.search(pattern, text, re.MULTILINE)

    rate = find(r"^Requests/sec:\s+([\d.]+)")
    total = find(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)")
    p50 = find(r"^\s*50(?:\.000)?%\s+([\d.]+)(us|ms|s|m|h)\s*$")
    p99 = find(r"^\s*99(?:\.000)?%\s+([\d.]+)(us|ms|s|m|h)\s*$")
    if not (rate and total and p50 and p99):
        raise BenchError(f"could not read wrk's report:\n{text}")
    non2xx = find(r"Non-2xx or 3xx responses:\s+(\d+)")
    sockets = find(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    counts = map(int, sockets.groups()) if sockets else (0, 0, 0, 0)
    socket_errors = dict(zip(("connect", "read", "write", "timeout"), counts, strict=True))
    requests = int(total.group(1))
    non_2xx = int(non2xx.group(1)) if non2xx else 0
    return {
        "requests_per_s": float(rate.group(1)),
        "requests": requests,
        "duration_s": _duration_ms(total.group(2), total.group(3)) / 1000,
        "p50_ms": _duration_ms(*p50.groups()),
        "p99_ms": _duration_ms(*p99.groups()),
        "non_2xx": non_2xx,
        "answered_2xx": requests - non_2xx,
        "socket_errors": socket_errors,
        "errors": non_2xx + sum(socket_errors.values()),
    }


def read_only(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)


def settled_ticket_count(conn: sqlite3.Connection, timeout: float = 5.0) -> int:
    """The ticket count once requests still in flight after wrk stopped have landed."""
    count = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        again = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        if again == count:
            break
        count = again
    return count


DUPLICATE_NUMBERS_SQL = (
    "SELECT COUNT(*) FROM (SELECT day, prefix, seq FROM tickets GROUP BY 1, 2, 3 HAVING COUNT(*) > 1)"
)


def issue_checks(db: Path, answered: int, unanswered: int) -> tuple[dict[str, int], list[Check]]:
    """Every answered ticket is committed, plus at most the `unanswered` requests; no number twice."""
    with closing(read_only(db)) as conn:
        committed = settled_ticket_count(conn)
        duplicates = conn.execute(DUPLICATE_NUMBERS_SQL).fetchone()[0]
    ok = answered <= committed <= answered + unanswered
    relation = "≥" if committed >= answered else "<"
    detail = f"committed tickets {committed} {relation} answered {answered} (≤ +{unanswered} unanswered)"
    checks = [
        Check("tickets_committed", ok, detail),
        Check("duplicate_numbers", duplicates == 0, f"duplicate numbers {duplicates}"),
    ]
    counts = {"committed": committed, "answered": answered, "unanswered_allowance": unanswered}
    return {**counts, "duplicate_numbers": duplicates}, checks


def unanswered(run: dict[str, Any]) -> int:
    """Requests of a wrk run that may have been committed without wrk counting an answer.

    One in flight per connection when wrk stopped, plus any lost to a read, write or timeout error.
    """
    lost = run["socket_errors"]
    return WRK_CONNECTIONS + lost["read"] + lost["write"] + lost["timeout"]


def bench_issue(server: Server, token: str, sections: list[str], db: Path) -> tuple[dict[str, Any], list[Check]]:
    url = server.base + "/api/tickets"
    print(f"issuing: wrk warm-up {WARMUP_S} s …", flush=True)
    warmup = run_wrk(url, token, "warmup", WARMUP_S, sections)
    print(f"issuing: wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{MEASURE_S}s …", flush=True)
    measured = run_wrk(url, token, "measure", MEASURE_S, sections)
    answered = warmup["answered_2xx"] + measured["answered_2xx"]
    counts, checks = issue_checks(db, answered, unanswered(warmup) + unanswered(measured))
    return {"warmup": warmup, "measured": measured, "db": counts}, checks


# -- calling ---------------------------------------------------------------------------------


@dataclass
class Desk:
    """One staff member at one window, and what they measured."""

    window: int
    token: str = ""
    call_ms: list[float] = field(default_factory=list)
    pair_ms: list[float] = field(default_factory=list)
    ticket_ids: list[int] = field(default_factory=list)
    finished: int = 0
    emptied: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def windows_with_waiting(cfg: dict[str, Any], db: Path, count: int) -> list[int]:
    """Up to `count` window numbers from the config, those serving a section with waiting tickets."""
    with closing(read_only(db)) as conn:
        waiting = {r[0] for r in conn.execute("SELECT DISTINCT section FROM tickets WHERE status = 'waiting'")}
    chosen = [w["no"] for w in cfg["windows"] if "*" in w["sections"] or waiting & set(w["sections"])]
    return sorted(chosen)[:count]


async def post(http: aiohttp.ClientSession, path: str, desk: Desk | None, body: Any = None) -> tuple[int, Any]:
    headers = desk.auth if desk is not None else None
    async with http.post(path, json=body, headers=headers) as r:
        if r.content_type == "application/json":
            return r.status, await r.json()
        return r.status, await r.text()


async def sign_in(http: aiohttp.ClientSession, desk: Desk, username: str, password: str) -> None:
    status, body = await post(http, "/api/auth/login", None, {"username": username, "password": password})
    if status != 200:
        raise BenchError(f"login of {username} answered {status}: {body}")
    desk.token = body["token"]
    status, body = await post(http, f"/api/windows/{desk.window}/open", desk)
    if status != 200:
        raise BenchError(f"{username} could not open window {desk.window}: {status} {body}")


async def serve_until(http: aiohttp.ClientSession, desk: Desk, deadline: float) -> None:
    """Call the next ticket and finish it, again and again, until the deadline or an empty queue."""
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        status, body = await post(http, f"/api/windows/{desk.window}/call", desk)
        t1 = time.perf_counter()
        if status == 204:
            desk.emptied = True
            return
        if status != 200:
            desk.errors.append(f"call at window {desk.window}: {status} {body}")
            return
        desk.call_ms.append((t1 - t0) * 1000)
        desk.ticket_ids.append(body["ticket"]["id"])
        status, body = await post(http, f"/api/windows/{desk.window}/finish", desk, {"outcome": "done"})
        if status != 200:
            desk.errors.append(f"finish at window {desk.window}: {status} {body}")
            return
        desk.pair_ms.append((time.perf_counter() - t0) * 1000)
        desk.finished += 1


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile, None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


async def bench_calls_async(
    base: str, staff: list[tuple[str, str]], windows: list[int]
) -> tuple[list[Desk], float, float]:
    """Sign the staff in at the windows, then let them all call and finish until the deadline.

    Returns the desks, the seconds the loop took and the CPU seconds this (client) process used meanwhile.
    """
    desks = [Desk(no) for no in windows]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(base, connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        await asyncio.gather(*(sign_in(http, d, *user) for d, user in zip(desks, staff, strict=False)))
        print(f"calling: {len(desks)} windows, call+finish loop for {CALL_S} s …", flush=True)
        deadline = time.monotonic() + CALL_S
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(serve_until(http, d, deadline) for d in desks))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return desks, elapsed, cpu


def bench_calls(
    server: Server, staff: list[tuple[str, str]], cfg: dict[str, Any], db: Path
) -> tuple[dict[str, Any], list[Check]]:
    windows = windows_with_waiting(cfg, db, min(STAFF, len(staff)))
    desks, elapsed, client_cpu = asyncio.run(bench_calls_async(server.base, staff, windows))
    call_ms = [ms for d in desks for ms in d.call_ms]
    pair_ms = [ms for d in desks for ms in d.pair_ms]
    ids = [i for d in desks for i in d.ticket_ids]
    finished = sum(d.finished for d in desks)
    errors = [e for d in desks for e in d.errors]
    duplicates = len(ids) - len(set(ids))
    with closing(read_only(db)) as conn:
        done = conn.execute("SELECT COUNT(*) FROM tickets WHERE status = 'done'").fetchone()[0]
    result = {
        "windows": windows,
        "elapsed_s": elapsed,
        "client_cpu_s": client_cpu,
        "calls": len(call_ms),
        "calls_per_s": len(call_ms) / elapsed,
        "call_p50_ms": percentile(call_ms, 50),
        "call_p99_ms": percentile(call_ms, 99),
        "pair_p50_ms": percentile(pair_ms, 50),
        "pair_p99_ms": percentile(pair_ms, 99),
        "finished": finished,
        "done_in_db": done,
        "windows_emptied": [d.window for d in desks if d.emptied],
        "duplicate_calls": duplicates,
        "errors": errors,
    }
    checks = [
        Check("duplicate_calls", duplicates == 0, f"duplicate calls {duplicates}"),
        Check("finished_committed", done == finished, f"done in database {done} = finished {finished}"),
        Check("call_errors", not errors, f"call/finish errors {len(errors)}"),
    ]
    return result, checks


# -- report ----------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} ms"


def environment() -> dict[str, Any]:
    wrk = subprocess.run([wrk_binary(), "-v"], capture_output=True, text=True)
    return {
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "aiohttp": aiohttp.__version__,
        "wrk": (wrk.stdout or wrk.stderr).split("\n")[0].strip(),
    }


def target_met(issue: dict[str, Any]) -> bool:
    m = issue["measured"]
    return m["requests_per_s"] >= TARGET_RATE and m["p99_ms"] < TARGET_P99_MS and m["errors"] == 0


def summary(env: dict[str, Any], issue: dict[str, Any], calls: dict[str, Any], checks: list[Check]) -> str:
    m, w = issue["measured"], issue["warmup"]
    by_name = {c.name: c for c in checks}
    sections = issue["sections"]
    lines = [
        f"Hall benchmark — {env['date']}, {env['cpus']} CPUs, Python {env['python']}, SQLite {env['sqlite']}",
        f"issue tickets (wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{MEASURE_S}s, kiosk token, "
        f"{len(sections)} sections): {m['requests_per_s']:.0f} tickets/s, p50 {ms(m['p50_ms'])}, "
        f"p99 {ms(m['p99_ms'])}, {m['errors']} errors ({m['requests']} requests)",
        f"  warm-up ({WARMUP_S} s on the fresh hall): {w['requests_per_s']:.0f} tickets/s, p99 {ms(w['p99_ms'])}; "
        f"{issue['db']['committed']} tickets in the database after both runs",
        f"  {by_name['tickets_committed'].line()}, {by_name['duplicate_numbers'].line()}",
        f"call next ({len(calls['windows'])} windows, call+finish loop, {CALL_S} s): "
        f"{calls['calls_per_s']:.0f} calls/s, call p50 {ms(calls['call_p50_ms'])} p99 {ms(calls['call_p99_ms'])}; "
        f"pair p50 {ms(calls['pair_p50_ms'])} p99 {ms(calls['pair_p99_ms'])}; {by_name['duplicate_calls'].line()}",
        f"  {by_name['finished_committed'].line()}, {by_name['call_errors'].line()}; "
        f"the client itself used {calls['client_cpu_s']:.1f} CPU s of {calls['elapsed_s']:.1f} s",
    ]
    if calls["windows_emptied"]:
        lines.append(f"  (queue emptied before the end at windows {calls['windows_emptied']})")
    for error in calls["errors"][:5]:
        lines.append(f"  error: {error}")
    verdict = "PASS" if target_met(issue) else "FAIL"
    lines.append(
        f"target ≥ {TARGET_RATE} tickets/s with p99 < {TARGET_P99_MS:.0f} ms and no errors: {verdict} "
        f"({m['requests_per_s']:.0f}/s, p99 {ms(m['p99_ms'])}, {m['errors']} errors)"
    )
    return "\n".join(lines)


def write_results(env: dict[str, Any], issue: dict[str, Any], calls: dict[str, Any], checks: list[Check]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "environment": env,
        "settings": {
            "wrk_threads": WRK_THREADS,
            "wrk_connections": WRK_CONNECTIONS,
            "warmup_s": WARMUP_S,
            "measure_s": MEASURE_S,
            "staff": STAFF,
            "call_s": CALL_S,
        },
        "issue": issue,
        "calls": calls,
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        "target": {"rate": TARGET_RATE, "p99_ms": TARGET_P99_MS, "met": target_met(issue)},
    }
    RESULTS.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# -- main ------------------------------------------------------------------------------------


def run(workdir: Path) -> int:
    env = environment()
    cfg_path, db = workdir / "bench.toml", workdir / "bench.db"
    cfg = bench_config(SOURCE_CONFIG)
    write_config(cfg, cfg_path)
    sections = [s["id"] for s in cfg["sections"]]
    print(f"setting up a hall in {workdir} …", flush=True)
    token = add_kiosk(cfg_path, db)
    staff = add_staff(cfg_path, db, STAFF)
    server = Server(cfg_path, db, free_port(), workdir)
    with running(server):
        issue, issue_checks_ = bench_issue(server, token, sections, db)
        issue["sections"] = sections
        calls, call_checks = bench_calls(server, staff, cfg, db)
    checks = issue_checks_ + call_checks
    print()
    print(summary(env, issue, calls, checks))
    write_results(env, issue, calls, checks)
    print(f"results: {RESULTS.relative_to(ROOT)}")
    return 0 if all(c.ok for c in checks) else 1


def main() -> int:
    try:
        with tempfile.TemporaryDirectory(prefix="hall-bench-") as tmp:
            return run(Path(tmp))
    except BenchError as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
