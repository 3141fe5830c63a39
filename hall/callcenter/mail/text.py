"""Bytes and headers to text the way Chinese mail needs: GB2312 read as GB18030, RFC 2047, HTML to plain text.

Nothing here raises on bad input: mail comes from anyone.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import quopri
import re
from html.parser import HTMLParser

# Labels real mail uses for Chinese; GB2312 mail from Windows clients is really GBK (镕, 堃, 喆 …),
# and GB18030 is a superset of both.
GB_LABELS = frozenset(
    "gb2312 gbk gb_2312-80 gb_2312 csgb2312 x-gbk cp936 ms936 windows-936 euc-cn x-euc-cn chinese gb18030".split()
)
# Codecs Python knows but that are no character sets of mail (or that raise whatever the error handler).
NOT_CHARSETS = frozenset({"idna", "punycode", "raw_unicode_escape", "unicode_escape", "undefined", "mbcs", "oem"})


def codec_for(label: str | None) -> str | None:
    """The Python codec to read a part labelled `label` with; None when the label is missing or unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in GB_LABELS:
        return "gb18030"
    if label in ("big5", "big5-hkscs", "cn-big5", "x-x-big5"):
        return "big5hkscs"
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    if info.name.replace("-", "_") in NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Text from `data` in the labelled charset; unlabelled or unknown: UTF-8, else GB18030, else replaced."""
    codec = codec_for(label)
    if codec:
        try:
            return data.decode(codec, errors="replace")
        except Exception:  # a codec that fails even with errors="replace"
            pass
    for guess in ("utf-8", "gb18030"):
        try:
            return data.decode(guess)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def raw_bytes(value: str) -> bytes:
    """The bytes behind a header the email package read with surrogateescape (8-bit headers)."""
    return value.encode("utf-8", errors="surrogateescape")


def unescape_8bit(value: str, label: str | None = None) -> str:
    """A header string that may hold undecoded 8-bit bytes (as surrogates) as proper text."""
    if not any("\udc80" <= c <= "\udcff" for c in value):
        return value
    data = raw_bytes(value)
    try:
        return data.decode("utf-8")  # GBK text is almost never valid UTF-8, so this guess is safe first
    except UnicodeDecodeError:
        return decode_bytes(data, label)


ENCODED_WORD = re.compile(r"=\?([^?\s]+?)(?:\*[^?\s]*)?\?([QqBb])\?([^?\s]*)\?=")


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "Bb":
        clean = re.sub(r"[^A-Za-z0-9+/]", "", text)
        clean += "=" * (-len(clean) % 4)
        try:
            return base64.b64decode(clean)
        except (binascii.Error, ValueError):
            return b""
    return quopri.decodestring(text.replace("_", " ").encode("ascii", errors="ignore"), header=False)


def decode_words(value: str | None, fallback: str | None = None) -> str:
    """RFC 2047 encoded words (also quoted ones and ones split mid-character) decoded; plain parts kept."""
    if not value:
        return ""
    value = re.sub(r"\r?\n(?=[ \t])", "", value)
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            out.append(decode_bytes(b"".join(pending), pending_charset))
        pending, pending_charset = [], None

    for match in ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        charset = match.group(1)
        # Whitespace between two encoded words is not part of the text (RFC 2047 §6.2).
        if between and not (between.isspace() and pos > 0):
            flush()
            out.append(unescape_8bit(between, fallback))
        if pending and codec_for(charset) != codec_for(pending_charset):
            flush()
        pending.append(_word_bytes(match.group(2), match.group(3)))
        pending_charset = charset
        pos = match.end()
    flush()
    out.append(unescape_8bit(value[pos:], fallback))
    return clean_text("".join(out), keep_newlines=False)


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(text: str, keep_newlines: bool = True) -> str:
    """Text with control characters and lone surrogates removed (safe to store and to show)."""
    text = CONTROL.sub("", text)
    if not keep_newlines:
        text = re.sub(r"\s*[\r\n]+\s*", " ", text).strip()
    return text


SKIP = frozenset("script style head title noscript template iframe object embed svg math".split())
BLOCK = frozenset(
    "p div br li tr h1 h2 h3 h4 h5 h6 table ul ol blockquote pre hr section article header footer dd dt".split()
)
VOID = frozenset("br hr img input meta link area base col wbr source param".split())


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []
        self.href: str | None = None
        self.link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP:
            if tag not in VOID:
                self.skipping.append(tag)
            return
        if self.skipping:
            return
        if tag in BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("• ")
        if tag == "td" or tag == "th":
            self.parts.append("\t")
        if tag == "a":
            href = dict(attrs).get("href") or ""
            self.href = href if href.startswith(("http://", "https://", "mailto:")) else None
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            elif tag in self.skipping:  # badly nested: close down to it
                del self.skipping[self.skipping.index(tag) :]
            return
        if tag == "a" and self.href:
            shown = "".join(self.link_text).strip()
            target = self.href.removeprefix("mailto:")
            if target and target not in shown:
                self.parts.append(f" ({target})")
            self.href = None
        if tag in BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        data = re.sub(r"\s+", " ", data)
        self.parts.append(data)
        if self.href is not None:
            self.link_text.append(data)


def html_to_text(markup: str) -> str:
    """The text a reader would see in an HTML mail, as plain text: no tags, scripts, styles or comments."""
    parser = _TextOnly()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # HTMLParser is lenient, but this must never fail on a mail
        return clean_text(
            re.sub(r"<[^>]*>", " ", html.unescape(re.sub(r"(?is)<(script|style).*?</\1\s*>", " ", markup)))
        )
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return clean_text(text)
