"""Log lines that carry the request they belong to, as text or JSON lines.

The request middleware puts the request in a context variable; a record
factory copies it onto every log record made while the request runs, in
whichever module logs, so both formats can show it.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from dataclasses import dataclass

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
FORMATS = ("text", "json")


@dataclass(frozen=True)
class RequestInfo:
    request_id: str
    method: str
    path: str


CURRENT: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar("hall_request", default=None)
_base_factory = logging.getLogRecordFactory()


def _record(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    info = CURRENT.get()
    record.request_id = info.request_id if info else "-"
    if info is not None:
        record.method, record.path = info.method, info.path
    return record


def install() -> None:
    """Stamp every log record with the current request (idempotent)."""
    if logging.getLogRecordFactory() is not _record:
        logging.setLogRecordFactory(_record)
    # aiosqlite logs every statement with its parameters at DEBUG: citizens' phones and ID
    # numbers. It stays at INFO even when the server logs at DEBUG.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id and the request's fields."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None and value != "-":
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    install()
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
