"""WeChat messages through the real case core: cases opened and appended to, retries, media, replies."""

import asyncio

import pytest

from hall.callcenter.wechat.api import make_sender
from hall.callcenter.wechat.inbox import WECHAT
from hall.callcenter.wechat.messages import parse_xml
from hall.outbox.worker import WORKER

from ...helpers import HallClient
from . import samples
from .fake_api import FakeWechatApi
from .wechat_app import WechatServer, start, wechat_settings


@pytest.fixture
async def api():
    fake = await FakeWechatApi().start()
    yield fake
    await fake.close()


@pytest.fixture
async def desk(aiohttp_client, config, clock, db_path, api):
    settings = wechat_settings(mode="safe", base_url=api.base_url)
    client = await start(aiohttp_client, config, clock, db_path, settings)  # the real case core behind it
    hall = HallClient(client, clock)
    agent = await hall.user("agent")
    return hall, WechatServer(client), agent


async def number_of(reply: str, wechat: WechatServer) -> str:
    content = wechat.open_reply(reply)["Content"]
    assert content.startswith("您的留言已收到,工单号 "), content
    return content.split("工单号 ")[1].split(",")[0]


async def case_by_no(hall: HallClient, agent: dict, no: str) -> dict:
    status, listed = await hall.get("/api/cases?channel=wechat", agent)
    assert status == 200, listed
    (found,) = [c for c in listed["cases"] if c["no"] == no]
    status, case = await hall.get(f"/api/cases/{found['id']}", agent)
    assert status == 200, case
    return case


async def test_a_message_opens_a_case_and_the_next_joins_it(desk):
    hall, wechat, agent = desk
    status, reply = await wechat.post_safe(samples.text("3号窗口态度很差", msg_id="1001"))
    assert status == 200
    no = await number_of(reply, wechat)
    status, reply = await wechat.post_safe(samples.text("补充:时间是上午十点", msg_id="1002"))
    assert await number_of(reply, wechat) == no
    case = await case_by_no(hall, agent, no)
    assert case["channel"] == "wechat" and case["status"] == "registered"
    assert case["contact"]["wechat"] != samples.OPENID  # masked on the desk
    assert [(m["direction"], m["kind"], m["body"]) for m in case["messages"]] == [
        ("in", "text", "3号窗口态度很差"),
        ("in", "text", "补充:时间是上午十点"),
    ]
    other = samples.text("我是另一个人", msg_id="1003", openid="oOtherCitizen000000000000000")
    _, reply = await wechat.post_safe(other)
    assert await number_of(reply, wechat) != no


async def test_a_retry_after_a_restart_is_still_one_message(desk):
    hall, wechat, agent = desk
    body = samples.text("社保转移怎么办理", msg_id="2001")
    _, first = await wechat.post_safe(body)
    hall.app[WECHAT].answers = type(hall.app[WECHAT].answers)()  # the answers kept in memory are gone
    status, again = await wechat.post_safe(body)
    assert status == 200
    no = await number_of(first, wechat)
    assert await number_of(again, wechat) == no
    case = await case_by_no(hall, agent, no)
    assert [m["body"] for m in case["messages"]] == ["社保转移怎么办理"]


async def test_an_image_is_fetched_from_wechat_and_stored_with_the_case(desk, api):
    hall, wechat, agent = desk
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
    api.media["media_image_1"] = ("image/jpeg", jpeg)
    _, reply = await wechat.post_safe(samples.image())
    case = await case_by_no(hall, agent, await number_of(reply, wechat))
    (message,) = case["messages"]
    assert message["kind"] == "image" and message["body"] == "[图片]"
    (attachment,) = message["attachments"]
    assert attachment["type"] == "image/jpeg" and attachment["size"] == len(jpeg)
    assert ("/cgi-bin/media/get", {"access_token": "ACCESS_TOKEN_1", "media_id": "media_image_1"}) in api.requests


async def test_media_wechat_can_not_give_is_named_by_its_media_id(desk, api):
    hall, wechat, agent = desk
    _, reply = await wechat.post_safe(samples.voice(recognition="我要投诉"))  # the fake knows no such media
    case = await case_by_no(hall, agent, await number_of(reply, wechat))
    (message,) = case["messages"]
    assert message["kind"] == "voice" and message["attachments"] == []
    assert message["body"].startswith("[语音] 我要投诉") and "media_voice_1" in message["body"]


async def test_an_agents_reply_reaches_the_follower_as_a_customer_service_message(desk, api):
    hall, wechat, agent = desk
    _, reply = await wechat.post_safe(samples.text("公积金提取需要什么材料?", msg_id="3001"))
    case = await case_by_no(hall, agent, await number_of(reply, wechat))
    worker = hall.app[WORKER]
    if "wechat" not in worker.senders:  # until the server registers the WeChat sender itself
        worker.senders["wechat"] = make_sender(hall.app[WECHAT].settings, hall.app[WECHAT].api)
    status, body = await hall.post(f"/api/cases/{case['id']}/messages", {"text": "请携带身份证和公积金卡。"}, agent)
    assert status == 201, body
    for _ in range(250):
        if api.sent:
            break
        await asyncio.sleep(0.02)
    assert api.sent == [{"touser": samples.OPENID, "msgtype": "text", "text": {"content": "请携带身份证和公积金卡。"}}]


async def test_config_toml_turns_the_channel_on(aiohttp_client, tmp_path, clock, monkeypatch):
    from hall import config as config_mod
    from hall.callcenter.wechat import views
    from hall.server import create_app

    from ...conftest import TEST_CONFIG
    from .wechat_app import ENV

    path = tmp_path / "hall.toml"
    table = '\n[callcenter.wechat]\nenabled = true\napp_id = "wx0123456789abcdef"\nmode = "compatible"\n'
    path.write_text(TEST_CONFIG.read_text(encoding="utf-8") + table, encoding="utf-8")
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config = config_mod.load(path)
    settings = views.configured(config)
    assert settings.enabled and settings.mode == "compatible" and settings.token == ENV["HALL_WECHAT_TOKEN"]
    app = create_app(config, clock=clock, db_path=tmp_path / "hall.db")
    if "wechat_message" not in app.router.named_resources():  # until create_app wires the channel itself
        views.setup_routes(app)
    client = await aiohttp_client(app)
    wechat = WechatServer(client)
    async with client.get("/wechat", params={**wechat.query(), "echostr": "on"}) as resp:
        assert resp.status == 200 and await resp.text() == "on"
    status, body = await wechat.post_plain(samples.text("兼容模式的明文消息"))
    assert status == 200 and "工单号 " in parse_xml(body.encode())["Content"]
    status, body = await wechat.post_safe(samples.text("兼容模式的密文消息"))
    assert status == 200 and "工单号 " in wechat.open_reply(body)["Content"]
