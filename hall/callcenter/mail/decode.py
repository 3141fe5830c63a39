"""A raw RFC 5322 message as what a case needs: who wrote, about what, the text, the attachments.

`parse` never raises: a mail it cannot read fully still becomes a message an
agent can see (with what could be read), so nothing in the mailbox is lost.
"""

from __future__ import annotations

import datetime as dt
import email
import email.message
import email.utils
import fnmatch
import hashlib
import logging
import mimetypes
import posixpath
import re
from dataclasses import dataclass, field
from email import policy

from .settings import MailSettings
from .text import clean_text, decode_bytes, decode_words, html_to_text, raw_bytes, unescape_8bit

log = logging.getLogger("hall.callcenter.mail")

MAX_TEXT_CHARS = 200_000  # a case message longer than this is cut (the whole mail stays in the mailbox)
MAX_DEPTH = 20  # nested multiparts deeper than this are not read
HTML_BODY_NAME = "message.html"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    kind: str = "attachment"  # or "html_body": an HTML-only mail's own HTML, kept as a file, never rendered


@dataclass(frozen=True)
class Refused:
    """An attachment not kept, and why: type_not_allowed, too_large, message_too_large."""

    filename: str
    content_type: str
    size: int
    reason: str


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    from_address: str
    from_name: str = ""
    subject: str = ""
    text: str = ""
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_to: str | None = None
    date: dt.datetime | None = None
    case_number: str | None = None
    attachments: tuple[Attachment, ...] = ()
    refused: tuple[Refused, ...] = ()
    html_only: bool = False
    auto_reply: bool = False  # an out-of-office answer or a bounce: never answer it automatically
    defects: tuple[str, ...] = field(default=(), compare=False)

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this mail answers, the most direct first."""
        ids = ([self.in_reply_to] if self.in_reply_to else []) + list(reversed(self.references))
        return tuple(dict.fromkeys(ids))


MSG_ID = re.compile(r"<([^<>\s]+)>")


def message_ids(value: str) -> list[str]:
    """The <message-id>s in a header, in order, each with its angle brackets."""
    found = [f"<{m}>" for m in MSG_ID.findall(value)]
    if not found and value.strip() and " " not in value.strip() and "@" in value:
        found = [f"<{value.strip().strip('<>')}>"]  # a bare id some clients write
    return found


def _raw(msg: email.message.Message, name: str) -> str:
    """The header as written (unfolded), 8-bit bytes still escaped; '' when absent."""
    name = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == name and isinstance(value, str):
            return re.sub(r"\r?\n(?=[ \t])", "", value).strip()
    return ""


def _param(part: email.message.Message, header: str, name: str, fallback: str | None) -> str:
    """A header parameter (filename=, name=) decoded: RFC 2231, RFC 2047 and raw 8-bit all seen in the wild."""
    holder = email.message.Message()  # compat32: parameters exactly as written
    raw = _raw(part, header)
    if not raw:
        return ""
    holder[header] = raw
    try:
        value = holder.get_param(name, header=header)
    except Exception:
        return ""
    if isinstance(value, tuple):  # RFC 2231: (charset, language, text)
        charset, _, text = value
        return decode_bytes(text.encode("raw-unicode-escape", errors="replace"), charset or fallback)
    if not isinstance(value, str):
        return ""
    return decode_words(email.utils.unquote(value), fallback)


def safe_filename(name: str, content_type: str) -> str:
    """A file name with no path, no control characters, not too long, never empty."""
    name = clean_text(name, keep_newlines=False).replace("\\", "/")
    name = posixpath.basename(name).strip(" .")
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:140] + dot + ext[:9]) if dot and len(ext) < 10 else name[:150]
    if not name:
        name = "attachment" + (mimetypes.guess_extension(content_type) or ".bin")
    return name


def _allowed(settings: MailSettings, filename: str, content_type: str) -> bool:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext in settings.blocked_extensions:
        return False
    if content_type in ("application/octet-stream", "application/x-download", "binary/octet-stream"):
        content_type = (mimetypes.guess_type(filename)[0] or content_type).lower()
    return any(fnmatch.fnmatchcase(content_type, pattern) for pattern in settings.allowed_types)


def _payload(part: email.message.Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return raw_bytes(payload) if isinstance(payload, str) else b""


def _charset(part: email.message.Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _content_type(part: email.message.Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


class _Reader:
    """Walks the parts once, sorting them into body text, HTML and attachments."""

    def __init__(self, settings: MailSettings, fallback: str | None) -> None:
        self.settings = settings
        self.fallback = fallback
        self.plain: list[str] = []
        self.html: list[bytes] = []
        self.html_text: list[str] = []
        self.attachments: list[Attachment] = []
        self.refused: list[Refused] = []
        self.kept = 0

    def walk(self, part: email.message.Message, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            return
        ctype = _content_type(part)
        if part.is_multipart() and ctype != "message/rfc822":
            children = part.get_payload()
            if isinstance(children, list):
                for child in children:
                    if isinstance(child, email.message.Message):
                        self.walk(child, depth + 1)
            return
        disposition = _raw(part, "content-disposition").split(";", 1)[0].strip().lower()
        filename = _param(part, "content-disposition", "filename", self.fallback) or _param(
            part, "content-type", "name", self.fallback
        )
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            data = _payload(part)
            if ctype == "text/plain":
                self.plain.append(decode_bytes(data, _charset(part) or self.fallback))
            else:
                self.html.append(data)
                self.html_text.append(html_to_text(decode_bytes(data, _charset(part) or self.fallback)))
            return
        if ctype == "message/rfc822":
            try:
                data = part.get_payload(0).as_bytes(policy=policy.compat32) if part.is_multipart() else _payload(part)
            except Exception:
                data = _payload(part)
            filename = filename or "forwarded.eml"
        else:
            data = _payload(part)
        self.add(safe_filename(filename, ctype), ctype, data)

    def add(self, filename: str, ctype: str, data: bytes, kind: str = "attachment") -> None:
        size = len(data)
        reason = None
        if kind == "attachment" and not _allowed(self.settings, filename, ctype):
            reason = "type_not_allowed"
        elif size > self.settings.max_attachment_bytes:
            reason = "too_large"
        elif self.kept + size > self.settings.max_message_bytes:
            reason = "message_too_large"
        if reason:
            self.refused.append(Refused(filename, ctype, size, reason))
            return
        self.kept += size
        self.attachments.append(Attachment(filename, ctype, data, kind))


def _address(raw: str, fallback: str | None) -> tuple[str, str]:
    try:
        name, addr = email.utils.parseaddr(raw)
    except Exception:
        name, addr = "", ""
    addr = clean_text(unescape_8bit(addr, fallback), keep_newlines=False).strip().lower()
    if not re.fullmatch(r"[^@\s<>\"]+@[^@\s<>\"]+", addr):
        addr = ""
    return decode_words(name, fallback).strip().strip('"').strip(), addr


def _date(raw: str) -> dt.datetime | None:
    if not raw:
        return None
    try:
        return email.utils.parsedate_to_datetime(raw)
    except Exception:
        return None


def _is_auto_reply(msg: email.message.Message, from_address: str) -> bool:
    auto = _raw(msg, "auto-submitted").lower()
    precedence = _raw(msg, "precedence").lower()
    return (
        (auto != "" and not auto.startswith("no"))
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or bool(_raw(msg, "x-autoreply") or _raw(msg, "x-autorespond"))
        or from_address.split("@")[0] in ("mailer-daemon", "postmaster")
        or _content_type(msg) == "multipart/report"
    )


def _body_charset(msg: email.message.Message) -> str | None:
    """The first charset the body declares: a guess for raw 8-bit headers (Chinese clients send them)."""
    for part in msg.walk():
        charset = _charset(part)
        if charset and charset not in ("us-ascii", "ascii"):
            return charset
    return None


def _cut(text: str) -> str:
    text = clean_text(text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + "\n[…正文过长,已截断;全文见邮箱原件]"
    return text


def parse(raw: bytes, settings: MailSettings | None = None, omitted_size: int | None = None) -> ParsedMail:
    """Read one raw message. `omitted_size`: only the header was fetched, the mail being this many bytes."""
    settings = settings or MailSettings()
    fallback_id = f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id.hall>"
    try:
        return _parse(raw, settings, fallback_id, omitted_size)
    except Exception as e:  # the last resort: keep the mail readable as text
        log.warning("mail %s could not be parsed (%s): kept as text", fallback_id, type(e).__name__)
        return ParsedMail(
            message_id=fallback_id,
            from_address="",
            subject="(无法解析的邮件)",
            text=_cut(decode_bytes(raw[:MAX_TEXT_CHARS])),
            defects=(f"unparsable: {type(e).__name__}",),
        )


def _parse(raw: bytes, settings: MailSettings, fallback_id: str, omitted_size: int | None) -> ParsedMail:
    msg = email.message_from_bytes(raw, policy=policy.default)
    fallback = _body_charset(msg)
    ids = message_ids(_raw(msg, "message-id"))
    in_reply_to = message_ids(_raw(msg, "in-reply-to"))
    from_name, from_address = _address(_raw(msg, "from"), fallback)
    reply_to = _address(_raw(msg, "reply-to"), fallback)[1] or None
    subject = decode_words(_raw(msg, "subject"), fallback)
    found = settings.case_number_re.search(subject)
    reader = _Reader(settings, fallback)
    if omitted_size is None:
        reader.walk(msg)
    text = "\n\n".join(t for t in reader.plain if t.strip())
    html_only = not text.strip() and bool(reader.html)
    if html_only:
        text = "\n\n".join(reader.html_text)
        reader.add(HTML_BODY_NAME, "text/html", b"\n".join(reader.html), kind="html_body")
    if omitted_size is not None:
        text = f"(邮件共 {omitted_size} 字节,超过可导入的大小,正文与附件未导入;请在邮箱中查看原件)"
    return ParsedMail(
        message_id=ids[0] if ids else fallback_id,
        from_address=from_address,
        from_name=from_name,
        subject=subject,
        text=_cut(text),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=tuple(message_ids(_raw(msg, "references"))),
        reply_to=reply_to if reply_to != from_address else None,
        date=_date(_raw(msg, "date")),
        case_number=found.group(1) if found else None,
        attachments=tuple(reader.attachments),
        refused=tuple(reader.refused),
        html_only=html_only,
        auto_reply=_is_auto_reply(msg, from_address),
        defects=tuple(type(d).__name__ for d in msg.defects),
    )
