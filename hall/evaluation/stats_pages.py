"""Pages of rating statistics: `/manage/ratings` with its drill-down, and the public `/ratings/summary`.

The manager's table links every figure to the ratings it counts (the same
filters as `GET /api/ratings`, on the services' days), and each of those to
the rating's full detail. The public summary for the hall's notice screen
shows this month's 好评率, average and counts per window and per department,
ranked: windows and departments only, never a staff member (a window's name is
posted over it; who sat there, and who rated, is not for a public screen).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ..auth.principal import MANAGERS, access
from ..errors import BadRequest
from ..keys import CLOCK, CONFIG, DB
from ..queue.stats_views import presets
from ..web.pages import render
from . import ratings, stats, stats_views, views
from .settings import GRADES

FILTER_KEYS = ("window", "staff", "department", "section", "matter", "channel")
GROUP_FILTER = {"window": "window", "staff": "staff", "department": "department", "section": "section",
                "matter": "matter", "channel": "channel"}  # fmt: skip


def drill(report: dict[str, Any], key: Any = None, **figure: Any) -> str:
    """The drill-down address of a figure: the report's range and filters, the group, the figure's filters."""
    query: dict[str, Any] = {"on": "service", "from": report["from"], "to": report["to"], **report["filters"]}
    if key is not None:
        query[GROUP_FILTER[report["by"]]] = key
    query.update(figure)
    return "/manage/ratings/list?" + urlencode(query)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def arrow(value: float | None, points: bool = True) -> str:
    """A change for people: ▲ 2.5 个百分点, ▼ 0.30, — when there is nothing to compare."""
    if value is None:
        return "—"
    shown = f"{abs(value) * 100:.1f}" if points else f"{abs(value):.2f}"
    if value == 0:
        return "持平"
    return f"{'▲' if value > 0 else '▼'} {shown}"


@access(roles=MANAGERS)
async def manage_page(request: web.Request) -> web.Response:
    config, db = request.app[CONFIG], request.app[DB]
    today = stats_views.today(request)
    form = {k: request.query.get(k, "") for k in ("from", "to", "by", *FILTER_KEYS, "min_sample")}
    context: dict[str, Any] = {"presets": presets(today), "form": form, "report": None, "trend": None}
    context |= {"pct": pct, "arrow": arrow, "drill": drill, "grades": GRADES, "names": stats_views.GROUP_NAMES,
                "good_names": "、".join(GRADES[g] for g in config.evaluation.good_grades)}  # fmt: skip
    try:
        ask, fmt = stats_views.parse_ask(request.query, today, config)
    except BadRequest as e:
        return render(request, "evaluation/ratings_stats.html", status=400, error=e.message, **context)
    report = await stats_views.build(db, config, ask)
    if fmt != "json":
        return stats_views.download(report, fmt)
    # The 好评率 of the twelve months up to the range's end, for the trend chart.
    months = stats.Ask(stats.add_months(ask.last, -11), ask.last, ask.by, "month", ask.filters, ask.min_sample,
                       ask.good_grades)  # fmt: skip
    trend = await stats_views.build(db, config, months)
    form.update({"from": report["from"], "to": report["to"], "by": report["by"]})
    query = {k: v for k, v in request.query.items() if k in ("from", "to", "by", "min_sample", *FILTER_KEYS)}
    return render(
        request,
        "evaluation/ratings_stats.html",
        error=None,
        query=urlencode(query),
        **{**context, "report": report, "trend": trend},  # fmt: skip
    )


@access(roles=MANAGERS)
async def list_page(request: web.Request) -> web.Response:
    """The ratings behind a figure, newest first, each linking to its detail."""
    config = request.app[CONFIG]
    shown = {k: v for k, v in request.query.items() if k != "before"}
    try:
        found = await views.find(request.app[DB], config, request.query, request.app[CLOCK].now())
    except BadRequest as e:
        return render(request, "evaluation/ratings_list.html", status=400, error=e.message, ratings=[], shown=shown,
                      more=None)  # fmt: skip
    more = urlencode({**shown, "before": found.next_before}) if found.next_before else None
    listed = [ratings.rating_json(r, config) for r in found.rows]
    return render(request, "evaluation/ratings_list.html", error=None, ratings=listed, shown=shown, more=more)


@access(roles=MANAGERS)
async def detail_page(request: web.Request) -> web.Response:
    config, db = request.app[CONFIG], request.app[DB]
    row = await views._rating_row(request)
    return render(request, "evaluation/rating_detail.html", r=await views.rating_detail(db, config, row))


@access(public=True, session=False)
async def summary_page(request: web.Request) -> web.Response:
    """This month so far, per window and per department: aggregates and rankings only."""
    config, db = request.app[CONFIG], request.app[DB]
    today = stats_views.today(request)
    first, good = today.replace(day=1), config.evaluation.good_grades
    tables = {}
    for by in ("window", "department"):
        ask = stats.Ask(first, today, by, None, {}, config.evaluation.min_sample, good)
        tables[by] = await stats_views.build(db, config, ask)
    return render(
        request,
        "evaluation/ratings_summary.html",
        windows=tables["window"],
        departments=tables["department"],
        total=tables["window"]["total"],
        pct=pct,
        today=today,
        good_names="、".join(GRADES[g] for g in good),
    )


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/manage/ratings", manage_page, name="manage_ratings")
    r.add_get("/manage/ratings/list", list_page, name="manage_ratings_list")
    r.add_get("/manage/ratings/{id:\\d+}", detail_page, name="manage_rating")
    r.add_get("/ratings/summary", summary_page, name="ratings_summary")
