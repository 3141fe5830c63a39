"""Asterisk Manager Interface framing: bytes in, messages out, and actions back to bytes.

AMI is a line protocol: each message is `Key: Value` lines ended by CRLF, and a
blank line (CRLF CRLF) ends the message. A connection opens with one banner line
(`Asterisk Call Manager/9.0.0` on Asterisk 20) that has no blank line after it.
Bytes become text only once a whole message has arrived, so a Chinese caller
name split across two TCP reads (even in the middle of a character) survives.
Nothing here does I/O; the client feeds what it reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

BANNER_PREFIX = b"Asterisk Call Manager/"
TERMINATOR = b"\r\n\r\n"
MAX_MESSAGE_BYTES = 1 << 20  # Asterisk's own messages stay far below this; more means a broken peer
MAX_BANNER_BYTES = 200


class ProtocolError(Exception):
    """The peer sent something that is not AMI; the connection should be dropped."""


@dataclass(frozen=True)
class Message:
    """One AMI message (a response or an event), keys in the order they came.

    Keys are case-insensitive as Asterisk reads them; a key sent twice (`Output`,
    `Variable`, `ChanVariable`) keeps every value, in order.
    """

    items: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str | None = None) -> str | None:
        wanted = key.lower()
        for k, v in self.items:
            if k.lower() == wanted:
                return v
        return default

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def getall(self, key: str) -> list[str]:
        wanted = key.lower()
        return [v for k, v in self.items if k.lower() == wanted]

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    @property
    def output(self) -> list[str]:
        """Command output: `Output:` lines (Asterisk 14+) or the raw lines of an old `Response: Follows`."""
        return self.getall("Output")

    def as_dict(self) -> dict[str, str]:
        """First value of each key; for logs and tests."""
        out: dict[str, str] = {}
        for k, v in self.items:
            out.setdefault(k, v)
        return out


def decode_text(data: bytes) -> str:
    """AMI carries whatever bytes the channel had: UTF-8 normally, GB18030 from some Chinese trunks."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace")


def parse_message(data: bytes) -> Message:
    """One whole message, without its closing blank line."""
    if not data.strip():
        raise ProtocolError("empty message")
    items: list[tuple[str, str]] = []
    follows = False  # Asterisk before 14 answered `Command` with raw lines and --END COMMAND--
    for line in decode_text(data).split("\r\n"):
        key, sep, value = line.partition(":")
        is_field = bool(sep) and bool(key.strip()) and "\n" not in key
        if follows and not (is_field and key.lower() in ("privilege", "actionid")):
            items += [("Output", part) for part in line.split("\n") if part != "--END COMMAND--"]
            continue
        if not is_field:
            raise ProtocolError(f"not a 'Key: Value' line: {line[:80]!r}")
        value = value[1:] if value.startswith(" ") else value
        items.append((key, value))
        if key.lower() == "response" and value.strip().lower() == "follows":
            follows = True
    return Message(tuple(items))


class Framer:
    """Cuts a byte stream into messages; feed it whatever each read returned.

    `feed` raises ProtocolError only when the stream itself is wrong (no banner,
    a message without end); a single malformed message is skipped and kept in
    `skipped` for the log.
    """

    def __init__(self, *, expect_banner: bool = True, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self._buffer = bytearray()
        self._expect_banner = expect_banner
        self._max = max_bytes
        self.banner: str | None = None
        self.skipped: list[ProtocolError] = []  # malformed messages passed over (the last few)

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        out: list[Message] = []
        if self._expect_banner:
            end = self._buffer.find(b"\r\n")
            if end < 0:
                if len(self._buffer) > MAX_BANNER_BYTES or not BANNER_PREFIX.startswith(
                    bytes(self._buffer[: len(BANNER_PREFIX)])
                ):
                    raise ProtocolError("the peer did not greet as an Asterisk Call Manager")
                return out
            line = bytes(self._buffer[:end])
            if not line.startswith(BANNER_PREFIX) or end > MAX_BANNER_BYTES:
                raise ProtocolError(f"the peer did not greet as an Asterisk Call Manager: {line[:80]!r}")
            self.banner = line.decode("ascii", errors="replace")
            del self._buffer[: end + 2]
            self._expect_banner = False
        start = 0
        while True:
            end = self._buffer.find(TERMINATOR, start)
            if end < 0:
                break
            chunk = bytes(self._buffer[start:end])
            start = end + len(TERMINATOR)
            if not chunk.strip(b"\r\n"):
                continue
            try:
                out.append(parse_message(chunk.strip(b"\r\n")))
            except ProtocolError as e:  # one bad message is not worth the connection
                self.skipped = [*self.skipped[-9:], e]
        del self._buffer[:start]
        if len(self._buffer) > self._max:
            raise ProtocolError(f"a message longer than {self._max} bytes")
        return out

    @property
    def pending(self) -> int:
        """Bytes of an unfinished message held back."""
        return len(self._buffer)


Fields = Mapping[str, object] | Iterable[tuple[str, object]]


def encode_action(action: str, fields: Fields = (), action_id: str | None = None) -> bytes:
    """`Action: X` and its fields as one message; a list of pairs may repeat a key (Variable)."""
    pairs = list(fields.items()) if isinstance(fields, Mapping) else list(fields)
    lines = [("Action", action)]
    if action_id is not None:
        lines.append(("ActionID", action_id))
    lines += [(k, _text(v)) for k, v in pairs if v is not None]
    out = []
    for key, value in lines:
        if not key or any(c in key for c in ":\r\n ") or "\r" in value or "\n" in value:
            raise ValueError(f"AMI field {key!r} can not carry a line break or a colon in its name")
        out.append(f"{key}: {value}\r\n")
    return ("".join(out) + "\r\n").encode("utf-8")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
