"""Shared steps of the case tests: people at the desk and in the departments, and cases."""

from __future__ import annotations

from ..helpers import HallClient

LAND = "自然资源和规划局"
SOCIAL = "人力社保局"


async def desk(hall: HallClient) -> dict:
    """An agent, a supervisor (manager) and one handler in each of two departments, logged in."""
    return {
        "agent": await hall.user("agent", display_name="李坐席"),
        "manager": await hall.user("manager"),
        "land": await hall.user("department", department=LAND, display_name="王不动产"),
        "social": await hall.user("department", department=SOCIAL, display_name="赵社保"),
    }


async def web_case(hall: HallClient, **fields) -> dict:
    body = {"type": "complaint", "content": "窗口让我来回跑了三次,材料一次没说清楚", "name": "张三丰",
            "phone": "13800138000"} | fields  # fmt: skip
    status, answer = await hall.post("/api/cases", body)
    assert status == 201, answer
    return answer


async def move(hall: HallClient, headers: dict, case_id: int, action: str, **body) -> dict:
    status, answer = await hall.post(f"/api/cases/{case_id}/{action}", body, headers)
    assert status == 200, (action, answer)
    return answer


async def case_by_no(hall: HallClient, headers: dict, no: str) -> dict:
    status, listed = await hall.get("/api/cases?limit=500", headers)
    assert status == 200, listed
    return next(c for c in listed["cases"] if c["no"] == no)
