"""Screens (大厅屏幕): live pushes, layouts, the notice, voice announcements."""

from __future__ import annotations

from .components import INT, STR, UNAVAILABLE, array, integer, obj, op, path, query, text

TAG = "屏幕与推送"

LAYOUT = obj(
    {
        "title": text(60),
        "sections": {"type": "array", "items": text(8), "maxItems": 50, "description": '板块编号;空或 ["*"] 为全部'},
        "area": text(40),
        "calls": integer(1, 20),
    },
    closed=True,
)
NOTICE = obj({"text": {"type": ["string", "null"]}}, ["text"])


def websocket(summary: str, *params: dict) -> dict:
    """A WebSocket: described for completeness; the OpenAPI test run leaves it out (it cannot fuzz one)."""
    return {
        "summary": summary,
        "description": "WebSocket:发送 `Upgrade: websocket`;消息为 JSON 事件。同源浏览器或带令牌的客户端。",
        "parameters": list(params),
        "x-websocket": True,
        "responses": {
            "101": {"description": "切换为 WebSocket"},
            "4XX": {"$ref": "#/components/responses/Error"},
        },
    }


PATHS = {
    "/api/live": {
        "get": websocket(
            "实时事件推送(叫号、窗口、号票)",
            query("after", integer(0, 2**62), "从此编号之后的事件补发"),
            query("ticket", text(64), "号票查询码:群众只收到自己号票的事件"),
        )
    },
    "/ws/screen": {
        "get": websocket(
            "大厅屏幕 / 评价器的推送连接",
            query("after", integer(0, 2**62)),
            query("token", text(64), "设备令牌(未在本机登记时)"),
        )
    },
    "/api/screens": {
        "get": op(
            "已登记的屏幕和它们的连接状态",
            answer=obj({"screens": array(obj({"device_id": INT, "name": STR}))}, ["screens"]),
        )
    },
    "/api/screens/{device_id}/layout": {
        "put": op(
            "设置屏幕布局",
            params=[path("device_id", description="屏幕设备编号")],
            body=LAYOUT,
            answer=obj({"device_id": INT, "layout": obj()}, ["device_id", "layout"]),
        )
    },
    "/api/notice": {
        "get": op("大厅通知公告", answer=NOTICE),
        "put": op("设置通知公告(空字符串清除)", body=obj({"text": text(500)}, ["text"], closed=True), answer=NOTICE),
    },
    "/api/voice": {"get": op("语音播报设置(屏幕端按此朗读)", answer=obj({"repeat": INT, "templates": obj()}))},
    "/api/announcements/{event_id}.wav": {
        "get": {
            "summary": "一次叫号或重呼的语音(WAV)",
            "parameters": [path("event_id", description="叫号事件编号")],
            "responses": {
                "200": {
                    "description": "WAV 音频",
                    "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
                },
                "4XX": {"$ref": "#/components/responses/Error"},
                **UNAVAILABLE,
            },
        }
    },
}
