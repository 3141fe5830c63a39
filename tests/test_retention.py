"""Retention (issue 7, item 2): personal data older than `[privacy] retention_days` is anonymised.

The scripted day of tests/test_masking.py (a ticket with phone and ID number, a booking, a
rating with a named rater, a complaint with name, phone and email, an SMS reply) is followed by
a year and a day on the FakeClock; the sweep must leave none of those values anywhere in the
database, keep every statistic as it was, record one event with counts only, and leave
today's data alone.
"""

from __future__ import annotations

import dataclasses

import pytest

from hall import cli
from hall.config import PrivacySettings
from hall.privacy import retention
from hall.server import create_app

from .conftest import TEST_CONFIG
from .helpers import HallClient
from .queue.appointment_helpers import MONDAY
from .test_injection import stored_anywhere
from .test_masking import CONTACT, SECRETS, scripted_day

STATS = [
    f"/api/stats?from={MONDAY}&to={MONDAY}&by=section",
    f"/api/stats?from={MONDAY}&to={MONDAY}&by=window",
    f"/api/stats?from={MONDAY}&to={MONDAY}&by=staff",
    f"/api/ratings/stats?from={MONDAY}&to={MONDAY}&by=window",
    f"/api/ratings/stats?from={MONDAY}&to={MONDAY}&by=staff",
    f"/api/ratings/stats?from={MONDAY}&to={MONDAY}&by=channel",
    "/api/ratings?on=rating",
]


async def statistics(hall: HallClient) -> list:
    viewer = await hall.viewer()
    answers = []
    for url in STATS:
        status, body = await hall.get(url, viewer)
        assert status == 200, (url, body)
        if url.startswith("/api/ratings?"):
            body = [(r["id"], r["grade"], r.get("tags"), r.get("comment")) for r in body["ratings"]]
        else:
            body.pop("generated_at", None)
        answers.append(body)
    return answers


async def a_closed_case_and_a_sent_sms(hall: HallClient, day: dict) -> None:
    case_id, agent = day["case"]["id"], day["people"]["agent"]
    status, body = await hall.post(f"/api/cases/{case_id}/messages", {"text": f"请回电 {CONTACT['phone']}"}, agent)
    assert status in (200, 201), body
    status, body = await hall.post(f"/api/cases/{case_id}/close", {"note": "已答复"}, agent)
    if status != 200:  # the workflow may want more steps; the retention only cares that it is closed
        await hall.db.write(lambda tx: tx.execute("UPDATE cases SET status = 'closed', closed_at = ?", (tx.now,)))
    await hall.db.write(lambda tx: tx.execute("UPDATE outbox SET status = 'sent', sent_at = ?", (tx.now,)))


async def test_a_year_later_personal_data_is_gone_and_statistics_are_not(hall: HallClient):
    day = await scripted_day(hall)
    await a_closed_case_and_a_sent_sms(hall, day)
    assert all([await stored_anywhere(hall, s) for s in SECRETS])
    last_event = await hall.db.fetchval("SELECT MAX(id) FROM events")

    assert await retention.sweep(hall.app) == dict.fromkeys(retention.TABLES, 0)  # nothing is a year old yet
    hall.clock.advance(366 * 86400)
    today = await hall.issue("A", phone="13300001111")  # today's: kept
    before = await statistics(hall)  # (taken now: a window left open keeps adding on-duty time)

    counts = await retention.sweep(hall.app)
    assert counts["tickets"] >= 2 and counts["appointments"] == 1 and counts["ratings"] == 1
    assert counts["cases"] >= 1 and counts["case_messages"] >= 1 and counts["outbox"] >= 1
    assert [s for s in SECRETS if await stored_anywhere(hall, s)] == []
    assert await hall.db.fetchval("SELECT phone FROM tickets WHERE id = ?", (today["id"],)) == "13300001111"
    after = await statistics(hall)
    for url, a, b in zip(STATS, after, before, strict=True):
        assert a == b, url
    bodies = [r[0] for r in await hall.db.fetchall("SELECT body FROM case_messages")]
    assert any("请回电 【已匿名】" in b for b in bodies)  # the text stays, the phone in it does not

    events = await hall.db.fetchall("SELECT type, payload FROM events WHERE id > ?", (last_event,))
    anonymised = [payload for type_, payload in events if type_ == "privacy.anonymised"]
    assert len(anonymised) == 1 and '"tickets":' in anonymised[0]
    assert not any(s in anonymised[0] for s in SECRETS)

    assert await retention.sweep(hall.app) == dict.fromkeys(retention.TABLES, 0)  # done once, not again
    assert await hall.db.fetchval("SELECT COUNT(*) FROM events WHERE type = 'privacy.anonymised'") == 1


async def test_batches_cover_more_rows_than_one_batch(hall: HallClient, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    kiosk = await hall.kiosk()
    for n in range(5):
        await hall.issue("A", headers=kiosk, phone=f"1370000000{n}")
    hall.clock.advance(366 * 86400)
    assert (await retention.sweep(hall.app))["tickets"] == 5
    assert await hall.db.fetchval("SELECT COUNT(*) FROM tickets WHERE phone IS NOT NULL") == 0


async def test_retention_zero_keeps_everything(aiohttp_client, config, clock, db_path):
    config = dataclasses.replace(config, privacy=PrivacySettings(retention_days=0))
    client = await aiohttp_client(create_app(config, clock=clock, db_path=db_path))
    assert await retention.sweep(client.app) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话 13800138000,谢谢", "电话 【已匿名】,谢谢"),
        ("+86 138-0013-8000", "【已匿名】"),
        ("身份证 33080219900307001X 号", "身份证 【已匿名】 号"),
        ("mail me: a.b@example.com", "mail me: 【已匿名】"),
        ("工单 20261123000012 号,窗口 3", "工单 20261123000012 号,窗口 3"),  # a case number is not a phone
    ],
)
def test_scrub(text, expected):
    assert retention.scrub(text) == expected


def test_the_cli_anonymises_before_a_date(tmp_path, capsys):
    db = tmp_path / "hall.db"
    assert (
        cli.main(["privacy", "anonymise", "--before", "2030-01-01", "--config", str(TEST_CONFIG), "--db", str(db)]) == 0
    )
    assert "anonymised before 2030-01-01: tickets 0" in capsys.readouterr().out
