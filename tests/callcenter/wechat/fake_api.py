"""A loopback stand-in for api.weixin.qq.com: access tokens and customer-service messages.

It answers with WeChat's JSON shapes and error codes, records every request,
and can be told to expire tokens, refuse credentials or fail outright.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

APP_ID = "wx0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"


@dataclass
class FakeWechatApi:
    app_id: str = APP_ID
    secret: str = SECRET
    expires_in: int = 7200
    tokens: list[str] = field(default_factory=list)  # issued, newest last
    valid: set[str] = field(default_factory=set)
    sent: list[dict[str, Any]] = field(default_factory=list)  # custom/send bodies accepted
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (path, query) of every call
    fail_status: list[int] = field(default_factory=list)  # HTTP statuses to answer the next sends with
    fail_errcode: list[int] = field(default_factory=list)  # errcodes to answer the next sends with
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # media_id -> (content type, bytes)
    server: TestServer | None = None
    _serial: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> FakeWechatApi:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        app.router.add_get("/cgi-bin/media/get", self._media)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def expire_all(self) -> None:
        """WeChat invalidated every token (another server fetched a new one, or it expired)."""
        self.valid.clear()

    async def _token(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        q = request.query
        if q.get("grant_type") != "client_credential":
            return web.json_response({"errcode": 40002, "errmsg": "invalid grant_type"})
        if q.get("appid") != self.app_id:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        if q.get("secret") != self.secret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        token = f"ACCESS_TOKEN_{next(self._serial)}"
        self.tokens.append(token)
        self.valid.add(token)
        return web.json_response({"access_token": token, "expires_in": self.expires_in})

    def _token_error(self, token: str) -> web.Response | None:
        if token in self.valid:
            return None
        if token in self.tokens:
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        return web.json_response({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})

    async def _media(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        refused = self._token_error(request.query.get("access_token", ""))
        if refused is not None:
            return refused
        found = self.media.get(request.query.get("media_id", ""))
        if found is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        kind, data = found
        return web.Response(
            body=data, content_type=kind, headers={"Content-disposition": 'attachment; filename="MEDIA.jpg"'}
        )

    async def _send(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        if self.fail_status:
            return web.Response(status=self.fail_status.pop(0), text="upstream error")
        refused = self._token_error(request.query.get("access_token", ""))
        if refused is not None:
            return refused
        if self.fail_errcode:
            code = self.fail_errcode.pop(0)
            return web.json_response({"errcode": code, "errmsg": "response out of time limit"})
        body = await request.json()
        if body.get("msgtype") != "text" or not isinstance(body.get("text", {}).get("content"), str):
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        if not body.get("touser"):
            return web.json_response({"errcode": 40003, "errmsg": "invalid openid"})
        if len(body["text"]["content"].encode()) > 2048:
            return web.json_response({"errcode": 45002, "errmsg": "content size out of limit"})
        self.sent.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})
