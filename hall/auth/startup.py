"""Secrets checked before the server starts: outside demo mode, no demo or weak secret is accepted.

Hall has no signing key of its own (sessions and device tokens are random and
kept only as hashes), so its secrets are the channels' (AMI, WeChat, mailbox,
SMTP), the notification gateway's key, the metrics scrape token and the first
admin password, all from environment variables. The config file must hold
none: each channel's parser refuses its own secret keys, and `config_secrets`
looks through the whole file for anything else that looks like one.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from typing import Any

from ..config import Config
from ..errors import HallError

# Values that appear in the README, the demo and the tests: known to everyone who reads them.
DEMO_SECRETS = frozenset(
    s.lower()
    for s in (
        "change-me-please",
        "changeme",
        "change-me",
        "hallToken2026",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "0123456789abcdef0123456789abcdef",
        "demo",
        "hall",
        "secret",
        "password",
        "admin",
        "123456",
        "12345678",
        "admin123",
        "password1",
        "correct-horse-9",
        "test",
    )
)
ADMIN_MIN_LENGTH = 12
SECRET_KEY = re.compile(
    r"^(secret|password|passwd|pass|token|key|api_key|app_secret|aes_key|encoding_aes_key)$"
    r"|_(secret|password|passwd|token|key)$"
)
URL_CREDENTIALS = re.compile(r"://[^/@\s]*:[^/@\s]+@")


def secret_variables(config: Config) -> list[str]:
    """The environment variables this config reads secrets from."""
    names = ["HALL_NOTIFY_KEY", "HALL_METRICS_TOKEN"]
    channels = getattr(config.callcenter, "channels", {}) or {}
    defaults = {
        "ami": {"secret_env": "HALL_AMI_SECRET"},
        "wechat": {
            "token_env": "HALL_WECHAT_TOKEN",
            "aes_key_env": "HALL_WECHAT_AES_KEY",
            "secret_env": "HALL_WECHAT_SECRET",
        },
        "mail": {"imap_password_env": "HALL_IMAP_PASSWORD", "smtp_password_env": "HALL_SMTP_PASSWORD"},
    }
    for channel, keys in defaults.items():
        raw = channels.get(channel, {}) if isinstance(channels.get(channel, {}), dict) else {}
        names += [str(raw.get(key, default)) for key, default in keys.items()]
    return [n for n in dict.fromkeys(names) if n]


def config_secrets(raw: Any, where: str = "") -> Iterator[str]:
    """Places in a parsed config file that hold what looks like a secret."""
    if isinstance(raw, dict):
        for key, value in raw.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(value, str) and value.strip() and SECRET_KEY.search(str(key).lower()):
                yield path
            elif isinstance(value, str) and URL_CREDENTIALS.search(value):
                yield f"{path} (a password in the address)"
            else:
                yield from config_secrets(value, path)
    elif isinstance(raw, list):
        for n, item in enumerate(raw):
            yield from config_secrets(item, f"{where}[{n}]")


def unsafe_secrets(config: Config, environ: Mapping[str, str], raw: dict[str, Any] | None = None) -> list[str]:
    """What is wrong with the secrets for a real (not demo) hall; empty when it may start."""
    problems = [f"配置文件中不能写密钥:{path}(请改用环境变量)" for path in config_secrets(raw or {})]
    if config.demo:
        return problems
    for name in secret_variables(config):
        value = environ.get(name, "").strip()
        if value and value.lower() in DEMO_SECRETS:
            problems.append(f"环境变量 {name} 是演示或公开的值,请换成新生成的密钥")
    admin = environ.get("HALL_ADMIN_PASSWORD", "")
    if admin and (len(admin) < ADMIN_MIN_LENGTH or admin.lower() in DEMO_SECRETS):
        problems.append(
            f"HALL_ADMIN_PASSWORD 太弱或是演示密码:非演示模式下至少 {ADMIN_MIN_LENGTH} 位且不能是公开的示例密码"
            "(不设置则首次启动时生成随机密码)"
        )
    return problems


def refuse_unsafe_start(config: Config, environ: Mapping[str, str], raw: dict[str, Any] | None = None) -> None:
    """Raise (the server does not start) when `unsafe_secrets` finds anything."""
    if raw is None and config.path is not None:
        raw = tomllib.loads(config.path.read_text(encoding="utf-8"))
    problems = unsafe_secrets(config, environ, raw)
    if problems:
        mode = "演示模式" if config.demo else "非演示模式([hall] demo = false)"
        raise HallError("unsafe_secrets", f"{mode}下拒绝启动:\n  " + "\n  ".join(problems))
