"""`[evaluation]` in config.toml: grades, tag sets, rating periods and follow-up deadlines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import ConfigError, Setting, _settings, _table

# The national 好差评 scale (国务院办公厅《关于建立政务服务"好差评"制度提高政务服务水平的意见》).
GRADES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_GRADES = (2, 1)  # 差评: a tag or a comment is required, and a follow-up case opens

EVALUATION_SETTINGS = (
    Setting("good_grades", [5, 4], "Grades that count as good (好评) in 好评率"),
    Setting("rate_days", 7, "Days after the service during which the ticket's QR link can rate it"),
    Setting("unrated", "leave", "A service never rated: leave it unrated (未评), or give it default_grade"),
    Setting("default_grade", 5, "The grade given to a service not rated after default_after_days (unrated = default)"),
    Setting("default_after_days", 10, "Days after the service when the default grade is given"),
    Setting("tag_set", "2026", "The tag set in use (a key of [evaluation.tag_sets]); ratings keep theirs"),
    Setting("verify_days", 1, "Working days to call the citizen back and verify a bad review (核实)"),
    Setting("rectify_days", 15, "Working days from the bad review to rectify or explain (整改)"),
    Setting("feedback_days", 2, "Working days after rectifying to tell the citizen (反馈)"),
    Setting("revisit_days", 3, "Working days after the feedback for the return visit (回访)"),
    Setting("min_sample", 10, "Ratings a window, staff member or department needs to be ranked"),
    Setting("pad_idle_seconds", 60, "A rating pad left untouched this long returns to idle"),
)

DEFAULT_TAGS = {
    5: ("服务热情", "办事高效", "一次办好", "耐心细致", "指引清楚"),
    4: ("服务较好", "办事较快", "态度友好"),
    3: ("等候时间较长", "流程较复杂", "材料要求多"),
    2: ("态度不好", "效率低", "一次性告知不到位", "多次跑", "等候时间过长"),
    1: ("态度恶劣", "推诿扯皮", "吃拿卡要", "多次跑", "一次性告知不到位", "效率低"),
}


@dataclass(frozen=True)
class EvaluationSettings:
    good_grades: tuple[int, ...] = (5, 4)
    rate_days: int = 7
    unrated: str = "leave"
    default_grade: int = 5
    default_after_days: int = 10
    tag_set: str = "2026"
    verify_days: int = 1
    rectify_days: int = 15
    feedback_days: int = 2
    revisit_days: int = 3
    min_sample: int = 10
    pad_idle_seconds: int = 60
    tag_sets: dict[str, dict[int, tuple[str, ...]]] = field(default_factory=lambda: {"2026": DEFAULT_TAGS})

    def tags(self, grade: int, tag_set: str | None = None) -> tuple[str, ...]:
        return self.tag_sets.get(tag_set or self.tag_set, {}).get(grade, ())


def parse_evaluation(raw: dict[str, Any]) -> EvaluationSettings:
    values = _settings({k: v for k, v in raw.items() if k != "tag_sets"}, EVALUATION_SETTINGS, "evaluation")
    good = values["good_grades"]
    if not good or any(not isinstance(g, int) or g not in GRADES for g in good) or set(good) & set(BAD_GRADES):
        raise ConfigError("evaluation.good_grades must list grades from 3 to 5 (1 and 2 are bad reviews)")
    if values["unrated"] not in ("leave", "default"):
        raise ConfigError("evaluation.unrated must be leave or default")
    if values["default_grade"] not in (3, 4, 5):
        raise ConfigError("evaluation.default_grade must be 3, 4 or 5 (a default is never a bad review)")
    for key in ("rate_days", "default_after_days", "verify_days", "rectify_days", "feedback_days", "revisit_days"):
        if values[key] < 1:
            raise ConfigError(f"evaluation.{key} must be at least 1")
    if values["min_sample"] < 1 or values["pad_idle_seconds"] < 5:
        raise ConfigError("evaluation.min_sample must be at least 1 and pad_idle_seconds at least 5")
    tag_sets = {"2026": DEFAULT_TAGS}
    for name, table in _table(raw, "tag_sets", "evaluation.tag_sets").items():
        tag_sets[name] = _tag_set(table, f"evaluation.tag_sets.{name}")
    if values["tag_set"] not in tag_sets:
        raise ConfigError(f"evaluation.tag_set: no tag set {values['tag_set']!r} in [evaluation.tag_sets]")
    return EvaluationSettings(**{**values, "good_grades": tuple(good)}, tag_sets=tag_sets)


def _tag_set(table: Any, where: str) -> dict[int, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of grade = [tags]")
    out: dict[int, tuple[str, ...]] = {}
    for key, tags in table.items():
        if key not in {str(g) for g in GRADES}:
            raise ConfigError(f"{where}: {key!r} is not a grade (1 to 5)")
        if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= 20 for t in tags):
            raise ConfigError(f"{where}.{key} must be a list of short tags")
        out[int(key)] = tuple(tags)
    return out
