"""实名取号: a section that needs an ID number cannot be drained by a kiosk (one ID, one unfinished ticket)."""

from __future__ import annotations

import dataclasses

import pytest

from hall import config as config_mod

from ..conftest import TEST_CONFIG
from ..helpers import HallClient

ID_1 = "11010519491231002X"
ID_2 = "110101199003077811"


@pytest.fixture
def config(config):
    """不动产登记 (B, 5 numbers a day) issues by real name."""
    sections = tuple(dataclasses.replace(s, id_required=s.id == "B") for s in config.sections)
    return dataclasses.replace(config, sections=sections)


async def test_a_kiosk_needs_an_id_number_and_one_person_holds_one_number(hall: HallClient):
    kiosk = await hall.device("kiosk")
    status, body = await hall.post("/api/tickets", {"section": "B"}, kiosk)
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "id_required", "id_number")
    assert body["error"]["message"] == "不动产登记实行实名取号,请刷身份证或输入身份证号码"
    assert (await hall.post("/api/tickets", {"section": "B", "id_number": ID_1}, kiosk))[0] == 201
    status, body = await hall.post("/api/tickets", {"section": "B", "id_number": ID_1}, kiosk)
    assert (status, body["error"]["code"]) == (409, "already_holding_ticket")
    assert (await hall.post("/api/tickets", {"section": "B", "id_number": ID_2}, kiosk))[0] == 201
    assert (await hall.post("/api/tickets", {"section": "A"}, kiosk))[0] == 201  # other sections as before
    assert await hall.db.fetchval("SELECT COUNT(*) FROM tickets WHERE section = 'B'") == 2  # of 5


async def test_remote_requests_need_it_too_and_staff_at_reception_may_vouch(hall: HallClient):
    status, body = await hall.post("/api/tickets", {"section": "B", "channel": "web", "phone": "13800138000"})
    assert (status, body["error"]["code"]) == (400, "id_required")
    staff = await hall.user("staff")
    assert (await hall.post("/api/tickets", {"section": "B"}, staff))[0] == 201  # someone without their card


async def test_the_hall_tells_kiosks_which_sections_need_it(hall: HallClient):
    status, body = await hall.get("/api/hall", await hall.kiosk())
    assert status == 200
    assert {s["id"]: s["id_required"] for s in body["sections"]}["B"] is True
    assert {s["id"]: s["id_required"] for s in body["sections"]}["A"] is False


def test_the_setting_is_read_and_checked(tmp_path):
    text = TEST_CONFIG.read_text(encoding="utf-8")
    section_b = 'name = "不动产登记"\n'
    path = tmp_path / "hall.toml"
    path.write_text(text.replace(section_b, section_b + "id_required = true\n"), encoding="utf-8")
    loaded = config_mod.load(path)
    assert loaded.section("B").id_required and not loaded.section("A").id_required
    path.write_text(text.replace(section_b, section_b + 'id_required = "yes"\n'), encoding="utf-8")
    with pytest.raises(config_mod.ConfigError, match=r"sections\[1\]\.id_required must be bool"):
        config_mod.load(path)
