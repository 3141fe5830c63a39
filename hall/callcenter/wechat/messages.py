"""WeChat's XML messages, parsed without trusting them, and the passive replies.

Parsing goes through defusedxml with DTDs, entities and external references
forbidden, after a size check, so a billion-laughs or an external-entity body
is refused before it costs anything. Replies are built as text, each value in
CDATA with `]]>` split and characters XML cannot carry dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

MAX_BODY = 64 * 1024
KINDS = ("text", "image", "voice", "event")  # what becomes (or touches) a case; others are answered with a hint
EVENTS = ("subscribe", "unsubscribe", "CLICK")
_FIELDS = {
    "ToUserName": "to",
    "FromUserName": "sender",
    "CreateTime": "created",
    "MsgType": "kind",
    "Content": "content",
    "MsgId": "msg_id",
    "PicUrl": "pic_url",
    "MediaId": "media_id",
    "Format": "format",
    "Recognition": "recognition",
    "Event": "event",
    "EventKey": "event_key",
    "Encrypt": "encrypt",
}
# Characters XML 1.0 can not carry at all, even in CDATA.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class BadMessage(ValueError):
    """A body that is not a WeChat message the hall accepts (too big, not XML, dangerous XML)."""


@dataclass(frozen=True)
class Message:
    kind: str  # MsgType: text, image, voice, event, or another WeChat type the hall only acknowledges
    sender: str  # FromUserName: the citizen's openid
    to: str = ""  # ToUserName: the account's original id (gh_…)
    created: int = 0
    content: str = ""
    msg_id: str = ""
    pic_url: str = ""
    media_id: str = ""
    format: str = ""
    recognition: str = ""  # voice recognised as text, when the account turned it on
    event: str = ""
    event_key: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        """What identifies one message across WeChat's retries (MsgId; events have none)."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"event:{self.sender}:{self.created}:{self.event}:{self.event_key}"

    @property
    def text(self) -> str:
        """What a person would read as the message in a case."""
        if self.kind == "text":
            return self.content
        if self.kind == "voice":
            return f"[语音] {self.recognition}" if self.recognition else "[语音]"
        if self.kind == "image":
            return "[图片]"
        return f"[{self.kind}]"


def parse_xml(body: bytes, limit: int = MAX_BODY) -> dict[str, str]:
    """The child elements of a flat `<xml>` document as text, refusing anything unsafe."""
    if len(body) > limit:
        raise BadMessage(f"body over {limit} bytes")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ET.ParseError, ValueError) as e:
        raise BadMessage(f"not acceptable XML: {type(e).__name__}") from None
    if root.tag != "xml":
        raise BadMessage("root element is not <xml>")
    out = {}
    for child in root:
        if isinstance(child.tag, str) and child.tag not in out:
            out[child.tag] = (child.text or "").strip() if len(child) == 0 else ""
    return out


def parse_message(body: bytes, limit: int = MAX_BODY) -> Message:
    fields = parse_xml(body, limit)
    known = {_FIELDS[k]: v for k, v in fields.items() if k in _FIELDS and k != "Encrypt"}
    extra = {k: v for k, v in fields.items() if k not in _FIELDS}
    if not known.get("kind") or not known.get("sender"):
        raise BadMessage("MsgType and FromUserName are required")
    try:
        known["created"] = int(known.get("created") or 0)
    except ValueError:
        raise BadMessage("CreateTime is not a number") from None
    return Message(**known, extra=extra)


def encrypted_part(body: bytes, limit: int = MAX_BODY) -> str:
    """The `Encrypt` field of a safe-mode body."""
    encrypt = parse_xml(body, limit).get("Encrypt", "")
    if not encrypt:
        raise BadMessage("no Encrypt field")
    return encrypt


def cdata(value: str) -> str:
    """`value` as CDATA: `]]>` split across two sections, characters XML can not carry dropped."""
    value = _NOT_XML.sub("", value)
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to: str, sender: str, content: str, created: int) -> str:
    """A passive text reply to `to` (the citizen's openid) from `sender` (the account)."""
    return (
        f"<xml><ToUserName>{cdata(to)}</ToUserName><FromUserName>{cdata(sender)}</FromUserName>"
        f"<CreateTime>{int(created)}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )


def encrypted_reply(encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    """The safe-mode envelope of an encrypted reply."""
    return (
        f"<xml><Encrypt>{cdata(encrypt)}</Encrypt><MsgSignature>{cdata(msg_signature)}</MsgSignature>"
        f"<TimeStamp>{int(timestamp)}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
    )
