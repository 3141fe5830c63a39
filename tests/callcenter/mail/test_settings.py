"""[callcenter.mail]: defaults, checks with clear messages, passwords only from the environment."""

from __future__ import annotations

import pytest

from hall.callcenter.mail.settings import MailSettings, parse_mail
from hall.config import ConfigError

ENABLED = {
    "enabled": True,
    "imap_host": "imap.example.gov.cn",
    "imap_user": "12345",
    "smtp_host": "smtp.example.gov.cn",
    "from_address": "12345@example.gov.cn",
}


def test_defaults_and_a_full_table():
    assert parse_mail({}) == MailSettings()
    settings = parse_mail({**ENABLED, "imap_port": 143, "imap_security": "starttls", "poll_seconds": 30})
    assert (settings.enabled, settings.imap_port, settings.imap_security, settings.poll_seconds) == (
        True,
        143,
        "starttls",
        30,
    )


def test_passwords_come_from_the_environment(monkeypatch):
    settings = parse_mail({**ENABLED, "imap_password_env": "MY_IMAP_PW"})
    monkeypatch.setenv("MY_IMAP_PW", "pw-1")
    monkeypatch.setenv("HALL_SMTP_PASSWORD", "pw-2")
    assert (settings.imap_password(), settings.smtp_password()) == ("pw-1", "pw-2")


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"imap_password": "secret"}, "passwords are not kept in the config file"),
        ({"enabled": True, "imap_host": "x"}, "enabled = true needs imap_user, smtp_host, from_address"),
        ({**ENABLED, "from_address": "hall"}, "from_address must be an email address"),
        ({"imap_security": "tls"}, "imap_security must be one of ssl, starttls, none"),
        ({"imap_port": 0}, "imap_port must be a port number"),
        ({"poll_seconds": 0}, "poll_seconds must be a positive whole number"),
        ({"poll_seconds": "60"}, "poll_seconds must be int"),
        ({"case_number_pattern": "[工单"}, "case_number_pattern is not a valid regex"),
        ({"case_number_pattern": r"\d+"}, "needs a group around the number"),
        ({"case_tag": "工单"}, "case_tag must contain {number}"),
        ({"case_tag": "<{number}>"}, "does not find the number in case_tag"),
        ({"imap_password_env": "not a name"}, "names an environment variable"),
        ({"imap_hostname": "x"}, "unknown setting 'imap_hostname'"),
    ],
)
def test_clear_errors(raw, message):
    with pytest.raises(ConfigError, match="callcenter.mail") as e:
        parse_mail(raw)
    assert message in str(e.value)
