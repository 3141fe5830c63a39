"""The hall described by config.toml, and clear errors for impossible halls."""

import tomllib
from pathlib import Path

import pytest

from hall import config as config_mod
from hall.config import ConfigError

from .conftest import ROOT


def demo_raw() -> dict:
    return tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))


def test_demo_hall_follows_seed_000():
    hall = config_mod.load(ROOT / "config.toml")
    assert hall.timezone == "Asia/Shanghai" and hall.demo
    assert [s.name for s in hall.sections] == [
        "无差别全科受理",
        "不动产登记",
        "社保医保",
        "税务",
        "公安(户籍出入境)",
        "商事登记",
        "公积金",
    ]
    assert [s.id for s in hall.sections] == list("ABCDEFG")
    assert 18 <= len(hall.windows) <= 24
    comprehensive = [w for w in hall.windows if w.comprehensive]
    assert comprehensive and all(w.sections == tuple("ABCDEFG") for w in comprehensive)
    for section in hall.sections:
        assert hall.serving(section.id), f"nobody serves {section.name}"
        assert 0 < section.warn_at <= section.daily_cap
    assert hall.window(4).weight("A") == 2.0 and hall.window(4).weight("C") == 1.0


def test_every_setting_has_a_default_and_help():
    for group in (
        config_mod.QUEUE_SETTINGS,
        config_mod.PRIORITY_SETTINGS,
        config_mod.AUTH_SETTINGS,
        config_mod.SERVER_SETTINGS,
        config_mod.KIOSK_SETTINGS,
        config_mod.NOTIFY_SETTINGS,
    ):
        for setting in group:
            assert setting.help and setting.default is not None


def test_minimal_config_takes_defaults():
    hall = config_mod.parse(
        {
            "hall": {"name": "小厅"},
            "sections": [{"id": "A", "name": "综合", "daily_cap": 100, "hours": ["09:00-17:00"]}],
            "windows": [{"no": 1, "sections": ["*"]}],
        }
    )
    assert hall.timezone == "Asia/Shanghai"
    assert hall.queue.recall_limit == 3 and hall.queue.priority.elderly_age == 60
    assert hall.sections[0].warn_at == 90 and hall.sections[0].days == "workdays"
    assert hall.windows[0].name == "1号窗口" and hall.windows[0].comprehensive


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["hall"].pop("name"), "hall.name is required"),
        (lambda r: r["hall"].update(timezone="Mars/Olympus"), "unknown time zone"),
        (lambda r: r["sections"][1].update(id="A"), "duplicate section id"),
        (lambda r: r["sections"][0].update(id="AA"), "one capital letter"),
        (lambda r: r["sections"][0].update(hours=["8:30-12:00"]), "not a period"),
        (lambda r: r["sections"][0].update(hours=["12:00-08:30"]), "not a valid period"),
        (lambda r: r["sections"][0].update(daily_cap=0), "daily_cap must be at least 1"),
        (lambda r: r["sections"][0].update(warn_at=10_000), "warn_at must be between"),
        (lambda r: r["sections"][0].update(days="sometimes"), "days must be one of"),
        (lambda r: r["windows"][0].update(sections=["Q"]), "unknown section 'Q'"),
        (lambda r: r["windows"][1].update(no=1), "duplicate window number"),
        (lambda r: r["windows"][5].update(weights={"A": 2}), "does not serve section 'A'"),
        (lambda r: r["queue"].update(recall_limt=3), "unknown setting 'recall_limt'"),
        (lambda r: r["queue"].update(recall_limit="3"), "recall_limit must be int"),
        (lambda r: r["queue"]["priority"].update(lanes=["vip"]), "unknown lane 'vip'"),
        (lambda r: r.update(auth={"scrypt_n": 1000}), "power of two"),
        (lambda r: r["hall"].update(closed_dates=["someday"]), "not a date"),
    ],
)
def test_impossible_halls_are_refused_with_the_place_named(change, message):
    raw = demo_raw()
    change(raw)
    with pytest.raises(ConfigError, match=message):
        config_mod.parse(raw)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        config_mod.load(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[hall\nname=", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config_mod.load(broken)


def test_relative_database_path_is_next_to_the_config(tmp_path):
    path = tmp_path / "hall.toml"
    path.write_text((ROOT / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert config_mod.load(path).db_path() == tmp_path / "var" / "hall.db"


def test_announcements_are_kept_beside_the_database_unless_told_otherwise(tmp_path):
    """Production puts the config in /etc (read-only to the service) and the database in /var/lib:
    the spoken calls' cache goes with the database, the one place the service may write."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    path = tmp_path / "etc" / "hall.toml"
    path.parent.mkdir()
    path.write_text(text.replace('db = "var/hall.db"', 'db = "/var/lib/hall/hall.db"'), encoding="utf-8")
    assert config_mod.load(path).voice_cache_dir() == Path("/var/lib/hall/announcements")
    path.write_text(text.replace("[voice]\n", '[voice]\ncache_dir = "cache/wav"\n'), encoding="utf-8")
    assert config_mod.load(path).voice_cache_dir() == tmp_path / "etc" / "cache" / "wav"
    demo = config_mod.load(ROOT / "config.toml")
    assert demo.voice_cache_dir() == ROOT / "var" / "announcements"  # the demo's, as before


def test_a_database_given_on_the_command_line_takes_the_announcements_along(tmp_path):
    demo = config_mod.load(ROOT / "config.toml")
    assert demo.voice_cache_dir(tmp_path / "hall.db") == tmp_path / "announcements"
