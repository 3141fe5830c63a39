"""Parsing WeChat's XML without trusting it, and building replies that survive any text."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall.callcenter.wechat import messages
from hall.callcenter.wechat.messages import BadMessage, parse_message, parse_xml, text_reply

from . import samples


def test_a_text_message():
    m = parse_message(samples.text("窗口3的工作人员态度很差,我要投诉"))
    assert (m.kind, m.sender, m.to) == ("text", samples.OPENID, samples.ACCOUNT)
    assert m.content == "窗口3的工作人员态度很差,我要投诉"
    assert m.msg_id == "24600000000000001" and m.created == 1795397400
    assert m.text == m.content and m.dedupe_key == "msg:24600000000000001"


def test_image_and_voice_keep_their_media_ids():
    img = parse_message(samples.image())
    assert (img.kind, img.media_id, img.pic_url) == ("image", "media_image_1", "http://mmbiz.qpic.cn/mmbiz_jpg/abc/0")
    assert img.text == "[图片]"
    v = parse_message(samples.voice(recognition="请问社保卡怎么补办"))
    assert (v.kind, v.media_id, v.format) == ("voice", "media_voice_1", "amr")
    assert v.text == "[语音] 请问社保卡怎么补办"
    assert parse_message(samples.voice()).text == "[语音]"


@pytest.mark.parametrize("name, key", [("subscribe", ""), ("unsubscribe", ""), ("CLICK", "MENU_COMPLAIN")])
def test_events(name, key):
    m = parse_message(samples.event(name, key))
    assert (m.kind, m.event, m.event_key, m.msg_id) == ("event", name, key, "")
    # Events carry no MsgId: the sender and time name them across WeChat's retries.
    assert m.dedupe_key == f"event:{samples.OPENID}:1795397403:{name}:{key}"


def test_other_kinds_parse_and_keep_their_fields():
    m = parse_message(samples.location())
    assert m.kind == "location" and m.extra["Label"] == "位置信息" and m.extra["Scale"] == "20"


@pytest.mark.parametrize(
    "body",
    [samples.BILLION_LAUGHS, samples.EXTERNAL_ENTITY, samples.EXTERNAL_DTD, samples.QUADRATIC_BLOWUP],
    ids=["billion-laughs", "external-entity", "external-dtd", "quadratic-blowup"],
)
def test_dangerous_xml_is_refused_fast(body):
    started = time.perf_counter()
    with pytest.raises(BadMessage):
        parse_message(body)
    assert time.perf_counter() - started < 0.5


def test_a_body_over_the_limit_is_refused_before_parsing():
    huge = samples.text("投" * 30_000)  # 90 KB of UTF-8
    with pytest.raises(BadMessage, match="over"):
        parse_message(huge)
    assert parse_message(huge, limit=len(huge)).content == "投" * 30_000


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<html></html>",
        b"<xml><MsgType>text</MsgType></xml>",
        b"<xml><FromUserName>x</FromUserName></xml>",
        samples.text("x").replace(b"1795397400", b"soon"),
    ],
)
def test_what_is_not_a_message_is_refused(body):
    with pytest.raises(BadMessage):
        parse_message(body)


def test_the_reply_splits_cdata_terminators_and_parses_back():
    content = "回复 ]]> <script>alert(1)</script> & ]]]]>>"
    xml = text_reply(samples.OPENID, samples.ACCOUNT, content, 1795397400)
    fields = parse_xml(xml.encode())
    assert fields == {
        "ToUserName": samples.OPENID,
        "FromUserName": samples.ACCOUNT,
        "CreateTime": "1795397400",
        "MsgType": "text",
        "Content": content,
    }


def test_the_encrypted_envelope():
    xml = messages.encrypted_reply("abc+/=", "f" * 40, "1795397400", "12345")
    assert parse_xml(xml.encode()) == {
        "Encrypt": "abc+/=",
        "MsgSignature": "f" * 40,
        "TimeStamp": "1795397400",
        "Nonce": "12345",
    }


@settings(max_examples=400, deadline=None, database=None)
@given(st.binary(max_size=2000) | st.text(max_size=500).map(lambda s: ("<xml>" + s + "</xml>").encode()))
def test_any_body_parses_or_is_refused_never_crashes(body):
    try:
        m = parse_message(body)
    except BadMessage:
        return
    assert m.kind and m.sender


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=300), st.text(max_size=40))
def test_any_reply_text_survives_the_round_trip(content, openid):
    fields = parse_xml(text_reply(openid or "o", samples.ACCOUNT, content, 1).encode(), limit=10**6)
    clean = messages._NOT_XML.sub("", content).replace("\r\n", "\n").replace("\r", "\n")
    # XML folds line ends and the parser strips the ends of each value; nothing else changes.
    assert fields["Content"] == clean.strip()
    assert fields["MsgType"] == "text"


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.sampled_from(["text", "image", "voice", "event", "link"]),
    st.text(min_size=1, max_size=40),
    st.text(max_size=300),
    st.integers(min_value=0, max_value=2**40),
)
def test_any_field_values_come_back_as_sent(kind, sender, content, msg_id):
    def clean(value: str) -> str:
        return messages._NOT_XML.sub("", value).replace("\r\n", "\n").replace("\r", "\n").strip()

    body = (
        f"<xml><ToUserName>{messages.cdata('gh_1')}</ToUserName><FromUserName>{messages.cdata(sender)}</FromUserName>"
        f"<CreateTime>1</CreateTime><MsgType>{messages.cdata(kind)}</MsgType>"
        f"<Content>{messages.cdata(content)}</Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()
    try:
        m = parse_message(body, limit=10**6)
    except BadMessage:
        assert not clean(sender)  # only a sender that is empty once cleaned is refused
        return
    assert (m.kind, m.sender, m.content, m.msg_id) == (kind, clean(sender), clean(content), str(msg_id))
