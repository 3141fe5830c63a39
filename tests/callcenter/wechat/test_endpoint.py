"""GET|POST /wechat on the real server: signatures, safe mode, retries, hostile bodies, the 5-second answer."""

import asyncio
import io
import time

import pytest

from hall.callcenter.wechat import crypto
from hall.callcenter.wechat.messages import parse_xml
from hall.server import create_app

from . import samples
from .wechat_app import TOKEN, FakeCases, WechatServer, start, wechat_settings

ACK = "您的留言已收到,工单号 {number},我们会尽快答复。"


@pytest.fixture
def cases() -> FakeCases:
    return FakeCases()


@pytest.fixture
async def plain(aiohttp_client, config, clock, db_path, cases) -> WechatServer:
    client = await start(aiohttp_client, config, clock, db_path, wechat_settings(mode="plain"), cases)
    return WechatServer(client)


@pytest.fixture
async def safe(aiohttp_client, config, clock, db_path, cases) -> WechatServer:
    client = await start(aiohttp_client, config, clock, db_path, wechat_settings(mode="safe"), cases)
    return WechatServer(client)


@pytest.fixture(params=["plain", "safe"])
async def either(request, aiohttp_client, config, clock, db_path, cases) -> tuple[WechatServer, str]:
    client = await start(aiohttp_client, config, clock, db_path, wechat_settings(mode=request.param), cases)
    return WechatServer(client), request.param


# -- URL verification ----------------------------------------------------------------------------


async def test_url_verification_with_the_official_example(aiohttp_client, config, clock, db_path, cases):
    # WeChat's documented request (Token "AAAAA"); its timestamp is from 2024, so the age check is off here.
    env_settings = wechat_settings(mode="plain", max_skew_seconds=0)
    settings = type(env_settings)(**{**env_settings.__dict__, "token": "AAAAA"})
    client = await start(aiohttp_client, config, clock, db_path, settings, cases)
    query = {
        "signature": "f464b24fc39322e44b38aa78f5edd27bd1441696",
        "echostr": "4375120948345356249",
        "timestamp": "1714036504",
        "nonce": "1514711492",
    }
    async with client.get("/wechat", params=query) as resp:
        assert resp.status == 200 and await resp.text() == "4375120948345356249"
    query = {"signature": "899cf89e464efb63f54ddac96b0a0a235f53aa78", "timestamp": "1714037059", "nonce": "486452656"}
    async with client.get("/wechat", params={**query, "echostr": "hall-echo-1"}) as resp:
        assert resp.status == 200 and await resp.text() == "hall-echo-1"
    async with client.get("/wechat", params={**query, "nonce": "486452657", "echostr": "x"}) as resp:
        assert resp.status == 403 and (await resp.json())["error"]["code"] == "wechat_bad_signature"


async def test_a_forged_verification_is_refused_and_echoes_nothing(plain: WechatServer):
    query = {**plain.query(), "echostr": "steal-me"}
    query["signature"] = crypto.signature("guessedToken", query["timestamp"], query["nonce"])
    async with plain.client.get("/wechat", params=query) as resp:
        body = await resp.text()
        assert resp.status == 403 and "steal-me" not in body
        assert (await resp.json())["error"]["code"] == "wechat_bad_signature"
    del query["signature"]
    async with plain.client.get("/wechat", params=query) as resp:
        assert resp.status == 403


async def test_an_encrypted_echostr_is_decrypted_and_echoed(safe: WechatServer):
    query, _ = safe.seal(b"echo-8734561")
    encrypt = crypto.MessageCrypto(safe.aes_key, safe.app_id).encrypt(b"echo-8734561")
    query["msg_signature"] = crypto.signature(TOKEN, query["timestamp"], query["nonce"], encrypt)
    async with safe.client.get("/wechat", params={**query, "echostr": encrypt}) as resp:
        assert resp.status == 200 and await resp.text() == "echo-8734561"
    async with safe.client.get("/wechat", params={**query, "echostr": encrypt[:-4] + "AAA="}) as resp:
        assert resp.status == 403  # the signature covers the echostr


async def test_an_old_signed_request_is_refused(plain: WechatServer):
    status, body = await plain.post_plain(samples.text("你好"), plain.query(timestamp=plain.now - 301))
    assert status == 403 and '"wechat_stale"' in body
    status, _ = await plain.post_plain(samples.text("你好"), plain.query(timestamp=plain.now - 299))
    assert status == 200


# -- messages ------------------------------------------------------------------------------------


async def test_a_text_message_is_handed_over_and_answered_with_the_case_number(plain, cases):
    status, body = await plain.post_plain(samples.text("请问营业执照变更需要哪些材料?"))
    assert status == 200
    reply = parse_xml(body.encode())
    assert reply["ToUserName"] == samples.OPENID and reply["FromUserName"] == samples.ACCOUNT
    assert reply["MsgType"] == "text" and reply["Content"] == ACK.format(number="2026112300001")
    assert int(reply["CreateTime"]) == plain.now
    (inbound,) = cases.received
    assert inbound.channel == "wechat" and inbound.contact == {"wechat_openid": samples.OPENID}
    assert (inbound.kind, inbound.external_id) == ("text", "24600000000000001")
    assert inbound.body == "请问营业执照变更需要哪些材料?"


async def test_image_and_voice_are_handed_over_with_their_media(plain, cases):
    await plain.post_plain(samples.image())
    await plain.post_plain(samples.voice(recognition="社保卡丢了怎么办"))
    image, voice = cases.received
    assert image.kind == "image" and image.body == "[图片]"
    assert image.media == [{"kind": "image", "media_id": "media_image_1", "format": ""}]
    assert voice.kind == "voice" and voice.body == "[语音] 社保卡丢了怎么办"
    assert voice.media == [{"kind": "voice", "media_id": "media_voice_1", "format": "amr"}]


async def test_safe_mode_round_trip(safe, cases):
    status, body = await safe.post_safe(samples.text("窗口排队太久了"))
    assert status == 200
    reply = safe.open_reply(body)  # signature checked as WeChat checks it, then decrypted
    assert reply["Content"] == ACK.format(number="2026112300001") and reply["ToUserName"] == samples.OPENID
    assert [i.body for i in cases.received] == ["窗口排队太久了"]


async def test_safe_mode_refuses_forgeries_other_accounts_and_plain_text(safe, cases):
    query, envelope = safe.seal(samples.text("伪造"))
    forged = {**query, "msg_signature": crypto.signature("guessedToken", query["timestamp"], query["nonce"], "x")}
    async with safe.client.post("/wechat", params=forged, data=envelope) as resp:
        assert resp.status == 403 and (await resp.json())["error"]["code"] == "wechat_bad_signature"
    query, envelope = safe.seal(samples.text("给别的公众号的"), app_id="wx9999999999999999")
    async with safe.client.post("/wechat", params=query, data=envelope) as resp:
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "wechat_bad_message"
    status, body = await safe.post_plain(samples.text("明文"))
    assert status == 400 and '"wechat_wrong_mode"' in body
    assert cases.received == []


async def test_plain_mode_refuses_a_forged_signature(plain, cases):
    query = plain.query()
    query["signature"] = "0" * 40
    status, body = await plain.post_plain(samples.text("伪造"), query)
    assert status == 403 and '"wechat_bad_signature"' in body
    assert cases.received == []


async def test_wechats_retries_make_one_message_and_get_the_same_answer(plain, cases):
    cases.delay = 0.3  # still saving when the retries come
    body = samples.text("第一次发送", msg_id="24600000000000777")
    answers = await asyncio.gather(*(plain.post_plain(body) for _ in range(3)))
    later = await plain.post_plain(body)
    assert len(cases.received) == 1
    assert {a for a in answers} == {later} and later[0] == 200
    assert parse_xml(later[1].encode())["Content"] == ACK.format(number="2026112300001")
    await plain.post_plain(samples.text("第二条", msg_id="24600000000000778"))
    assert len(cases.received) == 2


async def test_a_slow_save_is_answered_success_in_time_and_still_completes(
    aiohttp_client, config, clock, db_path, cases
):
    client = await start(
        aiohttp_client, config, clock, db_path, wechat_settings(mode="plain", answer_seconds=0.5), cases
    )
    wechat = WechatServer(client)
    cases.delay = 1.0
    started = time.perf_counter()
    status, body = await wechat.post_plain(samples.text("慢"))
    assert (status, body) == (200, "success")
    assert time.perf_counter() - started < 0.9
    await asyncio.sleep(0.7)
    status, body = await wechat.post_plain(samples.text("慢"))  # a late retry finds the saved answer
    assert parse_xml(body.encode())["Content"] == ACK.format(number="2026112300001")
    assert len(cases.received) == 1


async def test_a_failed_save_lets_wechat_retry(plain, cases):
    cases.fail = 1
    status, _ = await plain.post_plain(samples.text("重试"))
    assert status == 500
    status, body = await plain.post_plain(samples.text("重试"))
    assert status == 200 and "2026112300001" in body
    assert len(cases.received) == 2


@pytest.mark.parametrize(
    "body, expected",
    [
        (samples.event("subscribe"), "感谢关注"),
        (samples.event("CLICK", "MENU_COMPLAIN"), "感谢关注"),
        (samples.event("unsubscribe"), None),
        (samples.location(), "目前只能受理文字、图片和语音留言"),
        (samples.text("   "), None),
    ],
)
async def test_events_and_other_kinds_are_answered_without_a_case(plain, cases, body, expected):
    status, text = await plain.post_plain(body)
    assert status == 200
    if expected is None:
        assert text == "success"
    else:
        assert parse_xml(text.encode())["Content"].startswith(expected)
    assert cases.received == []


# -- hostile bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [samples.BILLION_LAUGHS, samples.EXTERNAL_ENTITY, samples.EXTERNAL_DTD, samples.QUADRATIC_BLOWUP, b"<xml><a>"],
    ids=["billion-laughs", "external-entity", "external-dtd", "quadratic-blowup", "truncated"],
)
async def test_malicious_xml_is_refused_fast_and_harmlessly(either, cases, body):
    server, mode = either
    post = server.post_plain if mode == "plain" else server.post_safe  # safe: inside a signed, encrypted envelope
    started = time.perf_counter()
    status, text = await post(body)
    assert status == 400 and '"wechat_bad_message"' in text
    assert time.perf_counter() - started < 1.0
    assert "root:" not in text and cases.received == []
    status, _ = await post(samples.text("之后"))
    assert status == 200 and len(cases.received) == 1


async def test_a_ten_megabyte_body_is_refused_before_it_is_read(plain, cases):
    started = time.perf_counter()
    big = io.BytesIO(samples.text("大" * (10 * 1024 * 1024 // 3)))
    async with plain.client.post("/wechat", params=plain.query(), data=big) as resp:
        assert resp.status == 413 and (await resp.json())["error"]["code"] == "wechat_body_too_large"
    assert time.perf_counter() - started < 2.0

    async def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(160):
            yield b"x" * 65536

    async with plain.client.post("/wechat", params=plain.query(), data=chunks()) as resp:
        assert resp.status == 413
    status, _ = await plain.post_plain(samples.text("之后"))
    assert status == 200 and len(cases.received) == 1


# -- the endpoint among the others ---------------------------------------------------------------


async def test_public_without_csrf_even_with_a_staff_session_cookie(aiohttp_client, config, clock, db_path, cases):
    from ...helpers import HallClient

    client = await start(aiohttp_client, config, clock, db_path, wechat_settings(mode="plain"), cases)
    hall = HallClient(client, clock)
    await hall.create_user("agent1", "staff")
    _, login = await hall.post("/api/auth/login", {"username": "agent1", "password": "correct-horse-9"})
    wechat = WechatServer(client)
    cookie = {"Cookie": f"hall_session={login['token']}"}
    async with client.post("/wechat", params=wechat.query(), data=samples.text("带 cookie"), headers=cookie) as resp:
        assert resp.status == 200
    assert len(cases.received) == 1


async def test_no_endpoint_when_wechat_is_off(aiohttp_client, config, clock, db_path):
    client = await aiohttp_client(create_app(config, clock=clock, db_path=db_path))
    async with client.get("/wechat", params={"echostr": "x"}) as resp:
        assert resp.status == 404
