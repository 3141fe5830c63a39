"""Announcements rendered to WAV on the server, for hall screens that play them in the browser.

One dedicated thread renders (pyttsx3 + espeak-ng never run on the event
loop). Files are cached on disk under a hash of what is said and how
(`Announcement.key`: the sentences with their voices, rate, repeat, chime),
so each distinct announcement is rendered once however many screens ask,
and the cache is kept under `cache_mb` by dropping the least recently used.
A listener on the event bus renders each call as soon as it is committed, so
a screen's request finds its file ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import tempfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from ..events import Lagging, events_after
from ..keys import BUS, CONFIG, DB, DB_PATH
from ..storage import Event
from . import sound
from .tts import Speech, SpeechError
from .voice import Announcement, announcement_for

log = logging.getLogger(__name__)

RENDER_WAIT_S = 30.0  # a request waits this long for its file before answering 503
PRUNE_EVERY = 200  # renders between two checks of the cache's size
LISTEN_QUEUE = 1000
CATCH_UP_PAGE = 500
PRERENDER_BACKLOG = 20

_Job = tuple[Announcement, "asyncio.Future[Path]"]


class Renderer:
    def __init__(self, cache_dir: Path, cache_mb: int, driver: str = "") -> None:
        self.cache_dir = cache_dir
        self.cache_bytes = cache_mb * 1024 * 1024
        self.speech = Speech(driver, strict=True)
        self.renders = 0  # announcements actually synthesised (cache misses)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._pending: dict[str, asyncio.Future[Path]] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._since_prune = 0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="announcement-renderer", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            await asyncio.to_thread(self._thread.join, RENDER_WAIT_S)
            self._thread = None

    @property
    def backlog(self) -> int:
        """Announcements waiting to be rendered."""
        return len(self._pending)

    def path_for(self, announcement: Announcement) -> Path:
        return self.cache_dir / f"{announcement.key()}.wav"

    def submit(self, announcement: Announcement) -> asyncio.Future[Path]:
        """The rendered file, rendered once: a second request for the same sound waits for the first."""
        key = announcement.key()
        future = self._pending.get(key)
        if future is None:
            assert self._loop is not None, "Renderer.start() first"
            future = self._loop.create_future()
            self._pending[key] = future
            future.add_done_callback(lambda f: self._finished(key, f))
            self._jobs.put((announcement, future))
        return future

    def _finished(self, key: str, future: asyncio.Future[Path]) -> None:
        self._pending.pop(key, None)
        if not future.cancelled():
            future.exception()  # marks a failure as seen: whoever waits gets it; asyncio need not warn at exit

    async def drain(self) -> None:
        """Return once every render asked for so far is done (or failed)."""
        while self._pending:
            await asyncio.gather(*self._pending.values(), return_exceptions=True)

    async def render(self, announcement: Announcement) -> Path:
        """The WAV of an announcement; raises SpeechError (also when it takes over RENDER_WAIT_S)."""
        path = self.path_for(announcement)
        with contextlib.suppress(FileNotFoundError):
            os.utime(path)  # used now: the last to go when the cache is pruned
            return path
        try:
            async with asyncio.timeout(RENDER_WAIT_S):
                return await asyncio.shield(self.submit(announcement))
        except TimeoutError:
            raise SpeechError(f"rendering took over {RENDER_WAIT_S:.0f} s") from None

    # -- the render thread ----------------------------------------------------------

    def _run(self) -> None:
        self._prune()
        while (job := self._jobs.get()) is not None:
            announcement, future = job
            try:
                result: Path | BaseException = self._render(announcement)
            except (SpeechError, sound.SoundError, OSError) as e:
                result = e
            except Exception as e:  # a bug must fail the request, not kill the thread every request waits on
                log.exception("rendering announcement %s failed", announcement.event_id)
                result = e
            assert self._loop is not None
            with contextlib.suppress(RuntimeError):  # the loop closed while rendering: nobody waits
                self._loop.call_soon_threadsafe(_settle, future, result)

    def _render(self, announcement: Announcement) -> Path:
        path = self.path_for(announcement)
        if path.exists():
            return path
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        rate, parts = 0, []
        with tempfile.TemporaryDirectory(prefix=".render-", dir=self.cache_dir) as tmp:
            for i, sentence in enumerate(announcement.sentences):
                part = Path(tmp) / f"{i}.wav"
                self.speech.save(sentence.text, sentence.voice, announcement.rate, part)
                part_rate, frames = sound.read_frames(part)
                if rate and part_rate != rate:
                    raise sound.SoundError(f"sentences rendered at {rate} and {part_rate} Hz")
                rate = part_rate
                parts.append(frames)
        sound.write_wav(path, rate, sound.assemble(rate, parts, announcement.repeat, announcement.chime))
        self.renders += 1
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self._prune()
        log.debug("rendered announcement %s: %s", announcement.event_id, announcement.text)
        return path

    def _prune(self) -> None:
        """Drop the least recently used files until the cache is under 90 % of its size."""
        self._since_prune = 0
        try:
            files = [(p.stat().st_mtime, p.stat().st_size, p) for p in self.cache_dir.glob("*.wav")]
        except OSError:
            return
        total = sum(size for _, size, _ in files)
        if total <= self.cache_bytes:
            return
        for _, size, path in sorted(files):
            if total <= self.cache_bytes * 0.9:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size
        log.info("announcement cache pruned to %.1f MiB", total / 2**20)


def _settle(future: asyncio.Future[Path], result: Path | BaseException) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


RENDERER: web.AppKey[Renderer] = web.AppKey("announcement_renderer", Renderer)


class Prerenderer:
    """Renders each call as it is committed; after falling behind, catches up from the events table."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.position = app[BUS].last_id  # the last event looked at
        self._moved = asyncio.Event()
        self._warned = False

    async def reached(self, event_id: int) -> None:
        """Return once every event up to `event_id` has been looked at (its render submitted)."""
        while self.position < event_id:
            self._moved.clear()
            await self._moved.wait()

    async def run(self) -> None:
        bus, db = self.app[BUS], self.app[DB]
        subscription = bus.subscribe(LISTEN_QUEUE, ("ticket.called", "ticket.recalled"))
        try:
            while True:
                try:
                    event = await subscription.get()
                except Lagging:
                    subscription.close()
                    subscription = bus.subscribe(LISTEN_QUEUE, ("ticket.called", "ticket.recalled"))
                    while missed := await events_after(db, self.position, CATCH_UP_PAGE):
                        for event in missed:
                            self._look_at(event)
                    continue
                if event.id > self.position:
                    self._look_at(event)
        finally:
            subscription.close()

    def _look_at(self, event: Event) -> None:
        announcement = announcement_for(event.id, event.type, event.payload, self.app[CONFIG].voice)
        renderer = self.app[RENDERER]
        # Far more calls than the renderer can keep up with (a load test, not a hall): render
        # ahead no further; a screen that asks for one still gets it rendered then.
        if announcement is not None and renderer.backlog < PRERENDER_BACKLOG:
            renderer.submit(announcement).add_done_callback(self._report)
        self.position = event.id
        self._moved.set()

    def _report(self, future: asyncio.Future[Path]) -> None:
        if not future.cancelled() and future.exception() is not None:
            level = logging.DEBUG if self._warned else logging.WARNING
            log.log(level, "announcement not rendered ahead: %s", future.exception())
            self._warned = True


PRERENDERER: web.AppKey[Prerenderer] = web.AppKey("announcement_prerenderer", Prerenderer)


async def speech_ctx(app: web.Application) -> AsyncIterator[None]:
    """The render thread and, with `[voice] prerender`, the listener that renders calls ahead."""
    voice = app[CONFIG].voice
    renderer = Renderer(app[CONFIG].voice_cache_dir(app[DB_PATH]), voice.cache_mb, voice.engine)
    app[RENDERER] = renderer
    renderer.start()
    listener = None
    if voice.prerender:
        app[PRERENDERER] = Prerenderer(app)
        listener = asyncio.create_task(app[PRERENDERER].run())
    yield
    if listener is not None:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
    await renderer.stop()
