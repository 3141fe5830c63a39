"""Customer-service messages to the loopback WeChat API: tokens cached and refreshed, failures retried."""

import pytest

from hall import events
from hall.callcenter.wechat.api import WechatApi, WechatSender, make_sender, split_utf8
from hall.callcenter.wechat.settings import parse_wechat
from hall.clock import FakeClock
from hall.outbox import schema as outbox_schema
from hall.outbox import store as outbox
from hall.outbox.senders import LogSender, SendError
from hall.outbox.store import Message
from hall.outbox.worker import Worker
from hall.storage import Database

from ...conftest import MONDAY_9AM
from .fake_api import APP_ID, SECRET, FakeWechatApi

OPENID = "oX1y2Z3aBcDeFgHiJkLmNoPqRsTu"


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def wechat():
    fake = await FakeWechatApi().start()
    yield fake
    await fake.close()


@pytest.fixture
async def api(wechat):
    clock = Monotonic()
    api = WechatApi(APP_ID, SECRET, wechat.base_url, monotonic=clock)
    api.clock = clock
    yield api
    await api.close()


def message(text: str, recipient: str = OPENID, id: int = 1) -> Message:
    return Message(id, "case.reply", f"case:1:reply:{id}", "wechat", recipient, {"text": text}, 0)


async def test_a_reply_reaches_the_follower_with_one_token(api, wechat):
    sender = WechatSender(api)
    await sender.send(message("您反映的问题已转交不动产登记中心办理。"))
    await sender.send(message("第二条", id=2))
    assert wechat.sent == [
        {"touser": OPENID, "msgtype": "text", "text": {"content": "您反映的问题已转交不动产登记中心办理。"}},
        {"touser": OPENID, "msgtype": "text", "text": {"content": "第二条"}},
    ]
    token_calls = [q for path, q in wechat.requests if path == "/cgi-bin/token"]
    assert token_calls == [{"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET}]
    sends = [q for path, q in wechat.requests if path == "/cgi-bin/message/custom/send"]
    assert sends == [{"access_token": "ACCESS_TOKEN_1"}] * 2


async def test_the_token_is_fetched_again_shortly_before_it_expires(api, wechat):
    await api.send_text(OPENID, "一")
    api.clock.now += 7200 - 301  # still inside expires_in less the margin
    await api.send_text(OPENID, "二")
    assert api.tokens_fetched == 1
    api.clock.now += 2
    await api.send_text(OPENID, "三")
    assert api.tokens_fetched == 2
    assert [q["access_token"] for p, q in wechat.requests if p.endswith("/send")] == [
        "ACCESS_TOKEN_1",
        "ACCESS_TOKEN_1",
        "ACCESS_TOKEN_2",
    ]


@pytest.mark.parametrize("stale", ["expired", "revoked"])
async def test_a_token_wechat_refuses_is_replaced_once_and_the_message_goes(api, wechat, stale):
    await api.send_text(OPENID, "一")
    wechat.expire_all()
    if stale == "revoked":  # 40001: WeChat does not know it at all (another server took a new one)
        wechat.tokens.clear()
    await api.send_text(OPENID, "二")
    assert [m["text"]["content"] for m in wechat.sent] == ["一", "二"]
    assert api.tokens_fetched == 2


async def test_a_refused_refresh_is_not_retried_forever(api, wechat):
    await api.send_text(OPENID, "一")
    wechat.expire_all()
    wechat.secret = "rotated"  # the AppSecret was reset on the platform: 40125 on every token request
    with pytest.raises(SendError, match="40125"):
        await api.send_text(OPENID, "二")
    assert len([p for p, _ in wechat.requests if p.endswith("/send")]) == 2  # the first try, then none


@pytest.mark.parametrize("errcode", [45015, 48001, 40003])
async def test_other_errcodes_fail_the_send(api, wechat, errcode):
    wechat.fail_errcode.append(errcode)
    with pytest.raises(SendError, match=str(errcode)):
        await api.send_text(OPENID, "超过48小时")
    assert wechat.sent == []


async def test_server_errors_and_an_unreachable_api_fail_the_send(api, wechat):
    wechat.fail_status.append(502)
    with pytest.raises(SendError, match="HTTP 502"):
        await api.send_text(OPENID, "一")
    await wechat.close()
    with pytest.raises(SendError, match="unreachable"):
        await api.send_text(OPENID, "二")


async def test_a_long_reply_goes_in_parts_that_wechat_accepts(api, wechat):
    text = "办" * 1500  # 4,500 bytes of UTF-8
    await api.send_text(OPENID, text)
    parts = [m["text"]["content"] for m in wechat.sent]
    assert len(parts) == 3 and "".join(parts) == text
    assert all(len(p.encode()) <= 2048 for p in parts)


@pytest.mark.parametrize("text, limit", [("", 5), ("abc", 3), ("a办b", 3), ("办办", 3), ("😀x", 4)])
def test_split_utf8_never_breaks_a_character(text, limit):
    parts = split_utf8(text, limit)
    assert "".join(parts) == text and all(len(p.encode()) <= limit for p in parts)


async def test_through_the_outbox_a_failed_send_is_retried_and_then_sent(wechat, tmp_path):
    clock = FakeClock(MONDAY_9AM)
    db = Database(tmp_path / "outbox.db", clock, [events.SCHEMA, outbox_schema.SCHEMA])
    await db.open()
    env = {"HALL_WECHAT_TOKEN": "hallToken", "HALL_WECHAT_SECRET": SECRET}
    settings = parse_wechat({"enabled": True, "app_id": APP_ID, "mode": "plain", "base_url": wechat.base_url}, env)
    worker = Worker(db, clock, LogSender(), max_attempts=5)
    worker.senders["wechat"] = make_sender(settings)  # as the WeChat channel registers itself
    try:
        message_id = await db.write(
            outbox.enqueue, "case.reply", "case:7:reply:1", "wechat", OPENID, {"text": "您的工单已办结,请评价。"}
        )
        wechat.fail_status.append(503)
        assert await worker.run_once() == 1
        row = await outbox.get(db, message_id)
        assert row["status"] == "pending" and row["attempts"] == 1 and "503" in row["last_error"]
        assert wechat.sent == []
        clock.advance(60)
        assert await worker.run_once() == 1
        row = await outbox.get(db, message_id)
        assert row["status"] == "sent" and row["attempts"] == 2
        assert wechat.sent == [{"touser": OPENID, "msgtype": "text", "text": {"content": "您的工单已办结,请评价。"}}]
    finally:
        await worker.senders["wechat"].close()
        await db.close()
