"""Who is calling, and which callers a route admits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROLES = ("admin", "manager", "staff", "agent", "department")
STAFF = frozenset({"admin", "manager", "staff"})  # anyone who works in the hall
MANAGERS = frozenset({"admin", "manager"})
AGENTS = frozenset({"admin", "manager", "agent"})  # the seat desk (坐席): cases, presence, return visits
DEPARTMENTS = frozenset({"department"})  # a department's handler: signs for and answers its cases
ADMINS = frozenset({"admin"})
DEVICE_KINDS = ("kiosk", "display", "pad")


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" or "device"
    id: int
    name: str
    role: str | None = None  # users
    device_kind: str | None = None  # devices
    window_no: int | None = None  # devices bound to a window
    session_id: int | None = None
    csrf_token: str | None = None
    staff_no: str | None = None
    via_cookie: bool = False

    @property
    def key(self) -> str:
        """A stable name of the issuer, for idempotency keys and audit."""
        return f"{self.kind}:{self.id}"

    def as_json(self) -> dict[str, Any]:
        if self.kind == "device":
            return {
                "kind": "device",
                "id": self.id,
                "name": self.name,
                "device_kind": self.device_kind,
                "window": self.window_no,
            }
        return {"kind": "user", "id": self.id, "username": self.name, "role": self.role, "staff_no": self.staff_no}


@dataclass(frozen=True)
class Access:
    roles: frozenset[str] = field(default_factory=frozenset)
    devices: frozenset[str] = field(default_factory=frozenset)
    public: bool = False
    # False for routes that must not act as the page session (login): the
    # session cookie is then ignored, and with it the CSRF check.
    session: bool = True

    def admits(self, who: Principal | None) -> bool:
        if who is None:
            return self.public
        if who.kind == "user":
            return who.role in self.roles or self.public
        return who.device_kind in self.devices or self.public


def access(
    roles: frozenset[str] = frozenset(), devices: tuple[str, ...] = (), public: bool = False, session: bool = True
) -> Callable:
    """Declare who may call a handler. A handler without a declaration admits nobody."""

    def mark(handler: Callable) -> Callable:
        handler.hall_access = Access(frozenset(roles), frozenset(devices), public, session)
        return handler

    return mark
