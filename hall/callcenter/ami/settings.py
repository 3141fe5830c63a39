"""`[callcenter.ami]` in config.toml: where Asterisk's Manager Interface is and who sits at which phone.

The secret never sits in the config file: `secret_env` names the environment
variable that holds it. Without `enabled`, the phone channel runs exactly when
that variable is set, so the demo hall starts without an Asterisk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...config import ConfigError, Setting, _settings

AMI_SETTINGS = (
    Setting("enabled", "auto", "Run the phone channel: true, false, or auto (when the secret's variable is set)"),
    Setting("host", "127.0.0.1", "Asterisk's address for the Manager Interface"),
    Setting("port", 5038, "Asterisk's Manager Interface port"),
    Setting("username", "hall", "The manager.conf user Hall logs in as"),
    Setting("secret_env", "HALL_AMI_SECRET", "Environment variable holding that user's secret (never the config file)"),
    Setting("queues", ["hotline"], "Asterisk queues (queues.conf) whose calls come to the desk"),
    Setting("agents", {}, "Hall agent username → the queue member interface of their phone, e.g. zhang = 'PJSIP/8001'"),
    Setting("originate_context", "from-hall", "Dialplan context that dials the citizen once the agent has answered"),
    Setting("originate_caller_id", "", "Caller ID shown to citizens on return visits (the hotline number)"),
    Setting("originate_timeout_seconds", 30, "How long the agent's phone rings for a return visit"),
    Setting("ping_seconds", 20, "Send a keepalive Ping this often"),
    Setting("ping_timeout_seconds", 5, "A Ping unanswered this long means the connection is dead"),
    Setting("reconnect_max_seconds", 30, "Longest wait between reconnection attempts"),
)

INTERFACE = re.compile(r"^[A-Za-z0-9_]+/[^\s,|]+$")  # tech/resource, as queues.conf writes a member
NAME = re.compile(r"^[A-Za-z0-9_.@+-]+$")


@dataclass(frozen=True)
class AmiSettings:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "hall"
    secret: str = field(default="", repr=False)
    secret_env: str = "HALL_AMI_SECRET"
    queues: tuple[str, ...] = ("hotline",)
    agents: Mapping[str, str] = field(default_factory=dict)  # hall username → interface
    originate_context: str = "from-hall"
    originate_caller_id: str = ""
    originate_timeout_seconds: int = 30
    ping_seconds: int = 20
    ping_timeout_seconds: int = 5
    reconnect_max_seconds: int = 30

    def agent_for(self, interface: str) -> str | None:
        """The Hall agent whose phone is this queue member interface (case as Asterisk compares it)."""
        wanted = interface.lower()
        for agent, iface in self.agents.items():
            if iface.lower() == wanted:
                return agent
        return None

    def interface_of(self, agent: str) -> str | None:
        return self.agents.get(agent)


def parse_ami(raw: dict[str, Any], environ: Mapping[str, str] | None = None) -> AmiSettings:
    """The `[callcenter.ami]` table; `environ` defaults to the process environment."""
    environ = os.environ if environ is None else environ
    if "secret" in raw or "password" in raw:
        raise ConfigError(
            "callcenter.ami: do not write the AMI secret in the config file; "
            "set secret_env to the name of an environment variable that holds it"
        )
    enabled = raw.get("enabled", "auto")
    if enabled not in (True, False, "auto") or isinstance(enabled, int) and not isinstance(enabled, bool):
        raise ConfigError(f'callcenter.ami.enabled must be true, false or "auto", got {enabled!r}')
    values = _settings({k: v for k, v in raw.items() if k != "enabled"}, AMI_SETTINGS, "callcenter.ami")
    for key in ("host", "username", "secret_env", "originate_context"):
        if not values[key].strip():
            raise ConfigError(f"callcenter.ami.{key} must not be empty")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", values["secret_env"]):
        raise ConfigError(f"callcenter.ami.secret_env: {values['secret_env']!r} is not an environment variable name")
    if not 1 <= values["port"] <= 65535:
        raise ConfigError("callcenter.ami.port must be between 1 and 65535")
    for key, low in (("originate_timeout_seconds", 5), ("ping_seconds", 1), ("ping_timeout_seconds", 1)):
        if values[key] < low:
            raise ConfigError(f"callcenter.ami.{key} must be at least {low}")
    if values["reconnect_max_seconds"] < 1:
        raise ConfigError("callcenter.ami.reconnect_max_seconds must be at least 1")
    queues = values["queues"]
    if not queues or any(not isinstance(q, str) or not NAME.match(q) for q in queues):
        raise ConfigError('callcenter.ami.queues must list queue names from queues.conf, like ["hotline"]')
    agents = {}
    seen: dict[str, str] = {}
    for agent, interface in values["agents"].items():
        if not isinstance(interface, str) or not INTERFACE.match(interface):
            raise ConfigError(
                f"callcenter.ami.agents.{agent}: {interface!r} is not a queue member interface like 'PJSIP/8001'"
            )
        if interface.lower() in seen:
            raise ConfigError(
                f"callcenter.ami.agents: {interface} is given to both {seen[interface.lower()]} and {agent}"
            )
        seen[interface.lower()] = agent
        agents[agent] = interface
    if any(c in values["originate_caller_id"] for c in "\r\n"):
        raise ConfigError("callcenter.ami.originate_caller_id must be one line")
    secret = environ.get(values["secret_env"], "")
    if enabled == "auto":
        enabled = bool(secret)
    elif enabled and not secret:
        raise ConfigError(
            f"callcenter.ami.enabled is true but the environment variable {values['secret_env']} "
            "(the AMI secret) is not set"
        )
    return AmiSettings(
        **{**values, "enabled": enabled, "queues": tuple(queues), "agents": agents},
        secret=secret,
    )
