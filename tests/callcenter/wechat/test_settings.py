"""`[callcenter.wechat]`: checked settings, secrets only from the environment."""

import pytest

from hall.callcenter.wechat.settings import WechatSettings, parse_wechat
from hall.config import ConfigError

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ENV = {"HALL_WECHAT_TOKEN": "hallToken2026", "HALL_WECHAT_AES_KEY": KEY, "HALL_WECHAT_SECRET": "s3cr3t"}
ON = {"enabled": True, "app_id": "wx0123456789abcdef"}


def test_disabled_by_default_and_needs_no_secrets():
    settings = parse_wechat({}, environ={})
    assert settings == WechatSettings() and not settings.enabled


def test_enabled_reads_its_secrets_from_the_environment():
    s = parse_wechat({**ON, "base_url": "http://127.0.0.1:9000/"}, environ=ENV)
    assert (s.token, s.aes_key, s.secret) == ("hallToken2026", KEY, "s3cr3t")
    assert s.mode == "safe" and s.encrypted and s.base_url == "http://127.0.0.1:9000"
    assert "hallToken2026" not in repr(s) and "s3cr3t" not in repr(s) and KEY not in repr(s)


def test_the_config_names_the_variables():
    env = {"MY_TOKEN": "tok123", "MY_SECRET": "x"}
    s = parse_wechat({**ON, "mode": "plain", "token_env": "MY_TOKEN", "secret_env": "MY_SECRET"}, environ=env)
    assert (s.token, s.secret, s.aes_key, s.encrypted) == ("tok123", "x", "", False)


@pytest.mark.parametrize("key", ["token", "secret", "app_secret", "aes_key", "encoding_aes_key"])
def test_a_secret_written_into_the_config_is_refused(key):
    with pytest.raises(ConfigError, match="environment variable"):
        parse_wechat({**ON, key: "oops"}, environ=ENV)


@pytest.mark.parametrize(
    "raw, env, message",
    [
        ({**ON, "mode": "secure"}, ENV, "mode must be one of plain, compatible, safe"),
        ({**ON, "app_id": ""}, ENV, "app_id"),
        ({**ON, "app_id": "0123"}, ENV, "app_id is required"),
        (ON, {**ENV, "HALL_WECHAT_TOKEN": ""}, "HALL_WECHAT_TOKEN named by token_env is empty"),
        (ON, {**ENV, "HALL_WECHAT_TOKEN": "a b"}, "3 to 32 letters and digits"),
        (ON, {**ENV, "HALL_WECHAT_AES_KEY": KEY[:-1]}, "43 characters"),
        (ON, {k: v for k, v in ENV.items() if k != "HALL_WECHAT_SECRET"}, "HALL_WECHAT_SECRET"),
        ({**ON, "base_url": "api.weixin.qq.com"}, ENV, "base_url must be an http"),
        ({**ON, "answer_seconds": 6}, ENV, "answer_seconds must be between"),
        ({**ON, "ack_text": "收到"}, ENV, "must contain {number}"),
        ({**ON, "max_body_kb": "64"}, ENV, "max_body_kb must be int"),
        ({**ON, "colour": "green"}, ENV, "unknown setting 'colour'"),
    ],
)
def test_clear_errors(raw, env, message):
    with pytest.raises(ConfigError) as e:
        parse_wechat(raw, environ=env)
    assert message in str(e.value)


def test_plain_mode_needs_no_aes_key_and_whole_seconds_are_fine():
    env = {k: v for k, v in ENV.items() if k != "HALL_WECHAT_AES_KEY"}
    s = parse_wechat({**ON, "mode": "plain", "answer_seconds": 3}, environ=env)
    assert s.answer_seconds == 3.0 and s.aes_key == ""
    with pytest.raises(ConfigError, match="HALL_WECHAT_AES_KEY"):
        parse_wechat({**ON, "mode": "compatible"}, environ=env)
