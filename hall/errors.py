"""Domain errors: a stable code for programs, a Chinese message for people.

Rules raise these below the web layer; one middleware turns them into
`{"error": {"code", "message"}}` with the status given here.
"""

from __future__ import annotations

from typing import Any


class HallError(Exception):
    status = 400

    def __init__(self, code: str, message: str, status: int | None = None, **detail: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.detail = detail

    def as_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.detail}}


class BadRequest(HallError):
    status = 400


class Unauthorized(HallError):
    status = 401


class Forbidden(HallError):
    status = 403


class NotFound(HallError):
    status = 404


class Conflict(HallError):
    status = 409


class StorageUnavailable(HallError):
    """The database cannot take writes right now (disk full, read-only, I/O error)."""

    status = 503

    def __init__(self, reason: str) -> None:
        super().__init__("storage_unavailable", "系统暂时无法保存数据,请稍后重试", reason=reason)
