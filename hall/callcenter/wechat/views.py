"""`GET /wechat` (URL verification) and `POST /wechat` (messages from followers)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ...auth.principal import access
from ...keys import CLOCK, CONFIG
from ...outbox.worker import WORKER
from . import crypto, messages
from .api import make_api, make_sender
from .inbox import WECHAT, Answers, Receiver, Wechat, answer
from .messages import BadMessage, Message
from .settings import WechatSettings, parse_wechat

log = logging.getLogger("hall.callcenter.wechat")


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message

    def response(self) -> web.Response:
        return web.json_response({"error": {"code": self.code, "message": self.message}}, status=self.status)


def configured(config: object) -> WechatSettings:
    """The account's settings in a Config: parsed at load (`callcenter.wechat`), or the raw table, or off."""
    callcenter = getattr(config, "callcenter", None)
    parsed = getattr(callcenter, "wechat", None)
    if isinstance(parsed, WechatSettings):
        return parsed
    raw = getattr(callcenter, "channels", {}).get("wechat", {}) if callcenter is not None else {}
    return parse_wechat(raw)


def setup_routes(app: web.Application, settings: WechatSettings | None = None, receive: Receiver | None = None) -> None:
    settings = settings if settings is not None else configured(app[CONFIG])
    if not settings.enabled:
        return
    if receive is None:
        from .handoff import receive_case

        receive = receive_case
    box = crypto.MessageCrypto(settings.aes_key, settings.app_id) if settings.encrypted else None
    app[WECHAT] = Wechat(settings, receive, Answers(), box, make_api(settings))
    app.cleanup_ctx.append(_answers_ctx)
    app.router.add_get("/wechat", verify, name="wechat_verify")
    app.router.add_post("/wechat", receive_message, name="wechat_message")


@access(public=True, session=False)
async def verify(request: web.Request) -> web.StreamResponse:
    """URL verification: echo `echostr` (decrypted when WeChat sent it encrypted) if the signature holds."""
    wechat = request.app[WECHAT]
    try:
        query = _signed_query(request, wechat.settings)
        echostr = request.query.get("echostr", "")
        if "msg_signature" in request.query:
            echostr = _open(wechat, query, request.query["msg_signature"], echostr).decode()
        elif not crypto.signature_ok(
            query.get("signature", ""), wechat.settings.token, query["timestamp"], query["nonce"]
        ):
            raise _forged()
    except Refused as e:
        return e.response()
    except (crypto.CryptoError, UnicodeDecodeError):
        return Refused(400, "wechat_bad_echostr", "echostr 无法解密").response()
    return web.Response(text=echostr, content_type="text/plain")


@access(public=True, session=False)
async def receive_message(request: web.Request) -> web.StreamResponse:
    wechat = request.app[WECHAT]
    settings = wechat.settings
    try:
        query = _signed_query(request, settings)
        aes = request.query.get("encrypt_type") == "aes"
        if settings.mode == "safe" and not aes or settings.mode == "plain" and aes:
            raise Refused(400, "wechat_wrong_mode", f"公众号配置为{settings.mode}模式,与消息的加密方式不符")
        if "signature" in query or not aes:  # WeChat signs the query in safe mode too: a cheap first check
            if not crypto.signature_ok(query.get("signature", ""), settings.token, query["timestamp"], query["nonce"]):
                raise _forged()
        body = await _read_body(request, settings.max_body_kb * 1024)
        if aes:
            envelope = messages.encrypted_part(body, len(body))
            body = _open(wechat, query, request.query.get("msg_signature", ""), envelope)
        message = messages.parse_message(body, max(len(body), 1))
    except Refused as e:
        return e.response()
    except (BadMessage, crypto.CryptoError) as e:
        log.warning("WeChat message refused: %s", e)
        return Refused(400, "wechat_bad_message", "消息格式不正确").response()
    reply = await _answer(request.app, wechat, message)
    if reply is None:
        return web.Response(text="success", content_type="text/plain")
    now = int(request.app[CLOCK].now())
    xml = messages.text_reply(message.sender, message.to, reply, now)
    if aes:
        assert wechat.crypto is not None
        encrypt = wechat.crypto.encrypt(xml.encode())
        nonce = query["nonce"]
        sig = crypto.signature(settings.token, str(now), nonce, encrypt)
        xml = messages.encrypted_reply(encrypt, sig, str(now), nonce)
    return web.Response(text=xml, content_type="application/xml")


async def _answer(app: web.Application, wechat: Wechat, message: Message) -> str | None:
    """The reply text, within the time WeChat waits; a retry of the same message shares the first answer."""
    key = message.dedupe_key
    task = wechat.answers.task(key, lambda: answer(app, wechat.settings, wechat.receive, message))
    try:
        async with asyncio.timeout(wechat.settings.answer_seconds):
            return await asyncio.shield(task)
    except TimeoutError:
        # Still saving: say nothing rather than be retried; the case is saved when the task ends.
        log.warning("WeChat message %s not answered in %.1f s; answered success", key, wechat.settings.answer_seconds)
        task.add_done_callback(_log_failure)
        return None
    except Exception:
        wechat.answers.forget(key, task)  # let WeChat's retry try again
        raise


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("WeChat message was not saved", exc_info=task.exception())


def _signed_query(request: web.Request, settings: WechatSettings) -> dict[str, str]:
    query = {k: request.query[k] for k in ("signature", "timestamp", "nonce") if k in request.query}
    if "timestamp" not in query or "nonce" not in query:
        raise Refused(400, "wechat_unsigned", "缺少 timestamp 或 nonce 参数")
    if settings.max_skew_seconds:
        try:
            skew = abs(int(query["timestamp"]) - request.app[CLOCK].now())
        except ValueError:
            raise Refused(400, "wechat_unsigned", "timestamp 不是数字") from None
        if skew > settings.max_skew_seconds:
            raise Refused(403, "wechat_stale", "请求时间戳超出允许范围")
    return query


def _open(wechat: Wechat, query: dict[str, str], msg_signature: str, encrypt: str) -> bytes:
    """Check `msg_signature` over the encrypted text, then decrypt it."""
    if wechat.crypto is None:
        raise Refused(400, "wechat_wrong_mode", "公众号配置为明文模式,不接受加密消息")
    if not crypto.signature_ok(msg_signature, wechat.settings.token, query["timestamp"], query["nonce"], encrypt):
        raise _forged()
    return wechat.crypto.decrypt(encrypt)


def _forged() -> Refused:
    return Refused(403, "wechat_bad_signature", "签名校验失败:请求不是来自微信服务器")


async def _read_body(request: web.Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to be over `limit` (before it is all read when possible)."""
    too_large = Refused(413, "wechat_body_too_large", f"消息体过大(上限 {limit // 1024} KiB)")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    body = bytearray()
    while chunk := await request.content.read(min(limit + 1 - len(body), 65536) or 1):
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


async def _answers_ctx(app: web.Application) -> AsyncIterator[None]:
    wechat = app[WECHAT]
    if WORKER in app:  # agents' replies go out as customer-service messages, sharing the access token
        app[WORKER].senders["wechat"] = make_sender(wechat.settings, wechat.api)
    yield
    pending = wechat.answers.pending()
    if pending:  # let messages still being saved finish before the database closes
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.gather(*pending, return_exceptions=True)
    await wechat.api.close()
