"""`[callcenter.wechat]` in config.toml: the official account the hall answers as.

The token, EncodingAESKey and AppSecret are secrets: config names the
environment variables that hold them (`token_env = "HALL_WECHAT_TOKEN"`),
so config.toml can be committed and shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...config import ConfigError, Setting, _settings
from .crypto import CryptoError, aes_key

MODES = ("plain", "compatible", "safe")  # 明文模式 / 兼容模式 / 安全模式
ACK_TEXT = "您的留言已收到,工单号 {number},我们会尽快答复。"
WELCOME_TEXT = "感谢关注!您可以直接在这里留言咨询、投诉或提出建议,我们会登记工单并尽快答复。"
UNSUPPORTED_TEXT = "目前只能受理文字、图片和语音留言,请换一种方式再发一次。"
SECRET_KEYS = ("token", "secret", "app_secret", "aes_key", "encoding_aes_key")

WECHAT_SETTINGS = (
    Setting("enabled", False, "Answer WeChat at GET|POST /wechat; send agents' replies as customer-service messages"),
    Setting("app_id", "", "The official account's AppID (wx…)"),
    Setting("mode", "safe", "Message encryption as set in the account: plain, compatible or safe"),
    Setting("token_env", "HALL_WECHAT_TOKEN", "Environment variable holding the server configuration's Token"),
    Setting("aes_key_env", "HALL_WECHAT_AES_KEY", "Environment variable holding the 43-character EncodingAESKey"),
    Setting("secret_env", "HALL_WECHAT_SECRET", "Environment variable holding the AppSecret (for sending replies)"),
    Setting("base_url", "https://api.weixin.qq.com", "WeChat API address (tests point it at a loopback server)"),
    Setting("max_body_kb", 64, "Largest message body accepted from WeChat, in KiB"),
    Setting("max_skew_seconds", 300, "Refuse signed requests whose timestamp is further off than this; 0: no check"),
    Setting("answer_seconds", 4.0, "Answer WeChat by then even if the case is not saved yet (WeChat waits 5 s)"),
    Setting("ack_text", ACK_TEXT, "The passive reply to a message; {number} is the case number"),
    Setting("welcome_text", WELCOME_TEXT, "The passive reply to a new follower"),
    Setting("unsupported_text", UNSUPPORTED_TEXT, "The reply to a location, link or video (not taken as a case)"),
)


@dataclass(frozen=True)
class WechatSettings:
    enabled: bool = False
    app_id: str = ""
    mode: str = "safe"
    token_env: str = "HALL_WECHAT_TOKEN"
    aes_key_env: str = "HALL_WECHAT_AES_KEY"
    secret_env: str = "HALL_WECHAT_SECRET"
    base_url: str = "https://api.weixin.qq.com"
    max_body_kb: int = 64
    max_skew_seconds: int = 300
    answer_seconds: float = 4.0
    ack_text: str = ACK_TEXT
    welcome_text: str = WELCOME_TEXT
    unsupported_text: str = UNSUPPORTED_TEXT
    # The secrets themselves, read from the environment; kept out of repr so a logged config shows none.
    token: str = field(default="", repr=False)
    aes_key: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)

    @property
    def encrypted(self) -> bool:
        return self.mode != "plain"


def parse_wechat(raw: dict[str, Any], environ: Mapping[str, str] | None = None) -> WechatSettings:
    """Check the `[callcenter.wechat]` table and read its secrets from `environ` (the process environment)."""
    environ = os.environ if environ is None else environ
    for key in SECRET_KEYS:
        if key in raw:
            raise ConfigError(
                f"[callcenter.wechat] {key}: secrets do not belong in config.toml; "
                f"put it in an environment variable and name that variable in {_env_key(key)}"
            )
    if type(raw.get("answer_seconds")) is int:  # 4 as well as 4.0
        raw = {**raw, "answer_seconds": float(raw["answer_seconds"])}
    values = _settings(raw, WECHAT_SETTINGS, "[callcenter.wechat]")
    if values["mode"] not in MODES:
        raise ConfigError(f"[callcenter.wechat] mode must be one of {', '.join(MODES)}, got {values['mode']!r}")
    if not values["base_url"].startswith(("http://", "https://")):
        raise ConfigError("[callcenter.wechat] base_url must be an http(s) address")
    values["base_url"] = values["base_url"].rstrip("/")
    if not 1 <= values["max_body_kb"] <= 1024:
        raise ConfigError("[callcenter.wechat] max_body_kb must be between 1 and 1024")
    if values["max_skew_seconds"] < 0:
        raise ConfigError("[callcenter.wechat] max_skew_seconds must not be negative (0 turns the check off)")
    if not 0.5 <= values["answer_seconds"] <= 4.5:
        raise ConfigError("[callcenter.wechat] answer_seconds must be between 0.5 and 4.5 (WeChat waits 5 s)")
    if "{number}" not in values["ack_text"]:
        raise ConfigError("[callcenter.wechat] ack_text must contain {number}, the case number")
    settings = WechatSettings(**values)
    if not settings.enabled:
        return settings
    if not settings.app_id.startswith("wx"):
        raise ConfigError("[callcenter.wechat] app_id is required when enabled: the account's AppID, wx…")
    token = _secret(environ, settings.token_env, "token_env")
    if not (3 <= len(token) <= 32 and token.isalnum()):
        raise ConfigError(f"${settings.token_env}: WeChat's Token is 3 to 32 letters and digits")
    aes = ""
    if settings.encrypted:
        aes = _secret(environ, settings.aes_key_env, "aes_key_env")
        try:
            aes_key(aes)
        except CryptoError as e:
            raise ConfigError(f"${settings.aes_key_env}: {e} (copy it from the account's server settings)") from None
    secret = _secret(environ, settings.secret_env, "secret_env")
    return WechatSettings(**{**values, "token": token, "aes_key": aes, "secret": secret})


def _secret(environ: Mapping[str, str], name: str, key: str) -> str:
    value = environ.get(name, "").strip() if name else ""
    if not value:
        raise ConfigError(
            f"[callcenter.wechat] is enabled but the environment variable {name or '(none)'} named by {key} is empty"
        )
    return value


def _env_key(key: str) -> str:
    return {"token": "token_env", "secret": "secret_env", "app_secret": "secret_env"}.get(key, "aes_key_env")
