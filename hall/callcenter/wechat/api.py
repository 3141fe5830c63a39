"""The WeChat HTTP API the hall calls: access tokens, customer-service messages, media.

One access token serves every call until shortly before it expires; when
WeChat says a token is invalid or expired (40001, 40014, 42001) it is fetched
again and the call retried once. Any other failure raises SendError, and the
outbox retries later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from ...outbox.senders import SendError
from ...outbox.store import Message
from .settings import WechatSettings

log = logging.getLogger("hall.callcenter.wechat")

TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
TOKEN_MARGIN_S = 300  # fetch a new token this long before WeChat's expires_in runs out
STALE_TOKEN = {40001, 40014, 42001}  # invalid credential, invalid access_token, access_token expired
MAX_REPLY_BYTES = 2048  # longer texts go as several messages


class WechatApi:
    def __init__(
        self, app_id: str, secret: str, base_url: str, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.app_id = app_id
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.monotonic = monotonic
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._token_until = 0.0
        self._token_lock = asyncio.Lock()
        self.tokens_fetched = 0
        self.token_error: str | None = None  # why the last fetch failed, for /healthz

    @property
    def token_state(self) -> str:
        """`none` (not fetched yet), `valid` or `expired` (fetched again on the next send)."""
        if self._token is None:
            return "none"
        return "valid" if self.monotonic() < self._token_until else "expired"

    async def access_token(self, stale: str | None = None) -> str:
        """The cached token, or a new one; `stale` is a token WeChat refused (only the first caller refetches it)."""
        async with self._token_lock:
            if stale is not None and self._token == stale:
                self._token = None
            if self._token is not None and self.monotonic() < self._token_until:
                return self._token
            try:
                body = await self._call(
                    "GET",
                    "/cgi-bin/token",
                    params={"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret},
                )
                token, expires = body.get("access_token"), body.get("expires_in")
                if body.get("errcode") or not isinstance(token, str) or not token or not isinstance(expires, int):
                    raise SendError(f"access token refused: errcode {body.get('errcode')} {body.get('errmsg', '')}")
            except SendError as e:
                self.token_error = str(e)[:200]
                raise
            self.token_error = None
            self._token = token
            self._token_until = self.monotonic() + max(expires - TOKEN_MARGIN_S, expires / 2)
            self.tokens_fetched += 1
            return token

    async def send_text(self, openid: str, content: str) -> None:
        """Send a customer-service text message (客服消息) to a follower; a long one goes in parts."""
        for part in split_utf8(content, MAX_REPLY_BYTES):
            payload = {"touser": openid, "msgtype": "text", "text": {"content": part}}
            await self._with_token("POST", "/cgi-bin/message/custom/send", json=payload)

    async def media(self, media_id: str, limit: int) -> tuple[str, bytes]:
        """A follower's image or voice (WeChat keeps them 3 days): its content type and bytes, at most `limit`."""
        for attempt in (1, 2):
            token = await self.access_token()
            session = self._open()
            params = {"access_token": token, "media_id": media_id}
            try:
                async with session.get(self.base_url + "/cgi-bin/media/get", params=params) as resp:
                    kind = resp.content_type
                    if resp.status != 200:
                        raise SendError(f"WeChat media/get answered HTTP {resp.status}")
                    if kind in ("application/json", "text/plain"):  # an error, e.g. 40007 invalid media_id
                        body = await resp.json(content_type=None)
                        code = body.get("errcode") if isinstance(body, dict) else None
                        if code in STALE_TOKEN and attempt == 1:
                            await self.access_token(stale=token)
                            continue
                        raise SendError(f"WeChat media/get answered errcode {code}")
                    if resp.content_length is not None and resp.content_length > limit:
                        raise SendError(f"media {media_id} is over {limit} bytes")
                    data = await resp.content.read(limit + 1)
                    while len(data) <= limit and (more := await resp.content.read(limit + 1 - len(data))):
                        data += more
                    if len(data) > limit:
                        raise SendError(f"media {media_id} is over {limit} bytes")
                    return kind, data
            except (aiohttp.ClientError, TimeoutError, ValueError) as e:
                raise SendError(f"WeChat media/get unreachable or garbled: {type(e).__name__} {e}") from None
        raise SendError("WeChat refused two access tokens in a row")

    async def _with_token(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        token = await self.access_token()
        body = await self._call(method, path, params={"access_token": token}, **kw)
        if body.get("errcode") in STALE_TOKEN:
            log.info("WeChat refused the access token (errcode %s); fetching a new one", body["errcode"])
            token = await self.access_token(stale=token)
            body = await self._call(method, path, params={"access_token": token}, **kw)
        if body.get("errcode", 0) != 0:
            raise SendError(f"WeChat answered errcode {body['errcode']}: {str(body.get('errmsg', ''))[:200]}")
        return body

    async def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        try:
            async with self._open().request(method, self.base_url + path, **kw) as resp:
                if resp.status != 200:
                    raise SendError(f"WeChat {path} answered HTTP {resp.status}")
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise SendError(f"WeChat {path} unreachable or garbled: {type(e).__name__} {e}") from None
        if not isinstance(body, dict):
            raise SendError(f"WeChat {path} answered something other than a JSON object")
        return body

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        """Close the connections; the next call opens new ones."""
        if self._session is not None:
            await self._session.close()
            self._session = None


class WechatSender:
    """The outbox's sender for `channel="wechat"`: the recipient is an openid, the body's text the message."""

    def __init__(self, api: WechatApi) -> None:
        self.api = api

    async def send(self, message: Message) -> None:
        text = str(message.body.get("text", "")).strip()
        if not message.recipient or not text:
            raise SendError("a WeChat message needs an openid and some text")
        await self.api.send_text(message.recipient, text)

    async def close(self) -> None:
        await self.api.close()


def make_api(settings: WechatSettings) -> WechatApi:
    return WechatApi(settings.app_id, settings.secret, settings.base_url)


def make_sender(settings: WechatSettings, api: WechatApi | None = None) -> WechatSender:
    """The outbox sender; pass the server's `WechatApi` (app[WECHAT].api) so both share one access token."""
    return WechatSender(api if api is not None else make_api(settings))


def split_utf8(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` UTF-8 bytes each, never splitting a character."""
    parts, current, size = [], [], 0
    for ch in text:
        n = len(ch.encode())
        if size + n > limit:
            parts.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += n
    parts.append("".join(current))
    return parts
