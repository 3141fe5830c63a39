"""Outside demo mode the server refuses demo, weak or committed secrets; the config file holds none."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from hall import config as config_mod
from hall.auth.startup import config_secrets, unsafe_secrets
from hall.cli import main

from ..conftest import ROOT, TEST_CONFIG

STRONG = "Vq7-kT2p-Hx9w-Lm4z"


@pytest.fixture
def real(config):
    return dataclasses.replace(config, demo=False)


def test_a_real_hall_with_strong_secrets_starts(real):
    env = {"HALL_AMI_SECRET": STRONG, "HALL_WECHAT_SECRET": STRONG, "HALL_ADMIN_PASSWORD": STRONG}
    assert unsafe_secrets(real, env) == []


@pytest.mark.parametrize(
    "name", ["HALL_AMI_SECRET", "HALL_WECHAT_TOKEN", "HALL_WECHAT_AES_KEY", "HALL_WECHAT_SECRET", "HALL_SMTP_PASSWORD"]
)
def test_a_demo_secret_stops_a_real_hall_but_not_the_demo(real, name):
    env = {name: "hallToken2026" if "TOKEN" in name else "change-me-please"}
    problems = unsafe_secrets(real, env)
    assert len(problems) == 1 and name in problems[0]
    assert unsafe_secrets(dataclasses.replace(real, demo=True), env) == []


@pytest.mark.parametrize("password", ["admin", "change-me-please", "short-9", "correct-horse-9"])
def test_a_weak_or_published_admin_password_stops_a_real_hall(real, password):
    assert "HALL_ADMIN_PASSWORD" in unsafe_secrets(real, {"HALL_ADMIN_PASSWORD": password})[0]


def test_secret_looking_values_in_the_config_file_are_found():
    raw = {
        "notify": {"url": "https://hall:s3cret@sms.example.cn/send", "key": "abc"},
        "ops": {"scrape_token": "xyz", "scrape_token_env": "HALL_METRICS_TOKEN"},
        "hall": {"name": "大厅"},
    }
    assert sorted(config_secrets(raw)) == ["notify.key", "notify.url (a password in the address)", "ops.scrape_token"]
    for committed in (ROOT / "config.toml", TEST_CONFIG):
        assert list(config_secrets(tomllib.loads(Path(committed).read_text(encoding="utf-8")))) == []


@pytest.mark.parametrize(
    ("channel", "key"),
    [
        ("ami", "secret"),
        ("ami", "password"),
        ("wechat", "token"),
        ("wechat", "aes_key"),
        ("wechat", "secret"),
        ("wechat", "app_secret"),
        ("mail", "imap_password"),
        ("mail", "smtp_password"),
    ],
)
def test_each_channel_refuses_its_secret_in_the_config_file(channel, key):
    raw = tomllib.loads(TEST_CONFIG.read_text(encoding="utf-8"))
    raw["callcenter"] = {channel: {key: "in-the-file-9"}}
    with pytest.raises(config_mod.ConfigError, match="environment|环境变量|config"):
        config_mod.parse(raw)


def test_serve_refuses_to_start_a_real_hall_with_a_demo_admin_password(tmp_path, monkeypatch, capsys):
    text = TEST_CONFIG.read_text(encoding="utf-8").replace("[hall]\n", "[hall]\ndemo = false\n", 1)
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("HALL_ADMIN_PASSWORD", "change-me-please")
    assert main(["serve", "--config", str(path), "--db", str(tmp_path / "hall.db"), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "unsafe_secrets" in err and "HALL_ADMIN_PASSWORD" in err
    assert not (tmp_path / "hall.db").exists()  # refused before anything was opened
