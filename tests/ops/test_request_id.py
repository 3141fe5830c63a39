"""Every answer and every log line of a request carries its request id."""

import dataclasses
import json
import logging
import re

from hall.ops.logs import JsonFormatter
from hall.server import create_app

from ..helpers import HallClient


async def test_the_proxys_request_id_is_echoed_and_a_new_one_made_otherwise(hall: HallClient):
    async with hall.client.get("/api/health", headers={"X-Request-Id": "nginx-4f2a9c"}) as resp:
        assert resp.headers["X-Request-Id"] == "nginx-4f2a9c"
    async with hall.client.get("/api/health") as a, hall.client.get("/api/health") as b:
        assert re.fullmatch(r"[0-9a-f]{16}", a.headers["X-Request-Id"])
        assert a.headers["X-Request-Id"] != b.headers["X-Request-Id"]
    for bad in ("two words", "x" * 65, 'quote"d'):  # anything that could forge or bloat a log line is replaced
        async with hall.client.get("/api/health", headers={"X-Request-Id": bad}) as resp:
            assert re.fullmatch(r"[0-9a-f]{16}", resp.headers["X-Request-Id"])
    async with hall.client.get("/nowhere", headers={"X-Request-Id": "lost-1"}) as resp:
        assert resp.status == 404 and resp.headers["X-Request-Id"] == "lost-1"


async def test_log_lines_of_a_request_name_it_in_json(aiohttp_client, config, clock, db_path, caplog):
    config = dataclasses.replace(config, server=dataclasses.replace(config.server, access_log=True))
    app = create_app(config, clock=clock, db_path=db_path)
    client = await aiohttp_client(app)
    with caplog.at_level(logging.INFO, logger="hall.access"):
        async with client.get("/api/tickets/1", headers={"X-Request-Id": "req-77"}) as resp:
            assert resp.status == 401
    lines = [r for r in caplog.records if r.name == "hall.access"]
    assert [r.request_id for r in lines] == ["req-77"]
    line = json.loads(JsonFormatter().format(lines[0]))
    assert line["request_id"] == "req-77" and line["method"] == "GET" and line["path"] == "/api/tickets/1"
    assert line["status"] == 401 and line["duration_ms"] >= 0 and line["level"] == "INFO" and "time" in line
    assert line["logger"] == "hall.access" and line["message"].startswith("GET /api/tickets/1 401")
