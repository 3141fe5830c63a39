"""Evaluation (好差评): ratings, their statistics, and the bad-review cases they open."""

from __future__ import annotations

from ...evaluation import stats as rating_stats
from ...evaluation.case_rules import MIN_ATTEMPTS, NOTE_MAX, RECTIFY_KINDS, STATUSES
from ...evaluation.case_views import STATUS_FILTERS
from ...evaluation.ratings import SERVICE_KINDS
from ...evaluation.rules import CHANNELS, CITIZEN_CHANNELS, STAFF_CHANNELS, VERIFY_OUTCOMES
from ...evaluation.stats_views import FORMATS, TEXT_FILTERS
from ...evaluation.views import RATING_FIELDS
from .components import (
    BOOL,
    DATE,
    ID_NUMBER,
    INT,
    PHONE,
    STR,
    array,
    day_range,
    enum,
    integer,
    maybe,
    obj,
    op,
    paging,
    path,
    query,
    text,
)

TAG = "好差评"

RATER = obj(
    {"anonymous": BOOL, "name": text(40), "phone": PHONE, "id_number": ID_NUMBER},
    closed=True,
)
RATING = obj(
    {
        "id": INT,
        "grade": integer(1, 5),
        "grade_name": STR,
        "tags": array(STR),
        "comment": STR,
        "channel": enum(CHANNELS),
        "rater": obj({"anonymous": BOOL}),
        "ticket": obj({"id": INT, "number": STR}),
    },
    ["id", "grade"],
)
RATE = obj(
    {
        "ticket_token": text(64, description="号票上的查询码(群众扫码或网页评价)"),
        "ticket_id": integer(1, description="号票编号(评价器,或工作人员代录)"),
        "grade": integer(1, 5, description="5 非常满意 … 1 非常不满意"),
        "tags": {"type": "array", "items": STR, "maxItems": 20},
        "comment": text(500),
        "channel": enum([*CITIZEN_CHANNELS, *STAFF_CHANNELS, "pad"]),
        "rater": RATER,
    },
    ["grade"],
    closed=True,
)
assert set(RATE["properties"]) == set(RATING_FIELDS)

RATING_ID = path("id", description="评价编号")
CASE_ID = path("id", description="差评工单编号")
NOTE = text(NOTE_MAX, min_len=1, description="办理说明")
CASE = obj({"id": INT, "status": enum(STATUSES), "rating": obj()}, ["id", "status"])

RATING_FILTERS = [
    *(query(name, DATE) for name in ("from", "to")),
    query("on", enum(("rating", "service")), "按评价日期或办理日期"),
    query("window", integer(0, 2**31)),
    query("staff", integer(0, 2**31)),
    *(query(name, text(100)) for name in TEXT_FILTERS),
    query("channel", enum(CHANNELS)),
    query("kind", enum(SERVICE_KINDS)),
    query("grade", {"type": "string", "pattern": "^[1-5](,[1-5]){0,4}$"}, "一个或多个等级,如 5,4"),
    query("bad", enum(("0", "1"))),
    query("active", enum(("0", "1"))),
    query("voided", enum(("0", "1"))),
    query("limit", integer(1, 1000), "默认 100"),
    query("before", integer(0, 2**62), "翻页:上一页的 next_before"),
]


def _step(summary: str, body: dict) -> dict:
    return {"post": op(summary, params=[CASE_ID], body=body, answer=CASE)}


PATHS = {
    "/api/ratings": {
        "post": op(
            "评价一次办理",
            body=RATE,
            answer=obj({"id": INT, "grade": INT}),
            status=201,
            description="群众凭号票查询码;窗口评价器凭 ticket_id;工作人员代录短信或热线评价(channel 必填)。",
        ),
        "get": op(
            "评价明细(评价人已打码),新的在前",
            params=RATING_FILTERS,
            answer=obj({"ratings": array(RATING), "next_before": maybe("integer")}, ["ratings", "next_before"]),
        ),
    },
    "/api/ratings/stats": {
        "get": op(
            "满意度统计(JSON,或 CSV / Excel 下载)",
            params=[
                query("from", DATE),
                query("to", DATE),
                query("by", enum(rating_stats.GROUPINGS)),
                query("period", enum(rating_stats.PERIODS)),
                query("min_sample", integer(1, 1_000_000)),
                query("format", enum(FORMATS)),
                query("window", integer(0, 2**31 - 1)),
                query("staff", integer(0, 2**31 - 1)),
                query("channel", enum(CHANNELS)),
                *(query(name, text(100)) for name in TEXT_FILTERS),
            ],
            answer=obj(),
        )
    },
    "/api/ratings/service/{ticket_id}": {
        "get": op(
            "这张号票的评价会记录的那次办理",
            params=[path("ticket_id", description="号票编号")],
            answer=obj({"rated": BOOL, "pad_open": BOOL}, ["rated", "pad_open"]),
        )
    },
    "/api/ratings/{id}": {"get": op("一条评价的全部细节", params=[RATING_ID], answer=RATING)},
    "/api/ratings/{id}/rater": {
        "get": op(
            "评价人(不打码,每次读取都记录)",
            params=[RATING_ID, query("purpose", text(100), "读取目的,记入审计")],
            answer=obj({"rating_id": INT, "rater": obj(), "logged": BOOL}, ["rating_id", "rater", "logged"]),
        )
    },
    "/api/audit/personal-reads": {
        "get": op(
            "个人信息查看记录:每次未打码读取评价人或工单联系人(管理人员)",
            params=[
                *day_range("本地日期 YYYY-MM-DD,默认最近 30 天"),
                query("user", integer(0), "只看这个账号"),
                query("limit", integer(1, 5000), "默认 500"),
            ],  # fmt: skip
            answer=obj({"from": STR, "to": STR, "reads": array(obj())}, ["from", "to", "reads"]),
        )
    },
    "/api/ratings/{id}/void": {
        "post": op(
            "作废一条评价",
            params=[RATING_ID],
            body=obj({"reason": text(500, min_len=1)}, ["reason"], closed=True),
            answer=obj(),
        )
    },
    "/api/bad-reviews": {
        "get": op(
            "差评工单,超期的在前",
            params=[
                query("status", enum(STATUS_FILTERS)),
                query("overdue", enum(("0", "1", "true", "false"))),
                query("department", text(60)),
                query("from", DATE),
                query("to", DATE),
                *paging(100, 500),
            ],
            answer=obj({"cases": array(CASE), "total": INT, "limit": INT, "offset": INT}, ["cases", "total"]),
        )
    },
    "/api/bad-reviews/{id}": {"get": op("一件差评工单", params=[CASE_ID], answer=CASE)},
    "/api/bad-reviews/{id}/verify": _step(
        "核实",
        obj({"outcome": enum(VERIFY_OUTCOMES), "note": NOTE, "reached": BOOL}, ["outcome", "note"], closed=True),
    ),
    "/api/bad-reviews/{id}/rectify": _step(
        "整改或说明",
        obj({"kind": enum(RECTIFY_KINDS), "note": NOTE}, ["kind", "note"], closed=True),
    ),
    "/api/bad-reviews/{id}/feedback": _step("告知评价人", obj({"note": NOTE}, ["note"], closed=True)),
    "/api/bad-reviews/{id}/revisit": _step(
        f"回访(实名评价人联系不上时,记满 {MIN_ATTEMPTS} 次可办结)",
        obj(
            {"reached": BOOL, "satisfied": BOOL, "attempts": integer(1, 20), "note": NOTE},
            ["note"],
            closed=True,
        ),
    ),
}
