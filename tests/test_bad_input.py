"""Bad input gets a clear 4xx with a stable code, and changes nothing."""

import io

import pytest
from aiohttp import DummyCookieJar

from hall.server import create_app

from .helpers import HallClient


@pytest.fixture
async def before(hall: HallClient):
    """Counts taken after set-up; each test asserts they did not move."""
    hall.staff = await hall.staff_at(1)
    hall.kiosk_headers = await hall.kiosk()
    await hall.issue("A")
    return await hall.counts()


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"section": "Z"}, "unknown_section", "section"),
        ({"section": 1}, "invalid_field", "section"),
        ({}, "invalid_field", "section"),
        ({"section": "A", "priority": 3}, "invalid_field", "priority"),
        ({"section": "A", "priority": "vip"}, "invalid_field", "priority"),
        ({"section": "A", "id_number": "123"}, "invalid_field", "id_number"),
        ({"section": "A", "id_number": "110101195001011234"}, "invalid_field", "id_number"),  # bad check digit
        ({"section": "A", "phone": "12345"}, "invalid_field", "phone"),
        ({"section": "A", "request_id": "x" * 65}, "invalid_field", "request_id"),
        ({"section": "A", "request_id": "no spaces"}, "invalid_field", "request_id"),
        ({"section": "A", "sectoin": "B"}, "unknown_field", "sectoin"),
        ({"section": ["A"]}, "invalid_field", "section"),
        ({"section": "A\u0000"}, "invalid_field", "section"),
    ],
)
async def test_bad_ticket_requests(hall: HallClient, before, body, code, field):
    status, answer = await hall.post("/api/tickets", body, hall.kiosk_headers)
    assert status == 400
    assert answer["error"]["code"] == code and answer["error"]["field"] == field
    assert answer["error"]["message"]  # a sentence for the person at the kiosk
    assert await hall.counts() == before


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2]", b'"A"', b"\xff\xfe", b"null"],
)
async def test_body_that_is_not_a_json_object(hall: HallClient, before, raw):
    async with hall.client.post(
        "/api/tickets", data=raw, headers={**hall.kiosk_headers, "Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "invalid_json"
    assert await hall.counts() == before


async def test_one_megabyte_body_is_refused(hall: HallClient, before):
    big = b'{"section": "A", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    async with hall.client.post(
        "/api/tickets", data=io.BytesIO(big), headers={**hall.kiosk_headers, "Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 413
        error = (await resp.json())["error"]
    assert error["code"] == "body_too_large" and "256 KiB" in error["message"]
    assert await hall.counts() == before


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "unauthenticated"),
        ({"Authorization": "Bearer hs_not-a-real-token"}, "invalid_token"),
        ({"Authorization": "Bearer hd_not-a-real-token"}, "invalid_token"),
        ({"Authorization": "Basic YWRtaW46YWRtaW4="}, "invalid_token"),
        ({"Authorization": "Bearer"}, "invalid_token"),
    ],
)
async def test_missing_or_wrong_credentials_get_401(hall: HallClient, before, headers, code):
    status, answer = await hall.post("/api/windows/1/call", None, headers)
    assert status == 401 and answer["error"]["code"] == code
    assert await hall.counts() == before


async def test_a_token_of_another_hall_is_refused(hall: HallClient, before, aiohttp_client, config, clock, tmp_path):
    other = HallClient(
        await aiohttp_client(
            create_app(config, clock=clock, db_path=tmp_path / "other.db"), cookie_jar=DummyCookieJar()
        ),
        clock,
    )
    foreign = await other.user("admin")
    status, answer = await hall.post("/api/windows/1/call", None, foreign)
    assert status == 401 and answer["error"]["code"] == "invalid_token"
    status, answer = await hall.post("/api/tickets", {"section": "A"}, await other.device("kiosk"))
    assert status == 401
    assert await hall.counts() == before


async def test_a_window_the_staff_member_is_not_signed_in_at(hall: HallClient, before):
    status, answer = await hall.post("/api/windows/2/call", None, hall.staff)
    assert status == 403 and answer["error"]["code"] == "not_at_window"
    assert await hall.counts() == before


async def test_a_kiosk_cannot_call_numbers(hall: HallClient, before):
    status, answer = await hall.post("/api/windows/1/call", None, hall.kiosk_headers)
    assert status == 403 and answer["error"]["code"] == "forbidden"
    assert await hall.counts() == before


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/windows/99/call", None, 404, "window_not_found"),
        ("/api/windows/abc/call", None, 404, "window_not_found"),
        ("/api/windows/1/fly", None, 404, "not_found"),
        ("/api/windows/1/call", {"ticket_id": "7"}, 400, "invalid_field"),
        ("/api/windows/1/call", {"ticket_id": 999}, 404, "ticket_not_found"),
        ("/api/windows/1/call", {"ticket": 1}, 400, "unknown_field"),
        ("/api/windows/1/finish", {"outcome": True}, 400, "invalid_field"),
        ("/api/windows/1/requeue", {}, 400, "invalid_field"),
        ("/api/windows/1/transfer", {"window": "3"}, 400, "invalid_field"),
    ],
)
async def test_bad_window_requests(hall: HallClient, before, path, body, status, code):
    got, answer = await hall.post(path, body, hall.staff)
    assert got == status and answer["error"]["code"] == code
    assert await hall.counts() == before


async def test_wrong_method_and_unknown_ticket(hall: HallClient, before):
    status, answer = await hall.get("/api/windows/1/call", hall.staff)
    assert status == 405 and answer["error"]["code"] == "method_not_allowed"
    status, answer = await hall.get("/api/tickets/99999", hall.staff)
    assert status == 404 and answer["error"]["code"] == "ticket_not_found"
    status, answer = await hall.get("/api/tickets/1")
    assert status == 401
    status, answer = await hall.get("/api/tickets/1?token=guess")
    assert status == 404
    status, answer = await hall.get("/api/tickets/1?token=号票")
    assert status == 404 and answer["error"]["code"] == "ticket_not_found"
    status, answer = await hall.post("/api/tickets/1/cancel", {"token": "号票"})
    assert status == 404
    status, answer = await hall.get("/api/tickets?status=lost", hall.staff)
    assert status == 400 and answer["error"]["field"] == "status"
    status, answer = await hall.get("/api/events?after=-1", hall.staff)
    assert status == 400 and answer["error"]["field"] == "after"
    assert await hall.counts() == before
