"""Hall benchmark: ratings (好差评) at scale. Ten million in the database, the managers' statistics, intake.

Run it with `make bench` (after bench/run.py and bench/screens.py) or `.venv/bin/python bench/ratings.py`
from the project root. The first run generates the database (a few minutes, about 6 GB under bench/out/);
later runs reuse it.

1. Data: bench/rating_data.py fills a freshly migrated database with SQL (no Python per row): 10,000,000
   ratings of the services of the two years of working days before today at the demo hall's 20 windows,
   with their bad-review cases and the roll-ups `rating_days` and `rating_months`. The result is kept as
   bench/out/ratings/ratings-<count>-<key>.db (the evaluation tables only), the key a hash of the generator's
   code, the evaluation migrations and the hall's layout in the bench config (windows, sections, time zone,
   calendar), so a change to any of them generates afresh. Each run works on a copy, migrates the other
   domains into it and adds the staff accounts the rows name. Checked on it: the rating count, and over the
   last full month, per window, `rating_days` (grades, follow-ups, services) against counts taken straight
   from `ratings` and `services`, and `rating_months` against `rating_days`.
2. Statistics: the real server (`python -m hall serve`) on the copy; a manager made with `python -m hall
   user add` signs in. Each question is asked once to warm up, then QUERY_RUNS times in a row:
   - the monthly per-window table, GET /api/ratings/stats?by=window&from=…&to=… (the last full month);
   - a year's per-department trend, GET /api/ratings/stats?by=department&period=month&from=…&to=… (the
     twelve months ending there).
   Reported p50/p95/max; target p95 < 500 ms for each. Checked: the month's figures for one window (served,
   rated, each grade, default grades, follow-ups, bad reviews) and the year's total served and rated equal
   counts taken straight from `services` and `ratings`.
3. Intake: before the server starts, INTAKE_TICKETS tickets are written as served at the 20 windows in the
   last ten minutes (queue rows as the window caller leaves them); the manager registers one pad per window
   over the API. CONCURRENCY clients POST /api/ratings, half from the window's pad (device token and ticket
   id), half as citizens with the ticket's QR token (some real-name), grades mostly good, bad ones with a tag:
   INTAKE_WARMUP_S seconds of warm-up, then INTAKE_S measured (or until the tickets run out). Reported:
   ratings/s, p50/p99, answers other than 201; target ≥ 1,000 ratings/s. Checked: every 201 is in
   `ratings` with its ticket, grade and channel and nothing else was stored, each service was recorded once,
   each bad rating opened a case, the day's `rating_days` add up to the answers and the month's
   `rating_months` to its `rating_days`.

Prints a summary, writes bench/out/ratings.json, and PASS/FAIL against the targets. The exit status is 1 only
when something crashed or a check failed.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import datetime as dt
import hashlib
import inspect
import json
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
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
import rating_data  # noqa: E402  (beside this file; it needs the project on the path)

from hall.config import Config  # noqa: E402  (the project, beside bench/)
from hall.config import load as load_config  # noqa: E402
from hall.evaluation.settings import DEFAULT_TAGS  # noqa: E402
from hall.server import SCHEMAS  # noqa: E402
from hall.storage.migrations import migrate  # noqa: E402

RESULTS = ROOT / "bench" / "out" / "ratings.json"
CACHE = ROOT / "bench" / "out" / "ratings"

RATINGS = 10_000_000
QUERY_RUNS = 20
TARGET_QUERY_MS = 500.0
INTAKE_TICKETS = 40_000
CONCURRENCY = 64
INTAKE_WARMUP_S = 2
INTAKE_S = 15
TARGET_INTAKE = 1000
MANAGER = ("bench-manager", "bench-manager-password")


def month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


# -- the ten million -------------------------------------------------------------------------


def code_of(module: Any) -> str:
    """A module's code without its comments and docstrings: editing the prose regenerates nothing."""
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


GENERATED = [s for s in SCHEMAS if s.domain == "evaluation"]  # the cached database holds only these tables


def hall_layout(config: Config) -> str:
    """What the generator reads of the config: the windows, the sections, the time zone, the calendar."""
    windows = [(w.no, w.name, w.department, w.sections, w.comprehensive) for w in config.windows]
    calendar = sorted(map(str, config.closed_dates)), sorted(map(str, config.open_dates))
    return json.dumps([windows, [s.id for s in config.sections], str(config.tz), calendar], ensure_ascii=False)


def cache_key(config: Config) -> str:
    """What the generated database depends on: the generator's code, the evaluation migrations, the hall's
    layout. (Each run migrates the other domains on its copy, then adds the users the rows name.)"""
    h = hashlib.sha256(code_of(rating_data).encode())
    for schema in GENERATED:
        h.update(schema.domain.encode())
        for step in schema.steps:
            h.update(step.encode())
    h.update(hall_layout(config).encode())
    return h.hexdigest()[:12]


def generating(path: Path) -> bool:
    """Whether `path` is a database another run is generating now (NAME.PID.partial, that process alive)."""
    pid = path.suffixes[-2][1:] if path.suffix == ".partial" and len(path.suffixes) >= 2 else ""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def generated_database(cfg_path: Path, ratings: int) -> tuple[Path, dict[str, Any]]:
    """The cached database of `ratings` ratings, generated first when there is none for this key."""
    config = load_config(cfg_path)
    name = f"ratings-{ratings}-{cache_key(config)}"
    db, meta_path = CACHE / f"{name}.db", CACHE / f"{name}.json"
    if db.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        print(f"data: reusing {db.relative_to(ROOT)} (generated {meta['generated_on']} in {meta['seconds']:.0f} s)")
        return db, {**meta, "cached": True}
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob(f"ratings-{ratings}-*"):  # of another generator, schema or config: 6 GB each
        if not generating(stale):
            stale.unlink()
    partial = CACHE / f"{name}.{os.getpid()}.partial"
    print(f"data: generating {ratings:,} ratings into {db.relative_to(ROOT)} (a few minutes) …", flush=True)
    now = time.time()
    started = time.perf_counter()
    try:
        with closing(sqlite3.connect(partial, isolation_level=None)) as conn:
            migrate(conn, GENERATED)
            today = dt.datetime.fromtimestamp(now, config.tz).date()
            generated = rating_data.generate(conn, config, ratings, today, now)
        partial.rename(db)
    finally:
        partial.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    meta = {
        **asdict(generated),
        "generated_on": dt.date.today().isoformat(),
        "seconds": seconds,
        "bytes": db.stat().st_size,
    }
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"data: generated in {seconds:.0f} s, {meta['bytes'] / 1e9:.1f} GB", flush=True)
    return db, {**meta, "cached": False}


ROLL_UP_BY_WINDOW = (
    "SELECT window_no, SUM(served), SUM(g1), SUM(g2), SUM(g3), SUM(g4), SUM(g5), SUM(follow_ups) "
    "FROM rating_days WHERE day BETWEEN ? AND ? GROUP BY window_no"
)
RATINGS_BY_WINDOW = (
    "SELECT window_no, SUM(kind = 'first' AND grade = 1), SUM(kind = 'first' AND grade = 2), "
    "SUM(kind = 'first' AND grade = 3), SUM(kind = 'first' AND grade = 4), SUM(kind = 'first' AND grade = 5), "
    "SUM(kind = 'follow_up') FROM ratings WHERE day BETWEEN ? AND ? AND voided_at IS NULL "
    "AND created_at BETWEEN ? AND ? GROUP BY window_no"
)
SERVICES_BY_WINDOW = (
    "SELECT window_no, COUNT(*) FROM services WHERE day BETWEEN ? AND ? AND window_no IN ({windows}) "
    "AND finished_at BETWEEN ? AND ? GROUP BY window_no"
)
# The generator's ratings come at most four weeks after their service (追评 after a closed case): the
# checks read the month's ratings by time (index ratings_created), not all ten million.
RATED_WITHIN_S = 40 * 86400
MONTHS_BY_WINDOW = ROLL_UP_BY_WINDOW.replace("rating_days WHERE day", "rating_months WHERE month")
SUMS_BY_CHANNEL = "SUM(served), SUM(g1), SUM(g2), SUM(g3), SUM(g4), SUM(g5), SUM(follow_ups), SUM(real_name_bad)"


def has_months(conn: sqlite3.Connection) -> bool:
    """Whether the schema has the monthly roll-up (evaluation migration 4)."""
    return (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rating_months'").fetchone()
        is not None
    )


def data_checks(
    db: Path, month: tuple[dt.date, dt.date], ratings: int, config: Config
) -> tuple[dict[str, Any], list[Check]]:
    """The rating count, and one month's roll-up per window against the rows it adds up."""
    started = time.perf_counter()
    span = (month[0].isoformat(), month[1].isoformat())
    start = dt.datetime.combine(month[0], dt.time(0), config.tz).timestamp() - 86400
    end = dt.datetime.combine(month[1], dt.time(0), config.tz).timestamp() + 2 * 86400
    windows = ", ".join(str(w.no) for w in config.windows)
    with closing(read_only(db)) as conn:
        count = conn.execute("SELECT COUNT(*) FROM ratings").fetchone()[0]
        rolled = {r[0]: r[1:] for r in conn.execute(ROLL_UP_BY_WINDOW, span)}
        rows = {r[0]: r[1:] for r in conn.execute(RATINGS_BY_WINDOW, (*span, start, end + RATED_WITHIN_S))}
        services = dict(conn.execute(SERVICES_BY_WINDOW.format(windows=windows), (*span, start, end)).fetchall())
        months = {r[0]: r[1:] for r in conn.execute(MONTHS_BY_WINDOW, (span[0][:7],) * 2)} if has_months(conn) else None
    counted = {w: (services.get(w, 0), *rows.get(w, (0,) * 6)) for w in set(rows) | set(services)}
    differ = sorted(w for w in set(rolled) | set(counted) if rolled.get(w) != counted.get(w))
    months_differ = sorted(w for w in set(rolled) | set(months) if rolled.get(w) != months.get(w)) if months else []
    month_ratings = sum(sum(v[1:]) for v in counted.values())
    checks = [
        Check(
            "rating_count", abs(count - ratings) <= ratings // 100, f"ratings in the database {count:,} ≈ {ratings:,}"
        ),
        Check(
            "roll_up_month",
            not differ and bool(rolled),
            f"{span[0][:7]} rating_days = ratings and services for {len(counted)} windows "
            f"({month_ratings:,} ratings){f', differ at windows {differ}' if differ else ''}",
        ),
    ]
    if months is not None:
        checks.append(
            Check(
                "roll_up_months",
                not months_differ and bool(months),
                f"{span[0][:7]} rating_months = rating_days summed, for each window"
                + (f", differ at windows {months_differ}" if months_differ else ""),
            )
        )
    return {"ratings": count, "month_ratings": month_ratings, "seconds": time.perf_counter() - started}, checks


# -- statistics over HTTP --------------------------------------------------------------------


@dataclass
class Question:
    name: str
    path: str
    params: dict[str, str]
    ms: list[float] = field(default_factory=list)
    answer: dict[str, Any] | None = None
    bytes: int = 0

    def figures(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "params": self.params,
            "runs": len(self.ms),
            "p50_ms": percentile(self.ms, 50),
            "p95_ms": percentile(self.ms, 95),
            "max_ms": max(self.ms) if self.ms else None,
            "response_bytes": self.bytes,
            "groups": len(self.answer["groups"]) if self.answer else None,
        }

    def met(self) -> bool:
        p95 = percentile(self.ms, 95)
        return p95 is not None and p95 < TARGET_QUERY_MS


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def expect(response: aiohttp.ClientResponse, status: int, what: str) -> Any:
    body = await response.json() if response.content_type == "application/json" else await response.text()
    if response.status != status:
        raise BenchError(f"{what} answered {response.status}: {str(body)[:300]}")
    return body


async def login(http: aiohttp.ClientSession) -> str:
    username, password = MANAGER
    async with http.post("/api/auth/login", json={"username": username, "password": password}) as r:
        return (await expect(r, 200, f"login of {username}"))["token"]


async def ask(http: aiohttp.ClientSession, token: str, q: Question) -> None:
    """Once to warm up, then QUERY_RUNS times in a row, each timed to the last byte."""
    for run in range(QUERY_RUNS + 1):
        t0 = time.perf_counter()
        async with http.get(q.path, params=q.params, headers=bearer(token)) as r:
            raw = await r.read()
            elapsed = (time.perf_counter() - t0) * 1000
            if r.status != 200:
                raise BenchError(f"GET {q.path} {q.params} answered {r.status}: {raw[:300]!r}")
        if run:
            q.ms.append(elapsed)
        else:
            q.answer, q.bytes = json.loads(raw), len(raw)


def questions(month: tuple[dt.date, dt.date]) -> list[Question]:
    ago = month[0].year * 12 + month[0].month - 1 - 11  # twelve months ending with `month`
    first = dt.date(ago // 12, ago % 12 + 1, 1)
    return [
        Question(
            "month_by_window",
            "/api/ratings/stats",
            {"by": "window", "from": month[0].isoformat(), "to": month[1].isoformat()},
        ),
        Question(
            "year_by_department",
            "/api/ratings/stats",
            {"by": "department", "period": "month", "from": first.isoformat(), "to": month[1].isoformat()},
        ),
    ]


WINDOW_RATINGS = (
    "SELECT kind, channel = 'default', grade, COUNT(*) FROM ratings "
    "WHERE window_no = ? AND day BETWEEN ? AND ? AND voided_at IS NULL GROUP BY 1, 2, 3"
)
WINDOW_BAD = (
    "SELECT COUNT(*) FROM ratings r JOIN bad_reviews b ON b.rating_id = r.id WHERE r.window_no = ? "
    "AND r.day BETWEEN ? AND ? AND r.kind = 'first' AND r.grade <= 2 AND r.voided_at IS NULL AND b.status <> 'void'"
)


def answer_checks(db: Path, month_q: Question, year_q: Question) -> list[Check]:
    """The month's figures of one window, and the year's totals, against counts straight from the rows."""
    p, y = month_q.params, year_q.params
    group = max(month_q.answer["groups"], key=lambda g: g["served"] or 0)
    window = group["key"]
    with closing(read_only(db)) as conn:
        by = conn.execute(WINDOW_RATINGS, (window, p["from"], p["to"])).fetchall()
        served = conn.execute(
            "SELECT COUNT(*) FROM services WHERE window_no = ? AND day BETWEEN ? AND ?", (window, p["from"], p["to"])
        ).fetchone()[0]
        bad = conn.execute(WINDOW_BAD, (window, p["from"], p["to"])).fetchone()[0]
        year_served = conn.execute("SELECT COUNT(*) FROM services WHERE day BETWEEN ? AND ?", (y["from"], y["to"]))
        year_served = year_served.fetchone()[0]
        year_rated = conn.execute(
            "SELECT COUNT(*) FROM ratings WHERE day BETWEEN ? AND ? AND kind = 'first' AND channel <> 'default' "
            "AND voided_at IS NULL",
            (y["from"], y["to"]),
        ).fetchone()[0]
    grades = Counter()
    defaulted = follow_ups = 0
    for kind, is_default, grade, n in by:
        if kind == "follow_up":
            follow_ups += n
        elif is_default:
            defaulted += n
        else:
            grades[str(grade)] += n
    expected = {
        "served": served,
        "rated": sum(grades.values()),
        "grades": {g: grades[g] for g in ("5", "4", "3", "2", "1")},
        "defaulted": defaulted,
        "follow_ups": follow_ups,
        "bad_reviews": bad,
    }
    got = {k: group[k] for k in ("served", "rated", "grades", "defaulted", "follow_ups")}
    got["bad_reviews"] = group["bad_reviews"]["count"]
    total = year_q.answer["total"]
    return [
        Check(
            "month_window_answer",
            got == expected,
            f"window {window} in {p['from'][:7]}: served {got['served']:,}, rated {got['rated']:,}, "
            f"bad reviews {got['bad_reviews']:,} = counted in services and ratings"
            + ("" if got == expected else f" (answer {got}, counted {expected})"),
        ),
        Check(
            "year_total_answer",
            (total["served"], total["rated"]) == (year_served, year_rated),
            f"year total served {total['served']:,}, rated {total['rated']:,} = counted "
            f"{year_served:,}, {year_rated:,}",
        ),
    ]


# -- intake ----------------------------------------------------------------------------------


@dataclass
class Sent:
    k: int
    status: int
    started: float
    ms: float
    rating_id: int | None = None
    error: str | None = None


def rating_body(k: int, served: rating_data.Served, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """Half from the window's pad, half by QR (a third of those real-name); grades mostly good."""
    grade = rng.choices((5, 4, 3, 2, 1), weights=(70, 17, 8, 3, 2))[0]
    tags = DEFAULT_TAGS[grade]
    body: dict[str, Any] = {"grade": grade, "tags": [tags[k % len(tags)]] if grade <= 2 or k % 3 == 0 else []}
    if grade <= 2 and k % 4 == 0:
        body["comment"] = "等候时间太长"
    if k % 2 == 0:
        return "pad", {"ticket_id": served.ticket_id, **body}
    body.update(ticket_token=served.token, channel="qr")
    if k % 3 == 1:
        body["rater"] = {"name": "王先生", "phone": f"139{k:08d}"}
    return "qr", body


async def intake(base: str, manager: str, served: list[rating_data.Served]) -> dict[str, Any]:
    """Pads registered, then CONCURRENCY clients rating the served tickets until the time is up."""
    rng = random.Random(2026)
    bodies = [rating_body(k, s, rng) for k, s in enumerate(served)]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(base, connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        pads: dict[int, str] = {}
        for no in sorted({s.window_no for s in served}):
            body = {"name": f"bench-pad-{no:02d}", "kind": "pad", "window": no}
            async with http.post("/api/devices", json=body, headers=bearer(manager)) as r:
                pads[no] = (await expect(r, 201, f"registering the pad of window {no}"))["token"]
        sent: list[Sent] = []
        queue = iter(range(len(bodies)))
        print(
            f"intake: {CONCURRENCY} clients POST /api/ratings for {INTAKE_WARMUP_S} + {INTAKE_S} s "
            f"({len(served):,} served tickets) …",
            flush=True,
        )
        load = os.getloadavg()[0]  # other work on the machine shares its two cores with the server
        started, cpu = time.perf_counter(), time.process_time()
        deadline = started + INTAKE_WARMUP_S + INTAKE_S

        async def client() -> None:
            for k in queue:
                if time.perf_counter() >= deadline:
                    return
                channel, body = bodies[k]
                headers = bearer(pads[served[k].window_no]) if channel == "pad" else None
                t0 = time.perf_counter()
                async with http.post("/api/ratings", json=body, headers=headers) as r:
                    answer = await r.json() if r.content_type == "application/json" else await r.text()
                    ms = (time.perf_counter() - t0) * 1000
                if r.status == 201:
                    sent.append(Sent(k, 201, t0, ms, rating_id=answer["id"]))
                else:
                    sent.append(Sent(k, r.status, t0, ms, error=str(answer)[:200]))

        await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
        ended, cpu = time.perf_counter(), time.process_time() - cpu
    measured_from = started + INTAKE_WARMUP_S
    measured = [s for s in sent if s.started >= measured_from and s.status == 201]
    window_s = max(ended - measured_from, 1e-9)
    ms = [s.ms for s in measured]
    return {
        "sent": sent,
        "bodies": bodies,
        "ran_out": len(sent) == len(bodies),
        "client_cpu_s": cpu,
        "load_average_before": load,
        "elapsed_s": ended - started,
        "measured_s": window_s,
        "measured": len(measured),
        "ratings_per_s": len(measured) / window_s,
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else None,
        "answered_201": sum(s.status == 201 for s in sent),
        "not_201": sum(s.status != 201 for s in sent),
        "errors": [f"{s.status} {s.error}" for s in sent if s.status != 201][:10],
    }


def intake_checks(db: Path, served: list[rating_data.Served], run: dict[str, Any]) -> list[Check]:
    """Every 201 stored as answered and nothing else; services, cases and the roll-up in step."""
    first_id = served[0].ticket_id
    bodies = run["bodies"]
    ok = [s for s in run["sent"] if s.status == 201]
    expected = {s.rating_id: (served[s.k].ticket_id, bodies[s.k][1]["grade"], bodies[s.k][0]) for s in ok}
    with closing(read_only(db)) as conn:
        stored = {
            r[0]: tuple(r[1:])
            for r in conn.execute("SELECT id, ticket_id, grade, channel FROM ratings WHERE ticket_id >= ?", (first_id,))
        }
        services = conn.execute("SELECT COUNT(*), COUNT(DISTINCT day) FROM services WHERE ticket_id >= ?", (first_id,))
        service_count, days = services.fetchone()
        cases = conn.execute(
            "SELECT COUNT(*) FROM bad_reviews b JOIN ratings r ON r.id = b.rating_id WHERE r.ticket_id >= ?",
            (first_id,),
        ).fetchone()[0]
        rolled = conn.execute(
            "SELECT channel, SUM(served), SUM(g1), SUM(g2), SUM(g3), SUM(g4), SUM(g5) FROM rating_days "
            "WHERE day IN (SELECT DISTINCT day FROM services WHERE ticket_id >= ?) GROUP BY channel",
            (first_id,),
        ).fetchall()
        month = conn.execute("SELECT substr(MAX(day), 1, 7) FROM services WHERE ticket_id >= ?", (first_id,))
        month = month.fetchone()[0]
        in_step = None
        if has_months(conn) and month:
            by_days = conn.execute(
                f"SELECT channel, {SUMS_BY_CHANNEL} FROM rating_days WHERE substr(day, 1, 7) = ? GROUP BY channel",
                (month,),
            ).fetchall()
            by_month = conn.execute(
                f"SELECT channel, {SUMS_BY_CHANNEL} FROM rating_months WHERE month = ? GROUP BY channel", (month,)
            ).fetchall()
            in_step = by_days == by_month
    bad = sum(1 for v in expected.values() if v[1] <= 2)
    want: dict[str, list[int]] = {"": [len(ok), 0, 0, 0, 0, 0]}
    for _, grade, channel in expected.values():
        want.setdefault(channel, [0] * 6)[grade] += 1
    got = {r[0]: list(r[1:]) for r in rolled}
    return [
        Check(
            "intake_answers",
            run["not_201"] == 0,
            f"answers other than 201: {run['not_201']}" + (f" ({run['errors'][0]})" if run["errors"] else ""),
        ),
        Check("intake_stored", stored == expected, f"stored ratings {len(stored):,} = answered 201 {len(ok):,}"),
        Check(
            "intake_services",
            service_count == len(ok),
            f"services recorded {service_count:,} = rated tickets {len(ok):,}",
        ),
        Check("intake_cases", cases == bad, f"bad-review cases opened {cases:,} = bad ratings {bad:,}"),
        Check(
            "intake_roll_up",
            got == want,
            f"rating_days of the day{'s' if days > 1 else ''} = the answers by channel and grade"
            + ("" if got == want else f" (rolled up {got}, answered {want})"),
        ),
        *(
            [Check("intake_months", in_step, f"{month} rating_months = its rating_days summed, by channel")]
            if in_step is not None
            else []
        ),
    ]


# -- report ----------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def environment() -> dict[str, Any]:
    return {
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "aiohttp": aiohttp.__version__,
    }


def summary(
    env: dict[str, Any], data: dict[str, Any], qs: list[Question], run: dict[str, Any], checks: list[Check]
) -> str:
    meta = data["meta"]
    by_name = {c.name: c for c in checks}
    how = "reused from bench/out/ratings" if meta["cached"] else "generated now"
    lines = [
        f"Ratings benchmark — {env['date']}, {env['cpus']} CPUs, Python {env['python']}, SQLite {env['sqlite']}",
        f"data: {data['ratings']:,} ratings of {meta['services']:,} services, {meta['first_day']} … {meta['last_day']} "
        f"({meta['working_days']} working days), {meta['bad_reviews']:,} bad-review cases, "
        f"{meta['rating_days_rows']:,} rating_days rows, {meta['bytes'] / 1e9:.1f} GB; {how} "
        f"(generation took {meta['seconds']:.0f} s on {meta['generated_on']}); copied in {data['copy_s']:.0f} s",
        f"  {by_name['rating_count'].line()}",
        f"  {by_name['roll_up_month'].line()}",
        *([f"  {by_name['roll_up_months'].line()}"] if "roll_up_months" in by_name else []),
    ]
    for q in qs:
        f = q.figures()
        verdict = "PASS" if q.met() else "FAIL"
        lines.append(
            f"{q.name} (GET {q.path}?{'&'.join(f'{k}={v}' for k, v in q.params.items())}, {f['groups']} groups, "
            f"{f['response_bytes'] / 1000:.0f} kB): p50 {ms(f['p50_ms'])}, p95 {ms(f['p95_ms'])}, "
            f"max {ms(f['max_ms'])} over {f['runs']} runs; target p95 < {TARGET_QUERY_MS:.0f} ms: {verdict}"
        )
    lines += [f"  {by_name['month_window_answer'].line()}", f"  {by_name['year_total_answer'].line()}"]
    lines.append(
        f"intake (POST /api/ratings, {CONCURRENCY} clients, half pad half QR, {INTAKE_S} s after {INTAKE_WARMUP_S} s"
        f"{', tickets ran out' if run['ran_out'] else ''}): {run['ratings_per_s']:.0f} ratings/s, "
        f"p50 {ms(run['p50_ms'])}, p99 {ms(run['p99_ms'])}, {run['not_201']} answers other than 201 "
        f"({run['answered_201']:,} rated in all); the client itself used {run['client_cpu_s']:.1f} CPU s "
        f"of {run['elapsed_s']:.1f} s; load average {run['load_average_before']:.1f} before"
    )
    for name in (
        "intake_answers",
        "intake_stored",
        "intake_services",
        "intake_cases",
        "intake_roll_up",
        "intake_months",
    ):
        if name in by_name:
            lines.append(f"  {by_name[name].line()}")
    verdict = "PASS" if run["ratings_per_s"] >= TARGET_INTAKE else "FAIL"
    lines.append(f"target ≥ {TARGET_INTAKE} ratings/s: {verdict} ({run['ratings_per_s']:.0f}/s)")
    return "\n".join(lines)


def write_results(
    env: dict[str, Any], data: dict[str, Any], qs: list[Question], run: dict[str, Any], checks: list[Check]
) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    intake_figures = {k: v for k, v in run.items() if k not in ("sent", "bodies")}
    out = {
        "environment": env,
        "settings": {
            "ratings": data["meta"]["ratings"],
            "query_runs": QUERY_RUNS,
            "intake_tickets": INTAKE_TICKETS,
            "concurrency": CONCURRENCY,
            "intake_warmup_s": INTAKE_WARMUP_S,
            "intake_s": INTAKE_S,
        },
        "data": data,
        "queries": {q.name: {**q.figures(), "ms": q.ms, "met": q.met()} for q in qs},
        "intake": intake_figures,
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        "target": {
            "query_p95_ms": TARGET_QUERY_MS,
            "intake_per_s": TARGET_INTAKE,
            "met": all(q.met() for q in qs) and run["ratings_per_s"] >= TARGET_INTAKE,
        },
    }
    RESULTS.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# -- main ------------------------------------------------------------------------------------


def last_full_month(last_day: str) -> tuple[dt.date, dt.date]:
    """The last calendar month the data covers to its end."""
    last = dt.date.fromisoformat(last_day)
    end = last if last == month_end(last) else last.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


async def statistics_and_intake(server: Server, qs: list[Question], served: list[rating_data.Served]) -> dict[str, Any]:
    async with aiohttp.ClientSession(server.base, cookie_jar=aiohttp.DummyCookieJar()) as http:
        manager = await login(http)
        for q in qs:
            print(f"statistics: {q.name}, 1 + {QUERY_RUNS} requests …", flush=True)
            await ask(http, manager, q)
    return await intake(server.base, manager, served)


def run(workdir: Path, ratings: int) -> int:
    env = environment()
    cfg_path, db = workdir / "bench.toml", workdir / "bench.db"
    raw = bench_config(SOURCE_CONFIG)
    # 64 clients rate as fast as the server answers, from one address and 20 pads: far past what a pad or a
    # citizen's phone is allowed ([limits] ratings, a minute). The limiter stays in the path, with room.
    raw.setdefault("limits", {})["ratings"] = 1_000_000
    # The generated two years were never anonymised as they aged: with retention on, the server's
    # start-up sweep would spend the run clearing a year of raters (a one-off backlog a running hall
    # never has) in the writer the intake measures. Retention has its own tests.
    raw.setdefault("privacy", {})["retention_days"] = 0
    write_config(raw, cfg_path)
    cached, meta = generated_database(cfg_path, ratings)
    t0 = time.perf_counter()
    shutil.copyfile(cached, db)
    copy_s = time.perf_counter() - t0
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        migrate(conn, SCHEMAS)  # every other domain, fresh
        rating_data.add_accounts(conn, load_config(cfg_path), time.time())
    month = last_full_month(meta["last_day"])
    counts, checks = data_checks(db, month, ratings, load_config(cfg_path))
    data = {"meta": meta, "copy_s": copy_s, **counts}
    print(f"data: {counts['ratings']:,} ratings, checked in {counts['seconds']:.0f} s", flush=True)
    hall_cli(
        ["user", "add", MANAGER[0], "--role", "manager", "--config", str(cfg_path), "--db", str(db)], MANAGER[1] + "\n"
    )
    with closing(sqlite3.connect(db)) as conn:
        served = rating_data.served_tickets(conn, load_config(cfg_path), INTAKE_TICKETS, time.time())
    qs = questions(month)
    server = Server(cfg_path, db, free_port(), workdir)
    with running(server):
        result = asyncio.run(statistics_and_intake(server, qs, served))
    if result["not_201"]:
        print(f"-- {result['not_201']} ratings refused; last lines of the server's stderr:\n{server.stderr_tail()}\n")
    checks += answer_checks(db, *qs)
    checks += intake_checks(db, served, result)
    print()
    print(summary(env, data, qs, result, checks))
    write_results(env, data, qs, result, checks)
    print(f"results: {RESULTS.relative_to(ROOT)}")
    return 0 if all(c.ok for c in checks) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ratings", type=int, default=RATINGS, help="ratings to generate (a smaller try-out)")
    args = parser.parse_args()
    try:
        with tempfile.TemporaryDirectory(prefix="hall-bench-ratings-") as tmp:
            return run(Path(tmp), args.ratings)
    except BenchError as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
