"""Ten million ratings for bench/ratings.py, generated with SQL straight into a migrated database.

Two years of working days before `today` in the demo hall's 20 windows and 7
sections, about 50 matters, 60 staff in shifts (three per window, two shifts
a day), six channels, grades skewed to good with a quality of service that
differs per staff member, real-name and anonymous raters. Every bad review has
its case as the stage-by-stage writer units (`cases.py`) leave it, with the
columns of schema migration 2 and its history in `bad_review_steps`: cases
older than 30 days mostly closed after a return visit (satisfied, anonymous,
unreached, or a second round after an unsatisfied visit), the rest overdue
and flagged; younger ones as far as their steps' time has come; verifications
of 不属实 / 误评 skip the rectification; 2 % found mistaken have their rating
voided. A third of the closed real-name ones get a 追评. Then `rating_days` is
built from the rows with INSERT … SELECT … GROUP BY, exactly as the writer
units would have added it up one rating at a time.

Rows are made in SQLite from a counter (a recursive CTE), with deterministic
quadratic hashes of the counter in place of random numbers, so a run is
reproducible and no Python code runs per row. The evaluation indexes are
dropped during the load and created again afterwards (a sort each instead of
ten million random inserts). No ANALYZE: the server never runs it, so the
queries are timed with the plans a real hall gets.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from hall.calendar import is_working_day
from hall.config import Config
from hall.evaluation.schema import SCHEMA
from hall.evaluation.settings import DEFAULT_TAGS
from hall.storage.migrations import _statements

# Matters (事项) per section; a comprehensive window (*) takes all of them.
MATTERS = {
    "A": ("综合咨询", "证明材料打印", "出生一件事", "企业开办一件事", "退休一件事"),
    "B": ("不动产首次登记", "不动产转移登记", "不动产抵押登记", "不动产变更登记", "不动产注销登记",
          "不动产登记资料查询", "预告登记"),
    "C": ("社会保障卡申领", "城乡居民养老保险参保登记", "职工医保参保登记", "医保关系转移接续", "生育津贴申领",
          "失业保险金申领", "退休待遇核定"),
    "D": ("发票领用", "税务登记信息变更", "个人所得税汇算清缴", "增值税申报", "房产交易契税申报", "开具完税证明",
          "注销税务登记"),
    "E": ("居民身份证换领", "居民身份证挂失补领", "户口迁移", "出生登记", "居住证办理", "无犯罪记录证明",
          "出入境证件申请"),
    "F": ("企业设立登记", "企业变更登记", "企业注销登记", "个体工商户设立", "食品经营许可", "营业执照补领",
          "股权出质登记"),
    "G": ("公积金提取", "公积金贷款申请", "公积金缴存登记", "公积金账户转移", "公积金贷款提前还款", "缴存证明打印",
          "异地贷款缴存证明"),
}  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英")
STAFF_PER_WINDOW = 3
SUPERVISOR_NAME = "督查员"
ACTIVE_PER_MILLE = 835  # services rated by the citizen
DEFAULT_PER_MILLE = 60  # services given the default grade (the hall once had unrated = "default")
# Draws are quadratic hashes of a row number modulo the prime 2^31 − 1, (x·A + C)(x·B + D) mod P, each
# draw with constants of its own. (A plain multiplicative hash correlates between draws: bad grades all
# came out anonymous.) Products stay below 2^62, inside SQLite's integers.
PRIME = 2147483647
DRAWS = tuple(tuple(random.Random(2026 + n).randrange(1, PRIME) for _ in range(4)) for n in range(24))


def h(column: str, n: int) -> str:
    """SQL for a pseudo-random integer 0 … 2^31 − 2 drawn from the integer `column` (draw number n)."""
    a, b, c, d = DRAWS[n]
    return f"(((({column}) * {a} + {c}) % {PRIME}) * ((({column}) * {b} + {d}) % {PRIME}) % {PRIME})"


@dataclass(frozen=True)
class Generated:
    services: int
    ratings: int
    first_ratings: int
    default_ratings: int
    follow_ups: int
    voided: int
    bad_reviews: int
    rating_days_rows: int
    first_day: str
    last_day: str
    working_days: int
    seconds: dict[str, float]


def working_days(today: dt.date, config: Config, years: int = 2) -> list[dt.date]:
    first = today - dt.timedelta(days=365 * years)
    days = (first + dt.timedelta(days=i) for i in range((today - first).days))
    return [d for d in days if is_working_day(d, config)]


@dataclass(frozen=True)
class Account:
    """A user the generated rows name: three staff per window and the supervisor who works the cases."""

    id: int
    username: str
    name: str
    staff_no: str
    role: str


SUPERVISOR_ID = 1


def accounts(config: Config) -> list[Account]:
    """The generated rows' users, with fixed ids: the cached database holds only the evaluation tables, and
    `add_accounts` writes these into each copy's fresh `users` table."""
    out = [Account(SUPERVISOR_ID, "bench-supervisor", SUPERVISOR_NAME, "0000", "manager")]
    for i in range(len(config.windows) * STAFF_PER_WINDOW):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)]
        out.append(Account(SUPERVISOR_ID + 1 + i, f"bench-staff-{i + 1:04d}", name, f"{i + 1:04d}", "staff"))
    return out


def add_accounts(conn: sqlite3.Connection, config: Config, now: float) -> None:
    """The generated rows' users in a migrated database (none can log in: their hash matches nothing)."""
    conn.executemany(
        "INSERT INTO users (id, username, display_name, staff_no, role, department, password_hash, created_at) "
        "VALUES (?, ?, ?, ?, ?, '', '!', ?)",
        [(a.id, a.username, a.name, a.staff_no, a.role, now) for a in accounts(config)],
    )
    conn.commit()


def _dimensions(conn: sqlite3.Connection, config: Config, days: list[dt.date], staff: list[tuple[int, str, str]]):
    tz = config.tz
    for statement in (
        """
        CREATE TEMP TABLE g_days (d INTEGER PRIMARY KEY, day TEXT NOT NULL, base REAL NOT NULL);
        CREATE TEMP TABLE g_slots (slot INTEGER PRIMARY KEY, window_no INTEGER NOT NULL);
        CREATE TEMP TABLE g_windows (window_no INTEGER PRIMARY KEY, window_name TEXT, department TEXT, matters INT);
        CREATE TEMP TABLE g_matters (window_no INTEGER, k INTEGER, section TEXT, matter TEXT,
                                     PRIMARY KEY (window_no, k));
        CREATE TEMP TABLE g_roster (window_no INTEGER, rot INTEGER, staff_user_id INTEGER, staff_no TEXT,
                                    staff_name TEXT, quality INTEGER, PRIMARY KEY (window_no, rot))
        """
    ).split(";"):
        conn.execute(statement)  # not executescript: it would commit the load's transaction
    conn.executemany(
        "INSERT INTO g_days VALUES (?, ?, ?)",
        [
            (i, d.isoformat(), dt.datetime.combine(d, dt.time(8, 30), tz).timestamp())
            for i, d in enumerate(days)  # the day's services from 08:30
        ],
    )
    # Comprehensive windows are the busiest: weight 8, the others 4 (a window serving two sections 5).
    slots: list[int] = []
    for w in config.windows:
        weight = 8 if w.comprehensive else 4 + (len(w.sections) > 1)
        slots += [w.no] * weight
        sections = list(w.sections)  # every section for a comprehensive window
        matters = [(s, m) for s in sections for m in MATTERS.get(s, ("综合咨询",))]
        conn.executemany(
            "INSERT INTO g_matters VALUES (?, ?, ?, ?)", [(w.no, k, s, m) for k, (s, m) in enumerate(matters)]
        )
        conn.execute("INSERT INTO g_windows VALUES (?, ?, ?, ?)", (w.no, w.name, w.department or "", len(matters)))
    conn.executemany("INSERT INTO g_slots VALUES (?, ?)", list(enumerate(slots)))
    for i, w in enumerate(config.windows):
        for rot in range(STAFF_PER_WINDOW):
            user_id, staff_no, name = staff[i * STAFF_PER_WINDOW + rot]
            quality = (user_id * 37) % 11  # 0 (best) … 10: how many more bad grades this person gets
            conn.execute(
                "INSERT INTO g_roster VALUES (?, ?, ?, ?, ?, ?)", (w.no, rot, user_id, staff_no, name, quality)
            )
    return len(slots)


def _services(conn: sqlite3.Connection, total: int, days: int, slots: int) -> None:
    """`total` services spread evenly over the working days, 08:30–17:00, by weighted window."""
    i = "x.i"
    conn.execute(
        f"""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {total - 1})
        INSERT INTO services (ticket_id, day, finished_at, ticket_number, section, matter, outcome, issued_at,
            called_at, started_at, window_no, window_name, department, staff_user_id, staff_no, staff_name, rated)
        SELECT x.i + 1, d.day, d.base + x.tod,
            m.section || printf('%03d', x.i % 997 + 1), m.section, m.matter,
            CASE WHEN {h(i, 4)} % 100 < 92 THEN 'done' WHEN {h(i, 4)} % 100 < 97 THEN 'supplement'
                 WHEN {h(i, 4)} % 100 < 99 THEN 'rejected' ELSE 'other' END,
            d.base + x.tod - x.service - x.wait, d.base + x.tod - x.service, d.base + x.tod - x.service + 30,
            w.window_no, w.window_name, w.department, r.staff_user_id, r.staff_no, r.staff_name,
            CASE WHEN {h("x.i + 1", 0)} % 1000 < {ACTIVE_PER_MILLE} THEN 1
                 WHEN {h("x.i + 1", 0)} % 1000 < {ACTIVE_PER_MILLE + DEFAULT_PER_MILLE} THEN 2 ELSE 0 END
        FROM (SELECT i, i * {days} / {total} AS dix, {h("i", 1)} % 30600 AS tod,
                     240 + {h("i", 2)} % 900 AS service, 60 + {h("i", 3)} % 2400 AS wait,
                     {h("i", 5)} % {slots} AS slot, {h("i", 6)} AS pick FROM n) x
        JOIN g_days d ON d.d = x.dix
        JOIN g_slots sl ON sl.slot = x.slot
        JOIN g_windows w ON w.window_no = sl.window_no
        JOIN g_matters m ON m.window_no = w.window_no AND m.k = x.pick % w.matters
        JOIN g_roster r ON r.window_no = w.window_no AND r.rot = (x.dix + (x.tod >= 16200)) % {STAFF_PER_WINDOW}
        """
    )


def _tags_sql(grade: str, draw: str) -> str:
    """A JSON list of one or two of the grade's tags, chosen by `draw`."""
    cases = []
    for g, tags in DEFAULT_TAGS.items():
        options = [[t] for t in tags] + [[tags[0], tags[-1]]]
        whens = " ".join(f"WHEN {k} THEN '{json.dumps(o, ensure_ascii=False)}'" for k, o in enumerate(options))
        cases.append(f"WHEN {g} THEN CASE {draw} % {len(options)} {whens} END")
    return f"CASE {grade} {' '.join(cases)} END"


COMMENTS = {1: "窗口人员态度差,材料说了三次才说清楚", 2: "等了很久,办理也慢", 5: "工作人员很耐心,谢谢"}


def _ratings(conn: sqlite3.Connection) -> None:
    """First ratings of the rated services: active (five channels) and default grades."""
    t = "q.ticket_id"
    grade = (
        f"CASE WHEN q.rated = 2 THEN 5 "
        f"WHEN {h(t, 7)} % 1000 < 3 + q.quality THEN 1 "
        f"WHEN {h(t, 7)} % 1000 < 10 + q.quality * 3 THEN 2 "
        f"WHEN {h(t, 7)} % 1000 < 40 + q.quality * 6 THEN 3 "
        f"WHEN {h(t, 7)} % 1000 < 150 + q.quality * 10 THEN 4 ELSE 5 END"
    )
    channel = (
        f"CASE WHEN q.rated = 2 THEN 'default' WHEN {h(t, 8)} % 100 < 55 THEN 'pad' "
        f"WHEN {h(t, 8)} % 100 < 80 THEN 'qr' WHEN {h(t, 8)} % 100 < 88 THEN 'web' "
        f"WHEN {h(t, 8)} % 100 < 95 THEN 'sms' ELSE 'hotline' END"
    )
    anonymous = f"CASE WHEN q.rated = 2 OR {h(t, 9)} % 100 < 55 THEN 1 ELSE 0 END"
    t = "s.ticket_id"
    delay = (
        f"CASE channel WHEN 'pad' THEN 15 + {h(t, 10)} % 120 WHEN 'qr' THEN 60 + {h(t, 10)} % 7200 "
        f"WHEN 'web' THEN 600 + {h(t, 10)} % 172800 WHEN 'sms' THEN 1800 + {h(t, 10)} % 86400 "
        f"WHEN 'hotline' THEN 3600 + {h(t, 10)} % 259200 ELSE 864060 END"
    )
    comment = (
        f"CASE WHEN channel <> 'default' AND {h(t, 11)} % 10 = 0 THEN CASE grade WHEN 1 THEN '{COMMENTS[1]}' "
        f"WHEN 2 THEN '{COMMENTS[2]}' WHEN 5 THEN '{COMMENTS[5]}' ELSE '' END ELSE '' END"
    )
    conn.execute(
        f"""
        INSERT INTO ratings (ticket_id, kind, grade, tags, tag_set, comment, channel, device_id, entered_by,
            created_at, day, service_day, ticket_number, section, matter, outcome, issued_at, called_at, finished_at,
            window_no, window_name, department, staff_user_id, staff_no, staff_name, anonymous, rater_name,
            rater_phone, rater_id_number)
        SELECT ticket_id, 'first', grade,
            CASE WHEN channel = 'default' THEN '[]' ELSE {_tags_sql("grade", h(t, 12))} END, '2026', {comment},
            channel, CASE WHEN channel = 'pad' THEN 1000 + window_no END, NULL, finished_at + {delay},
            day, day, ticket_number, section, matter, outcome, issued_at, called_at, finished_at,
            window_no, window_name, department, staff_user_id, staff_no, staff_name, anonymous,
            CASE WHEN anonymous = 0 THEN substr('{SURNAMES}', 1 + {h(t, 13)} % 20, 1) || '先生' END,
            CASE WHEN anonymous = 0 THEN '13' || printf('%09d', {h(t, 14)} * 7919 % 1000000000) END, NULL
        FROM (SELECT q.*, {grade} AS grade, {channel} AS channel, {anonymous} AS anonymous
              FROM (SELECT s.*, r.quality FROM services s
                    JOIN g_roster r ON r.staff_user_id = s.staff_user_id AND r.window_no = s.window_no
                    WHERE s.rated > 0) q) s
        """
    )


DAY = 86400
# A case's steps as seconds after the bad review: verified, rectified, fed back, return visit; a second round
# (after a return visit that found the citizen not satisfied) rectifies, feeds back and visits again.
VERIFY_AT, RECTIFY_AT, FEEDBACK_AT, REVISIT_AT = 20000, 7 * DAY, 8 * DAY, 10 * DAY
ROUND2 = {"rectified": 14 * DAY, "fed_back": 15 * DAY, "revisited": 17 * DAY}
NOTES = {
    "verified": "已电话联系评价人核实情况",
    "rectified": "已约谈窗口人员并完成整改",
    "fed_back": "已将处理结果告知评价人",
    "revisited": "已回访评价人",
}


def _plan_cases(conn: sqlite3.Connection, now: float) -> None:
    """How far each bad review's case got (`reached`: 0 … 4 steps done), and how it went.

    Cases older than 30 days are mostly closed (8 % linger, overdue); younger ones have done the steps
    whose time has come. 2 % are found mistaken (误评) on verification and their rating voided.
    """
    r = "r.id"
    steps_due = " + ".join(f"({now} >= r.created_at + {at})" for at in (VERIFY_AT, RECTIFY_AT, FEEDBACK_AT, REVISIT_AT))
    outcome = (
        f"CASE WHEN {h(r, 16)} % 100 < 62 THEN 'true' WHEN {h(r, 16)} % 100 < 87 THEN 'partly' "
        f"WHEN {h(r, 16)} % 100 < 95 THEN 'false' ELSE 'mistaken' END"
    )
    conn.execute(
        f"""
        CREATE TEMP TABLE g_plan AS
        SELECT r.id AS rating_id, r.ticket_id, r.department, r.window_no, r.staff_user_id,
            1 - r.anonymous AS real_name, r.created_at AS t, r.created_at < {now} - 30 * {DAY} AS old,
            CASE WHEN r.created_at < {now} - 30 * {DAY} THEN
                 CASE WHEN {h(r, 15)} % 100 < 92 THEN 4 WHEN {h(r, 15)} % 100 < 97 THEN 2 ELSE 1 END
                 ELSE {steps_due} END AS reached,
            {outcome} AS outcome, {h(r, 17)} % 10 AS kind_draw, {h(r, 18)} % 100 AS fate,
            {h(r, 19)} % 100 < 2 AS mistaken
        FROM ratings r WHERE r.kind = 'first' AND r.grade <= 2
        """
    )
    # Not satisfied at the first return visit: the rectification reopens once; 90-94 stay unsatisfied.
    second_round = (
        "(reached = 4 AND NOT void AND real_name = 1 AND old AND fate BETWEEN 80 AND 94 "
        "AND outcome NOT IN ('false', 'mistaken'))"
    )
    conn.execute(
        f"""
        CREATE TEMP TABLE g_cases AS
        SELECT rating_id, ticket_id, department, window_no, staff_user_id, real_name, t, reached, void, outcome,
            outcome IN ('false', 'mistaken') AS skip,
            CASE WHEN outcome IN ('false', 'mistaken') THEN NULL
                 WHEN outcome = 'true' OR kind_draw < 8 THEN 'rectify' ELSE 'explain' END AS kind,
            CASE WHEN reached < 4 OR void THEN NULL WHEN real_name = 0 THEN 'anonymous'
                 WHEN fate >= 95 THEN 'unreached' WHEN {second_round} AND fate >= 90 THEN 'unsatisfied'
                 ELSE 'satisfied' END AS result,
            CASE WHEN {second_round} THEN 2 ELSE 1 END AS round
        FROM (SELECT rating_id, ticket_id, department, window_no, staff_user_id, real_name, t, old, kind_draw, fate,
                     void, CASE WHEN void THEN 1 ELSE reached END AS reached,
                     CASE WHEN void THEN 'mistaken' ELSE outcome END AS outcome
              FROM (SELECT p.*, reached >= 1 AND mistaken AS void FROM g_plan p))
        """
    )


def _follow_up(conn: sqlite3.Connection, now: float, supervisor: int) -> int:
    """Bad reviews with their cases as the stage-by-stage writer units leave them, and each step's history.

    Voided ratings (误评) are taken out of `services.rated`; a third of the closed real-name cases get a
    追评 an hour after closing.
    """
    _plan_cases(conn, now)
    r2 = {k: f"CASE WHEN round = 2 THEN t + {v} ELSE t + {at} END" for (k, v), at in zip(
        ROUND2.items(), (RECTIFY_AT, FEEDBACK_AT, REVISIT_AT), strict=True)}  # fmt: skip
    rectified = f"CASE WHEN reached >= 2 AND NOT skip AND NOT void THEN {r2['rectified']} END"
    fed_back = f"CASE WHEN reached >= 3 AND NOT void THEN {r2['fed_back']} END"
    revisited = f"CASE WHEN reached >= 4 AND NOT void THEN {r2['revisited']} END"
    verified = f"CASE WHEN reached >= 1 THEN t + {VERIFY_AT} END"
    contact = "CASE WHEN real_name = 0 THEN 'anonymous' ELSE 'reached' END"
    feedback_due = (
        f"CASE WHEN reached >= 1 AND skip THEN t + {VERIFY_AT} + 2 * {DAY} "
        f"WHEN reached >= 2 THEN {r2['rectified']} + 2 * {DAY} END"
    )
    rectify_due = f"CASE WHEN round = 2 THEN t + {REVISIT_AT + 15 * DAY} ELSE t + 15 * {DAY} END"
    conn.execute(
        f"""
        CREATE TEMP TABLE g_rows AS
        SELECT c.*, {verified} AS verified_at, {rectified} AS rectified_at, {fed_back} AS fed_back_at,
            {revisited} AS revisited_at, {feedback_due} AS feedback_due,
            CASE WHEN reached >= 3 AND NOT void THEN {r2["fed_back"]} + 3 * {DAY} END AS revisit_due,
            t + {DAY} AS verify_due, {rectify_due} AS rectify_due
        FROM g_cases c
        """
    )
    conn.execute(
        f"""
        INSERT INTO bad_reviews (rating_id, ticket_id, department, window_no, staff_user_id, real_name, status,
            opened_at, verify_due, verified_at, verify_outcome, verify_note, rectify_due, rectified_at, rectify_kind,
            rectify_note, feedback_due, fed_back_at, feedback_note, revisit_due, revisited_at, revisit_satisfied,
            revisit_note, closed_at, overdue_stage, escalated_at, handled_by, stage, due_at, round, verified_by,
            verify_contact, rectified_by, fed_back_by, feedback_contact, revisited_by, revisit_contact,
            revisit_attempts, result)
        SELECT rating_id, ticket_id, department, window_no, staff_user_id, real_name, status, t, verify_due,
            verified_at, CASE WHEN verified_at IS NOT NULL THEN outcome END,
            CASE WHEN verified_at IS NOT NULL THEN '{NOTES["verified"]}' END, rectify_due, rectified_at,
            CASE WHEN rectified_at IS NOT NULL THEN kind END,
            CASE WHEN rectified_at IS NOT NULL THEN '{NOTES["rectified"]}' END, feedback_due, fed_back_at,
            CASE WHEN fed_back_at IS NOT NULL THEN '{NOTES["fed_back"]}' END, revisit_due, revisited_at,
            CASE WHEN result = 'satisfied' THEN 1 WHEN result = 'unsatisfied' THEN 0 END,
            CASE WHEN revisited_at IS NOT NULL THEN '{NOTES["revisited"]}' END,
            CASE WHEN void THEN t + {DAY} ELSE revisited_at END,
            CASE WHEN due_at < {now} THEN stage END, CASE WHEN due_at < {now} THEN due_at + 60 END,
            CASE WHEN reached >= 1 THEN {supervisor} END, stage, due_at, round,
            CASE WHEN verified_at IS NOT NULL THEN {supervisor} END,
            CASE WHEN verified_at IS NOT NULL THEN {contact} END,
            CASE WHEN rectified_at IS NOT NULL THEN {supervisor} END,
            CASE WHEN fed_back_at IS NOT NULL THEN {supervisor} END,
            CASE WHEN fed_back_at IS NOT NULL THEN {contact} END,
            CASE WHEN revisited_at IS NOT NULL THEN {supervisor} END,
            CASE WHEN revisited_at IS NOT NULL THEN CASE WHEN result = 'unreached' THEN 'unreached'
                 ELSE {contact} END END,
            CASE WHEN result = 'unreached' THEN 3 END, CASE WHEN void THEN 'void' ELSE result END
        FROM (SELECT g.*,
                CASE WHEN void THEN 'void' WHEN reached >= 4 THEN 'closed' WHEN reached = 3 THEN 'fed_back'
                     WHEN reached = 2 AND NOT skip THEN 'rectified' WHEN reached >= 1 THEN 'verified'
                     ELSE 'open' END AS status,
                CASE WHEN void OR reached >= 4 THEN NULL WHEN reached = 3 THEN 'revisit'
                     WHEN reached = 2 OR (reached = 1 AND skip) THEN 'feedback' WHEN reached = 1 THEN 'rectify'
                     ELSE 'verify' END AS stage,
                CASE WHEN void OR reached >= 4 THEN NULL WHEN reached = 3 THEN revisit_due
                     WHEN reached = 2 OR (reached = 1 AND skip) THEN feedback_due WHEN reached = 1 THEN rectify_due
                     ELSE verify_due END AS due_at
              FROM g_rows g) ORDER BY rating_id
        """
    )
    _steps(conn, supervisor)
    voided = conn.execute("SELECT COUNT(*) FROM g_cases WHERE void").fetchone()[0]
    conn.execute(
        f"UPDATE ratings SET voided_at = created_at + {DAY}, void_reason = '经核实为误评', voided_by = {supervisor} "
        "WHERE id IN (SELECT rating_id FROM g_cases WHERE void)"
    )
    conn.execute("UPDATE services SET rated = 0 WHERE ticket_id IN (SELECT ticket_id FROM g_cases WHERE void)")
    r = "r.id"
    conn.execute(
        f"""
        INSERT INTO ratings (ticket_id, kind, grade, tags, tag_set, comment, channel, created_at, day, service_day,
            ticket_number, section, matter, outcome, issued_at, called_at, finished_at, window_no, window_name,
            department, staff_user_id, staff_no, staff_name, anonymous, rater_name, rater_phone)
        SELECT r.ticket_id, 'follow_up', CASE WHEN {h(r, 20)} % 10 < 8 THEN 5 ELSE 4 END, '[]', '2026', '', 'qr',
            b.closed_at + 3600, r.day, r.service_day, r.ticket_number, r.section, r.matter, r.outcome, r.issued_at,
            r.called_at, r.finished_at, r.window_no, r.window_name, r.department, r.staff_user_id, r.staff_no,
            r.staff_name, 0, r.rater_name, r.rater_phone
        FROM bad_reviews b JOIN ratings r ON r.id = b.rating_id
        WHERE b.status = 'closed' AND b.real_name = 1 AND b.closed_at + 3600 < {now} AND {h(r, 21)} % 3 = 0
        """
    )
    return voided


def _steps(conn: sqlite3.Connection, supervisor: int) -> None:
    """Each case's history in `bad_review_steps`, step by step in time order (ids ascend within a case)."""
    sup = f"{supervisor} AS by_user, '{SUPERVISOR_NAME}' AS by_name"
    note = "json_object('note', '{}'"
    r1 = "b.round = 2"
    nobody = "NULL AS by_user, NULL AS by_name"
    steps = [
        # (round, stage before the step, action, at, by, detail, which cases)
        ("1", "'verify'", "opened", "b.opened_at", nobody, "'{}'", "1"),
        ("1", "'verify'", "verified", "b.verified_at", sup,
         f"{note.format(NOTES['verified'])}, 'outcome', b.verify_outcome, 'contact', b.verify_contact)",
         "b.verified_at IS NOT NULL"),
        ("1", "'feedback'", "voided", "b.closed_at", nobody, "'{}'", "b.status = 'void'"),
        ("1", "'rectify'", "rectified", f"b.opened_at + {RECTIFY_AT}", sup,
         f"{note.format(NOTES['rectified'])}, 'kind', b.rectify_kind)", r1),
        ("1", "'feedback'", "fed_back", f"b.opened_at + {FEEDBACK_AT}", sup,
         f"{note.format(NOTES['fed_back'])}, 'contact', 'reached')", r1),
        ("1", "'revisit'", "revisited", f"b.opened_at + {REVISIT_AT}", sup,
         f"{note.format(NOTES['revisited'])}, 'contact', 'reached', 'satisfied', json('false'), 'attempts', NULL)",
         r1),
        ("2", "'rectify'", "reopened", f"b.opened_at + {REVISIT_AT}", nobody, "'{}'", r1),
        ("b.round", "'rectify'", "rectified", "b.rectified_at", sup,
         f"{note.format(NOTES['rectified'])}, 'kind', b.rectify_kind)", "b.rectified_at IS NOT NULL"),
        ("b.round", "'feedback'", "fed_back", "b.fed_back_at", sup,
         f"{note.format(NOTES['fed_back'])}, 'contact', b.feedback_contact)", "b.fed_back_at IS NOT NULL"),
        ("b.round", "'revisit'", "revisited", "b.revisited_at", sup,
         f"{note.format(NOTES['revisited'])}, 'contact', b.revisit_contact, 'satisfied', "
         "json(CASE b.revisit_satisfied WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE 'null' END), "
         "'attempts', b.revisit_attempts)",
         "b.revisited_at IS NOT NULL"),
        ("b.round", "NULL", "closed", "b.closed_at", nobody, "json_object('result', b.result)",
         "b.status = 'closed'"),
        ("b.round", "b.stage", "overdue", "b.escalated_at", nobody,
         "json_object('due', strftime('%Y-%m-%dT%H:%M:%S+08:00', b.due_at, 'unixepoch', '+8 hours'))",
         "b.overdue_stage IS NOT NULL"),
    ]  # fmt: skip
    selects = [
        f"SELECT b.id AS case_id, {round_} AS round, {stage} AS stage, '{action}' AS action, {at} AS at, {by}, "
        f"{detail} AS detail, {k} AS k FROM bad_reviews b WHERE {where}"
        for k, (round_, stage, action, at, by, detail, where) in enumerate(steps)
    ]
    conn.execute(
        "INSERT INTO bad_review_steps (case_id, round, stage, action, at, by_user, by_name, detail) "
        f"SELECT case_id, round, stage, action, at, by_user, by_name, detail FROM ("
        f"{' UNION ALL '.join(selects)}) "
        "ORDER BY case_id, k"
    )


def _rating_days(conn: sqlite3.Connection) -> None:
    """The daily roll-up as the writer units keep it: services under channel '', ratings under theirs;
    the bad reviews' follow-up counters; and the monthly roll-up: the days summed per month."""
    conn.execute(
        """
        INSERT INTO rating_days (day, window_no, staff_user_id, section, matter, channel, department, served)
        SELECT day, window_no, COALESCE(staff_user_id, 0), section, matter, '', department, COUNT(*)
        FROM services GROUP BY day, window_no, COALESCE(staff_user_id, 0), section, matter
        """
    )
    conn.execute(
        """
        INSERT INTO rating_days (day, window_no, staff_user_id, section, matter, channel, department,
            g1, g2, g3, g4, g5, follow_ups, real_name_bad)
        SELECT day, window_no, COALESCE(staff_user_id, 0), section, matter, channel, department,
            SUM(kind = 'first' AND grade = 1), SUM(kind = 'first' AND grade = 2), SUM(kind = 'first' AND grade = 3),
            SUM(kind = 'first' AND grade = 4), SUM(kind = 'first' AND grade = 5), SUM(kind = 'follow_up'),
            SUM(kind = 'first' AND grade <= 2 AND anonymous = 0)
        FROM ratings WHERE voided_at IS NULL
        GROUP BY day, window_no, COALESCE(staff_user_id, 0), section, matter, channel
        """
    )
    # How far the bad reviews' cases got (evaluation migration 5): the migration's own fill, from the cases.
    (day_fill,) = [st for st in _statements(SCHEMA.steps[4]) if st.lstrip().startswith("UPDATE rating_days")]
    conn.execute(day_fill)
    conn.execute(
        """
        INSERT INTO rating_months (month, window_no, staff_user_id, section, matter, channel, department,
            served, g1, g2, g3, g4, g5, follow_ups, real_name_bad,
            bad_replied, bad_fixed, bad_answered, bad_satisfied)
        SELECT substr(day, 1, 7), window_no, staff_user_id, section, matter, channel, department, SUM(served),
            SUM(g1), SUM(g2), SUM(g3), SUM(g4), SUM(g5), SUM(follow_ups), SUM(real_name_bad),
            SUM(bad_replied), SUM(bad_fixed), SUM(bad_answered), SUM(bad_satisfied)
        FROM rating_days GROUP BY 1, 2, 3, 4, 5, 6, 7
        """
    )


def _indexes(conn: sqlite3.Connection, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    marks = ", ".join("?" for _ in tables)
    return conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
        tables,
    ).fetchall()


def generate(conn: sqlite3.Connection, config: Config, target: int, today: dt.date, now: float) -> Generated:
    """Fill a database with the evaluation schema freshly migrated with about `target` ratings; the connection
    is left in WAL mode. The users they name come with `add_accounts`."""
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        seconds[name] = time.perf_counter() - t0
        t0 = time.perf_counter()

    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1048576")  # 1 GiB
    conn.execute("PRAGMA temp_store = MEMORY")
    days = working_days(today, config)
    tables = ("services", "ratings", "bad_reviews", "bad_review_steps", "rating_days", "rating_months")
    indexes = _indexes(conn, tables)
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    staff = [(a.id, a.staff_no, a.name) for a in accounts(config) if a.role == "staff"]
    supervisor = SUPERVISOR_ID
    slots = _dimensions(conn, config, days, staff)
    # Services rated, by default or actively, are (835 + 60) per mille; follow-ups add about 0.2 %.
    services = round(target / ((ACTIVE_PER_MILLE + DEFAULT_PER_MILLE) / 1000 + 0.002))
    _services(conn, services, len(days), slots)
    lap("services")
    _ratings(conn)
    lap("ratings")
    conn.execute("CREATE INDEX ratings_ticket_bad ON ratings (kind, grade) WHERE grade <= 2")
    voided = _follow_up(conn, now, supervisor)
    conn.execute("DROP INDEX ratings_ticket_bad")
    lap("bad_reviews")
    _rating_days(conn)
    lap("rating_days")
    for _, sql in indexes:
        conn.execute(sql)
    lap("indexes")
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    counts = dict(
        conn.execute(
            "SELECT 'ratings', COUNT(*) FROM ratings "
            "UNION ALL SELECT 'first', COUNT(*) FROM ratings WHERE kind = 'first' "
            "UNION ALL SELECT 'default', COUNT(*) FROM ratings WHERE channel = 'default' "
            "UNION ALL SELECT 'follow', COUNT(*) FROM ratings WHERE kind = 'follow_up' "
            "UNION ALL SELECT 'bad', COUNT(*) FROM bad_reviews UNION ALL SELECT 'days', COUNT(*) FROM rating_days"
        ).fetchall()
    )
    lap("counts")
    return Generated(
        services=services,
        ratings=counts["ratings"],
        first_ratings=counts["first"],
        default_ratings=counts["default"],
        follow_ups=counts["follow"],
        voided=voided,
        bad_reviews=counts["bad"],
        rating_days_rows=counts["days"],
        first_day=days[0].isoformat(),
        last_day=days[-1].isoformat(),
        working_days=len(days),
        seconds=seconds,
    )


@dataclass(frozen=True)
class Served:
    """A ticket served today, to be rated over HTTP: from its window's pad (id) or by QR (token)."""

    ticket_id: int
    token: str
    window_no: int


def served_tickets(conn: sqlite3.Connection, config: Config, count: int, now: float) -> list[Served]:
    """`count` tickets of today finished at the windows in the last ten minutes (a pad rates half an hour back).

    Written as the window caller leaves them (status done, window, staff, outcome, matter), round robin over the
    windows; their ids come after every generated service, so the rating unit records each service afresh.
    """
    first_id = (conn.execute("SELECT MAX(ticket_id) FROM services").fetchone()[0] or 0) + 1
    today = dt.datetime.fromtimestamp(now, config.tz).date()
    midnight = dt.datetime.combine(today, dt.time(0, 0), config.tz).timestamp()
    earliest, latest = max(now - 600, midnight + 1), now - 30
    roster = [a.id for a in accounts(config) if a.role == "staff"]
    windows = config.windows
    rows: list[tuple[Any, ...]] = []
    served: list[Served] = []
    seq: dict[str, int] = {}
    for k in range(count):
        w = windows[k % len(windows)]
        section = w.sections[k // len(windows) % len(w.sections)]
        seq[section] = seq.get(section, 0) + 1
        number = f"{section}{seq[section]:04d}"
        token = secrets.token_urlsafe(16)
        finished = earliest + (latest - earliest) * k / count
        staff = roster[(k % len(windows)) * STAFF_PER_WINDOW] if roster else None
        rows.append(
            (first_id + k, today.isoformat(), section, seq[section], number, section, section, "done", "kiosk",
             "bench", token, finished - 900, w.no, staff, finished - 900, finished - 600, finished - 580, finished,
             "done", MATTERS.get(section, ("综合咨询",))[0])
        )  # fmt: skip
        served.append(Served(first_id + k, token, w.no))
    conn.executemany(
        "INSERT INTO tickets (id, day, prefix, seq, number, section, origin_section, status, channel, issuer, token, "
        "queue_key, window_no, staff_user_id, issued_at, called_at, started_at, finished_at, outcome, matter) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    return served
