"""Behind nginx with TLS, every cookie Hall sets is Secure; over plain HTTP (the demo, a lab) it cannot be."""

from __future__ import annotations

import dataclasses
import re

import pytest

from ..helpers import PASSWORD, HallClient

HTTPS = {"X-Forwarded-Proto": "https"}


def set_cookies(resp) -> dict[str, str]:
    """Each Set-Cookie header by cookie name, as the browser receives it."""
    return {h.split("=", 1)[0]: h for h in resp.headers.getall("Set-Cookie", [])}


def secure(header: str) -> bool:
    return re.search(r";\s*Secure(;|$)", header, re.IGNORECASE) is not None


async def login_cookies(hall: HallClient, headers: dict) -> dict[str, str]:
    async with hall.client.get("/login", headers=headers) as resp:
        form = set_cookies(resp)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', await resp.text()).group(1)
    body = {"csrf_token": csrf, "username": "zhang", "password": PASSWORD}
    sent = {**headers, "Cookie": form["hall_login_csrf"].split(";")[0]}  # the test client keeps no cookies
    async with hall.client.post("/login", data=body, headers=sent, allow_redirects=False) as resp:
        assert resp.status == 303
        page = set_cookies(resp)
    async with hall.client.post(
        "/api/auth/login", json={"username": "zhang", "password": PASSWORD}, headers=headers
    ) as resp:
        assert resp.status == 200
        api = set_cookies(resp)
    token = (await hall.device("display"))["Authorization"].split()[1]
    async with hall.client.get(f"/device?token={token}", headers=headers, allow_redirects=False) as resp:
        assert resp.status == 303
        device = set_cookies(resp)
    return {
        "login form": form["hall_login_csrf"],
        "page login": page["hall_session"],
        "API login": api["hall_session"],
        "device": device["hall_device"],
    }


class TestBehindATrustedProxy:
    @pytest.fixture
    def config(self, config):
        return dataclasses.replace(config, server=dataclasses.replace(config.server, trusted_proxies=["127.0.0.1"]))

    async def test_cookies_are_secure_when_the_proxy_says_https(self, hall: HallClient):
        await hall.create_user("zhang")
        cookies = await login_cookies(hall, HTTPS)
        assert {name: secure(h) for name, h in cookies.items()} == dict.fromkeys(cookies, True)
        for header in cookies.values():
            assert "HttpOnly" in header

    async def test_plain_http_through_the_proxy_gets_ordinary_cookies(self, hall: HallClient):
        await hall.create_user("zhang")
        cookies = await login_cookies(hall, {"X-Forwarded-Proto": "http"})
        assert not any(secure(h) for h in cookies.values())


async def test_a_header_from_an_untrusted_peer_is_ignored(hall: HallClient):
    """Anyone can send X-Forwarded-Proto; only a trusted proxy's is believed (here: none)."""
    await hall.create_user("zhang")
    cookies = await login_cookies(hall, HTTPS)
    assert not any(secure(h) for h in cookies.values())
