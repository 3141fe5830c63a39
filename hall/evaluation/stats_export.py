"""A rating report as tables for CSV and XLSX: the same table the manager's page shows.

Rates are percentages with one decimal (93.3 = 93.3%), changes (环比) in
percentage points; empty cells where a figure has no denominator. The
writers (formula-safe cells, UTF-8 with BOM, one sheet per table) are the
queue statistics'.
"""

from __future__ import annotations

from typing import Any

from ..queue.stats_export import Cell, Table, csv_bytes, xlsx_bytes
from .settings import GRADES

GROUP_TITLES = {"window": "窗口", "staff": "工作人员", "department": "部门", "section": "业务板块", "matter": "事项",
                "channel": "评价渠道"}  # fmt: skip


def percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


# (header, how to read the cell from a group's figures)
COLUMNS: tuple[tuple[str, Any], ...] = (
    ("办件量", lambda g: g["served"]),
    ("主动评价", lambda g: g["rated"]),
    ("主动评价率(%)", lambda g: percent(g["rated_rate"])),
    ("默认评价", lambda g: g["defaulted"]),
    ("未评", lambda g: g["unrated"]),
    ("未评率(%)", lambda g: percent(g["unrated_rate"])),
    *((f"{name}({grade})", lambda g, grade=grade: g["grades"][str(grade)]) for grade, name in GRADES.items()),
    ("平均分", lambda g: g["average"]),
    ("好评率(%)", lambda g: percent(g["good_rate"])),
    ("差评率(%)", lambda g: percent(g["bad_rate"])),
    ("追评", lambda g: g["follow_ups"]),
    ("差评数", lambda g: g["bad_reviews"]["count"]),
    ("回复率(%)", lambda g: percent(g["bad_reviews"]["reply_rate"])),
    ("整改回访率(%)", lambda g: percent(g["bad_reviews"]["rectify_revisit_rate"])),
    ("整改满意率(%)", lambda g: percent(g["bad_reviews"]["fix_satisfaction_rate"])),
    ("好评率环比(百分点)", lambda g: percent(g["change"]["good_rate"])),
    ("平均分环比", lambda g: g["change"]["average"]),
)


def tables(report: dict[str, Any]) -> list[Table]:
    by = GROUP_TITLES[report["by"]]
    header = [by, "名称", "排名", *(label for label, _ in COLUMNS)]
    rows: list[list[Cell]] = [
        [g["key"], g["name"], g["rank"], *(read(g) for _, read in COLUMNS)] for g in report["groups"]
    ]
    rows.append(["合计", None, None, *(read(report["total"]) for _, read in COLUMNS)])
    before = report["previous"]
    title = f"按{by}评价统计 {report['from']} 至 {report['to']}(环比 {before['from']} 至 {before['to']})"
    out = [Table(title, header, rows)]
    if report.get("periods"):
        trend_header = [by, "名称", "期间", "办件量", "主动评价", "平均分", "好评率(%)", "差评率(%)"]
        trend_rows: list[list[Cell]] = []
        for g in [*report["groups"], {"key": "合计", "name": None, "points": report["total"]["points"]}]:
            for p in g["points"]:
                trend_rows.append(
                    [g["key"], g["name"], p["period"], p["served"], p["rated"], p["average"],
                     percent(p["good_rate"]), percent(p["bad_rate"])]
                )  # fmt: skip
        out.append(Table(f"趋势 按{'日' if report['period'] == 'day' else '月'}", trend_header, trend_rows))
    return out


def to_csv(report: dict[str, Any]) -> bytes:
    return csv_bytes(tables(report))


def to_xlsx(report: dict[str, Any]) -> bytes:
    return xlsx_bytes(tables(report))
