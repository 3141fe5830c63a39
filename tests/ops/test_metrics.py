"""`GET /metrics`: Prometheus text that moves with the hall, for managers or the scrape token."""

import re

from hall.ops.metrics import TOKEN_ENV

from ..helpers import HallClient


def value(text: str, sample: str) -> float:
    """The value of one sample line, e.g. 'hall_tickets_waiting{section="A"}'."""
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    assert match, f"{sample} not in:\n{text}"
    return float(match.group(1))


async def scrape(hall: HallClient, headers: dict) -> str:
    status, text = await hall.get("/metrics", headers)
    assert status == 200, text
    return text


async def test_figures_move_as_tickets_are_issued_called_and_served(hall: HallClient):
    manager = await hall.user("manager")
    before = await scrape(hall, manager)
    assert value(before, 'hall_tickets_issued_today{section="A"}') == 0
    assert "# TYPE hall_http_request_duration_seconds histogram" in before

    first, _second = await hall.issue("A"), await hall.issue("A")
    window = await hall.staff_at(1)
    hall.clock.advance(90)
    assert (await hall.call(window, 1, ticket_id=first["id"]))["id"] == first["id"]
    assert (await hall.act(window, 1, "finish"))[0] == 200

    after = await scrape(hall, manager)
    assert value(after, 'hall_tickets_issued_today{section="A"}') == 2
    assert value(after, 'hall_tickets_waiting{section="A"}') == 1
    assert value(after, 'hall_calls_today{section="A"}') == 1
    assert value(after, 'hall_tickets_served_today{section="A"}') == 1
    assert value(after, 'hall_wait_seconds_average_today{section="A"}') == 90
    assert value(after, 'hall_tickets_issued_today{section="B"}') == 0
    assert value(after, "hall_screens_connected") == 0
    assert value(after, "hall_cases_overdue") == 0
    ok = 'hall_http_requests_total{method="POST",route="/api/tickets",status="201"}'
    assert value(after, ok) == 2
    calls = 'hall_http_request_duration_seconds_count{method="POST",route="/api/windows/{no}/call"}'
    assert value(after, calls) == 1  # the route's pattern, not each window's address
    assert 'route="/api/windows/1/call"' not in after


async def test_only_managers_or_the_scrape_token_read_it(hall: HallClient, monkeypatch):
    assert (await hall.get("/metrics", await hall.user("staff")))[0] == 403
    assert (await hall.get("/metrics", allow_redirects=False))[0] == 303  # to the login page
    monkeypatch.setenv(TOKEN_ENV, "scrape-secret-1234567890")
    assert "hall_tickets_waiting" in await scrape(hall, {"Authorization": "Bearer scrape-secret-1234567890"})
    assert (await hall.get("/metrics", {"Authorization": "Bearer scrape-secret-wrong"}))[0] == 401
    status, _ = await hall.get("/api/events", {"Authorization": "Bearer scrape-secret-1234567890"})
    assert status == 401  # the scrape token opens /metrics only


async def test_the_process_memory_is_told_apart_from_sqlite_s_caches(hall: HallClient):
    """RSS alone cannot tell a leak from a filling page cache; SQLite's own count of what it holds can."""
    manager = await hall.user("manager")
    text = await scrape(hall, manager)
    rss, sqlite_bytes = value(text, "process_resident_memory_bytes"), value(text, "hall_sqlite_memory_bytes")
    assert 20 * 2**20 < rss < 2**31
    assert 0 < sqlite_bytes < rss  # the server's connections hold schemas and pages
    assert value(text, "hall_python_allocated_blocks") > 10_000
    assert value(text, "process_open_fds") >= 3
    for _ in range(40):  # tickets fill pages: SQLite's share grows, and it is SQLite's own figure
        await hall.issue("A")
    assert value(await scrape(hall, manager), "hall_sqlite_memory_bytes") > sqlite_bytes
