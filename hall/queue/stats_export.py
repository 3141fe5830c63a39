"""A report as tables, and those tables as CSV (for Excel: UTF-8 with BOM) or XLSX.

Both files hold the same tables: the figures per group with a total row,
issued and served per hour, per day, and assisted services (帮办代办) per
staff member. Times are in seconds. A CSV puts the tables one after the
other, each under a title row and separated by an empty row; an XLSX gives
each its own sheet.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from .rules import OUTCOMES

GROUP_TITLES = {"section": "业务板块", "window": "窗口", "staff": "工作人员"}
FIGURE_COLUMNS = (
    ("called", "已叫号"),
    ("served", "已办结"),
    ("no_shows", "过号"),
    ("transfers", "转窗"),
    ("wait_avg_s", "平均等候(秒)"),
    ("wait_max_s", "最长等候(秒)"),
    ("service_avg_s", "平均办理时长(秒)"),
)
TIME_COLUMNS = (("on_duty_s", "在岗时长(秒)"), ("paused_s", "暂停时长(秒)"), ("idle_s", "空闲时长(秒)"))
# A cell starting with one of these would be a formula in Excel: exported as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[Cell]]


def tables(report: dict[str, Any]) -> list[Table]:
    return [_groups(report), _hours(report), _days(report), _assisted(report)]


def _groups(report: dict[str, Any]) -> Table:
    by = report["by"]
    key_columns = {"section": ["板块", "名称"], "window": ["窗口号", "名称"], "staff": ["姓名", "工号"]}[by]
    header = [*key_columns]
    if by == "section":
        header.append("已取号")
    header += [label for _, label in FIGURE_COLUMNS]
    header += [f"结果:{name}" for name in OUTCOMES.values()]
    header.append("帮办代办")
    if by != "section":
        header += [label for _, label in TIME_COLUMNS]

    def row(group: dict[str, Any], first: list[Cell]) -> list[Cell]:
        cells = [*first]
        if by == "section":
            cells.append(group["issued"])
        cells += [group[key] for key, _ in FIGURE_COLUMNS]
        cells += [group["outcomes"][key] for key in OUTCOMES]
        cells.append(group["assisted"])
        if by != "section":
            cells += [group.get(key) for key, _ in TIME_COLUMNS]
        return cells

    rows = [row(g, [g["name"], g["staff_no"]] if by == "staff" else [g["key"], g["name"]]) for g in report["groups"]]
    rows.append(row(report["total"], ["合计", None]))
    title = f"按{GROUP_TITLES[by]}统计 {report['from']} 至 {report['to']}"
    return Table(title, header, rows)


def _hours(report: dict[str, Any]) -> Table:
    issued, served = report["by_hour"]["issued"], report["by_hour"]["served"]
    rows: list[list[Cell]] = [[f"{h:02d}:00-{h + 1:02d}:00", issued[h], served[h]] for h in range(24)]
    return Table("按小时(各日合计)", ["时段", "已取号", "已办结"], rows)


def _days(report: dict[str, Any]) -> Table:
    rows: list[list[Cell]] = [[d["day"], d["issued"], d["served"], d["no_shows"]] for d in report["by_day"]]
    return Table("按日", ["日期", "已取号", "已办结", "过号"], rows)


def _assisted(report: dict[str, Any]) -> Table:
    rows: list[list[Cell]] = [[a["name"], a["staff_no"], a["count"]] for a in report["assisted"]]
    return Table("帮办代办", ["姓名", "工号", "帮办代办件数"], rows)


def _safe(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def to_csv(report: dict[str, Any]) -> bytes:
    return csv_bytes(tables(report))


def to_xlsx(report: dict[str, Any]) -> bytes:
    return xlsx_bytes(tables(report))


def csv_bytes(sheets: list[Table]) -> bytes:
    """Tables one after the other in UTF-8 with a byte order mark, so Excel shows the Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    for i, table in enumerate(sheets):
        if i:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.header)
        writer.writerows([["" if c is None else _safe(c) for c in row] for row in table.rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(sheets: list[Table]) -> bytes:
    """A sheet per table, named by the first word of its title."""
    book = Workbook()
    book.remove(book.active)
    for table in sheets:
        sheet = book.create_sheet(table.title.split(" ")[0][:31])
        sheet.append([table.title])
        sheet.append(table.header)
        for row in table.rows:
            sheet.append([ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in map(_safe, row)])
        for col, label in enumerate(table.header, start=1):
            sheet.column_dimensions[get_column_letter(col)].width = max(10, 2 * len(label) + 2)
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
