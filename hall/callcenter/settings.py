"""`[callcenter]` in config.toml: case types and their deadlines, routing to agents, return visits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import ConfigError, Setting, _settings, _table

# Case types (12345 practice) with their Chinese names; `bad_review` comes from the ratings.
TYPES = {
    "consult": "咨询",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "help": "求助",
    "bad_review": "差评",
}
DEFAULT_DEADLINES = {"consult": 1, "complaint": 5, "report": 10, "suggestion": 10, "help": 3, "bad_review": 15}
ROUTING = ("least_busy", "round_robin")

CALLCENTER_SETTINGS = (
    Setting("routing", "least_busy", "How new text-channel cases go to agents: least_busy or round_robin"),
    Setting("capacity", 8, "Open cases an agent holds at most before routing passes them by"),
    Setting("warn_ratio", 0.8, "Share of the time to the deadline after which a case shows as warning (预警)"),
    Setting("visit_attempts", 3, "Failed return-visit calls documented before a case may close as unreached"),
    Setting("extension_max_days", 10, "Working days one extension (延期) may add"),
    Setting("attachment_max_bytes", 10_000_000, "Largest attachment a channel may store (bytes)"),
)


@dataclass(frozen=True)
class CallcenterSettings:
    routing: str = "least_busy"
    capacity: int = 8
    warn_ratio: float = 0.8
    visit_attempts: int = 3
    extension_max_days: int = 10
    attachment_max_bytes: int = 10_000_000
    deadlines: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    departments: tuple[str, ...] = ()
    channels: dict[str, Any] = field(default_factory=dict)  # [callcenter.ami] …, parsed by each channel


def parse_callcenter(raw: dict[str, Any]) -> CallcenterSettings:
    channels = {k: raw[k] for k in ("ami", "wechat", "mail") if k in raw}
    plain = {k: v for k, v in raw.items() if k not in ("deadlines", "departments", *channels)}
    values = _settings(plain, CALLCENTER_SETTINGS, "[callcenter]")
    if values["routing"] not in ROUTING:
        raise ConfigError(f"[callcenter] routing must be one of {', '.join(ROUTING)}")
    for name in ("capacity", "visit_attempts", "extension_max_days", "attachment_max_bytes"):
        if type(values[name]) is not int or values[name] < 1:
            raise ConfigError(f"[callcenter] {name} must be a positive whole number")
    if not 0 < values["warn_ratio"] < 1:
        raise ConfigError("[callcenter] warn_ratio must be between 0 and 1, e.g. 0.8")
    deadlines = dict(DEFAULT_DEADLINES)
    for key, days in _table(raw, "deadlines").items():
        if key not in TYPES:
            raise ConfigError(f"[callcenter.deadlines] unknown case type {key!r}: {', '.join(TYPES)}")
        if type(days) is not int or not 1 <= days <= 60:
            raise ConfigError(f"[callcenter.deadlines] {key} must be 1 to 60 working days")
        deadlines[key] = days
    departments = raw.get("departments", [])
    if not isinstance(departments, list) or not all(isinstance(d, str) and d.strip() for d in departments):
        raise ConfigError("[callcenter] departments must be a list of department names")
    _check_channels(channels)
    return CallcenterSettings(
        **values, deadlines=deadlines, departments=tuple(d.strip() for d in departments), channels=channels
    )


def _check_channels(channels: dict[str, Any]) -> None:
    """A mistake in a channel's table stops the hall at load, not when the channel starts; each
    channel keeps its raw table and reads its secrets from the environment when it starts."""
    from .ami.settings import parse_ami
    from .mail.settings import parse_mail
    from .wechat.settings import parse_wechat

    parsers = {"ami": parse_ami, "wechat": parse_wechat, "mail": parse_mail}
    for name, raw in channels.items():
        if not isinstance(raw, dict):
            raise ConfigError(f"[callcenter.{name}] must be a table")
        parsers[name](raw)
