"""HTTP of the voice: announcements as WAV for hall screens, the voice settings for display agents."""

from __future__ import annotations

from aiohttp import web

from ..auth.principal import STAFF, access
from ..errors import HallError, NotFound
from ..events import events_after
from ..keys import CONFIG, DB
from ..web.jsonio import respond
from .sound import SoundError
from .speech import RENDERER
from .tts import SpeechError
from .voice import announcement_for

CACHE_SECONDS = 3600  # an event's sound never changes while the templates stay


def _not_an_announcement(raw: str) -> NotFound:
    return NotFound("not_an_announcement", f"事件 {raw} 不是叫号或重呼,没有语音播报")


@access(roles=STAFF, devices=("display",))
async def announcement_wav(request: web.Request) -> web.StreamResponse:
    raw = request.match_info["event_id"]
    if not raw.isdigit() or len(raw) > 15:
        raise _not_an_announcement(raw)
    event_id = int(raw)
    found = await events_after(request.app[DB], event_id - 1, 1)
    if not found or found[0].id != event_id:
        raise _not_an_announcement(raw)
    event = found[0]
    announcement = announcement_for(event.id, event.type, event.payload, request.app[CONFIG].voice)
    if announcement is None:
        raise _not_an_announcement(raw)
    try:
        path = await request.app[RENDERER].render(announcement)
    except (SpeechError, SoundError, OSError) as e:
        message = "语音合成暂不可用,叫号仍会显示在屏幕上;请检查服务器的 espeak-ng"
        raise HallError("speech_unavailable", message, status=503, reason=str(e)) from None
    return web.FileResponse(
        path, headers={"Content-Type": "audio/wav", "Cache-Control": f"private, max-age={CACHE_SECONDS}"}
    )


@access(roles=STAFF, devices=("display",))
async def voice_settings(request: web.Request) -> web.Response:
    """What a display agent speaks, so it says exactly what the server renders."""
    return respond(request.app[CONFIG].voice.as_json())


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/announcements/{event_id}.wav", announcement_wav, name="announcement_wav")
    app.router.add_get("/api/voice", voice_settings, name="voice_settings")
