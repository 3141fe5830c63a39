"""Announcements rendered to WAV with pyttsx3 and espeak-ng, cached, served to screens."""

import array
import asyncio
import dataclasses
import io
import shutil
import subprocess
import wave

import pytest
from aiohttp import DummyCookieJar

from hall.config import parse_voice
from hall.display import sound, speech
from hall.display.speech import PRERENDERER, RENDERER, Renderer
from hall.display.tts import Speech, SpeechUnavailable
from hall.display.voice import announcement_for
from hall.keys import BUS
from hall.server import create_app
from hall.storage import Event

from ..helpers import HallClient

SENTENCE = "请 A 零 零 一 号 到 3 号窗口 办理"


def call(number: str = "A001", window: int = 3, **voice) -> object:
    payload = {"ticket": {"number": number}, "window": {"no": window, "name": f"{window}号窗口"}}
    return announcement_for(1, "ticket.called", payload, parse_voice(voice))


def measure(path) -> tuple[int, int, int, float, array.array]:
    with wave.open(str(path), "rb") as w:
        frames = array.array("h", w.readframes(w.getnframes()))
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes() / w.getframerate(), frames


def rms(frames) -> float:
    return (sum(x * x for x in frames) / max(1, len(frames))) ** 0.5


@pytest.fixture
async def renderer(tmp_path):
    r = Renderer(tmp_path / "announcements", cache_mb=64)
    r.start()
    yield r
    await r.stop()


async def test_a_real_announcement_is_the_chime_then_the_mandarin_sentence_twice(renderer, tmp_path):
    alone = await renderer.render(call(repeat=1, chime=False))
    rate, channels, width, sentence_s, frames = measure(alone)
    assert (rate, channels, width) == (22050, 1, 2)  # espeak-ng's own rate, 16-bit mono
    assert 3.0 < sentence_s < 9.0  # eleven syllables and a letter at 150 words a minute
    assert rms(frames) > 1000  # speech, not silence
    # The same text through espeak-ng's command line with the Mandarin voice lasts as long:
    # the engine spoke it with the cmn voice at the configured rate.
    reference = tmp_path / "reference.wav"
    command = ["espeak-ng", "-v", "cmn", "-s", "150", "-w", str(reference), SENTENCE]
    await asyncio.to_thread(subprocess.run, command, check=True, timeout=30)
    assert sentence_s == pytest.approx(measure(reference)[3], abs=0.1)

    whole = await renderer.render(call())  # the defaults: chime, repeat 2
    rate, channels, width, whole_s, frames = measure(whole)
    assert (rate, channels, width) == (22050, 1, 2)
    chime = sound.chime(rate)
    expected = len(chime) / 2 / rate + sound.PAUSE_AFTER_CHIME_S + 2 * sentence_s + sound.PAUSE_BETWEEN_S
    assert whole_s == pytest.approx(expected, abs=0.01)
    assert frames[: len(chime) // 2].tobytes() == chime
    assert renderer.renders == 2


async def test_a_faster_rate_is_a_shorter_file(renderer):
    slow = sound.duration(await renderer.render(call(repeat=1, chime=False, rate=120)))
    fast = sound.duration(await renderer.render(call(repeat=1, chime=False, rate=240)))
    assert fast < 0.7 * slow


async def test_each_announcement_is_rendered_once(renderer, tmp_path):
    first = await renderer.render(call())
    again = await asyncio.gather(*(renderer.render(call()) for _ in range(5)))
    assert set(again) == {first} and renderer.renders == 1
    await renderer.render(call("A002"))
    assert renderer.renders == 2
    # Screens asking at the same moment share one render.
    together = await asyncio.gather(*(renderer.render(call("B007")) for _ in range(4)))
    assert len(set(together)) == 1 and renderer.renders == 3
    # The cache is on disk: a restarted server renders nothing again.
    restarted = Renderer(tmp_path / "announcements", cache_mb=64)
    restarted.start()
    try:
        assert await restarted.render(call()) == first
        assert restarted.renders == 0
    finally:
        await restarted.stop()


async def test_the_cache_keeps_to_its_size_dropping_the_least_recently_used(tmp_path, monkeypatch):
    monkeypatch.setattr(speech, "PRUNE_EVERY", 1)
    small = Renderer(tmp_path / "announcements", cache_mb=1)  # about two announcements of 400 KiB
    small.start()
    try:
        paths = [await small.render(call(f"A00{i}")) for i in range(1, 6)]
    finally:
        await small.stop()
    left = sorted(p.name for p in (tmp_path / "announcements").glob("*.wav"))
    assert 0 < len(left) < 5 and paths[-1].name in left and paths[0].name not in left
    assert sum(p.stat().st_size for p in (tmp_path / "announcements").glob("*.wav")) <= 2**20


async def test_a_missing_engine_is_a_clear_error(tmp_path):
    broken = Renderer(tmp_path / "announcements", cache_mb=64, driver="no_such_driver")
    broken.start()
    try:
        with pytest.raises(SpeechUnavailable, match="no speech driver 'no_such_driver'"):
            await broken.render(call())
    finally:
        await broken.stop()
    with pytest.raises(SpeechUnavailable, match="has no voice 'no-such-voice'"):
        await asyncio.to_thread(Speech("espeak").check, "no-such-voice")


def test_espeak_ng_is_installed():
    """The other tests here need it; `make test` installs it (TEST_DEBS)."""
    assert shutil.which("espeak-ng"), "apt-get install espeak-ng"


# -- the endpoint -----------------------------------------------------------------------


@pytest.fixture
def make_hall(aiohttp_client, config, clock, db_path, tmp_path):
    """The app with its announcements cached under tmp_path (and rendered ahead unless told)."""

    async def make(**voice) -> HallClient:
        voice = {"cache_dir": str(tmp_path / "announcements"), "prerender": True, **voice}
        app = create_app(dataclasses.replace(config, voice=dataclasses.replace(config.voice, **voice)), clock, db_path)
        return HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)

    return make


@pytest.fixture
async def voiced(make_hall) -> HallClient:
    return await make_hall()


async def event_ids(hall: HallClient, event_type: str) -> list[int]:
    rows = await hall.db.fetchall("SELECT id FROM events WHERE type = ? ORDER BY id", (event_type,))
    return [r[0] for r in rows]


async def get_wav(hall: HallClient, event_id, headers) -> tuple[int, str, bytes]:
    async with hall.client.get(f"/api/announcements/{event_id}.wav", headers=headers) as resp:
        return resp.status, resp.content_type, await resp.read()


async def rendered_ahead(hall: HallClient, event_id: int) -> None:
    """Once the pre-render has seen `event_id` and finished what it asked for."""
    async with asyncio.timeout(30):
        await hall.app[PRERENDERER].reached(event_id)
        await hall.app[RENDERER].drain()


async def test_a_call_is_served_as_a_wav_rendered_before_anyone_asked(voiced: HallClient):
    staff = await voiced.staff_at(4)
    ticket = await voiced.issue("C")
    await voiced.call(staff, 4)
    [called] = await event_ids(voiced, "ticket.called")
    renderer = voiced.app[RENDERER]
    expected = announcement_for(called, "ticket.called", {"ticket": ticket, "window": {"no": 4}}, voiced.config.voice)
    assert expected.text == "请 C 零 零 一 号 到 4 号窗口 办理"
    await rendered_ahead(voiced, called)
    assert renderer.path_for(expected).exists() and renderer.renders == 1

    status, content_type, body = await get_wav(voiced, called, staff)
    assert (status, content_type) == (200, "audio/wav")
    with wave.open(io.BytesIO(body)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (22050, 1, 2)
        assert 8.0 < w.getnframes() / w.getframerate() < 20.0  # chime + the sentence twice
    screen = await voiced.device("display")
    assert (await get_wav(voiced, called, screen))[::2] == (200, body)
    assert renderer.renders == 1  # served from the cache every time

    await voiced.act(staff, 4, "recall")
    [recalled] = await event_ids(voiced, "ticket.recalled")
    status, _, recall_body = await get_wav(voiced, recalled, screen)
    assert status == 200 and len(recall_body) > len(body)  # "再次到" says more


async def test_what_is_not_a_call_has_no_announcement(voiced: HallClient):
    staff = await voiced.user("staff")
    await voiced.issue("C")
    [issued] = await event_ids(voiced, "ticket.issued")
    for event_id in (issued, 999999, "abc", "0"):
        status, _, body = await get_wav(voiced, event_id, staff)
        assert status == 404, event_id
        assert b'"code":"not_an_announcement"' in body and "不是叫号".encode() in body
    assert voiced.app[RENDERER].renders == 0


async def test_only_staff_and_screens_may_fetch_announcements(voiced: HallClient):
    staff = await voiced.staff_at(4)
    await voiced.issue("C")
    await voiced.call(staff, 4)
    [called] = await event_ids(voiced, "ticket.called")
    assert (await get_wav(voiced, called, None))[0] == 401
    for kind in ("kiosk", "pad"):
        assert (await get_wav(voiced, called, await voiced.device(kind)))[0] == 403
    assert (await get_wav(voiced, called, await voiced.user("manager")))[0] == 200


async def test_without_a_speech_engine_the_answer_is_503(make_hall):
    hall = await make_hall(engine="no_such_driver")
    staff = await hall.staff_at(4)
    await hall.issue("C")
    await hall.call(staff, 4)  # calling goes on without a voice
    [called] = await event_ids(hall, "ticket.called")
    status, _, body = await get_wav(hall, called, staff)
    assert status == 503 and b'"code":"speech_unavailable"' in body


async def test_calls_are_rendered_ahead_even_after_the_listener_fell_behind(make_hall, monkeypatch):
    monkeypatch.setattr(speech, "LISTEN_QUEUE", 1)
    hall = await make_hall()
    # Before every commit's events, one more: the listener's queue (of one) overflows at each commit,
    # so it learns of every call by catching up from the events table, never from its queue.
    bus = hall.app[BUS]
    hall.db.writer.on_commit.insert(0, lambda events: bus.publish([Event(0, "test.noise", 0.0, {})]))
    staff = await hall.staff_at(4)
    for _ in range(3):
        await hall.issue("C")
    await hall.call(staff, 4)
    await hall.call_after_finish(staff, 4)
    await hall.call_after_finish(staff, 4)
    calls = await event_ids(hall, "ticket.called")
    renderer = hall.app[RENDERER]
    await rendered_ahead(hall, calls[-1])
    for event_id, number in zip(calls, ("C001", "C002", "C003"), strict=True):
        payload = {"ticket": {"number": number}, "window": {"no": 4}}
        assert renderer.path_for(announcement_for(event_id, "ticket.called", payload, hall.config.voice)).exists()
    assert renderer.renders == 3
