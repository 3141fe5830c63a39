"""Request bodies are size-limited everywhere (issue 7, item 2): `[server] max_body_kb` for the API.

An oversize JSON body is refused with 413, the stable error shape and a Chinese message naming
the limit, before anything is stored; a body just under the limit is read and judged on its
content. /wechat has its own 64 KiB limit (tests/callcenter/wechat/test_endpoint.py); uploads are
type- and size-checked in tests/callcenter/test_intake.py and tests/callcenter/mail/test_decode.py.
"""

from __future__ import annotations

import io

import pytest

from .helpers import HallClient
from .test_injection import table_counts

ENDPOINTS = ("/api/tickets", "/api/ratings", "/api/cases", "/api/appointments", "/api/auth/login")


def padded(size: int) -> bytes:
    """A JSON object of exactly `size` bytes: an unknown field full of x."""
    head = b'{"section": "A", "pad": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


async def post_raw(hall: HallClient, path: str, data: bytes, headers: dict) -> tuple[int, dict]:
    async with hall.client.post(
        path, data=io.BytesIO(data), headers={**headers, "Content-Type": "application/json"}
    ) as resp:
        return resp.status, await resp.json()


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_an_oversize_body_is_refused_with_the_stable_error(hall: HallClient, path):
    admin = await hall.user("admin")
    limit = hall.config.server.max_body_kb * 1024
    before = await table_counts(hall)
    status, answer = await post_raw(hall, path, padded(limit + 1), admin)
    assert status == 413
    assert set(answer) == {"error"} and answer["error"]["code"] == "body_too_large"
    assert answer["error"]["message"] == f"请求体过大(上限 {hall.config.server.max_body_kb} KiB)"
    assert await table_counts(hall) == before


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_a_body_just_under_the_limit_is_read(hall: HallClient, path):
    admin = await hall.user("admin")
    status, answer = await post_raw(hall, path, padded(hall.config.server.max_body_kb * 1024 - 100), admin)
    assert status == 400, answer  # read, then refused for its content (the unknown field), not its size
    assert answer["error"]["code"] != "body_too_large"


async def test_a_body_without_length_is_cut_at_the_limit(hall: HallClient):
    kiosk = await hall.kiosk()
    limit = hall.config.server.max_body_kb * 1024

    async def chunks():  # chunked, no Content-Length: the limit holds while reading
        yield b'{"section": "A", "pad": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    before = await table_counts(hall)
    async with hall.client.post(
        "/api/tickets", data=chunks(), headers={**kiosk, "Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 413, (resp.status, await resp.text())
        assert (await resp.json())["error"]["code"] == "body_too_large"
    assert await table_counts(hall) == before
