"""`[callcenter.mail]` in config.toml: the hall's complaint mailbox (IMAP in, SMTP out).

Passwords are never in the config file: it names the environment variable
that holds each one (`imap_password_env = "HALL_IMAP_PASSWORD"`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from ...config import ConfigError, Setting, _settings

DEFAULT_CASE_NUMBER = r"[\[【]\s*工单\s*(?:号|编号)?\s*[::#]?\s*(\d{8,20})\s*[\]】]"
DEFAULT_ALLOWED_TYPES = [
    "image/*",
    "audio/*",
    "video/*",
    "text/plain",
    "application/pdf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.*",
    "application/vnd.ms-works",
    "application/wps-office.*",
    "application/zip",
    "application/x-zip-compressed",
    "application/x-rar-compressed",
    "application/vnd.rar",
    "application/x-7z-compressed",
    "application/ofd",
    "message/rfc822",
]
DEFAULT_BLOCKED_EXTENSIONS = [
    "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "cpl", "dll", "js", "jse", "vbs", "vbe", "wsf", "wsh",
    "ps1", "psm1", "hta", "jar", "lnk", "reg", "sh", "apk", "iso", "html", "htm", "svg", "xhtml",
]  # fmt: skip

MAIL_SETTINGS = (
    Setting("enabled", False, "Poll the complaint mailbox and answer by email"),
    Setting("imap_host", "", "IMAP server of the hall's complaint mailbox"),
    Setting("imap_port", 993, "IMAP port (993 with imap_security = ssl, 143 otherwise)"),
    Setting("imap_security", "ssl", "IMAP connection: ssl (IMAPS), starttls, or none (loopback and tests only)"),
    Setting("imap_user", "", "IMAP login name"),
    Setting("imap_password_env", "HALL_IMAP_PASSWORD", "Environment variable holding the IMAP password"),
    Setting("imap_mailbox", "INBOX", "Mailbox (folder) polled for new mail"),
    Setting("poll_seconds", 60, "Seconds between two looks at the mailbox"),
    Setting("timeout_seconds", 30, "Seconds one IMAP or SMTP exchange may take before it counts as failed"),
    Setting("state_file", "", "Where the last imported UID is kept; empty: mail-imap.json beside the database"),
    Setting("smtp_host", "", "SMTP server replies are sent through"),
    Setting("smtp_port", 587, "SMTP port (587 with starttls, 465 with ssl, 25 with none)"),
    Setting("smtp_security", "starttls", "SMTP connection: starttls, ssl (SMTPS), or none (loopback and tests only)"),
    Setting("smtp_user", "", "SMTP login name (empty: send without logging in)"),
    Setting("smtp_password_env", "HALL_SMTP_PASSWORD", "Environment variable holding the SMTP password"),
    Setting("from_address", "", "The hall's mailbox, replies come from it (e.g. 12345@hall.example.gov.cn)"),
    Setting("from_name", "政务服务中心", "Name shown beside from_address"),
    Setting("case_number_pattern", DEFAULT_CASE_NUMBER, "Regex finding the case number in a subject (group 1)"),
    Setting("case_tag", "[工单 {number}]", "How a reply's subject names its case"),
    Setting("max_attachment_bytes", 10_000_000, "Largest attachment kept from one mail (bytes)"),
    Setting("max_message_bytes", 25_000_000, "Attachments of one mail kept up to this many bytes in all"),
    Setting("allowed_types", DEFAULT_ALLOWED_TYPES, "Attachment content types kept ('image/*' style patterns)"),
    Setting("blocked_extensions", DEFAULT_BLOCKED_EXTENSIONS, "File name endings never kept, whatever the type"),
)

SECURITY = ("ssl", "starttls", "none")


@dataclass(frozen=True)
class MailSettings:
    enabled: bool = False
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = "ssl"
    imap_user: str = ""
    imap_password_env: str = "HALL_IMAP_PASSWORD"
    imap_mailbox: str = "INBOX"
    poll_seconds: int = 60
    timeout_seconds: int = 30
    state_file: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password_env: str = "HALL_SMTP_PASSWORD"
    from_address: str = ""
    from_name: str = "政务服务中心"
    case_number_pattern: str = DEFAULT_CASE_NUMBER
    case_tag: str = "[工单 {number}]"
    max_attachment_bytes: int = 10_000_000
    max_message_bytes: int = 25_000_000
    allowed_types: tuple[str, ...] = tuple(DEFAULT_ALLOWED_TYPES)
    blocked_extensions: tuple[str, ...] = tuple(DEFAULT_BLOCKED_EXTENSIONS)

    @property
    def case_number_re(self) -> re.Pattern[str]:
        return re.compile(self.case_number_pattern)

    def imap_password(self) -> str:
        return os.environ.get(self.imap_password_env, "") if self.imap_password_env else ""

    def smtp_password(self) -> str:
        return os.environ.get(self.smtp_password_env, "") if self.smtp_password_env else ""

    def tag(self, number: str) -> str:
        return self.case_tag.format(number=number)


def parse_mail(raw: dict[str, Any]) -> MailSettings:
    where = "[callcenter.mail]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    secrets = [k for k in raw if "password" in k.lower() and not k.lower().endswith("_env")]
    if secrets:
        raise ConfigError(
            f"{where} {secrets[0]}: passwords are not kept in the config file, "
            "name the environment variable holding it (imap_password_env / smtp_password_env)"
        )
    values = _settings(raw, MAIL_SETTINGS, where)
    for name in ("imap_security", "smtp_security"):
        if values[name] not in SECURITY:
            raise ConfigError(f"{where} {name} must be one of {', '.join(SECURITY)}, got {values[name]!r}")
    for name in ("imap_port", "smtp_port"):
        if not 1 <= values[name] <= 65535:
            raise ConfigError(f"{where} {name} must be a port number (1 to 65535)")
    for name in ("poll_seconds", "timeout_seconds", "max_attachment_bytes", "max_message_bytes"):
        if values[name] < 1:
            raise ConfigError(f"{where} {name} must be a positive whole number")
    try:
        pattern = re.compile(values["case_number_pattern"])
    except re.error as e:
        raise ConfigError(f"{where} case_number_pattern is not a valid regex: {e}") from None
    if pattern.groups < 1:
        raise ConfigError(f"{where} case_number_pattern needs a group around the number, like (\\d+)")
    if "{number}" not in values["case_tag"]:
        raise ConfigError(f"{where} case_tag must contain {{number}}")
    if not pattern.search(values["case_tag"].format(number="2026112300012")):
        raise ConfigError(f"{where} case_number_pattern does not find the number in case_tag, replies would not thread")
    for name in ("allowed_types", "blocked_extensions"):
        if not all(isinstance(v, str) and v for v in values[name]):
            raise ConfigError(f"{where} {name} must be a list of non-empty strings")
    for name in ("imap_password_env", "smtp_password_env"):
        if values[name] and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", values[name]):
            raise ConfigError(f"{where} {name} names an environment variable, like HALL_IMAP_PASSWORD")
    if values["enabled"]:
        missing = [n for n in ("imap_host", "imap_user", "smtp_host", "from_address") if not values[n]]
        if missing:
            raise ConfigError(f"{where} enabled = true needs {', '.join(missing)}")
        if "@" not in values["from_address"]:
            raise ConfigError(f"{where} from_address must be an email address")
    values["allowed_types"] = tuple(v.lower() for v in values["allowed_types"])
    values["blocked_extensions"] = tuple(v.lower().lstrip(".") for v in values["blocked_extensions"])
    return MailSettings(**values)
