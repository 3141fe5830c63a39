"""Hall benchmark: signed WeChat messages handled per second, each answered in under 5 seconds.

Run it with `make bench` or `.venv/bin/python bench/wechat.py` from the project root.

The real server (`python -m hall serve`) runs the demo hall with `[callcenter.wechat]` on in safe mode, its
Token, EncodingAESKey and AppSecret in the environment. CONCURRENCY clients act as WeChat's servers: each
message is a text from one of CITIZENS followers, encrypted and signed (msg_signature) exactly as WeChat
does, posted to /wechat; RETRY_SHARE of them are sent a second time with the same MsgId, as WeChat does
when it thinks an answer is late. WARMUP_S seconds of warm-up, then MEASURE_S measured.

Every answer is checked as WeChat checks it: status 200, the reply's MsgSignature, decryption with the
AppID, and a text naming a case number. Reported: messages/s, p50/p99/max answer time, answers that were
late (≥ 5 s, which WeChat would have retried) or wrong. Afterwards the database is read: every answered
message is stored once (retries are not second messages) and each follower has one open case holding all
of its messages. Target: every answer in under 5 s and all checks pass; prints PASS/FAIL, writes
bench/out/wechat.json, exits 1 only when something crashed or a check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
from run import (
    ROOT,
    SOURCE_CONFIG,
    BenchError,
    Check,
    Server,
    bench_config,
    free_port,
    percentile,
    running,
    write_config,
)

sys.path.insert(0, str(ROOT))

from hall.callcenter.wechat import crypto  # noqa: E402  (the project, beside bench/)
from hall.callcenter.wechat.messages import parse_xml  # noqa: E402

RESULTS = ROOT / "bench" / "out" / "wechat.json"
CONCURRENCY = 32
CITIZENS = 500
RETRY_SHARE = 0.05
WARMUP_S = 3
MEASURE_S = 15
ANSWER_LIMIT_S = 5.0
APP_ID = "wxbe0c4a5d3e2f1a09"
TOKEN = "benchToken2026"
AES_KEY = "Bench0EncodingAESKey0for0the0hall0WeChat012"
SECRET = "bench-app-secret"
ENV = {"HALL_WECHAT_TOKEN": TOKEN, "HALL_WECHAT_AES_KEY": AES_KEY, "HALL_WECHAT_SECRET": SECRET}


class WechatServer(Server):
    """`python -m hall serve` (through `serve` below) with WeChat's secrets in its environment."""

    def __init__(self, cfg: Path, db: Path, port: int, workdir: Path) -> None:
        super().__init__(cfg, db, port, workdir)
        self.args = [sys.executable, __file__, "--serve", *self.args[self.args.index("serve") + 1 :]]

    def start(self) -> None:
        env = {**os.environ, **ENV}
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=env, stdout=out, stderr=err)


def serve(argv: list[str]) -> int:
    """`python -m hall serve ARGV`, with /wechat added when create_app does not wire it (yet)."""
    from hall import cli
    from hall.callcenter.wechat import views

    plain_create_app = cli.create_app

    def create_app(*args, **kw):
        app = plain_create_app(*args, **kw)
        if "wechat_message" not in app.router.named_resources():
            views.setup_routes(app)
        return app

    cli.create_app = create_app
    return cli.main(["serve", *argv])


class Load:
    def __init__(self, base: str) -> None:
        self.base = base
        self.box = crypto.MessageCrypto(AES_KEY, APP_ID)
        self.next_id = 1
        self.latencies: list[float] = []
        self.wrong: Counter[str] = Counter()
        self.answered: dict[str, str] = {}  # MsgId -> case number answered
        self.by_citizen: dict[str, set[str]] = {}  # openid -> case numbers
        self.retries = 0

    def body(self, openid: str, msg_id: str) -> bytes:
        created = int(time.time())
        return (
            f"<xml><ToUserName><![CDATA[gh_bench0000001]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
            f"</FromUserName><CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[压力测试留言 {msg_id}:请问不动产登记需要哪些材料?]]></Content>"
            f"<MsgId>{msg_id}</MsgId></xml>"
        ).encode()

    async def post(self, session: aiohttp.ClientSession, openid: str, msg_id: str, record: bool) -> None:
        timestamp, nonce = str(int(time.time())), str(random.randrange(10**9))
        encrypt = self.box.encrypt(self.body(openid, msg_id))
        params = {
            "signature": crypto.signature(TOKEN, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": openid,
            "encrypt_type": "aes",
            "msg_signature": crypto.signature(TOKEN, timestamp, nonce, encrypt),
        }
        envelope = (
            f"<xml><ToUserName><![CDATA[gh_bench0000001]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        )
        started = time.perf_counter()
        try:
            async with session.post(self.base + "/wechat", params=params, data=envelope.encode()) as resp:
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as e:
            self.wrong[f"no answer: {type(e).__name__}"] += 1
            return
        elapsed = time.perf_counter() - started
        if not record:
            return
        self.latencies.append(elapsed)
        number = self.check(status, text)
        if number is None:
            return
        if msg_id in self.answered and self.answered[msg_id] != number:
            self.wrong["a retry answered with another case number"] += 1
        self.answered[msg_id] = number
        self.by_citizen.setdefault(openid, set()).add(number)

    def check(self, status: int, text: str) -> str | None:
        if status != 200:
            self.wrong[f"HTTP {status}"] += 1
            return None
        try:
            outer = parse_xml(text.encode())
            if outer.get("MsgSignature") != crypto.signature(
                TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"]
            ):
                self.wrong["bad reply signature"] += 1
                return None
            content = parse_xml(self.box.decrypt(outer["Encrypt"]))["Content"]
        except (KeyError, ValueError) as e:
            self.wrong[f"unreadable reply: {type(e).__name__}"] += 1
            return None
        if "工单号 " not in content:
            self.wrong["reply without a case number"] += 1
            return None
        return content.split("工单号 ")[1].split(",")[0]

    async def client(self, session: aiohttp.ClientSession, until: float, record: bool) -> None:
        rng = random.Random()
        while time.monotonic() < until:
            openid = f"oBench{rng.randrange(CITIZENS):022d}"
            msg_id = str(10**15 + self.next_id)
            self.next_id += 1
            await self.post(session, openid, msg_id, record)
            if rng.random() < RETRY_SHARE:
                self.retries += record
                await self.post(session, openid, msg_id, record)

    async def run(self, seconds: float, record: bool) -> float:
        timeout = aiohttp.ClientTimeout(total=30)
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            started = time.monotonic()
            until = started + seconds
            await asyncio.gather(*(self.client(session, until, record) for _ in range(CONCURRENCY)))
            return time.monotonic() - started


def db_checks(db: Path, load: Load) -> tuple[dict, list[Check]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        ids = list(load.answered)
        stored: Counter[str] = Counter()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = conn.execute(
                "SELECT external_id, COUNT(*) AS n FROM case_messages WHERE channel = 'wechat' AND direction = 'in' "
                f"AND external_id IN ({','.join('?' * len(chunk))}) GROUP BY external_id",
                chunk,
            ).fetchall()
            stored.update({r["external_id"]: r["n"] for r in rows})
        missing = sum(1 for m in ids if stored[m] == 0)
        twice = sum(1 for m in ids if stored[m] > 1)
        open_cases = conn.execute(
            "SELECT contact_wechat, COUNT(*) AS n FROM cases WHERE channel = 'wechat' AND status != 'closed' "
            "GROUP BY contact_wechat HAVING n > 1"
        ).fetchall()
    finally:
        conn.close()
    several = sum(1 for numbers in load.by_citizen.values() if len(numbers) > 1)
    figures = {"stored_missing": missing, "stored_twice": twice, "citizens_with_two_open_cases": len(open_cases)}
    return figures, [
        Check("stored", missing == 0, f"every answered message stored: {missing} missing of {len(ids)}"),
        Check("once", twice == 0, f"no message stored twice, retries included: {twice} twice"),
        Check(
            "one case",
            not open_cases and several == 0,
            f"one open case per follower: {len(open_cases)} with two in the database, {several} answered with two",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=MEASURE_S)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hall-bench-wechat-") as tmp:
        work = Path(tmp)
        raw = bench_config(SOURCE_CONFIG)
        raw.setdefault("callcenter", {})["wechat"] = {"enabled": True, "app_id": APP_ID, "mode": "safe"}
        cfg, db = work / "hall.toml", work / "hall.db"
        write_config(raw, cfg)
        server = WechatServer(cfg, db, free_port(), work)
        load = Load(server.base)
        with running(server):
            asyncio.run(load.run(WARMUP_S, record=False))
            load.latencies.clear()
            elapsed = asyncio.run(load.run(args.seconds, record=True))
        figures, checks = db_checks(db, load)
    answers = len(load.latencies)
    late = sum(1 for t in load.latencies if t >= ANSWER_LIMIT_S)
    result = {
        "machine": f"{platform.machine()} {platform.system()}, Python {platform.python_version()}",
        "concurrency": CONCURRENCY,
        "citizens": CITIZENS,
        "seconds": round(elapsed, 1),
        "answers": answers,
        "retries": load.retries,
        "per_second": round(answers / elapsed, 1),
        "p50_ms": round(1000 * (percentile(load.latencies, 50) or 0), 1),
        "p99_ms": round(1000 * (percentile(load.latencies, 99) or 0), 1),
        "max_ms": round(1000 * max(load.latencies, default=0), 1),
        "late": late,
        "wrong": dict(load.wrong),
        **figures,
    }
    checks = [
        Check("in time", late == 0 and answers > 0, f"every answer in under 5 s: {late} late of {answers}"),
        Check(
            "right", not load.wrong, f"every answer signed, decrypting and naming a case: {dict(load.wrong) or 'yes'}"
        ),
        *checks,
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**result, "checks": [c.__dict__ for c in checks]}, ensure_ascii=False, indent=2))
    print(
        f"WeChat: {result['per_second']} messages/s over {result['seconds']} s ({answers} answers, "
        f"{load.retries} retries, {CONCURRENCY} connections); answer p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, max {result['max_ms']} ms; late {late}"
    )
    for check in checks:
        print(check.line())
    ok = all(c.ok for c in checks)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        sys.exit(serve(sys.argv[2:]))
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"bench failed: {e}", file=sys.stderr)
        sys.exit(1)
