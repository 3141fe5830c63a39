"""The real app with the WeChat endpoint turned on, and a WeChat server's side of the conversation."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient

from hall.callcenter.wechat import crypto, views
from hall.callcenter.wechat.inbox import Inbound, Receipt, Receiver
from hall.callcenter.wechat.messages import parse_xml
from hall.callcenter.wechat.settings import WechatSettings, parse_wechat
from hall.server import create_app

from ...conftest import MONDAY_9AM
from .fake_api import APP_ID, SECRET

TOKEN = "hallToken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ENV = {"HALL_WECHAT_TOKEN": TOKEN, "HALL_WECHAT_AES_KEY": AES_KEY, "HALL_WECHAT_SECRET": SECRET}


def wechat_settings(**raw) -> WechatSettings:
    return parse_wechat({"enabled": True, "app_id": APP_ID, **raw}, environ=ENV)


async def start(aiohttp_client, config, clock, db_path, settings: WechatSettings, receive: Receiver | None = None):
    """A test client of the whole server with /wechat answering for `settings`."""
    app = create_app(config, clock=clock, db_path=db_path)
    if "wechat_message" in app.router.named_resources():
        raise AssertionError("create_app wires /wechat now: build these tests on its config instead")
    views.setup_routes(app, settings, receive)
    return await aiohttp_client(app, cookie_jar=DummyCookieJar())


@dataclass
class FakeCases:
    """Stands in for the case core: one case per openid, numbered as the hall numbers them."""

    delay: float = 0.0
    fail: int = 0  # fail this many calls first
    received: list[Inbound] = field(default_factory=list)
    cases: dict[str, tuple[int, str]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def __call__(self, app, inbound: Inbound) -> Receipt:
        self.received.append(inbound)
        await asyncio.sleep(self.delay)
        if self.fail:
            self.fail -= 1
            raise RuntimeError("database is down")
        openid = inbound.contact["wechat_openid"]
        new = openid not in self.cases
        if new:
            n = next(self._ids)
            self.cases[openid] = (n, f"20261123{n:05d}")
        case_id, number = self.cases[openid]
        return Receipt(case_id, number, new_case=new)


@dataclass
class WechatServer:
    """Signs and posts messages as WeChat's servers do."""

    client: TestClient
    token: str = TOKEN
    app_id: str = APP_ID
    aes_key: str = AES_KEY
    now: int = int(MONDAY_9AM)  # the fake clock's
    _nonces: itertools.count = field(default_factory=lambda: itertools.count(100000))

    def query(self, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        timestamp = str(self.now if timestamp is None else timestamp)
        nonce = nonce or str(next(self._nonces))
        return {
            "signature": crypto.signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": "oX1y2Z3aBcDeFgHiJkLmNoPqRsTu",
        }

    async def post_plain(self, body: bytes, query: dict[str, str] | None = None) -> tuple[int, str]:
        async with self.client.post("/wechat", params=query or self.query(), data=body) as resp:
            return resp.status, await resp.text()

    def seal(self, body: bytes, app_id: str | None = None) -> tuple[dict[str, str], bytes]:
        """The safe-mode query and envelope for `body`."""
        box = crypto.MessageCrypto(self.aes_key, app_id or self.app_id)
        encrypt = box.encrypt(body)
        query = self.query()
        query["encrypt_type"] = "aes"
        query["msg_signature"] = crypto.signature(self.token, query["timestamp"], query["nonce"], encrypt)
        envelope = f"<xml><ToUserName>gh_3a5f7c9e1b2d</ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        return query, envelope.encode()

    async def post_safe(self, body: bytes) -> tuple[int, str]:
        query, envelope = self.seal(body)
        async with self.client.post("/wechat", params=query, data=envelope) as resp:
            return resp.status, await resp.text()

    def open_reply(self, text: str) -> dict[str, str]:
        """Check a safe-mode reply's signature as WeChat does, and decrypt it."""
        outer = parse_xml(text.encode())
        assert set(outer) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}, outer
        expected = crypto.signature(self.token, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
        assert outer["MsgSignature"] == expected
        inner = crypto.MessageCrypto(self.aes_key, self.app_id).decrypt(outer["Encrypt"])
        return parse_xml(inner)
