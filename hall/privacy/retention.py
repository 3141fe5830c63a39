"""Retention: personal data older than `[privacy] retention_days` is anonymised.

What goes, and what stays so that every statistic is unchanged:
- tickets: phone and ID number cleared (number, times, window, staff, outcome kept);
- appointments: name, phone and ID number replaced by markers (slot, status, times kept);
- ratings: the rater's name, phone and ID number cleared (grade, tags, comment and the
  service it rates kept; `real_name` counts already rolled up in rating_days stay);
- cases closed before the cut: contact name, phone, WeChat openid and email cleared; the
  messages' text kept (it is the record of the case) with phones, ID numbers and email
  addresses in it replaced by 【已匿名】;
- outbox messages already sent or given up: recipient masked, body cleared.

Each table is done in batches (one short write transaction each, so the hall keeps working),
and one `privacy.anonymised` event records the counts, never the data. The audit logs of
reads (rater_reads, contact_reads) name records, not people, and are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from ..clock import local
from ..keys import CLOCK, CONFIG, DB
from ..personal import mask_phone
from ..storage.writer import Tx

log = logging.getLogger(__name__)

BATCH = 500
MARKER = "已匿名"
SCRUBBED = "【已匿名】"
SWEEP_SECONDS = 3600  # looks every hour; does the work once a day
PERSONAL_TEXT = re.compile(
    r"(?<![\dA-Za-z])(?:\d{17}[\dXx]|(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8})(?![\dA-Za-z])"
    r"|[^@\s<>\"']{1,64}@[^@\s<>\"']{1,190}\.[A-Za-z]{2,20}"
)
TABLES = ("tickets", "appointments", "ratings", "cases", "case_messages", "outbox")


def scrub(text: str | None) -> str | None:
    """Free text with phones, ID numbers and email addresses replaced by a marker."""
    return None if text is None else PERSONAL_TEXT.sub(SCRUBBED, text)


def cutoff(before: dt.date, tz: Any) -> tuple[str, float]:
    """The first day kept, as the `day` columns write it and as a timestamp (local midnight)."""
    return before.isoformat(), dt.datetime.combine(before, dt.time(), tzinfo=tz).timestamp()


def _ids(tx: Tx, table: str, where: str, params: tuple) -> list[int]:
    # table and where come from this module's code; every value is a parameter
    return [r[0] for r in tx.all(f"SELECT id FROM {table} WHERE {where} ORDER BY id LIMIT {BATCH}", params)]


def _marks(ids: list[int]) -> str:
    return ", ".join("?" for _ in ids)


def tickets_batch(tx: Tx, day: str, ts: float) -> dict[str, int]:
    ids = _ids(tx, "tickets", "day < ? AND (phone IS NOT NULL OR id_number IS NOT NULL)", (day,))
    if ids:
        tx.execute(f"UPDATE tickets SET phone = NULL, id_number = NULL WHERE id IN ({_marks(ids)})", tuple(ids))
    return {"tickets": len(ids)}


def appointments_batch(tx: Tx, day: str, ts: float) -> dict[str, int]:
    ids = _ids(tx, "appointments", "day < ? AND name <> ?", (day, MARKER))
    if ids:
        tx.execute(
            f"UPDATE appointments SET name = ?, phone = '', id_number = ? || id WHERE id IN ({_marks(ids)})",
            (MARKER, MARKER + ":", *ids),
        )
    return {"appointments": len(ids)}


def ratings_batch(tx: Tx, day: str, ts: float) -> dict[str, int]:
    where = "day < ? AND (rater_name IS NOT NULL OR rater_phone IS NOT NULL OR rater_id_number IS NOT NULL)"
    ids = _ids(tx, "ratings", where, (day,))
    if ids:
        tx.execute(
            f"UPDATE ratings SET rater_name = NULL, rater_phone = NULL, rater_id_number = NULL "
            f"WHERE id IN ({_marks(ids)})",
            tuple(ids),
        )
    return {"ratings": len(ids)}


def cases_batch(tx: Tx, day: str, ts: float) -> dict[str, int]:
    where = (
        "status = 'closed' AND closed_at < ? AND (contact_name IS NOT NULL OR contact_phone IS NOT NULL "
        "OR contact_wechat IS NOT NULL OR contact_email IS NOT NULL)"
    )
    ids = _ids(tx, "cases", where, (ts,))
    messages = 0
    if ids:
        tx.execute(
            "UPDATE cases SET contact_name = NULL, contact_phone = NULL, contact_wechat = NULL, "
            f"contact_email = NULL WHERE id IN ({_marks(ids)})",
            tuple(ids),
        )
        rows = tx.all(f"SELECT id, body, subject FROM case_messages WHERE case_id IN ({_marks(ids)})", tuple(ids))
        for row in rows:
            body, subject = scrub(row["body"]), scrub(row["subject"])
            if (body, subject) != (row["body"], row["subject"]):
                tx.execute("UPDATE case_messages SET body = ?, subject = ? WHERE id = ?", (body, subject, row["id"]))
                messages += 1
    return {"cases": len(ids), "case_messages": messages}


def _mask_recipient(channel: str, recipient: str) -> str:
    if channel == "sms" and len(recipient) >= 7:
        return mask_phone(recipient) or ""
    return recipient[:1] + "***"


def outbox_batch(tx: Tx, day: str, ts: float) -> dict[str, int]:
    rows = tx.all(
        f"SELECT id, channel, recipient FROM outbox WHERE created_at < ? AND status <> 'pending' AND body <> '{{}}' "
        f"ORDER BY id LIMIT {BATCH}",
        (ts,),
    )
    for row in rows:
        tx.execute(
            "UPDATE outbox SET recipient = ?, body = '{}' WHERE id = ?",
            (_mask_recipient(row["channel"], row["recipient"]), row["id"]),
        )
    return {"outbox": len(rows)}


BATCHES = (tickets_batch, appointments_batch, ratings_batch, cases_batch, outbox_batch)


def record(tx: Tx, before: str, counts: dict[str, int]) -> None:
    tx.emit("privacy.anonymised", {"before": before, **counts})


async def anonymise(db: Any, before: dt.date, tz: Any) -> dict[str, int]:
    """Anonymise everything older than `before` (a local date), batch by batch; the counts."""
    day, ts = cutoff(before, tz)
    counts = dict.fromkeys(TABLES, 0)
    for batch in BATCHES:
        while True:
            done = await db.write(batch, day, ts)
            for key, n in done.items():
                counts[key] += n
            if next(iter(done.values())) < BATCH:  # the batch's own table is done
                break
    if any(counts.values()):
        await db.write(record, day, counts)
    return counts


def retention_cutoff(app: web.Application) -> dt.date | None:
    days = app[CONFIG].privacy.retention_days
    if days <= 0:
        return None  # 0: keep everything
    return local(app[CLOCK].now(), app[CONFIG].tz).date() - dt.timedelta(days=days)


async def sweep(app: web.Application) -> dict[str, int] | None:
    """Anonymise what the retention setting says is too old today (None when it keeps all)."""
    before = retention_cutoff(app)
    if before is None:
        return None
    counts = await anonymise(app[DB], before, app[CONFIG].tz)
    if any(counts.values()):
        log.info("anonymised personal data before %s: %s", before, counts)
    return counts


async def retention_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx entry (after the database's): once at start-up, then once a day."""
    task = asyncio.create_task(_daily(app), name="privacy-retention")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _daily(app: web.Application) -> None:
    done_for = None
    while True:
        try:
            before = retention_cutoff(app)
            if before is not None and before != done_for:
                await sweep(app)
                done_for = before
        except Exception:  # a full disk must not end the sweeping for good
            log.exception("personal data retention sweep failed; trying again in %d s", SWEEP_SECONDS)
        await asyncio.sleep(SWEEP_SECONDS)
