"""Kiosks, pads, public forms and logins are rate-limited per device or client address (the app's clock)."""

from __future__ import annotations

import dataclasses

import pytest

from hall.config import LimitSettings
from hall.web.ratelimit import RateLimiter

from ..helpers import HallClient

TIGHT = LimitSettings(tickets=3, check_in=3, ratings=3, public=3, login=3, wechat=3)


@pytest.fixture
def config(config):
    return dataclasses.replace(config, limits=TIGHT)


def test_a_bucket_refills_evenly_by_the_clock():
    from hall.clock import FakeClock

    clock = FakeClock(0.0)
    limiter = RateLimiter(TIGHT, clock)
    for _ in range(3):
        limiter.take("tickets", "kiosk")
    with pytest.raises(Exception) as refused:
        limiter.take("tickets", "kiosk")
    assert refused.value.retry_after == 20  # 3 a minute: one every 20 seconds
    clock.advance(20)
    limiter.take("tickets", "kiosk")
    limiter.take("tickets", "another kiosk")


async def test_a_kiosk_in_a_loop_stops_at_its_limit_and_the_days_numbers_stay(hall: HallClient):
    kiosk = await hall.device("kiosk")
    answers = []
    for _ in range(40):
        answers.append(await hall.post("/api/tickets", {"section": "A"}, kiosk))
    assert [s for s, _ in answers[:3]] == [201] * 3
    assert {s for s, _ in answers[3:]} == {429}
    error = answers[-1][1]["error"]
    assert error["code"] == "rate_limited" and error["retry_after"] == 20 and "秒后再试" in error["message"]
    assert await hall.db.fetchval("SELECT COUNT(*) FROM tickets WHERE section = 'A'") == 3  # of 50 a day
    async with hall.client.post("/api/tickets", json={"section": "A"}, headers=kiosk) as resp:
        assert resp.status == 429 and resp.headers["Retry-After"] == "20"
    hall.clock.advance(20)
    assert (await hall.post("/api/tickets", {"section": "A"}, kiosk))[0] == 201
    # another kiosk has its own bucket, and staff at reception are not limited
    assert (await hall.post("/api/tickets", {"section": "A"}, await hall.device("kiosk")))[0] == 201
    staff = await hall.user("staff")
    assert {(await hall.post("/api/tickets", {"section": "C"}, staff))[0] for _ in range(5)} == {201}


async def test_one_id_number_holds_one_waiting_ticket_in_a_section(hall: HallClient):
    kiosk = await hall.device("kiosk")
    person = {"section": "A", "id_number": "11010519491231002X"}
    assert (await hall.post("/api/tickets", person, kiosk))[0] == 201
    status, body = await hall.post("/api/tickets", person, kiosk)
    assert status == 409 and body["error"]["code"] == "already_holding_ticket"


async def test_the_public_form_is_limited_per_address_but_agents_are_not(hall: HallClient):
    case = {"type": "consult", "content": "办理营业执照需要哪些材料?", "phone": "13800138000"}
    statuses = [(await hall.post("/api/cases", case))[0] for _ in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    agent = await hall.user("agent")
    assert 429 not in {(await hall.post("/api/cases", case, agent))[0] for _ in range(5)}


async def test_ratings_by_token_are_limited_per_address(hall: HallClient):
    statuses = [(await hall.post("/api/ratings", {"ticket_token": "x" * 20, "score": 5}))[0] for _ in range(5)]
    assert 429 not in statuses[:3] and statuses[3:] == [429, 429]


async def test_logins_are_limited_per_address(hall: HallClient):
    body = {"username": "nobody", "password": "whatever-1"}
    statuses = [(await hall.post("/api/auth/login", body))[0] for _ in range(4)]
    assert statuses[3] == 429


class TestBehindAProxy:
    @pytest.fixture
    def config(self, config):
        server = dataclasses.replace(config.server, trusted_proxies=["127.0.0.1"])
        return dataclasses.replace(config, limits=TIGHT, server=server)

    async def test_each_forwarded_client_has_its_own_bucket(self, hall: HallClient):
        case = {"type": "consult", "content": "请问周六上班吗?", "phone": "13800138000"}
        for client in ("203.0.113.7", "203.0.113.8"):
            headers = {"X-Forwarded-For": f"10.9.9.9, {client}"}  # the rightmost hop is the proxy's client
            statuses = [(await hall.post("/api/cases", case, headers))[0] for _ in range(4)]
            assert statuses == [201, 201, 201, 429], client


async def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(hall: HallClient):
    case = {"type": "consult", "content": "请问周六上班吗?", "phone": "13800138000"}
    statuses = [
        (await hall.post("/api/cases", case, {"X-Forwarded-For": f"203.0.113.{n}"}))[0] for n in range(4)
    ]  # made-up addresses do not buy more requests
    assert statuses[3] == 429


class TestTurnedOff:
    @pytest.fixture
    def config(self, config):
        return dataclasses.replace(config, limits=dataclasses.replace(TIGHT, enabled=False))

    async def test_no_limit(self, hall: HallClient):
        kiosk = await hall.device("kiosk")
        assert {(await hall.post("/api/tickets", {"section": "A"}, kiosk))[0] for _ in range(6)} == {201}
